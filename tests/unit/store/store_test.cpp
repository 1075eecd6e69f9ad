// SPDX-License-Identifier: Apache-2.0
#define BOOST_TEST_MODULE wfsync_store
#include <boost/test/unit_test.hpp>

#include <wfsync/store/store.hpp>

#include <support/temp_dir.hpp>

#include <sqlite3.h>
#include <sys/stat.h>

#include <filesystem>
#include <string>

using namespace wfsync;
using namespace wfsync::store;

namespace {

unsigned mode_of(const std::string& path)
{
    struct stat st {};
    BOOST_TEST_REQUIRE(::stat(path.c_str(), &st) == 0, path);
    return st.st_mode & 07777;
}

/// A raw connection for poking at the file behind the store's back.
struct raw_db {
    sqlite3* db = nullptr;
    explicit raw_db(const std::string& path)
    {
        BOOST_TEST_REQUIRE(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) == SQLITE_OK);
        sqlite3_busy_timeout(db, 5000);
    }
    ~raw_db() { sqlite3_close_v2(db); }
    void exec(const std::string& sql)
    {
        char* msg = nullptr;
        int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &msg);
        BOOST_TEST_REQUIRE(rc == SQLITE_OK, sql << ": " << (msg ? msg : ""));
    }
    std::int64_t integer(const std::string& sql)
    {
        sqlite3_stmt* st = nullptr;
        BOOST_TEST_REQUIRE(sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK, sql);
        BOOST_TEST_REQUIRE(sqlite3_step(st) == SQLITE_ROW, sql);
        auto v = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
        return v;
    }
};

std::unique_ptr<store::store> open_ok(const std::string& path)
{
    auto s = open_sqlite(path);
    BOOST_TEST_REQUIRE(s.has_value(), (s.has_error() ? s.error().what() : ""));
    return std::move(*s);
}

