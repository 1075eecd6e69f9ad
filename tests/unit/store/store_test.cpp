// SPDX-License-Identifier: Apache-2.0
#define BOOST_TEST_MODULE wfsync_store
#include <boost/test/unit_test.hpp>

#include <wfsync/store/state_lock.hpp>
#include <wfsync/store/store.hpp>

#include <support/temp_dir.hpp>

#include "store_rows.hpp"

#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>

#include <filesystem>
#include <string>
#include <thread>

using namespace wfsync;
using namespace wfsync::store;
using wfsync::test::make_intent;

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

std::unique_ptr<wfsync::store::store> open_ok(const std::string& path)
{
    auto s = open_sqlite(path);
    BOOST_TEST_REQUIRE(s.has_value(), (s.has_error() ? s.error().what() : ""));
    return std::move(*s);
}


}  // namespace

BOOST_AUTO_TEST_SUITE(opening)

BOOST_AUTO_TEST_CASE(fresh_file_gets_every_migration)
{
    test::temp_dir dir;
    auto path = dir.file("state.db");
    auto s = open_ok(path);
    BOOST_TEST(s->schema_version() == 7);

    raw_db raw(path);
    BOOST_TEST(raw.integer("PRAGMA user_version") == 7);
    for (auto table : {"tenants", "workflows", "versions", "workflow_mappings", "version_mappings",
                       "import_intents", "runs", "events", "async_jobs", "listing_marks", "notifications",
                       "rule_health"})
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

BOOST_AUTO_TEST_CASE(a_directory_as_path_is_a_clear_error)
{
    test::temp_dir dir;
    auto path = (dir.path() / "is-a-dir").string();
    std::filesystem::create_directory(path);
    auto s = open_sqlite(path);
    BOOST_TEST_REQUIRE(s.has_error());
    BOOST_TEST((s.error().code == errc::io));
    BOOST_TEST(s.error().message == "state database " + path + " is not a regular file but a directory");
}

BOOST_AUTO_TEST_CASE(reads_do_not_wait_for_another_writer)
{
    test::temp_dir dir;
    auto path = dir.file("state.db");
    auto s = open_ok(path);
    (void)s->upsert_workflow("prod", "1", "committed").value();
    raw_db other(path);
    other.exec("BEGIN IMMEDIATE");
    other.exec("INSERT INTO workflows (tenant, remote_id, name) VALUES ('prod', '2', 'uncommitted')");
    // WAL: the reader sees the last commit at once, not the open transaction.
    auto start = std::chrono::steady_clock::now();
    BOOST_TEST(s->find_workflow("prod", "1").value().has_value());
    BOOST_TEST(!s->find_workflow("prod", "2").value().has_value());
    BOOST_TEST((std::chrono::steady_clock::now() - start < std::chrono::seconds(2)));
    other.exec("COMMIT");
    BOOST_TEST(s->find_workflow("prod", "2").value()->name == "uncommitted");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(workflows)

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

BOOST_AUTO_TEST_SUITE(versions)

BOOST_AUTO_TEST_CASE(package_is_stored_compressed)
{
    test::temp_dir dir;
    auto path = dir.file("state.db");
    auto s = open_ok(path);
    auto wf = s->upsert_workflow("prod", "458", "Invoice sync").value();
    std::string pkg(200000, 'a');
    auto v = s->put_version(wf.id, "1", "h", "zuora-json", pkg).value();
    raw_db raw(path);
    auto stored = raw.integer("SELECT length(package) FROM versions WHERE id = " + std::to_string(v.id));
    BOOST_TEST(stored > 0);
    BOOST_TEST(stored < 2000);  // 200 kB of one byte deflates to well under 1 kB
    BOOST_TEST(raw.integer("SELECT size FROM versions WHERE id = " + std::to_string(v.id)) == 200000);
    BOOST_TEST(s->load_package(v.id).value() == pkg);
}

BOOST_AUTO_TEST_CASE(corrupt_package_blob_is_an_error_not_a_crash)
{
    test::temp_dir dir;
    auto path = dir.file("state.db");
    auto s = open_ok(path);
    auto wf = s->upsert_workflow("prod", "458", "Invoice sync").value();
    const std::string secret_ish = "{\"password\":\"hunter2\"}";
    auto v = s->put_version(wf.id, "1", "h", "zuora-json", secret_ish).value();
    auto w = s->put_version(wf.id, "2", "h2", "zuora-json", std::string(5000, 'z')).value();
    auto u = s->put_version(wf.id, "3", "h3", "zuora-json", "abc").value();
    {
        raw_db raw(path);
        raw.exec("UPDATE versions SET package = x'0102030405060708' WHERE id = " + std::to_string(v.id));
        // A valid stream cut in half.
        raw.exec("UPDATE versions SET package = substr(package, 1, length(package) / 2) WHERE id = " +
                 std::to_string(w.id));
        // Valid zlib, but not what the size column says.
        raw.exec("UPDATE versions SET size = 4 WHERE id = " + std::to_string(u.id));
    }
    for (auto id : {v.id, w.id, u.id}) {
        auto r = s->load_package(id);
        BOOST_TEST_REQUIRE(r.has_error(), id);
        BOOST_TEST((r.error().code == errc::store));
        BOOST_TEST(r.error().message.find("load package of version " + std::to_string(id)) != std::string::npos,
                   r.error().message);
        BOOST_TEST(r.error().message.find("corrupt") != std::string::npos, r.error().message);
        BOOST_TEST(r.error().message.find("hunter2") == std::string::npos);
    }
    auto missing = s->load_package(999999);
    BOOST_TEST_REQUIRE(missing.has_error());
    BOOST_TEST(missing.error().message.find("no such version") != std::string::npos, missing.error().message);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(intents)

BOOST_AUTO_TEST_CASE(schema_4_state_gains_read_back_columns_keeping_rows)
{
    test::temp_dir dir;
    auto path = dir.file("state.db");
    {
        auto s = open_ok(path);
        BOOST_TEST_REQUIRE(s->add_version_mapping({"prod", "458", "0.0.3", "h1", "sandbox", "901", "0.0.1", 1000}).has_value());
        BOOST_TEST_REQUIRE(s->create_intent(make_intent("key-old")).has_value());
    }
    {
        raw_db raw(path);
        BOOST_TEST_REQUIRE(sqlite3_exec(raw.db, "DROP TABLE notifications; DROP TABLE rule_health; "
                                                "DROP TABLE listing_marks; DROP INDEX version_mappings_content; "
                                                "ALTER TABLE version_mappings DROP COLUMN target_hash; "
                                                "ALTER TABLE import_intents DROP COLUMN target_before; "
                                                "ALTER TABLE import_intents DROP COLUMN hold; PRAGMA user_version = 4;",
                                        nullptr, nullptr, nullptr) == SQLITE_OK);
    }
    auto s = open_ok(path);
    BOOST_TEST(s->schema_version() == 7);
    auto m = s->find_version_mapping("sandbox", "901", "h1").value();
    BOOST_TEST_REQUIRE(m.has_value());
    BOOST_TEST(m->target_hash.empty());
    auto i = s->find_intent("prod-to-sandbox", "prod", "458", "sandbox", "h1").value();
    BOOST_TEST_REQUIRE(i.has_value());
    BOOST_TEST(i->hold.empty());
    BOOST_TEST(i->target_before.empty());
}

BOOST_AUTO_TEST_CASE(open_intents_survive_a_kill_9_in_order)
{
    test::temp_dir dir;
    auto path = dir.file("state.db");
    // The child records intents and dies by SIGKILL: no destructor, no checkpoint, no close.
    pid_t pid = ::fork();
    BOOST_TEST_REQUIRE(pid >= 0);
    if (pid == 0) {
        auto s = open_sqlite(path);
        if (!s) ::_exit(2);
        auto& st = **s;
        auto a = st.create_intent(make_intent("k-a"));
        auto b = st.create_intent(make_intent("k-b", "h2"));
        auto c = st.create_intent(make_intent("k-c", "h3"));
        auto d = st.create_intent(make_intent("k-d", "h4"));
        if (!a || !b || !c || !d) ::_exit(3);
        if (!st.set_intent_state(b->id, intent_state::succeeded, "ok")) ::_exit(4);
        if (!st.set_intent_state(c->id, intent_state::unknown, "read timed out")) ::_exit(5);
        if (!st.set_intent_state(d->id, intent_state::failed, "422")) ::_exit(6);
        ::kill(::getpid(), SIGKILL);
        ::_exit(7);
    }
    int status = 0;
    BOOST_TEST_REQUIRE(::waitpid(pid, &status, 0) == pid);
    BOOST_TEST_REQUIRE(WIFSIGNALED(status), "child exited with " << WEXITSTATUS(status));
    BOOST_TEST(WTERMSIG(status) == SIGKILL);
    // The commits are only in the WAL: recovery has work to do.
    BOOST_TEST(std::filesystem::file_size(path + "-wal") > 0u);

    auto s = open_ok(path);
    auto open = s->open_intents().value();
    BOOST_TEST_REQUIRE(open.size() == 2u);
    BOOST_TEST(open[0].idempotency_key == "k-a");
    BOOST_TEST((open[0].state == intent_state::pending));
    BOOST_TEST(open[1].idempotency_key == "k-c");
    BOOST_TEST((open[1].state == intent_state::unknown));
    BOOST_TEST(open[1].detail == "read timed out");
    BOOST_TEST(open[0].id < open[1].id);
}

BOOST_AUTO_TEST_CASE(kill_9_loses_only_the_uncommitted_batch)
{
    test::temp_dir dir;
    auto path = dir.file("state.db");
    { auto s = open_ok(path); }
    pid_t pid = ::fork();
    BOOST_TEST_REQUIRE(pid >= 0);
    if (pid == 0) {
        auto s = open_sqlite(path);
        if (!s) ::_exit(2);
        auto& st = **s;
        st.begin_batching();
        if (!st.create_intent(make_intent("k-kept")) || !st.commit_batch()) ::_exit(3);
        auto lost = st.create_intent(make_intent("k-lost", "h2"));
        if (!lost || !st.put_listing_mark({"r", "prod", "458", "sandbox", "s", "901", "t", "h2", 1})) ::_exit(4);
        ::kill(::getpid(), SIGKILL);
        ::_exit(7);
    }
    int status = 0;
    BOOST_TEST_REQUIRE(::waitpid(pid, &status, 0) == pid);
    BOOST_TEST_REQUIRE(WIFSIGNALED(status), "child exited with " << WEXITSTATUS(status));
    auto s = open_ok(path);
    auto open = s->open_intents().value();
    BOOST_TEST_REQUIRE(open.size() == 1u);
    BOOST_TEST(open[0].idempotency_key == "k-kept");
    BOOST_TEST(s->listing_marks("r").value().empty());
}

BOOST_AUTO_TEST_CASE(kill_9_during_writes_leaves_whole_transactions)
{
    test::temp_dir dir;
    auto path = dir.file("state.db");
    { open_ok(path); }  // migrate first, so the poll below sees the tables
    pid_t pid = ::fork();
    BOOST_TEST_REQUIRE(pid >= 0);
    if (pid == 0) {
        auto s = open_sqlite(path);
        if (!s) ::_exit(2);
        auto& st = **s;
        // Each iteration: a run, two events and an intent, each its own transaction.
        for (int i = 0;; ++i) {
            auto run = st.begin_run("run-" + std::to_string(i), "r", "sync");
            if (!run) ::_exit(3);
            event_row e;
            e.run = run->id;
            e.kind = "import";
            if (!st.add_event(e) || !st.add_event(e)) ::_exit(4);
            if (!st.create_intent(make_intent("k-" + std::to_string(i)))) ::_exit(5);
            if (!st.finish_run(*run)) ::_exit(6);
        }
    }
    {
        // Bounded poll until the child has committed a good number of iterations.
        raw_db raw(path);
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
        while (raw.integer("SELECT count(*) FROM runs WHERE finished_at > 0") < 40 &&
               std::chrono::steady_clock::now() < deadline) {
            int status = 0;
            BOOST_TEST_REQUIRE(::waitpid(pid, &status, WNOHANG) == 0, "writer died early");
            std::this_thread::sleep_for(std::chrono::milliseconds(2));  // leave the CPU to the writer
        }
    }
    ::kill(pid, SIGKILL);
    int status = 0;
    BOOST_TEST_REQUIRE(::waitpid(pid, &status, 0) == pid);
    BOOST_TEST_REQUIRE(WIFSIGNALED(status));

    auto s = open_ok(path);
    raw_db raw(path);
    sqlite3_stmt* st = nullptr;
    BOOST_TEST_REQUIRE(sqlite3_prepare_v2(raw.db, "PRAGMA integrity_check", -1, &st, nullptr) == SQLITE_OK);
    BOOST_TEST_REQUIRE(sqlite3_step(st) == SQLITE_ROW);
    BOOST_TEST(std::string(reinterpret_cast<const char*>(sqlite3_column_text(st, 0))) == "ok");
    sqlite3_finalize(st);
    auto runs = raw.integer("SELECT count(*) FROM runs");
    BOOST_TEST(runs >= 40);
    // Every step is all or nothing, in order: at most the last run is incomplete.
    BOOST_TEST(raw.integer("SELECT count(*) FROM runs WHERE finished_at = 0") <= 1);
    BOOST_TEST(raw.integer("SELECT count(*) FROM events") >= 2 * (runs - 1));
    BOOST_TEST(raw.integer("SELECT count(*) FROM events") <= 2 * runs);
    BOOST_TEST(raw.integer("SELECT count(*) FROM import_intents") >= runs - 1);
    BOOST_TEST(raw.integer("SELECT count(*) FROM events e LEFT JOIN runs r ON r.id = e.run WHERE r.id IS NULL") == 0);
    // And the store carries on.
    BOOST_TEST(s->begin_run("after-crash", "r", "sync").has_value());
    BOOST_TEST(s->open_intents().value().size() == static_cast<std::size_t>(raw.integer("SELECT count(*) FROM import_intents")));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(lock)

BOOST_AUTO_TEST_CASE(one_holder_at_a_time_and_the_refused_one_is_told_who)
{
    test::temp_dir dir;
    auto state = dir.file("state");
    {
        auto first = state_lock::acquire(state, "wfsync sync");
        BOOST_TEST_REQUIRE(first.has_value(), (first ? "" : first.error().what()));
        BOOST_TEST(mode_of(state) == 0700u);
        BOOST_TEST(mode_of(state + "/lock") == 0600u);
        auto second = state_lock::acquire(state, "wfsync serve");
        BOOST_TEST_REQUIRE(second.has_error());
        BOOST_TEST((second.error().code == errc::conflict));
        const auto why = second.error().what();
        BOOST_TEST(why.find("is in use by pid " + std::to_string(::getpid()) + " (wfsync sync) since ") !=
                       std::string::npos,
                   why);
        BOOST_TEST(why.find("--wait") != std::string::npos, why);
        auto waited = state_lock::acquire(state, "wfsync serve", std::chrono::milliseconds(150));
        BOOST_TEST_REQUIRE(waited.has_error());
        BOOST_TEST(waited.error().what().find("(waited 150ms)") != std::string::npos, waited.error().what());
    }
    // Released with its holder.
    BOOST_TEST(state_lock::acquire(state, "wfsync restore").has_value());
}

BOOST_AUTO_TEST_CASE(a_waiting_command_gets_the_lock_when_the_holder_ends)
{
    test::temp_dir dir;
    auto state = dir.file("state");
    int ready[2], go[2];
    BOOST_TEST_REQUIRE(::pipe(ready) == 0);
    BOOST_TEST_REQUIRE(::pipe(go) == 0);
    pid_t pid = ::fork();
    BOOST_TEST_REQUIRE(pid >= 0);
    if (pid == 0) {
        auto held = state_lock::acquire(state, "wfsync serve");
        if (!held) ::_exit(2);
        char c = 'x';
        if (::write(ready[1], &c, 1) != 1) ::_exit(3);
        if (::read(go[0], &c, 1) != 1) ::_exit(4);
        ::_exit(0);  // the kernel releases the lock with the process
    }
    char c = 0;
    BOOST_TEST_REQUIRE(::read(ready[0], &c, 1) == 1);
    auto refused = state_lock::acquire(state, "wfsync sync");
    BOOST_TEST_REQUIRE(refused.has_error());
    BOOST_TEST(refused.error().what().find("pid " + std::to_string(pid) + " (wfsync serve)") != std::string::npos,
               refused.error().what());
    BOOST_TEST_REQUIRE(::write(go[1], &c, 1) == 1);
    auto got = state_lock::acquire(state, "wfsync sync", std::chrono::milliseconds(0));  // no limit
    BOOST_TEST(got.has_value(), (got ? "" : got.error().what()));
    int status = 0;
    BOOST_TEST(::waitpid(pid, &status, 0) == pid);
    BOOST_TEST((WIFEXITED(status) && WEXITSTATUS(status) == 0));
    for (int fd : {ready[0], ready[1], go[0], go[1]}) ::close(fd);
}

BOOST_AUTO_TEST_CASE(a_symlink_in_place_of_the_lock_is_refused)
{
    test::temp_dir dir;
    auto state = dir.file("state");
    BOOST_TEST_REQUIRE(::mkdir(state.c_str(), 0700) == 0);
    BOOST_TEST_REQUIRE(::symlink(dir.file("elsewhere").c_str(), (state + "/lock").c_str()) == 0);
    auto l = state_lock::acquire(state, "wfsync sync");
    BOOST_TEST_REQUIRE(l.has_error());
    BOOST_TEST(l.error().what().find("cannot open the state lock " + state + "/lock") != std::string::npos,
               l.error().what());
    BOOST_TEST(!std::filesystem::exists(dir.file("elsewhere")));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(hygiene)

BOOST_AUTO_TEST_CASE(a_state_directory_others_may_write_is_refused)
{
    test::temp_dir dir;
    auto state = dir.file("state");
    BOOST_TEST_REQUIRE(::mkdir(state.c_str(), 0700) == 0);
    BOOST_TEST_REQUIRE(::chmod(state.c_str(), 0777) == 0);
    auto s = open_sqlite(state + "/state.db");
    BOOST_TEST_REQUIRE(s.has_error());
    BOOST_TEST(s.error().what().find("state directory " + state + " is writable by others (mode 0777)") !=
                   std::string::npos,
               s.error().what());
    BOOST_TEST(!std::filesystem::exists(state + "/state.db"));
    BOOST_TEST_REQUIRE(::chmod(state.c_str(), 0770) == 0);
    auto group = open_sqlite(state + "/state.db");
    BOOST_TEST_REQUIRE(group.has_error());
    BOOST_TEST(group.error().what().find("writable by its group (mode 0770)") != std::string::npos);
    BOOST_TEST_REQUIRE(::chmod(state.c_str(), 0750) == 0);
    BOOST_TEST(open_sqlite(state + "/state.db").has_value());
}

BOOST_AUTO_TEST_CASE(a_symbolic_link_in_place_of_the_state_is_not_followed)
{
    test::temp_dir dir;
    auto state = dir.file("state");
    BOOST_TEST_REQUIRE(::mkdir(state.c_str(), 0700) == 0);
    // Dangling: following it would create its target.
    BOOST_TEST_REQUIRE(::symlink(dir.file("elsewhere.db").c_str(), (state + "/state.db").c_str()) == 0);
    auto s = open_sqlite(state + "/state.db");
    BOOST_TEST_REQUIRE(s.has_error());
    BOOST_TEST(s.error().what().find("state database " + state + "/state.db is a symbolic link") != std::string::npos,
               s.error().what());
    BOOST_TEST(!std::filesystem::exists(dir.file("elsewhere.db")));
}

BOOST_AUTO_TEST_SUITE_END()
