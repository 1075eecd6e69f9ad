// SPDX-License-Identifier: Apache-2.0
#define BOOST_TEST_MODULE wfsync_schedule
#include <boost/test/unit_test.hpp>

#include <wfsync/schedule/cron.hpp>

#include <date/tz.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

using wfsync::errc;
using wfsync::schedule::schedule;
using std::chrono::sys_seconds;

namespace {

// "2025-03-30 02:30" or "2025-03-30 02:30:15", optionally followed by "Z" (default) or an
// offset "+02:00" / "-04:00": the local time written with its offset, converted to UTC.
sys_seconds at(const std::string& s)
{
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
    int n = 0;
    if (std::sscanf(s.c_str(), "%d-%d-%d %d:%d%n", &y, &mo, &d, &h, &mi, &n) != 5)
        throw std::runtime_error("bad test time " + s);
    std::string rest = s.substr(static_cast<std::size_t>(n));
    if (!rest.empty() && rest[0] == ':') {
        int m2 = 0;
        std::sscanf(rest.c_str(), ":%d%n", &sec, &m2);
        rest = rest.substr(static_cast<std::size_t>(m2));
    }
    int off = 0;
    if (!rest.empty() && rest != "Z") {
        int oh = 0, om = 0;
        if (std::sscanf(rest.c_str() + 1, "%d:%d", &oh, &om) != 2)
            throw std::runtime_error("bad offset in " + s);
        off = (rest[0] == '-' ? -1 : 1) * (oh * 60 + om);
    }
    using namespace std::chrono;
    auto date = sys_days{year{y} / month{static_cast<unsigned>(mo)} / day{static_cast<unsigned>(d)}};
    return date + hours{h} + minutes{mi} + seconds{sec} - minutes{off};
}

std::string utc(sys_seconds t)
{
    using namespace std::chrono;
    if (t == schedule::never) return "never";
    auto day = floor<days>(t);
    year_month_day ymd{day};
    auto s = (t - day).count();
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02u %02lld:%02lld:%02lldZ", static_cast<int>(ymd.year()),
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                  static_cast<long long>(s / 3600), static_cast<long long>(s / 60 % 60),
                  static_cast<long long>(s % 60));
    return buf;
}

struct next_case {
    const char* expr;
    const char* tz;
    const char* after;
    const char* expected;
};

void check_next(const std::vector<next_case>& cases)
{
    for (const auto& c : cases) {
        auto s = schedule::parse(c.expr, c.tz);
        BOOST_TEST_REQUIRE(s.has_value(), c.expr << " in " << c.tz << ": "
                                                  << (s ? "" : s.error().message));
        auto got = s->next_after(at(c.after));
        BOOST_TEST(utc(got) == utc(at(c.expected)),
                   "'" << c.expr << "' " << c.tz << " after " << c.after << ": got " << utc(got)
                       << ", expected " << c.expected << " = " << utc(at(c.expected)));
    }
}

// Follows a schedule from `start` and returns the first `count` fire times.
std::vector<std::string> fires(const char* expr, const char* tz, const char* start, int count)
{
    auto s = schedule::parse(expr, tz).value();
    std::vector<std::string> out;
    auto t = at(start);
    for (int i = 0; i < count; ++i) {
        t = s.next_after(t);
        out.push_back(utc(t));
    }
    return out;
}

