// SPDX-License-Identifier: Apache-2.0
#include <wfsync/app/cli.hpp>

#include <wfsync/core/duration.hpp>

#include <algorithm>
#include <charconv>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <set>

namespace wfsync::app {

namespace {

const std::set<std::string, std::less<>> known_commands{"sync",   "plan",    "check",   "history",
                                                          "serve",  "diff",    "archive", "restore",
                                                          "status", "resolve", "state"};

}  // namespace

std::string usage()
{
    return "usage: wfsync [--config FILE] COMMAND [OPTIONS]\n"
           "\n"
           "commands:\n"
           "  sync [--rule R]... [--dry-run] [--full]\n"
           "                                      run rules once now, then exit; --full compares every\n"
           "                                      item's contents even where the listings show no change\n"
           "  plan [--rule R]... [--full]         what sync would do, with diffs; changes nothing\n"
           "  check [--offline] [--strict]        validate the config; without --offline also log in;\n"
           "                                      --strict: a secret that cannot be read fails (78)\n"
           "  serve [--grace 30s]                 the daemon: rules on their schedules, admin endpoint\n"
           "  status [--json]                     ask the running daemon how it is doing\n"
           "  archive list|verify|prune [--archive A] [--dry-run] [--json]\n"
           "                                      backups: what is kept, re-hash every file, apply retention\n"
           "  restore --from archive:A --workflow W [--version V | --at TIME] --to TENANT [--dry-run]\n"
           "                                      import an archived version (same rules as a sync)\n"
           "  history [--rule R] [--workflow W] [--limit N] [--json]\n"
           "                                      runs and events recorded in the state\n"
           "  resolve [--json]                    imports held because no read could tell whether they happened\n"
           "  resolve --intent N --imported [--target-workflow ID] [--target-version V] | --not-imported\n"
           "                                      settle one as you found it in the platform's UI\n"
           "  state check                         PRAGMA integrity_check of the state: prints ok or the problems\n"
           "  state backup FILE [--force]         a consistent copy of the state (SQLite's online backup), also\n"
           "                                      while the daemon runs; --force replaces an existing FILE\n"
           "\n"
           "options:\n"
           "  --config FILE   config file (default $WFSYNC_CONFIG, else /etc/wfsync/wfsync.yaml)\n"
           "  --wait[=DUR]    sync, serve, restore, archive prune: wait for the state's lock\n"
           "                  when another command holds it (no limit without DUR) instead of exit 75\n"
           "  --help          this text\n"
           "\n"
           "exit codes: 0 success, 1 some items failed, 2 usage, 74 local I/O error or damaged state (EX_IOERR),\n"
           "            75 temporary failure: network, 5xx, 429, state busy or locked (EX_TEMPFAIL),\n"
           "            77 permission denied on a local file (EX_NOPERM), 78 config error (EX_CONFIG)\n";
}

result<command_line> parse_command_line(const std::vector<std::string>& args)
{
    command_line cl;
    if (const char* env = std::getenv("WFSYNC_CONFIG"); env && *env) cl.config_file = env;
    else cl.config_file = "/etc/wfsync/wfsync.yaml";

    auto value_of = [&](std::size_t& i, const std::string& name) -> result<std::string> {
        const auto& a = args[i];
        if (auto eq = a.find('='); eq != std::string::npos) return a.substr(eq + 1);
        if (i + 1 >= args.size()) return fail(errc::invalid_argument, name + " needs a value");
        return args[++i];
    };
    auto is = [](const std::string& a, std::string_view name) {
        return a == name || (a.size() > name.size() && a.compare(0, name.size(), name) == 0 && a[name.size()] == '=');
    };

    for (std::size_t i = 0; i < args.size(); ++i) {
        const auto& a = args[i];
        if (a == "--help" || a == "-h") {
            cl.command = "help";
            return cl;
        }
        if (is(a, "--config") || a == "-c") {
            auto v = value_of(i, "--config");
            if (!v) return v.error();
            if (v->empty()) return fail(errc::invalid_argument, "--config needs a file name");
            cl.config_file = *v;
        } else if (is(a, "--rule")) {
            auto v = value_of(i, "--rule");
            if (!v) return v.error();
            // A rule named twice runs once.
            if (std::find(cl.rules.begin(), cl.rules.end(), *v) == cl.rules.end()) cl.rules.push_back(*v);
        } else if (is(a, "--workflow")) {
            auto v = value_of(i, "--workflow");
            if (!v) return v.error();
            cl.workflow = *v;
        } else if (is(a, "--limit")) {
            auto v = value_of(i, "--limit");
            if (!v) return v.error();
            int n = 0;
            auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
            if (ec != std::errc{} || p != v->data() + v->size() || n <= 0)
                return fail(errc::invalid_argument, "--limit needs a positive number, not '" + *v + "'");
            cl.limit = n;
        } else if (is(a, "--grace")) {
            auto v = value_of(i, "--grace");
            if (!v) return v.error();
            auto d = parse_duration(*v);
            if (!d) return fail(errc::invalid_argument, "--grace needs a duration like 30s, not '" + *v + "'");
            cl.grace = *v;
        } else if (is(a, "--archive") || is(a, "--from") || is(a, "--to") || is(a, "--version") || is(a, "--at")) {
            auto name = a.substr(0, a.find('='));
            auto v = value_of(i, name);
            if (!v) return v.error();
            if (v->empty()) return fail(errc::invalid_argument, name + " needs a value");
            auto& slot = name == "--archive" ? cl.archive
                         : name == "--from"  ? cl.from
                         : name == "--to"    ? cl.to
                         : name == "--version" ? cl.version
                                               : cl.at;
            slot = *v;
        } else if (is(a, "--intent")) {
            auto v = value_of(i, "--intent");
            if (!v) return v.error();
            std::int64_t n = 0;
            auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
            if (ec != std::errc{} || p != v->data() + v->size() || n <= 0)
                return fail(errc::invalid_argument, "--intent needs an intent number, not '" + *v + "'");
            cl.intent = n;
        } else if (is(a, "--target-workflow")) {
            auto v = value_of(i, "--target-workflow");
            if (!v) return v.error();
            if (v->empty()) return fail(errc::invalid_argument, "--target-workflow needs a value");
            cl.target_workflow = *v;
        } else if (is(a, "--target-version")) {
            auto v = value_of(i, "--target-version");
            if (!v) return v.error();
            if (v->empty()) return fail(errc::invalid_argument, "--target-version needs a value");
            cl.target_version = *v;
        } else if (a == "--imported" || a == "--not-imported") {
            auto r = a.substr(2);
            if (!cl.resolution.empty() && cl.resolution != r)
                return fail(errc::invalid_argument, "--imported and --not-imported exclude each other");
            cl.resolution = r;
        } else if (a == "--dry-run") {
            cl.dry_run = true;
        } else if (a == "--full") {
            cl.full = true;
        } else if (a == "--wait") {
            cl.wait = std::chrono::milliseconds(0);
        } else if (a.rfind("--wait=", 0) == 0) {
            auto d = parse_duration(a.substr(7));
            if (!d || d->count() <= 0)
                return fail(errc::invalid_argument, "--wait=" + a.substr(7) + ": expected a duration such as 30s or 5m");
            cl.wait = *d;
        } else if (a == "--offline") {
            cl.offline = true;
        } else if (a == "--strict") {
            cl.strict = true;
        } else if (a == "--json") {
            cl.json = true;
        } else if (a == "--force") {
            cl.force = true;
        } else if (a.size() > 1 && a[0] == '-') {
            return fail(errc::invalid_argument, "unknown option '" + a + "'");
        } else if (cl.command.empty()) {
            if (!known_commands.contains(a)) return fail(errc::invalid_argument, "unknown command '" + a + "'");
            cl.command = a;
        } else {
            cl.positional.push_back(a);
        }
    }
    if (cl.command.empty()) return fail(errc::invalid_argument, "no command given");

    // Options that make no sense for the command are refused rather than ignored.
    auto refuse = [&](bool set, std::string_view opt) -> result<void> {
        if (set) return fail(errc::invalid_argument, std::string(opt) + " is not an option of '" + cl.command + "'");
        return {};
    };
    const auto& c = cl.command;
    if (auto r = refuse(cl.dry_run && c != "sync" && c != "restore" && c != "archive", "--dry-run"); !r) return r.error();
    if (auto r = refuse(cl.offline && c != "check", "--offline"); !r) return r.error();
    if (auto r = refuse(cl.strict && c != "check", "--strict"); !r) return r.error();
    if (auto r = refuse(cl.full && c != "sync" && c != "plan", "--full"); !r) return r.error();
    if (auto r = refuse(cl.wait && c != "sync" && c != "serve" && c != "restore" && c != "archive", "--wait");
        !r)
        return r.error();
    if (auto r = refuse(!cl.grace.empty() && c != "serve", "--grace"); !r) return r.error();
    if (auto r = refuse(!cl.rules.empty() && c != "sync" && c != "plan" && c != "history", "--rule"); !r)
        return r.error();
    if (auto r = refuse(!cl.workflow.empty() && c != "history" && c != "restore", "--workflow"); !r)
        return r.error();
    if (auto r = refuse(cl.json && c != "history" && c != "status" && c != "plan" && c != "sync" && c != "archive" &&
                            c != "resolve",
                        "--json");
        !r)
        return r.error();
    for (auto [set, opt] : {std::pair{cl.intent != 0, "--intent"}, std::pair{!cl.resolution.empty(), "--imported"},
                            std::pair{!cl.target_workflow.empty(), "--target-workflow"},
                            std::pair{!cl.target_version.empty(), "--target-version"}})
        if (auto r = refuse(set && c != "resolve", opt); !r) return r.error();
    if (c == "resolve") {
        if (cl.intent != 0 && cl.resolution.empty())
            return fail(errc::invalid_argument, "resolve --intent N needs --imported or --not-imported");
        if (cl.intent == 0 && (!cl.resolution.empty() || !cl.target_workflow.empty()))
            return fail(errc::invalid_argument, "resolve: say which intent with --intent N");
        if (cl.resolution == "not-imported" && (!cl.target_workflow.empty() || !cl.target_version.empty()))
            return fail(errc::invalid_argument, "--target-workflow and --target-version go with --imported");
    }
    if (auto r = refuse(cl.force && c != "state", "--force"); !r) return r.error();
    if (c == "state") {
        const auto& p = cl.positional;
        if (p.empty() || (p[0] != "check" && p[0] != "backup"))
            return fail(errc::invalid_argument, "state needs one of: check, backup FILE");
        if (p[0] == "check" && p.size() != 1)
            return fail(errc::invalid_argument, "unexpected argument '" + p[1] + "' after state check");
        if (p[0] == "backup" && p.size() != 2)
            return fail(errc::invalid_argument, p.size() < 2 ? "state backup needs a FILE to write"
                                                              : "unexpected argument '" + p[2] + "' after state backup FILE");
        if (cl.force && p[0] != "backup")
            return fail(errc::invalid_argument, "--force is an option of 'state backup' only");
        if (p[0] == "backup" && p[1].empty()) return fail(errc::invalid_argument, "state backup needs a FILE to write");
    }
    if (!cl.positional.empty() && c != "diff" && c != "archive" && c != "state")
        return fail(errc::invalid_argument, "unexpected argument '" + cl.positional.front() + "'");
    if (auto r = refuse(!cl.archive.empty() && c != "archive", "--archive"); !r) return r.error();
    for (auto [set, opt] : {std::pair{!cl.from.empty(), "--from"}, std::pair{!cl.to.empty(), "--to"},
                            std::pair{!cl.version.empty(), "--version"}, std::pair{!cl.at.empty(), "--at"}})
        if (auto r = refuse(set && c != "restore", opt); !r) return r.error();
    if (c == "history" && cl.rules.size() > 1)
        return fail(errc::invalid_argument, "history takes one --rule");
    if (c == "archive") {
        if (cl.positional.size() != 1 ||
            (cl.positional[0] != "list" && cl.positional[0] != "verify" && cl.positional[0] != "prune"))
            return fail(errc::invalid_argument, "archive needs one of: list, verify, prune");
        if (cl.dry_run && cl.positional[0] != "prune")
            return fail(errc::invalid_argument, "--dry-run is an option of 'archive prune' only");
    }
    if (c == "restore") {
        if (cl.from.rfind("archive:", 0) != 0 || cl.from.size() <= 8)
            return fail(errc::invalid_argument, "restore needs --from archive:NAME");
        if (cl.workflow.empty()) return fail(errc::invalid_argument, "restore needs --workflow W");
        if (cl.to.empty()) return fail(errc::invalid_argument, "restore needs --to TENANT");
        if (!cl.version.empty() && !cl.at.empty())
            return fail(errc::invalid_argument, "restore takes --version or --at, not both");
    }
    return cl;
}

int main(int argc, char** argv)
{
    // A file size limit (RLIMIT_FSIZE) must fail the write with EFBIG, reported like a full
    // disk, rather than kill the process half-way through a backup.
    std::signal(SIGXFSZ, SIG_IGN);
    std::vector<std::string> args(argv + 1, argv + argc);
    auto cl = parse_command_line(args);
    if (!cl) {
        std::cerr << "wfsync: " << cl.error().message << "\n\n" << usage();
        return exit_usage;
    }
    if (cl->command == "help") {
        std::cout << usage();
        return exit_ok;
    }
    return run_command(*cl, std::cout, std::cerr);
}

}  // namespace wfsync::app
