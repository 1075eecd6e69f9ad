// SPDX-License-Identifier: Apache-2.0
#include <wfsync/core/duration.hpp>

#include <ctime>

#include <fmt/format.h>

#include <cctype>
#include <cstdint>
#include <limits>

namespace wfsync {

result<milliseconds> parse_duration(std::string_view text)
{
    auto bad = [&](std::string_view why) {
        return fail(errc::invalid_argument,
                    fmt::format("invalid duration '{}': {} (use e.g. 500ms, 30s, 5m, 2h)", text, why));
    };
    if (text.empty()) return bad("empty");
    // 100 years. One number may be as large (format_duration writes "3153600000000ms").
    constexpr std::int64_t max_total = 100LL * 365 * 86'400'000;
    std::int64_t total = 0;
    std::size_t i = 0;
    while (i < text.size()) {
        if (!std::isdigit(static_cast<unsigned char>(text[i]))) return bad("expected a number");
        std::int64_t n = 0;
        while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
            n = n * 10 + (text[i] - '0');
            if (n > max_total) return bad("too large");  // also keeps n * 10 in range
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
    // Read strictly, digit by digit: std::get_time took "1" for the year 1 (a time that
    // overflowed system_clock, UBSan) and "2026-02-31" for March 3. Found by fuzz_at_time.
    if (!(text.size() == 10 || text.size() == 19 || (text.size() == 20 && text[19] == 'Z')))
        return std::nullopt;
    auto num = [&](std::size_t at, std::size_t len, int& out) {
        out = 0;
        for (std::size_t i = at; i < at + len; ++i) {
            if (!std::isdigit(static_cast<unsigned char>(text[i]))) return false;
            out = out * 10 + (text[i] - '0');
        }
        return true;
    };
    int y = 0, mo = 0, d = 0, h = 23, mi = 59, s = 59;  // a day alone: its end
    if (!num(0, 4, y) || text[4] != '-' || !num(5, 2, mo) || text[7] != '-' || !num(8, 2, d))
        return std::nullopt;
    if (text.size() > 10 && (text[10] != 'T' || !num(11, 2, h) || text[13] != ':' || !num(14, 2, mi) ||
                             text[16] != ':' || !num(17, 2, s) || h > 23 || mi > 59 || s > 59))
        return std::nullopt;
    // system_clock counts nanoseconds in 64 bits: it ends in April 2262.
    if (y < 1970 || y > 2261) return std::nullopt;
    std::chrono::year_month_day ymd{std::chrono::year{y}, std::chrono::month{static_cast<unsigned>(mo)},
                                    std::chrono::day{static_cast<unsigned>(d)}};
    if (!ymd.ok()) return std::nullopt;
    return std::chrono::sys_days{ymd} + std::chrono::hours{h} + std::chrono::minutes{mi} + std::chrono::seconds{s};
}

}  // namespace wfsync