std::vector<std::string> utcs(std::initializer_list<const char*> times)
{
    std::vector<std::string> out;
    for (auto t : times) out.push_back(utc(at(t)));
    return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(cron_utc)

BOOST_AUTO_TEST_CASE(basic_fields_lists_ranges_steps)
{
    check_next({
        {"* * * * *", "UTC", "2025-01-01 00:00", "2025-01-01 00:01"},
        {"* * * * *", "UTC", "2025-01-01 00:00:30", "2025-01-01 00:01"},
        {"* * * * *", "UTC", "2025-01-01 00:00:59", "2025-01-01 00:01"},
        {"*/15 * * * *", "UTC", "2025-01-01 10:07", "2025-01-01 10:15"},
        {"*/15 * * * *", "UTC", "2025-01-01 10:45", "2025-01-01 11:00"},
        {"*/15 * * * *", "UTC", "2025-01-01 10:44:59", "2025-01-01 10:45"},
        {"0 * * * *", "UTC", "2025-01-01 10:00", "2025-01-01 11:00"},
        {"30 8 * * *", "UTC", "2025-01-01 08:30", "2025-01-02 08:30"},
        {"30 8 * * *", "UTC", "2025-01-01 08:29:59", "2025-01-01 08:30"},
        {"5/10 * * * *", "UTC", "2025-01-01 10:05", "2025-01-01 10:15"},
        {"5/10 * * * *", "UTC", "2025-01-01 10:55", "2025-01-01 11:05"},
        {"5/10 * * * *", "UTC", "2025-01-01 10:00", "2025-01-01 10:05"},
        {"0 8-18/2 * * *", "UTC", "2025-01-01 09:00", "2025-01-01 10:00"},
        {"0 8-18/2 * * *", "UTC", "2025-01-01 18:00", "2025-01-02 08:00"},
        {"0 8-18/2 * * *", "UTC", "2025-01-01 16:30", "2025-01-01 18:00"},
        {"0,30 9,17 * * *", "UTC", "2025-01-01 09:30", "2025-01-01 17:00"},
        {"0,30 9,17 * * *", "UTC", "2025-01-01 17:30", "2025-01-02 09:00"},
        {"10-12,40 * * * *", "UTC", "2025-01-01 10:11", "2025-01-01 10:12"},
        {"10-12,40 * * * *", "UTC", "2025-01-01 10:12", "2025-01-01 10:40"},
        {"59 23 * * *", "UTC", "2025-01-01 23:59", "2025-01-02 23:59"},
        {"0 0 */10 * *", "UTC", "2025-01-01 00:00", "2025-01-11 00:00"},
        {"0 0 */10 * *", "UTC", "2025-01-31 00:00", "2025-02-01 00:00"},
        {"0 0 1 */4 *", "UTC", "2025-01-01 00:00", "2025-05-01 00:00"},
        {"15 14 1 * *", "UTC", "2025-01-01 14:15", "2025-02-01 14:15"},
    });
}

BOOST_AUTO_TEST_CASE(names_any_case_and_sunday_as_0_or_7)
{
    check_next({
        // 2025-01-01 is a Wednesday, 2025-01-03 a Friday, 2025-01-05 a Sunday.
        {"*/15 8-18 * * MON-FRI", "UTC", "2025-01-03 18:45", "2025-01-06 08:00"},
        {"*/15 8-18 * * MON-FRI", "UTC", "2025-01-03 17:50", "2025-01-03 18:00"},
        {"0 0 1 JAN,jul *", "UTC", "2025-01-01 00:00", "2025-07-01 00:00"},
        {"0 0 1 Feb-Apr *", "UTC", "2025-04-01 00:00", "2026-02-01 00:00"},
        {"0 12 * * sat", "UTC", "2025-01-01 00:00", "2025-01-04 12:00"},
        {"0 0 * * 7", "UTC", "2025-01-01 00:00", "2025-01-05 00:00"},
        {"0 0 * * 0", "UTC", "2025-01-01 00:00", "2025-01-05 00:00"},
        {"0 0 * * Sun", "UTC", "2025-01-01 00:00", "2025-01-05 00:00"},
        {"0 0 * * FRI-SUN", "UTC", "2025-01-04 00:00", "2025-01-05 00:00"},
        {"0 0 * * FRI-SUN", "UTC", "2025-01-05 00:00", "2025-01-10 00:00"},
        {"0 0 * * 5-7", "UTC", "2025-01-05 00:00", "2025-01-10 00:00"},
        {"0 0 * * 1,3/2", "UTC", "2025-01-01 00:00", "2025-01-03 00:00"},
        {"0 0 * * */2", "UTC", "2025-01-01 00:00", "2025-01-02 00:00"},
    });
}

BOOST_AUTO_TEST_CASE(month_ends_leap_days_and_year_wrap)
{
    check_next({
        {"0 0 31 * *", "UTC", "2025-01-31 00:00", "2025-03-31 00:00"},
        {"0 0 31 * *", "UTC", "2025-03-31 00:00", "2025-05-31 00:00"},
        {"0 0 31 * *", "UTC", "2025-08-31 00:00", "2025-10-31 00:00"},
        {"0 0 30 * *", "UTC", "2025-01-30 00:00", "2025-03-30 00:00"},
        {"0 0 29 2 *", "UTC", "2025-01-01 00:00", "2028-02-29 00:00"},
        {"0 0 29 2 *", "UTC", "2024-02-29 00:00", "2028-02-29 00:00"},
        {"0 0 29 2 *", "UTC", "2096-03-01 00:00", "2104-02-29 00:00"},  // 2100 is no leap year
        {"0 0 29,30 2,3 *", "UTC", "2025-02-01 00:00", "2025-03-29 00:00"},
        {"0 0 1 1 *", "UTC", "2025-12-31 23:59", "2026-01-01 00:00"},
        {"59 23 31 12 *", "UTC", "2025-12-31 23:59", "2026-12-31 23:59"},
        {"0 0 * * *", "UTC", "2025-12-31 12:00", "2026-01-01 00:00"},
        {"*/5 * * * *", "UTC", "2025-12-31 23:58", "2026-01-01 00:00"},
        {"0 0 1 JAN MON", "UTC", "2025-06-01 00:00", "2026-01-01 00:00"},
        {"0 0 1 JAN MON", "UTC", "2026-01-01 00:00", "2026-01-05 00:00"},  // OR: a Monday
    });
}

BOOST_AUTO_TEST_CASE(day_of_month_and_day_of_week)
{
    check_next({
        // Both restricted: either matches (2025-01-03 is a Friday, 01-13 a Monday).
        {"0 0 13 * FRI", "UTC", "2025-01-01 00:00", "2025-01-03 00:00"},
        {"0 0 13 * FRI", "UTC", "2025-01-10 00:00", "2025-01-13 00:00"},
        {"0 0 13 * FRI", "UTC", "2025-01-13 00:00", "2025-01-17 00:00"},
        {"0 0 1,15 * MON", "UTC", "2025-01-01 00:00", "2025-01-06 00:00"},
        // February 30 never exists, but with a weekday the OR rule still fires on Mondays.
        {"0 0 30 2 MON", "UTC", "2025-01-01 00:00", "2025-02-03 00:00"},
        // A field starting with '*' is not restricted: both must match (Vixie cron, cronie).
        {"0 0 */2 * MON", "UTC", "2025-01-01 00:00", "2025-01-13 00:00"},
        {"0 0 1 * *", "UTC", "2025-01-01 00:00", "2025-02-01 00:00"},
        {"0 0 * * MON", "UTC", "2025-01-01 00:00", "2025-01-06 00:00"},
        {"0 0 1 * */7", "UTC", "2025-01-01 00:00", "2025-06-01 00:00"},  // 1st that is a Sunday
        // Rare AND combinations take years: August 15 on a Sunday, February 29 on a Sunday.
        {"0 0 15 8 */7", "UTC", "2010-10-04 20:01", "2021-08-15 00:00"},
        {"0 0 29 2 */7", "UTC", "2025-01-01 00:00", "2032-02-29 00:00"},
        {"0 0 29 2 */7", "UTC", "2089-01-01 00:00", "2128-02-29 00:00"},
    });
}

BOOST_AUTO_TEST_CASE(macros)
{
    check_next({
        {"@hourly", "UTC", "2025-01-01 10:30", "2025-01-01 11:00"},
        {"@hourly", "UTC", "2025-01-01 10:00", "2025-01-01 11:00"},
        {"@daily", "UTC", "2025-01-01 00:00", "2025-01-02 00:00"},
        {"@midnight", "UTC", "2025-01-01 13:00", "2025-01-02 00:00"},
        {"@weekly", "UTC", "2025-01-01 00:00", "2025-01-05 00:00"},
        {"@monthly", "UTC", "2025-01-15 00:00", "2025-02-01 00:00"},
        {"@yearly", "UTC", "2025-01-01 00:00", "2026-01-01 00:00"},
        {"@annually", "UTC", "2025-06-01 00:00", "2026-01-01 00:00"},
        {"  @daily  ", "UTC", "2025-01-01 00:00", "2025-01-02 00:00"},
    });
}

BOOST_AUTO_TEST_CASE(every_is_aligned_to_the_epoch)
{
    check_next({
        {"@every 15m", "UTC", "2025-01-01 10:07:30", "2025-01-01 10:15"},
        {"@every 1h", "UTC", "2025-01-01 10:00", "2025-01-01 11:00"},
        {"@every 1h", "UTC", "2025-01-01 10:59:59", "2025-01-01 11:00"},
        // 2025-01-01T00:00Z is 1735689600 s = 4132594 * 420 + 120: the 7-minute grid is at :05.
        {"@every 7m", "UTC", "2025-01-01 00:00", "2025-01-01 00:05"},
        {"@every 7m", "UTC", "2025-01-01 00:05", "2025-01-01 00:12"},
        {"@every 90s", "UTC", "2025-01-01 00:00", "2025-01-01 00:01:30"},
        {"@every 1h30m", "UTC", "2025-01-01 00:00", "2025-01-01 01:30"},
        {"@every 1s", "UTC", "2025-01-01 00:00:07", "2025-01-01 00:00:08"},
        // Unaffected by the zone and by DST: midnight UTC, not local midnight.
        {"@every 1d", "Europe/Berlin", "2025-03-29 12:00Z", "2025-03-30 00:00Z"},
        {"@every 1h", "Europe/Berlin", "2025-03-30 00:30Z", "2025-03-30 01:00Z"},
        {"@every 1h", "Europe/Berlin", "2025-10-26 00:30Z", "2025-10-26 01:00Z"},
        {"@every 30m", "Asia/Kolkata", "2025-01-01 00:10Z", "2025-01-01 00:30Z"},
        {"@every 1s", "UTC", "1969-12-31 23:59:59", "1970-01-01 00:00"},
    });
    auto s = schedule::parse("@every 7m", "UTC").value();
    BOOST_TEST(s.interval().count() == 420);
    BOOST_TEST(schedule::parse("*/5 * * * *", "UTC").value().interval().count() == 0);
}

BOOST_AUTO_TEST_CASE(keeps_text_and_zone)
{
    auto s = schedule::parse("*/15 8-18 * * MON-FRI", "Europe/Berlin").value();
    BOOST_TEST(s.text() == "*/15 8-18 * * MON-FRI");
    BOOST_TEST(s.timezone() == "Europe/Berlin");
    BOOST_TEST(schedule::parse("@daily", "").value().timezone() == "UTC");
    auto copy = s;
    BOOST_TEST(utc(copy.next_after(at("2025-01-06 06:00Z"))) == utc(at("2025-01-06 08:00+01:00")));
    BOOST_TEST(utc(copy.next_after(at("2025-01-06 07:00Z"))) == utc(at("2025-01-06 08:15+01:00")));
}

BOOST_AUTO_TEST_CASE(parse_errors_name_the_problem)
{
    struct bad {
        const char* text;
        const char* tz;
        const char* message;  // a part of the message
    };
    const bad cases[] = {
        {"", "UTC", "empty schedule"},
        {"   ", "UTC", "empty schedule"},
        {"* * * *", "UTC", "expected 5 fields (minute hour day-of-month month day-of-week), got 4"},
        {"* * * * * *", "UTC", "got 6"},
        {"0 25 * * *", "UTC", "field 2 (hour): 25 is out of range 0-23"},
        {"60 * * * *", "UTC", "field 1 (minute): 60 is out of range 0-59"},
        {"0 0 0 * *", "UTC", "field 3 (day-of-month): 0 is out of range 1-31"},
        {"0 0 32 * *", "UTC", "field 3 (day-of-month): 32 is out of range 1-31"},
        {"0 0 * 13 *", "UTC", "field 4 (month): 13 is out of range 1-12"},
        {"0 0 * 0 *", "UTC", "field 4 (month): 0 is out of range 1-12"},
        {"0 0 * * 8", "UTC", "field 5 (day-of-week): 8 is out of range 0-7"},
        {"99999999999 * * * *", "UTC", "field 1 (minute): 99999999999 is out of range 0-59"},
        {"0 0 * FOO *", "UTC", "field 4 (month): unknown name 'FOO' (use JAN-DEC)"},
        {"0 0 * * MONDAY", "UTC", "field 5 (day-of-week): unknown name 'MONDAY' (use SUN-SAT)"},
        {"MON 0 * * *", "UTC", "field 1 (minute): 'MON' is not a number"},
        {"0 0 JAN * *", "UTC", "field 3 (day-of-month): 'JAN' is not a number"},
        {"5x * * * *", "UTC", "field 1 (minute): '5x' is not a number"},
        {"*/0 * * * *", "UTC", "field 1 (minute): step 0 is out of range 1-59"},
        {"0 */24 * * *", "UTC", "field 2 (hour): step 24 is out of range 1-23"},
        {"*/ * * * *", "UTC", "field 1 (minute): step '' is not a number"},
        {"*/x * * * *", "UTC", "field 1 (minute): step 'x' is not a number"},
        {"0 18-8 * * *", "UTC", "field 2 (hour): range '18-8' runs backwards"},
        {"0 0 * DEC-JAN *", "UTC", "field 4 (month): range 'DEC-JAN' runs backwards"},
        {"1,,2 * * * *", "UTC", "field 1 (minute): empty list item in '1,,2'"},
        {"1, * * * *", "UTC", "field 1 (minute): empty list item"},
        {"- * * * *", "UTC", "field 1 (minute): missing value"},
        {"0 0 * * 1-", "UTC", "field 5 (day-of-week): missing value"},
        {"0 0 30 2 *", "UTC", "never fires: day-of-month '30' does not occur in month '2'"},
        {"0 0 31 APR,JUN,SEP,NOV *", "UTC", "never fires: day-of-month '31' does not occur"},
        {"0 0 30,31 FEB *", "UTC", "never fires"},
        {"@reboot", "UTC", "unknown macro '@reboot'"},
        {"@Daily", "UTC", "unknown macro '@Daily'"},
        {"@daily 5", "UTC", "'@daily 5': @daily takes no arguments"},
        {"@every", "UTC", "@every needs one duration"},
        {"@every 1m 2m", "UTC", "@every needs one duration"},
        {"@every 10x", "UTC", "@every: invalid duration '10x'"},
        {"@every 0s", "UTC", "@every: the interval must be greater than zero"},
        {"@every 1500ms", "UTC", "@every: the interval '1500ms' must be whole seconds"},
        {"@daily", "Europe/Berln", "unknown time zone 'Europe/Berln'"},
        {"0 0 * * *", "../../etc/passwd", "unknown time zone '../../etc/passwd'"},
        {"0 0 * * *", "Mars/Olympus_Mons", "unknown time zone 'Mars/Olympus_Mons'"},
    };
    for (const auto& c : cases) {
        auto r = schedule::parse(c.text, c.tz);
        BOOST_TEST_REQUIRE(r.has_error(), "'" << c.text << "' in " << c.tz << " was accepted");
        BOOST_TEST(r.error().code == errc::invalid_argument);
        BOOST_TEST(r.error().message.find(c.message) != std::string::npos,
                   "'" << c.text << "': message '" << r.error().message << "' lacks '" << c.message
                       << "'");
    }
}

BOOST_AUTO_TEST_CASE(accepts_rare_but_possible_days)
{
    for (auto text : {"0 0 29 2 *", "0 0 31 1-12 *", "0 0 30 2 MON", "0 0 30,31 1,2 *",
                      "0 0 31 APR-JUL *", "0 0 29-31 * *", "0 0 * * 0-7", "0-59 0-23 1-31 1-12 0-7"}) {
        auto r = schedule::parse(text, "UTC");
        BOOST_TEST(r.has_value(), text << ": " << (r ? "" : r.error().message));
    }
}

BOOST_AUTO_TEST_CASE(ends_of_the_calendar_do_not_hang)
{
    auto s = schedule::parse("0 0 29 2 *", "UTC").value();
    BOOST_TEST(utc(s.next_after(at("9999-12-31 00:00"))) == "never");
    BOOST_TEST(utc(s.next_after(schedule::never)) == "never");
    BOOST_TEST(utc(schedule::parse("@every 1h", "UTC").value().next_after(schedule::never)) == "never");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(cron_time_zones)

BOOST_AUTO_TEST_CASE(europe_berlin)
{
    // 2025-03-30 02:00 CET -> 03:00 CEST (01:00Z); 2025-10-26 03:00 CEST -> 02:00 CET (01:00Z).
    check_next({
        {"0 9 * * *", "Europe/Berlin", "2025-01-01 00:00Z", "2025-01-01 09:00+01:00"},
        {"0 9 * * *", "Europe/Berlin", "2025-07-01 00:00Z", "2025-07-01 09:00+02:00"},
        // Spring forward: 02:30 does not exist and fires at the end of the gap, once.
        {"30 2 * * *", "Europe/Berlin", "2025-03-30 00:00+01:00", "2025-03-30 03:00+02:00"},
        {"30 2 * * *", "Europe/Berlin", "2025-03-30 03:00+02:00", "2025-03-31 02:30+02:00"},
        {"0 3 * * *", "Europe/Berlin", "2025-03-30 00:00+01:00", "2025-03-30 03:00+02:00"},
        {"*/15 * * * *", "Europe/Berlin", "2025-03-30 01:50+01:00", "2025-03-30 03:00+02:00"},
        {"*/15 * * * *", "Europe/Berlin", "2025-03-30 03:00+02:00", "2025-03-30 03:15+02:00"},
        {"0 * * * *", "Europe/Berlin", "2025-03-30 01:00+01:00", "2025-03-30 03:00+02:00"},
        // Fall back: 02:30 happens twice and fires at the first.
        {"30 2 * * *", "Europe/Berlin", "2025-10-26 00:00+02:00", "2025-10-26 02:30+02:00"},
        {"30 2 * * *", "Europe/Berlin", "2025-10-26 02:30+02:00", "2025-10-27 02:30+01:00"},
        {"*/30 * * * *", "Europe/Berlin", "2025-10-26 02:30+02:00", "2025-10-26 03:00+01:00"},
        {"*/30 * * * *", "Europe/Berlin", "2025-10-26 02:10+01:00", "2025-10-26 03:00+01:00"},
        {"*/30 * * * *", "Europe/Berlin", "2025-10-26 02:59:59+02:00", "2025-10-26 03:00+01:00"},
        {"0 * * * *", "Europe/Berlin", "2025-10-26 02:00+02:00", "2025-10-26 03:00+01:00"},
        {"*/15 8-18 * * MON-FRI", "Europe/Berlin", "2025-03-28 18:45+01:00",
         "2025-03-31 08:00+02:00"},
        {"@daily", "Europe/Berlin", "2025-12-31 22:59Z", "2025-12-31 23:00Z"},  // year wrap
    });
    BOOST_TEST(fires("30 2 * * *", "Europe/Berlin", "2025-03-29 00:00Z", 3) ==
               utcs({"2025-03-29 02:30+01:00", "2025-03-30 03:00+02:00", "2025-03-31 02:30+02:00"}));
    BOOST_TEST(fires("0 * * * *", "Europe/Berlin", "2025-10-26 00:30+02:00", 4) ==
               utcs({"2025-10-26 01:00+02:00", "2025-10-26 02:00+02:00", "2025-10-26 03:00+01:00",
                     "2025-10-26 04:00+01:00"}));
}

BOOST_AUTO_TEST_CASE(america_new_york)
{
    // 2025-03-09 02:00 EST -> 03:00 EDT (07:00Z); 2025-11-02 02:00 EDT -> 01:00 EST (06:00Z).
    check_next({
        {"30 2 * * *", "America/New_York", "2025-03-09 00:00-05:00", "2025-03-09 03:00-04:00"},
        {"30 2 * * *", "America/New_York", "2025-03-09 03:00-04:00", "2025-03-10 02:30-04:00"},
        {"30 1 * * *", "America/New_York", "2025-11-02 00:00-04:00", "2025-11-02 01:30-04:00"},
        {"30 1 * * *", "America/New_York", "2025-11-02 01:30-04:00", "2025-11-03 01:30-05:00"},
        {"30 1 * * *", "America/New_York", "2025-11-02 01:10-05:00", "2025-11-03 01:30-05:00"},
        {"0 9 * * MON-FRI", "America/New_York", "2025-03-07 09:00-05:00", "2025-03-10 09:00-04:00"},
        {"0 0 1 1 *", "America/New_York", "2025-06-01 00:00Z", "2026-01-01 00:00-05:00"},
    });
}

BOOST_AUTO_TEST_CASE(australia_sydney_southern_hemisphere)
{
    // 2025-04-06 03:00 AEDT -> 02:00 AEST (04-05 16:00Z); 2025-10-05 02:00 AEST -> 03:00 AEDT.
    check_next({
        {"30 2 * * *", "Australia/Sydney", "2025-10-05 00:00+10:00", "2025-10-05 03:00+11:00"},
        {"30 2 * * *", "Australia/Sydney", "2025-10-05 03:00+11:00", "2025-10-06 02:30+11:00"},
        {"30 2 * * *", "Australia/Sydney", "2025-04-06 00:00+11:00", "2025-04-06 02:30+11:00"},
        {"30 2 * * *", "Australia/Sydney", "2025-04-06 02:30+11:00", "2025-04-07 02:30+10:00"},
        {"0 12 * * *", "Australia/Sydney", "2025-01-15 00:00Z", "2025-01-15 12:00+11:00"},
        {"0 12 * * *", "Australia/Sydney", "2025-07-15 00:00Z", "2025-07-15 12:00+10:00"},
        // Year wrap: local New Year is still 2025 in UTC.
        {"0 0 1 1 *", "Australia/Sydney", "2025-06-01 00:00Z", "2026-01-01 00:00+11:00"},
    });
}

BOOST_AUTO_TEST_CASE(australia_lord_howe_half_hour_shift)
{
    // 2025-04-06 02:00 (+11) -> 01:30 (+10:30); 2025-10-05 02:00 (+10:30) -> 02:30 (+11).
    check_next({
        {"15 2 * * *", "Australia/Lord_Howe", "2025-10-05 00:00+10:30", "2025-10-05 02:30+11:00"},
        {"45 2 * * *", "Australia/Lord_Howe", "2025-10-05 00:00+10:30", "2025-10-05 02:45+11:00"},
        {"*/10 * * * *", "Australia/Lord_Howe", "2025-10-05 01:50+10:30", "2025-10-05 02:30+11:00"},
        {"*/10 * * * *", "Australia/Lord_Howe", "2025-10-05 02:30+11:00", "2025-10-05 02:40+11:00"},
        {"45 1 * * *", "Australia/Lord_Howe", "2025-04-06 00:00+11:00", "2025-04-06 01:45+11:00"},
        {"45 1 * * *", "Australia/Lord_Howe", "2025-04-06 01:45+11:00", "2025-04-07 01:45+10:30"},
        {"*/10 * * * *", "Australia/Lord_Howe", "2025-04-06 01:50+11:00", "2025-04-06 02:00+10:30"},
    });
}

BOOST_AUTO_TEST_CASE(asia_kolkata_half_hour_offset)
{
    check_next({
        {"0 9 * * *", "Asia/Kolkata", "2025-01-01 00:00Z", "2025-01-01 09:00+05:30"},
        {"30 * * * *", "Asia/Kolkata", "2025-01-01 00:00Z", "2025-01-01 06:30+05:30"},
        {"0 * * * *", "Asia/Kolkata", "2025-01-01 00:00Z", "2025-01-01 06:00+05:30"},
        {"0 0 1 1 *", "Asia/Kolkata", "2025-12-31 18:00Z", "2026-01-01 00:00+05:30"},
        {"@daily", "Asia/Kolkata", "2025-06-10 18:29Z", "2025-06-11 00:00+05:30"},
        {"@daily", "Asia/Kolkata", "2025-06-10 18:30Z", "2025-06-12 00:00+05:30"},
    });
}

BOOST_AUTO_TEST_CASE(zone_ids_and_plain_utc_names)
{
    check_next({
        {"0 9 * * *", "Etc/UTC", "2025-01-01 00:00Z", "2025-01-01 09:00Z"},
        {"0 9 * * *", "", "2025-01-01 00:00Z", "2025-01-01 09:00Z"},
        {"0 9 * * *", "Asia/Tokyo", "2024-12-31 23:00Z", "2025-01-01 09:00+09:00"},
        {"0 9 * * *", "Asia/Tokyo", "2025-01-01 00:00Z", "2025-01-02 09:00+09:00"},
    });
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------------------------------
// Property test: random expressions built from random sets (so the test knows the answer
// without a second parser), random instants, checked by brute force in UTC.

namespace {

// Fixed seeds keep runs reproducible; WFSYNC_TEST_SEED tries others.
unsigned test_seed(unsigned fixed)
{
    const char* env = std::getenv("WFSYNC_TEST_SEED");
    return env ? fixed ^ static_cast<unsigned>(std::strtoul(env, nullptr, 10)) : fixed;
}

struct field_gen {
    int lo, hi;  // values written in the text
    int star_hi;  // end of '*' and 'N/S' (7 for day-of-week, as in the parser: 7 = Sunday)
    const char* const* names;  // or null
};

constexpr const char* month_names[] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                       "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
constexpr const char* day_names[] = {"sun", "Mon", "TUE", "wed", "Thu", "FRI", "sat"};

struct generated_field {
    std::string text;
    std::vector<bool> set;  // indexed by value
    bool star = false;
};

generated_field generate(const field_gen& f, std::mt19937& rng)
{
    auto pick = [&](int a, int b) { return std::uniform_int_distribution<int>(a, b)(rng); };
    auto value_text = [&](int v) {
        if (f.names && pick(0, 2) == 0) return std::string(f.names[v - f.lo]);
        return std::to_string(v);
    };
    generated_field g;
    g.set.assign(static_cast<std::size_t>(f.star_hi + 1), false);
    int items = pick(0, 3) == 0 ? pick(2, 3) : 1;
    for (int i = 0; i < items; ++i) {
        if (i) g.text += ',';
        switch (pick(0, 5)) {
        case 0: {  // *
            if (i == 0) g.star = true;
            g.text += '*';
            for (int v = f.lo; v <= f.star_hi; ++v) g.set[v] = true;
            break;
        }
        case 1: {  // */S
            int s = pick(1, std::min(f.hi - f.lo + 1, 13));
            if (i == 0) g.star = true;
            g.text += "*/" + std::to_string(s);
            for (int v = f.lo; v <= f.star_hi; v += s) g.set[v] = true;
            break;
        }
        case 2: {  // A-B
            int a = pick(f.lo, f.hi), b = pick(a, f.hi);
            g.text += value_text(a) + "-" + value_text(b);
            for (int v = a; v <= b; ++v) g.set[v] = true;
            break;
        }
        case 3: {  // A-B/S
            int a = pick(f.lo, f.hi), b = pick(a, f.hi), s = pick(1, 7);
            g.text += value_text(a) + "-" + value_text(b) + "/" + std::to_string(s);
            for (int v = a; v <= b; v += s) g.set[v] = true;
            break;
        }
        case 4: {  // N/S
            int a = pick(f.lo, f.hi), s = pick(1, std::min(9, f.star_hi));
            g.text += std::to_string(a) + "/" + std::to_string(s);
            for (int v = a; v <= f.star_hi; v += s) g.set[v] = true;
            break;
        }
        default: {  // N
            int a = pick(f.lo, f.hi);
            g.text += value_text(a);
            g.set[a] = true;
        }
        }
    }
    if (f.star_hi == 7 && g.set[7]) g.set[0] = true;
    return g;
}

}  // namespace

BOOST_AUTO_TEST_CASE(property_random_expressions_match_brute_force)
{
    using namespace std::chrono;
    std::mt19937 rng(test_seed(20251123));
    const field_gen gens[] = {{0, 59, 59, nullptr}, {0, 23, 23, nullptr}, {1, 31, 31, nullptr},
                              {1, 12, 12, month_names}, {0, 6, 7, day_names}};
    int checked = 0, rejected = 0, fired_far = 0;
    while (checked < 2000) {
        generated_field g[5];
        for (int i = 0; i < 5; ++i) g[i] = generate(gens[i], rng);
        std::string text = g[0].text + " " + g[1].text + " " + g[2].text + " " + g[3].text + " " +
                           g[4].text;
        auto s = schedule::parse(text, "UTC");
        if (!s) {
            // Only expressions whose days never exist may be refused.
            BOOST_TEST_REQUIRE(s.error().message.find("never fires") != std::string::npos,
                               text << ": " << s.error().message);
            ++rejected;
            continue;
        }
        auto matches = [&](sys_seconds t) {
            auto day = floor<days>(t);
            year_month_day ymd{day};
            auto hm = hh_mm_ss{t - day};
            bool dom = g[2].set[static_cast<unsigned>(ymd.day())];
            bool dow = g[4].set[weekday{day}.c_encoding()];
            bool day_ok = (g[2].star || g[4].star) ? dom && dow : dom || dow;
            return hm.seconds().count() == 0 && g[0].set[hm.minutes().count()] &&
                   g[1].set[hm.hours().count()] && g[3].set[static_cast<unsigned>(ymd.month())] &&
                   day_ok;
        };
        auto t = sys_seconds{seconds{std::uniform_int_distribution<long long>(
            946684800LL, 2208988800LL)(rng)}};  // 2000 .. 2040
        auto next = s->next_after(t);
        BOOST_TEST_REQUIRE((next > t), text << " after " << utc(t));
        BOOST_TEST_REQUIRE(matches(next), text << " after " << utc(t) << " gave " << utc(next));
        // No matching minute in between: skip whole days that cannot match, then minutes.
        auto cur = floor<minutes>(t) + minutes{1};
        while (cur < next) {
            auto day = floor<days>(cur);
            year_month_day ymd{day};
            bool dom = g[2].set[static_cast<unsigned>(ymd.day())];
            bool dow = g[4].set[weekday{day}.c_encoding()];
            bool day_ok = (g[2].star || g[4].star) ? dom && dow : dom || dow;
            if (!day_ok || !g[3].set[static_cast<unsigned>(ymd.month())]) {
                cur = day + days{1};
                continue;
            }
            BOOST_TEST_REQUIRE(!matches(cur), text << " after " << utc(t) << " gave " << utc(next)
                                                   << " but " << utc(cur) << " matches");
            cur += minutes{1};
        }
        if (next - t > days{366}) ++fired_far;
        ++checked;
    }
    BOOST_TEST_MESSAGE("checked " << checked << ", rejected " << rejected << ", far " << fired_far);
    BOOST_TEST(rejected < 400);
}

// The same in zones with daylight saving, with instants shortly before a transition.
// The oracle walks UTC minutes and applies the rules directly: a minute fires when its local
// time matches and is that local time's first occurrence, or when it ends a gap that skipped
// a matching local time.
BOOST_AUTO_TEST_CASE(property_dst_zones_match_brute_force)
{
    using namespace std::chrono;
    std::mt19937 rng(test_seed(4242));
    const field_gen gens[] = {{0, 59, 59, nullptr}, {0, 23, 23, nullptr}, {1, 31, 31, nullptr},
                              {1, 12, 12, month_names}, {0, 6, 7, day_names}};
    const char* zones[] = {"Europe/Berlin", "America/New_York", "Australia/Sydney",
                           "Australia/Lord_Howe", "Pacific/Chatham", "Asia/Kolkata"};
    int checked = 0, fired_at_gap_end = 0;
    while (checked < 800) {
        generated_field g[5];
        for (int i = 0; i < 5; ++i) g[i] = generate(gens[i], rng);
        // Two out of three times, fire often (every day, a few hours) so the window sees fires.
        if (rng() % 3 != 0) {
            g[2] = generated_field{"*", std::vector<bool>(32, true), true};
            g[3] = generated_field{"*", std::vector<bool>(13, true), true};
        }
        // Half the time, hours around 02:00 and any weekday, where the gaps and folds are.
        if (rng() % 2 == 0) {
            g[1] = rng() % 2 ? generated_field{"2", std::vector<bool>(24, false), false}
                             : generated_field{"1-3", std::vector<bool>(24, false), false};
            for (int h = g[1].text == "2" ? 2 : 1; h <= (g[1].text == "2" ? 2 : 3); ++h) g[1].set[h] = true;
            g[4] = generated_field{"*", std::vector<bool>(8, true), true};
        }
        std::string text = g[0].text + " " + g[1].text + " " + g[2].text + " " + g[3].text + " " +
                           g[4].text;
        const char* zone_name = zones[rng() % std::size(zones)];
        auto s = schedule::parse(text, zone_name);
        if (!s) continue;
        const auto* zone = date::locate_zone(zone_name);

        auto local_matches = [&](date::local_seconds l) {
            auto day = floor<days>(l);
            year_month_day ymd{sys_days{day.time_since_epoch()}};
            hh_mm_ss hm{l - day};
            bool dom = g[2].set[static_cast<unsigned>(ymd.day())];
            bool dow = g[4].set[weekday{sys_days{day.time_since_epoch()}}.c_encoding()];
            bool day_ok = (g[2].star || g[4].star) ? dom && dow : dom || dow;
            return hm.seconds().count() == 0 && g[0].set[hm.minutes().count()] &&
                   g[1].set[hm.hours().count()] && g[3].set[static_cast<unsigned>(ymd.month())] &&
                   day_ok;
        };
        bool gap_end = false;
        auto oracle = [&](sys_seconds u) {
            gap_end = false;
            auto info = zone->get_info(u);
            date::local_seconds l{(u + info.offset).time_since_epoch()};
            if (local_matches(l)) {
                auto li = zone->get_info(l);
                bool second_occurrence = li.result == date::local_info::ambiguous &&
                                         u != sys_seconds{(l - li.first.offset).time_since_epoch()};
                if (!second_occurrence) return true;
            }
            if (info.begin == u) {
                auto before = zone->get_info(u - seconds{1});
                for (auto m = l - (info.offset - before.offset); m < l; m += minutes{1})
                    if (local_matches(m)) return gap_end = true;
            }
            return false;
        };

        auto t = sys_seconds{seconds{std::uniform_int_distribution<long long>(
            978307200LL, 2208988800LL)(rng)}};  // 2001 .. 2040
        auto info = zone->get_info(t);
        if (info.end - t < days{400})
            t = info.end - seconds{std::uniform_int_distribution<long long>(
                                0, rng() % 4 ? 2 * 3600 : 2 * 86400)(rng)};

        auto next = s->next_after(t);
        BOOST_TEST_REQUIRE((next > t), text << " " << zone_name << " after " << utc(t));
        BOOST_TEST_REQUIRE(oracle(next),
                           text << " " << zone_name << " after " << utc(t) << " gave " << utc(next));
        fired_at_gap_end += gap_end;
        for (auto u = floor<minutes>(t) + minutes{1}; u < next && u < t + days{1}; u += minutes{1})
            BOOST_TEST_REQUIRE(!oracle(u), text << " " << zone_name << " after " << utc(t)
                                                << " gave " << utc(next) << " but " << utc(u)
                                                << " fires");
        ++checked;
    }
    BOOST_TEST_MESSAGE("checked " << checked << ", at a gap end " << fired_at_gap_end);
    BOOST_TEST(fired_at_gap_end > 10);
}
