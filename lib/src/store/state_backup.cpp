// SPDX-License-Identifier: Apache-2.0
// `wfsync state backup FILE`: SQLite's online backup API into a temporary file, checked,
// fsynced and renamed into place.
#include <wfsync/store/state_backup.hpp>

#include "detail/sqlite.hpp"
#include "detail/state_file.hpp"

#include <wfsync/core/read_file.hpp>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace wfsync::store {

namespace {

namespace fs = std::filesystem;

std::string os_error(int err)
{
    switch (err) {
    case EROFS: return "read-only file system";
    case ENOSPC: return "no space left on device";
    case EDQUOT: return "disk quota exceeded";
    default: return std::strerror(err);
    }
}

error os_fail(std::string_view what, const std::string& p, int err)
{
    return fail(errc_for_errno(err), fmt::format("{} {}: {}", what, p, os_error(err)));
}

/// A connection closed on scope exit.
struct connection {
    sqlite3* db = nullptr;
    ~connection() { sqlite3_close_v2(db); }
};

/// The temporary file, removed on scope exit unless kept.
struct temp_file {
    std::string path;
    bool keep = false;
    ~temp_file()
    {
        if (path.empty() || keep) return;
        ::unlink(path.c_str());
        for (const char* s : {"-journal", "-wal", "-shm"}) ::unlink((path + s).c_str());
    }
};

result<void> fsync_path(const std::string& p, bool directory)
{
    int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC | (directory ? O_DIRECTORY : O_NOFOLLOW));
    if (fd < 0) return os_fail("cannot open", p, errno);
    const int rc = ::fsync(fd);
    const int err = errno;
    ::close(fd);
    if (rc != 0) return os_fail("cannot fsync", p, err);
    return {};
}

/// Runs `sql` on `db`, returning its rows' first column.
result<std::vector<std::string>> rows(sqlite3* db, const std::string& sql, const std::string& path)
{
    sqlite3_stmt* st = nullptr;
    std::vector<std::string> out;
    int rc = sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr);
    if (rc == SQLITE_OK) {
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            const auto* t = sqlite3_column_text(st, 0);
            auto lines = detail::check_lines(t ? reinterpret_cast<const char*>(t) : "");
            out.insert(out.end(), lines.begin(), lines.end());
        }
        sqlite3_finalize(st);
        if (rc == SQLITE_DONE) return out;
    }
    const int ext = sqlite3_extended_errcode(db);
    return fail(detail::errc_for_sqlite(ext, db), fmt::format("{}: {}", sql, detail::describe_sqlite(ext, sqlite3_errmsg(db), path)));
}

}  // namespace

