// SPDX-License-Identifier: Apache-2.0
// Private to the sync layer: hashing and comparing short texts (member names, ids) for maps
// looked up by string_view, in the normalizer's hot loops.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace wfsync::sync::detail {

/// Hashes and compares std::string keys by their text, so that a look-up by a string_view
/// (a member name, a string value) builds no std::string.
/// Member names and identifiers are short: hashed 8 bytes at a time, the last word and short
/// texts read by overlapping loads (the map mixes the result further), and compared without
/// a call for up to 16 bytes.
struct text_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept
    {
        const char* p = s.data();
        std::size_t n = s.size();
        std::uint64_t h = n * 0x9e3779b97f4a7c15ULL;
        std::uint64_t w = 0;
        if (n >= 8) {
            const char* const end = p + n;
            for (; n > 8; p += 8, n -= 8) {
                std::memcpy(&w, p, 8);
                h = (h ^ w) * 0xbf58476d1ce4e5b9ULL;
                h ^= h >> 31;
            }
            std::memcpy(&w, end - 8, 8);  // the last 8 bytes, overlapping the words before
        } else if (n >= 4) {
            std::uint32_t lo, hi;  // overlapping, as above
            std::memcpy(&lo, p, 4);
            std::memcpy(&hi, p + n - 4, 4);
            w = (std::uint64_t{hi} << 32) | lo;
        } else if (n > 0) {
            w = std::uint64_t{static_cast<unsigned char>(p[0])} | std::uint64_t{static_cast<unsigned char>(p[n / 2])} << 8 |
                std::uint64_t{static_cast<unsigned char>(p[n - 1])} << 16;
        }
        h = (h ^ w) * 0x94d049bb133111ebULL;
        return h ^ (h >> 29);
    }
};
struct text_equal {
    using is_transparent = void;
    bool operator()(std::string_view a, std::string_view b) const noexcept
    {
        const std::size_t n = a.size();
        if (n != b.size()) return false;
        if (n >= 8 && n <= 16) {
            std::uint64_t a1, b1, a2, b2;
            std::memcpy(&a1, a.data(), 8);
            std::memcpy(&b1, b.data(), 8);
            std::memcpy(&a2, a.data() + n - 8, 8);
            std::memcpy(&b2, b.data() + n - 8, 8);
            return a1 == b1 && a2 == b2;
        }
        if (n >= 4 && n < 8) {
            std::uint32_t a1, b1, a2, b2;
            std::memcpy(&a1, a.data(), 4);
            std::memcpy(&b1, b.data(), 4);
            std::memcpy(&a2, a.data() + n - 4, 4);
            std::memcpy(&b2, b.data() + n - 4, 4);
            return a1 == b1 && a2 == b2;
        }
        if (n < 4) {
            for (std::size_t i = 0; i < n; ++i)
                if (a[i] != b[i]) return false;
            return true;
        }
        return std::memcmp(a.data(), b.data(), n) == 0;
    }
};

/// A direct-mapped cache of one value per short text (up to 16 bytes, told apart exactly by
/// its length and its bytes as two words), in front of a slower look-up: the few member names
/// of a document, repeated by every object, are looked up once each.
template <unsigned Bits>
class short_text_cache {
public:
    /// The value of `key`: remembered, or `compute(key)` (always, for longer keys).
    template <class Compute>
    std::uint32_t get(std::string_view key, Compute&& compute)
    {
        const std::size_t n = key.size();
        if (n > 16) return compute(key);
        std::uint64_t a = 0, b = 0;
        const char* p = key.data();
        if (n >= 8) {
            std::memcpy(&a, p, 8);
            std::memcpy(&b, p + n - 8, 8);
        } else if (n >= 4) {
            std::uint32_t lo, hi;
            std::memcpy(&lo, p, 4);
            std::memcpy(&hi, p + n - 4, 4);
            a = (std::uint64_t{hi} << 32) | lo;
        } else {
            for (std::size_t i = 0; i < n; ++i) a |= std::uint64_t{static_cast<unsigned char>(p[i])} << (8 * i);
        }
        auto& slot = slots_[((a * 0x9e3779b97f4a7c15ULL) ^ (b * 0xbf58476d1ce4e5b9ULL) ^ n) >> (64 - Bits)];
        if (slot.length != n || slot.a != a || slot.b != b) slot = {a, b, static_cast<std::uint32_t>(n), compute(key)};
        return slot.value;
    }

private:
    struct slot_t {
        std::uint64_t a = 0, b = 0;
        std::uint32_t length = ~0u;  // none yet
        std::uint32_t value = 0;
    };
    std::array<slot_t, std::size_t{1} << Bits> slots_{};
};

}  // namespace wfsync::sync::detail
