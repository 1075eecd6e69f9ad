// SPDX-License-Identifier: Apache-2.0
// Retention (restic forget semantics), table-driven. Times in the tables are UTC; the
// comments give the local time where the zone matters.
#include <wfsync/archive/retention.hpp>

#include <boost/test/unit_test.hpp>

#include <date/date.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>
#include <stdexcept>

using namespace wfsync;
using archive::retention_policy;
using clock_tp = std::chrono::system_clock::time_point;

namespace {

/// "YYYY-MM-DD HH:MM" (UTC) -> time point.
clock_tp utc(const std::string& s)
{
    int y = 0, mo = 0, d = 0, h = 0, mi = 0;
    if (std::sscanf(s.c_str(), "%d-%d-%d %d:%d", &y, &mo, &d, &h, &mi) != 5)
        throw std::invalid_argument("bad test time " + s);
    auto day = date::sys_days{date::year{y} / static_cast<unsigned>(mo) / static_cast<unsigned>(d)};
    return clock_tp{day + std::chrono::hours{h} + std::chrono::minutes{mi}};
}

retention_policy last(int n) { return {.keep_last = n}; }
retention_policy hourly(int n) { return {.keep_hourly = n}; }
retention_policy daily(int n) { return {.keep_daily = n}; }
retention_policy weekly(int n) { return {.keep_weekly = n}; }
retention_policy monthly(int n) { return {.keep_monthly = n}; }
retention_policy yearly(int n) { return {.keep_yearly = n}; }

struct retention_case {
    const char* name;
    const char* tz;
    retention_policy policy;
    std::vector<std::string> times;
    std::set<std::size_t> kept;                                  ///< input indices
    std::map<std::size_t, std::vector<std::string>> reasons = {};  ///< checked when given
};

const std::vector<retention_case> cases = {
    // ---- empty input and empty policy
    {"no snapshots", "UTC", last(3), {}, {}},
    {"empty policy keeps all", "UTC", {}, {"2026-01-01 10:00", "2026-01-02 10:00", "2026-01-03 10:00"},
     {0, 1, 2}, {{0, {}}, {1, {}}, {2, {}}}},
    {"empty policy in a zone keeps all", "Europe/Berlin", {}, {"2026-03-29 01:00", "2026-03-29 01:00"},
     {0, 1}},

    // ---- keep_last
    {"last 1 of 3", "UTC", last(1), {"2026-01-01 10:00", "2026-01-02 10:00", "2026-01-03 10:00"},
     {2}, {{2, {"last"}}}},
    {"last 3 of 5", "UTC", last(3),
     {"2026-01-01 10:00", "2026-01-02 10:00", "2026-01-03 10:00", "2026-01-04 10:00", "2026-01-05 10:00"},
     {2, 3, 4}},
    {"last 10 of 3 keeps all", "UTC", last(10), {"2026-01-01 10:00", "2026-01-02 10:00", "2026-01-03 10:00"},
     {0, 1, 2}},
    {"last unlimited", "UTC", last(-1), {"2026-01-01 10:00", "2020-01-02 10:00"}, {0, 1},
     {{0, {"last"}}, {1, {"last"}}}},
    {"last 2 of unsorted input", "UTC", last(2),
     {"2026-01-03 10:00", "2026-01-01 10:00", "2026-01-05 10:00", "2026-01-02 10:00"}, {0, 2}},
    {"last 0 alone with another rule 0 keeps nothing extra", "UTC", {.keep_last = 0, .keep_yearly = 1},
     {"2026-01-01 10:00", "2026-05-01 10:00"}, {1}, {{1, {"yearly 2026"}}}},

    // ---- hourly
    {"hourly 2", "UTC", hourly(2),
     {"2026-03-10 10:05", "2026-03-10 10:40", "2026-03-10 11:10", "2026-03-10 11:50", "2026-03-10 12:30"},
     {3, 4}, {{4, {"hourly 2026-03-10 12h"}}, {3, {"hourly 2026-03-10 11h"}}}},
    {"hourly unlimited keeps the newest of each hour", "UTC", hourly(-1),
     {"2026-03-10 10:05", "2026-03-10 10:40", "2026-03-10 11:10", "2026-03-10 11:50", "2026-03-10 12:30"},
     {1, 3, 4}},
    {"hourly 1 of one per hour", "UTC", hourly(1),
     {"2026-03-10 10:00", "2026-03-10 11:00", "2026-03-10 12:00"}, {2}},
    {"hourly skips empty hours", "UTC", hourly(3),
     {"2026-03-10 01:00", "2026-03-10 05:00", "2026-03-10 05:30", "2026-03-10 09:59", "2026-03-11 00:00"},
     {2, 3, 4}},

    // ---- daily
    {"daily 2 of three days", "UTC", daily(2),
     {"2026-03-01 08:00", "2026-03-01 18:00", "2026-03-02 08:00", "2026-03-02 18:00", "2026-03-03 08:00",
      "2026-03-03 18:00"},
     {3, 5}, {{5, {"daily 2026-03-03"}}, {3, {"daily 2026-03-02"}}}},
    {"daily 3 with gaps", "UTC", daily(3),
     {"2026-03-01 12:00", "2026-03-05 12:00", "2026-03-09 12:00", "2026-03-10 09:00", "2026-03-10 12:00"},
     {1, 2, 4}},
    {"daily unsorted input", "UTC", daily(2),
     {"2026-03-02 18:00", "2026-03-03 08:00", "2026-03-01 08:00", "2026-03-03 18:00", "2026-03-02 08:00"},
     {0, 3}},
    {"daily uses UTC days in UTC", "UTC", daily(2), {"2026-03-28 23:30", "2026-03-29 12:00"}, {0, 1}},
    {"daily uses local days in Berlin", "Europe/Berlin", daily(2),
     // 2026-03-29 00:30 CET and 2026-03-29 14:00 CEST: the same local day.
     {"2026-03-28 23:30", "2026-03-29 12:00"}, {1}, {{1, {"daily 2026-03-29"}}}},

    // ---- weekly (ISO 8601)
    {"weekly 2", "UTC", weekly(2),
     // Sun 03-29 (W13), Mon 03-23 (W13), Sun 03-22 (W12), Mon 03-16 (W12), Sun 03-15 (W11)
     {"2026-03-29 12:00", "2026-03-23 12:00", "2026-03-22 12:00", "2026-03-16 12:00", "2026-03-15 12:00"},
     {0, 2}, {{0, {"weekly 2026-W13"}}, {2, {"weekly 2026-W12"}}}},
    {"weekly: 2020-12-31 and 2021-01-03 are both 2020-W53", "UTC", weekly(1),
     {"2020-12-31 12:00", "2021-01-03 12:00"}, {1}, {{1, {"weekly 2020-W53"}}}},
    {"weekly across the 2020/2021 boundary", "UTC", weekly(2),
     {"2021-01-04 12:00", "2021-01-03 12:00", "2020-12-31 12:00", "2020-12-27 12:00"}, {0, 1},
     {{0, {"weekly 2021-W01"}}, {1, {"weekly 2020-W53"}}}},
    {"weekly unlimited across the 2020/2021 boundary", "UTC", weekly(-1),
     {"2020-12-27 12:00", "2020-12-28 12:00", "2021-01-03 12:00", "2021-01-04 12:00"}, {0, 2, 3},
     {{0, {"weekly 2020-W52"}}, {2, {"weekly 2020-W53"}}, {3, {"weekly 2021-W01"}}}},
    {"weekly: 2024-12-30 is 2025-W01", "UTC", weekly(2), {"2024-12-29 12:00", "2024-12-30 12:00"},
     {0, 1}, {{0, {"weekly 2024-W52"}}, {1, {"weekly 2025-W01"}}}},
    {"weekly: 2027-01-01 is 2026-W53", "UTC", weekly(1), {"2027-01-01 12:00"}, {0},
     {{0, {"weekly 2026-W53"}}}},
    {"weekly: 2015-12-31 is 2015-W53", "UTC", weekly(1), {"2015-12-31 12:00"}, {0},
     {{0, {"weekly 2015-W53"}}}},
    {"weekly and yearly disagree on the year at new year", "UTC", {.keep_weekly = 1, .keep_yearly = 1},
     {"2021-01-02 12:00"}, {0}, {{0, {"weekly 2020-W53", "yearly 2021"}}}},
    {"weekly in Berlin: Sunday 23:30 CEST vs Monday 00:30 CEST", "Europe/Berlin", weekly(-1),
     {"2026-03-29 21:30", "2026-03-29 22:30"}, {0, 1},
     {{0, {"weekly 2026-W13"}}, {1, {"weekly 2026-W14"}}}},
    {"weekly in UTC: the same two instants are one Sunday", "UTC", weekly(-1),
     {"2026-03-29 21:30", "2026-03-29 22:30"}, {1}, {{1, {"weekly 2026-W13"}}}},

    // ---- monthly and yearly
    {"monthly 3", "UTC", monthly(3),
     {"2026-01-05 12:00", "2026-01-25 12:00", "2026-02-05 12:00", "2026-02-25 12:00", "2026-03-05 12:00",
      "2026-04-05 12:00", "2026-04-25 12:00"},
     {3, 4, 6}, {{6, {"monthly 2026-04"}}, {4, {"monthly 2026-03"}}, {3, {"monthly 2026-02"}}}},
    {"monthly across a year boundary", "UTC", monthly(2), {"2025-12-31 23:00", "2026-01-01 00:30"}, {0, 1},
     {{0, {"monthly 2025-12"}}, {1, {"monthly 2026-01"}}}},
    {"yearly 2", "UTC", yearly(2),
     {"2024-06-01 12:00", "2025-02-01 12:00", "2025-11-01 12:00", "2026-01-10 12:00"}, {2, 3},
     {{3, {"yearly 2026"}}, {2, {"yearly 2025"}}}},
    {"yearly 3 with two years keeps two (no oldest extension)", "UTC", yearly(3),
     {"2025-06-01 12:00", "2025-03-01 12:00", "2026-01-01 12:00"}, {0, 2}},
    {"yearly in Berlin: 23:30Z on Dec 31 is already next year", "Europe/Berlin", yearly(-1),
     // 2025-12-31 23:30 CET and 2026-01-01 00:30 CET
     {"2025-12-31 22:30", "2025-12-31 23:30"}, {0, 1},
     {{0, {"yearly 2025"}}, {1, {"yearly 2026"}}}},
    {"yearly in UTC: the same instants are one year", "UTC", yearly(-1),
     {"2025-12-31 22:30", "2025-12-31 23:30"}, {1}, {{1, {"yearly 2025"}}}},

    // ---- Europe/Berlin spring forward: 2026-03-29 02:00 CET -> 03:00 CEST at 01:00Z
    {"DST spring: hourly unlimited has no 02h bucket", "Europe/Berlin", hourly(-1),
     // 01:10 CET, 01:50 CET, 03:10 CEST, 03:50 CEST
     {"2026-03-29 00:10", "2026-03-29 00:50", "2026-03-29 01:10", "2026-03-29 01:50"}, {1, 3},
     {{1, {"hourly 2026-03-29 01h"}}, {3, {"hourly 2026-03-29 03h"}}}},
    {"DST spring: hourly 2 keeps 03h and 01h", "Europe/Berlin", hourly(2),
     // 2026-03-29 00:30 CET, 01:30 CET, 03:30 CEST
     {"2026-03-28 23:30", "2026-03-29 00:30", "2026-03-29 01:30"}, {1, 2},
     {{2, {"hourly 2026-03-29 03h"}}, {1, {"hourly 2026-03-29 01h"}}}},
    {"DST spring: the 23-hour day is one daily bucket", "Europe/Berlin", daily(-1),
     // 03-28 23:59 CET | 03-29 00:00 CET, 03-29 23:59 CEST | 03-30 00:00 CEST
     {"2026-03-28 22:59", "2026-03-28 23:00", "2026-03-29 21:59", "2026-03-29 22:00"}, {0, 2, 3},
     {{0, {"daily 2026-03-28"}}, {2, {"daily 2026-03-29"}}, {3, {"daily 2026-03-30"}}}},
    {"DST spring: hourly 1 and daily 1 on the same snapshot", "Europe/Berlin",
     {.keep_hourly = 1, .keep_daily = 1}, {"2026-03-29 01:30", "2026-03-29 00:30"}, {0},
     {{0, {"hourly 2026-03-29 03h", "daily 2026-03-29"}}}},

    // ---- Europe/Berlin fall back: 2026-10-25 03:00 CEST -> 02:00 CET at 01:00Z
    {"DST autumn: the repeated 02h is one hourly bucket", "Europe/Berlin", hourly(-1),
     // 01:30 CEST, 02:15 CEST, 02:45 CEST, 02:15 CET, 02:45 CET, 03:15 CET
     {"2026-10-24 23:30", "2026-10-25 00:15", "2026-10-25 00:45", "2026-10-25 01:15", "2026-10-25 01:45",
      "2026-10-25 02:15"},
     {0, 4, 5},
     {{0, {"hourly 2026-10-25 01h"}}, {4, {"hourly 2026-10-25 02h"}}, {5, {"hourly 2026-10-25 03h"}}}},
    {"DST autumn: hourly 2 keeps 03h and the last of the 02h hours", "Europe/Berlin", hourly(2),
     {"2026-10-24 23:30", "2026-10-25 00:15", "2026-10-25 00:45", "2026-10-25 01:15", "2026-10-25 01:45",
      "2026-10-25 02:15"},
     {4, 5}},
    {"DST autumn: in UTC the same instants are four hours", "UTC", hourly(-1),
     {"2026-10-24 23:30", "2026-10-25 00:15", "2026-10-25 00:45", "2026-10-25 01:15", "2026-10-25 01:45",
      "2026-10-25 02:15"},
     {0, 2, 4, 5}},
    {"DST autumn: the 25-hour day is one daily bucket", "Europe/Berlin", daily(-1),
     // 10-24 23:59 CEST | 10-25 00:00 CEST, 10-25 23:59 CET | 10-26 00:00 CET
     {"2026-10-24 21:59", "2026-10-24 22:00", "2026-10-25 22:59", "2026-10-25 23:00"}, {0, 2, 3},
     {{0, {"daily 2026-10-24"}}, {2, {"daily 2026-10-25"}}, {3, {"daily 2026-10-26"}}}},
    {"DST autumn: daily 1 keeps the CET half of the day", "Europe/Berlin", daily(1),
     {"2026-10-25 00:30", "2026-10-25 01:30"}, {1}, {{1, {"daily 2026-10-25"}}}},

    // ---- duplicates at the same instant
    {"duplicates: last 1 keeps the later input", "UTC", last(1), {"2026-01-01 10:00", "2026-01-01 10:00"},
     {1}},
    {"duplicates: last 2 keeps both", "UTC", last(2), {"2026-01-01 10:00", "2026-01-01 10:00"}, {0, 1}},
    {"duplicates: daily unlimited keeps one", "UTC", daily(-1),
     {"2026-01-01 10:00", "2026-01-01 10:00", "2026-01-01 10:00"}, {2}, {{2, {"daily 2026-01-01"}}}},

    // ---- combined policies, accumulated reasons
    {"last 1 + daily 2", "UTC", {.keep_last = 1, .keep_daily = 2},
     {"2026-03-01 12:00", "2026-03-02 12:00", "2026-03-03 08:00", "2026-03-03 12:00"}, {1, 3},
     {{3, {"last", "daily 2026-03-03"}}, {1, {"daily 2026-03-02"}}}},
    {"last 2 + daily 2", "UTC", {.keep_last = 2, .keep_daily = 2},
     {"2026-03-01 12:00", "2026-03-02 10:00", "2026-03-03 09:00", "2026-03-03 10:00"}, {1, 2, 3},
     {{3, {"last", "daily 2026-03-03"}}, {2, {"last"}}, {1, {"daily 2026-03-02"}}}},
    {"daily 2 + weekly 2 over 20 days", "UTC", {.keep_daily = 2, .keep_weekly = 2},
     {"2026-03-01 12:00", "2026-03-02 12:00", "2026-03-03 12:00", "2026-03-04 12:00", "2026-03-05 12:00",
      "2026-03-06 12:00", "2026-03-07 12:00", "2026-03-08 12:00", "2026-03-09 12:00", "2026-03-10 12:00",
      "2026-03-11 12:00", "2026-03-12 12:00", "2026-03-13 12:00", "2026-03-14 12:00", "2026-03-15 12:00",
      "2026-03-16 12:00", "2026-03-17 12:00", "2026-03-18 12:00", "2026-03-19 12:00", "2026-03-20 12:00"},
     {14, 18, 19},
     {{19, {"daily 2026-03-20", "weekly 2026-W12"}}, {18, {"daily 2026-03-19"}}, {14, {"weekly 2026-W11"}}}},
    {"monthly 2 + yearly 2", "UTC", {.keep_monthly = 2, .keep_yearly = 2},
     {"2024-10-15 12:00", "2024-11-15 12:00", "2024-12-15 12:00", "2025-10-15 12:00", "2025-11-15 12:00",
      "2025-12-15 12:00", "2026-01-15 12:00", "2026-02-15 12:00"},
     {5, 6, 7},
     {{7, {"monthly 2026-02", "yearly 2026"}}, {6, {"monthly 2026-01"}}, {5, {"yearly 2025"}}}},
    {"every rule keeps the only snapshot", "UTC",
     {.keep_last = 1, .keep_hourly = 1, .keep_daily = 1, .keep_weekly = 1, .keep_monthly = 1, .keep_yearly = 1},
     {"2026-03-29 02:30"}, {0},
     {{0, {"last", "hourly 2026-03-29 02h", "daily 2026-03-29", "weekly 2026-W13", "monthly 2026-03",
           "yearly 2026"}}}},
    {"hourly 2 + daily 2 + last 1 in Berlin autumn", "Europe/Berlin",
     {.keep_last = 1, .keep_hourly = 2, .keep_daily = 2},
     // 10-24 12:00 CEST, 10-25 02:15 CEST, 02:15 CET, 03:15 CET
     {"2026-10-24 10:00", "2026-10-25 00:15", "2026-10-25 01:15", "2026-10-25 02:15"}, {0, 2, 3},
     {{3, {"last", "hourly 2026-10-25 03h", "daily 2026-10-25"}},
      {2, {"hourly 2026-10-25 02h"}},
      {0, {"daily 2026-10-24"}}}},
};

}  // namespace

