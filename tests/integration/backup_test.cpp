// SPDX-License-Identifier: Apache-2.0
// End to end: backups to a local archive, verify, prune and restore, with the real binary.
#define BOOST_TEST_MODULE wfsync backup end to end
#include "fixtures.hpp"

#include <wfsync/core/hash.hpp>

#include <boost/test/unit_test.hpp>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <sys/stat.h>

using namespace wfsync::test;
namespace json = boost::json;
namespace fs = std::filesystem;

namespace {

/// The shared seed plus an empty tenant to restore into.
std::string backup_seed()
{
    auto s = json::parse(seed()).as_object();
    s["tenants"].as_object()["staging"] = json::object{{"platform", "zuora"},
                                                       {"client_id", "stg-client"},
                                                       {"client_secret", prod_secret},
                                                       {"workflows", json::array{}}};
    return json::serialize(s);
}

wfsync_env backup_env(const std::string& base_url, const std::string& retention = {})
{
    wfsync_env e;
    std::string text =
        "state: {path: " + e.dir->file("state") + "}\n"
        "log: {level: debug}\n"
        "defaults:\n"
        "  retry: {max_attempts: 3, initial_backoff: 5ms, max_backoff: 50ms}\n"
        "tenants:\n"
        "  sandbox:\n"
        "    platform: zuora\n"
        "    base_url: " + base_url + "/t/sandbox\n"
        "    auth: {type: oauth2, client_id: sbx-client, client_secret_env: WFSYNC_TEST_SBX_SECRET}\n"
        "  staging:\n"
        "    platform: zuora\n"
        "    base_url: " + base_url + "/t/staging\n"
        "    auth: {type: oauth2, client_id: stg-client, client_secret_env: WFSYNC_TEST_PROD_SECRET}\n"
        "archives:\n"
        "  local: {path: " + e.dir->file("archive") + "}\n"
        "rules:\n"
        "  - name: backup\n"
        "    source: sandbox\n"
        "    targets: [\"archive:local\"]\n"
        "    select: {exclude: [\"* (draft)\"]}\n" +
        (retention.empty() ? "" : "    retention: " + retention + "\n");
    e.config_file = e.dir->write("wfsync.yaml", text);
    e.env = {{"WFSYNC_TEST_SBX_SECRET", sandbox_secret}, {"WFSYNC_TEST_PROD_SECRET", prod_secret}};
    return e;
}

/// Every regular file below `dir`, relative.
std::vector<std::string> files_below(const std::string& dir)
{
    std::vector<std::string> out;
    if (!fs::exists(dir)) return out;
    for (const auto& f : fs::recursive_directory_iterator(dir))
        if (f.is_regular_file()) out.push_back(fs::relative(f.path(), dir).string());
    std::sort(out.begin(), out.end());
    return out;
}

json::object new_invoice_sync_version()
{
    return json::object{{"workflow", json::object{{"name", "Invoice Sync"}, {"version", "0.1.1"}}},
                        {"tasks", json::array{task(1, "Fetch invoices", "Export", {{"object", "Invoice"}}),
                                              task(2, "Post to ERP", "Callout", {{"url", "https://erp.example/v2"}})}},
                        {"linkages", json::array{link(1, 2)}}};
}

}  // namespace

