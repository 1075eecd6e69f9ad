// SPDX-License-Identifier: Apache-2.0
#include <boost/test/unit_test.hpp>

#include "admin_fixture.hpp"
#include "prom_parser.hpp"

#include <wfsync/config/config.hpp>
#include <wfsync/core/log.hpp>

#include <support/temp_dir.hpp>

#include <cstdio>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace wfsync;
using test::http_call;
using test::server_fixture;

namespace {

const std::string token = "s3cr3t-admin-token-7f3a";

/// Sends stderr (where the logger writes) to a file until finish().
struct stderr_capture {
    test::temp_dir dir;
    std::string path = dir.file("stderr.log");
    int saved = -1;

    stderr_capture()
    {
        std::fflush(stderr);
        saved = ::dup(2);
        int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        BOOST_REQUIRE(fd >= 0);
        ::dup2(fd, 2);
        ::close(fd);
    }
    std::string finish()
    {
        if (saved >= 0) {
            std::fflush(stderr);
            ::dup2(saved, 2);
            ::close(saved);
            saved = -1;
        }
        return test::read_file(path);
    }
    ~stderr_capture() { finish(); }
};

bool contains(const std::string& hay, const std::string& needle)
{
    return hay.find(needle) != std::string::npos;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(admin_server)

BOOST_AUTO_TEST_CASE(routes_and_status_codes_without_token)
{
    server_fixture f;
    BOOST_REQUIRE(f.start({"127.0.0.1:0", ""}));
    auto p = f.port();

    auto h = http_call(p, "GET", "/healthz");
    BOOST_TEST(h.status == 200);
    BOOST_TEST(h.body == "ok\n");
    auto hh = http_call(p, "HEAD", "/healthz");
    BOOST_TEST(hh.status == 200);
    BOOST_TEST(hh.body == "");

    BOOST_TEST(http_call(p, "GET", "/readyz").status == 200);
    BOOST_TEST(http_call(p, "GET", "/readyz").body == "ready\n");
    f.provider.is_ready = false;
    auto nr = http_call(p, "GET", "/readyz");
    BOOST_TEST(nr.status == 503);
    BOOST_TEST(nr.body == "not ready\n");
    BOOST_TEST(http_call(p, "GET", "/healthz").status == 200);  // alive even when not ready

    auto m = http_call(p, "GET", "/metrics");
    BOOST_TEST(m.status == 200);
    BOOST_TEST(m.header("content-type") == "text/plain; version=0.0.4; charset=utf-8");
    auto doc = test::parse_prometheus(m.body);
    BOOST_TEST(doc.error == "");
    BOOST_TEST(doc.get("wfsync_up").value_or(0) == 1);
    BOOST_TEST(f.provider.metrics_calls == 1);

    auto s = http_call(p, "GET", "/status?x=1");
    BOOST_TEST(s.status == 200);
    BOOST_TEST(s.header("content-type") == "application/json");
    auto js = boost::json::parse(s.body);
    BOOST_TEST(js.at("rules").at(0).at("name").as_string() == "prod-to-sandbox");
    BOOST_TEST(js.at("pending_jobs").as_int64() == 3);

    auto ok = http_call(p, "POST", "/rules/prod-to-sandbox/run");
    BOOST_TEST(ok.status == 202);
    auto okj = boost::json::parse(ok.body);
    BOOST_TEST(okj.at("accepted").as_bool() == true);
    BOOST_TEST(okj.at("rule").as_string() == "prod-to-sandbox");
    BOOST_TEST(okj.at("message").as_string() == "run started");
    auto busy = http_call(p, "POST", "/rules/backup-hourly/run");
    BOOST_TEST(busy.status == 409);
    BOOST_TEST(boost::json::parse(busy.body).at("accepted").as_bool() == false);
    BOOST_TEST(contains(busy.body, "already running"));
    auto missing = http_call(p, "POST", "/rules/nope/run");
    BOOST_TEST(missing.status == 404);
    BOOST_TEST(contains(missing.body, "no rule named 'nope'"));
    BOOST_TEST(http_call(p, "POST", "/rules/broken/run").status == 503);
    // A percent-encoded name reaches the provider decoded.
    BOOST_TEST(http_call(p, "POST", "/rules/prod%2Dto%2Dsandbox/run").status == 202);
    auto seen = f.on_io([&] { return f.provider.run_requests; });
    BOOST_TEST(seen == (std::vector<std::string>{"prod-to-sandbox", "backup-hourly", "nope", "broken",
                                                 "prod-to-sandbox"}),
               boost::test_tools::per_element());

    BOOST_TEST(http_call(p, "GET", "/nothing").status == 404);
    BOOST_TEST(http_call(p, "GET", "/rules//run").status == 404);
    BOOST_TEST(http_call(p, "GET", "/rules/x/run/more").status == 404);
    auto pm = http_call(p, "POST", "/metrics");
    BOOST_TEST(pm.status == 405);
    BOOST_TEST(pm.header("allow") == "GET, HEAD");
    auto dh = http_call(p, "DELETE", "/healthz");
    BOOST_TEST(dh.status == 405);
    BOOST_TEST(dh.header("allow") == "GET, HEAD");
    BOOST_TEST(http_call(p, "PUT", "/status").header("allow") == "GET, HEAD");
    auto gr = http_call(p, "GET", "/rules/prod-to-sandbox/run");
    BOOST_TEST(gr.status == 405);
    BOOST_TEST(gr.header("allow") == "POST");
    // Neither 405 ran the rule.
    BOOST_TEST(f.on_io([&] { return f.provider.run_requests.size(); }) == 5u);
}

BOOST_AUTO_TEST_CASE(bearer_token_required_accepted_refused_and_never_shown)
{
    stderr_capture cap;
    log::init(log::level::debug, log::format::text);
    std::vector<test::reply> all;
    {
        server_fixture f;
        f.provider.error_text = "database locked while the token " + token + " was around";
        BOOST_REQUIRE(f.start({"127.0.0.1:0", token}));
        auto p = f.port();
        const std::map<std::string, std::string> good{{"Authorization", "Bearer " + token}};
        auto keep = [&](test::reply r) {
            all.push_back(r);
            return r;
        };

        // Liveness needs no token.
        BOOST_TEST(keep(http_call(p, "GET", "/healthz")).status == 200);

        for (std::string path : {"/readyz", "/metrics", "/status", "/nothing"}) {
            auto r = keep(http_call(p, "GET", path));
            BOOST_TEST(r.status == 401, path);
            BOOST_TEST(r.header("www-authenticate") == R"(Bearer realm="wfsync")", path);
        }
        auto post = keep(http_call(p, "POST", "/rules/prod-to-sandbox/run"));
        BOOST_TEST(post.status == 401);
        BOOST_TEST(f.on_io([&] { return f.provider.run_requests.size(); }) == 0u);
        BOOST_TEST(f.provider.status_calls == 0);

        for (std::string bad : std::vector<std::string>{"Bearer wrong", "Bearer " + token.substr(0, token.size() - 1),
                                "Bearer " + token + "x", "Basic " + token, "Bearer", token, "Bearer  "}) {
            auto r = keep(http_call(p, "GET", "/status", {{"Authorization", bad}}));
            BOOST_TEST(r.status == 401, bad);
            BOOST_TEST(r.header("www-authenticate") == R"(Bearer realm="wfsync", error="invalid_token")", bad);
        }
        BOOST_TEST(f.provider.status_calls == 0);

        BOOST_TEST(keep(http_call(p, "GET", "/status", good)).status == 200);
        BOOST_TEST(keep(http_call(p, "GET", "/status", {{"Authorization", "bearer " + token}})).status == 200);
        BOOST_TEST(keep(http_call(p, "GET", "/metrics", good)).status == 200);
        BOOST_TEST(keep(http_call(p, "GET", "/readyz", good)).status == 200);
        BOOST_TEST(keep(http_call(p, "GET", "/nothing", good)).status == 404);
        BOOST_TEST(keep(http_call(p, "POST", "/rules/prod-to-sandbox/run", good)).status == 202);
        auto broken = keep(http_call(p, "POST", "/rules/broken/run", good));
        BOOST_TEST(broken.status == 503);
        BOOST_TEST(contains(broken.body, "database locked"));
        BOOST_TEST(f.provider.status_calls == 2);
    }
    auto logs = cap.finish();
    log::init(log::level::warn, log::format::text);

    for (const auto& r : all) BOOST_TEST(!contains(r.raw, token), r.raw);
    BOOST_TEST(!contains(logs, token), logs);
    BOOST_TEST(contains(logs, "admin GET /status -> 401"), logs);
    BOOST_TEST(contains(logs, "admin GET /status -> 200"), logs);
    BOOST_TEST(contains(logs, "bearer token required"), logs);
}

BOOST_AUTO_TEST_CASE(warns_on_non_loopback_without_token)
{
    stderr_capture cap;
    log::init(log::level::info, log::format::text);
    {
        server_fixture f;
        BOOST_REQUIRE(f.start({"0.0.0.0:0", ""}));
        BOOST_TEST(http_call(f.port(), "GET", "/healthz").status == 200);
    }
    auto open_logs = cap.finish();
    stderr_capture cap2;
    {
        server_fixture f;
        BOOST_REQUIRE(f.start({"0.0.0.0:0", token}));
    }
    {
        server_fixture f;
        BOOST_REQUIRE(f.start({"127.0.0.1:0", ""}));
    }
    auto quiet_logs = cap2.finish();
    log::init(log::level::warn, log::format::text);

    BOOST_TEST(contains(open_logs, "non-loopback address 0.0.0.0:0 without a token"), open_logs);
    BOOST_TEST(!contains(quiet_logs, "non-loopback"), quiet_logs);
    BOOST_TEST(contains(quiet_logs, "admin endpoint listening on http://127.0.0.1:"), quiet_logs);
}

BOOST_AUTO_TEST_CASE(loopback_detection)
{
    BOOST_TEST(app::is_loopback_listen("127.0.0.1:9470"));
    BOOST_TEST(app::is_loopback_listen("127.1.2.3:9470"));
    BOOST_TEST(app::is_loopback_listen("[::1]:9470"));
    BOOST_TEST(app::is_loopback_listen("localhost:9470"));
    BOOST_TEST(!app::is_loopback_listen("0.0.0.0:9470"));
    BOOST_TEST(!app::is_loopback_listen("[::]:9470"));
    BOOST_TEST(!app::is_loopback_listen("10.0.0.5:9470"));
    BOOST_TEST(!app::is_loopback_listen("admin.example.com:9470"));
}

BOOST_AUTO_TEST_CASE(bind_failure_names_the_address)
{
    server_fixture first;
    BOOST_REQUIRE(first.start({"127.0.0.1:0", ""}));
    std::string listen = "127.0.0.1:" + std::to_string(first.port());
    boost::asio::io_context ioc;
    test::fake_provider prov;
    app::admin_server second(ioc.get_executor(), {listen, ""}, prov);
    auto r = second.start();
    BOOST_REQUIRE(!r);
    BOOST_TEST(contains(r.error().message, listen), r.error().message);
    BOOST_TEST(contains(r.error().message, "admin endpoint"), r.error().message);
}

BOOST_AUTO_TEST_CASE(settings_from_config_read_the_token_file)
{
    test::temp_dir dir;
    config::admin_settings a;
    a.listen = "127.0.0.1:9999";
    auto none = app::admin_settings_from(a);
    BOOST_REQUIRE(none);
    BOOST_TEST(none->listen == "127.0.0.1:9999");
    BOOST_TEST(none->token == "");

    a.token_file = dir.write("token", token + "\n");
    auto with = app::admin_settings_from(a);
    BOOST_REQUIRE(with);
    BOOST_TEST(with->token == token);
    a.token_file = dir.write("token-crlf", token + "\r\n");
    BOOST_TEST(app::admin_settings_from(a)->token == token);

    a.token_file = dir.file("missing");
    auto missing = app::admin_settings_from(a);
    BOOST_REQUIRE(!missing);
    BOOST_TEST(missing.error().code == errc::config);
    BOOST_TEST(contains(missing.error().message, a.token_file), missing.error().message);

    a.token_file = dir.write("empty", "\n");
    auto empty = app::admin_settings_from(a);
    BOOST_REQUIRE(!empty);
    BOOST_TEST(contains(empty.error().message, "is empty"), empty.error().message);

    // A FIFO would block a plain read for ever.
    a.token_file = dir.file("fifo");
    BOOST_REQUIRE(::mkfifo(a.token_file.c_str(), 0600) == 0);
    auto fifo = app::admin_settings_from(a);
    BOOST_REQUIRE(!fifo);
    BOOST_TEST(fifo.error().message == "admin.token_file: " + a.token_file + " is not a regular file but a FIFO");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(status_shape)

BOOST_AUTO_TEST_CASE(held_imports_are_listed_with_what_to_check)
{
    app::daemon_status s;
    s.held_imports.push_back({7, "promote", "kore-prod", "a-1", "deployed", "check the UI for 'Lost New'"});
    auto o = app::to_json(s);
    const auto& held = o.at("held_imports").as_array();
    BOOST_TEST_REQUIRE(held.size() == 1u);
    BOOST_TEST(boost::json::serialize(held[0]) ==
               R"({"intent":7,"rule":"promote","target_tenant":"kore-prod","workflow":"a-1","version":"deployed",)"
               R"("check":"check the UI for 'Lost New'"})");
}

BOOST_AUTO_TEST_CASE(to_json_gives_the_documented_shape)
{
    using namespace std::chrono;
    app::daemon_status s;
    s.started_at = system_clock::time_point(seconds(1'763'910'000)) + milliseconds(750);
    s.config_file = "/etc/wfsync/wfsync.yaml";
    s.ready = true;
    s.pending_jobs = 2;
    app::rule_status a;
    a.name = "nightly";
    a.source = "prod";
    a.targets = {"sbx", "archive:local"};
    a.schedule = "0 2 * * *";
    a.timezone = "Europe/Berlin";
    a.next_fire = system_clock::time_point(seconds(1'763'946'000));
    a.last_outcome = "partial";
    a.last_run = system_clock::time_point(seconds(1'763'859'600));
    a.runs = 4;
    a.skipped_overlap = 1;
    app::rule_status b;
    b.name = "manual";
    b.source = "prod";
    b.running = true;
    s.rules = {a, b};
    auto text = boost::json::serialize(app::to_json(s));
    BOOST_TEST(text ==
               R"({"version":"0.1.0","started_at":"2025-11-23T15:00:00Z","config_file":"/etc/wfsync/wfsync.yaml",)"
               R"("ready":true,"rules":[{"name":"nightly","source":"prod","targets":["sbx","archive:local"],)"
               R"("schedule":"0 2 * * *","timezone":"Europe/Berlin","next_fire":"2025-11-24T01:00:00Z",)"
               R"("running":false,"last_outcome":"partial","last_run":"2025-11-23T01:00:00Z","last_success":null,)"
               R"("runs":4,"skipped_overlap":1},{"name":"manual","source":"prod","targets":[],"schedule":"",)"
               R"("timezone":"UTC","next_fire":null,"running":true,"last_outcome":null,"last_run":null,)"
               R"("last_success":null,"runs":0,"skipped_overlap":0}],"pending_jobs":2,"held_imports":[]})");
}

BOOST_AUTO_TEST_CASE(control_characters_in_paths_do_not_forge_log_lines)
{
    stderr_capture cap;
    log::init(log::level::debug, log::format::text);
    {
        server_fixture f;
        BOOST_REQUIRE(f.start({"127.0.0.1:0", ""}));
        BOOST_TEST(http_call(f.port(), "GET", "/x%0Afake%20line").status == 404);
    }
    auto logs = cap.finish();
    log::init(log::level::warn, log::format::text);
    BOOST_TEST(contains(logs, "admin GET /x\\x0afake line -> 404"), logs);
    BOOST_TEST(!contains(logs, "\nfake line"), logs);
}

BOOST_AUTO_TEST_SUITE_END()
