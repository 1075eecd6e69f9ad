// SPDX-License-Identifier: Apache-2.0
// Notifications: signatures, payload shapes, what a run has to say and when, and delivery to a
// real HTTP receiver on loopback.
#define BOOST_TEST_MODULE wfsync notifications
#include <wfsync/app/notifications.hpp>
#include <wfsync/core/hash.hpp>
#include <wfsync/core/log.hpp>
#include <wfsync/sync/engine.hpp>

#include <support/hook_receiver.hpp>
#include <support/run_coro.hpp>
#include <support/temp_dir.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <cstdlib>

using namespace wfsync;
using config::notify_event;
namespace json = boost::json;

namespace {

sync::item promoted_item(const std::string& workflow, const std::string& hash, const std::string& version)
{
    sync::item i;
    i.rule = "promote";
    i.source_tenant = "sandbox";
    i.source_workflow = workflow;
    i.workflow_name = "WF " + workflow;
    i.source_version = version;
    i.content_hash = hash;
    i.target_tenant = "prod";
    i.target_workflow = "9" + workflow;
    i.target_version = version;
    i.what = sync::action::import;
    i.done = true;
    i.reason = "new content";
    return i;
}

sync::run_summary summary(std::string run, std::vector<sync::item> items)
{
    sync::run_summary s;
    s.run_uid = std::move(run);
    s.rule = "promote";
    s.items = std::move(items);
    return s;
}

std::vector<std::string> keys(const app::run_notices& r)
{
    std::vector<std::string> out;
    for (const auto& n : r.notices) out.push_back(n.key);
    return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(signing_and_shapes)

BOOST_AUTO_TEST_CASE(hmac_matches_rfc_4231_and_openssl)
{
    // RFC 4231 test case 2.
    BOOST_TEST(hmac_sha256_hex("Jefe", "what do ya want for nothing?") ==
               "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    // printf '{"event":"promoted"}' | openssl dgst -sha256 -hmac 'hook-key'
    BOOST_TEST(app::webhook_signature("hook-key", R"({"event":"promoted"})") ==
               "sha256=275dc42fa3bbe3ef968b8d1df0c2fb3e0e503a3f32ad4e628ee6209462ee71d5");
}

BOOST_AUTO_TEST_CASE(webhook_payload_has_every_documented_field)
{
    auto r = app::notices_of("promote", summary("r-1", {promoted_item("101", "h1", "0.0.2")}), std::nullopt, {},
                             1764457200);
    BOOST_TEST_REQUIRE(r.notices.size() == 1u);
    auto stored = app::notice_json(r.notices[0]);
    auto body = json::parse(app::webhook_body(stored, "d-123", 1764457260)).as_object();
    BOOST_TEST(body.at("event") == "promoted");
    BOOST_TEST(body.at("rule") == "promote");
    BOOST_TEST(body.at("run") == "r-1");
    BOOST_TEST(body.at("time") == "2025-11-29T23:00:00Z");
    BOOST_TEST(body.at("source_tenant") == "sandbox");
    BOOST_TEST(body.at("target_tenant") == "prod");
    BOOST_TEST(body.at("workflow") == "WF 101");
    BOOST_TEST(body.at("workflow_id") == "101");
    BOOST_TEST(body.at("version") == "0.0.2");
    BOOST_TEST(body.at("target_version") == "0.0.2");
    BOOST_TEST(body.at("content_hash") == "h1");
    BOOST_TEST(body.at("intent").is_null());
    BOOST_TEST(body.at("message") == "new content");
    BOOST_TEST(body.at("delivery") == "d-123");
    BOOST_TEST(body.at("timestamp") == 1764457260);
    BOOST_TEST(body.size() == 15u);
}

BOOST_AUTO_TEST_CASE(slack_text_is_one_escaped_mrkdwn_message)
{
    app::notice n;
    n.event = notify_event::drift;
    n.rule = "promote";
    n.run = "r-9";
    n.workflow = "Billing <Reminder> & Co";
    n.target_tenant = "prod";
    n.target_version = "0.0.4";
    n.message = "changed by hand";
    auto body = json::parse(app::slack_body(app::notice_json(n))).as_object();
    BOOST_TEST(body.size() == 1u);
    BOOST_TEST(body.at("text") ==
               ":warning: *wfsync* rule `promote`: *Billing &lt;Reminder&gt; &amp; Co* in prod was changed outside "
               "wfsync (version 0.0.4)\nchanged by hand\n(run r-9)");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(what_a_run_says)

BOOST_AUTO_TEST_CASE(promoted_once_per_version_and_target_not_for_archives_or_plans)
{
    auto archived = promoted_item("101", "h1", "0.0.2");
    archived.target_tenant = "archive:local";
    auto unchanged = promoted_item("102", "h2", "0.1.0");
    unchanged.what = sync::action::unchanged;
    auto planned = promoted_item("103", "h3", "0.0.3");
    planned.done = false;
    auto adopted = promoted_item("104", "h4", "0.0.1");
    adopted.what = sync::action::adopt;
    auto r = app::notices_of("promote",
                             summary("r-1", {promoted_item("101", "h1", "0.0.2"), archived, unchanged, planned, adopted}),
                             std::nullopt, {}, 100);
    BOOST_TEST((keys(r) == std::vector<std::string>{"promoted|promote|sandbox/101|prod|h1",
                                                    "promoted|promote|sandbox/104|prod|h4"}));
    // The same version seen by a later run has the same key: the queue sends it once.
    auto again = app::notices_of("promote", summary("r-2", {promoted_item("101", "h1", "0.0.2")}), r.health, {}, 200);
    BOOST_TEST(keys(again) == std::vector<std::string>{"promoted|promote|sandbox/101|prod|h1"});
    BOOST_TEST(!r.health.failing);
}

BOOST_AUTO_TEST_CASE(drift_is_keyed_by_the_edited_target_version)
{
    auto d = promoted_item("101", "h1", "0.0.2");
    d.what = sync::action::drift;
    d.drifted = true;
    d.target_version = "0.0.3";
    auto r = app::notices_of("promote", summary("r-1", {d}), std::nullopt, {}, 100);
    BOOST_TEST(keys(r) == std::vector<std::string>{"drift|promote|sandbox/101|prod|9101|0.0.3"});
    d.target_version = "0.0.4";  // edited again
    auto r2 = app::notices_of("promote", summary("r-2", {d}), r.health, {}, 200);
    BOOST_TEST(keys(r2) == std::vector<std::string>{"drift|promote|sandbox/101|prod|9101|0.0.4"});
    // on_drift: fail reports an error item: a drift, and a failure of the rule.
    auto f = promoted_item("101", "h1", "0.0.2");
    f.what = sync::action::error;
    f.error_kind = errc::drift;
    f.reason = "drift: target version 0.0.3 was changed outside wfsync (last synced 0.0.2); on_drift: fail";
    auto r3 = app::notices_of("promote", summary("r-3", {f}), std::nullopt, {}, 300);
    BOOST_TEST_REQUIRE(r3.notices.size() == 2u);
    BOOST_TEST((r3.notices[0].event == notify_event::drift));
    BOOST_TEST((r3.notices[1].event == notify_event::failure));
}

BOOST_AUTO_TEST_CASE(failure_on_the_change_to_failing_and_recovery_on_the_change_back)
{
    auto bad = promoted_item("101", "h1", "0.0.2");
    bad.what = sync::action::error;
    bad.error_kind = errc::http_status;
    bad.reason = "HTTP 500";
    auto first = app::notices_of("promote", summary("r-1", {bad}), std::nullopt, {}, 100);
    BOOST_TEST_REQUIRE(first.notices.size() == 1u);
    BOOST_TEST((first.notices[0].event == notify_event::failure));
    BOOST_TEST(first.notices[0].key == "failure|promote|r-1");
    BOOST_TEST(first.notices[0].message == "1 item failed; WF 101 -> prod: HTTP 500");
    BOOST_TEST(first.notices[0].target_tenant == "prod");
    BOOST_TEST(first.health.failing);
    BOOST_TEST(first.health.since_run == "r-1");

    // Still failing: nothing new, and the failure still dates from r-1.
    auto second = app::notices_of("promote", summary("r-2", {bad}), first.health, {}, 200);
    BOOST_TEST(second.notices.empty());
    BOOST_TEST(second.health.since_run == "r-1");

    // A run that cannot start at all is a failure too, but not a new one.
    result<sync::run_summary> down = make_error(errc::transport, "connect to sandbox failed");
    auto third = app::notices_of("promote", down, second.health, {}, 300);
    BOOST_TEST(third.notices.empty());
    BOOST_TEST(third.health.failing);

    auto fixed = app::notices_of("promote", summary("r-4", {promoted_item("101", "h1", "0.0.2")}), third.health, {}, 400);
    BOOST_TEST((keys(fixed) == std::vector<std::string>{"promoted|promote|sandbox/101|prod|h1", "recovered|promote|r-1"}));
    BOOST_TEST(!fixed.health.failing);
    BOOST_TEST(fixed.health.since_run == "r-4");

    // From ok, a run that cannot start is announced, keyed by its time.
    auto dead = app::notices_of("promote", down, fixed.health, {}, 500);
    BOOST_TEST(keys(dead) == std::vector<std::string>{"failure|promote|at-500"});
    BOOST_TEST(dead.notices[0].message == "the run failed: transport: connect to sandbox failed");
}

BOOST_AUTO_TEST_CASE(each_held_intent_of_the_rule_is_one_unknown_outcome)
{
    store::import_intent held;
    held.id = 7;
    held.rule = "promote";
    held.source_tenant = "kore-dev";
    held.source_workflow = "a-1";
    held.source_version = "deployed";
    held.target_tenant = "kore-prod";
    held.hold = "a Kore.ai creation cannot be listed";
    auto other = held;
    other.id = 8;
    other.rule = "other";
    auto r = app::notices_of("promote", summary("r-1", {}), std::nullopt, {held, other}, 100);
    BOOST_TEST(keys(r) == std::vector<std::string>{"unknown_outcome|intent|7"});
    BOOST_TEST(r.notices[0].intent == 7);
    BOOST_TEST(r.notices[0].message.find("wfsync resolve --intent 7 --imported") != std::string::npos);
    // Held items are not failures: they have their own event.
    BOOST_TEST(!r.health.failing);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(queue_and_delivery)

struct state_fixture {
    test::temp_dir dir;
    std::unique_ptr<store::store> st = store::open_sqlite(dir.file("state.db")).value();
    test::hook_receiver hook;
    boost::asio::io_context ioc;

    std::shared_ptr<config::config> cfg(std::vector<config::notify_event> on = {})
    {
        ::setenv("WFT_NOTIFY_KEY", "unit-hook-key-1", 1);
        auto c = std::make_shared<config::config>();
        config::notify_target t;
        t.name = "ops";
        t.url = hook.url();
        t.key = config::secret(config::secret::source::env, "WFT_NOTIFY_KEY", "notify.t.secret_env", {"n.yaml", 3, 5});
        t.on = std::move(on);
        t.net.timeout = std::chrono::seconds(5);
        t.net.retry = config::retry_settings{3, std::chrono::milliseconds(1), std::chrono::milliseconds(5)};
        c->notify["ops"] = t;
        return c;
    }
};

BOOST_FIXTURE_TEST_CASE(a_version_is_delivered_once_however_often_runs_see_it, state_fixture)
{
    app::notifications n(ioc.get_executor(), *st);
    std::vector<std::string> outcomes;
    n.on_outcome([&](const std::string& t, const std::string& e, std::string_view o) {
        outcomes.push_back(t + "/" + e + "/" + std::string(o));
    });
    auto c = cfg();
    result<sync::run_summary> run = summary("r-1", {promoted_item("101", "h1", "0.0.2")});
    BOOST_TEST(test::run_coro(ioc, n.after_run(c, "promote", run)) == 1u);
    BOOST_TEST(test::run_coro(ioc, n.after_run(c, "promote", run)) == 0u);
    BOOST_TEST(hook.count() == 1u);
    BOOST_TEST(outcomes == std::vector<std::string>{"ops/promoted/sent"});

    // Signed over the exact body, with the documented headers.
    auto req = hook.requests().at(0);
    BOOST_TEST(req.method == "POST");
    BOOST_TEST(req.path == "/hook");
    BOOST_TEST(*req.headers.find("Content-Type") == "application/json");
    BOOST_TEST(*req.headers.find("X-Wfsync-Event") == "promoted");
    BOOST_TEST(*req.headers.find("X-Wfsync-Signature") == "sha256=" + hmac_sha256_hex("unit-hook-key-1", req.body));
    auto body = json::parse(req.body).as_object();
    BOOST_TEST(body.at("delivery").as_string() == *req.headers.find("X-Wfsync-Delivery"));
    BOOST_TEST(std::to_string(body.at("timestamp").as_int64()) == *req.headers.find("X-Wfsync-Timestamp"));
    auto row = st->find_notification("ops", "promoted|promote|sandbox/101|prod|h1").value();
    BOOST_TEST_REQUIRE(row.has_value());
    BOOST_TEST((row->state == store::notification_state::sent));
    BOOST_TEST(row->payload.empty());
    BOOST_TEST(row->attempts == 1);
}

BOOST_FIXTURE_TEST_CASE(retries_within_a_delivery_keep_the_delivery_id, state_fixture)
{
    app::notifications n(ioc.get_executor(), *st);
    int retries = 0;
    n.on_outcome([&](const std::string&, const std::string&, std::string_view o) { retries += o == "retry"; });
    hook.script({500, 500});
    result<sync::run_summary> run = summary("r-1", {promoted_item("101", "h1", "0.0.2")});
    BOOST_TEST(test::run_coro(ioc, n.after_run(cfg(), "promote", run)) == 1u);
    auto reqs = hook.requests();
    BOOST_TEST_REQUIRE(reqs.size() == 3u);
    BOOST_TEST(*reqs[0].headers.find("X-Wfsync-Delivery") == *reqs[2].headers.find("X-Wfsync-Delivery"));
    BOOST_TEST(reqs[0].body == reqs[2].body);
    BOOST_TEST(retries == 2);
    BOOST_TEST(st->find_notification("ops", "promoted|promote|sandbox/101|prod|h1").value()->attempts == 3);
}

BOOST_FIXTURE_TEST_CASE(a_target_that_stays_down_is_tried_again_by_the_next_run, state_fixture)
{
    app::notifications n(ioc.get_executor(), *st);
    std::vector<std::string> outcomes;
    n.on_outcome([&](const std::string&, const std::string& e, std::string_view o) {
        if (o != "retry") outcomes.push_back(e + "/" + std::string(o));
    });
    hook.script({503, 503, 503});
    result<sync::run_summary> run =
        summary("r-1", {promoted_item("101", "h1", "0.0.2"), promoted_item("102", "h2", "0.1.0")});
    BOOST_TEST(test::run_coro(ioc, n.after_run(cfg(), "promote", run)) == 0u);
    // One delivery tried (3 attempts); the second waits rather than costing another timeout.
    BOOST_TEST(hook.count() == 3u);
    BOOST_TEST(outcomes == std::vector<std::string>{"promoted/failed"});
    BOOST_TEST(st->pending_notifications().value().size() == 2u);

    result<sync::run_summary> quiet = summary("r-2", {});
    BOOST_TEST(test::run_coro(ioc, n.after_run(cfg(), "promote", quiet)) == 2u);
    BOOST_TEST(hook.count() == 5u);
    BOOST_TEST(st->pending_notifications().value().empty());
}

BOOST_FIXTURE_TEST_CASE(a_missing_secret_fails_the_delivery_not_the_run_and_is_not_logged, state_fixture)
{
    app::notifications n(ioc.get_executor(), *st);
    auto c = cfg();
    ::unsetenv("WFT_NOTIFY_KEY");
    store::notification_row row;
    row.target = "ops";
    row.event = "promoted";
    row.delivery = "d-1";
    row.payload = R"({"event":"promoted"})";
    auto out = test::run_coro(ioc, app::deliver(ioc.get_executor(), c->notify.at("ops"), row, 100));
    BOOST_TEST(!out.sent);
    BOOST_TEST(out.attempts == 0);
    BOOST_TEST(out.error == "secret: n.yaml:3:5: notify.t.secret_env: variable WFT_NOTIFY_KEY is not set");
    BOOST_TEST(hook.count() == 0u);
}

BOOST_FIXTURE_TEST_CASE(slack_gets_text_at_a_secret_url_that_never_shows, state_fixture)
{
    ::setenv("WFT_SLACK_URL", hook.url("/services/T000/B000/slack-secret-path").c_str(), 1);
    config::notify_target t;
    t.name = "team";
    t.type = config::notify_type::slack;
    t.url_secret = config::secret(config::secret::source::env, "WFT_SLACK_URL", "notify.t.url_env", {"n.yaml", 9, 5});
    t.net.retry = config::retry_settings{1, std::chrono::milliseconds(1), std::chrono::milliseconds(1)};
    app::notice n;
    n.event = notify_event::failure;
    n.rule = "promote";
    n.message = "1 item failed";
    store::notification_row row;
    row.target = "team";
    row.event = "failure";
    row.delivery = "d-2";
    row.payload = json::serialize(app::notice_json(n));
    auto out = test::run_coro(ioc, app::deliver(ioc.get_executor(), t, row, 100));
    BOOST_TEST(out.sent);
    auto req = hook.requests().at(0);
    BOOST_TEST(req.path == "/services/T000/B000/slack-secret-path");
    BOOST_TEST(req.body == R"({"text":":x: *wfsync* rule `promote` is failing\n1 item failed"})");
    BOOST_TEST(!req.headers.find("X-Wfsync-Signature"));

    // A failure's message names the host, never the secret path.
    hook.script({404});
    auto failed = test::run_coro(ioc, app::deliver(ioc.get_executor(), t, row, 100));
    BOOST_TEST(!failed.sent);
    BOOST_TEST(failed.error == "HTTP 404");
    BOOST_TEST(log::redact("url " + hook.url("/services/T000/B000/slack-secret-path")).find("slack-secret-path") ==
               std::string::npos);
    BOOST_TEST(t.shown() == "team");
}

BOOST_AUTO_TEST_SUITE_END()