BOOST_AUTO_TEST_CASE(backup_stores_each_new_version_once_and_nothing_on_a_no_change_run)
{
    emulator_thread emu(backup_seed());
    auto env = backup_env(emu->base_url());
    auto first = env.run({"sync"});
    BOOST_TEST_REQUIRE(first.code == 0, describe(first));
    BOOST_TEST(first.out.find("3 imported") != std::string::npos, first.out);
    auto archive_dir = env.dir->file("archive");
    auto files = files_below(archive_dir);
    BOOST_TEST_REQUIRE(files.size() == 3u);
    for (const auto& f : files) {
        BOOST_TEST(f.rfind("sandbox/", 0) == 0u, f);
        BOOST_TEST(f.ends_with(".json.gz"), f);
        struct stat sb{};
        BOOST_TEST_REQUIRE(::stat((archive_dir + "/" + f).c_str(), &sb) == 0);
        BOOST_TEST((sb.st_mode & 0777) == 0600u, f);
    }
    struct stat db{};
    BOOST_TEST_REQUIRE(::stat((archive_dir + "/sandbox").c_str(), &db) == 0);
    BOOST_TEST((db.st_mode & 0777) == 0700u);

    auto second = env.run({"sync"});
    BOOST_TEST_REQUIRE(second.code == 0, describe(second));
    BOOST_TEST(second.out.find("0 imported, 3 unchanged") != std::string::npos, second.out);
    BOOST_TEST(files_below(archive_dir).size() == 3u);

    BOOST_TEST_REQUIRE(emu->add_version("sandbox", "102", new_invoice_sync_version()).has_value());
    auto third = env.run({"sync"});
    BOOST_TEST_REQUIRE(third.code == 0, describe(third));
    BOOST_TEST(third.out.find("1 imported, 2 unchanged") != std::string::npos, third.out);
    BOOST_TEST(files_below(archive_dir).size() == 4u);

    auto list = env.run({"archive", "list", "--json"});
    BOOST_TEST_REQUIRE(list.code == 0, describe(list));
    auto entries = archived_versions(list.out);
    BOOST_TEST(entries.size() == 4u);
    int invoice = 0;
    for (const auto& e : entries) invoice += e.at("workflow_name").as_string() == "Invoice Sync";
    BOOST_TEST(invoice == 2);
    auto human = env.run({"archive", "list"});
    BOOST_TEST(human.out.find("Invoice Sync (102)") != std::string::npos, human.out);
    BOOST_TEST(human.out.find("0.1.1") != std::string::npos, human.out);
}

BOOST_AUTO_TEST_CASE(verify_catches_a_flipped_byte_a_deleted_file_and_a_stray_file)
{
    emulator_thread emu(backup_seed());
    auto env = backup_env(emu->base_url());
    BOOST_TEST_REQUIRE(env.run({"sync"}).code == 0);
    auto clean = env.run({"archive", "verify"});
    BOOST_TEST(clean.code == 0, describe(clean));
    BOOST_TEST(clean.out.find("3 files verified, 0 missing, 0 corrupt, 0 unknown") != std::string::npos, clean.out);

    auto archive_dir = env.dir->file("archive");
    auto files = files_below(archive_dir);
    {
        std::fstream f(archive_dir + "/" + files[0], std::ios::in | std::ios::out | std::ios::binary);
        f.seekg(10);
        char c = 0;
        f.read(&c, 1);
        c = static_cast<char>(c ^ 0x20);
        f.seekp(10);
        f.write(&c, 1);
    }
    fs::remove(archive_dir + "/" + files[1]);
    env.dir->write("archive/sandbox/stray.txt", "not a backup");

    auto bad = env.run({"archive", "verify"});
    BOOST_TEST(bad.code == 1, describe(bad));
    BOOST_TEST(bad.out.find("1 files verified, 1 missing, 1 corrupt, 1 unknown") != std::string::npos, bad.out);
    BOOST_TEST(bad.out.find("corrupt  " + files[0]) != std::string::npos, bad.out);
    BOOST_TEST(bad.out.find("missing  " + files[1]) != std::string::npos, bad.out);
    BOOST_TEST(bad.out.find("stray.txt") != std::string::npos, bad.out);
}

BOOST_AUTO_TEST_CASE(an_archive_file_this_user_may_not_read_is_unreadable_and_exits_77)
{
    emulator_thread emu(backup_seed());
    auto env = backup_env(emu->base_url());
    BOOST_TEST_REQUIRE(env.run({"sync"}).code == 0);
    auto archive_dir = env.dir->file("archive");
    auto files = files_below(archive_dir);
    BOOST_TEST_REQUIRE(files.size() == 3u);
    BOOST_TEST_REQUIRE(::chmod((archive_dir + "/" + files[0]).c_str(), 0) == 0);

    // As a user the OS refuses: not damage, nothing known of its bytes; 77, not 1.
    auto refused = env.run_unprivileged({"archive", "verify"});
    BOOST_TEST(refused.code == 77, describe(refused));
    BOOST_TEST(refused.out.find("2 files verified, 0 missing, 0 corrupt, 0 unknown, 1 unreadable") != std::string::npos,
               refused.out);
    BOOST_TEST(refused.out.find("unreadable  " + files[0] + ": cannot read: Permission denied") != std::string::npos,
               refused.out);

    // Damage elsewhere outweighs it: 1.
    fs::remove(archive_dir + "/" + files[1]);
    auto damaged = env.run_unprivileged({"archive", "verify"});
    BOOST_TEST(damaged.code == 1, describe(damaged));
    BOOST_TEST(damaged.out.find("1 files verified, 1 missing, 0 corrupt, 0 unknown, 1 unreadable") != std::string::npos,
               damaged.out);
}

