// SPDX-License-Identifier: Apache-2.0
#include <wfsync/schedule/cron.hpp>

#include <wfsync/core/duration.hpp>

#include <date/date.h>
#include <date/tz.h>

#include <fmt/format.h>

#include <array>
#include <bit>
#include <cctype>
#include <charconv>
#include <exception>
#include <optional>
#include <vector>

namespace wfsync::schedule {

namespace {

using std::chrono::minutes;
using std::chrono::seconds;
using std::chrono::sys_seconds;
using local_minutes = date::local_time<minutes>;

struct field_spec {
    int number;  // 1-based position, for messages
    const char* name;
    int lo, hi;  // accepted numbers (day-of-week: 0-7)
    int star_hi;  // upper end of '*' and of 'N/STEP'
    std::array<const char*, 12> words;  // names for lo.., empty when none
};

constexpr field_spec fields[] = {
    {1, "minute", 0, 59, 59, {}},
    {2, "hour", 0, 23, 23, {}},
    {3, "day-of-month", 1, 31, 31, {}},
    {4, "month", 1, 12, 12,
     {"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"}},
    {5, "day-of-week", 0, 7, 7, {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"}},
};

constexpr int month_days_max[13] = {0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

std::string_view trim(std::string_view s)
{
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return s;
}

std::vector<std::string_view> split_ws(std::string_view s)
{
    std::vector<std::string_view> out;
    std::size_t i = 0;
    while (i < s.size()) {
        while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
        std::size_t b = i;
        while (i < s.size() && !std::isspace(static_cast<unsigned char>(s[i]))) ++i;
        if (i > b) out.push_back(s.substr(b, i - b));
    }
    return out;
}

error field_error(const field_spec& f, std::string_view why)
{
    return fail(errc::invalid_argument, fmt::format("field {} ({}): {}", f.number, f.name, why));
}

// One value of a field: a number or, for month and weekday, a name.
result<int> parse_value(const field_spec& f, std::string_view s)
{
    if (s.empty()) return field_error(f, "missing value");
    if (std::isdigit(static_cast<unsigned char>(s[0]))) {
        int v = 0;
        auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
        if (p != s.data() + s.size()) return field_error(f, fmt::format("'{}' is not a number", s));
        if (ec != std::errc{} || v < f.lo || v > f.hi)
            return field_error(f, fmt::format("{} is out of range {}-{}", s, f.lo, f.hi));
        return v;
    }
    if (f.words[0]) {
        if (s.size() == 3) {
            std::string up(s);
            for (auto& c : up) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
            for (int i = 0; i < 12 && f.words[i]; ++i)
                if (up == f.words[i]) return f.lo + i;
        }
        return field_error(f, fmt::format("unknown name '{}' (use {}-{})", s, f.words[0],
                                          f.number == 4 ? "DEC" : "SAT"));
    }
    return field_error(f, fmt::format("'{}' is not a number", s));
}

struct parsed_field {
    std::uint64_t bits = 0;
    bool star = false;  // starts with '*' (cron's rule for combining the day fields)
};

result<parsed_field> parse_field(const field_spec& f, std::string_view text)
{
    parsed_field out;
    out.star = !text.empty() && text[0] == '*';
    std::size_t start = 0;
    for (;;) {
        auto comma = text.find(',', start);
        auto item = text.substr(start, comma == std::string_view::npos ? std::string_view::npos
                                                                        : comma - start);
        if (item.empty()) return field_error(f, fmt::format("empty list item in '{}'", text));
        auto slash = item.find('/');
        auto range = item.substr(0, slash);
        int step = 1;
        if (slash != std::string_view::npos) {
            auto st = item.substr(slash + 1);
            auto [p, ec] = std::from_chars(st.data(), st.data() + st.size(), step);
            if (st.empty() || p != st.data() + st.size())
                return field_error(f, fmt::format("step '{}' is not a number", st));
            if (ec != std::errc{} || step < 1 || step > f.star_hi)
                return field_error(f, fmt::format("step {} is out of range 1-{}", st, f.star_hi));
        }
        int a = 0, b = 0;
        if (range == "*") {
            a = f.lo;
            b = f.star_hi;
        } else {
            auto dash = range.find('-');
            auto first = parse_value(f, range.substr(0, dash));
            if (!first) return first.error();
            a = *first;
            if (dash != std::string_view::npos) {
                auto last = parse_value(f, range.substr(dash + 1));
                if (!last) return last.error();
                b = *last;
                // "FRI-SUN": Sunday as the end of a weekday range is 7.
                if (f.number == 5 && b == 0 && a > 0) b = 7;
                if (b < a)
                    return field_error(f, fmt::format("range '{}' runs backwards", range));
            } else {
                b = slash == std::string_view::npos ? a : f.star_hi;  // "5/10" = "5-max/10"
            }
        }
        for (int v = a; v <= b; v += step) out.bits |= std::uint64_t{1} << v;
        if (comma == std::string_view::npos) break;
        start = comma + 1;
    }
    if (f.number == 5 && (out.bits & (1u << 7))) out.bits = (out.bits | 1u) & 0x7f;  // 7 = Sunday
    return out;
}

// The smallest set bit >= from, or -1.
int next_bit(std::uint64_t bits, int from)
{
    if (from >= 64) return -1;
    std::uint64_t rest = bits & (~std::uint64_t{0} << from);
    return rest ? std::countr_zero(rest) : -1;
}

std::string_view macro_expansion(std::string_view m)
{
    if (m == "@hourly") return "0 * * * *";
    if (m == "@daily" || m == "@midnight") return "0 0 * * *";
    if (m == "@weekly") return "0 0 * * 0";
    if (m == "@monthly") return "0 0 1 * *";
    if (m == "@yearly" || m == "@annually") return "0 0 1 1 *";
    return {};
}

}  // namespace

result<schedule> schedule::parse(std::string_view text, std::string_view timezone)
{
    schedule s;
    s.text_ = std::string(text);

    if (!timezone.empty() && timezone != "UTC") {
        // The OS database knows the zone names; locate_zone throws for unknown ones (and when
        // /usr/share/zoneinfo is missing), which we turn into an error naming the zone.
        try {
            s.zone_ = date::locate_zone(timezone);
        } catch (const std::exception&) {
            return fail(errc::invalid_argument,
                        fmt::format("unknown time zone '{}' (use an IANA name such as Europe/Berlin)",
                                    timezone));
        }
        s.zone_name_ = std::string(timezone);
    }

    auto body = trim(text);
    if (body.empty()) return fail(errc::invalid_argument, "empty schedule");

    if (body[0] == '@') {
        auto words = split_ws(body);
        if (words[0] == "@every") {
            if (words.size() != 2)
                return fail(errc::invalid_argument,
                            fmt::format("'{}': @every needs one duration, e.g. '@every 10m'", body));
            auto d = parse_duration(words[1]);
            if (!d) return fail(errc::invalid_argument, "@every: " + d.error().message);
            if (d->count() <= 0)
                return fail(errc::invalid_argument, "@every: the interval must be greater than zero");
            if (d->count() % 1000 != 0)
                return fail(errc::invalid_argument,
                            fmt::format("@every: the interval '{}' must be whole seconds", words[1]));
            s.every_ = std::chrono::duration_cast<seconds>(*d);
            return s;
        }
        auto expanded = macro_expansion(words[0]);
        if (expanded.empty())
            return fail(errc::invalid_argument,
                        fmt::format("unknown macro '{}' (use @hourly, @daily, @midnight, @weekly, "
                                    "@monthly, @yearly, @annually or @every <duration>)",
                                    words[0]));
        if (words.size() != 1)
            return fail(errc::invalid_argument,
                        fmt::format("'{}': {} takes no arguments", body, words[0]));
        body = expanded;
    }

    auto parts = split_ws(body);
    if (parts.size() != 5)
        return fail(errc::invalid_argument,
                    fmt::format("expected 5 fields (minute hour day-of-month month day-of-week), "
                                "got {} in '{}'",
                                parts.size(), body));
    parsed_field p[5];
    for (int i = 0; i < 5; ++i) {
        auto r = parse_field(fields[i], parts[i]);
        if (!r) return r.error();
        p[i] = *r;
    }
    s.minutes_ = p[0].bits;
    s.hours_ = static_cast<std::uint32_t>(p[1].bits);
    s.days_ = static_cast<std::uint32_t>(p[2].bits);
    s.months_ = static_cast<std::uint16_t>(p[3].bits);
    s.weekdays_ = static_cast<std::uint8_t>(p[4].bits);
    s.dom_star_ = p[2].star;
    s.dow_star_ = p[4].star;

    // When only the day of month decides the day, some month must have one of those days
    // (Feb 29 counts: leap years come), or the schedule would never fire.
    if (!s.dom_star_ && s.dow_star_) {
        bool possible = false;
        for (int m = 1; m <= 12 && !possible; ++m)
            if (s.months_ & (1u << m))
                possible = next_bit(s.days_, 1) != -1 && next_bit(s.days_, 1) <= month_days_max[m];
        if (!possible)
            return fail(errc::invalid_argument,
                        fmt::format("never fires: day-of-month '{}' does not occur in month '{}'",
                                    parts[2], parts[3]));
    }
    return s;
}

sys_seconds schedule::next_after(sys_seconds after) const
{
    if (every_.count() > 0) {
        // Multiples of the interval since the epoch, so restarts keep the grid.
        auto n = after.time_since_epoch().count();
        auto iv = every_.count();
        auto q = n / iv;
        if (n % iv != 0 && n < 0) --q;  // floor for instants before 1970
        if (q + 1 > std::chrono::sys_seconds::max().time_since_epoch().count() / iv) return never;
        return sys_seconds{seconds{(q + 1) * iv}};
    }
    return next_cron(after);
}

sys_seconds schedule::next_cron(sys_seconds after) const
{
    // Beyond year 9999 the calendar arithmetic is not meaningful; nothing fires there.
    constexpr auto last = date::sys_days{date::year{9999} / 12 / 31};
    if (after >= last) return never;
    // Likewise before year 1: start there (every answer is still after `after`).
    constexpr auto first = date::sys_days{date::year{1} / 1 / 1};
    if (after < first) after = first - seconds{1};

    // Local wall-clock time of `after`.
    auto local = zone_ ? zone_->to_local(after) : date::local_seconds{after.time_since_epoch()};

    // The instant a matching local minute fires at: its only occurrence, the first of two
    // (fall-back), or the end of the gap that skips it (spring-forward).
    auto resolve = [&](local_minutes lm) -> sys_seconds {
        date::local_seconds ls = lm;
        if (!zone_) return sys_seconds{ls.time_since_epoch()};
        auto info = zone_->get_info(ls);
        switch (info.result) {
        case date::local_info::nonexistent:
            return info.second.begin;
        case date::local_info::ambiguous:
        case date::local_info::unique:
        default:
            return sys_seconds{ls.time_since_epoch() - info.first.offset};
        }
    };

    // resolve() never decreases as the local time grows, and every matching local time at or
    // before `local` resolves to at most `after`; so walk matching local minutes from the
    // next one until one resolves after `after` (more than one step only inside a fold).
    auto lm = date::floor<minutes>(local) + minutes{1};
    // Every day parse() accepts recurs within 40 years (Feb 29 on a given weekday, across a
    // century that is not a leap year); the 400-year Gregorian cycle bounds the search anyway.
    auto limit = date::year_month_day{date::floor<date::days>(lm)}.year() + date::years{400};

    for (;;) {
        // Smallest matching local minute >= lm, skipping whole months, days and hours.
        auto day = date::floor<date::days>(lm);
        int h = static_cast<int>(date::floor<std::chrono::hours>(lm - day).count());
        int m = static_cast<int>((lm - day - std::chrono::hours{h}).count());
        std::optional<local_minutes> found;
        while (!found) {
            date::year_month_day ymd{day};
            if (ymd.year() > limit) return never;
            unsigned mon = static_cast<unsigned>(ymd.month());
            if (!(months_ & (1u << mon))) {
                int nm = next_bit(months_, static_cast<int>(mon) + 1);
                auto y = ymd.year();
                if (nm == -1) {
                    y += date::years{1};
                    nm = next_bit(months_, 1);
                }
                day = date::local_days{y / date::month{static_cast<unsigned>(nm)} / 1};
                h = m = 0;
                continue;
            }
            unsigned dom = static_cast<unsigned>(ymd.day());
            unsigned wd = date::weekday{day}.c_encoding();
            bool dom_ok = days_ & (1u << dom);
            bool dow_ok = weekdays_ & (1u << wd);
            bool day_ok = (dom_star_ || dow_star_) ? (dom_ok && dow_ok) : (dom_ok || dow_ok);
            if (!day_ok) {
                day += date::days{1};
                h = m = 0;
                continue;
            }
            int nh = next_bit(hours_, h);
            if (nh == -1) {
                day += date::days{1};
                h = m = 0;
                continue;
            }
            if (nh != h) {
                h = nh;
                m = 0;
            }
            int nmin = next_bit(minutes_, m);
            if (nmin == -1) {
                m = 0;
                if (++h == 24) {
                    day += date::days{1};
                    h = 0;
                }
                continue;
            }
            found = local_minutes{day} + std::chrono::hours{h} + minutes{nmin};
        }
        auto at = resolve(*found);
        if (at > after) return at;
        lm = *found + minutes{1};
    }
}

}  // namespace wfsync::schedule
