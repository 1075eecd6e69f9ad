// SPDX-License-Identifier: Apache-2.0
#define BOOST_TEST_MODULE wfsync app
#include <wfsync/app/cli.hpp>
#include <wfsync/sync/engine.hpp>

#include "../../../lib/src/app/load_config.hpp"

#include <support/temp_dir.hpp>

#include <boost/test/unit_test.hpp>

using namespace wfsync;

namespace {

result<app::command_line> parse(std::vector<std::string> args)
{
    return app::parse_command_line(args);
}

std::string error_of(std::vector<std::string> args)
{
    auto r = parse(std::move(args));
    if (!r) {
        // Every usage error ends by pointing to the help; the tests read the rest.
        auto m = r.error().message;
        if (auto see = m.rfind(" (see 'wfsync"); see != std::string::npos) return m.substr(0, see);
        return "(no pointer to --help) " + m;
    }
    return "(parsed)";
}

}  // namespace

BOOST_AUTO_TEST_CASE(parses_commands_and_options)
{
    auto r = parse({"--config", "/x/w.yaml", "sync", "--rule", "a", "--rule=b", "--dry-run"});
    BOOST_TEST_REQUIRE(r.has_value());
    BOOST_TEST(r->config_file == "/x/w.yaml");
    BOOST_TEST(r->command == "sync");
    BOOST_TEST((r->rules == std::vector<std::string>{"a", "b"}));
    BOOST_TEST(r->dry_run);

    auto h = parse({"history", "--workflow", "458", "--limit", "7", "--json"});
    BOOST_TEST_REQUIRE(h.has_value());
    BOOST_TEST(h->workflow == "458");
    BOOST_TEST(h->limit == 7);
    BOOST_TEST(h->json);

    auto c = parse({"check", "--offline"});
    BOOST_TEST_REQUIRE(c.has_value());
    BOOST_TEST(c->offline);

    auto twice = parse({"sync", "--rule", "a", "--rule", "b", "--rule=a", "--rule", "b"});
    BOOST_TEST_REQUIRE(twice.has_value());
    BOOST_TEST((twice->rules == std::vector<std::string>{"a", "b"}));  // each runs once

    auto full = parse({"plan", "--full"});
    BOOST_TEST_REQUIRE(full.has_value());
    BOOST_TEST(full->full);
    BOOST_TEST(!full->wait.has_value());
    auto waits = parse({"sync", "--wait"});
    BOOST_TEST_REQUIRE(waits.has_value());
    BOOST_TEST((waits->wait == std::chrono::milliseconds(0)));  // no limit
    auto bounded = parse({"serve", "--wait=90s"});
    BOOST_TEST_REQUIRE(bounded.has_value());
    BOOST_TEST((bounded->wait == std::chrono::milliseconds(90'000)));
}

BOOST_AUTO_TEST_CASE(usage_errors_name_the_argument)
{
    BOOST_TEST(error_of({}) == "no command given");
    BOOST_TEST(error_of({"frobnicate"}) == "unknown command 'frobnicate'");
    BOOST_TEST(error_of({"sync", "--bogus"}) == "unknown option '--bogus'");
    BOOST_TEST(error_of({"sync", "--rule"}) == "--rule needs a value");
    BOOST_TEST(error_of({"history", "--limit", "-3"}) == "--limit needs a positive number, not '-3'");
    BOOST_TEST(error_of({"history", "--limit", "7x"}) == "--limit needs a positive number, not '7x'");
    BOOST_TEST(error_of({"plan", "--dry-run"}) == "--dry-run is not an option of 'plan' (it is one of: sync, archive prune, restore)");
    BOOST_TEST(error_of({"sync", "--offline"}) == "--offline is not an option of 'sync' (it is one of: check)");
    BOOST_TEST(error_of({"sync", "extra"}) == "unexpected argument 'extra'");
    BOOST_TEST(error_of({"--config", "", "sync"}) == "--config needs a file name");
    BOOST_TEST(error_of({"history", "--rule", "a", "--rule", "b"}) == "history takes one --rule");
    BOOST_TEST(error_of({"archive"}) == "archive needs one of: list, verify, prune");
    BOOST_TEST(error_of({"archive", "list", "--dry-run"}) ==
               "--dry-run is not an option of 'archive list' (it is one of: sync, archive prune, restore)");
    BOOST_TEST(error_of({"restore", "--from", "local", "--workflow", "w", "--to", "t"}) ==
               "restore needs --from archive:NAME");
    BOOST_TEST(error_of({"restore", "--from", "archive:a", "--to", "t"}) == "restore needs --workflow W");
    BOOST_TEST(error_of({"restore", "--from", "archive:a", "--workflow", "w", "--to", "t", "--version", "1",
                         "--at", "2026-01-01"}) == "restore takes --version or --at, not both");
    BOOST_TEST(error_of({"sync", "--to", "t"}) == "--to is not an option of 'sync' (it is one of: restore)");
    BOOST_TEST(error_of({"serve", "--grace", "soon"}) == "--grace needs a duration like 30s, not 'soon'");
    BOOST_TEST(error_of({"history", "--wait"}) ==
               "--wait is not an option of 'history' (it is one of: sync, serve, archive prune, restore)");
    BOOST_TEST(error_of({"sync", "--wait=soon"}) == "--wait soon: expected a duration such as 30s or 5m");
    BOOST_TEST(error_of({"archive", "list", "--full"}) == "--full is not an option of 'archive list' (it is one of: sync, plan)");
}

BOOST_AUTO_TEST_CASE(help_is_per_command_and_version_has_two_spellings)
{
    auto top = parse({"--help"});
    BOOST_TEST_REQUIRE(top.has_value());
    BOOST_TEST(top->command == "help");
    BOOST_TEST(top->help_text.find("Usage: wfsync [OPTIONS]") != std::string::npos, top->help_text);
    BOOST_TEST(top->help_text.find("restore") != std::string::npos);

    // restore's own options, not the global text; its --version is a value, not the version.
    auto restore = parse({"restore", "--help"});
    BOOST_TEST_REQUIRE(restore.has_value());
    BOOST_TEST(restore->help_text.find("Usage: wfsync restore [OPTIONS]") != std::string::npos, restore->help_text);
    BOOST_TEST(restore->help_text.find("--to TENANT") != std::string::npos, restore->help_text);
    BOOST_TEST(restore->help_text.find("--offline") == std::string::npos, restore->help_text);
    auto same = parse({"help", "restore"});
    BOOST_TEST_REQUIRE(same.has_value());
    BOOST_TEST(same->help_text == restore->help_text);
    auto nested = parse({"help", "archive", "prune"});
    BOOST_TEST_REQUIRE(nested.has_value());
    BOOST_TEST(nested->help_text.find("Usage: wfsync archive prune") != std::string::npos, nested->help_text);
    BOOST_TEST(nested->help_text.find("--dry-run") != std::string::npos, nested->help_text);
    BOOST_TEST(error_of({"help", "frob"}) == "no command 'frob' to help with");

    for (auto args : {std::vector<std::string>{"--version"}, {"-V"}, {"version"}}) {
        auto v = parse(args);
        BOOST_TEST_REQUIRE(v.has_value(), args.front());
        BOOST_TEST(v->command == "version", args.front());
    }
    auto r = parse({"restore", "--from", "archive:a", "--workflow", "w", "--version", "3", "--to", "t"});
    BOOST_TEST_REQUIRE(r.has_value());
    BOOST_TEST(r->command == "restore");
    BOOST_TEST(r->version == "3");
    BOOST_TEST(error_of({"sync", "--version"}) == "--version goes alone: 'wfsync --version' or 'wfsync version'");
}

BOOST_AUTO_TEST_CASE(global_options_go_before_or_after_the_command)
{
    auto a = parse({"--json", "-vv", "history"});
    auto b = parse({"history", "--json", "-v", "-v"});
    for (auto* r : {&a, &b}) {
        BOOST_TEST_REQUIRE(r->has_value());
        BOOST_TEST((*r)->json);
        BOOST_TEST((*r)->verbose == 2);
    }
    auto q = parse({"sync", "-q", "--no-color", "--wait", "30s"});
    BOOST_TEST_REQUIRE(q.has_value());
    BOOST_TEST(q->quiet);
    BOOST_TEST(q->no_color);
    BOOST_TEST((q->wait == std::chrono::milliseconds(30'000)));
    BOOST_TEST(error_of({"sync", "-q", "-v"}) == "--quiet and --verbose exclude each other");
    BOOST_TEST(error_of({"serve", "--json"}) ==
               "--json is not an option of 'serve': its log lines are JSON with log.format: json");
    BOOST_TEST(error_of({"check", "--strict"}) == "--strict goes with --offline");
    auto strict = parse({"check", "--offline", "--strict"});
    BOOST_TEST_REQUIRE(strict.has_value());
    BOOST_TEST(strict->strict);

    auto d = parse({"diff", "zuora-prod", "Billing Reminder", "0.0.2"});
    BOOST_TEST_REQUIRE(d.has_value());
    BOOST_TEST((d->positional == std::vector<std::string>{"zuora-prod", "Billing Reminder", "0.0.2"}));
    BOOST_TEST(error_of({"diff", "zuora-prod"}) == "diff needs TENANT and WORKFLOW");
    BOOST_TEST(error_of({"diff", "t", "w", "1", "2", "3"}) == "unexpected argument '3'");

    // Each usage error is one line that says where to read more.
    auto e = parse({"archive", "prune", "--frob"});
    BOOST_TEST_REQUIRE(!e.has_value());
    BOOST_TEST(e.error().message == "unknown option '--frob' (see 'wfsync archive prune --help')");
}

BOOST_AUTO_TEST_CASE(review_findings_last_value_wins_and_errors_say_where)
{
    // A wrapper that adds its own -c: the last one wins, as before CLI11.
    auto twice = parse({"-c", "a.yaml", "-c", "b.yaml", "history", "--limit", "5", "--limit", "9"});
    BOOST_TEST_REQUIRE(twice.has_value());
    BOOST_TEST(twice->config_file == "b.yaml");
    BOOST_TEST(twice->limit == 9);
    auto rules = parse({"sync", "--rule", "a", "--rule", "b"});
    BOOST_TEST_REQUIRE(rules.has_value());
    BOOST_TEST(rules->rules.size() == 2u);
    BOOST_TEST(error_of({"--dry-run", "sync"}) == "put --dry-run after 'sync'");
    BOOST_TEST(error_of({"diff", "", "w"}) == "TENANT must not be empty");
    BOOST_TEST(error_of({"diff", "t", "w", "", "2"}) == "a version must not be empty");
    BOOST_TEST(error_of({"--version", "--bogus"}) == "unknown option '--bogus'");
    BOOST_TEST(error_of({"serve", "-v"}) == "--verbose is not an option of 'serve': it logs at log.level of the config");
    auto big = parse({"resolve", "--intent", "4294967296", "--not-imported"});
    BOOST_TEST_REQUIRE(big.has_value());
    BOOST_TEST(big->intent == 4294967296LL);
}

BOOST_AUTO_TEST_CASE(resolve_takes_an_intent_and_one_answer)
{
    auto list = parse({"resolve", "--json"});
    BOOST_TEST_REQUIRE(list.has_value());
    BOOST_TEST(list->intent == 0);
    BOOST_TEST(list->json);
    auto yes = parse({"resolve", "--intent", "12", "--imported", "--target-workflow=a-77"});
    BOOST_TEST_REQUIRE(yes.has_value());
    BOOST_TEST(yes->intent == 12);
    BOOST_TEST(yes->resolution == "imported");
    BOOST_TEST(yes->target_workflow == "a-77");
    auto no = parse({"resolve", "--intent=3", "--not-imported"});
    BOOST_TEST_REQUIRE(no.has_value());
    BOOST_TEST(no->resolution == "not-imported");

    BOOST_TEST(error_of({"resolve", "--intent", "x1"}) == "--intent needs an intent number, not 'x1'");
    BOOST_TEST(error_of({"resolve", "--intent", "0", "--imported"}) == "--intent needs an intent number, not '0'");
    BOOST_TEST(error_of({"resolve", "--intent", "4"}) == "resolve --intent N needs --imported or --not-imported");
    BOOST_TEST(error_of({"resolve", "--imported"}) == "resolve: say which intent with --intent N");
    BOOST_TEST(error_of({"resolve", "--intent", "4", "--imported", "--not-imported"}) ==
               "--imported and --not-imported exclude each other");
    BOOST_TEST(error_of({"resolve", "--intent", "4", "--not-imported", "--target-workflow", "a-1"}) ==
               "--target-workflow and --target-version go with --imported");
    auto labelled = parse({"resolve", "--intent", "5", "--imported", "--target-version", "v7"});
    BOOST_TEST_REQUIRE(labelled.has_value());
    BOOST_TEST(labelled->target_version == "v7");
    BOOST_TEST(error_of({"history", "--target-version", "v7"}) ==
               "--target-version is not an option of 'history' (it is one of: resolve)");
    BOOST_TEST(error_of({"sync", "--intent", "4"}) == "--intent is not an option of 'sync' (it is one of: resolve)");
    BOOST_TEST(error_of({"plan", "--imported"}) == "--imported is not an option of 'plan' (it is one of: resolve)");
}

BOOST_AUTO_TEST_CASE(idempotency_key_is_deterministic_and_sensitive_to_every_part)
{
    auto base = sync::idempotency_key("r", "prod", "501", "abc", "0.0.2", 0);
    BOOST_TEST(base == sync::idempotency_key("r", "prod", "501", "abc", "0.0.2", 0));
    BOOST_TEST(base.size() <= 64u);
    BOOST_TEST(base.rfind("wfsync-", 0) == 0u);
    BOOST_TEST(base != sync::idempotency_key("r2", "prod", "501", "abc", "0.0.2", 0));
    BOOST_TEST(base != sync::idempotency_key("r", "prod2", "501", "abc", "0.0.2", 0));
    BOOST_TEST(base != sync::idempotency_key("r", "prod", "502", "abc", "0.0.2", 0));
    BOOST_TEST(base != sync::idempotency_key("r", "prod", "501", "abd", "0.0.2", 0));
    BOOST_TEST(base != sync::idempotency_key("r", "prod", "501", "abc", "0.0.3", 0));
    BOOST_TEST(base != sync::idempotency_key("r", "prod", "501", "abc", "0.0.2", 1));
    // Field boundaries matter: "ab"+"c" is not "a"+"bc".
    BOOST_TEST(sync::idempotency_key("ab", "c", "", "", "", 0) != sync::idempotency_key("a", "bc", "", "", "", 0));
}

BOOST_AUTO_TEST_CASE(versions_compare_numerically)
{
    BOOST_TEST(sync::compare_versions("0.0.10", "0.0.9") > 0);
    BOOST_TEST(sync::compare_versions("0.1", "0.0.9") > 0);
    BOOST_TEST(sync::compare_versions("1.0.0", "1.0") == 0);
    BOOST_TEST(sync::compare_versions("0.0.1", "0.0.2") < 0);
    BOOST_TEST(sync::next_patch("0.0.9") == "0.0.10");
    BOOST_TEST(sync::next_patch("") == "0.0.1");
    BOOST_TEST(sync::next_patch("2.3") == "2.3.1");
    BOOST_TEST(sync::next_patch("1.2.3.4") == "1.2.3.5");
}

BOOST_AUTO_TEST_CASE(versions_compare_per_platform_label_style)
{
    // SecMaster's labels: "v12" is above "v9", not equal to it (both once parsed as 0).
    BOOST_TEST(sync::compare_versions("v12", "v9") > 0);
    BOOST_TEST(sync::compare_versions("v3", "v3") == 0);
    BOOST_TEST(sync::compare_versions("V2", "v10") < 0);
    // Kore.ai's one readable version is a word: below any number, equal to itself.
    BOOST_TEST(sync::compare_versions("deployed", "deployed") == 0);
    BOOST_TEST(sync::compare_versions("0.0.1", "deployed") > 0);
    BOOST_TEST(sync::compare_versions("", "v1") < 0);
    BOOST_TEST(sync::compare_versions("1-beta", "1") < 0);  // not a number: a word
    // The next label keeps the style of the highest one.
    BOOST_TEST(sync::next_patch("v9") == "v10");
    BOOST_TEST(sync::next_patch("deployed") == "0.0.1");
    BOOST_TEST(sync::next_patch("v1.2") == "1.2.1");
}

BOOST_AUTO_TEST_SUITE(exit_codes)

BOOST_AUTO_TEST_CASE(only_what_may_pass_by_itself_is_75)
{
    auto code = [](errc c, int status = 0) { return app::exit_code_for(make_error(c, "x", status)); };
    // May pass by itself: the network, the platform busy or down, the state busy.
    BOOST_TEST(code(errc::transport) == 75);
    BOOST_TEST(code(errc::timeout) == 75);
    BOOST_TEST(code(errc::busy) == 75);
    BOOST_TEST(code(errc::http_status, 503) == 75);
    BOOST_TEST(code(errc::rate_limited, 429) == 75);
    // Someone must act.
    BOOST_TEST(code(errc::permission) == 77);
    BOOST_TEST(code(errc::io) == 74);
    BOOST_TEST(code(errc::store) == 74);
    BOOST_TEST(code(errc::config) == 78);
    BOOST_TEST(code(errc::invalid_argument) == 2);
    BOOST_TEST(code(errc::tls) == 1);
    BOOST_TEST(code(errc::http_status, 404) == 1);
    BOOST_TEST(code(errc::auth) == 1);
}

BOOST_AUTO_TEST_CASE(usage_lists_every_exit_code)
{
    const auto u = app::usage();
    for (const char* s : {"0 success", "1 some items failed", "2 usage", "74 local I/O error or damaged state",
                          "75 temporary failure", "77 permission denied", "78 config error"})
        BOOST_TEST(u.find(s) != std::string::npos, s);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_CASE(state_takes_check_or_backup_file)
{
    auto c = parse({"state", "check"});
    BOOST_TEST_REQUIRE(c.has_value());
    BOOST_TEST(c->command == "state");
    BOOST_TEST((c->positional == std::vector<std::string>{"check"}));
    auto b = parse({"state", "backup", "/tmp/b.db", "--force"});
    BOOST_TEST_REQUIRE(b.has_value());
    BOOST_TEST((b->positional == std::vector<std::string>{"backup", "/tmp/b.db"}));
    BOOST_TEST(b->force);

    BOOST_TEST(error_of({"state"}) == "state needs one of: check, backup");
    BOOST_TEST(error_of({"state", "repair"}) == "state needs one of: check, backup");
    BOOST_TEST(error_of({"state", "backup"}) == "state backup needs a FILE to write");
    BOOST_TEST(error_of({"state", "backup", "a", "b"}) == "unexpected argument 'b'");
    BOOST_TEST(error_of({"state", "check", "x"}) == "unexpected argument 'x'");
    BOOST_TEST(error_of({"state", "check", "--force"}) == "--force is not an option of 'state check' (it is one of: state backup)");
    BOOST_TEST(error_of({"sync", "--force"}) == "--force is not an option of 'sync' (it is one of: state backup)");
    BOOST_TEST(error_of({"state", "check", "--wait"}) ==
               "--wait is not an option of 'state check' (it is one of: sync, serve, archive prune, restore)");
}

BOOST_AUTO_TEST_CASE(jitter_must_be_shorter_than_the_schedule_period)
{
    test::temp_dir dir;
    auto config = [&](const std::string& schedule, const std::string& jitter) {
        return dir.write("w.yaml", "tenants:\n"
                                   "  a: {platform: zuora, base_url: \"https://a.example\", auth: {type: bearer, token_env: HOME}}\n"
                                   "  b: {platform: zuora, base_url: \"https://b.example\", auth: {type: bearer, token_env: HOME}}\n"
                                   "rules:\n"
                                   "  - name: r\n"
                                   "    source: a\n"
                                   "    targets: [b]\n"
                                   "    schedule: \"" + schedule + "\"\n"
                                   "    jitter: " + jitter + "\n");
    };
    auto issues_of = [](const config::load_result& r) {
        auto* v = std::get_if<std::vector<config::config_issue>>(&r);
        return v ? *v : std::vector<config::config_issue>{};
    };
    // Every 15 minutes by day: the shortest gap is 15 minutes, however long the nights.
    auto file = config("*/15 8-18 * * MON-FRI", "15m");
    auto issues = issues_of(app::load_checked(file));
    BOOST_TEST_REQUIRE(issues.size() == 1u);
    BOOST_TEST(issues[0].str() == file + ":9:13: rules[0].jitter: rule 'r': jitter 15m is not shorter than the 15m "
                                         "between two runs of its schedule '*/15 8-18 * * MON-FRI'; make it shorter than that");
    BOOST_TEST(issues_of(app::load_checked(config("*/15 8-18 * * MON-FRI", "14m"))).empty());
    auto every = issues_of(app::load_checked(config("@every 10m", "10m")));
    BOOST_TEST_REQUIRE(every.size() == 1u);
    BOOST_TEST(every[0].message.find("jitter 10m is not shorter than the 10m") != std::string::npos, every[0].message);
    BOOST_TEST(issues_of(app::load_checked(config("@daily", "2h"))).empty());
}
