// SPDX-License-Identifier: Apache-2.0
#include <wfsync/app/cli.hpp>

#include <wfsync/core/duration.hpp>

#include <CLI/App.hpp>
#include <CLI/Config.hpp>
#include <CLI/Formatter.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <csignal>
#include <cstdlib>
#include <iostream>

namespace wfsync::app {

namespace {

constexpr const char* exit_codes_text =
    "Exit codes: 0 success, 1 some items failed, 2 usage, 74 local I/O error or damaged state (EX_IOERR),\n"
    "            75 temporary failure: network, 5xx, 429, state busy or locked (EX_TEMPFAIL),\n"
    "            77 permission denied on a local file (EX_NOPERM), 78 config error (EX_CONFIG)\n";

/// The parser: CLI11 fills the strings; parse_command_line checks what CLI11 cannot say
/// (durations, numbers, combinations), so every message is ours and one line.
struct parser {
    CLI::App app{"wfsync replicates and backs up workflow definitions between tenants of Zuora Workflow, "
                 "Kore.ai AI for Process and Huawei Cloud SecMaster.",
                 "wfsync"};
    command_line cl;
    std::string wait, limit, intent, grace;
    bool imported = false, not_imported = false, show_version = false;
    std::vector<std::string> help_topic;
    std::array<std::string, 4> diff_args;
    std::string backup_file;

    parser()
    {
        app.formatter(std::make_shared<CLI::Formatter>());
        app.get_formatter()->column_width(30);
        app.get_formatter()->label("REQUIRED", "");
        // An option given twice: the last one wins, as before (wrappers add their own -c).
        app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
        app.require_subcommand(0, 1);
        app.allow_extras();
        app.footer(std::string("\n") + exit_codes_text +
                   "\nRun 'wfsync help COMMAND' or 'wfsync COMMAND --help' for one command's options.");
        app.add_option("-c,--config", cl.config_file,
                       "config file (default $WFSYNC_CONFIG, else /etc/wfsync/wfsync.yaml)")
            ->type_name("FILE");
        app.add_flag("--json", cl.json, "print the result as JSON (docs/json.md)");
        app.add_flag("-q,--quiet", cl.quiet, "only errors and warnings on stderr, no progress line");
        app.add_flag("-v,--verbose", cl.verbose, "log lines on a terminal too; twice for debug lines");
        app.add_flag("--no-color", cl.no_color, "no colour (also when NO_COLOR is set or not on a terminal)");
        app.add_flag("-V,--version", show_version, "print the version and exit");

        auto* sync = command("sync", "run rules once now, then exit");
        rules_option(sync);
        sync->add_flag("--dry-run", cl.dry_run, "say what would be done; change nothing");
        full_option(sync);
        wait_option(sync);

        auto* plan = command("plan", "what sync would do, with diffs; changes nothing");
        rules_option(plan);
        full_option(plan);

        auto* check = command("check", "validate the config; without --offline also log in to every tenant");
        check->add_flag("--offline", cl.offline, "validate only; contact no tenant");
        check->add_flag("--strict", cl.strict, "with --offline: a secret that cannot be read is an error");

        auto* history = command("history", "runs and events recorded in the state");
        history->add_option("--rule", cl.rules, "only this rule's runs")
            ->type_name("R")
            ->option_text("R")
            ->allow_extra_args(false)
            ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
        history->add_option("--workflow", cl.workflow, "only events of this workflow (id or name)")
            ->type_name("W");
        history->add_option("--limit", limit, "at most N runs and N events (default 50)")->type_name("N");

        auto* serve = command("serve", "the daemon: rules on their schedules, admin endpoint, systemd notify");
        serve->add_option("--grace", grace, "how long running imports may take to finish at SIGTERM (default 30s)")
            ->type_name("DUR");
        wait_option(serve);

        auto* diff = command("diff", "compare two versions of a workflow recorded in the state");
        diff->add_option("TENANT", diff_args[0], "a tenant of the config")->type_name("");
        diff->add_option("WORKFLOW", diff_args[1], "the workflow's id or name")->type_name("");
        diff->add_option("VERSION_A", diff_args[2], "default: the second newest version recorded")->type_name("");
        diff->add_option("VERSION_B", diff_args[3], "default: the newest version recorded")->type_name("");

        auto* archive = command("archive", "backups: list what is kept, re-hash every file, apply retention");
        archive->require_subcommand(1);
        archive->add_option("--archive", cl.archive, "only this archive (a name under archives:)")->type_name("A");
        archive->add_subcommand("list", "the versions each archive keeps")->fallthrough();
        archive->add_subcommand("verify", "re-hash every file against the catalogue")->fallthrough();
        auto* prune = archive->add_subcommand("prune", "apply each rule's retention");
        prune->fallthrough();
        prune->add_flag("--dry-run", cl.dry_run, "say what would be removed; remove nothing");
        wait_option(prune);

        auto* restore = command("restore", "import an archived version into a tenant (same rules as a sync)");
        restore->add_option("--from", cl.from, "archive:NAME")->type_name("archive:A");
        restore->add_option("--workflow", cl.workflow, "the workflow's id or name")->type_name("W");
        restore->add_option("--version", cl.version, "this version (default: the newest archived)")
            ->type_name("V");
        restore->add_option("--at", cl.at, "the newest version archived at or before TIME (ISO 8601, UTC)")
            ->type_name("TIME");
        restore->add_option("--to", cl.to, "the tenant to import into")->type_name("TENANT");
        restore->add_flag("--dry-run", cl.dry_run, "say what would be imported; import nothing");
        wait_option(restore);

        command("status", "ask the running daemon's admin endpoint how it is doing");

        auto* resolve = command("resolve", "imports held because no read could tell whether they happened");
        resolve->add_option("--intent", intent, "settle this held intent")->type_name("N");
        resolve->add_flag("--imported", imported, "it is in the target (found in the platform's UI)");
        resolve->add_flag("--not-imported", not_imported, "it is not in the target: import it at the next run");
        resolve->add_option("--target-workflow", cl.target_workflow, "with --imported: the target's workflow id")
            ->type_name("ID");
        resolve->add_option("--target-version", cl.target_version, "with --imported: the target's version")
            ->type_name("V");

        auto* state = command("state", "the state database: check it, copy it");
        state->require_subcommand(1);
        state->add_subcommand("check", "PRAGMA integrity_check: prints ok or the problems")->fallthrough();
        auto* backup = state->add_subcommand("backup", "a consistent copy of the state, also while the daemon runs");
        backup->fallthrough();
        backup->add_option("FILE", backup_file, "the copy to write")->type_name("");
        backup->add_flag("--force", cl.force, "replace an existing FILE");

        command("version", "print the version, git revision, build type and library versions");
        auto* help = command("help", "print the help of wfsync or of one command");
        help->add_option("command", help_topic, "COMMAND [SUBCOMMAND]")->type_name("");
    }

