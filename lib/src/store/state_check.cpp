// SPDX-License-Identifier: Apache-2.0
// `wfsync state check`: the full integrity check, on a read-only connection.
#include <wfsync/store/state_check.hpp>

#include "detail/sqlite.hpp"
#include "detail/state_file.hpp"

namespace wfsync::store {

std::string restore_advice(const std::string& path)
{
    return fmt::format("wfsync will not use it. Restore it from a backup (made with `wfsync state backup FILE`): "
                       "stop the daemon (systemctl stop wfsync), delete {0}-wal and {0}-shm, copy the backup over "
                       "{0}, then start it again; `wfsync state check` lists the damage",
                       path);
}

result<integrity_report> check_integrity(const std::string& path, std::size_t max_lines)
{
    if (auto r = detail::check_state_file(path, false); !r) return r.error();
    sqlite3* db = nullptr;
    int rc = detail::open_read_only(path, &db);
    struct closer {
        sqlite3* db;
        ~closer() { sqlite3_close_v2(db); }
    } close_db{db};
    if (rc != SQLITE_OK)
        return fail(detail::errc_for_sqlite(rc, db),
                    fmt::format("cannot open state database {}: {}", path, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc)));
    sqlite3_busy_timeout(db, 5000);

    // One line more than asked for tells whether there are more.
    const auto sql = fmt::format("PRAGMA integrity_check({})", max_lines + 1);
    sqlite3_stmt* st = nullptr;
    integrity_report rep;
    rc = sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr);
    if (rc == SQLITE_OK) {
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            const auto* t = sqlite3_column_text(st, 0);
            auto lines = detail::check_lines(t ? reinterpret_cast<const char*>(t) : "");
            rep.problems.insert(rep.problems.end(), lines.begin(), lines.end());
        }
        sqlite3_finalize(st);
        if (rc == SQLITE_DONE) rc = SQLITE_OK;
    }
    if (rc != SQLITE_OK) {
        const int ext = sqlite3_extended_errcode(db);
        // Too damaged to be checked is an answer of the check, not a failure to run it.
        if ((ext & 0xff) != SQLITE_CORRUPT && (ext & 0xff) != SQLITE_NOTADB)
            return fail(detail::errc_for_sqlite(ext, db),
                        fmt::format("cannot check state database {}: {}", path, sqlite3_errmsg(db)));
        rep.problems = {fmt::format("cannot be read: {}", sqlite3_errmsg(db))};
        return rep;
    }
    if (rep.problems.size() == 1 && rep.problems.front() == "ok") {
        rep.problems.clear();
        return rep;
    }
    if (rep.problems.size() > max_lines) {
        rep.problems.resize(max_lines);
        rep.more = true;
    }
    return rep;
}

}  // namespace wfsync::store
