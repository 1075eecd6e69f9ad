// SPDX-License-Identifier: Apache-2.0
// Which archived versions to keep: restic `forget` rules, pure (no clock, no I/O).
#pragma once

#include <wfsync/core/error.hpp>

#include <chrono>
#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace wfsync::archive {

/// How many snapshots (archived versions of one workflow) to keep, as restic's
/// `forget --keep-*`. 0 = that rule keeps nothing; -1 = unlimited (restic's "unlimited").
struct retention_policy {
    int keep_last = 0;
    int keep_hourly = 0;
    int keep_daily = 0;
    int keep_weekly = 0;
    int keep_monthly = 0;
    int keep_yearly = 0;

    /// No rule set: everything is kept (restic refuses such a forget; we keep all).
    bool empty() const noexcept
    {
        return keep_last == 0 && keep_hourly == 0 && keep_daily == 0 && keep_weekly == 0 &&
               keep_monthly == 0 && keep_yearly == 0;
    }
    bool operator==(const retention_policy&) const = default;
};

/// The verdict for one snapshot.
struct keep_decision {
    std::size_t index = 0;  ///< position in the input vector
    bool keep = false;
    /// Every rule that keeps it, in this order and format:
    /// "last", "hourly 2026-03-29 02h", "daily 2026-03-29", "weekly 2026-W13",
    /// "monthly 2026-03", "yearly 2026" (bucket labels in local time of the zone; weeks are
    /// ISO 8601 weeks with their ISO year). Empty for an empty policy and for removals.
    std::vector<std::string> reasons;
};

/// Applies `policy` to snapshot times given in any order, with restic's semantics:
/// - snapshots are processed newest first (equal instants: the one later in the input
///   counts as newer, so for catalogue rows in id order the newest row wins);
/// - keep_last N keeps the N newest;
/// - for each bucket kind (hourly, daily, weekly = ISO week, monthly, yearly) the walk keeps
///   the newest snapshot of each distinct bucket until N buckets have been kept;
/// - a snapshot kept by any rule is kept, and its reasons accumulate;
/// - an empty policy keeps everything (with no reasons).
/// restic >= 0.17 additionally keeps the oldest snapshot when there are fewer buckets than
/// asked for; that extension is NOT applied here.
///
/// Buckets are local wall-clock labels in the IANA zone `timezone` ("" or "UTC" = UTC). A
/// local hour repeated by a fall-back transition is one hourly bucket (same label), and a day
/// with 23 or 25 hours is still one daily bucket.
///
/// Returns one decision per input time, newest first. Errors (invalid_argument): an unknown
/// time zone, a count below -1.
[[nodiscard]] result<std::vector<keep_decision>> apply_retention(
    const std::vector<std::chrono::system_clock::time_point>& times, const retention_policy& policy,
    std::string_view timezone = "UTC");

/// Checks a policy (counts >= -1); the error names the offending field.
[[nodiscard]] result<void> validate(const retention_policy& policy);

/// The policy of a config's `retention:` map (keep_last, keep_hourly, ...; absent keys are 0).
retention_policy retention_from(const std::map<std::string, int>& keys);

}  // namespace wfsync::archive
