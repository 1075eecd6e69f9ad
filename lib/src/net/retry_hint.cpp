// SPDX-License-Identifier: Apache-2.0
#include <wfsync/net/retry_hint.hpp>

#include <algorithm>
#include <charconv>
#include <ctime>
#include <iomanip>
#include <locale>
#include <sstream>
#include <string>

namespace wfsync::net {
namespace {

using std::chrono::milliseconds;

std::string_view trim(std::string_view v)
{
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
    while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
    return v;
}

/// Non-negative whole seconds, clamped to max_retry_hint; nullopt unless all digits.
std::optional<milliseconds> delta_seconds(std::string_view v)
{
    if (v.empty() || !std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return std::nullopt;
    constexpr long long max_seconds = std::chrono::duration_cast<std::chrono::seconds>(max_retry_hint).count();
    long long secs = 0;
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), secs);
    if (ec == std::errc::result_out_of_range || (ec == std::errc{} && secs > max_seconds)) return max_retry_hint;
    if (ec != std::errc{} || p != v.data() + v.size()) return std::nullopt;
    return milliseconds(secs * 1000);
}

}  // namespace

std::optional<milliseconds> parse_retry_after(std::string_view value, std::chrono::system_clock::time_point now)
{
    value = trim(value);
    if (value.empty()) return std::nullopt;
    if (auto d = delta_seconds(value)) return d;
    // IMF-fixdate, e.g. "Sun, 06 Nov 1994 08:49:37 GMT" (the zone is always GMT).
    if (value.size() > 64) return std::nullopt;
    std::tm tm{};
    std::istringstream in{std::string(value)};
    in.imbue(std::locale::classic());
    in >> std::get_time(&tm, "%a, %d %b %Y %H:%M:%S");
    if (in.fail() || tm.tm_year < 70 || tm.tm_year > 10000) return std::nullopt;
    std::time_t when = timegm(&tm);
    if (when == static_cast<std::time_t>(-1)) return std::nullopt;
    // In whole seconds: a far date as a system_clock time point (nanoseconds) would overflow.
    long long ahead = static_cast<long long>(when) - static_cast<long long>(std::chrono::system_clock::to_time_t(now));
    if (ahead <= 0) return milliseconds(0);
    constexpr long long max_seconds = std::chrono::duration_cast<std::chrono::seconds>(max_retry_hint).count();
    return ahead >= max_seconds ? max_retry_hint : milliseconds(ahead * 1000);
}

std::optional<milliseconds> server_wait_hint(const header_list& headers, std::chrono::system_clock::time_point now)
{
    std::optional<milliseconds> hint;
    if (const auto* v = headers.find("Retry-After")) hint = parse_retry_after(*v, now);
    if (const auto* v = headers.find("RateLimit-Reset")) {
        auto reset = delta_seconds(trim(*v));
        if (reset && (!hint || *reset > *hint)) hint = reset;
    }
    return hint;
}

}  // namespace wfsync::net
