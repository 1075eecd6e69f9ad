// SPDX-License-Identifier: Apache-2.0
// End to end: the real wfsync binary against the emulator, notifying a real HTTP receiver on
// loopback (webhook with HMAC signature, Slack).
#define BOOST_TEST_MODULE wfsync notifications end to end
#include "fixtures.hpp"
#include "support/hook_receiver.hpp"

#include <wfsync/core/hash.hpp>

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <csignal>
#include <map>
#include <set>
#include <thread>

using namespace wfsync::test;
namespace json = boost::json;

namespace {

const std::string hook_key = "e2e-Hook-Key-7d1f3a";

/// The emulator's usual config plus a `notify:` section (`targets`, indented by two).
wfsync_env notify_env(emulator_thread& emu, const std::string& targets, const config_options& o = {})
{
    auto e = make_env(emu->base_url(), o);
    e.config_file = e.dir->write("wfsync.yaml", config_text(e.dir->file("state"), emu->base_url(), o) + "notify:\n" + targets);
    e.env["WFT_HOOK_KEY"] = hook_key;
    return e;
}

std::string webhook(const hook_receiver& hook, const std::string& on = "")
{
    return "  ops:\n"
           "    type: webhook\n"
           "    url: " + hook.url() + "\n"
           "    secret_env: WFT_HOOK_KEY\n" +
           (on.empty() ? "" : "    on: [" + on + "]\n") +
           "    retry: {max_attempts: 3, initial_backoff: 5ms, max_backoff: 20ms}\n";
}

std::string header(const wfsync::net::server_request& r, const char* name)
{
    auto* v = r.headers.find(name);
    return v ? *v : std::string();
}

/// Every request is signed over its exact body with the configured key.
void expect_signed(const std::vector<wfsync::net::server_request>& reqs)
{
    for (const auto& r : reqs) {
        BOOST_TEST(header(r, "X-Wfsync-Signature") == "sha256=" + wfsync::hmac_sha256_hex(hook_key, r.body));
        BOOST_TEST(header(r, "Content-Type") == "application/json");
        auto body = json::parse(r.body).as_object();
        BOOST_TEST(body.at("event").as_string() == header(r, "X-Wfsync-Event"));
        BOOST_TEST(body.at("delivery").as_string() == header(r, "X-Wfsync-Delivery"));
    }
}

std::multiset<std::string> events(const std::vector<wfsync::net::server_request>& reqs)
{
    std::multiset<std::string> out;
    for (const auto& r : reqs) out.insert(header(r, "X-Wfsync-Event"));
    return out;
}

}  // namespace

