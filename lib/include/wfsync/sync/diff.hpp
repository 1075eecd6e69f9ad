// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <wfsync/sync/normalize.hpp>

#include <string>
#include <vector>

namespace wfsync::sync {

/// A readable structural diff from `from` to `to`, one line per change, for `wfsync plan`:
///
///     ~ workflow: description: "" -> "Nightly"
///     - task "Old step" (Email)
///     + task "Send reminder" (Email)
///     ~ task "Check balance" (If): parameters.condition: "a > 1" -> "a > 2"
///     ~ linkage removed: "A" -> "C" (Success)
///     ~ linkage added: "A" -> "B" (Success)
///
/// Zuora tasks are matched by (name, action_type), falling back to their reference.
/// Values are shortened to about 60 characters; values under keys that look secret
/// (password, secret, token, api_key, authorization, ...) print as "(changed)".
/// Files other than a Zuora export are compared as generic JSON (paths prefixed with the
/// file name) or, when not JSON, by size only. The order of lines is deterministic; equal
/// packages give no lines.
std::vector<std::string> diff_packages(const normalized_package& from, const normalized_package& to);

}  // namespace wfsync::sync