BOOST_AUTO_TEST_SUITE(retention)

BOOST_AUTO_TEST_CASE(table_has_enough_cases) { BOOST_TEST(cases.size() >= 40u); }

BOOST_AUTO_TEST_CASE(table)
{
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.name)
        {
            std::vector<clock_tp> times;
            for (const auto& t : c.times) times.push_back(utc(t));
            auto r = archive::apply_retention(times, c.policy, c.tz);
            BOOST_TEST_REQUIRE(r.has_value(), (r ? "" : r.error().message));
            BOOST_TEST_REQUIRE(r->size() == times.size());

            // One decision per input, newest first.
            std::set<std::size_t> seen, kept;
            for (std::size_t i = 0; i < r->size(); ++i) {
                const auto& d = (*r)[i];
                seen.insert(d.index);
                if (d.keep) kept.insert(d.index);
                if (!d.keep) BOOST_TEST(d.reasons.empty());
                if (d.keep && !c.policy.empty()) BOOST_TEST(!d.reasons.empty());
                if (i > 0) BOOST_TEST((times[(*r)[i - 1].index] >= times[d.index]));
            }
            BOOST_TEST(seen.size() == times.size());
            BOOST_TEST(kept == c.kept, "kept indices differ");
            for (const auto& [wanted_index, want] : c.reasons) {
                // A copy: clang 14 cannot capture a structured binding in a lambda.
                auto index = wanted_index;
                auto it = std::find_if(r->begin(), r->end(),
                                       [&](const auto& d) { return d.index == index; });
                BOOST_TEST_REQUIRE((it != r->end()));
                BOOST_TEST(it->reasons == want, "reasons of snapshot " << index);
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(unknown_zone_is_an_error)
{
    auto r = archive::apply_retention({utc("2026-01-01 00:00")}, last(1), "Europe/Berln");
    BOOST_TEST_REQUIRE(!r.has_value());
    BOOST_TEST(r.error().code == errc::invalid_argument);
    BOOST_TEST(r.error().message.find("'Europe/Berln'") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(counts_below_minus_one_are_refused)
{
    auto r = archive::apply_retention({utc("2026-01-01 00:00")}, {.keep_weekly = -2}, "UTC");
    BOOST_TEST_REQUIRE(!r.has_value());
    BOOST_TEST(r.error().message.find("keep_weekly is -2") != std::string::npos);
    BOOST_TEST(archive::validate({.keep_daily = 7, .keep_yearly = -1}).has_value());
}

BOOST_AUTO_TEST_CASE(empty_policy_flag)
{
    BOOST_TEST(retention_policy{}.empty());
    BOOST_TEST(!retention_policy{.keep_monthly = 1}.empty());
    BOOST_TEST(!retention_policy{.keep_last = -1}.empty());
}

BOOST_AUTO_TEST_CASE(policy_from_config_keys)
{
    auto p = wfsync::archive::retention_from({{"keep_last", 10}, {"keep_daily", 14}, {"keep_yearly", 2}});
    BOOST_TEST(p.keep_last == 10);
    BOOST_TEST(p.keep_daily == 14);
    BOOST_TEST(p.keep_yearly == 2);
    BOOST_TEST(p.keep_hourly == 0);
    BOOST_TEST(p.keep_weekly == 0);
    BOOST_TEST(p.keep_monthly == 0);
    BOOST_TEST(wfsync::archive::retention_from({}).empty());
}

BOOST_AUTO_TEST_SUITE_END()