BOOST_AUTO_TEST_CASE(each_promoted_version_is_sent_once_and_a_rerun_sends_nothing)
{
    emulator_thread emu(seed());
    hook_receiver hook;
    auto env = notify_env(emu, webhook(hook));

    auto first = env.run({"sync"});
    BOOST_TEST_REQUIRE(first.code == 0, describe(first));
    BOOST_TEST(imports(emu) == 3u);
    auto reqs = hook.requests();
    BOOST_TEST_REQUIRE(reqs.size() == 3u);
    expect_signed(reqs);
    std::set<std::string> versions, deliveries;
    for (const auto& r : reqs) {
        auto b = json::parse(r.body).as_object();
        BOOST_TEST(b.at("event") == "promoted");
        BOOST_TEST(b.at("rule") == "promote");
        BOOST_TEST(b.at("source_tenant") == "sandbox");
        BOOST_TEST(b.at("target_tenant") == "prod");
        BOOST_TEST(!b.at("run").as_string().empty());
        versions.insert(std::string(b.at("workflow").as_string()) + " " + std::string(b.at("version").as_string()));
        deliveries.insert(header(r, "X-Wfsync-Delivery"));
    }
    BOOST_TEST((versions == std::set<std::string>{"Billing Reminder 0.0.2", "Invoice Sync 0.1.0", "Dunning Notice 0.0.3"}));
    BOOST_TEST(deliveries.size() == 3u);

    auto second = env.run({"sync"});
    BOOST_TEST_REQUIRE(second.code == 0, describe(second));
    BOOST_TEST(hook.count() == 3u);

    // A new version in the sandbox: one import, one notification.
    json::object doc{{"workflow", json::object{{"name", "Invoice Sync"}, {"version", "0.1.1"}}},
                     {"tasks", json::array{task(1, "Fetch invoices", "Export", {{"object", "Invoice"}}),
                                           task(2, "Post to ERP", "Callout", {{"url", "https://erp.example/v2"}})}},
                     {"linkages", json::array{link(1, 2)}}};
    BOOST_TEST_REQUIRE(emu->add_version("sandbox", "102", doc).has_value());
    auto plan = env.run({"plan"});  // plans notify nothing
    BOOST_TEST(plan.code == 0, describe(plan));
    auto dry = env.run({"sync", "--dry-run"});
    BOOST_TEST(dry.code == 0, describe(dry));
    BOOST_TEST(hook.count() == 3u);
    auto third = env.run({"sync"});
    BOOST_TEST_REQUIRE(third.code == 0, describe(third));
    reqs = hook.requests();
    BOOST_TEST_REQUIRE(reqs.size() == 4u);
    auto b = json::parse(reqs[3].body).as_object();
    BOOST_TEST(b.at("workflow") == "Invoice Sync");
    BOOST_TEST(b.at("version") == "0.1.1");
    // The key never shows.
    BOOST_TEST((first.err + second.err + third.err).find(hook_key) == std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_receiver_answering_500_twice_gets_the_delivery_once_and_one_down_fails_no_run)
{
    emulator_thread emu(seed());
    hook_receiver hook;
    auto env = notify_env(emu, webhook(hook));
    hook.script({500, 500});
    auto r = env.run({"sync"});
    BOOST_TEST_REQUIRE(r.code == 0, describe(r));
    auto reqs = hook.requests();
    BOOST_TEST_REQUIRE(reqs.size() == 5u);  // 3 attempts of the first, then the other two
    std::map<std::string, int> per_delivery;
    for (const auto& q : reqs) ++per_delivery[header(q, "X-Wfsync-Delivery")];
    BOOST_TEST(per_delivery.size() == 3u);
    BOOST_TEST(per_delivery[header(reqs[0], "X-Wfsync-Delivery")] == 3);
    BOOST_TEST(reqs[0].body == reqs[2].body);  // the same signed bytes on every retry
    expect_signed(reqs);

    // A receiver down for a whole run: the run still succeeds, the notification waits.
    BOOST_TEST_REQUIRE(emu->add_version("prod", "501", edited_reminder("Edited in prod")).has_value());
    hook.script({503, 503, 503});
    auto down = env.run({"sync"});
    BOOST_TEST(down.code == 0, describe(down));
    BOOST_TEST(hook.count() == 8u);
    BOOST_TEST(down.err.find("notify ops") != std::string::npos, down.err);
    BOOST_TEST(down.err.find("not delivered") != std::string::npos, down.err);
    // The next run delivers it, once, with the same delivery id.
    auto later = env.run({"sync"});
    BOOST_TEST(later.code == 0, describe(later));
    reqs = hook.requests();
    BOOST_TEST_REQUIRE(reqs.size() == 9u);
    BOOST_TEST(header(reqs[8], "X-Wfsync-Event") == "drift");
    BOOST_TEST(header(reqs[8], "X-Wfsync-Delivery") == header(reqs[5], "X-Wfsync-Delivery"));
    BOOST_TEST(env.run({"sync"}).code == 0);
    BOOST_TEST(hook.count() == 9u);
}

BOOST_AUTO_TEST_CASE(a_failing_tenant_is_one_failure_then_silence_then_one_recovery)
{
    emulator_thread emu(seed());
    hook_receiver hook;
    auto env = notify_env(emu, webhook(hook, "failure"), {.max_attempts = 1});
    BOOST_TEST_REQUIRE(emu->add_fault({{"tenant", "prod"}, {"path_contains", "import"}, {"kind", "status"},
                                       {"status", 500}, {"count", 1000}})
                           .has_value());
    auto first = env.run({"sync"});
    BOOST_TEST(first.code != 0, describe(first));
    auto reqs = hook.requests();
    BOOST_TEST_REQUIRE(reqs.size() == 1u);
    expect_signed(reqs);
    auto b = json::parse(reqs[0].body).as_object();
    BOOST_TEST(b.at("event") == "failure");
    BOOST_TEST(b.at("target_tenant") == "prod");
    BOOST_TEST(std::string(b.at("message").as_string()).find("3 items failed") == 0, b.at("message"));

    auto again = env.run({"sync"});
    BOOST_TEST(again.code != 0, describe(again));
    BOOST_TEST(hook.count() == 1u);

    emu->clear_faults();
    auto fixed = env.run({"sync"});
    BOOST_TEST_REQUIRE(fixed.code == 0, describe(fixed));
    reqs = hook.requests();
    BOOST_TEST_REQUIRE(reqs.size() == 2u);
    BOOST_TEST(header(reqs[1], "X-Wfsync-Event") == "recovered");
    BOOST_TEST(env.run({"sync"}).code == 0);
    BOOST_TEST(hook.count() == 2u);
}

BOOST_AUTO_TEST_CASE(drift_is_sent_once_per_hand_edit)
{
    emulator_thread emu(seed());
    hook_receiver hook;
    auto env = notify_env(emu, webhook(hook, "drift"));
    BOOST_TEST_REQUIRE(env.run({"sync"}).code == 0);
    BOOST_TEST(hook.count() == 0u);
    BOOST_TEST_REQUIRE(emu->add_version("prod", "501", edited_reminder("Edited in prod")).has_value());
    auto r = env.run({"sync"});
    BOOST_TEST(r.code == 0, describe(r));
    auto reqs = hook.requests();
    BOOST_TEST_REQUIRE(reqs.size() == 1u);
    expect_signed(reqs);
    auto b = json::parse(reqs[0].body).as_object();
    BOOST_TEST(b.at("event") == "drift");
    BOOST_TEST(b.at("workflow") == "Billing Reminder");
    BOOST_TEST(b.at("target_tenant") == "prod");
    BOOST_TEST(std::string(b.at("message").as_string()).find("changed outside wfsync") != std::string::npos);
    BOOST_TEST(env.run({"sync"}).code == 0);
    BOOST_TEST(hook.count() == 1u);
    // Another hand edit is another drift.
    BOOST_TEST_REQUIRE(emu->add_version("prod", "501", edited_reminder("Edited again")).has_value());
    BOOST_TEST(env.run({"sync"}).code == 0);
    BOOST_TEST(hook.count() == 2u);
}

BOOST_AUTO_TEST_CASE(slack_gets_text_at_its_secret_url_which_never_shows)
{
    emulator_thread emu(seed());
    hook_receiver hook;
    const std::string secret_path = "/services/T0E2E/B0E2E/slackSecretPath42";
    auto env = notify_env(emu, "  team:\n"
                               "    type: slack\n"
                               "    url_file: slack-url\n"
                               "    on: [promoted]\n"
                               "    retry: {max_attempts: 3, initial_backoff: 5ms, max_backoff: 20ms}\n");
    env.dir->write("slack-url", hook.url(secret_path) + "\n");
    auto r = env.run({"sync", "--json"});
    BOOST_TEST_REQUIRE(r.code == 0, describe(r));
    auto reqs = hook.requests();
    BOOST_TEST_REQUIRE(reqs.size() == 3u);
    std::set<std::string> texts;
    for (const auto& q : reqs) {
        BOOST_TEST(q.path == secret_path);
        BOOST_TEST(header(q, "X-Wfsync-Signature").empty());
        auto b = json::parse(q.body).as_object();
        BOOST_TEST(b.size() == 1u);
        texts.insert(std::string(b.at("text").as_string()));
    }
    BOOST_TEST(std::count_if(texts.begin(), texts.end(), [](const std::string& t) {
                   return t.rfind(":rocket: *wfsync* rule `promote`: promoted *Billing Reminder* 0.0.2 from sandbox to "
                                  "prod\n", 0) == 0;
               }) == 1,
               *texts.begin());
    // Down: the log names the target, never its URL.
    hook.script({500, 500, 500});
    BOOST_TEST_REQUIRE(emu->add_version("sandbox", "103", json::object{{"workflow", json::object{{"name", "Dunning Notice"}, {"version", "0.0.4"}}},
                                                                      {"tasks", json::array{task(1, "Check", "If", {{"condition", "Balance > 50"}})}},
                                                                      {"linkages", json::array{}}})
                           .has_value());
    auto down = env.run({"sync"});
    BOOST_TEST(down.code == 0, describe(down));
    BOOST_TEST(down.err.find("notify team") != std::string::npos, down.err);
    for (const auto& out : {r.out, r.err, down.out, down.err}) BOOST_TEST(out.find("slackSecretPath42") == std::string::npos, out);
}

namespace {

/// `GET /status` until rule `name` has finished `runs` runs (its notifications included).
bool wait_runs(const std::string& admin, const std::string& name, std::int64_t runs)
{
    for (int i = 0; i < 1000; ++i) {
        auto r = http(admin, "GET", "/status");
        if (r.status == 200) {
            auto st = json::parse(r.body);
            for (const auto& x : st.at("rules").as_array()) {
                const auto& o = x.as_object();
                if (o.at("name").as_string() == name && !o.at("running").as_bool() && o.at("runs").to_number<std::int64_t>() >= runs)
                    return true;
            }
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));  // a bounded poll
    }
    return false;
}

std::string metric_line(const std::string& text, const std::string& series)
{
    auto at = text.find(series + " ");
    return at == std::string::npos ? std::string() : text.substr(at, text.find('\n', at) - at);
}

}  // namespace

