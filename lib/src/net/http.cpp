// SPDX-License-Identifier: Apache-2.0
#include <wfsync/net/http.hpp>

#include <algorithm>

namespace wfsync::net {

bool iequals(std::string_view a, std::string_view b) noexcept
{
    auto lower = [](unsigned char c) { return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c; };
    return a.size() == b.size() &&
           std::equal(a.begin(), a.end(), b.begin(), [&](char x, char y) {
               return lower(static_cast<unsigned char>(x)) == lower(static_cast<unsigned char>(y));
           });
}

void header_list::set(std::string name, std::string value)
{
    // Replace the first occurrence, drop any later duplicates so that `set` means "exactly one".
    auto first = std::find_if(fields.begin(), fields.end(),
                              [&](const auto& f) { return iequals(f.first, name); });
    if (first == fields.end()) {
        fields.emplace_back(std::move(name), std::move(value));
        return;
    }
    first->second = std::move(value);
    auto rest = std::remove_if(std::next(first), fields.end(),
                               [&](const auto& f) { return iequals(f.first, name); });
    fields.erase(rest, fields.end());
}

void header_list::add(std::string name, std::string value)
{
    fields.emplace_back(std::move(name), std::move(value));
}

const std::string* header_list::find(std::string_view name) const
{
    for (const auto& f : fields)
        if (iequals(f.first, name)) return &f.second;
    return nullptr;
}

std::optional<std::string> percent_decode(std::string_view s)
{
    std::string out;
    out.reserve(s.size());
    auto hex = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '%') {
            out += s[i];
            continue;
        }
        if (i + 2 >= s.size()) return std::nullopt;
        int hi = hex(s[i + 1]), lo = hex(s[i + 2]);
        if (hi < 0 || lo < 0) return std::nullopt;
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
    }
    return out;
}

std::string url_encode(std::string_view s)
{
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(s.size());
    for (char ch : s) {
        auto c = static_cast<unsigned char>(ch);
        bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                          c == '-' || c == '.' || c == '_' || c == '~';
        if (unreserved) {
            out += ch;
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 0x0F];
        }
    }
    return out;
}

}  // namespace wfsync::net