    CLI::App* command(const char* name, const char* what)
    {
        auto* c = app.add_subcommand(name, what);
        c->fallthrough();
        c->allow_extras();
        return c;
    }
    void rules_option(CLI::App* c)
    {
        c->add_option("--rule", cl.rules, "only this rule (repeatable; default all)")
            ->type_name("R")
            ->option_text("R")
            ->allow_extra_args(false)
            ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    }
    void full_option(CLI::App* c)
    {
        c->add_flag("--full", cl.full, "compare every item's contents, whatever the listings say");
    }
    void wait_option(CLI::App* c)
    {
        c->add_option("--wait", wait,
                      "wait for the state's lock when another command holds it (no limit without DUR) "
                      "instead of exit 75")
            ->type_name("[DUR]")
            ->expected(0, 1);
    }

    /// The deepest command given: "archive prune" as {archive, prune}.
    std::vector<CLI::App*> chain() const
    {
        std::vector<CLI::App*> out;
        for (const CLI::App* a = &app;;) {
            auto subs = a->get_subcommands();
            if (subs.empty()) break;
            out.push_back(subs.front());
            a = subs.front();
        }
        return out;
    }
};

std::string command_path(const std::vector<CLI::App*>& chain)
{
    std::string s;
    for (auto* c : chain) s += (s.empty() ? "" : " ") + c->get_name();
    return s;
}

/// A usage error: one line, and where to look.
error usage_error(const std::string& message, const std::string& command)
{
    return make_error(errc::invalid_argument,
                      message + " (see 'wfsync " + (command.empty() ? "" : command + " ") + "--help')");
}

/// Which commands take an option: "--offline" is an option of {"check"}.
void owners_of(const CLI::App& app, const std::string& opt, std::vector<std::string>& found,
               const std::string& prefix = {})
{
    for (const auto* sub : app.get_subcommands({})) {
        const auto name = prefix.empty() ? sub->get_name() : prefix + " " + sub->get_name();
        for (const auto* o : sub->get_options())
            for (const auto& l : o->get_lnames())
                if ("--" + l == opt && std::find(found.begin(), found.end(), name) == found.end()) found.push_back(name);
        owners_of(*sub, opt, found, name);
    }
}

template <class Int = int>
result<Int> positive(const std::string& v, const std::string& opt, const char* what)
{
    Int n = 0;
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (ec != std::errc{} || p != v.data() + v.size() || n <= 0)
        return fail(errc::invalid_argument, opt + " needs " + what + ", not '" + v + "'");
    return n;
}

}  // namespace

std::string usage()
{
    parser p;
    return p.app.help();
}

result<command_line> parse_command_line(const std::vector<std::string>& args)
{
    parser p;
    if (const char* env = std::getenv("WFSYNC_CONFIG"); env && *env) p.cl.config_file = env;
    else p.cl.config_file = "/etc/wfsync/wfsync.yaml";

    std::vector<std::string> reversed(args.rbegin(), args.rend());
    try {
        p.app.parse(std::move(reversed));
    } catch (const CLI::CallForHelp&) {
        p.cl.command = "help";
        p.cl.help_text = p.app.help();
        return p.cl;
    } catch (const CLI::ParseError& e) {
        auto chain = p.chain();
        std::string msg = e.what();
        // CLI11 says "--limit: 1 required TEXT missing" and the like; ours name the option.
        if (dynamic_cast<const CLI::ArgumentMismatch*>(&e) != nullptr && msg.find("required") != std::string::npos) {
            auto opt = msg.substr(0, msg.find(':'));
            msg = opt + " needs a value";
        } else if (dynamic_cast<const CLI::RequiredError*>(&e) != nullptr && !chain.empty() &&
                   chain.back()->get_require_subcommand_min() > 0) {
            std::string subs;
            for (const auto* sub : chain.back()->get_subcommands({}))
                subs += (subs.empty() ? "" : ", ") + sub->get_name();
            msg = command_path(chain) + " needs one of: " + subs;
        }
        return usage_error(msg, command_path(chain));
    }

    const auto chain = p.chain();
    const auto where = command_path(chain);
    auto& cl = p.cl;
    if (chain.empty()) {
        if (auto extra = p.app.remaining(); !extra.empty()) {
            if (extra.front().size() > 1 && extra.front()[0] == '-')
                return usage_error("unknown option '" + extra.front() + "'", "");
            return usage_error("unknown command '" + extra.front() + "'", "");
        } else if (p.show_version) {
            cl.command = "version";
        } else {
            return usage_error("no command given", "");
        }
        return cl;
    }
    cl.command = chain.front()->get_name();
    for (std::size_t i = 1; i < chain.size(); ++i) cl.positional.push_back(chain[i]->get_name());

    // Whatever CLI11 did not place: an option of another command, or a stray word.
    if (auto extra = p.app.remaining(true); !extra.empty()) {
        const auto& a = extra.front();
        if (a.size() > 1 && a[0] == '-') {
            auto name = a.substr(0, a.find('='));
            std::vector<std::string> owners;
            owners_of(p.app, name, owners);
            if (owners.empty()) return usage_error("unknown option '" + name + "'", where);
            // `wfsync --dry-run sync`: the option of a command, given before it.
            if (std::find(owners.begin(), owners.end(), where) != owners.end())
                return usage_error("put " + name + " after '" + where + "'", where);
            std::string list;
            for (const auto& o : owners) list += (list.empty() ? "" : ", ") + o;
            return usage_error(name + " is not an option of '" + where + "' (it is one of: " + list + ")", where);
        }
        return usage_error("unexpected argument '" + a + "'", where);
    }
    if (p.show_version) return usage_error("--version goes alone: 'wfsync --version' or 'wfsync version'", where);

    if (cl.config_file.empty()) return usage_error("--config needs a file name", where);
    if (cl.quiet && cl.verbose > 0) return usage_error("--quiet and --verbose exclude each other", where);
    // A rule named twice runs once.
    std::vector<std::string> rules;
    for (auto& r : cl.rules)
        if (std::find(rules.begin(), rules.end(), r) == rules.end()) rules.push_back(r);
    cl.rules = std::move(rules);
    if (cl.command == "history" && cl.rules.size() > 1) return usage_error("history takes one --rule", where);

    if (!p.limit.empty()) {
        auto n = positive(p.limit, "--limit", "a positive number");
        if (!n) return usage_error(n.error().message, where);
        cl.limit = *n;
    }
    if (const auto* w = chain.back()->get_option_no_throw("--wait"); w != nullptr && w->count() > 0) {
        if (p.wait.empty()) {
            cl.wait = std::chrono::milliseconds(0);
        } else {
            auto d = parse_duration(p.wait);
            if (!d || d->count() <= 0)
                return usage_error("--wait " + p.wait + ": expected a duration such as 30s or 5m", where);
            cl.wait = *d;
        }
    }
    if (!p.grace.empty()) {
        if (!parse_duration(p.grace))
            return usage_error("--grace needs a duration like 30s, not '" + p.grace + "'", where);
        cl.grace = p.grace;
    }
    // `--to ""` and the like: given, but empty.
    for (const auto* cmd : chain)
        for (const auto* o : cmd->get_options())
            if (o->count() > 0 && !o->get_lnames().empty() && o->get_expected_min() > 0 &&
                std::all_of(o->results().begin(), o->results().end(), [](const auto& v) { return v.empty(); }))
                return usage_error("--" + o->get_lnames().front() + " needs a value", where);

    const auto& c = cl.command;
    if (cl.strict && !cl.offline) return usage_error("--strict goes with --offline", where);
    if (c == "serve" && (cl.quiet || cl.verbose > 0))
        return usage_error(std::string(cl.quiet ? "--quiet" : "--verbose") +
                               " is not an option of 'serve': it logs at log.level of the config",
                           where);
    if (cl.json && (c == "serve" || c == "help"))
        return usage_error("--json is not an option of '" + c + "'" +
                               (c == "serve" ? ": its log lines are JSON with log.format: json" : ""),
                           where);
    if (c == "resolve") {
        if (!p.intent.empty()) {
            auto n = positive<std::int64_t>(p.intent, "--intent", "an intent number");
            if (!n) return usage_error(n.error().message, where);
            cl.intent = *n;
        }
        if (p.imported && p.not_imported) return usage_error("--imported and --not-imported exclude each other", where);
        if (p.imported) cl.resolution = "imported";
        if (p.not_imported) cl.resolution = "not-imported";
        if (cl.intent != 0 && cl.resolution.empty())
            return usage_error("resolve --intent N needs --imported or --not-imported", where);
        if (cl.intent == 0 && (!cl.resolution.empty() || !cl.target_workflow.empty()))
            return usage_error("resolve: say which intent with --intent N", where);
        if (cl.resolution == "not-imported" && (!cl.target_workflow.empty() || !cl.target_version.empty()))
            return usage_error("--target-workflow and --target-version go with --imported", where);
    }
    if (c == "state" && cl.positional.front() == "backup") {
        if (p.backup_file.empty()) return usage_error("state backup needs a FILE to write", where);
        cl.positional.push_back(p.backup_file);
    }
    if (c == "restore") {
        if (cl.from.rfind("archive:", 0) != 0 || cl.from.size() <= 8)
            return usage_error("restore needs --from archive:NAME", where);
        if (cl.workflow.empty()) return usage_error("restore needs --workflow W", where);
        if (cl.to.empty()) return usage_error("restore needs --to TENANT", where);
        if (!cl.version.empty() && !cl.at.empty()) return usage_error("restore takes --version or --at, not both", where);
    }
    if (c == "diff") {
        const auto* d = chain.front();
        std::size_t given = 0;
        for (const char* name : {"TENANT", "WORKFLOW", "VERSION_A", "VERSION_B"})
            given += d->get_option(name)->count() > 0;
        if (given < 2) return usage_error("diff needs TENANT and WORKFLOW", where);
        for (std::size_t i = 0; i < given; ++i) {
            if (p.diff_args[i].empty())
                return usage_error(std::string(i == 0 ? "TENANT" : i == 1 ? "WORKFLOW" : "a version") +
                                       " must not be empty",
                                   where);
            cl.positional.push_back(p.diff_args[i]);
        }
    }
    if (c == "help") {
        if (p.help_topic.empty()) {
            cl.help_text = usage();
            return cl;
        }
        CLI::App* topic = &p.app;
        std::string prev = "wfsync";
        for (const auto& name : p.help_topic) {
            try {
                if (topic != &p.app) prev += " " + topic->get_name();
                topic = topic->get_subcommand(name);
            } catch (const CLI::OptionNotFound&) {
                return usage_error("no command '" + (topic == &p.app ? name : topic->get_name() + " " + name) +
                                       "' to help with",
                                   "");
            }
        }
        cl.help_text = topic->help(prev);
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
        std::cerr << "wfsync: " << cl.error().message << '\n';
        return exit_usage;
    }
    if (cl->command == "help") {
        std::cout << cl->help_text;
        return exit_ok;
    }
    return run_command(*cl, std::cout, std::cerr);
}

}  // namespace wfsync::app
