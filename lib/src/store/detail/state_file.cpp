// SPDX-License-Identifier: Apache-2.0
#include "state_file.hpp"

#include <wfsync/core/read_file.hpp>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/statvfs.h>
#include <sys/stat.h>
#include <unistd.h>

namespace wfsync::store::detail {

namespace {

std::string os_error(int err)
{
    return err == EROFS ? "read-only file system" : std::strerror(err);
}

}  // namespace

result<void> check_state_file(const std::string& path, bool write)
{
    const int flags = (write ? O_RDWR : O_RDONLY) | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC;
    int fd = ::open(path.c_str(), flags);
    if (fd < 0) {
        const int err = errno;
        if (err == ELOOP)
            return fail(errc::io, fmt::format("state database {} is a symbolic link; wfsync does not follow links to "
                                              "its state: put the file itself there, or point state.path at its "
                                              "directory",
                                              path));
        if (err == ENOENT) return fail(errc::io, fmt::format("there is no state database {}", path));
        if (err == EISDIR)
            return fail(errc::io, fmt::format("state database {} is not a regular file but a directory", path));
        if (errc_for_errno(err) == errc::permission)
            return fail(errc::permission,
                        fmt::format("cannot open state database {} for {}: {}; run wfsync as the user that owns the "
                                    "state (the service's user), or give that user access",
                                    path, write ? "reading and writing" : "reading", std::strerror(err)));
        return fail(errc::io, fmt::format("cannot open state database {} for {}: {}", path,
                                          write ? "writing" : "reading", os_error(err)));
    }
    struct stat st {};
    const int rc = ::fstat(fd, &st);
    const int err = errno;
    ::close(fd);
    if (rc != 0) return fail(errc_for_errno(err), fmt::format("cannot stat state database {}: {}", path, os_error(err)));
    if (!S_ISREG(st.st_mode))
        return fail(errc::io, fmt::format("state database {} is not a regular file but {}", path, file_kind(st.st_mode)));

    // SQLite opens these itself, following links and blocking on a FIFO.
    for (const char* suffix : {"-wal", "-shm", "-journal"}) {
        const std::string side = path + suffix;
        if (::lstat(side.c_str(), &st) == 0 && !S_ISREG(st.st_mode))
            return fail(errc::io, fmt::format("{} is not a regular file but {}; wfsync needs it to be the state "
                                              "database's own {} file: remove it",
                                              side, file_kind(st.st_mode), suffix + 1));
    }

    if (write) {
        // SQLite creates the -wal and -shm files beside the database at the first write.
        auto dir = std::filesystem::path(path).parent_path();
        if (dir.empty()) dir = ".";
        if (::faccessat(AT_FDCWD, dir.c_str(), W_OK | X_OK, AT_EACCESS) != 0) {
            const int e = errno;
            if (errc_for_errno(e) == errc::permission)
                return fail(errc::permission,
                            fmt::format("cannot write in state directory {}, where SQLite keeps {}-wal and {}-shm: "
                                        "{}; run wfsync as the user that owns the state, or give that user access",
                                        dir.string(), path, path, std::strerror(e)));
            return fail(errc::io, fmt::format("cannot write in state directory {}: {}", dir.string(), os_error(e)));
        }
    }
    return {};
}

int open_read_only(const std::string& path, sqlite3** db)
{
    constexpr int flags = SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE | SQLITE_OPEN_NOFOLLOW;
    struct statvfs vfs {};
    if (::statvfs(path.c_str(), &vfs) != 0 || (vfs.f_flag & ST_RDONLY) == 0)
        return sqlite3_open_v2(path.c_str(), db, flags, nullptr);
    // A URI names the file: '%', '?' and '#' in the path are escaped.
    std::string uri = "file:";
    for (char c : path) {
        if (c == '%' || c == '?' || c == '#') uri += fmt::format("%{:02X}", static_cast<unsigned char>(c));
        else uri += c;
    }
    uri += "?immutable=1";
    return sqlite3_open_v2(uri.c_str(), db, flags | SQLITE_OPEN_URI, nullptr);
}

}  // namespace wfsync::store::detail
