// SPDX-License-Identifier: Apache-2.0
#include <wfsync/archive/retention.hpp>

#include <date/date.h>
#include <date/iso_week.h>
#include <date/tz.h>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <exception>
#include <numeric>

namespace wfsync::archive {
namespace {

using clock = std::chrono::system_clock;

/// A snapshot's local calendar position, computed once.
struct local_parts {
    int year = 0;
    unsigned month = 0;
    unsigned day = 0;
    int hour = 0;
    int iso_year = 0;
    unsigned iso_week = 0;
};

local_parts parts_of(clock::time_point t, const date::time_zone* zone)
{
    const auto secs = date::floor<std::chrono::seconds>(t);
    // local_seconds and sys_seconds share the representation; only the meaning differs.
    const date::local_seconds local =
        zone ? zone->to_local(secs) : date::local_seconds{secs.time_since_epoch()};
    const auto day = date::floor<date::days>(local);
    const date::year_month_day ymd{day};
    // iso_week works on sys_days; the local day number is the calendar day we want.
    const iso_week::year_weeknum_weekday iw{date::sys_days{day.time_since_epoch()}};
    local_parts p;
    p.year = static_cast<int>(ymd.year());
    p.month = static_cast<unsigned>(ymd.month());
    p.day = static_cast<unsigned>(ymd.day());
    p.hour = static_cast<int>(date::floor<std::chrono::hours>(local - day).count());
    p.iso_year = static_cast<int>(iw.year());
    p.iso_week = static_cast<unsigned>(iw.weeknum());
    return p;
}

enum class bucket { hourly, daily, weekly, monthly, yearly };

std::string label(bucket b, const local_parts& p)
{
    switch (b) {
    case bucket::hourly: return fmt::format("hourly {:04}-{:02}-{:02} {:02}h", p.year, p.month, p.day, p.hour);
    case bucket::daily: return fmt::format("daily {:04}-{:02}-{:02}", p.year, p.month, p.day);
    case bucket::weekly: return fmt::format("weekly {:04}-W{:02}", p.iso_year, p.iso_week);
    case bucket::monthly: return fmt::format("monthly {:04}-{:02}", p.year, p.month);
    case bucket::yearly: return fmt::format("yearly {:04}", p.year);
    }
    return {};
}

}  // namespace

result<void> validate(const retention_policy& p)
{
    const std::array<std::pair<const char*, int>, 6> fields{{{"keep_last", p.keep_last},
                                                             {"keep_hourly", p.keep_hourly},
                                                             {"keep_daily", p.keep_daily},
                                                             {"keep_weekly", p.keep_weekly},
                                                             {"keep_monthly", p.keep_monthly},
                                                             {"keep_yearly", p.keep_yearly}}};
    for (const auto& [name, value] : fields)
        if (value < -1)
            return fail(errc::invalid_argument,
                        fmt::format("retention {} is {}: use a count >= 0, or -1 for unlimited",
                                    name, value));
    return {};
}

result<std::vector<keep_decision>> apply_retention(const std::vector<clock::time_point>& times,
                                                   const retention_policy& policy,
                                                   std::string_view timezone)
{
    if (auto r = validate(policy); !r) return r.error();
    const date::time_zone* zone = nullptr;
    if (!timezone.empty() && timezone != "UTC") {
        try {
            zone = date::locate_zone(timezone);
        } catch (const std::exception&) {
            return fail(errc::invalid_argument,
                        fmt::format("retention: unknown time zone '{}' (use an IANA name such as "
                                    "Europe/Berlin)",
                                    timezone));
        }
    }

    // Newest first; among equal instants the later input position is the newer snapshot.
    std::vector<std::size_t> order(times.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
        if (times[a] != times[b]) return times[a] > times[b];
        return a > b;
    });

    std::vector<keep_decision> out;
    out.reserve(times.size());
    for (std::size_t i : order) out.push_back(keep_decision{i, policy.empty(), {}});
    if (policy.empty()) return out;

    struct counter {
        bucket kind;
        int left;  // -1 = unlimited
        std::string last;
    };
    std::array<counter, 5> buckets{{{bucket::hourly, policy.keep_hourly, {}},
                                    {bucket::daily, policy.keep_daily, {}},
                                    {bucket::weekly, policy.keep_weekly, {}},
                                    {bucket::monthly, policy.keep_monthly, {}},
                                    {bucket::yearly, policy.keep_yearly, {}}}};

    for (std::size_t nr = 0; nr < out.size(); ++nr) {
        auto& d = out[nr];
        if (policy.keep_last == -1 || nr < static_cast<std::size_t>(std::max(policy.keep_last, 0))) {
            d.keep = true;
            d.reasons.emplace_back("last");
        }
        const local_parts p = parts_of(times[d.index], zone);
        for (auto& b : buckets) {
            if (b.left == 0) continue;
            std::string l = label(b.kind, p);
            // Walking newest first, the first snapshot seen in a bucket is its newest.
            if (l == b.last) continue;
            d.keep = true;
            d.reasons.push_back(l);
            b.last = std::move(l);
            if (b.left > 0) --b.left;
        }
    }
    return out;
}

retention_policy retention_from(const std::map<std::string, int>& keys)
{
    auto get = [&](const char* k) {
        auto it = keys.find(k);
        return it == keys.end() ? 0 : it->second;
    };
    retention_policy p;
    p.keep_last = get("keep_last");
    p.keep_hourly = get("keep_hourly");
    p.keep_daily = get("keep_daily");
    p.keep_weekly = get("keep_weekly");
    p.keep_monthly = get("keep_monthly");
    p.keep_yearly = get("keep_yearly");
    return p;
}

}  // namespace wfsync::archive
