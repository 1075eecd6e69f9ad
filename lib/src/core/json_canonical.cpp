// SPDX-License-Identifier: Apache-2.0
#include <wfsync/core/json.hpp>

#include <boost/json/detail/format.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <bit>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace wfsync {
namespace json = boost::json;

result<json::value> parse_json(std::string_view text, std::string_view what)
{
    boost::system::error_code ec;
    json::parse_options opts;
    opts.max_depth = 64;
    auto v = json::parse(text, ec, {}, opts);
    if (ec) {
        return fail(errc::bad_response,
                    fmt::format("{}: invalid JSON ({}) in {} bytes", what, ec.message(), text.size()));
    }
    return v;
}

namespace {

// What Boost.JSON's serializer escapes (and how), byte for byte: '"', '\\', and the control
// characters, with the short forms \b \t \n \f \r and \u00xx (lower-case hex) for the others.
// Everything else, '/', DEL and UTF-8 included, is written as it is. Canonical text must stay
// equal to what json::serialize wrote before, since content hashes are taken over it.
constexpr std::array<char, 256> escapes = [] {
    std::array<char, 256> t{};
    for (int c = 0; c < 0x20; ++c) t[static_cast<std::size_t>(c)] = 'u';
    t['\b'] = 'b';
    t['\t'] = 't';
    t['\n'] = 'n';
    t['\f'] = 'f';
    t['\r'] = 'r';
    t['"'] = '"';
    t['\\'] = '\\';
    return t;
}();

void write_number(const json::value& v, std::string& out)
{
    char buf[32];
    static_assert(sizeof buf >= json::detail::max_number_chars);
    std::to_chars_result r{};
    if (v.is_int64()) r = std::to_chars(buf, buf + sizeof buf, v.get_int64());
    else if (v.is_uint64()) r = std::to_chars(buf, buf + sizeof buf, v.get_uint64());
    else {
        // Doubles keep Boost.JSON's own shortest form ("2E-1"), whatever std::to_chars would say:
        // the function its serializer writes them with, called without building a serializer
        // and a string for each.
        out.append(buf, json::detail::format_double(buf, v.get_double()));
        return;
    }
    out.append(buf, r.ptr);
}

// Byte order of member names (std::string_view's operator<), decided on the first byte where
// it can: most names of an object differ there, and a call to memcmp costs more.
bool key_less(const json::key_value_pair* a, const json::key_value_pair* b)
{
    std::string_view x = a->key(), y = b->key();
    if (!x.empty() && !y.empty() && x[0] != y[0]) return static_cast<unsigned char>(x[0]) < static_cast<unsigned char>(y[0]);
    return x < y;
}

void write(const json::value& v, std::string& out);

char* escape_into(char* dst, std::string_view s);
constexpr std::size_t short_key = 64;

void write_members(const json::key_value_pair* const* members, std::size_t n, std::string& out)
{
    char sep = '{';
    for (std::size_t i = 0; i < n; ++i) {
        std::string_view key = members[i]->key();
        if (key.size() <= short_key) {
            // Separator, name and colon in one append.
            char buf[6 * short_key + 4];
            buf[0] = sep;
            buf[1] = '"';
            char* end = escape_into(buf + 2, key);
            *end++ = '"';
            *end++ = ':';
            out.append(buf, static_cast<std::size_t>(end - buf));
        } else {
            out += sep;
            append_json_string(out, key);
            out += ':';
        }
        sep = ',';
        write(members[i]->value(), out);
    }
    out += '}';
}

void write(const json::value& v, std::string& out)
{
    switch (v.kind()) {
    case json::kind::object: {
        const auto& obj = v.get_object();
        if (obj.empty()) {
            out += "{}";
            return;
        }
        // Members sorted by key; a small object's list stays on the stack.
        constexpr std::size_t small = 16;
        if (obj.size() <= small) {
            const json::key_value_pair* members[small];
            std::size_t n = 0;
            for (const auto& kv : obj) members[n++] = &kv;
            std::sort(members, members + n, key_less);
            write_members(members, n, out);
        } else {
            std::vector<const json::key_value_pair*> members;
            members.reserve(obj.size());
            for (const auto& kv : obj) members.push_back(&kv);
            std::sort(members.begin(), members.end(), key_less);
            write_members(members.data(), members.size(), out);
        }
        return;
    }
    case json::kind::array: {
        const auto& arr = v.get_array();
        if (arr.empty()) {
            out += "[]";
            return;
        }
        char sep = '[';
        for (const auto& e : arr) {
            out += sep;
            sep = ',';
            write(e, out);
        }
        out += ']';
        return;
    }
    case json::kind::string: append_json_string(out, v.get_string()); return;
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_: write_number(v, out); return;
    case json::kind::bool_: out += v.get_bool() ? "true" : "false"; return;
    case json::kind::null: out += "null"; return;
    }
}

}  // namespace

