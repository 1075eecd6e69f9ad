// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <wfsync/core/error.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace wfsync {

using milliseconds = std::chrono::milliseconds;

/// Parses a duration written as a number and a unit: `500ms`, `30s`, `5m`, `2h`, `1d`,
/// or several joined (`1h30m`). No sign, no bare numbers.
[[nodiscard]] result<milliseconds> parse_duration(std::string_view text);

/// Formats a duration the way parse_duration reads it, exactly (`90min` -> "90m",
/// `1500ms` -> "1500ms"): parse_duration(format_duration(d)) == d.
std::string format_duration(milliseconds d);

/// "2026-11-23T15:04:05Z": a time in UTC, whole seconds (status, logs, what to look up in a UI).
std::string format_iso_utc(std::chrono::system_clock::time_point t);
/// The same for seconds since the Unix epoch.
std::string format_iso_utc(std::int64_t unix_seconds);

/// Reads a time given by a user (restore --at): "2026-11-20T10:00:00Z", "2026-11-20T10:00:00"
/// (UTC) or "2026-11-20" (the end of that day, UTC), exactly these digits, a real date, years
/// 1970-2261. nullopt when it is none of these.
std::optional<std::chrono::system_clock::time_point> parse_iso_utc(std::string_view text);

}  // namespace wfsync