BOOST_AUTO_TEST_CASE(restore_into_an_empty_tenant_then_again_imports_nothing)
{
    emulator_thread emu(backup_seed());
    auto env = backup_env(emu->base_url());
    BOOST_TEST_REQUIRE(env.run({"sync"}).code == 0);

    auto plan = env.run({"restore", "--from", "archive:local", "--workflow", "Billing Reminder", "--to", "staging", "--dry-run"});
    BOOST_TEST(plan.code == 0, describe(plan));
    BOOST_TEST(emu.versions("staging").empty());

    auto first = env.run({"restore", "--from", "archive:local", "--workflow", "Billing Reminder", "--to", "staging"});
    BOOST_TEST_REQUIRE(first.code == 0, describe(first));
    BOOST_TEST((emu.versions("staging")["Billing Reminder"] == std::vector<std::string>{"0.0.2"}));
    BOOST_TEST(emu.find("staging", "/workflows/import", "POST").size() == 1u);

    emu->clear_requests();
    auto again = env.run({"restore", "--from", "archive:local", "--workflow", "Billing Reminder", "--to", "staging"});
    BOOST_TEST_REQUIRE(again.code == 0, describe(again));
    BOOST_TEST(again.out.find("0 imported, 1 unchanged") != std::string::npos, again.out);
    BOOST_TEST(emu.find("staging", "import", "POST").empty());

    // Bad requests name what is wrong.
    auto unknown = env.run({"restore", "--from", "archive:local", "--workflow", "Nope", "--to", "staging"});
    BOOST_TEST(unknown.code == 1, describe(unknown));
    BOOST_TEST(unknown.err.find("holds no workflow 'Nope'") != std::string::npos, unknown.err);
    auto no_tenant = env.run({"restore", "--from", "archive:local", "--workflow", "Billing Reminder", "--to", "mars"});
    BOOST_TEST(no_tenant.code == 2, describe(no_tenant));
    auto usage = env.run({"restore", "--from", "local", "--workflow", "x", "--to", "staging"});
    BOOST_TEST(usage.code == 2, describe(usage));
}

BOOST_AUTO_TEST_CASE(retention_keeps_what_the_rule_says_and_prune_explains_itself)
{
    emulator_thread emu(backup_seed());
    auto env = backup_env(emu->base_url(), "{keep_last: 1}");
    BOOST_TEST_REQUIRE(env.run({"sync"}).code == 0);
    BOOST_TEST_REQUIRE(emu->add_version("sandbox", "102", new_invoice_sync_version()).has_value());
    auto r = env.run({"sync"});
    BOOST_TEST_REQUIRE(r.code == 0, describe(r));
    // keep_last applies per workflow: the older Invoice Sync version went after the run.
    auto list = archived_versions(env.run({"archive", "list", "--json"}).out);
    BOOST_TEST(list.size() == 3u);
    BOOST_TEST(files_below(env.dir->file("archive")).size() == 3u);
    auto prune = env.run({"archive", "prune", "--dry-run"});
    BOOST_TEST(prune.code == 0, describe(prune));
    BOOST_TEST(prune.out.find("(dry run): keeps 3, would remove 0") != std::string::npos, prune.out);
    BOOST_TEST(prune.out.find(": last") != std::string::npos, prune.out);
}

