// SPDX-License-Identifier: Apache-2.0
// Thin RAII over the SQLite C API, private to the store layer.
#pragma once

#include <wfsync/core/error.hpp>
#include <wfsync/store/state_check.hpp>

#include <fmt/format.h>
#include <sqlite3.h>

#include <cerrno>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace wfsync::store::detail {

/// What an SQLite result code means for whoever must act on it: busy (another connection
/// holds the lock past busy_timeout: retry later), permission (the OS refused access), or
/// store (a damaged file, a disk error, a full or read-only file system: it will not pass by
/// itself). `db` gives the errno behind SQLITE_CANTOPEN; it may be null.
inline errc errc_for_sqlite(int rc, sqlite3* db) noexcept
{
    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return errc::busy;
    case SQLITE_PERM:
    case SQLITE_AUTH: return errc::permission;
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_IOERR: {
        const int err = db ? sqlite3_system_errno(db) : 0;
        return err == EACCES || err == EPERM ? errc::permission : errc::store;
    }
    default: return errc::store;
    }
}

using ::wfsync::store::restore_advice;

/// The message for SQLite error `rc` (with SQLite's own text `what`), naming the file, and
/// for a damaged file what to do about it.
inline std::string describe_sqlite(int rc, std::string_view what, const std::string& path)
{
    if ((rc & 0xff) == SQLITE_CORRUPT || (rc & 0xff) == SQLITE_NOTADB)
        return fmt::format("{} (state database {} is damaged; {})", what, path, restore_advice(path));
    return fmt::format("{} (state database {})", what, path);
}

/// The lines of one row of PRAGMA quick_check or integrity_check: a row may hold several,
/// under a "*** in database main ***" heading that says nothing here.
inline std::vector<std::string> check_lines(std::string_view row)
{
    std::vector<std::string> out;
    while (!row.empty()) {
        auto nl = row.find('\n');
        auto line = row.substr(0, nl);
        if (!line.empty() && line.rfind("*** in database ", 0) != 0) out.emplace_back(line);
        if (nl == std::string_view::npos) break;
        row.remove_prefix(nl + 1);
    }
    return out;
}

/// One connection plus its cache of prepared statements.
/// Thread safety: none; the connection is opened with SQLITE_OPEN_NOMUTEX.
class database {
public:
    database() = default;
    ~database() { close(); }
    database(const database&) = delete;
    database& operator=(const database&) = delete;

    /// Opens `path` read-write (creating it if needed). Errors name the path.
    [[nodiscard]] result<void> open(const std::string& path)
    {
        path_ = path;
        sqlite3* db = nullptr;
        int rc = sqlite3_open_v2(path.c_str(), &db,
                                 SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX |
                                     SQLITE_OPEN_EXRESCODE | SQLITE_OPEN_NOFOLLOW,
                                 nullptr);
        if (rc != SQLITE_OK) {
            std::string msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
            const errc kind = errc_for_sqlite(rc, db);
            sqlite3_close_v2(db);
            return fail(kind, fmt::format("cannot open state database {}: {}", path, msg));
        }
        db_ = db;
        return {};
    }

    void close() noexcept
    {
        for (auto& [sql, st] : cache_) sqlite3_finalize(st);
        cache_.clear();
        if (db_) sqlite3_close_v2(db_);
        db_ = nullptr;
    }

    sqlite3* handle() const noexcept { return db_; }
    const std::string& path() const noexcept { return path_; }

    /// An errc::store error for operation `op` from the connection's last error.
    error error_for(std::string_view op) const
    {
        if (!db_) return fail(errc::store, fmt::format("{}: not open (state database {})", op, path_));
        const int rc = sqlite3_extended_errcode(db_);
        return fail(errc_for_sqlite(rc, db_),
                    fmt::format("{}: {}", op, describe_sqlite(rc, sqlite3_errmsg(db_), path_)));
    }

    /// Runs SQL without results (may hold several statements).
    [[nodiscard]] result<void> exec(std::string_view op, const char* sql)
    {
        char* msg = nullptr;
        int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &msg);
        if (rc != SQLITE_OK) {
            std::string text = msg ? msg : sqlite3_errstr(rc);
            sqlite3_free(msg);
            rc = sqlite3_extended_errcode(db_);
            return fail(errc_for_sqlite(rc, db_), fmt::format("{}: {}", op, describe_sqlite(rc, text, path_)));
        }
        return {};
    }

    /// The cached prepared statement for `sql`, prepared on first use. `sql` must be a
    /// string literal (or otherwise live as long as the database).
    [[nodiscard]] result<sqlite3_stmt*> prepare(std::string_view op, const char* sql)
    {
        if (auto it = cache_.find(sql); it != cache_.end()) return it->second;
        sqlite3_stmt* st = nullptr;
        // PERSISTENT: these statements live as long as the connection.
        if (sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, nullptr) != SQLITE_OK)
            return error_for(op);
        cache_.emplace(sql, st);
        return st;
    }

