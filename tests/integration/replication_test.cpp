// SPDX-License-Identifier: Apache-2.0
// End to end: the real wfsync binary against the emulator over loopback sockets.
#define BOOST_TEST_MODULE wfsync replication end to end
#include "fixtures.hpp"
#include "support/test_certs.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <csignal>
#include <fstream>
#include <random>
#include <set>

using namespace wfsync::test;
namespace json = boost::json;


BOOST_AUTO_TEST_CASE(first_sync_imports_second_imports_nothing_new_version_once)
{
    emulator_thread emu(seed());
    auto env = make_env(emu->base_url());

    auto first = env.run({"sync"});
    BOOST_TEST_REQUIRE(first.code == 0, describe(first));
    BOOST_TEST(imports(emu) == 3u);
    expect_replicated_once(emu);
    // Exactly one token per tenant for the whole run.
    BOOST_TEST(emu.find("sandbox", "/oauth/token").size() == 1u);
    BOOST_TEST(emu.find("prod", "/oauth/token").size() == 1u);
    // Every import carried an idempotency key and the run's track id.
    std::set<std::string> keys;
    for (const auto& r : emu.find("prod", "import", "POST")) {
        keys.insert(std::string(r.at("idempotency_key").as_string()));
        const auto& h = r.at("headers").as_object();
        BOOST_TEST(h.contains("zuora-track-id"));
    }
    BOOST_TEST(keys.size() == 3u);
    BOOST_TEST(first.out.find("3 imported") != std::string::npos, first.out);

    emu->clear_requests();
    auto second = env.run({"sync"});
    BOOST_TEST_REQUIRE(second.code == 0, describe(second));
    BOOST_TEST(imports(emu) == 0u);
    BOOST_TEST(second.out.find("0 imported, 3 unchanged") != std::string::npos, second.out);

    // A person edits Invoice Sync in the sandbox: exactly one import follows.
    json::object doc{{"workflow", json::object{{"name", "Invoice Sync"}, {"version", "0.1.1"}}},
                     {"tasks", json::array{task(1, "Fetch invoices", "Export", {{"object", "Invoice"}}),
                                           task(2, "Post to ERP", "Callout", {{"url", "https://erp.example/v2/invoices"}})}},
                     {"linkages", json::array{link(1, 2)}}};
    BOOST_TEST_REQUIRE(emu->add_version("sandbox", "102", doc).has_value());
    emu->clear_requests();
    auto plan = env.run({"plan"});
    BOOST_TEST(plan.code == 0, describe(plan));
    BOOST_TEST(plan.out.find("would import") != std::string::npos, plan.out);
    BOOST_TEST(plan.out.find("erp.example/v2/invoices") != std::string::npos, plan.out);
    BOOST_TEST(imports(emu) == 0u);

    auto third = env.run({"sync"});
    BOOST_TEST_REQUIRE(third.code == 0, describe(third));
    BOOST_TEST(imports(emu) == 1u);
    BOOST_TEST((emu.versions("prod")["Invoice Sync"] == std::vector<std::string>{"0.1.0", "0.1.1"}));

    // The history names what happened.
    auto history = env.run({"history", "--json"});
    BOOST_TEST_REQUIRE(history.code == 0, describe(history));
    auto h = json::parse(history.out).as_object();
    BOOST_TEST(h.at("runs").as_array().size() == 3u);
    int import_events = 0;
    for (const auto& e : h.at("events").as_array()) {
        auto kind = e.at("kind").as_string();
        if (kind == "import" || kind == "create") ++import_events;
    }
    BOOST_TEST(import_events == 4);

    // No secret and no token in the output, the logs or the state file.
    std::set<std::string> secrets{sandbox_secret, prod_secret};
    for (const auto& tenant : {"sandbox", "prod"})
        for (const auto& r : emu->requests(tenant)) {
            const auto& hd = r.at("headers").as_object();
            if (auto* a = hd.if_contains("authorization")) {
                std::string v(a->as_string());
                if (v.rfind("Bearer ", 0) == 0) secrets.insert(v.substr(7));
            }
        }
    BOOST_TEST(secrets.size() >= 4u);
    std::string everything = first.out + first.err + second.out + second.err + third.out + third.err + plan.out +
                             plan.err + history.out + history.err + read_file(env.dir->file("state/state.db")) +
                             read_file(env.dir->file("state/state.db-wal"));
    for (const auto& s : secrets) BOOST_TEST(everything.find(s) == std::string::npos, "secret leaked: " << s.size() << " chars");
}

