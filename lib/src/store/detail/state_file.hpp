// SPDX-License-Identifier: Apache-2.0
// Checks on the state's files before SQLite opens them, private to the store layer.
#pragma once

#include <wfsync/core/error.hpp>

#include <string>

struct sqlite3;

namespace wfsync::store::detail {

/// Checks, before SQLite opens it, that the state database `path` is a regular file this
/// process may read, and with `write` also write, in a directory where it may create the
/// -wal and -shm files; and that those files, where present, are regular files. Nothing is
/// followed (O_NOFOLLOW) and nothing waits (O_NONBLOCK): a FIFO, a device, a directory or a
/// symbolic link is an errc::io error naming the path, never a hang. Errors: errc::permission
/// when the OS refuses access (EACCES, EPERM), else errc::io (a read-only file system too).
[[nodiscard]] result<void> check_state_file(const std::string& path, bool write);

/// Opens the state database `path` read-only for `state check` and `state backup`, as
/// sqlite3_open_v2 does (`*db` must be closed whatever it returns). On a file system mounted
/// read-only, where SQLite could not create the -shm file a WAL reader needs, the file is
/// opened as immutable: nobody can change it there.
int open_read_only(const std::string& path, sqlite3** db);

}  // namespace wfsync::store::detail
