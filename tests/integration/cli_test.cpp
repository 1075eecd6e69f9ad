// SPDX-License-Identifier: Apache-2.0
// End to end: the command line as an operator meets it, with the real binary.
#define BOOST_TEST_MODULE wfsync command line end to end
#include "fixtures.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>

using namespace wfsync::test;
namespace json = boost::json;

namespace {

bool has(const std::string& text, const std::string& part)
{
    return text.find(part) != std::string::npos;
}

std::size_t lines_of(const std::string& text)
{
    return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

/// Invoice Sync at 0.1.1: the ERP's URL changes.
json::object invoice_sync_v2()
{
    return json::object{{"workflow", json::object{{"name", "Invoice Sync"}, {"version", "0.1.1"}}},
                        {"tasks", json::array{task(1, "Fetch invoices", "Export", {{"object", "Invoice"}}),
                                              task(2, "Post to ERP", "Callout", {{"url", "https://erp.example/v2/invoices"}})}},
                        {"linkages", json::array{link(1, 2)}}};
}

}  // namespace

BOOST_AUTO_TEST_CASE(diff_compares_versions_kept_in_the_state_without_a_tenant)
{
    emulator_thread emu(seed());
    auto env = make_env(emu->base_url());
    BOOST_TEST_REQUIRE(env.run({"sync"}).code == 0);
    BOOST_TEST_REQUIRE(emu->add_version("sandbox", "102", invoice_sync_v2()).has_value());
    BOOST_TEST_REQUIRE(env.run({"sync"}).code == 0);
    emu->clear_requests();

    // By name, no versions: the two newest.
    auto d = env.run({"diff", "sandbox", "Invoice Sync"});
    BOOST_TEST_REQUIRE(d.code == 0, describe(d));
    BOOST_TEST(has(d.out, "Invoice Sync (sandbox/102): 0.1.0 -> 0.1.1, 1 change\n"), d.out);
    BOOST_TEST(has(d.out, "erp.example/invoices"), d.out);
    BOOST_TEST(has(d.out, "erp.example/v2/invoices"), d.out);
    // From the state alone: no request reached a tenant.
    BOOST_TEST(emu->requests("sandbox").empty());

    // By id, both versions, as JSON; the other way round.
    auto j = env.run({"diff", "sandbox", "102", "0.1.1", "0.1.0", "--json"});
    BOOST_TEST_REQUIRE(j.code == 0, describe(j));
    auto o = json::parse(j.out).as_object();
    BOOST_TEST(o.at("workflow_id").as_string() == "102");
    BOOST_TEST(o.at("workflow_name").as_string() == "Invoice Sync");
    BOOST_TEST(o.at("from").at("version").as_string() == "0.1.1");
    BOOST_TEST(o.at("to").at("version").as_string() == "0.1.0");
    BOOST_TEST(o.at("identical").as_bool() == false);
    BOOST_TEST(o.at("changes").as_array().size() == 1u);
    BOOST_TEST(o.at("to").at("seen_at").as_string().size() == 20u);  // 2026-11-29T23:10:00Z

    auto same = env.run({"diff", "sandbox", "102", "0.1.0", "0.1.0"});
    BOOST_TEST(same.code == 0, describe(same));
    BOOST_TEST(has(same.out, "0.1.0 -> 0.1.0: no changes (same content)"), same.out);

    // What the state does not hold is named, with what it does.
    auto version = env.run({"diff", "sandbox", "102", "9.9.9"});
    BOOST_TEST(version.code == 1, describe(version));
    BOOST_TEST(version.err == "wfsync: diff: the state holds no version 9.9.9 of Invoice Sync (sandbox/102); "
                              "recorded: 0.1.0, 0.1.1\n");
    auto one = env.run({"diff", "sandbox", "Billing Reminder"});
    BOOST_TEST(one.code == 1, describe(one));
    BOOST_TEST(has(one.err, "has fewer than two versions in the state (recorded: 0.0.2)"), one.err);
    auto workflow = env.run({"diff", "sandbox", "Nope"});
    BOOST_TEST(workflow.code == 1, describe(workflow));
    BOOST_TEST(has(workflow.err, "the state holds no workflow 'Nope' of tenant sandbox"), workflow.err);
    BOOST_TEST(has(workflow.err, "Invoice Sync (102)"), workflow.err);
    // A rule renamed in the config keeps its history under the old name.
    {
        std::ifstream in(env.config_file);
        std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        text.replace(text.find("name: promote"), 13, "name: promote-v2");
        std::ofstream(env.config_file, std::ios::trunc) << text;
    }
    auto old_rule = env.run({"history", "--rule", "promote", "--json"});
    BOOST_TEST(old_rule.code == 0, describe(old_rule));
    BOOST_TEST(json::parse(old_rule.out).at("runs").as_array().size() == 2u);

    auto tenant = env.run({"diff", "mars", "102"});
    BOOST_TEST(tenant.code == 2, describe(tenant));
    BOOST_TEST(tenant.err == "wfsync: diff: no tenant 'mars' in the config (tenants: prod, sandbox)\n");
}

BOOST_AUTO_TEST_CASE(usage_errors_are_one_line_and_exit_2)
{
    emulator_thread emu(seed());
    auto env = make_env(emu->base_url());
    for (auto args : {std::vector<std::string>{"sync", "--bogus"},
                      {"history", "--limit", "0"},
                      {"frobnicate"},
                      {},
                      {"restore", "--from", "local"},
                      {"archive"},
                      {"check", "--strict"},
                      {"diff", "sandbox"}}) {
        auto r = env.run(args);
        const auto what = args.empty() ? std::string("(none)") : args.front();
        BOOST_TEST(r.code == 2, what << ": " << describe(r));
        BOOST_TEST(lines_of(r.err) == 1u, what << ": " << r.err);
        BOOST_TEST(has(r.err, "--help')"), what << ": " << r.err);
        BOOST_TEST(r.out.empty(), what);
    }
    // An unknown rule is a usage error for every command that takes --rule.
    for (const char* cmd : {"sync", "plan", "history"}) {
        auto r = env.run({cmd, "--rule", "nope"});
        BOOST_TEST(r.code == 2, cmd << ": " << describe(r));
        BOOST_TEST(has(r.err, "no rule named 'nope' in the config (rules: promote)"), r.err);
    }
    // Help goes to stdout and exits 0, for one command or all.
    auto help = env.run({"restore", "--help"});
    BOOST_TEST(help.code == 0, describe(help));
    BOOST_TEST(has(help.out, "Usage: wfsync restore [OPTIONS]"), help.out);
    auto topic = env.run({"help", "archive", "prune"});
    BOOST_TEST(topic.code == 0, describe(topic));
    BOOST_TEST(has(topic.out, "Usage: wfsync archive prune [OPTIONS]"), topic.out);
}

BOOST_AUTO_TEST_CASE(unreachable_tenants_are_a_temporary_failure_for_check_as_for_sync)
{
    // Port 1 on loopback: refused at once.
    auto env = make_env("http://127.0.0.1:1", config_options{.max_attempts = 1});
    auto check = env.run({"check"});
    BOOST_TEST(check.code == 75, describe(check));
    auto sync = env.run({"sync"});
    BOOST_TEST(sync.code == 75, describe(sync));
}

namespace {

bool iso_utc(const json::value& v)
{
    // 2026-11-29T23:10:00Z
    if (!v.is_string()) return false;
    const auto& s = v.as_string();
    return s.size() == 20 && s[4] == '-' && s[10] == 'T' && s[19] == 'Z';
}

/// Runs `args` with --json and parses stdout as one JSON object.
json::object json_of(const wfsync_env& env, std::vector<std::string> args, int expect = 0)
{
    args.push_back("--json");
    auto r = env.run(args);
    BOOST_TEST(r.code == expect, args.front() << ": " << describe(r));
    json::error_code ec;
    auto v = json::parse(r.out, ec);
    BOOST_TEST_REQUIRE(!ec, args.front() << ": not JSON: " << r.out);
    BOOST_TEST_REQUIRE(v.is_object(), args.front() << ": not an object: " << r.out);
    return v.as_object();
}

}  // namespace

BOOST_AUTO_TEST_CASE(every_command_answers_json_with_iso_times)
{
    emulator_thread emu(seed());
    config_options o;
    o.extra_rules = "  - name: backup\n    source: sandbox\n    targets: [\"archive:local\"]\n"
                    "    retention: {keep_last: 5}\n";
    auto env = make_env(emu->base_url(), o);
    {
        std::ofstream f(env.config_file, std::ios::app);
        f << "archives:\n  local: {path: " << env.dir->file("archive") << "}\n";
    }

    auto plan = json_of(env, {"plan", "--rule", "promote"});
    const auto& planned = plan.at("runs").as_array().at(0).as_object();
    BOOST_TEST(planned.at("dry_run").as_bool());
    BOOST_TEST(planned.at("would_import").as_int64() == 3);
    BOOST_TEST(planned.at("imported").as_int64() == 0);
    auto dry = json_of(env, {"sync", "--dry-run"});
    BOOST_TEST(dry.at("runs").as_array().size() == 2u);
    BOOST_TEST(emu.find("prod", "import", "POST").empty());
    auto sync = json_of(env, {"sync"});
    const auto& promoted = sync.at("runs").as_array().at(0).as_object();
    BOOST_TEST(promoted.at("dry_run").as_bool() == false);
    BOOST_TEST(promoted.at("imported").as_int64() == 3);
    BOOST_TEST(promoted.at("items").as_array().size() == 3u);

    auto check = json_of(env, {"check"});
    BOOST_TEST(check.at("valid").as_bool());
    BOOST_TEST(check.at("logins").as_array().size() == 2u);
    BOOST_TEST(check.at("logins").as_array().at(0).at("ok").as_bool());
    auto offline = json_of(env, {"check", "--offline"});
    BOOST_TEST(offline.at("rules").as_int64() == 2);
    BOOST_TEST(!offline.contains("logins"));

    auto history = json_of(env, {"history", "--limit", "5"});
    BOOST_TEST_REQUIRE(!history.at("runs").as_array().empty());
    for (const auto& r : history.at("runs").as_array()) {
        BOOST_TEST(iso_utc(r.at("started_at")), r);
        BOOST_TEST(iso_utc(r.at("finished_at")), r);
    }
    for (const auto& e : history.at("events").as_array()) BOOST_TEST(iso_utc(e.at("at")), e);

    auto list = json_of(env, {"archive", "list"});
    const auto& local = list.at("archives").as_array().at(0).as_object();
    BOOST_TEST(local.at("name").as_string() == "local");
    BOOST_TEST(local.at("versions").as_array().size() == 4u);  // version: latest of 4 workflows
    for (const auto& v : local.at("versions").as_array()) BOOST_TEST(iso_utc(v.at("stored_at")), v);
    auto verify = json_of(env, {"archive", "verify"});
    BOOST_TEST(verify.at("archives").as_array().at(0).at("verified").as_int64() == 4);
    BOOST_TEST(verify.at("archives").as_array().at(0).at("corrupt").as_array().empty());
    auto prune = json_of(env, {"archive", "prune", "--dry-run"});
    const auto& pruned = prune.at("archives").as_array().at(0).as_object();
    BOOST_TEST(pruned.at("dry_run").as_bool());
    BOOST_TEST(pruned.at("kept").as_array().size() == 4u);
    BOOST_TEST(!pruned.at("kept").as_array().at(0).at("reasons").as_array().empty());

    auto restore = json_of(env, {"restore", "--from", "archive:local", "--workflow", "Invoice Sync", "--to", "prod",
                                 "--dry-run"});
    const auto& restored = restore.at("runs").as_array().at(0).as_object();
    BOOST_TEST(restored.at("to").as_string() == "prod");
    BOOST_TEST(restored.at("dry_run").as_bool());

    auto held = json_of(env, {"resolve"});
    BOOST_TEST(held.at("held").as_array().empty());
    auto state = json_of(env, {"state", "check"});
    BOOST_TEST(state.at("ok").as_bool());
    auto backup = json_of(env, {"state", "backup", env.dir->file("copy.db")});
    BOOST_TEST(backup.at("bytes").as_int64() > 0);
    BOOST_TEST(backup.at("integrity_check").as_string() == "ok");

    // A config with a mistake, as JSON: where and what.
    {
        std::ofstream f(env.config_file, std::ios::app);
        f << "colour: red\n";
    }
    auto invalid = json_of(env, {"check", "--offline"}, 78);
    BOOST_TEST(invalid.at("valid").as_bool() == false);
    const auto& issue = invalid.at("issues").as_array().at(0).as_object();
    BOOST_TEST(issue.at("key").as_string() == "colour");
    BOOST_TEST(issue.at("line").as_int64() > 0);
}

BOOST_AUTO_TEST_CASE(a_terminal_gets_progress_and_colour_a_pipe_neither)
{
    emulator_thread emu(seed());
    config_options o;
    o.log_level = "info";
    auto env = make_env(emu->base_url(), o);
    auto on_terminal = [&](std::vector<std::string> args, std::map<std::string, std::string> extra = {}) {
        args.insert(args.begin(), {"--config", env.config_file});
        auto vars = env.env;
        vars["TERM"] = "xterm";
        vars.erase("NO_COLOR");
        for (auto& [k, v] : extra) vars[k] = v;
        return run_in_terminal(WFSYNC_BIN, args, vars);
    };

    auto plan = on_terminal({"plan"});
    BOOST_TEST_REQUIRE(plan.code == 0, plan.out);
    // The progress line, rewritten in place and erased before the table.
    BOOST_TEST(has(plan.out, "\r\x1b[Kpromote 3/3  "), plan.out);
    BOOST_TEST(has(plan.out, "\r\x1b[Kplan for rule promote"), plan.out);
    // Colour: a bold header, imports to be in green.
    BOOST_TEST(has(plan.out, "\x1b[1mACTION\x1b[0m"), plan.out);
    BOOST_TEST(has(plan.out, "\x1b[32mwould create\x1b[0m"), plan.out);
    // Log lines below warning are for --verbose on a terminal: the table says it all.
    BOOST_TEST(!has(plan.out, " info "), plan.out);
    auto verbose = on_terminal({"plan", "-v"});
    BOOST_TEST(has(verbose.out, " info "), verbose.out);

    // NO_COLOR and --no-color: no colour, the progress line stays; --quiet: no progress line.
    for (auto [args, extra] : {std::pair{std::vector<std::string>{"plan"}, std::map<std::string, std::string>{{"NO_COLOR", "1"}}},
                               std::pair{std::vector<std::string>{"plan", "--no-color"}, std::map<std::string, std::string>{}}}) {
        auto plain = on_terminal(args, extra);
        BOOST_TEST(plain.code == 0, plain.out);
        BOOST_TEST(!has(plain.out, "\x1b[1m"), plain.out);
        BOOST_TEST(!has(plain.out, "\x1b[32m"), plain.out);
        BOOST_TEST(has(plain.out, "promote 3/3"), plain.out);
    }
    auto quiet = on_terminal({"plan", "-q"});
    BOOST_TEST(quiet.code == 0, quiet.out);
    BOOST_TEST(!has(quiet.out, "\r\x1b[K"), quiet.out);
    BOOST_TEST(has(quiet.out, "would create"), quiet.out);

    // In pipes: not one escape code, on stdout or stderr.
    auto piped = env.run({"plan"});
    BOOST_TEST(piped.code == 0, describe(piped));
    BOOST_TEST(!has(piped.out, "\x1b"), piped.out);
    BOOST_TEST(!has(piped.err, "\x1b"), piped.err);
    BOOST_TEST(has(piped.err, " info "), piped.err);  // the config's level: info
}

BOOST_AUTO_TEST_CASE(version_names_revision_build_type_and_libraries)
{
    // No config needed: a fresh machine asks this first.
    auto plain = run_program(WFSYNC_BIN, {"version"}, {{"WFSYNC_CONFIG", "/nonexistent/wfsync.yaml"}});
    BOOST_TEST_REQUIRE(plain.code == 0, describe(plain));
    BOOST_TEST(plain.out.starts_with("wfsync 0."), plain.out);
    BOOST_TEST(has(plain.out, "\n  sqlite 3."), plain.out);
    BOOST_TEST(has(plain.out, "\n  openssl OpenSSL 3."), plain.out);
    auto flag = run_program(WFSYNC_BIN, {"--version"});
    BOOST_TEST(flag.code == 0, describe(flag));
    BOOST_TEST(flag.out == plain.out);
    auto j = run_program(WFSYNC_BIN, {"version", "--json"});
    BOOST_TEST_REQUIRE(j.code == 0, describe(j));
    auto o = json::parse(j.out).as_object();
    BOOST_TEST(!o.at("revision").as_string().empty());
    BOOST_TEST(o.at("build_type").as_string() != "");
    BOOST_TEST(o.at("libraries").at("boost").as_string() == "1.81.0");
    BOOST_TEST(has(plain.out, std::string(o.at("revision").as_string())), plain.out);
}

BOOST_AUTO_TEST_CASE(dry_runs_say_would_and_failures_are_log_lines_off_a_terminal)
{
    emulator_thread emu(seed());
    auto env = make_env(emu->base_url());
    auto dry = env.run({"sync", "--dry-run"});
    BOOST_TEST_REQUIRE(dry.code == 0, describe(dry));
    BOOST_TEST(has(dry.out, "dry run of rule promote (run "), dry.out);
    BOOST_TEST(has(dry.out, ": 3 would be imported, "), dry.out);
    // Every item line of the log says "would": none reads like a change that was made.
    int item_lines = 0;
    std::istringstream lines(dry.err);
    for (std::string line; std::getline(lines, line);) {
        if (!has(line, " 'Billing Reminder' ") && !has(line, " 'Invoice Sync' ") && !has(line, " 'Dunning Notice' "))
            continue;
        ++item_lines;
        BOOST_TEST((has(line, " would create ") || has(line, " would import ")), line);
    }
    BOOST_TEST(item_lines == 3, dry.err);
    BOOST_TEST(emu.find("prod", "import", "POST").empty());

    // A rule that fails as a whole, with log.format json: every stderr line is JSON, and the
    // failure is an error line that names the rule.
    config_options o;
    o.log_format = "json";
    o.max_attempts = 1;
    auto down = make_env("http://127.0.0.1:1", o);
    auto failed = down.run({"sync"});
    BOOST_TEST(failed.code == 75, describe(failed));
    bool named = false;
    std::istringstream err(failed.err);
    for (std::string line; std::getline(err, line);) {
        json::error_code ec;
        auto v = json::parse(line, ec);
        BOOST_TEST_REQUIRE(!ec, "not JSON: " << line);
        const auto& obj = v.as_object();
        if (obj.at("level").as_string() == "error" && has(std::string(obj.at("message").as_string()), "run failed") &&
            obj.contains("rule") && obj.at("rule").as_string() == "promote")
            named = true;
    }
    BOOST_TEST(named, failed.err);
}