BOOST_AUTO_TEST_CASE(drift_is_reported_and_follows_on_drift)
{
    emulator_thread emu(seed());
    auto env = make_env(emu->base_url());
    BOOST_TEST_REQUIRE(env.run({"sync"}).code == 0);

    // A person edits Billing Reminder in prod by hand.
    auto added = emu->add_version("prod", "501", edited_reminder("Edited in prod"));
    BOOST_TEST_REQUIRE(added.has_value());
    emu->clear_requests();
    auto skip = env.run({"sync"});
    BOOST_TEST(skip.code == 0, describe(skip));
    BOOST_TEST(skip.out.find("drift") != std::string::npos, skip.out);
    BOOST_TEST(imports(emu) == 0u);

    auto fail_env = make_env(emu->base_url(), {.on_drift = "fail"});
    // Same state directory semantics: the failing config needs the history of the first.
    std::filesystem::copy(env.dir->file("state"), fail_env.dir->file("state"), std::filesystem::copy_options::recursive);
    auto failed = fail_env.run({"sync"});
    BOOST_TEST(failed.code == 1, describe(failed));
    BOOST_TEST(imports(emu) == 0u);

    auto over_env = make_env(emu->base_url(), {.on_drift = "overwrite"});
    std::filesystem::copy(env.dir->file("state"), over_env.dir->file("state"), std::filesystem::copy_options::recursive);
    auto over = over_env.run({"sync"});
    BOOST_TEST(over.code == 0, describe(over));
    BOOST_TEST(imports(emu) == 1u);
    BOOST_TEST(emu.versions("prod")["Billing Reminder"].size() == 4u);
}

BOOST_AUTO_TEST_CASE(faults_converge_without_duplicates)
{
    emulator_thread emu(seed());
    auto env = make_env(emu->base_url(), {.max_attempts = 4});
    auto fault = [&](json::object f) { BOOST_TEST_REQUIRE(emu->add_fault(f).has_value()); };
    fault({{"tenant", "prod"}, {"path_contains", "import"}, {"kind", "status"}, {"status", 503}, {"count", 2}});
    fault({{"tenant", "prod"}, {"path_contains", "import"}, {"kind", "status"}, {"status", 429}, {"retry_after", "0"}, {"count", 1}});
    fault({{"tenant", "prod"}, {"path_contains", "import"}, {"kind", "reset_before"}, {"count", 1}});
    fault({{"tenant", "sandbox"}, {"path_contains", "/export"}, {"kind", "truncate"}, {"count", 1}});
    fault({{"tenant", "sandbox"}, {"path_contains", "/workflows"}, {"kind", "status"}, {"status", 500}, {"count", 1}});
    fault({{"tenant", "prod"}, {"path_contains", "import"}, {"kind", "reset_after_commit"}, {"count", 1}});

    run_output last;
    for (int i = 0; i < 4; ++i) {
        last = env.run({"sync"});
        if (last.code == 0) break;
    }
    BOOST_TEST_REQUIRE(last.code == 0, describe(last));
    expect_replicated_once(emu);
    emu->clear_requests();
    auto again = env.run({"sync"});
    BOOST_TEST(again.code == 0, describe(again));
    BOOST_TEST(imports(emu) == 0u);
}

BOOST_AUTO_TEST_CASE(reset_after_commit_is_retried_with_the_same_key)
{
    emulator_thread emu(seed());
    auto env = make_env(emu->base_url());
    BOOST_TEST_REQUIRE(emu->add_fault({{"tenant", "prod"}, {"path_contains", "/versions/import"},
                                       {"kind", "reset_after_commit"}, {"count", 1}})
                           .has_value());
    auto r = env.run({"sync"});
    BOOST_TEST_REQUIRE(r.code == 0, describe(r));
    auto sent = emu.find("prod", "/versions/import", "POST");
    BOOST_TEST_REQUIRE(sent.size() == 2u);
    BOOST_TEST(sent[0].at("idempotency_key") == sent[1].at("idempotency_key"));
    BOOST_TEST(sent[1].at("replayed").as_bool());
    expect_replicated_once(emu);
}

