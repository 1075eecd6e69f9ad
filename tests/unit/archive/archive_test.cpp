// SPDX-License-Identifier: Apache-2.0
// The archive on real files (temp_dir) with its catalogue in a real SQLite state file.
#include <wfsync/archive/archive.hpp>
#include <wfsync/core/hash.hpp>
#include <wfsync/core/zip.hpp>
#include <wfsync/core/zlib.hpp>
#include <wfsync/store/store.hpp>

#include "support/temp_dir.hpp"

#include <boost/test/unit_test.hpp>

#include <sqlite3.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <set>

using namespace wfsync;
namespace fs = std::filesystem;
using sys_clock = std::chrono::system_clock;

namespace {

/// 2026-03-29 01:30:00 UTC plus `days`.
sys_clock::time_point at(int days = 0, int hours = 0)
{
    return sys_clock::time_point{std::chrono::seconds{1774747800} + std::chrono::hours{24 * days + hours}};
}

connector::package zuora(const std::string& version, const std::string& json)
{
    connector::package p;
    p.format = "zuora-json";
    p.workflow_id = "458";
    p.workflow_name = "Invoice sync";
    p.version = version;
    p.files = {{"workflow.json", json}};
    return p;
}

connector::package kore(const std::string& version)
{
    connector::package p;
    p.format = "kore-zip";
    p.workflow_id = "a-7f3e";
    p.workflow_name = "Support bot";
    p.version = version;
    p.files = {{"flow_definition.json", R"({"nodes":[1,2,3]})"},
               {"app_definition.json", R"({"name":"Support bot"})"},
               {"env_variables.json", R"({"REGION":"eu"})"}};
    return p;
}

std::string hash_of(const std::string& s) { return sha256_hex(s); }

/// A distinct fake content hash per number.
std::string fmt_hash(int i) { return sha256_hex("content " + std::to_string(i)); }

/// Files (not directories) under `root`, relative, '/'-separated.
std::set<std::string> files_under(const fs::path& root)
{
    std::set<std::string> out;
    for (auto& e : fs::recursive_directory_iterator(root))
        if (!e.is_directory()) out.insert(fs::relative(e.path(), root).generic_string());
    return out;
}

unsigned mode_of(const fs::path& p)
{
    struct stat st {};
    BOOST_TEST_REQUIRE(::stat(p.c_str(), &st) == 0);
    return st.st_mode & 07777;
}

void flip_byte(const fs::path& p, std::size_t at)
{
    std::fstream f(p, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(static_cast<std::streamoff>(at));
    char c = 0;
    f.get(c);
    f.seekp(static_cast<std::streamoff>(at));
    f.put(static_cast<char>(c ^ 0x01));
}

struct fixture {
    test::temp_dir dir;
    std::string db = dir.file("state/wfsync.db");
    fs::path root = dir.path() / "backups";
    std::unique_ptr<store::store> st = store::open_sqlite(db).value();
    archive::archive a = archive::archive::open("main", root.string(), *st).value();
};

}  // namespace

BOOST_AUTO_TEST_SUITE(catalogue)

BOOST_AUTO_TEST_CASE(schema_has_the_archive_tables)
{
    test::temp_dir dir;
    auto st = store::open_sqlite(dir.file("s.db")).value();
    BOOST_TEST(st->schema_version() == 7);
    BOOST_TEST(st->list_archive_entries("x").value().empty());
    BOOST_TEST(st->list_archive_files("x").value().empty());
}

// A state file from before the archive (schema 3) gets the catalogue on open, data kept.
BOOST_AUTO_TEST_CASE(schema_3_database_is_migrated)
{
    test::temp_dir dir;
    const auto path = dir.file("s.db");
    {
        auto st = store::open_sqlite(path).value();
        st->upsert_workflow("prod", "458", "Invoice sync").value();
    }
    {
        sqlite3* db = nullptr;
        BOOST_TEST_REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
        BOOST_TEST_REQUIRE(sqlite3_exec(db, "DROP TABLE notifications; DROP TABLE rule_health; "
                                            "DROP TABLE listing_marks; DROP TABLE archive_entries; DROP TABLE archive_files; "
                                            "DROP INDEX version_mappings_content; "
                                            "ALTER TABLE version_mappings DROP COLUMN target_hash; "
                                            "ALTER TABLE import_intents DROP COLUMN target_before; "
                                            "ALTER TABLE import_intents DROP COLUMN hold; "
                                            "PRAGMA user_version = 3;",
                                        nullptr, nullptr, nullptr) == SQLITE_OK);
        sqlite3_close(db);
    }
    auto st = store::open_sqlite(path).value();
    BOOST_TEST(st->schema_version() == 7);
    BOOST_TEST(st->find_workflow("prod", "458").value().has_value());
    store::archive_entry_row e;
    e.archive = "main";
    e.tenant = "prod";
    e.workflow_id = "458";
    e.version = "1";
    e.content_hash = "h";
    e.path = "p";
    e.file_sha256 = "s";
    BOOST_TEST(st->add_archive_entry(e).has_value());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(files)

BOOST_FIXTURE_TEST_CASE(zuora_round_trip_is_a_gzip_of_the_json, fixture)
{
    const std::string json = R"({"workflow":{"name":"Invoice sync","tasks":[1,2,3]}})";
    const std::string hash = hash_of(json);
    auto e = a.put("prod", zuora("0.0.3", json), hash, at()).value();
    BOOST_TEST(e.path == "prod/Invoice sync-458/20260329T013000Z_0.0.3_" + hash.substr(0, 8) + ".json.gz");
    BOOST_TEST(e.format == "zuora-json");
    BOOST_TEST(e.stored_at == 1774747800);
    const std::string bytes = test::read_file((root / e.path).string());
    BOOST_TEST(e.size == static_cast<std::int64_t>(bytes.size()));
    BOOST_TEST(e.file_sha256 == sha256_hex(bytes));
    BOOST_TEST(gzip_decompress(bytes, 1 << 20).value() == json);

    auto listed = a.list().value();
    BOOST_TEST_REQUIRE(listed.size() == 1u);
    BOOST_TEST(listed[0].id == e.id);
    auto p = a.load(listed[0]).value();
    BOOST_TEST(p.format == "zuora-json");
    BOOST_TEST(p.workflow_id == "458");
    BOOST_TEST(p.workflow_name == "Invoice sync");
    BOOST_TEST(p.version == "0.0.3");
    BOOST_TEST_REQUIRE(p.files.size() == 1u);
    BOOST_TEST(p.files.at("workflow.json") == json);
    BOOST_TEST(files_under(root) == std::set<std::string>{e.path});
}

BOOST_FIXTURE_TEST_CASE(three_file_package_is_a_zip, fixture)
{
    auto pkg = kore("3");
    auto e = a.put("bots", pkg, "c0ffee00c0ffee", at()).value();
    BOOST_TEST(e.path == "bots/Support bot-a-7f3e/20260329T013000Z_3_c0ffee00.zip");
    auto files = unzip(test::read_file((root / e.path).string())).value();
    BOOST_TEST((files == pkg.files));
    auto p = a.load(e).value();
    BOOST_TEST((p.files == pkg.files));
    BOOST_TEST(p.format == "kore-zip");
    BOOST_TEST(p.version == "3");

    // A one-file package that is not Zuora's keeps its file name in a zip.
    connector::package sm;
    sm.format = "secmaster-file";
    sm.workflow_id = "6d1c";
    sm.workflow_name = "Phishing triage";
    sm.version = "v2";
    sm.files = {{"playbook-v2.json", "{}"}};
    auto e2 = a.put("soc", sm, "ab12cd34ef", at()).value();
    BOOST_TEST(e2.path.ends_with(".zip"));
    BOOST_TEST((a.load(e2).value().files == sm.files));
    BOOST_TEST(a.list("soc").value().size() == 1u);
    BOOST_TEST(a.list("", "Support bot").value().size() == 1u);
}

BOOST_AUTO_TEST_CASE(modes_are_private_whatever_the_umask)
{
    const mode_t old = ::umask(0);
    {
        test::temp_dir dir;
        auto st = store::open_sqlite(dir.file("state/s.db")).value();
        const fs::path root = dir.path() / "new" / "backups";
        auto a = archive::archive::open("main", root.string(), *st).value();
        auto e = a.put("prod", zuora("1", "{}"), "0123456789", at()).value();
        BOOST_TEST(mode_of(root) == 0700u);
        BOOST_TEST(mode_of(dir.path() / "new") == 0700u);
        BOOST_TEST(mode_of(root / "prod") == 0700u);
        BOOST_TEST(mode_of(root / "prod" / "Invoice sync-458") == 0700u);
        BOOST_TEST(mode_of(root / e.path) == 0600u);
        auto e2 = a.put("prod", kore("1"), "9876543210", at()).value();
        BOOST_TEST(mode_of(root / e2.path) == 0600u);
    }
    ::umask(old);
}

BOOST_FIXTURE_TEST_CASE(identical_content_is_stored_once, fixture)
{
    const std::string json = R"({"v":1})";
    auto e1 = a.put("prod", zuora("0.0.1", json), "hash-one-1234", at(0)).value();
    // The same version again: the same entry, nothing new.
    auto again = a.put("prod", zuora("0.0.1", json), "hash-one-1234", at(1)).value();
    BOOST_TEST(again.id == e1.id);
    BOOST_TEST(again.stored_at == e1.stored_at);
    // A new label for the same content: a new entry sharing the file.
    auto e2 = a.put("prod", zuora("0.0.2", json), "hash-one-1234", at(2)).value();
    BOOST_TEST(e2.id != e1.id);
    BOOST_TEST(e2.path == e1.path);
    BOOST_TEST(e2.version == "0.0.2");
    BOOST_TEST(a.load(e2).value().version == "0.0.2");
    BOOST_TEST(files_under(root).size() == 1u);
    BOOST_TEST(a.list().value().size() == 2u);
    // Other content: a second file.
    auto e3 = a.put("prod", zuora("0.0.3", R"({"v":3})"), "hash-two-5678", at(3)).value();
    BOOST_TEST(e3.path != e1.path);
    BOOST_TEST(files_under(root).size() == 2u);
    // The same content in another tenant is another workflow: its own file.
    auto e4 = a.put("dev", zuora("0.0.1", json), "hash-one-1234", at(3)).value();
    BOOST_TEST(e4.path.starts_with("dev/"));
    BOOST_TEST(files_under(root).size() == 3u);
}

BOOST_FIXTURE_TEST_CASE(names_are_sanitized, fixture)
{
    auto p = zuora("1/2\n", "{}");
    p.workflow_name = "../../etc/pass\twd";
    p.workflow_id = "..";
    auto e = a.put("..", p, "../deadbeef", at()).value();
    BOOST_TEST(e.path == "_./_._.._etc_pass_wd-../20260329T013000Z_1_2___._deadb.json.gz");
    BOOST_TEST(fs::exists(root / e.path));
    for (const auto& part : fs::path(e.path)) BOOST_TEST((part != ".." && part != "."));
    BOOST_TEST(files_under(root) == std::set<std::string>{e.path});

    BOOST_TEST(archive::sanitize_component("") == "_");
    BOOST_TEST(archive::sanitize_component(".") == "_");
    BOOST_TEST(archive::sanitize_component(".hidden") == "_hidden");
    BOOST_TEST(archive::sanitize_component("Invoice sync (EU) ü") == "Invoice sync (EU) ü");
    BOOST_TEST(archive::sanitize_component(std::string("a\0b\x7f", 4)) == "a_b_");
    // Cut to 100 bytes, never inside a UTF-8 sequence ("ü" is 2 bytes).
    std::string longname;
    for (int i = 0; i < 60; ++i) longname += "ü";
    auto cut = archive::sanitize_component(longname);
    BOOST_TEST(cut.size() == 100u);
    BOOST_TEST(cut == longname.substr(0, 100));
    auto odd = archive::sanitize_component("a" + longname);
    BOOST_TEST(odd.size() == 99u);
}

BOOST_FIXTURE_TEST_CASE(bad_input_is_refused, fixture)
{
    auto r = a.put("", zuora("1", "{}"), "h", at());
    BOOST_TEST_REQUIRE(!r.has_value());
    BOOST_TEST(r.error().code == errc::invalid_argument);
    connector::package empty = zuora("1", "{}");
    empty.files.clear();
    BOOST_TEST(!a.put("prod", empty, "h", at()).has_value());
    auto no_name = archive::archive::open("", root.string(), *st);
    BOOST_TEST(!no_name.has_value());
    // A root that is a file.
    auto file_root = archive::archive::open("x", dir.write("plain", "x"), *st);
    BOOST_TEST_REQUIRE(!file_root.has_value());
    BOOST_TEST(file_root.error().code == errc::io);
    // A catalogue path leaving the root is not read.
    archive::entry evil;
    evil.path = "../state/wfsync.db";
    BOOST_TEST(!a.load(evil).has_value());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(verify)

BOOST_FIXTURE_TEST_CASE(clean_archive_is_ok, fixture)
{
    a.put("prod", zuora("1", R"({"a":1})"), "h1h1h1h1h1", at(0)).value();
    a.put("prod", zuora("2", R"({"a":2})"), "h2h2h2h2h2", at(1)).value();
    a.put("bots", kore("1"), "h3h3h3h3h3", at(1)).value();
    auto rep = a.verify().value();
    BOOST_TEST(rep.ok());
    BOOST_TEST(rep.verified.size() == 3u);
}

BOOST_FIXTURE_TEST_CASE(a_fifo_in_place_of_an_archive_file_is_reported_without_hanging, fixture)
{
    // A plain open of a FIFO with no writer blocks for ever; verify and restore must not.
    auto e = a.put("prod", zuora("1", R"({"a":1})"), "h1h1h1h1h1", at(0)).value();
    fs::remove(root / e.path);
    BOOST_TEST_REQUIRE(::mkfifo((root / e.path).c_str(), 0600) == 0);
    auto rep = a.verify().value();
    BOOST_TEST_REQUIRE(rep.corrupt.size() == 1u);
    BOOST_TEST(rep.corrupt[0].path == e.path);
    BOOST_TEST(rep.corrupt[0].detail == "cannot read: not a regular file but a FIFO");
    auto loaded = a.load(e);
    BOOST_TEST_REQUIRE(loaded.has_error());
    BOOST_TEST((loaded.error().code == errc::io));
    BOOST_TEST(loaded.error().message.find("cannot read archive file " + (root / e.path).string() +
                                           ": not a regular file but a FIFO") != std::string::npos,
               loaded.error().message);
}

BOOST_FIXTURE_TEST_CASE(catches_flipped_byte_deleted_stray_and_temp_files, fixture)
{
    auto e1 = a.put("prod", zuora("1", R"({"a":1})"), "h1h1h1h1h1", at(0)).value();
    auto e2 = a.put("prod", zuora("2", R"({"a":2})"), "h2h2h2h2h2", at(1)).value();
    auto e3 = a.put("bots", kore("1"), "h3h3h3h3h3", at(1)).value();
    auto e4 = a.put("bots", kore("2"), "h4h4h4h4h4", at(2)).value();

    flip_byte(root / e1.path, 12);
    fs::remove(root / e2.path);
    std::ofstream(root / "prod" / "notes.txt") << "mine";
    std::ofstream(root / "bots" / "Support bot-a-7f3e" / "x.zip.tmp-abc123") << "half";

    auto rep = a.verify().value();
    BOOST_TEST(!rep.ok());
    BOOST_TEST_REQUIRE(rep.corrupt.size() == 1u);
    BOOST_TEST(rep.corrupt[0].path == e1.path);
    BOOST_TEST(rep.corrupt[0].detail.find("the catalogue says " + e1.file_sha256) != std::string::npos);
    BOOST_TEST_REQUIRE(rep.missing.size() == 1u);
    BOOST_TEST(rep.missing[0].path == e2.path);
    BOOST_TEST_REQUIRE(rep.unknown.size() == 2u);
    std::map<std::string, std::string> unknown;
    for (auto& u : rep.unknown) unknown[u.path] = u.detail;
    BOOST_TEST(unknown.at("prod/notes.txt") == "not in the catalogue");
    BOOST_TEST(unknown.at("bots/Support bot-a-7f3e/x.zip.tmp-abc123") ==
               "temporary file left by an interrupted write");
    BOOST_TEST((std::set<std::string>(rep.verified.begin(), rep.verified.end()) ==
                std::set<std::string>{e3.path, e4.path}));

    // load() refuses the flipped and the missing file, naming them.
    auto l1 = a.load(e1);
    BOOST_TEST_REQUIRE(!l1.has_value());
    BOOST_TEST(l1.error().code == errc::io);
    BOOST_TEST(l1.error().message.find("corrupt") != std::string::npos);
    auto l2 = a.load(e2);
    BOOST_TEST_REQUIRE(!l2.has_value());
    BOOST_TEST(l2.error().message.find(e2.path) != std::string::npos);

    // A put of the damaged content stores it afresh instead of sharing the damaged file.
    auto again = a.put("prod", zuora("1b", R"({"a":1})"), "h1h1h1h1h1", at(3)).value();
    BOOST_TEST(again.path != e1.path);
    BOOST_TEST(a.load(again).value().files.at("workflow.json") == R"({"a":1})");
}

BOOST_FIXTURE_TEST_CASE(root_given_with_a_trailing_slash, fixture)
{
    auto e = a.put("prod", zuora("1", R"({"a":1})"), "h1h1h1h1h1", at(0)).value();
    auto a2 = archive::archive::open("main", root.string() + "/./", *st).value();
    BOOST_TEST(a2.root() == root.string());
    std::ofstream(root / "prod" / "stray.bin") << "x";
    auto rep = a2.verify().value();
    BOOST_TEST(rep.verified == std::vector<std::string>{e.path});
    BOOST_TEST_REQUIRE(rep.unknown.size() == 1u);
    BOOST_TEST(rep.unknown[0].path == "prod/stray.bin");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(crashes_and_failures)

// A file renamed into place whose catalogue insert never happened (kill -9 in between) is
// unknown to verify, and the next put of the same content adopts it.
BOOST_FIXTURE_TEST_CASE(uncatalogued_file_is_adopted_by_the_next_put, fixture)
{
    const std::string json = R"({"adopt":true})";
    const fs::path wfdir = root / "prod" / "Invoice sync-458";
    fs::create_directories(wfdir);
    const std::string orphan = "20260101T000000Z_7_feedface.json.gz";
    std::ofstream(wfdir / orphan, std::ios::binary) << gzip_compress(json);
    // A look-alike with other bytes is not adopted.
    const std::string other = "20251231T000000Z_7_feedface.json.gz";
    std::ofstream(wfdir / other, std::ios::binary) << gzip_compress("{}");

    auto rep = a.verify().value();
    BOOST_TEST(rep.unknown.size() == 2u);

    auto e = a.put("prod", zuora("7", json), "feedface00", at()).value();
    BOOST_TEST(e.path == "prod/Invoice sync-458/" + orphan);
    BOOST_TEST(files_under(root).size() == 2u);
    rep = a.verify().value();
    BOOST_TEST_REQUIRE(rep.unknown.size() == 1u);
    BOOST_TEST(rep.unknown[0].path == "prod/Invoice sync-458/" + other);
}

// A name taken by another file (same second, same version, hash prefix) gets a suffix.
BOOST_FIXTURE_TEST_CASE(taken_name_is_not_overwritten, fixture)
{
    const fs::path wfdir = root / "prod" / "Invoice sync-458";
    fs::create_directories(wfdir);
    const std::string taken = "20260329T013000Z_1_abcdabcd.json.gz";
    std::ofstream(wfdir / taken, std::ios::binary) << "someone else's";
    auto e = a.put("prod", zuora("1", "{}"), "abcdabcd99", at()).value();
    BOOST_TEST(e.path == "prod/Invoice sync-458/20260329T013000Z_1_abcdabcd-1.json.gz");
    BOOST_TEST(test::read_file((wfdir / taken).string()) == "someone else's");
}

// kill -9 in the middle of a run of backups: whatever the moment, every catalogued file is
// complete and verifies; what is left over is a temporary file or a complete uncatalogued file.
BOOST_FIXTURE_TEST_CASE(kill_9_during_backups_leaves_no_partial_file_in_the_catalogue, fixture)
{
    pid_t pid = ::fork();
    BOOST_TEST_REQUIRE(pid >= 0);
    if (pid == 0) {
        auto st2 = store::open_sqlite(db);
        if (!st2) ::_exit(2);
        auto a2 = archive::archive::open("main", root.string(), **st2);
        if (!a2) ::_exit(3);
        std::mt19937_64 rng(7);
        for (int i = 0; i < 50; ++i) {
            std::string data(256u << 10, '\0');
            for (auto& c : data) c = static_cast<char>(rng());
            auto r = a2->put("prod", zuora(std::to_string(i), data), fmt_hash(i), at(0, i));
            if (!r) ::_exit(4);
        }
        ::_exit(0);
    }
    // Bounded poll: kill once a few backups are catalogued, mid-way through the next one.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{20};
    std::size_t seen = 0;
    while (std::chrono::steady_clock::now() < deadline) {
        // Best moment: a temporary file is being written (so the kill lands mid-write).
        auto l = a.list();
        if (l && l->size() >= 3) {
            seen = l->size();
            bool writing = false;
            std::error_code ec;
            for (fs::directory_iterator it(root / "prod" / "Invoice sync-458", ec), end; !ec && it != end;
                 it.increment(ec))
                writing = writing || it->path().filename().string().find(".tmp-") != std::string::npos;
            if (writing || seen >= 40) break;
        }
        int status = 0;
        if (::waitpid(pid, &status, WNOHANG) == pid) {
            pid = 0;
            break;
        }
        ::usleep(500);
    }
    if (pid != 0) {
        ::kill(pid, SIGKILL);
        int status = 0;
        ::waitpid(pid, &status, 0);
        BOOST_TEST(WIFSIGNALED(status));
    }
    BOOST_TEST(seen >= 3u);

    auto rep = a.verify().value();
    BOOST_TEST(rep.missing.empty());
    BOOST_TEST(rep.corrupt.empty());
    BOOST_TEST_MESSAGE("killed after " << seen << " entries; unknown files: " << rep.unknown.size());
    for (const auto& u : rep.unknown) {
        BOOST_TEST_MESSAGE("  " << u.path << ": " << u.detail);
        if (u.path.find(".tmp-") != std::string::npos) continue;
        // Renamed into place but not catalogued: complete.
        auto bytes = test::read_file((root / u.path).string());
        BOOST_TEST(gzip_decompress(bytes, 1u << 20).value().size() == (256u << 10), u.path);
    }
    auto entries = a.list().value();
    BOOST_TEST(entries.size() >= seen);
    for (const auto& e : entries) BOOST_TEST(a.load(e).value().files.at("workflow.json").size() == (256u << 10));

    // The archive goes on: a new backup works, and a prune an hour later clears temp files.
    a.put("prod", zuora("after", "{}"), "after00000", at(5)).value();
    auto pr = a.prune({}, "UTC", false, sys_clock::now() + std::chrono::hours{2}).value();
    BOOST_TEST(pr.ok());
    for (const auto& u : a.verify().value().unknown)
        BOOST_TEST(u.path.find(".tmp-") == std::string::npos, u.path);
}

BOOST_FIXTURE_TEST_CASE(file_size_limit_fails_cleanly, fixture)
{
    auto first = a.put("prod", zuora("1", R"({"small":true})"), "small00000", at(0)).value();

    // 2 MiB of random bytes: gzip cannot shrink them under the 1 MiB limit.
    std::mt19937_64 rng(42);
    std::string big(2u << 20, '\0');
    for (auto& c : big) c = static_cast<char>(rng());

    int fds[2];
    BOOST_TEST_REQUIRE(::pipe(fds) == 0);
    pid_t pid = ::fork();
    BOOST_TEST_REQUIRE(pid >= 0);
    if (pid == 0) {
        ::close(fds[0]);
        ::signal(SIGXFSZ, SIG_IGN);  // so write() fails with EFBIG instead of killing us
        struct rlimit rl {1u << 20, 1u << 20};
        ::setrlimit(RLIMIT_FSIZE, &rl);
        std::string msg;
        {
            // Its own connection: a SQLite connection must not cross fork().
            auto st2 = store::open_sqlite(db);
            if (!st2) {
                msg = "open: " + st2.error().message;
            } else {
                auto a2 = archive::archive::open("main", root.string(), **st2);
                auto r = a2 ? a2->put("prod", zuora("2", big), "big0000000", at(1))
                            : result<archive::entry>(a2.error());
                msg = r ? "stored" : r.error().message;
            }
        }
        (void)!::write(fds[1], msg.data(), msg.size());
        ::_exit(0);
    }
    ::close(fds[1]);
    std::string msg;
    char buf[512];
    for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) msg.append(buf, static_cast<std::size_t>(n));
    ::close(fds[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    BOOST_TEST(WIFEXITED(status));

    BOOST_TEST(msg.find("file too large") != std::string::npos, msg);
    BOOST_TEST(msg.find((root / "prod" / "Invoice sync-458").string()) != std::string::npos, msg);
    BOOST_TEST(msg.find(".tmp-") != std::string::npos, msg);
    // Nothing partial left, nothing catalogued, the earlier entry intact.
    BOOST_TEST(files_under(root) == std::set<std::string>{first.path});
    auto listed = a.list().value();
    BOOST_TEST_REQUIRE(listed.size() == 1u);
    BOOST_TEST(listed[0].id == first.id);
    BOOST_TEST(a.load(first).value().files.at("workflow.json") == R"({"small":true})");
    BOOST_TEST(a.verify().value().ok());
    // Without the limit the same put works.
    auto big_entry = a.put("prod", zuora("2", big), "big0000000", at(1)).value();
    BOOST_TEST(a.load(big_entry).value().files.at("workflow.json") == big);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(prune)

// v1 (content A, day 0), v2 (B, day 1), v3 (A again, day 2: shares v1's file), and another
// workflow with one version. keep_last 1 keeps v3 and the other workflow's only version.
BOOST_FIXTURE_TEST_CASE(dry_run_then_real, fixture)
{
    auto v1 = a.put("prod", zuora("1", R"({"c":"A"})"), "AAAAAAAAAA", at(0)).value();
    auto v2 = a.put("prod", zuora("2", R"({"c":"B"})"), "BBBBBBBBBB", at(1)).value();
    auto v3 = a.put("prod", zuora("3", R"({"c":"A"})"), "AAAAAAAAAA", at(2)).value();
    auto k1 = a.put("bots", kore("1"), "KKKKKKKKKK", at(0)).value();
    BOOST_TEST(v3.path == v1.path);
    const auto before = files_under(root);
    BOOST_TEST(before.size() == 3u);

    const archive::retention_policy policy{.keep_last = 1};
    auto dry = a.prune(policy, "Europe/Berlin", true, at(3)).value();
    BOOST_TEST(dry.dry_run);
    BOOST_TEST(dry.ok());
    BOOST_TEST_REQUIRE(dry.kept.size() == 2u);
    std::set<std::int64_t> kept_ids;
    for (auto& k : dry.kept) {
        kept_ids.insert(k.e.id);
        BOOST_TEST(k.reasons == std::vector<std::string>{"last"});
    }
    BOOST_TEST((kept_ids == std::set<std::int64_t>{v3.id, k1.id}));
    BOOST_TEST_REQUIRE(dry.removed.size() == 2u);
    BOOST_TEST(dry.removed[0].id == v1.id);  // oldest first
    BOOST_TEST(dry.removed[1].id == v2.id);
    BOOST_TEST(dry.deleted_files == std::vector<std::string>{v2.path});
    // Nothing changed.
    BOOST_TEST(files_under(root) == before);
    BOOST_TEST(a.list().value().size() == 4u);

    auto real = a.prune(policy, "Europe/Berlin", false, at(3)).value();
    BOOST_TEST(!real.dry_run);
    BOOST_TEST(real.ok());
    BOOST_TEST(real.removed.size() == 2u);
    BOOST_TEST(real.deleted_files == std::vector<std::string>{v2.path});
    BOOST_TEST((files_under(root) == std::set<std::string>{v1.path, k1.path}));
    auto left = a.list().value();
    BOOST_TEST_REQUIRE(left.size() == 2u);
    BOOST_TEST(a.load(v3).value().files.at("workflow.json") == R"({"c":"A"})");
    BOOST_TEST(a.verify().value().ok());

    // Again: nothing more to do.
    auto idle = a.prune(policy, "Europe/Berlin", false, at(3)).value();
    BOOST_TEST(idle.removed.empty());
    BOOST_TEST(idle.kept.size() == 2u);

    // keep_last 0 with an empty policy keeps everything.
    auto all = a.prune({}, "UTC", false, at(3)).value();
    BOOST_TEST(all.removed.empty());
    BOOST_TEST(all.kept.size() == 2u);
}

BOOST_FIXTURE_TEST_CASE(daily_policy_in_berlin_removes_unreferenced_files, fixture)
{
    // Two versions a day for three days (Berlin days), one workflow.
    std::vector<archive::entry> es;
    for (int d = 0; d < 3; ++d)
        for (int h = 0; h < 2; ++h) {
            const std::string v = std::to_string(d * 2 + h + 1);
            es.push_back(a.put("prod", zuora(v, "{\"v\":" + v + "}"), "hash" + v + "xxxxxx", at(d, h * 6)).value());
        }
    auto rep = a.prune({.keep_daily = 2}, "Europe/Berlin", false, at(4)).value();
    BOOST_TEST_REQUIRE(rep.kept.size() == 2u);
    BOOST_TEST(rep.kept[0].e.id == es[3].id);
    BOOST_TEST(rep.kept[0].reasons == std::vector<std::string>{"daily 2026-03-30"});
    BOOST_TEST(rep.kept[1].e.id == es[5].id);
    BOOST_TEST(rep.kept[1].reasons == std::vector<std::string>{"daily 2026-03-31"});
    BOOST_TEST(rep.removed.size() == 4u);
    BOOST_TEST(rep.deleted_files.size() == 4u);
    BOOST_TEST(files_under(root).size() == 2u);

    // Bad policies and zones are refused before anything changes.
    auto bad = a.prune({.keep_last = -3}, "UTC", false, at(4));
    BOOST_TEST(!bad.has_value());
    auto tz = a.prune({.keep_last = 1}, "Mars/Olympus", false, at(4));
    BOOST_TEST_REQUIRE(!tz.has_value());
    BOOST_TEST(tz.error().message.find("Mars/Olympus") != std::string::npos);
    BOOST_TEST(a.list().value().size() == 2u);
}

BOOST_FIXTURE_TEST_CASE(old_temporary_files_are_deleted, fixture)
{
    a.put("prod", zuora("1", "{}"), "h1h1h1h1h1", at(0)).value();
    const fs::path wfdir = root / "prod" / "Invoice sync-458";
    const fs::path old_tmp = wfdir / "20260101T000000Z_1_x.json.gz.tmp-000001";
    const fs::path new_tmp = wfdir / "20260101T000000Z_1_x.json.gz.tmp-000002";
    std::ofstream(old_tmp) << "half";
    std::ofstream(new_tmp) << "half";
    // The old one was last written two hours before `now`, the new one a minute before.
    const auto now = sys_clock::now();
    auto set_mtime = [](const fs::path& p, sys_clock::time_point t) {
        struct timespec ts[2];
        ts[0].tv_sec = ts[1].tv_sec = sys_clock::to_time_t(t);
        ts[0].tv_nsec = ts[1].tv_nsec = 0;
        BOOST_TEST_REQUIRE(::utimensat(AT_FDCWD, p.c_str(), ts, 0) == 0);
    };
    set_mtime(old_tmp, now - std::chrono::hours{2});
    set_mtime(new_tmp, now - std::chrono::minutes{1});

    auto dry = a.prune({}, "UTC", true, now).value();
    BOOST_TEST(dry.deleted_temp_files == std::vector<std::string>{"prod/Invoice sync-458/" + old_tmp.filename().string()});
    BOOST_TEST(fs::exists(old_tmp));
    auto real = a.prune({}, "UTC", false, now).value();
    BOOST_TEST(real.deleted_temp_files.size() == 1u);
    BOOST_TEST(!fs::exists(old_tmp));
    BOOST_TEST(fs::exists(new_tmp));
    BOOST_TEST(a.list().value().size() == 1u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(restore)

BOOST_AUTO_TEST_CASE(select_entry_for_restore)
{
    auto mk = [](std::int64_t id, const char* version, std::int64_t stored_at) {
        archive::entry e;
        e.id = id;
        e.version = version;
        e.stored_at = stored_at;
        return e;
    };
    const std::vector<archive::entry> es{mk(1, "1", 100), mk(2, "2", 200), mk(3, "1", 300),
                                         mk(4, "3", 300)};
    auto t = [](std::int64_t s) { return sys_clock::time_point{std::chrono::seconds{s}}; };
    BOOST_TEST(archive::select_entry(es)->id == 4);            // newest: same time, higher id
    BOOST_TEST(archive::select_entry(es, "1")->id == 3);       // newest with that label
    BOOST_TEST(archive::select_entry(es, "2")->id == 2);
    BOOST_TEST(!archive::select_entry(es, "9").has_value());
    BOOST_TEST(archive::select_entry(es, {}, t(250))->id == 2);  // at or before
    BOOST_TEST(archive::select_entry(es, {}, t(200))->id == 2);
    BOOST_TEST(archive::select_entry(es, {}, t(100))->id == 1);
    BOOST_TEST(!archive::select_entry(es, {}, t(99)).has_value());
    BOOST_TEST(!archive::select_entry({}).has_value());
}

BOOST_AUTO_TEST_SUITE_END()
