// SPDX-License-Identifier: Apache-2.0
// What the fuzz targets share: byte 0 of an input picks what to call (byte % count), the rest
// is the text; several texts in one input are separated by NUL bytes.
#pragma once

#include <wfsync/connector/model.hpp>
#include <wfsync/sync/normalize.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace wfsync::fuzz {

struct input {
    unsigned pick = 0;
    std::string_view rest;
};

inline input split_pick(const std::uint8_t* data, std::size_t size, unsigned count)
{
    if (size == 0) return {0, {}};
    return {data[0] % count, std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1)};
}

/// `text` cut at NUL bytes into at least `n` parts (missing ones empty).
inline std::vector<std::string_view> parts(std::string_view text, std::size_t n)
{
    std::vector<std::string_view> out;
    while (true) {
        auto nul = text.find('\0');
        out.push_back(text.substr(0, nul));
        if (nul == std::string_view::npos) break;
        text.remove_prefix(nul + 1);
    }
    while (out.size() < n) out.emplace_back();
    return out;
}

/// A package a connector made is normalized by the engine next: do that too.
inline void normalize_too(const connector::package& p)
{
    auto n = sync::normalize(p);
    (void)n;
}

}  // namespace wfsync::fuzz