namespace {

/// The first byte from `p` on that needs an escape, or `end`.
/// Whether any byte of `w` needs an escape (exact: no false hits, none missed): below 0x20,
/// '"' or '\\', found 8 bytes at a time with the usual bit tricks.
bool any_escape(std::uint64_t w)
{
    constexpr std::uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    const std::uint64_t below_0x20 = (w - ones * 0x20) & ~w;
    const std::uint64_t q = w ^ (ones * '"'), b = w ^ (ones * '\\');
    const std::uint64_t quote = (q - ones) & ~q, backslash = (b - ones) & ~b;
    return ((below_0x20 | quote | backslash) & highs) != 0;
}

const char* next_escape(const char* p, const char* const end)
{
    const char* const start = p;
#if defined(__SSE2__)
    // 16 bytes at a time: text rarely holds any byte to escape.
    const __m128i quote = _mm_set1_epi8('"');
    const __m128i backslash = _mm_set1_epi8('\\');
    auto hits = [&](const char* at) {
        const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(at));
        // Bytes below 0x20, compared unsigned: min(v, 0x1f) == v.
        const __m128i control = _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1f)), v);
        const __m128i hit = _mm_or_si128(control, _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)));
        return static_cast<unsigned>(_mm_movemask_epi8(hit));
    };
    for (; end - p >= 16; p += 16)
        if (unsigned mask = hits(p)) return p + std::countr_zero(mask);
    if (p != end && end - start >= 16) {
        // The last 16 bytes, overlapping those already seen (which hold no hit).
        if (unsigned mask = hits(end - 16)) return end - 16 + std::countr_zero(mask);
        return end;
    }
#endif
    // Fewer than 16 bytes: told at once whether any needs an escape (most do not), with two
    // overlapping loads.
    const std::size_t n = static_cast<std::size_t>(end - p);
    if (n >= 8) {
        std::uint64_t a, b;
        std::memcpy(&a, p, 8);
        std::memcpy(&b, end - 8, 8);
        if (!any_escape(a) && !any_escape(b)) return end;
    } else if (n >= 4) {
        std::uint32_t a, b;
        std::memcpy(&a, p, 4);
        std::memcpy(&b, end - 4, 4);
        if (!any_escape((std::uint64_t{a} << 32) | b)) return end;
    }
    while (p != end && !escapes[static_cast<unsigned char>(*p)]) ++p;
    return p;
}

}  // namespace

namespace {

/// Writes `s` escaped (without quotes) at `dst`, which has room for 6 bytes per byte of it;
/// returns the end.
char* escape_into(char* dst, std::string_view s)
{
    const char* p = s.data();
    const char* const end = p + s.size();
    while (p != end) {
        const char* run = p;
        p = next_escape(p, end);
        std::memcpy(dst, run, static_cast<std::size_t>(p - run));
        dst += p - run;
        if (p == end) break;
        const auto c = static_cast<unsigned char>(*p++);
        const char e = escapes[c];
        *dst++ = '\\';
        if (e != 'u') {
            *dst++ = e;
        } else {
            static constexpr char hex[] = "0123456789abcdef";
            const char seq[5] = {'u', '0', '0', hex[c >> 4], hex[c & 15]};
            std::memcpy(dst, seq, 5);
            dst += 5;
        }
    }
    return dst;
}

// Short strings (most names and values) are escaped into a buffer on the stack and appended
// at once: one append instead of one per piece.
constexpr std::size_t short_string = 96;

}  // namespace

void append_json_string(std::string& out, std::string_view s)
{
    if (s.size() <= short_string) {
        char buf[6 * short_string + 2];
        buf[0] = '"';
        char* end = escape_into(buf + 1, s);
        *end++ = '"';
        out.append(buf, static_cast<std::size_t>(end - buf));
        return;
    }
    out += '"';
    const char* p = s.data();
    const char* const end = p + s.size();
    while (p != end) {
        const char* run = p;
        p = next_escape(p, end);
        out.append(run, static_cast<std::size_t>(p - run));
        if (p == end) break;
        char seq[6];
        char* e = escape_into(seq, std::string_view(p, 1));
        out.append(seq, static_cast<std::size_t>(e - seq));
        ++p;
    }
    out += '"';
}

void append_canonical_json(std::string& out, const json::value& v)
{
    write(v, out);
}

std::string canonical_json(const json::value& v)
{
    std::string out;
    append_canonical_json(out, v);
    return out;
}

const json::value* find_member(const json::value& v, std::string_view key)
{
    if (!v.is_object()) return nullptr;
    return v.get_object().if_contains(key);
}

std::string member_string(const json::value& v, std::string_view key)
{
    auto* m = find_member(v, key);
    if (!m) return {};
    if (m->is_string()) return std::string(m->get_string());
    if (m->is_int64()) return std::to_string(m->get_int64());
    if (m->is_uint64()) return std::to_string(m->get_uint64());
    if (m->is_double()) return json::serialize(*m);
    return {};
}

}  // namespace wfsync