import_intent make_intent(const std::string& key, const std::string& hash = "h1")
{
    import_intent i;
    i.rule = "prod-to-sandbox";
    i.run_uid = "run-1";
    i.source_tenant = "prod";
    i.source_workflow = "458";
    i.source_version = "0.0.3";
    i.content_hash = hash;
    i.target_tenant = "sandbox";
    i.target_version = "0.0.1";
    i.generation = 0;
    i.idempotency_key = key;
    return i;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(opening)

BOOST_AUTO_TEST_CASE(fresh_file_gets_every_migration)
{
    test::temp_dir dir;
    auto path = dir.file("state.db");
    auto s = open_ok(path);
    BOOST_TEST(s->schema_version() == 2);

    raw_db raw(path);
    BOOST_TEST(raw.integer("PRAGMA user_version") == 2);
    for (auto table : {"tenants", "workflows", "versions", "workflow_mappings", "version_mappings",
                       "import_intents", "runs", "events", "async_jobs"})
        BOOST_TEST(raw.integer(std::string("SELECT count(*) FROM sqlite_schema WHERE type='table' AND name='") +
                               table + "'") == 1,
                   table);
    BOOST_TEST(raw.integer("SELECT count(*) FROM sqlite_schema WHERE type='index' AND name NOT LIKE 'sqlite_%'") >= 10);
    std::string mode;
    {
        sqlite3_stmt* st = nullptr;
        sqlite3_prepare_v2(raw.db, "PRAGMA journal_mode", -1, &st, nullptr);
        BOOST_TEST_REQUIRE(sqlite3_step(st) == SQLITE_ROW);
        mode = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
        sqlite3_finalize(st);
    }
    BOOST_TEST(mode == "wal");
}

BOOST_AUTO_TEST_CASE(reopen_keeps_data_and_does_not_migrate_again)
{
    test::temp_dir dir;
    auto path = dir.file("state.db");
    row_id id = 0;
    {
        auto s = open_ok(path);
        id = s->upsert_workflow("prod", "458", "Invoice sync").value().id;
    }
    auto s = open_ok(path);
    BOOST_TEST(s->schema_version() == 2);
    auto w = s->find_workflow("prod", "458").value();
    BOOST_TEST_REQUIRE(w.has_value());
    BOOST_TEST(w->id == id);
    BOOST_TEST(w->name == "Invoice sync");
}

BOOST_AUTO_TEST_CASE(creates_private_directory_and_file_whatever_the_umask)
{
    test::temp_dir dir;
    auto path = (dir.path() / "a" / "b" / "state.db").string();
    mode_t old = ::umask(0);  // the most permissive umask: modes must still be private
    auto s = open_sqlite(path);
    ::umask(old);
    BOOST_TEST_REQUIRE(s.has_value(), (s.has_error() ? s.error().what() : ""));
    BOOST_TEST(mode_of(path) == 0600u);
    BOOST_TEST(mode_of((dir.path() / "a" / "b").string()) == 0700u);
    BOOST_TEST(mode_of((dir.path() / "a").string()) == 0700u);
    // A write makes SQLite create the WAL; it must copy the file's private mode.
    BOOST_TEST_REQUIRE((*s)->upsert_workflow("t", "1", "n").has_value());
    BOOST_TEST(mode_of(path + "-wal") == 0600u);
}

BOOST_AUTO_TEST_CASE(refuses_a_newer_schema_naming_both_versions)
{
    test::temp_dir dir;
    auto path = dir.file("state.db");
    { open_ok(path); }
    {
        raw_db raw(path);
        raw.exec("PRAGMA user_version = 99");
    }
    auto s = open_sqlite(path);
    BOOST_TEST_REQUIRE(s.has_error());
    BOOST_TEST((s.error().code == errc::store));
    BOOST_TEST(s.error().message.find("99") != std::string::npos, s.error().message);
    BOOST_TEST(s.error().message.find("newer") != std::string::npos, s.error().message);
    BOOST_TEST(s.error().message.find(path) != std::string::npos, s.error().message);
}

BOOST_AUTO_TEST_CASE(refuses_a_file_that_is_not_a_database)
{
    test::temp_dir dir;
    auto path = dir.write("state.db", std::string(8192, 'x') + "this is not sqlite");
    auto s = open_sqlite(path);
    BOOST_TEST_REQUIRE(s.has_error());
    BOOST_TEST((s.error().code == errc::store));
    BOOST_TEST(s.error().message.find(path) != std::string::npos, s.error().message);
    BOOST_TEST(s.error().message.find("not a SQLite database") != std::string::npos, s.error().message);
    // The file is left as it was.
    BOOST_TEST(test::read_file(path).size() == 8192u + 18u);
}

BOOST_AUTO_TEST_CASE(refuses_another_programs_database)
{
    test::temp_dir dir;
    auto path = dir.file("other.db");
    {
        sqlite3* db = nullptr;
        BOOST_TEST_REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
        sqlite3_exec(db, "CREATE TABLE customers (id INTEGER)", nullptr, nullptr, nullptr);
        sqlite3_close(db);
    }
    auto s = open_sqlite(path);
    BOOST_TEST_REQUIRE(s.has_error());
    BOOST_TEST(s.error().message.find("not a wfsync state database") != std::string::npos,
               s.error().message);
    raw_db raw(path);
    BOOST_TEST(raw.integer("SELECT count(*) FROM sqlite_schema WHERE name = 'workflows'") == 0);
}

BOOST_AUTO_TEST_CASE(uncreatable_directory_is_a_clear_io_error)
{
    test::temp_dir dir;
    // A regular file where a directory should be: fails even for root.
    auto blocker = dir.write("blocker", "x");
    auto path = blocker + "/sub/state.db";
    auto s = open_sqlite(path);
    BOOST_TEST_REQUIRE(s.has_error());
    BOOST_TEST((s.error().code == errc::io));
    BOOST_TEST(s.error().message.find(blocker) != std::string::npos, s.error().message);
    BOOST_TEST(s.error().message.find("not a directory") != std::string::npos, s.error().message);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(workflows)

BOOST_AUTO_TEST_CASE(upsert_inserts_then_renames_keeping_the_id)
{
    test::temp_dir dir;
    auto s = open_ok(dir.file("state.db"));
    auto a = s->upsert_workflow("prod", "458", "Invoice sync").value();
    BOOST_TEST(a.id > 0);
    BOOST_TEST(a.tenant == "prod");
    BOOST_TEST(a.remote_id == "458");
    auto b = s->upsert_workflow("prod", "458", "Invoice sync v2").value();
    BOOST_TEST(b.id == a.id);
    BOOST_TEST(b.name == "Invoice sync v2");
    auto other = s->upsert_workflow("sandbox", "458", "Invoice sync").value();
    BOOST_TEST(other.id != a.id);

    BOOST_TEST(s->find_workflow("prod", "458").value()->name == "Invoice sync v2");
    BOOST_TEST(!s->find_workflow("prod", "459").value().has_value());
    BOOST_TEST(!s->find_workflow("staging", "458").value().has_value());
}

BOOST_AUTO_TEST_CASE(records_tenants_seen)
{
    test::temp_dir dir;
    auto path = dir.file("state.db");
    auto s = open_ok(path);
    (void)s->upsert_workflow("prod", "1", "a").value();
    (void)s->upsert_workflow("prod", "2", "b").value();
    (void)s->upsert_workflow("sandbox", "1", "a").value();
    raw_db raw(path);
    BOOST_TEST(raw.integer("SELECT count(*) FROM tenants") == 2);
}

BOOST_AUTO_TEST_SUITE_END()
