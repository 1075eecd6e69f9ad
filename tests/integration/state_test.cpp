// SPDX-License-Identifier: Apache-2.0
// The state under attack, with the real binary: a damaged state.db is refused (74) and
// restored from a backup as the error says; `state check` and `state backup`, also while
// another process writes and while the lock is held; a FIFO in place of state.db; permission
// denied (77) and a read-only file system (74).
#define BOOST_TEST_MODULE wfsync_e2e_state
#include "fixtures.hpp"

#include <boost/test/unit_test.hpp>

#include "support/raw_sqlite.hpp"

#include <sqlite3.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <optional>
#include <thread>

using namespace wfsync::test;
namespace fs = std::filesystem;

namespace {

bool has(const std::string& hay, const std::string& needle)
{
    return hay.find(needle) != std::string::npos;
}

using raw = wfsync::test::raw_sqlite;
using wfsync::test::paired_writer;

/// Flips every bit of the header of `table`'s root b-tree page.
void damage(const std::string& path, const std::string& table)
{
    std::int64_t root = 0, page_size = 0;
    {
        raw r(path);
        root = r.integer("SELECT rootpage FROM sqlite_schema WHERE name = '" + table + "'");
        page_size = r.integer("PRAGMA page_size");
    }
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    char bytes[8];
    f.seekg((root - 1) * page_size);
    f.read(bytes, sizeof bytes);
    for (auto& b : bytes) b = static_cast<char>(~b);
    f.seekp((root - 1) * page_size);
    f.write(bytes, sizeof bytes);
    BOOST_TEST_REQUIRE(f.good());
}

/// Every table's row count, for comparing a backup with its state.
std::string row_counts(const std::string& path)
{
    raw r(path, SQLITE_OPEN_READONLY);
    std::string out;
    for (auto t : {"tenants", "workflows", "versions", "workflow_mappings", "version_mappings", "import_intents",
                   "runs", "events", "listing_marks"})
        out += std::string(t) + "=" + r.text(std::string("SELECT count(*) FROM ") + t) + " ";
    return out;
}

/// A first sync, so that the state holds something.
void first_sync(emulator_thread& emu, const wfsync_env& env)
{
    auto first = env.run({"sync"});
    BOOST_TEST_REQUIRE(first.code == 0, describe(first));
    BOOST_TEST_REQUIRE(imports(emu) == 3u);
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_damaged_state_exits_74_unchanged_and_is_restored_from_a_backup_as_the_error_says)
{
    emulator_thread emu(seed());
    auto env = make_env(emu->base_url());
    first_sync(emu, env);
    const auto state = env.dir->file("state/state.db");
    const auto backup = env.dir->file("state-backup.db");

    auto made = env.run({"state", "backup", backup});
    BOOST_TEST_REQUIRE(made.code == 0, describe(made));
    BOOST_TEST(has(made.out, "backup of " + state + " written to " + backup), made.out);
    BOOST_TEST(row_counts(backup) == row_counts(state));

    damage(state, "version_mappings");
    const auto before = read_file(state);
    const auto requests = emu->requests("prod").size();

    auto sync = env.run({"sync"});
    BOOST_TEST(sync.code == 74, describe(sync));
    BOOST_TEST(has(sync.err, "state database " + state + " is damaged (PRAGMA quick_check: "), sync.err);
    BOOST_TEST(has(sync.err, "wfsync will not use it. Restore it from a backup (made with `wfsync state backup FILE`): "
                             "stop the daemon (systemctl stop wfsync), delete " + state + "-wal and " + state +
                             "-shm, copy the backup over " + state + ", then start it again"),
               sync.err);
    BOOST_TEST((read_file(state) == before), "state.db was modified");
    BOOST_TEST(emu->requests("prod").size() == requests);  // nothing was asked of a tenant

    auto history = env.run({"history"});
    BOOST_TEST(history.code == 74, describe(history));
    BOOST_TEST(has(history.err, "is damaged"), history.err);

    auto check = env.run({"state", "check"});
    BOOST_TEST(check.code == 74, describe(check));
    BOOST_TEST(!check.out.empty());
    BOOST_TEST(!has(check.out, "ok\n"), check.out);
    BOOST_TEST(has(check.err, "state database " + state + " is damaged (PRAGMA integrity_check found the problems above)"),
               check.err);
    BOOST_TEST((read_file(state) == before), "state check modified state.db");

    // The restore the message describes (the daemon is not running here).
    fs::remove(state + "-wal");
    fs::remove(state + "-shm");
    fs::copy_file(backup, state, fs::copy_options::overwrite_existing);
    auto good = env.run({"state", "check"});
    BOOST_TEST(good.code == 0, describe(good));
    BOOST_TEST(good.out == "ok\n");
    auto again = env.run({"sync"});
    BOOST_TEST(again.code == 0, describe(again));
    BOOST_TEST(imports(emu) == 3u);  // the restored state knows what was imported
}

BOOST_AUTO_TEST_CASE(state_backup_is_consistent_while_another_process_writes_and_takes_no_lock)
{
    emulator_thread emu(seed());
    auto env = make_env(emu->base_url());
    first_sync(emu, env);
    const auto state = env.dir->file("state/state.db");
    {
        raw r(state);
        r.exec("CREATE TABLE left_side (n INTEGER); CREATE TABLE right_side (n INTEGER, pad BLOB)");
        r.exec("WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 4000) "
               "INSERT INTO right_side SELECT -i, randomblob(2000) FROM c");
    }
    const auto counts = row_counts(state);

    // This process holds the state's lock, as a running daemon would: a sync is refused (75),
    // a backup and a check are not.
    int lock_fd = ::open(env.dir->file("state/lock").c_str(), O_RDWR | O_CREAT, 0600);
    BOOST_TEST_REQUIRE(lock_fd >= 0);
    BOOST_TEST_REQUIRE(::flock(lock_fd, LOCK_EX | LOCK_NB) == 0);
    auto refused = env.run({"sync"});
    BOOST_TEST(refused.code == 75, describe(refused));
    BOOST_TEST(has(refused.err, "is in use by"), refused.err);

    // Pairs of rows, one transaction each: a torn copy would have the two tables disagree.
    std::optional<paired_writer> writer(std::in_place, state);
    bool overlapped = false;
    for (int attempt = 0; attempt < 10 && !overlapped; ++attempt) {
        const auto file = env.dir->file("b" + std::to_string(attempt) + ".db");
        const int before = writer->commits();
        auto b = env.run({"state", "backup", file});
        const int after = writer->commits();
        BOOST_TEST_REQUIRE(b.code == 0, describe(b));
        raw copy(file, SQLITE_OPEN_READONLY);
        BOOST_TEST(copy.text("PRAGMA integrity_check") == "ok");
        const auto pairs = copy.integer("SELECT count(*) FROM left_side");
        BOOST_TEST(pairs == copy.integer("SELECT count(*) FROM right_side WHERE n >= 0"));
        BOOST_TEST(pairs >= before);
        BOOST_TEST(row_counts(file) == counts);
        overlapped = after > before;
    }
    auto check = env.run({"state", "check"});
    writer.reset();
    BOOST_TEST(overlapped, "no backup overlapped a write");
    BOOST_TEST(check.code == 0, describe(check));
    BOOST_TEST(check.out == "ok\n");
    ::close(lock_fd);

    // An existing file is replaced only with --force.
    const auto existing = env.dir->write("existing.db", "mine");
    auto kept = env.run({"state", "backup", existing});
    BOOST_TEST(kept.code == 2, describe(kept));
    BOOST_TEST(kept.err == "wfsync: state backup: invalid_argument: backup file " + existing +
                               " exists; choose another name, or add --force to replace it\n");
    BOOST_TEST(read_file(existing) == "mine");
    auto forced = env.run({"state", "backup", existing, "--force"});
    BOOST_TEST(forced.code == 0, describe(forced));
    BOOST_TEST(row_counts(existing) == row_counts(state));
}

BOOST_AUTO_TEST_CASE(a_fifo_in_place_of_the_state_is_refused_with_74_not_waited_on)
{
    auto env = make_env("http://127.0.0.1:1");
    fs::create_directory(env.dir->file("state"));
    ::chmod(env.dir->file("state").c_str(), 0700);
    const auto state = env.dir->file("state/state.db");
    BOOST_TEST_REQUIRE(::mkfifo(state.c_str(), 0600) == 0);
    for (auto args : {std::vector<std::string>{"sync"}, {"history"}, {"state", "check"}}) {
        auto r = env.run(args, std::chrono::seconds(30));
        BOOST_TEST(r.code == 74, describe(r));
        BOOST_TEST(has(r.err, "state database " + state + " is not a regular file but a FIFO"), r.err);
    }
}

BOOST_AUTO_TEST_CASE(permission_denied_on_the_state_exits_77)
{
    emulator_thread emu(seed());
    auto env = make_env(emu->base_url());
    first_sync(emu, env);
    const auto dir = env.dir->file("state");
    const auto state = dir + "/state.db";
    BOOST_TEST_REQUIRE(::chmod(dir.c_str(), 0500) == 0);  // read-only to its owner
    auto sync = env.run_unprivileged({"sync"});
    BOOST_TEST(sync.code == 77, describe(sync));
    BOOST_TEST(has(sync.err, "cannot write in state directory " + dir + ", where SQLite keeps " + state +
                                 "-wal and " + state + "-shm: Permission denied"),
               sync.err);
    BOOST_TEST(imports(emu) == 3u);

    // Not even the owner's: the lock cannot be opened.
    BOOST_TEST_REQUIRE(::chmod(dir.c_str(), 0700) == 0);
    BOOST_TEST_REQUIRE(::chmod((dir + "/lock").c_str(), 0400) == 0);
    auto locked = env.run_unprivileged({"sync"});
    BOOST_TEST(locked.code == 77, describe(locked));
    BOOST_TEST(has(locked.err, "cannot open the state lock " + dir + "/lock: Permission denied"), locked.err);
    BOOST_TEST_REQUIRE(::chmod((dir + "/lock").c_str(), 0600) == 0);

    // A state file the user may not write.
    BOOST_TEST_REQUIRE(::chmod(state.c_str(), 0400) == 0);
    auto history = env.run_unprivileged({"history"});
    BOOST_TEST(history.code == 77, describe(history));
    BOOST_TEST(has(history.err, "cannot open state database " + state + " for reading and writing: Permission denied"),
               history.err);
    // Reading it is allowed: state check only reads.
    auto check = env.run_unprivileged({"state", "check"});
    BOOST_TEST(check.code == 0, describe(check));
}

BOOST_AUTO_TEST_CASE(a_read_only_file_system_exits_74)
{
    // A private mount namespace holding a read-only tmpfs: needs root or user namespaces.
    auto probe = run_program("/usr/bin/unshare", {::geteuid() == 0 ? "-m" : "-rm", "true"});
    if (probe.code != 0) {
        std::printf("a_read_only_file_system_exits_74: skipped, no mount namespace here: %s\n", probe.err.c_str());
        return;
    }
    emulator_thread emu(seed());
    auto env = make_env(emu->base_url());
    first_sync(emu, env);
    const auto mnt = env.dir->file("ro");
    fs::create_directory(mnt);
    auto ro_config = env.dir->write("ro.yaml", config_text(mnt + "/state", emu->base_url()));
    auto run_ro = [&](const std::string& args) {
        const std::string script = "set -e; mount -t tmpfs -o mode=0755 tmpfs '" + mnt + "'; cp -a '" +
                                   env.dir->file("state") + "' '" + mnt + "/state'; mount -o remount,ro '" + mnt +
                                   "'; exec '" + WFSYNC_BIN + "' --config '" + ro_config + "' " + args;
        return run_program("/usr/bin/unshare", {::geteuid() == 0 ? "-m" : "-rm", "sh", "-c", script}, env.env);
    };
    auto sync = run_ro("sync");
    BOOST_TEST(sync.code == 74, describe(sync));
    BOOST_TEST(has(sync.err, "cannot open the state lock " + mnt + "/state/lock: read-only file system"), sync.err);
    auto history = run_ro("history");
    BOOST_TEST(history.code == 74, describe(history));
    BOOST_TEST(has(history.err, "cannot open state database " + mnt + "/state/state.db for writing: read-only file system"),
               history.err);
    auto check = run_ro("state check");
    BOOST_TEST(check.code == 0, describe(check));
    BOOST_TEST(check.out == "ok\n");
    BOOST_TEST(imports(emu) == 3u);
}

BOOST_AUTO_TEST_CASE(config_bounds_exit_78_with_file_line_column)
{
    temp_dir dir;
    auto big = dir.write("big.yaml", "state: {path: /tmp/x}\n# " + std::string(50u << 20, 'x') + "\n");
    auto r = run_program(WFSYNC_BIN, {"--config", big, "check", "--offline"});
    BOOST_TEST(r.code == 78, describe(r));
    BOOST_TEST(has(r.err, "cannot read config file '" + big + "': it is " + std::to_string((50u << 20) + 25u) +
                              " bytes, more than the limit of 1048576 bytes"),
               r.err);

    const std::map<std::string, std::string> secrets{{"WFSYNC_TEST_SBX_SECRET", sandbox_secret},
                                                     {"WFSYNC_TEST_PROD_SECRET", prod_secret}};
    auto jitter = dir.write("j.yaml", config_text(dir.file("state"), "http://127.0.0.1:1",
                                                  {.schedule = "*/15 * * * *", .extra_rules = "    jitter: 3650d\n"}));
    auto j = run_program(WFSYNC_BIN, {"--config", jitter, "check", "--offline"}, secrets);
    BOOST_TEST(j.code == 78, describe(j));
    BOOST_TEST(j.err.find("the configuration has 1 error:") != std::string::npos, j.err);
    BOOST_TEST(has(j.err, "j.yaml:24:13: rules[0].jitter: rule 'promote': jitter 3650d is more than the maximum of 24h"), j.err);
    auto period = dir.write("p.yaml", config_text(dir.file("state"), "http://127.0.0.1:1",
                                                  {.schedule = "*/15 * * * *", .extra_rules = "    jitter: 20m\n"}));
    auto p = run_program(WFSYNC_BIN, {"--config", period, "check", "--offline"}, secrets);
    BOOST_TEST(p.err.find("the configuration has 1 error:") != std::string::npos, p.err);
    BOOST_TEST(p.code == 78, describe(p));
    BOOST_TEST(has(p.err, "p.yaml:24:13: rules[0].jitter: rule 'promote': jitter 20m is not shorter than the 15m between two "
                          "runs of its schedule '*/15 * * * *'"),
               p.err);
}

BOOST_AUTO_TEST_CASE(a_fifo_as_config_or_secret_file_exits_78_at_once)
{
    // A FIFO with no writer blocks a plain open for ever; the limit makes a hang a failure.
    temp_dir dir;
    const auto fifo = dir.file("wfsync.yaml");
    BOOST_TEST_REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    auto r = run_program(WFSYNC_BIN, {"--config", fifo, "check", "--offline"}, {}, std::chrono::seconds(30));
    BOOST_TEST(r.code == 78, describe(r));
    BOOST_TEST(has(r.err, "cannot read config file '" + fifo + "': not a regular file but a FIFO"), r.err);

    const auto secret = dir.file("sbx-secret");
    BOOST_TEST_REQUIRE(::mkfifo(secret.c_str(), 0600) == 0);
    auto text = config_text(dir.file("state"), "http://127.0.0.1:1", {});
    const std::string env_key = "client_secret_env: WFSYNC_TEST_SBX_SECRET";
    BOOST_TEST_REQUIRE(text.find(env_key) != std::string::npos);
    text.replace(text.find(env_key), env_key.size(), "client_secret_file: " + secret);
    auto cfg = dir.write("s.yaml", text);
    auto s = run_program(WFSYNC_BIN, {"--config", cfg, "sync"}, {{"WFSYNC_TEST_PROD_SECRET", prod_secret}},
                         std::chrono::seconds(30));
    BOOST_TEST(s.code == 78, describe(s));
    BOOST_TEST(has(s.err, "cannot read secret file '" + secret + "': not a regular file but a FIFO"), s.err);
}
