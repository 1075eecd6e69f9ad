// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <wfsync/core/error.hpp>

#include <cstdint>
#include <string>

namespace wfsync::store {

struct backup_options {
    bool force = false;  ///< replace an existing file at the destination
    /// How often a step of the copy may find the database busy (a writer in the middle of
    /// recovering the WAL, a checkpoint) before the backup gives up with errc::busy.
    int max_busy_retries = 50;
};

struct backup_report {
    std::int64_t pages = 0;
    std::int64_t bytes = 0;
};

/// Copies the state database `path` to `dest` with SQLite's online backup API, through a
/// read-only connection: no wfsync lock is taken and the daemon may keep running. The copy is
/// one consistent snapshot even while another process writes (one backup step over every page,
/// inside one WAL read transaction), is written to a temporary file in `dest`'s directory,
/// checked with PRAGMA integrity_check, fsynced and renamed into place (so `dest` is either
/// absent or whole); it is a self-contained file (rollback journal, no -wal), mode 0600.
/// An existing `dest` is refused unless `force` (and a `dest` that is not a regular file even
/// then). Errors: errc::io / errc::permission naming the path, errc::busy when the source
/// stayed busy, errc::store when the source is damaged (no backup is written then).
[[nodiscard]] result<backup_report> backup_state(const std::string& path, const std::string& dest,
                                                 const backup_options& options = {});

}  // namespace wfsync::store
