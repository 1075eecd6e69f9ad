// SPDX-License-Identifier: Apache-2.0
// What only the PostgreSQL backend has: the throwaway server itself, migrations under the
// advisory lock, URLs and password files, and a connection that goes away. The behaviour both
// backends share is in store_contract_test.cpp.
#include "postgres_fixture.hpp"
#include "store_backend.hpp"

#include <boost/test/unit_test.hpp>

#include <wfsync/store/store.hpp>

#include <support/temp_dir.hpp>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <thread>
#include <unistd.h>

using namespace wfsync;
using namespace wfsync::store;
using wfsync::test::fresh_postgres_database;
using wfsync::test::raw_pg;
using wfsync::test::shared_postgres;

namespace {

std::unique_ptr<wfsync::store::store> open_ok(const std::string& url, const std::string& password_file = {})
{
    auto s = open_postgresql(url, password_file);
    BOOST_TEST_REQUIRE(s.has_value(), (s.has_error() ? s.error().what() : ""));
    return std::move(*s);
}

/// The database name at the end of a socket URL ("...//t3?host=...").
std::string database_of(const std::string& url)
{
    const auto slash = url.find("@/") + 2;
    return url.substr(slash, url.find('?') - slash);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(postgresql, *boost::unit_test::precondition(wfsync::test::store_backend_available))

BOOST_AUTO_TEST_CASE(a_private_server_starts_as_nobody_and_leaves_nothing_behind)
{
    std::filesystem::path dir;
    {
        test::postgres_server server;
        BOOST_TEST_MESSAGE("test PostgreSQL server started in " << server.start_time().count() << " ms");
        dir = std::filesystem::path(server.socket_dir()).parent_path();
        BOOST_TEST(std::filesystem::exists(dir / "data" / "PG_VERSION"));
        raw_pg db(server.socket_url());
        BOOST_TEST(db.text("SHOW fsync") == "off");
        BOOST_TEST(db.text("SHOW listen_addresses") == "127.0.0.1");
        BOOST_TEST(db.integer("SELECT count(*) FROM pg_stat_activity WHERE usename = 'wfsync'") >= 1);
        // The server refuses root: under root it runs as nobody.
        const auto status = test::read_file("/proc/" + std::to_string(db.backend_pid()) + "/status");
        const auto uid = status.substr(status.find("Uid:"), status.find('\n', status.find("Uid:")) - status.find("Uid:"));
        if (::geteuid() == 0) BOOST_TEST(uid.find("65534") != std::string::npos, uid);
    }
    BOOST_TEST(!std::filesystem::exists(dir), dir);
}

BOOST_AUTO_TEST_CASE(a_fresh_database_gets_every_migration_once)
{
    const auto url = fresh_postgres_database();
    auto s = open_ok(url);
    BOOST_TEST(s->schema_version() == 7);
    raw_pg raw(url);
    BOOST_TEST(raw.integer("SELECT count(*) FROM wfsync_schema_migrations") == 7);
    BOOST_TEST(raw.text("SELECT string_agg(name, ',' ORDER BY version) FROM wfsync_schema_migrations") ==
               "0001_init,0002_async_jobs,0003_job_resume,0004_archive,0005_read_back,0006_listing_marks,"
               "0007_notifications");
    for (auto table : {"tenants", "workflows", "versions", "workflow_mappings", "version_mappings", "import_intents",
                       "runs", "events", "async_jobs", "archive_files", "archive_entries", "listing_marks",
                       "notifications", "rule_health"})
        BOOST_TEST(raw.integer(std::string("SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND "
                                           "tablename = '") + table + "'") == 1,
                   table);
    BOOST_TEST(raw.text("SELECT data_type FROM information_schema.columns WHERE table_name = 'versions' AND "
                        "column_name = 'package'") == "bytea");
    // Opening again migrates nothing.
    auto again = open_ok(url);
    BOOST_TEST(raw.integer("SELECT count(*) FROM wfsync_schema_migrations") == 7);
}

BOOST_AUTO_TEST_CASE(concurrent_migrators_are_serialized_by_the_advisory_lock)
{
    const auto url = fresh_postgres_database();
    constexpr int n = 4;
    std::vector<std::string> errors(n);
    std::vector<std::thread> threads;
    for (int i = 0; i < n; ++i)
        threads.emplace_back([&, i] {
            auto s = open_postgresql(url);
            if (!s) errors[static_cast<std::size_t>(i)] = s.error().what();
            else if ((*s)->schema_version() != 7) errors[static_cast<std::size_t>(i)] = "schema version not 7";
        });
    for (auto& t : threads) t.join();
    for (const auto& e : errors) BOOST_TEST(e.empty(), e);
    raw_pg raw(url);
    BOOST_TEST(raw.integer("SELECT count(*) FROM wfsync_schema_migrations") == 7);
}

BOOST_AUTO_TEST_CASE(refuses_a_newer_schema_naming_both_versions)
{
    const auto url = fresh_postgres_database();
    { open_ok(url); }
    raw_pg(url).exec("INSERT INTO wfsync_schema_migrations VALUES (99, '0099_future', 0)");
    auto s = open_postgresql(url);
    BOOST_TEST_REQUIRE(s.has_error());
    BOOST_TEST((s.error().code == errc::store));
    BOOST_TEST(s.error().message.find("schema version 99, newer than this wfsync knows (7)") != std::string::npos,
               s.error().message);
}

BOOST_AUTO_TEST_CASE(refuses_another_programs_database_and_leaves_it_alone)
{
    const auto url = fresh_postgres_database();
    raw_pg raw(url);
    raw.exec("CREATE TABLE customers (id INTEGER)");
    auto s = open_postgresql(url);
    BOOST_TEST_REQUIRE(s.has_error());
    BOOST_TEST((s.error().code == errc::store));
    BOOST_TEST(s.error().message.find("is not a wfsync state") != std::string::npos, s.error().message);
    BOOST_TEST(raw.integer("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == 1);
}

BOOST_AUTO_TEST_CASE(packages_are_stored_compressed_as_bytea)
{
    const auto url = fresh_postgres_database();
    auto s = open_ok(url);
    auto wf = s->upsert_workflow("prod", "458", "Invoice sync").value();
    const std::string pkg(100000, 'a');
    auto v = s->put_version(wf.id, "1", "h", "zuora-json", pkg).value();
    raw_pg raw(url);
    BOOST_TEST(raw.integer("SELECT octet_length(package) FROM versions WHERE id = " + std::to_string(v.id)) < 2000);
    BOOST_TEST(raw.integer("SELECT size FROM versions WHERE id = " + std::to_string(v.id)) == 100000);
    BOOST_TEST(s->load_package(v.id).value() == pkg);
}

BOOST_AUTO_TEST_CASE(tcp_with_a_password_file_and_refused_passwords_never_shown)
{
    auto& server = shared_postgres();
    const auto db = database_of(fresh_postgres_database());
    auto s = open_ok(server.tcp_url(db), server.password_file());
    BOOST_TEST(s->schema_version() == 7);

    test::temp_dir dir;
    const auto wrong = dir.write("wrong", "not-the-password-4711\n");
    auto refused = open_postgresql(server.tcp_url(db), wrong);
    BOOST_TEST_REQUIRE(refused.has_error());
    BOOST_TEST((refused.error().code == errc::auth), refused.error().what());
    BOOST_TEST(refused.error().message.find("4711") == std::string::npos, refused.error().message);

    // A password in the URL is redacted from the message too.
    const auto inline_url = "postgresql://wfsync:secret-in-url-0815@127.0.0.1:" + std::to_string(server.port()) + "/" + db;
    auto in_url = open_postgresql(inline_url);
    BOOST_TEST_REQUIRE(in_url.has_error());
    BOOST_TEST((in_url.error().code == errc::auth), in_url.error().what());
    BOOST_TEST(in_url.error().message.find("0815") == std::string::npos, in_url.error().message);
    BOOST_TEST(in_url.error().message.find("wfsync:***@127.0.0.1") != std::string::npos, in_url.error().message);

    auto empty = open_postgresql(server.tcp_url(db), dir.write("empty", ""));
    BOOST_TEST_REQUIRE(empty.has_error());
    BOOST_TEST((empty.error().code == errc::config));
    BOOST_TEST(empty.error().message.find("is empty") != std::string::npos, empty.error().message);
}

BOOST_AUTO_TEST_CASE(sslmode_passes_through_to_libpq)
{
    auto& server = shared_postgres();
    // The test server has no TLS: sslmode=require must refuse it, not fall back to plain text.
    auto s = open_postgresql(server.tcp_url("postgres") + "?sslmode=require", server.password_file());
    BOOST_TEST_REQUIRE(s.has_error());
    BOOST_TEST((s.error().code == errc::transport));
    BOOST_TEST(s.error().message.find("SSL") != std::string::npos, s.error().message);
}

BOOST_AUTO_TEST_CASE(an_unreachable_server_is_a_retryable_transport_error)
{
    const auto port = test::free_port();
    auto s = open_postgresql("postgresql://wfsync@127.0.0.1:" + std::to_string(port) + "/x?connect_timeout=5");
    BOOST_TEST_REQUIRE(s.has_error());
    BOOST_TEST((s.error().code == errc::transport));
    BOOST_TEST(is_retryable(s.error()));
    BOOST_TEST(s.error().message.find("127.0.0.1:" + std::to_string(port)) != std::string::npos, s.error().message);
}

BOOST_AUTO_TEST_CASE(a_lost_connection_fails_retryably_and_the_next_call_reconnects)
{
    const auto url = fresh_postgres_database();
    auto s = open_ok(url);
    (void)s->upsert_workflow("prod", "1", "before").value();
    raw_pg admin(url);
    BOOST_TEST_REQUIRE(admin.integer("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE "
                                     "application_name = 'wfsync' AND datname = '" + database_of(url) + "'") == 1);
    auto lost = s->find_workflow("prod", "1");
    BOOST_TEST_REQUIRE(lost.has_error());
    BOOST_TEST((lost.error().code == errc::transport), lost.error().what());
    BOOST_TEST(is_retryable(lost.error()));
    // Nothing was half done; the store reconnects on the next call.
    auto again = s->find_workflow("prod", "1");
    BOOST_TEST_REQUIRE(again.has_value(), (again.has_error() ? again.error().what() : ""));
    BOOST_TEST((*again)->name == "before");
}

BOOST_AUTO_TEST_CASE(a_batch_lost_with_its_connection_is_lost_whole_and_the_store_goes_on)
{
    const auto url = fresh_postgres_database();
    auto s = open_ok(url);
    s->begin_batching();
    BOOST_TEST_REQUIRE(s->upsert_workflow("prod", "1", "batched").has_value());
    BOOST_TEST_REQUIRE(s->upsert_workflow("prod", "2", "batched").has_value());
    raw_pg admin(url);
    BOOST_TEST_REQUIRE(admin.integer("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE "
                                     "application_name = 'wfsync' AND datname = '" + database_of(url) + "'") == 1);
    // The write that finds the connection gone, or the commit, says so; nothing half is kept.
    auto third = s->upsert_workflow("prod", "3", "batched");
    BOOST_TEST_REQUIRE(third.has_error());
    BOOST_TEST((third.error().code == errc::transport), third.error().what());
    (void)s->end_batching();
    BOOST_TEST(admin.integer("SELECT count(*) FROM workflows") == 0);
    // Out of the batch, the store reconnects and writes again.
    BOOST_TEST_REQUIRE(s->upsert_workflow("prod", "4", "after").has_value());
    BOOST_TEST(admin.integer("SELECT count(*) FROM workflows") == 1);
    BOOST_TEST(s->batched_writes() == 0u);
}

BOOST_AUTO_TEST_CASE(a_lock_held_past_lock_timeout_is_busy_and_retryable)
{
    const auto url = fresh_postgres_database();
    { open_ok(url); }
    // lock_timeout from the URL (the default is 5 s, as SQLite's busy_timeout).
    auto s = open_ok(url + "&options=-c%20lock_timeout%3D200");
    raw_pg other(url);
    other.exec("BEGIN");
    other.exec("LOCK TABLE workflows IN ACCESS EXCLUSIVE MODE");
    const auto start = std::chrono::steady_clock::now();
    auto r = s->upsert_workflow("prod", "1", "a");
    BOOST_TEST_REQUIRE(r.has_error());
    BOOST_TEST((r.error().code == errc::busy), r.error().what());
    BOOST_TEST(is_retryable(r.error()));
    BOOST_TEST(r.error().message.find("SQLSTATE 55P03") != std::string::npos, r.error().message);
    BOOST_TEST((std::chrono::steady_clock::now() - start < std::chrono::seconds(4)));
    other.exec("ROLLBACK");
    // The failed transaction was rolled back; the next call works.
    BOOST_TEST(s->upsert_workflow("prod", "1", "a").has_value());
}

BOOST_AUTO_TEST_CASE(a_deadlock_is_busy_and_retryable)
{
    const auto url = fresh_postgres_database();
    { (void)open_ok(url)->upsert_workflow("prod", "1", "first").value(); }
    // The store's session checks for deadlocks after 1 s, the other's after 60 s: the store's is
    // the one the server aborts.
    auto s = open_ok(url + "&options=-c%20deadlock_timeout%3D1s");
    raw_pg other(url);
    other.exec("SET deadlock_timeout = '60s'");
    other.exec("BEGIN");
    other.exec("UPDATE workflows SET name = 'other' WHERE tenant = 'prod' AND remote_id = '1'");
    result<workflow_row> got = fail(errc::internal, "not run");
    // upsert_workflow locks the tenant row, then waits for the workflow row `other` holds.
    std::thread t([&] { got = s->upsert_workflow("prod", "1", "store"); });
    raw_pg watch(url);
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (watch.integer("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'wfsync' AND "
                         "wait_event_type = 'Lock' AND datname = '" + database_of(url) + "'") == 0 &&
           std::chrono::steady_clock::now() < until)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));  // bounded poll of the server's state
    other.exec("UPDATE tenants SET last_seen = 0 WHERE name = 'prod'");  // waits for the store: a cycle
    t.join();
    other.exec("COMMIT");
    BOOST_TEST_REQUIRE(got.has_error());
    BOOST_TEST((got.error().code == errc::busy), got.error().what());
    BOOST_TEST(is_retryable(got.error()));
    BOOST_TEST(got.error().message.find("SQLSTATE 40P01") != std::string::npos, got.error().message);
    // Retried, it goes through.
    BOOST_TEST(s->upsert_workflow("prod", "1", "store").value().name == "store");
}

BOOST_AUTO_TEST_CASE(a_password_in_a_key_value_string_is_redacted)
{
    auto& server = shared_postgres();
    auto s = open_postgresql("host=127.0.0.1 port=" + std::to_string(server.port()) +
                             " user=wfsync dbname=postgres password=kv-secret-9321");
    BOOST_TEST_REQUIRE(s.has_error());
    BOOST_TEST((s.error().code == errc::auth), s.error().what());
    BOOST_TEST(s.error().message.find("9321") == std::string::npos, s.error().message);
    BOOST_TEST(s.error().message.find("password=***") != std::string::npos, s.error().message);
}

BOOST_AUTO_TEST_CASE(a_unique_violation_names_its_sqlstate)
{
    const auto url = fresh_postgres_database();
    auto s = open_ok(url);
    (void)s->begin_run("run-1", "r", "sync").value();
    auto dup = s->begin_run("run-1", "r", "sync");
    BOOST_TEST_REQUIRE(dup.has_error());
    BOOST_TEST((dup.error().code == errc::conflict));
    // Store-level messages stay the same as SQLite's; a raw constraint error carries the SQLSTATE.
    BOOST_TEST(dup.error().message == "begin run: run id run-1 already exists");
    auto orphan = s->put_version(424242, "1", "h", "f", "x");
    BOOST_TEST_REQUIRE(orphan.has_error());
    BOOST_TEST(orphan.error().message == "put version: workflow 424242 does not exist");
}

BOOST_AUTO_TEST_SUITE_END()