result<backup_report> backup_state(const std::string& path, const std::string& dest, const backup_options& options)
{
    if (auto r = detail::check_state_file(path, false); !r) return r.error();
    if (dest.empty()) return fail(errc::invalid_argument, "the backup needs a file name");

    // The destination: a new file, or with force a regular file (never the state itself).
    struct stat src_st {}, dst_st {};
    if (::stat(path.c_str(), &src_st) != 0) return os_fail("cannot stat", path, errno);
    if (::lstat(dest.c_str(), &dst_st) == 0) {
        if (!S_ISREG(dst_st.st_mode))
            return fail(errc::io, fmt::format("backup file {} exists and is not a regular file but {}", dest,
                                              file_kind(dst_st.st_mode)));
        if (dst_st.st_dev == src_st.st_dev && dst_st.st_ino == src_st.st_ino)
            return fail(errc::invalid_argument, fmt::format("backup file {} is the state database itself", dest));
        if (!options.force)
            return fail(errc::invalid_argument,
                        fmt::format("backup file {} exists; choose another name, or add --force to replace it", dest));
    } else if (errno != ENOENT) {
        return os_fail("cannot stat backup file", dest, errno);
    }

    // A temporary file beside the destination, so that the rename stays in one file system.
    fs::path dir = fs::path(dest).parent_path();
    if (dir.empty()) dir = ".";
    static std::atomic<unsigned> counter{0};
    temp_file tmp;
    tmp.path = (dir / fmt::format(".{}.tmp-{}-{}", fs::path(dest).filename().string(), ::getpid(), counter++)).string();
    {
        int fd = ::open(tmp.path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0) {
            const int err = errno;
            tmp.path.clear();  // not ours
            return os_fail("cannot create a file in", dir.string(), err);
        }
        ::close(fd);
    }

    connection src, dst;
    int rc = detail::open_read_only(path, &src.db);
    if (rc != SQLITE_OK)
        return fail(detail::errc_for_sqlite(rc, src.db),
                    fmt::format("cannot open state database {}: {}", path, src.db ? sqlite3_errmsg(src.db) : sqlite3_errstr(rc)));
    rc = sqlite3_open_v2(tmp.path.c_str(), &dst.db,
                         SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE | SQLITE_OPEN_NOFOLLOW,
                         nullptr);
    if (rc != SQLITE_OK)
        return fail(detail::errc_for_sqlite(rc, dst.db),
                    fmt::format("cannot open {}: {}", tmp.path, dst.db ? sqlite3_errmsg(dst.db) : sqlite3_errstr(rc)));
    sqlite3_busy_timeout(src.db, 5000);

    sqlite3_backup* b = sqlite3_backup_init(dst.db, "main", src.db, "main");
    if (!b) return fail(errc::store, fmt::format("cannot start the backup of {}: {}", path, sqlite3_errmsg(dst.db)));
    // One step over every page (-1) reads them all in one read transaction: in WAL mode that
    // is one consistent snapshot, and a writer in another process neither waits for it nor
    // makes it start again (smaller steps would restart after each foreign write, and might
    // never finish under a busy daemon). A step finding the database busy (WAL recovery, an
    // exclusive lock) is tried again a bounded number of times.
    int busy = 0;
    for (int steps = 0;; ++steps) {
        rc = sqlite3_backup_step(b, -1);
        if (rc == SQLITE_DONE) break;
        const bool is_busy = (rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED;
        if (rc == SQLITE_OK && steps < 1000) continue;
        if (is_busy && ++busy <= options.max_busy_retries) {
            sqlite3_sleep(100);
            continue;
        }
        const int pages = sqlite3_backup_pagecount(b), left = sqlite3_backup_remaining(b);
        sqlite3_backup_finish(b);
        if (is_busy)
            return fail(errc::busy, fmt::format("cannot finish the backup of {}: the database stayed busy through {} "
                                                "tries ({} of {} pages copied); try again",
                                                path, busy - 1, pages - left, pages));
        return fail(detail::errc_for_sqlite(rc, nullptr),
                    fmt::format("backup of {} failed: {}", path, detail::describe_sqlite(rc, sqlite3_errstr(rc), path)));
    }
    backup_report rep;
    rep.pages = sqlite3_backup_pagecount(b);
    rc = sqlite3_backup_finish(b);
    if (rc != SQLITE_OK)
        return fail(detail::errc_for_sqlite(rc, dst.db), fmt::format("backup of {} failed: {}", path, sqlite3_errmsg(dst.db)));
    sqlite3_close_v2(src.db);
    src.db = nullptr;

    // The copy carries the state's WAL flag; a backup is one self-contained file.
    if (auto r = rows(dst.db, "PRAGMA journal_mode=DELETE", tmp.path); !r) return r.error();
    auto check = rows(dst.db, "PRAGMA integrity_check(6)", tmp.path);
    if (!check) return std::move(check.error()).context("check the copy of " + path);
    if (check->size() != 1 || check->front() != "ok")
        return fail(errc::store, fmt::format("state database {} is damaged (PRAGMA integrity_check on its copy: {}); "
                                             "no backup was written. {}",
                                             path, check->empty() ? "no answer" : check->front(),
                                             detail::restore_advice(path)));
    rc = sqlite3_close(dst.db);
    dst.db = nullptr;
    if (rc != SQLITE_OK) return fail(errc::store, fmt::format("cannot close {}: {}", tmp.path, sqlite3_errstr(rc)));

    if (auto r = fsync_path(tmp.path, false); !r) return r.error();
    struct stat done {};
    if (::stat(tmp.path.c_str(), &done) == 0) rep.bytes = done.st_size;
    // Without force, a file that appeared meanwhile is not replaced either.
    const int moved = options.force ? std::rename(tmp.path.c_str(), dest.c_str())
                                    : ::renameat2(AT_FDCWD, tmp.path.c_str(), AT_FDCWD, dest.c_str(), RENAME_NOREPLACE);
    if (moved != 0) {
        const int err = errno;
        if (err == EEXIST)
            return fail(errc::invalid_argument,
                        fmt::format("backup file {} exists; choose another name, or add --force to replace it", dest));
        return os_fail("cannot rename the backup to", dest, err);
    }
    tmp.keep = true;
    if (auto r = fsync_path(dir.string(), true); !r) return r.error();
    return rep;
}

}  // namespace wfsync::store
