// SPDX-License-Identifier: Apache-2.0
// The plain parts of the config model: names, locations, lookups and the workflow selector.
#include <wfsync/config/config.hpp>

#include <fmt/format.h>

#include <algorithm>

namespace wfsync::config {

std::string_view to_string(platform p) noexcept
{
    switch (p) {
    case platform::zuora: return "zuora";
    case platform::kore: return "kore";
    case platform::secmaster: return "secmaster";
    }
    return "unknown";
}

std::string source_location::str() const
{
    if (line <= 0) return file;
    return fmt::format("{}:{}:{}", file, line, column);
}

std::string config_issue::str() const
{
    if (path.empty()) return fmt::format("{}: {}", where.str(), message);
    return fmt::format("{}: {}: {}", where.str(), path, message);
}

const tenant* config::find_tenant(std::string_view name) const
{
    auto it = tenants.find(std::string(name));
    return it == tenants.end() ? nullptr : &it->second;
}

const rule* config::find_rule(std::string_view name) const
{
    auto it = std::find_if(rules.begin(), rules.end(), [&](const rule& r) { return r.name == name; });
    return it == rules.end() ? nullptr : &*it;
}

namespace {

// Length of the UTF-8 sequence starting at s[i], so that `?` matches one character, not one byte.
std::size_t char_len(std::string_view s, std::size_t i) noexcept
{
    auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 1;
    return std::min(n, s.size() - i);
}

// Glob with `*` (any run, also empty) and `?` (one character). Iterative with one backtrack
// point, so a pattern of many stars cannot blow up.
bool glob_match(std::string_view pat, std::string_view text) noexcept
{
    std::size_t p = 0, t = 0;
    std::size_t star = std::string_view::npos, star_t = 0;
    while (t < text.size()) {
        if (p < pat.size() && pat[p] == '*') {
            star = ++p;
            star_t = t;
        } else if (p < pat.size() && pat[p] == '?') {
            ++p;
            t += char_len(text, t);
        } else if (p < pat.size() && pat[p] == text[t]) {
            ++p;
            ++t;
        } else if (star != std::string_view::npos) {
            p = star;
            star_t += char_len(text, star_t);
            t = star_t;
        } else {
            return false;
        }
    }
    while (p < pat.size() && pat[p] == '*') ++p;
    return p == pat.size();
}

bool entry_matches(const std::string& entry, std::string_view id, std::string_view name) noexcept
{
    return entry == id || glob_match(entry, name);
}

}  // namespace

bool selector::matches(std::string_view id, std::string_view name) const
{
    auto hit = [&](const std::string& e) { return entry_matches(e, id, name); };
    if (!include.empty() && std::none_of(include.begin(), include.end(), hit)) return false;
    return std::none_of(exclude.begin(), exclude.end(), hit);
}

}  // namespace wfsync::config
