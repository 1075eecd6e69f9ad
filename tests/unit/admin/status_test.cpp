// SPDX-License-Identifier: Apache-2.0
#include <boost/test/unit_test.hpp>

#include "admin_fixture.hpp"

#include <wfsync/app/cli.hpp>
#include <wfsync/config/config.hpp>

#include <support/temp_dir.hpp>

#include <sstream>

using namespace wfsync;
using test::server_fixture;

namespace {

const std::string token = "status-token-91c4e";

config::config config_for(std::uint16_t port, std::string token_file = {})
{
    config::config c;
    c.admin.listen = "127.0.0.1:" + std::to_string(port);
    c.admin.token_file = std::move(token_file);
    return c;
}

/// A port nothing listens on: bound once by us, then closed.
std::uint16_t closed_port()
{
    boost::asio::io_context ioc;
    boost::asio::ip::tcp::acceptor a(ioc, {boost::asio::ip::make_address("127.0.0.1"), 0});
    auto p = a.local_endpoint().port();
    a.close();
    return p;
}

bool contains(const std::string& hay, const std::string& needle)
{
    return hay.find(needle) != std::string::npos;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(status_command)

BOOST_AUTO_TEST_CASE(prints_a_table_for_people)
{
    server_fixture f;
    BOOST_REQUIRE(f.start({"127.0.0.1:0", ""}));
    std::ostringstream out, err;
    int rc = app::run_status(config_for(f.port()), false, out, err);
    BOOST_TEST(rc == app::exit_ok, err.str());
    auto text = out.str();
    BOOST_TEST(err.str() == "");
    BOOST_TEST(contains(text, "wfsync serve 0.1.0, up "), text);
    BOOST_TEST(contains(text, "(since 2026-11-23T15:00:00Z)"), text);
    BOOST_TEST(contains(text, "config: /etc/wfsync/wfsync.yaml"), text);
    BOOST_TEST(contains(text, "ready: yes"), text);
    BOOST_TEST(contains(text, "RULE"), text);
    BOOST_TEST(contains(text, "LAST SUCCESS"), text);
    // One row per rule with its cells; nulls shown as "-".
    std::istringstream lines(text);
    std::string line, prod, backup;
    while (std::getline(lines, line)) {
        if (contains(line, "prod-to-sandbox") && prod.empty()) prod = line;  // the rules table comes first
        if (contains(line, "backup-hourly")) backup = line;
    }
    BOOST_TEST(contains(prod, "0 2 * * * (Europe/Berlin)"), prod);
    BOOST_TEST(contains(prod, "2026-11-24T01:00:00Z"), prod);
    BOOST_TEST(contains(prod, " no "), prod);
    BOOST_TEST(contains(prod, " ok "), prod);
    BOOST_TEST(contains(prod, "2026-11-23T01:00:02Z"), prod);
    BOOST_TEST(contains(prod, " 12"), prod);
    BOOST_TEST(contains(backup, "@hourly"), backup);
    BOOST_TEST(contains(backup, " yes "), backup);
    BOOST_TEST(contains(backup, " - "), backup);
    BOOST_TEST(contains(text, "pending async jobs: 3"), text);
    // Held imports: what to check, and how to settle them.
    BOOST_TEST(contains(text, "held imports (outcome unknown; settle with wfsync resolve --intent N"), text);
    std::string held;
    std::istringstream again(text);
    while (std::getline(again, line))
        if (contains(line, "look for Lost New")) held = line;
    BOOST_TEST(contains(held, "7"), held);
    BOOST_TEST(contains(held, "0.0.4"), held);
    BOOST_TEST(contains(held, "zuora-sbx"), held);
    BOOST_TEST(f.provider.status_calls == 1);
}

BOOST_AUTO_TEST_CASE(json_passes_the_body_through)
{
    server_fixture f;
    BOOST_REQUIRE(f.start({"127.0.0.1:0", ""}));
    std::ostringstream out, err;
    BOOST_TEST(app::run_status(config_for(f.port()), true, out, err) == app::exit_ok);
    auto direct = test::http_call(f.port(), "GET", "/status");
    BOOST_TEST(out.str() == direct.body);
    BOOST_TEST(boost::json::parse(out.str()) == boost::json::value(f.provider.status()));
}

BOOST_AUTO_TEST_CASE(sends_the_token_from_the_config)
{
    test::temp_dir dir;
    server_fixture f;
    BOOST_REQUIRE(f.start({"127.0.0.1:0", token}));

    std::ostringstream out, err;
    auto tf = dir.write("admin-token", token + "\n");
    BOOST_TEST(app::run_status(config_for(f.port(), tf), true, out, err) == app::exit_ok, err.str());
    BOOST_TEST(contains(out.str(), "prod-to-sandbox"));

    std::ostringstream out2, err2;
    BOOST_TEST(app::run_status(config_for(f.port()), false, out2, err2) == app::exit_config);
    BOOST_TEST(contains(err2.str(), "refused the request (401)"), err2.str());
    BOOST_TEST(contains(err2.str(), "set admin.token_file"), err2.str());
    BOOST_TEST(out2.str() == "");

    std::ostringstream out3, err3;
    auto wrong = dir.write("wrong-token", "not-the-token\n");
    BOOST_TEST(app::run_status(config_for(f.port(), wrong), false, out3, err3) == app::exit_config);
    BOOST_TEST(contains(err3.str(), "does not match"), err3.str());
    BOOST_TEST(!contains(err3.str(), "not-the-token"), err3.str());

    std::ostringstream out4, err4;
    BOOST_TEST(app::run_status(config_for(f.port(), dir.file("gone")), false, out4, err4) == app::exit_config);
    BOOST_TEST(contains(err4.str(), dir.file("gone")), err4.str());
}

BOOST_AUTO_TEST_CASE(daemon_not_running_exits_75)
{
    auto port = closed_port();
    std::ostringstream out, err;
    int rc = app::run_status(config_for(port), false, out, err);
    BOOST_TEST(rc == 75);
    std::string where = "127.0.0.1:" + std::to_string(port);
    BOOST_TEST(contains(err.str(), "wfsync serve is not running (no answer on " + where + ")\n"), err.str());
    BOOST_TEST(out.str() == "");

    std::ostringstream out2, err2;
    BOOST_TEST(app::run_status(config_for(port), true, out2, err2) == 75);
    BOOST_TEST(out2.str() == "");
}

BOOST_AUTO_TEST_CASE(wildcard_listen_is_reached_over_loopback)
{
    server_fixture f;
    BOOST_REQUIRE(f.start({"0.0.0.0:0", ""}));
    config::config c;
    c.admin.listen = "0.0.0.0:" + std::to_string(f.port());
    std::ostringstream out, err;
    BOOST_TEST(app::run_status(c, false, out, err) == app::exit_ok, err.str());
    BOOST_TEST(contains(out.str(), "backup-hourly"));
}

BOOST_AUTO_TEST_SUITE_END()

#include <wfsync/net/http_server.hpp>

BOOST_AUTO_TEST_SUITE(status_command_odd_answers)

namespace {

/// A server that is not a wfsync admin endpoint: answers every request with `res`.
struct odd_server {
    boost::asio::io_context ioc;
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard =
        boost::asio::make_work_guard(ioc);
    std::unique_ptr<net::http_server> server;
    std::thread thread;

    explicit odd_server(net::server_response res)
    {
        server = std::make_unique<net::http_server>(
            ioc.get_executor(), net::server_settings{},
            [res](net::server_request) -> awaitable<net::server_response> { co_return res; });
        BOOST_REQUIRE(server->start());
        thread = std::thread([this] { ioc.run(); });
    }
    ~odd_server()
    {
        boost::asio::post(ioc, [this] { server->stop(); });
        guard.reset();
        thread.join();
    }
};

int status_against(net::server_response res, bool json, std::string& out, std::string& err)
{
    odd_server s(std::move(res));
    std::ostringstream o, e;
    int rc = app::run_status(config_for(s.server->port()), json, o, e);
    out = o.str();
    err = e.str();
    return rc;
}

}  // namespace

BOOST_AUTO_TEST_CASE(invalid_json_non_object_and_errors_are_reported)
{
    std::string out, err;
    net::server_response bad;
    bad.body = "{\"version\": ";
    BOOST_TEST(status_against(bad, true, out, err) == app::exit_partial);
    BOOST_TEST(contains(err, "invalid JSON"), err);
    BOOST_TEST(out == "");

    net::server_response arr;
    arr.body = "[1,2]";
    BOOST_TEST(status_against(arr, false, out, err) == app::exit_partial);
    BOOST_TEST(contains(err, "not an object"), err);

    net::server_response down;
    down.status = 503;
    down.body = "not ready";
    BOOST_TEST(status_against(down, false, out, err) == app::exit_tempfail);
    BOOST_TEST(contains(err, "answered HTTP 503"), err);

    net::server_response nf;
    nf.status = 404;
    nf.body = "nope";
    BOOST_TEST(status_against(nf, false, out, err) == app::exit_partial);
    BOOST_TEST(contains(err, "answered HTTP 404"), err);
}

BOOST_AUTO_TEST_CASE(odd_shapes_print_without_crashing)
{
    // Wrong types and missing members show as "-" rather than failing.
    std::string out, err;
    net::server_response odd;
    odd.body = R"({"version": 7, "rules": [{"name": ["x"], "running": "maybe"}, 3, {"name": "r2"}],
                   "pending_jobs": "many", "ready": "yes"})";
    BOOST_TEST(status_against(odd, false, out, err) == app::exit_ok, err);
    BOOST_TEST(contains(out, "wfsync serve 7 (since -)"), out);
    BOOST_TEST(contains(out, "ready: no"), out);
    BOOST_TEST(contains(out, "r2"), out);
    BOOST_TEST(contains(out, "pending async jobs: many"), out);

    net::server_response empty;
    empty.body = "{}";
    BOOST_TEST(status_against(empty, false, out, err) == app::exit_ok, err);
    BOOST_TEST(contains(out, "(none)"), out);
}

BOOST_AUTO_TEST_SUITE_END()