BOOST_AUTO_TEST_CASE(kill_9_at_random_moments_then_rerun_converges)
{
    emulator_thread emu(seed());
    auto env = make_env(emu->base_url());
    // Latency on every request keeps each run long enough to be cut in the middle.
    BOOST_TEST_REQUIRE(emu->add_fault({{"kind", "latency"}, {"delay_ms", 15}, {"count", 100000}}).has_value());
    std::mt19937 rng(std::random_device{}());
    for (int round = 0; round < 12; ++round) {
        auto before = emu->requests().size();
        std::uniform_int_distribution<std::size_t> cut(1, 20);
        auto at = cut(rng);
        process p(WFSYNC_BIN, {"--config", env.config_file, "sync"}, env.env, env.dir->file("kill.out"),
                  env.dir->file("kill.err"));
        // Kill once the emulator has seen `at` more requests (bounded wait), or when it ends.
        for (int i = 0; i < 2000 && p.running() && emu->requests().size() < before + at; ++i)
            p.wait_for(std::chrono::milliseconds(5));
        p.signal(SIGKILL);
        p.wait_for(std::chrono::seconds(10));
    }
    emu->clear_faults();
    auto r = env.run({"sync"});
    BOOST_TEST_REQUIRE(r.code == 0, describe(r));
    expect_replicated_once(emu);
    emu->clear_requests();
    auto again = env.run({"sync"});
    BOOST_TEST(again.code == 0, describe(again));
    BOOST_TEST(imports(emu) == 0u);
    // Whatever the kills left of the listing marks, the run after a clean one exports nothing.
    emu->clear_requests();
    auto quiet = env.run({"sync"});
    BOOST_TEST(quiet.code == 0, describe(quiet));
    BOOST_TEST(emu.find("sandbox", "/export").empty(), describe(quiet));
    BOOST_TEST(emu.find("prod", "/export").empty(), describe(quiet));
}

BOOST_AUTO_TEST_CASE(broken_config_exits_78_naming_file_line_column)
{
    temp_dir dir;
    auto file = dir.write("wfsync.yaml", "state: {path: /tmp/x}\n"
                                         "tenants:\n"
                                         "  a: {platform: zuora, base_url: http://127.0.0.1:1, colour: red,\n"
                                         "      auth: {type: bearer, token_env: NOPE_NOT_SET_VAR}}\n");
    auto r = run_program(WFSYNC_BIN, {"--config", file, "sync"});
    BOOST_TEST(r.code == 78, describe(r));
    BOOST_TEST(r.err.find("wfsync.yaml:3:") != std::string::npos, r.err);
    BOOST_TEST(r.err.find("colour") != std::string::npos, r.err);

    auto usage = run_program(WFSYNC_BIN, {"--config", file, "sync", "--frobnicate"});
    BOOST_TEST(usage.code == 2, describe(usage));
    BOOST_TEST(usage.err.find("--frobnicate") != std::string::npos, usage.err);

    auto check = run_program(WFSYNC_BIN, {"--config", file, "check", "--offline"});
    BOOST_TEST(check.code == 78, describe(check));

    // A schedule the daemon could not run is a config error at the rule's position.
    auto cron = dir.write("cron.yaml", "state: {path: " + dir.file("state") + "}\n"
                                       "tenants:\n"
                                       "  a: {platform: zuora, base_url: \"http://127.0.0.1:1\", auth: {type: bearer, token_env: HOME}}\n"
                                       "  b: {platform: zuora, base_url: \"http://127.0.0.1:2\", auth: {type: bearer, token_env: HOME}}\n"
                                       "rules:\n"
                                       "  - name: r\n"
                                       "    source: a\n"
                                       "    targets: [b]\n"
                                       "    schedule: \"0 0 30 2 *\"\n");
    auto bad_cron = run_program(WFSYNC_BIN, {"--config", cron, "check", "--offline"});
    BOOST_TEST(bad_cron.code == 78, describe(bad_cron));
    BOOST_TEST(bad_cron.err.find("cron.yaml:6:") != std::string::npos, bad_cron.err);
    BOOST_TEST(bad_cron.err.find("never fires") != std::string::npos, bad_cron.err);
}

