// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <wfsync/core/error.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace date {
class time_zone;  // Howard Hinnant's date/tz; kept out of this header (linked PRIVATE)
}

namespace wfsync::schedule {

/// When a rule runs: a cron expression or `@every` interval, in an IANA time zone.
///
/// Accepted text:
/// - 5-field cron `minute hour day-of-month month day-of-week`. Each field is a comma list of
///   `*`, `N`, `A-B`, each optionally followed by `/STEP`; `N/STEP` means `N-max/STEP`.
///   Months `JAN`-`DEC` and weekdays `SUN`-`SAT` by name (any case); 0 and 7 are Sunday, and
///   a weekday range may end on Sunday (`FRI-SUN`, `5-7`).
///   As in Vixie cron and cronie: when both day fields are restricted (neither starts with
///   `*`), a day matching EITHER fires; otherwise both must match.
/// - `@hourly`, `@daily` (`@midnight`), `@weekly`, `@monthly`, `@yearly` (`@annually`).
/// - `@every <duration>` (see parse_duration), whole seconds: fires at the multiples of the
///   interval since 1970-01-01 UTC, so a restart keeps the same grid. Time zones and
///   daylight saving do not affect it.
///
/// Cron fields match local time in the schedule's zone. Daylight saving is handled like
/// cron: a local time skipped by a spring-forward gap fires once, at the first instant after
/// the gap; a local time repeated by a fall-back fires once, at its first occurrence.
///
/// Parsed once, immutable, cheap to copy, safe to share between threads.
class schedule {
public:
    /// Returned by next_after when nothing fires any more: parse() refuses expressions that
    /// can never fire, so this is only reached for instants near the end of year 9999.
    static constexpr std::chrono::sys_seconds never = std::chrono::sys_seconds::max();

    /// Parses `text` for the IANA zone `timezone` ("" means UTC). Errors (invalid_argument)
    /// name the problem and where: "field 2 (hour): 25 is out of range 0-23",
    /// "unknown time zone 'Europe/Berln'", "never fires: day-of-month '30' ...".
    [[nodiscard]] static result<schedule> parse(std::string_view text,
                                                std::string_view timezone = "UTC");

    /// The first fire time strictly after `after`, or `never`.
    std::chrono::sys_seconds next_after(std::chrono::sys_seconds after) const;

    /// The text as given to parse().
    std::string_view text() const noexcept { return text_; }

    /// The zone name ("UTC" when none was given).
    std::string_view timezone() const noexcept { return zone_name_; }

    /// For `@every`: the interval in seconds; 0 for cron expressions.
    std::chrono::seconds interval() const noexcept { return every_; }

private:
    schedule() = default;

    std::chrono::sys_seconds next_cron(std::chrono::sys_seconds after) const;

    std::string text_;
    std::string zone_name_ = "UTC";
    const date::time_zone* zone_ = nullptr;  // null for UTC: no lookups needed
    std::chrono::seconds every_{0};
    // One bit per allowed value.
    std::uint64_t minutes_ = 0;   // 0-59
    std::uint32_t hours_ = 0;     // 0-23
    std::uint32_t days_ = 0;      // 1-31
    std::uint16_t months_ = 0;    // 1-12
    std::uint8_t weekdays_ = 0;   // 0-6, Sunday = 0
    bool dom_star_ = false;       // the day-of-month field starts with '*'
    bool dow_star_ = false;       // the day-of-week field starts with '*'
};

}  // namespace wfsync::schedule
