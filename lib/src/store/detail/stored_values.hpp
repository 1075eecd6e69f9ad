// SPDX-License-Identifier: Apache-2.0
#pragma once
// What both backends (sqlite_store.cpp, pg_store.cpp) read back and stamp the same way.

#include <wfsync/core/error.hpp>
#include <wfsync/store/store.hpp>

#include <cstddef>
#include <string_view>

namespace wfsync::store::detail {

/// Inflating a stored package never produces more than this (a corrupt blob or a bomb).
inline constexpr std::size_t max_package_bytes = std::size_t{256} << 20;

/// Seconds since the epoch, as every row's time is kept.
unix_time now() noexcept;

/// A stored state name back to its enum; an unknown one is a damaged row (errc::store).
[[nodiscard]] result<intent_state> parse_intent_state(std::string_view s);
[[nodiscard]] result<job_state> parse_job_state(std::string_view s);

}  // namespace wfsync::store::detail
