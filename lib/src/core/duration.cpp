// SPDX-License-Identifier: Apache-2.0
#include <wfsync/core/duration.hpp>

#include <ctime>

#include <fmt/format.h>

#include <cctype>
#include <cstdint>
#include <iomanip>
#include <sstream>
#include <limits>

namespace wfsync {

result<milliseconds> parse_duration(std::string_view text)
{
    auto bad = [&](std::string_view why) {
        return fail(errc::invalid_argument,
                    fmt::format("invalid duration '{}': {} (use e.g. 500ms, 30s, 5m, 2h)", text, why));
    };
    if (text.empty()) return bad("empty");
    std::int64_t total = 0;
    std::size_t i = 0;
    while (i < text.size()) {
        if (!std::isdigit(static_cast<unsigned char>(text[i]))) return bad("expected a number");
        std::int64_t n = 0;
        while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
            n = n * 10 + (text[i] - '0');
            if (n > 1'000'000'000'000LL) return bad("too large");
            ++i;
        }
        std::size_t u = i;
        while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i]))) ++i;
        auto unit = text.substr(u, i - u);
        std::int64_t scale = 0;
        if (unit == "ms") scale = 1;
        else if (unit == "s") scale = 1000;
        else if (unit == "m") scale = 60'000;
        else if (unit == "h") scale = 3'600'000;
        else if (unit == "d") scale = 86'400'000;
        else if (unit.empty()) return bad("missing unit");
        else return bad(fmt::format("unknown unit '{}'", unit));
        // Checked before multiplying: 999999999999d would overflow int64 (undefined behaviour).
        constexpr std::int64_t max_total = 100LL * 365 * 86'400'000;
        if (n > (max_total - total) / scale) return bad("too large");
        total += n * scale;
    }
    return milliseconds(total);
}

std::string format_duration(milliseconds d)
{
    auto ms = d.count();
    if (ms % 3'600'000 == 0 && ms != 0) return fmt::format("{}h", ms / 3'600'000);
    if (ms % 60'000 == 0 && ms != 0) return fmt::format("{}m", ms / 60'000);
    if (ms % 1000 == 0) return fmt::format("{}s", ms / 1000);
    return fmt::format("{}ms", ms);  // exact: "1.5s" is not a duration parse_duration reads
}

std::string format_iso_utc(std::chrono::system_clock::time_point t)
{
    return format_iso_utc(static_cast<std::int64_t>(
        std::chrono::system_clock::to_time_t(std::chrono::floor<std::chrono::seconds>(t))));
}

std::string format_iso_utc(std::int64_t unix_seconds)
{
    std::time_t tt = static_cast<std::time_t>(unix_seconds);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                       tm.tm_hour, tm.tm_min, tm.tm_sec);
}

std::optional<std::chrono::system_clock::time_point> parse_iso_utc(std::string_view text)
{
    std::tm tm{};
    std::istringstream in{std::string(text)};
    if (text.size() == 10) {
        in >> std::get_time(&tm, "%Y-%m-%d");
        if (in.fail()) return std::nullopt;
        tm.tm_hour = 23;
        tm.tm_min = 59;
        tm.tm_sec = 59;
    } else {
        in >> std::get_time(&tm, "%Y-%m-%dT%H:%M:%S");
        if (in.fail()) return std::nullopt;
        std::string rest;
        in >> rest;
        if (!rest.empty() && rest != "Z") return std::nullopt;
    }
    return std::chrono::system_clock::from_time_t(timegm(&tm));
}

}  // namespace wfsync
