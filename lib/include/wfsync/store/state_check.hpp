// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <wfsync/core/error.hpp>

#include <cstddef>
#include <string>
#include <vector>

namespace wfsync::store {

/// What PRAGMA integrity_check found in a state database.
struct integrity_report {
    /// Empty: the database is sound. Else SQLite's lines, at most the `max_lines` asked for.
    std::vector<std::string> problems;
    /// More problems were found than are listed.
    bool more = false;
    bool ok() const noexcept { return problems.empty(); }
};

/// Runs the full PRAGMA integrity_check on the state database at `path`, through a read-only
/// connection: it takes no lock of wfsync's, changes nothing, and works beside a running
/// daemon (WAL: it reads a snapshot while the daemon writes). A file too damaged to be read
/// at all is reported as a problem. Errors are for what keeps the check from running: the file
/// missing or not a regular file (errc::io), access refused (errc::permission), the database
/// busy for longer than the busy timeout (errc::busy).
[[nodiscard]] result<integrity_report> check_integrity(const std::string& path, std::size_t max_lines = 20);

/// What to do about the damaged state database `path`: restore a backup, how. Every error
/// saying the state is damaged ends with it.
std::string restore_advice(const std::string& path);

}  // namespace wfsync::store
