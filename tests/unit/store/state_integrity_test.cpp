// SPDX-License-Identifier: Apache-2.0
// A damaged state is refused, never used; `state check` and `state backup`; the state's files
// checked before SQLite opens them (FIFOs, permissions, a read-only file system).
#include <boost/test/unit_test.hpp>

#include <wfsync/store/state_backup.hpp>
#include <wfsync/store/state_check.hpp>
#include <wfsync/store/state_lock.hpp>
#include <wfsync/store/store.hpp>

#include <support/temp_dir.hpp>

#include "support/raw_sqlite.hpp"

#include <sqlite3.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sched.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <thread>

using namespace wfsync;
using namespace wfsync::store;

namespace {

bool contains(const std::string& hay, const std::string& needle)
{
    return hay.find(needle) != std::string::npos;
}

using raw = wfsync::test::raw_sqlite;

/// A state with `n` runs and an event each (several pages per table).
void fill(const std::string& path, int n)
{
    auto s = open_sqlite(path);
    BOOST_TEST_REQUIRE(s.has_value(), (s ? "" : s.error().what()));
    (*s)->begin_batching();
    for (int i = 0; i < n; ++i) {
        auto uid = "run-" + std::to_string(i);
        BOOST_TEST_REQUIRE((*s)->begin_run(uid, "rule", "sync").has_value());
        event_row e;
        e.run_uid = uid;
        e.rule = "rule";
        e.kind = "imported";
        e.message = std::string(200, 'm');
        BOOST_TEST_REQUIRE((*s)->add_event(e).has_value());
    }
    BOOST_TEST_REQUIRE((*s)->end_batching().has_value());
}

/// Flips every bit of the first bytes of `table`'s root b-tree page (its header: page type,
/// free block, cell count), the damage a bad disk sector or a stray write leaves.
void damage(const std::string& path, const std::string& table)
{
    std::int64_t root = 0, page_size = 0;
    {
        raw r(path);
        root = r.integer("SELECT rootpage FROM sqlite_schema WHERE name = '" + table + "'");
        page_size = r.integer("PRAGMA page_size");
    }
    BOOST_TEST_REQUIRE(root > 1);
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    BOOST_TEST_REQUIRE(f.good());
    const auto at = (root - 1) * page_size;
    char bytes[8];
    f.seekg(at);
    f.read(bytes, sizeof bytes);
    for (auto& b : bytes) b = static_cast<char>(~b);
    f.seekp(at);
    f.write(bytes, sizeof bytes);
    BOOST_TEST_REQUIRE(f.good());
}

/// Runs `fn` in a child process, as user nobody when this test runs as root (root passes every
/// permission check), and returns its exit status; `fn` reports failures with its return value.
int as_unprivileged(const std::filesystem::path& tree, const std::function<int()>& fn)
{
    if (::geteuid() == 0) {
        for (auto& e : std::filesystem::recursive_directory_iterator(tree)) (void)::lchown(e.path().c_str(), 65534, 65534);
        (void)::lchown(tree.c_str(), 65534, 65534);
    }
    pid_t pid = ::fork();
    if (pid == 0) {
        if (::geteuid() == 0 && (::setgid(65534) != 0 || ::setuid(65534) != 0)) ::_exit(99);
        ::_exit(fn());
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(damaged_state)

BOOST_AUTO_TEST_CASE(a_damaged_btree_is_refused_at_open_naming_the_file_and_how_to_restore)
{
    test::temp_dir dir;
    auto path = dir.file("state.db");
    fill(path, 300);
    damage(path, "events");
    const auto before = test::read_file(path);

    auto s = open_sqlite(path);
    BOOST_TEST_REQUIRE(s.has_error());
    const auto msg = s.error().message;
    BOOST_TEST((s.error().code == errc::store));
    BOOST_TEST(contains(msg, "state database " + path + " is damaged (PRAGMA quick_check: "), msg);
    BOOST_TEST(contains(msg, "wfsync will not use it"), msg);
    BOOST_TEST(contains(msg, "wfsync state backup FILE"), msg);
    BOOST_TEST(contains(msg, "copy the backup over " + path), msg);
    BOOST_TEST(contains(msg, "delete " + path + "-wal and " + path + "-shm"), msg);
    // Refused, not repaired or written to.
    BOOST_TEST((test::read_file(path) == before));
}

BOOST_AUTO_TEST_CASE(an_index_that_disagrees_with_its_table_is_refused_at_open)
{
    // quick_check does not compare an index with its table. An intents index that no longer
    // finds an intent would have the next run send its import again.
    test::temp_dir dir;
    auto path = dir.file("state.db");
    fill(path, 1);
    {
        raw r(path);
        r.exec("INSERT INTO import_intents (rule, run_uid, source_tenant, source_workflow, source_version, "
               "content_hash, target_tenant, target_workflow, target_version, generation, idempotency_key, state, "
               "detail, created_at, updated_at) VALUES ('rule-a', 'run', 's', '1', 'v', 'h', 't', '2', 'v', 0, 'k', "
               "'pending', '', 1, 1)");
    }
    std::int64_t root = 0, page_size = 0;
    {
        raw r(path);
        root = r.integer("SELECT rootpage FROM sqlite_schema WHERE name = 'import_intents_tuple'");
        page_size = r.integer("PRAGMA page_size");
    }
    {
        // The index's only entry now says rule-b: still in order, no longer the table's row.
        std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
        std::string page(static_cast<std::size_t>(page_size), '\0');
        f.seekg((root - 1) * page_size);
        f.read(page.data(), page_size);
        auto at = page.rfind("rule-a");
        BOOST_TEST_REQUIRE(at != std::string::npos);
        f.seekp((root - 1) * page_size + static_cast<std::int64_t>(at) + 5);
        f.put('b');
        BOOST_TEST_REQUIRE(f.good());
    }
    {
        raw r(path, SQLITE_OPEN_READONLY);
        BOOST_TEST_REQUIRE(r.text("PRAGMA quick_check") == "ok");
        BOOST_TEST_REQUIRE(r.text("PRAGMA integrity_check") != "ok");
    }
    const auto before = test::read_file(path);
    auto s = open_sqlite(path);
    BOOST_TEST_REQUIRE(s.has_error());
    BOOST_TEST((s.error().code == errc::store));
    BOOST_TEST(contains(s.error().message, "state database " + path + " is damaged (PRAGMA integrity_check(import_intents): "),
               s.error().message);
    BOOST_TEST(contains(s.error().message, "copy the backup over " + path), s.error().message);
    BOOST_TEST((test::read_file(path) == before));
}

BOOST_AUTO_TEST_CASE(check_integrity_says_ok_or_lists_the_problems_bounded)
{
    test::temp_dir dir;
    auto path = dir.file("state.db");
    fill(path, 300);
    auto good = check_integrity(path);
    BOOST_TEST_REQUIRE(good.has_value(), (good ? "" : good.error().what()));
    BOOST_TEST(good->ok());

    damage(path, "events");
    damage(path, "runs");
    const auto before = test::read_file(path);
    auto bad = check_integrity(path, 2);
    BOOST_TEST_REQUIRE(bad.has_value(), (bad ? "" : bad.error().what()));
    BOOST_TEST(!bad->ok());
    BOOST_TEST(bad->problems.size() <= 2u);
    BOOST_TEST(!bad->problems.front().empty());
    BOOST_TEST((test::read_file(path) == before));
}

BOOST_AUTO_TEST_CASE(check_integrity_of_a_file_that_is_no_database_is_a_problem_not_a_failure)
{
    test::temp_dir dir;
    auto path = dir.write("state.db", std::string(8192, 'x'));
    auto rep = check_integrity(path);
    BOOST_TEST_REQUIRE(rep.has_value(), (rep ? "" : rep.error().what()));
    BOOST_TEST_REQUIRE(rep->problems.size() == 1u);
    BOOST_TEST(rep->problems[0] == "cannot be read: file is not a database");

    auto missing = check_integrity(dir.file("nope.db"));
    BOOST_TEST_REQUIRE(missing.has_error());
    BOOST_TEST(missing.error().message == "there is no state database " + dir.file("nope.db"));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(backup)

BOOST_AUTO_TEST_CASE(a_backup_opens_passes_integrity_check_and_holds_the_same_rows)
{
    test::temp_dir dir;
    auto path = dir.file("state.db");
    fill(path, 500);
    auto dest = dir.file("backup.db");
    auto rep = backup_state(path, dest);
    BOOST_TEST_REQUIRE(rep.has_value(), (rep ? "" : rep.error().what()));
    BOOST_TEST(rep->pages > 10);
    BOOST_TEST(rep->bytes == static_cast<std::int64_t>(std::filesystem::file_size(dest)));

    struct stat st {};
    BOOST_TEST_REQUIRE(::stat(dest.c_str(), &st) == 0);
    BOOST_TEST((st.st_mode & 07777) == 0600u);
    raw copy(dest, SQLITE_OPEN_READONLY);
    BOOST_TEST(copy.text("PRAGMA integrity_check") == "ok");
    BOOST_TEST(copy.text("PRAGMA journal_mode") == "delete");  // one self-contained file
    BOOST_TEST(copy.integer("SELECT count(*) FROM runs") == 500);
    BOOST_TEST(copy.integer("SELECT count(*) FROM events") == 500);
    raw orig(path, SQLITE_OPEN_READONLY);
    BOOST_TEST(copy.text("SELECT group_concat(uid) FROM runs") == orig.text("SELECT group_concat(uid) FROM runs"));
    // No temporary file is left behind.
    int files = 0;
    for (auto& e : std::filesystem::directory_iterator(dir.path()))
        if (contains(e.path().filename().string(), ".tmp-")) ++files;
    BOOST_TEST(files == 0);
    // And the copy is a state wfsync opens.
    auto reopened = open_sqlite(dest);
    BOOST_TEST(reopened.has_value(), (reopened ? "" : reopened.error().what()));
}

BOOST_AUTO_TEST_CASE(an_existing_file_is_replaced_only_with_force_and_never_if_not_a_regular_file)
{
    test::temp_dir dir;
    auto path = dir.file("state.db");
    fill(path, 10);
    auto dest = dir.write("backup.db", "keep me");
    auto refused = backup_state(path, dest);
    BOOST_TEST_REQUIRE(refused.has_error());
    BOOST_TEST((refused.error().code == errc::invalid_argument));
    BOOST_TEST(refused.error().message ==
               "backup file " + dest + " exists; choose another name, or add --force to replace it");
    BOOST_TEST(test::read_file(dest) == "keep me");

    auto forced = backup_state(path, dest, {.force = true});
    BOOST_TEST_REQUIRE(forced.has_value(), (forced ? "" : forced.error().what()));
    BOOST_TEST(raw(dest).integer("SELECT count(*) FROM runs") == 10);

    auto fifo = dir.file("fifo.db");
    BOOST_TEST_REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    auto on_fifo = backup_state(path, fifo, {.force = true});
    BOOST_TEST_REQUIRE(on_fifo.has_error());
    BOOST_TEST(on_fifo.error().message == "backup file " + fifo + " exists and is not a regular file but a FIFO");

    auto itself = backup_state(path, path, {.force = true});
    BOOST_TEST_REQUIRE(itself.has_error());
    BOOST_TEST(itself.error().message == "backup file " + path + " is the state database itself");
}

BOOST_AUTO_TEST_CASE(a_damaged_state_gives_no_backup)
{
    test::temp_dir dir;
    auto path = dir.file("state.db");
    fill(path, 300);
    damage(path, "events");
    auto dest = dir.file("backup.db");
    auto rep = backup_state(path, dest);
    BOOST_TEST_REQUIRE(rep.has_error());
    BOOST_TEST((rep.error().code == errc::store));
    BOOST_TEST(contains(rep.error().message, "state database " + path + " is damaged"), rep.error().message);
    BOOST_TEST(contains(rep.error().message, "no backup was written"), rep.error().message);
    BOOST_TEST(!std::filesystem::exists(dest));
}

BOOST_AUTO_TEST_CASE(a_backup_taken_while_another_connection_writes_is_one_consistent_snapshot)
{
    // The writer commits a pair of rows per transaction; a copy holding a torn state would
    // have the tables disagree. The backup is retried until one overlapped writes.
    test::temp_dir dir;
    auto path = dir.file("state.db");
    fill(path, 10);
    {
        raw r(path);
        r.exec("CREATE TABLE left_side (n INTEGER); CREATE TABLE right_side (n INTEGER, pad BLOB)");
        // Enough pages that a copy takes a while.
        r.exec("WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 4000) "
               "INSERT INTO right_side SELECT -i, randomblob(2000) FROM c");
    }
    bool overlapped = false;
    {
        test::paired_writer writer(path);
        for (int attempt = 0; attempt < 20 && !overlapped; ++attempt) {
            auto dest = dir.file("backup-" + std::to_string(attempt) + ".db");
            const int before = writer.commits();
            auto rep = backup_state(path, dest);
            const int after = writer.commits();
            BOOST_TEST_REQUIRE(rep.has_value(), (rep ? "" : rep.error().what()));
            raw copy(dest, SQLITE_OPEN_READONLY);
            BOOST_TEST(copy.text("PRAGMA integrity_check") == "ok");
            const auto left = copy.integer("SELECT count(*) FROM left_side");
            BOOST_TEST(left == copy.integer("SELECT count(*) FROM right_side WHERE n >= 0"));
            BOOST_TEST(left >= before);
            overlapped = after > before;
            BOOST_TEST_MESSAGE("backup " << attempt << ": " << left << " pairs, " << after - before
                                         << " commits during the backup");
        }
    }
    BOOST_TEST(overlapped);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(state_files)

BOOST_AUTO_TEST_CASE(a_fifo_in_place_of_the_state_or_its_wal_is_refused_without_hanging)
{
    test::temp_dir dir;
    auto path = dir.file("state.db");
    BOOST_TEST_REQUIRE(::mkfifo(path.c_str(), 0600) == 0);
    auto s = open_sqlite(path);
    BOOST_TEST_REQUIRE(s.has_error());
    BOOST_TEST((s.error().code == errc::io));
    BOOST_TEST(s.error().message == "state database " + path + " is not a regular file but a FIFO");
    auto check = check_integrity(path);
    BOOST_TEST_REQUIRE(check.has_error());
    BOOST_TEST(check.error().message == "state database " + path + " is not a regular file but a FIFO");
    auto backup = backup_state(path, dir.file("b.db"));
    BOOST_TEST_REQUIRE(backup.has_error());
    BOOST_TEST(backup.error().message == "state database " + path + " is not a regular file but a FIFO");

    // SQLite would open (and read from) a FIFO named like its WAL.
    auto other = dir.file("other.db");
    fill(other, 1);
    BOOST_TEST_REQUIRE(::mkfifo((other + "-wal").c_str(), 0600) == 0);
    auto wal = open_sqlite(other);
    BOOST_TEST_REQUIRE(wal.has_error());
    BOOST_TEST(wal.error().message == other + "-wal is not a regular file but a FIFO; wfsync needs it to be the "
                                              "state database's own wal file: remove it");
}

BOOST_AUTO_TEST_CASE(a_fifo_in_place_of_the_lock_is_refused_without_hanging)
{
    test::temp_dir dir;
    auto state = dir.file("state");
    BOOST_TEST_REQUIRE(::mkdir(state.c_str(), 0700) == 0);
    BOOST_TEST_REQUIRE(::mkfifo((state + "/lock").c_str(), 0600) == 0);
    auto l = state_lock::acquire(state, "wfsync sync");
    BOOST_TEST_REQUIRE(l.has_error());
    BOOST_TEST((l.error().code == errc::io));
    BOOST_TEST(l.error().message == "the state lock " + state + "/lock is not a regular file but a FIFO; remove it");
}

BOOST_AUTO_TEST_CASE(access_refused_is_a_permission_error)
{
    test::temp_dir dir;
    auto state = dir.path() / "state";
    auto path = (state / "state.db").string();
    fill(path, 1);
    // The directory read-only to its owner: SQLite could not create the -wal beside the file.
    BOOST_TEST_REQUIRE(::chmod(state.c_str(), 0500) == 0);
    int rc = as_unprivileged(dir.path(), [&] {
        auto s = open_sqlite(path);
        if (!s) std::fprintf(stderr, "%s\n", s.error().message.c_str());
        if (!s && s.error().code == errc::permission &&
            contains(s.error().message, "cannot write in state directory " + state.string()))
            return 0;
        return 1;
    });
    BOOST_TEST(rc == 0);
    // The file read-only: opening it for writing is refused.
    BOOST_TEST_REQUIRE(::chmod(state.c_str(), 0700) == 0);
    BOOST_TEST_REQUIRE(::chmod(path.c_str(), 0400) == 0);
    rc = as_unprivileged(dir.path(), [&] {
        auto s = open_sqlite(path);
        if (!s) std::fprintf(stderr, "%s\n", s.error().message.c_str());
        if (!s && s.error().code == errc::permission &&
            contains(s.error().message, "cannot open state database " + path + " for reading and writing: Permission denied"))
            return 0;
        return 1;
    });
    BOOST_TEST(rc == 0);
    // Reading needs no write access: state check works on it.
    rc = as_unprivileged(dir.path(), [&] {
        auto c = check_integrity(path);
        if (!c) std::fprintf(stderr, "%s\n", c.error().message.c_str());
        return c && c->ok() ? 0 : 1;
    });
    BOOST_TEST(rc == 0);
}

BOOST_AUTO_TEST_CASE(a_read_only_file_system_is_an_io_error)
{
    // A private mount namespace with a tmpfs remounted read-only: needs CAP_SYS_ADMIN.
    test::temp_dir dir;
    auto mnt = dir.file("mnt");
    std::filesystem::create_directory(mnt);
    pid_t pid = ::fork();
    if (pid == 0) {
        if (::unshare(CLONE_NEWNS) != 0) ::_exit(77);
        if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) ::_exit(77);
        if (::mount("tmpfs", mnt.c_str(), "tmpfs", 0, "mode=0700") != 0) ::_exit(77);
        const auto path = mnt + "/state.db";
        { auto s = open_sqlite(path); if (!s) ::_exit(2); }
        if (::mount(nullptr, mnt.c_str(), nullptr, MS_REMOUNT | MS_RDONLY, nullptr) != 0) ::_exit(77);
        auto s = open_sqlite(path);
        if (!s) std::fprintf(stderr, "%s\n", s.error().message.c_str());
        if (s || s.error().code != errc::io) ::_exit(3);
        if (s.error().message != "cannot open state database " + path + " for writing: read-only file system") ::_exit(4);
        // Reading still works.
        auto c = check_integrity(path);
        ::_exit(c && c->ok() ? 0 : 5);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    BOOST_TEST_REQUIRE(WIFEXITED(status));
    if (WEXITSTATUS(status) == 77) {
        BOOST_TEST_MESSAGE("skipped: no private mount namespace here (needs CAP_SYS_ADMIN)");
        std::printf("a_read_only_file_system_is_an_io_error: skipped, cannot mount a read-only file system here\n");
        return;
    }
    BOOST_TEST(WEXITSTATUS(status) == 0);
}

BOOST_AUTO_TEST_SUITE_END()
