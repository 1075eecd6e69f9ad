// SPDX-License-Identifier: Apache-2.0
// End to end: the command line as an operator meets it, with the real binary.
#define BOOST_TEST_MODULE wfsync command line end to end
#include "fixtures.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>

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