BOOST_AUTO_TEST_CASE(https_with_test_ca_works_and_untrusted_certificate_is_refused)
{
    temp_dir certs_dir;
    auto certs = make_test_certs(certs_dir.path());
    {
        emulator_thread emu(seed(), {.cert_file = certs.cert_file, .key_file = certs.key_file});
        BOOST_TEST_REQUIRE(emu->base_url().rfind("https://", 0) == 0u);
        auto env = make_env(emu->base_url(), {.ca_file = certs.ca_file});
        auto r = env.run({"sync"});
        BOOST_TEST_REQUIRE(r.code == 0, describe(r));
        expect_replicated_once(emu);
    }
    {
        // The same server name, but a certificate no configured CA signed.
        emulator_thread emu(seed(), {.cert_file = certs.untrusted_cert_file, .key_file = certs.untrusted_key_file});
        auto env = make_env(emu->base_url(), {.ca_file = certs.ca_file, .max_attempts = 2});
        auto r = env.run({"sync"});
        BOOST_TEST(r.code == 1, describe(r));  // permanent until someone acts: not 75 "try again"
        BOOST_TEST(r.err.find("certificate verify failed") != std::string::npos, r.err);
        BOOST_TEST(imports(emu) == 0u);
        BOOST_TEST(emu->requests().size() == 0u);
    }
}

BOOST_AUTO_TEST_CASE(check_logs_in_to_every_tenant_and_names_the_one_that_fails)
{
    emulator_thread emu(seed());
    auto env = make_env(emu->base_url());
    auto ok = env.run({"check"});
    BOOST_TEST(ok.code == 0, describe(ok));
    BOOST_TEST(emu.find("sandbox", "/oauth/token").size() == 1u);
    BOOST_TEST(emu.find("prod", "/oauth/token").size() == 1u);

    const std::string wrong = "wrong-Secret-55aa77";
    env.env["WFSYNC_TEST_PROD_SECRET"] = wrong;
    auto bad = env.run({"check"});
    BOOST_TEST(bad.code == 1, describe(bad));
    BOOST_TEST(bad.out.find("prod") != std::string::npos, bad.out);
    BOOST_TEST(bad.out.find("failed") != std::string::npos, bad.out);
    BOOST_TEST((bad.out + bad.err).find(wrong) == std::string::npos);

    // --offline touches no tenant.
    emu->clear_requests();
    auto offline = env.run({"check", "--offline"});
    BOOST_TEST(offline.code == 0, describe(offline));
    BOOST_TEST(emu->requests().size() == 0u);
}

BOOST_AUTO_TEST_CASE(activate_true_activates_each_import_and_the_read_back_agrees)
{
    emulator_thread emu(seed());
    auto env = make_env(emu->base_url());
    // The same rule asking for activation.
    auto text = read_file(env.config_file);
    text.replace(text.find("    create_missing: true\n"), std::string("    create_missing: true\n").size(),
                 "    create_missing: true\n    activate: true\n");
    env.dir->write("wfsync.yaml", text);
    auto r = env.run({"sync"});
    BOOST_TEST_REQUIRE(r.code == 0, describe(r));
    for (const auto& q : emu.find("prod", "import", "POST")) BOOST_TEST(q.at("query").as_string().find("activate=true") != json::string::npos);
    // Every imported version is the active one, and nothing says otherwise.
    auto state = emu->state("prod");
    for (const auto& w : state.at("workflows").as_array()) {
        const auto& vs = w.at("versions").as_array();
        BOOST_TEST_REQUIRE(!vs.empty());
        BOOST_TEST(vs.back().at("status").as_string() == "Active", w.at("name").as_string());
    }
    BOOST_TEST(r.out.find("not activated") == std::string::npos, r.out);
    BOOST_TEST(r.out.find("although") == std::string::npos, r.out);
}