BOOST_AUTO_TEST_CASE(kill_9_during_backups_leaves_no_partial_file_in_the_catalogue)
{
    emulator_thread emu(backup_seed());
    auto env = backup_env(emu->base_url());
    BOOST_TEST_REQUIRE(emu->add_fault({{"kind", "latency"}, {"delay_ms", 10}, {"count", 100000}}).has_value());
    for (int round = 0; round < 5; ++round) {
        auto before = emu->requests().size();
        process p(WFSYNC_BIN, {"--config", env.config_file, "sync"}, env.env, env.dir->file("k.out"), env.dir->file("k.err"));
        for (int i = 0; i < 2000 && p.running() && emu->requests().size() < before + 3 + round; ++i)
            p.wait_for(std::chrono::milliseconds(2));
        p.signal(SIGKILL);
        p.wait_for(std::chrono::seconds(10));
    }
    emu->clear_faults();
    auto r = env.run({"sync"});
    BOOST_TEST_REQUIRE(r.code == 0, describe(r));
    auto verify = env.run({"archive", "verify"});
    BOOST_TEST(verify.code == 0, describe(verify));
    BOOST_TEST(verify.out.find("0 missing, 0 corrupt, 0 unknown") != std::string::npos, verify.out);
    auto list = archived_versions(env.run({"archive", "list", "--json"}).out);
    BOOST_TEST(list.size() == 3u);
}

BOOST_AUTO_TEST_CASE(a_temporary_file_left_by_a_killed_backup_goes_with_the_next_write_there)
{
    // Found by the crash matrix: a backup killed between writing its temporary file and the
    // rename left it behind, and `archive verify` failed on it after every later run.
    emulator_thread emu(backup_seed());
    auto env = backup_env(emu->base_url());
    BOOST_TEST_REQUIRE(env.run({"sync"}).code == 0);
    std::string dir;
    for (const auto& f : files_below(env.dir->file("archive")))
        if (f.find("Invoice") != std::string::npos) dir = fs::path(f).parent_path().string();
    BOOST_TEST_REQUIRE(!dir.empty());
    env.dir->write("archive/" + dir + "/20260101T000000Z_0.1.1_0badc0de.json.gz.tmp-999999-a1b2c3", "half a file");
    BOOST_TEST(env.run({"archive", "verify"}).code == 1);  // reported while it is there

    BOOST_TEST_REQUIRE(emu->add_version("sandbox", "102", new_invoice_sync_version()).has_value());
    auto r = env.run({"sync"});
    BOOST_TEST_REQUIRE(r.code == 0, describe(r));
    auto verify = env.run({"archive", "verify"});
    BOOST_TEST(verify.code == 0, describe(verify));
    BOOST_TEST(verify.out.find("4 files verified, 0 missing, 0 corrupt, 0 unknown") != std::string::npos, verify.out);
}

BOOST_AUTO_TEST_CASE(an_older_version_whose_export_failed_is_backed_up_next_run)
{
    // Found by the crash matrix: with `version: all`, 0.0.1's export failed and 0.0.2 was
    // stored; the next run's listings proved Billing Reminder unchanged, and 0.0.1 was never
    // backed up.
    emulator_thread emu(backup_seed());
    auto env = backup_env(emu->base_url());
    env.dir->write("wfsync.yaml", read_file(env.config_file) + "    version: all\n");
    BOOST_TEST_REQUIRE(emu->add_fault({{"tenant", "sandbox"}, {"path_contains", "/workflows/101/export"}, {"kind", "status"},
                                       {"status", 500}, {"count", 3}})
                           .has_value());
    auto first = env.run({"sync"});
    BOOST_TEST(first.code == 1, describe(first));
    auto second = env.run({"sync"});
    BOOST_TEST_REQUIRE(second.code == 0, describe(second));
    auto list = archived_versions(env.run({"archive", "list", "--json"}).out);
    std::vector<std::string> billing;
    for (const auto& e : list)
        if (e.at("workflow_name").as_string() == "Billing Reminder") billing.emplace_back(e.at("version").as_string());
    std::sort(billing.begin(), billing.end());
    BOOST_TEST((billing == std::vector<std::string>{"0.0.1", "0.0.2"}), describe(second));
}

