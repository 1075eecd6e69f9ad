// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <wfsync/net/http.hpp>

#include <chrono>
#include <optional>
#include <string_view>

namespace wfsync::net {

/// The longest wait a hint may ask for. Longer values are clamped here, before any
/// arithmetic, so a hostile `Retry-After: 99999999999999999999` cannot overflow; callers
/// cap further at their own max_backoff.
inline constexpr std::chrono::milliseconds max_retry_hint = std::chrono::hours(24);

/// Retry-After (RFC 9110 10.2.3): delta-seconds or an IMF-fixdate, read against `now`.
/// nullopt when the value is neither; a date in the past is 0.
std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value,
                                                           std::chrono::system_clock::time_point now);

/// The minimum wait a server asked for in an answer: the longer of Retry-After and
/// RateLimit-Reset (delta-seconds), clamped to max_retry_hint; nullopt when it asked none.
std::optional<std::chrono::milliseconds> server_wait_hint(const header_list& headers,
                                                          std::chrono::system_clock::time_point now);

}  // namespace wfsync::net