private:
    sqlite3* db_ = nullptr;
    std::string path_;
    std::unordered_map<const char*, sqlite3_stmt*> cache_;
};

/// A use of a cached statement: binds, steps, reads columns, and resets it on destruction so
/// that it never keeps a read snapshot (or a lock) open.
class statement {
public:
    statement(database& db, sqlite3_stmt* st, std::string_view op) : db_(db), st_(st), op_(op) {}
    ~statement()
    {
        sqlite3_reset(st_);
        sqlite3_clear_bindings(st_);
    }
    statement(const statement&) = delete;
    statement& operator=(const statement&) = delete;

    statement& bind(int i, std::string_view v)
    {
        check(sqlite3_bind_text64(st_, i, v.data(), v.size(), SQLITE_TRANSIENT, SQLITE_UTF8));
        return *this;
    }
    statement& bind(int i, std::int64_t v)
    {
        check(sqlite3_bind_int64(st_, i, v));
        return *this;
    }
    statement& bind(int i, int v) { return bind(i, static_cast<std::int64_t>(v)); }
    statement& bind_blob(int i, std::string_view v)
    {
        // A zero-length blob would bind as NULL with a null pointer; "" keeps it a blob.
        check(sqlite3_bind_blob64(st_, i, v.empty() ? "" : v.data(), v.size(), SQLITE_TRANSIENT));
        return *this;
    }
    statement& bind_null(int i)
    {
        check(sqlite3_bind_null(st_, i));
        return *this;
    }

    /// true: a row is available; false: done.
    [[nodiscard]] result<bool> step()
    {
        if (bind_rc_ != SQLITE_OK) {
            last_rc_ = bind_rc_;
            return fail(errc::store, fmt::format("{}: cannot bind a parameter: {} (state database {})",
                                                 op_, sqlite3_errstr(bind_rc_), db_.path()));
        }
        int rc = sqlite3_step(st_);
        if (rc == SQLITE_ROW) return true;
        if (rc == SQLITE_DONE) return false;
        last_rc_ = rc;
        return db_.error_for(op_);
    }
    /// The extended result code of the last failed step.
    int last_error() const noexcept { return last_rc_; }

    std::string text(int col) const
    {
        auto p = sqlite3_column_text(st_, col);
        int n = sqlite3_column_bytes(st_, col);
        return p ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(n))
                 : std::string();
    }
    std::string_view blob(int col) const
    {
        auto p = sqlite3_column_blob(st_, col);
        int n = sqlite3_column_bytes(st_, col);
        return p ? std::string_view(static_cast<const char*>(p), static_cast<std::size_t>(n))
                 : std::string_view();
    }
    std::int64_t int64(int col) const { return sqlite3_column_int64(st_, col); }
    int integer(int col) const { return sqlite3_column_int(st_, col); }
    bool is_null(int col) const { return sqlite3_column_type(st_, col) == SQLITE_NULL; }

private:
    // SQLITE_RANGE is expected: statements chosen per filter may not use every parameter.
    void check(int rc) noexcept
    {
        if (rc != SQLITE_OK && rc != SQLITE_RANGE && bind_rc_ == SQLITE_OK) bind_rc_ = rc;
    }

    database& db_;
    sqlite3_stmt* st_;
    std::string_view op_;
    int last_rc_ = SQLITE_OK;
    int bind_rc_ = SQLITE_OK;
};

/// BEGIN on construction (IMMEDIATE for writers, so that a writer waits for the lock up
/// front under busy_timeout instead of failing on upgrade), ROLLBACK on destruction unless
/// committed.
class transaction {
public:
    transaction(database& db, std::string_view op) : db_(db), op_(op) {}
    ~transaction()
    {
        if (active_) sqlite3_exec(db_.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
    }
    transaction(const transaction&) = delete;
    transaction& operator=(const transaction&) = delete;

    [[nodiscard]] result<void> begin(bool write)
    {
        auto r = db_.exec(op_, write ? "BEGIN IMMEDIATE" : "BEGIN");
        if (r) active_ = true;
        return r;
    }
    [[nodiscard]] result<void> commit()
    {
        auto r = db_.exec(op_, "COMMIT");
        // A failed COMMIT leaves the transaction open; the destructor rolls it back.
        if (r) active_ = false;
        return r;
    }

private:
    database& db_;
    std::string_view op_;
    bool active_ = false;
};

}  // namespace wfsync::store::detail