BOOST_AUTO_TEST_CASE(a_full_disk_fails_the_backup_clearly_and_loses_nothing_stored)
{
    emulator_thread emu(backup_seed());
    auto env = backup_env(emu->base_url());
    // The archive on a 64 KiB tmpfs: the first backups fit, a large new version does not.
    auto mountpoint = env.dir->file("archive");
    fs::create_directories(mountpoint);
    auto mounted = run_program("/bin/mount", {"-t", "tmpfs", "-o", "size=64k,mode=0700", "tmpfs", mountpoint});
    if (mounted.code != 0) {
        BOOST_TEST_MESSAGE("cannot mount a tmpfs here (" + mounted.err + "); the archive unit tests cover RLIMIT_FSIZE");
        return;
    }
    struct unmount {
        std::string path;
        ~unmount() { run_program("/bin/umount", {path}); }
    } guard{mountpoint};

    BOOST_TEST_REQUIRE(env.run({"sync"}).code == 0);
    std::string big;
    for (int i = 0; i < 4000; ++i) big += wfsync::random_hex(16);  // 128 KiB that gzip cannot shrink below 64 KiB
    auto doc = new_invoice_sync_version();
    doc["tasks"].as_array()[0].as_object()["parameters"].as_object()["blob"] = big;
    BOOST_TEST_REQUIRE(emu->add_version("sandbox", "102", doc).has_value());
    auto r = env.run({"sync"});
    BOOST_TEST(r.code == 1, describe(r));
    BOOST_TEST(r.out.find("no space left on device") != std::string::npos, r.out);
    auto verify = env.run({"archive", "verify"});
    BOOST_TEST(verify.code == 0, describe(verify));
    BOOST_TEST(verify.out.find("3 files verified, 0 missing, 0 corrupt, 0 unknown") != std::string::npos, verify.out);
    auto list = archived_versions(env.run({"archive", "list", "--json"}).out);
    BOOST_TEST(list.size() == 3u);
}

BOOST_AUTO_TEST_CASE(a_scheduled_backup_under_serve_stores_once_and_restore_at_a_time_picks_the_version)
{
    emulator_thread emu(backup_seed());
    auto env = backup_env(emu->base_url());
    auto text = read_file(env.config_file) + "    schedule: \"@every 1s\"\n";
    auto port = free_port();
    text.insert(0, "admin: {listen: \"127.0.0.1:" + std::to_string(port) + "\"}\n");
    env.dir->write("wfsync.yaml", text);
    {
        process daemon(WFSYNC_BIN, {"--config", env.config_file, "serve"}, env.env, env.dir->file("serve.out"),
                       env.dir->file("serve.err"));
        // Three runs at least: the first stores, the others find everything there (by
        // comparing, or by the listings alone).
        auto runs = [&] {
            auto log = read_file(env.dir->file("serve.err"));
            std::size_t n = 0;
            for (std::string_view said : {"already in the archive", "as at the last full comparison"})
                for (auto at = log.find(said); at != std::string::npos; at = log.find(said, at + 1)) ++n;
            return n;
        };
        for (int i = 0; i < 400 && runs() < 6; ++i) daemon.wait_for(std::chrono::milliseconds(25));
        daemon.signal(SIGTERM);
        BOOST_TEST(daemon.wait_for(std::chrono::seconds(30)).value_or(-1) == 0);
        BOOST_TEST(runs() >= 6u, read_file(env.dir->file("serve.err")));
    }
    BOOST_TEST(files_below(env.dir->file("archive")).size() == 3u);

    // A second version of Invoice Sync, then a restore "as it was" before it existed.
    auto before_second = std::chrono::system_clock::now();
    BOOST_TEST_REQUIRE(emu->add_version("sandbox", "102", new_invoice_sync_version()).has_value());
    // The archive records whole seconds: let the clock pass the second boundary (bounded).
    while (std::chrono::system_clock::now() < before_second + std::chrono::seconds(1)) emu->requests();
    BOOST_TEST_REQUIRE(env.run({"sync"}).code == 0);
    std::time_t t = std::chrono::system_clock::to_time_t(before_second);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char at[32];
    std::strftime(at, sizeof at, "%Y-%m-%dT%H:%M:%SZ", &tm);
    auto r = env.run({"restore", "--from", "archive:local", "--workflow", "Invoice Sync", "--at", at, "--to", "staging"});
    BOOST_TEST_REQUIRE(r.code == 0, describe(r));
    BOOST_TEST((emu.versions("staging")["Invoice Sync"] == std::vector<std::string>{"0.1.0"}));
    auto none = env.run({"restore", "--from", "archive:local", "--workflow", "Invoice Sync", "--at", "2001-01-01", "--to", "staging"});
    BOOST_TEST(none.code == 1, describe(none));
    BOOST_TEST(none.out.find("at or before the given time") != std::string::npos, none.out);
    auto bad = env.run({"restore", "--from", "archive:local", "--workflow", "Invoice Sync", "--at", "yesterday", "--to", "staging"});
    BOOST_TEST(bad.code == 2, describe(bad));
}