BOOST_AUTO_TEST_CASE(serve_notifies_after_its_runs_and_counts_deliveries_in_metrics)
{
    emulator_thread emu(seed());
    hook_receiver hook;
    const auto port = free_port();
    const std::string admin = "http://127.0.0.1:" + std::to_string(port);
    auto env = notify_env(emu, webhook(hook, "promoted"), {.log_level = "info", .admin_listen = "127.0.0.1:" + std::to_string(port)});
    hook.script({500});
    process serve(WFSYNC_BIN, {"--config", env.config_file, "serve"}, env.env, env.dir->file("serve.out"),
                  env.dir->file("serve.err"));
    auto log = [&] { return read_file(env.dir->file("serve.err")); };
    bool up = false;
    for (int i = 0; i < 1000 && !up; ++i) {
        up = http(admin, "GET", "/readyz").status == 200;
        if (!up) std::this_thread::sleep_for(std::chrono::milliseconds(10));  // a bounded poll
    }
    BOOST_TEST_REQUIRE(up, log());

    BOOST_TEST(http(admin, "POST", "/rules/promote/run").status == 202);
    BOOST_TEST_REQUIRE(wait_runs(admin, "promote", 1), log());
    BOOST_TEST(hook.count() == 4u);  // three versions, the first answered 500 once
    expect_signed(hook.requests());
    auto metrics = http(admin, "GET", "/metrics").body;
    BOOST_TEST(metric_line(metrics, R"(wfsync_notifications_total{target="ops",event="promoted",outcome="sent"})") ==
               R"(wfsync_notifications_total{target="ops",event="promoted",outcome="sent"} 3)", metrics);
    BOOST_TEST(metric_line(metrics, R"(wfsync_notifications_total{target="ops",event="promoted",outcome="retry"})") ==
               R"(wfsync_notifications_total{target="ops",event="promoted",outcome="retry"} 1)", metrics);

    // The next run finds everything in place: nothing new to say.
    BOOST_TEST(http(admin, "POST", "/rules/promote/run").status == 202);
    BOOST_TEST_REQUIRE(wait_runs(admin, "promote", 2), log());
    BOOST_TEST(hook.count() == 4u);
    serve.signal(SIGTERM);
    auto code = serve.wait_for(std::chrono::seconds(30));
    BOOST_TEST_REQUIRE(code.has_value(), log());
    BOOST_TEST(*code == 0, log());
}
