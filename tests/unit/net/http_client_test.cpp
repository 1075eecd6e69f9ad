// SPDX-License-Identifier: Apache-2.0
#define BOOST_TEST_MODULE wfsync_http_client
#include <boost/test/unit_test.hpp>

#include <wfsync/core/zlib.hpp>
#include <wfsync/net/http_client.hpp>
#include <wfsync/net/http_server.hpp>

#include <support/run_coro.hpp>
#include <support/temp_dir.hpp>
#include <support/test_certs.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <ctime>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

using namespace wfsync;
using namespace std::chrono_literals;
namespace asio = boost::asio;

namespace {

/// One scripted fake server on the test's io_context: every request is recorded, and
/// `script` decides the answer (default 200 "ok").
struct fixture {
    asio::io_context ioc;
    std::vector<net::server_request> seen;
    std::function<net::server_response(const net::server_request&, int n)> script;
    milliseconds handler_delay{0};
    int in_flight = 0;
    int max_in_flight = 0;
    std::unique_ptr<net::http_server> server;
    std::vector<net::attempt_record> attempts;

    ~fixture()
    {
        if (server) server->stop();
    }

    void start(net::server_settings s = {})
    {
        server = std::make_unique<net::http_server>(
            ioc.get_executor(), std::move(s),
            [this](net::server_request req) -> awaitable<net::server_response> {
                seen.push_back(req);
                int n = static_cast<int>(seen.size());
                ++in_flight;
                max_in_flight = std::max(max_in_flight, in_flight);
                if (handler_delay.count() > 0) {
                    asio::steady_timer t(ioc, handler_delay);
                    co_await t.async_wait(asio::use_awaitable);
                }
                --in_flight;
                if (script) co_return script(req, n);
                net::server_response r;
                r.body = "ok";
                r.content_type = "text/plain";
                co_return r;
            });
        auto st = server->start();
        BOOST_TEST_REQUIRE(st.has_value(), (st ? "" : st.error().what()));
    }

    net::client_settings settings() const
    {
        net::client_settings s;
        s.base_url = server->base_url();
        s.connect_timeout = 2s;
        s.request_timeout = 3s;
        s.max_attempts = 4;
        s.initial_backoff = 1ms;
        s.max_backoff = 10ms;
        s.rate_per_second = 0;
        return s;
    }

    std::unique_ptr<net::http_client> client(net::client_settings s)
    {
        auto c = std::make_unique<net::http_client>(ioc.get_executor(), std::move(s));
        c->on_attempt([this](const net::attempt_record& r) { attempts.push_back(r); });
        return c;
    }

    result<net::http_response> send(net::http_client& c, net::http_request r)
    {
        return test::run_coro(ioc, c.send(std::move(r)));
    }
};

net::http_request get(std::string target)
{
    net::http_request r;
    r.target = std::move(target);
    return r;
}

net::server_response status(int code, std::string body = {})
{
    net::server_response r;
    r.status = code;
    r.body = std::move(body);
    r.content_type = "text/plain";
    return r;
}

/// A port nothing listens on: bound once, then released.
std::uint16_t free_port()
{
    asio::io_context ioc;
    asio::ip::tcp::acceptor a(ioc, {asio::ip::make_address("127.0.0.1"), 0});
    auto port = a.local_endpoint().port();
    a.close();
    return port;
}

long long ms_since(std::chrono::steady_clock::time_point t0)
{
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
}

std::string http_date(std::time_t t)
{
    char buf[64];
    std::tm tm{};
    gmtime_r(&t, &tm);
    std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    return buf;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(requests)

BOOST_FIXTURE_TEST_CASE(sends_prefix_default_headers_user_agent_and_content_type, fixture)
{
    start();
    auto s = settings();
    s.base_url += "/api/v1/";
    s.default_headers.set("Zuora-Track-Id", "run-1");
    s.user_agent = "wfsync-test/9";
    auto c = client(s);
    c->set_default_header("Zuora-Track-Id", "run-2");

    net::http_request r;
    r.method = "post";
    r.target = "/workflows?page=2";
    r.body = R"({"a":1})";
    r.content_type = "application/json";
    r.headers.set("X-Extra", "yes");
    auto res = send(*c, r);

    BOOST_TEST_REQUIRE(res.has_value(), (res ? "" : res.error().what()));
    BOOST_TEST(res->status == 200);
    BOOST_TEST(res->body == "ok");
    BOOST_TEST(res->attempts == 1);
    BOOST_TEST_REQUIRE(seen.size() == 1u);
    auto& q = seen[0];
    BOOST_TEST(q.method == "POST");
    BOOST_TEST(q.target == "/api/v1/workflows?page=2");
    BOOST_TEST(q.body == R"({"a":1})");
    BOOST_TEST_REQUIRE(q.headers.find("Zuora-Track-Id"));
    BOOST_TEST(*q.headers.find("Zuora-Track-Id") == "run-2");
    BOOST_TEST(*q.headers.find("User-Agent") == "wfsync-test/9");
    BOOST_TEST(*q.headers.find("Content-Type") == "application/json");
    BOOST_TEST(*q.headers.find("X-Extra") == "yes");
    BOOST_TEST(*q.headers.find("Accept-Encoding") == "gzip");
    BOOST_TEST(q.headers.find("Idempotency-Key") == nullptr);
    BOOST_TEST_REQUIRE(attempts.size() == 1u);
    BOOST_TEST(attempts[0].status == 200);
    BOOST_TEST(attempts[0].method == "POST");
}

BOOST_FIXTURE_TEST_CASE(non_retryable_status_is_a_response, fixture)
{
    start();
    script = [](const net::server_request&, int) { return status(404, "no such workflow"); };
    auto c = client(settings());
    auto res = send(*c, get("/x"));
    BOOST_TEST_REQUIRE(res.has_value());
    BOOST_TEST(res->status == 404);
    BOOST_TEST(res->body == "no such workflow");
    BOOST_TEST(seen.size() == 1u);
}

BOOST_FIXTURE_TEST_CASE(bad_base_url_fails_naming_it, fixture)
{
    net::client_settings s;
    s.base_url = "ftp://example.com";
    net::http_client c(ioc.get_executor(), s);
    auto res = test::run_coro(ioc, c.send(get("/x")));
    BOOST_TEST_REQUIRE(res.has_error());
    BOOST_TEST(res.error().code == errc::invalid_argument);
    BOOST_TEST(res.error().message.find("ftp://example.com") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(retries)

BOOST_FIXTURE_TEST_CASE(retries_503_then_succeeds, fixture)
{
    start();
    script = [](const net::server_request&, int n) { return n < 3 ? status(503, "busy") : status(200, "done"); };
    auto c = client(settings());
    auto res = send(*c, get("/items"));
    BOOST_TEST_REQUIRE(res.has_value(), (res ? "" : res.error().what()));
    BOOST_TEST(res->status == 200);
    BOOST_TEST(res->body == "done");
    BOOST_TEST(res->attempts == 3);
    BOOST_TEST(seen.size() == 3u);
    BOOST_TEST_REQUIRE(attempts.size() == 3u);
    BOOST_TEST(attempts[0].status == 503);
    BOOST_TEST(attempts[0].attempt == 1);
    BOOST_TEST(attempts[1].attempt == 2);
    BOOST_TEST(attempts[2].status == 200);
    BOOST_TEST(attempts[2].backoff.count() == 0);
    // full jitter: each wait within [0, min(max_backoff, initial * 2^(n-1))]
    BOOST_TEST(attempts[0].backoff.count() <= 1);
    BOOST_TEST(attempts[1].backoff.count() <= 2);
}

BOOST_FIXTURE_TEST_CASE(exhausted_attempts_give_http_status_error, fixture)
{
    start();
    script = [](const net::server_request&, int) { return status(502, "upstream down"); };
    auto s = settings();
    s.max_attempts = 3;
    auto c = client(s);
    auto res = send(*c, get("/items"));
    BOOST_TEST_REQUIRE(res.has_error());
    BOOST_TEST(res.error().code == errc::http_status);
    BOOST_TEST(res.error().http_status == 502);
    BOOST_TEST(res.error().message.find("GET") != std::string::npos);
    BOOST_TEST(res.error().message.find("/items") != std::string::npos);
    BOOST_TEST(res.error().message.find("3 attempts") != std::string::npos);
    BOOST_TEST(res.error().message.find("upstream down") != std::string::npos);
    BOOST_TEST(seen.size() == 3u);
}

BOOST_FIXTURE_TEST_CASE(retry_after_is_the_minimum_wait_capped_by_max_backoff, fixture)
{
    start();
    script = [](const net::server_request&, int n) {
        if (n == 1) {
            auto r = status(429, "slow down");
            r.headers.set("Retry-After", "1");
            return r;
        }
        if (n == 2) {
            auto r = status(503);
            r.headers.set("Retry-After", http_date(std::time(nullptr) + 3600));
            return r;
        }
        if (n == 3) {
            auto r = status(503);
            r.headers.set("RateLimit-Reset", "7");
            return r;
        }
        return status(200, "fine");
    };
    auto s = settings();
    s.initial_backoff = 1ms;
    s.max_backoff = 40ms;
    auto c = client(s);
    auto t0 = std::chrono::steady_clock::now();
    auto res = send(*c, get("/limited"));
    auto elapsed = ms_since(t0);
    BOOST_TEST_REQUIRE(res.has_value(), (res ? "" : res.error().what()));
    BOOST_TEST(res->attempts == 4);
    BOOST_TEST_REQUIRE(attempts.size() == 4u);
    // Retry-After: 1 s, an HTTP-date an hour ahead and RateLimit-Reset: 7 s all exceed
    // max_backoff, so each wait is exactly max_backoff.
    BOOST_TEST(attempts[0].backoff.count() == 40);
    BOOST_TEST(attempts[1].backoff.count() == 40);
    BOOST_TEST(attempts[2].backoff.count() == 40);
    BOOST_TEST(elapsed >= 120);
    BOOST_TEST(elapsed < 900);
}

BOOST_FIXTURE_TEST_CASE(wait_past_the_deadline_is_not_taken, fixture)
{
    start();
    script = [](const net::server_request&, int) {
        auto r = status(429);
        r.headers.set("Retry-After", "30");
        return r;
    };
    auto s = settings();
    s.max_backoff = 60s;
    auto c = client(s);
    auto t0 = std::chrono::steady_clock::now();
    auto res = test::run_coro(ioc, c->send(get("/limited"), std::chrono::steady_clock::now() + 2s));
    BOOST_TEST(ms_since(t0) < 1500);
    BOOST_TEST_REQUIRE(res.has_error());
    BOOST_TEST(res.error().code == errc::rate_limited);
    BOOST_TEST(res.error().http_status == 429);
    BOOST_TEST(res.error().message.find("deadline") != std::string::npos);
    BOOST_TEST(seen.size() == 1u);
}

BOOST_FIXTURE_TEST_CASE(exhausted_429_is_rate_limited, fixture)
{
    start();
    script = [](const net::server_request&, int) { return status(429, "quota"); };
    auto s = settings();
    s.max_attempts = 2;
    auto c = client(s);
    auto res = send(*c, get("/q"));
    BOOST_TEST_REQUIRE(res.has_error());
    BOOST_TEST(res.error().code == errc::rate_limited);
    BOOST_TEST(res.error().http_status == 429);
    BOOST_TEST(seen.size() == 2u);
}

BOOST_FIXTURE_TEST_CASE(post_without_idempotency_key_is_not_retried, fixture)
{
    start();
    script = [](const net::server_request&, int) { return status(503, "busy"); };
    auto c = client(settings());
    net::http_request r;
    r.method = "POST";
    r.target = "/workflows";
    r.body = "{}";
    r.content_type = "application/json";
    auto res = send(*c, r);
    BOOST_TEST_REQUIRE(res.has_error());
    BOOST_TEST(res.error().code == errc::http_status);
    BOOST_TEST(res.error().http_status == 503);
    BOOST_TEST(seen.size() == 1u);
    BOOST_TEST(attempts.size() == 1u);
}

BOOST_FIXTURE_TEST_CASE(post_without_key_is_retried_when_the_server_did_not_process_it, fixture)
{
    // 429, and 503 with Retry-After, say the request was not processed: safe for any method.
    start();
    script = [](const net::server_request&, int n) {
        if (n == 1) {
            auto r = status(429, "slow down");
            r.headers.set("Retry-After", "0");
            return r;
        }
        if (n == 2) {
            auto r = status(503, "maintenance");
            r.headers.set("Retry-After", "0");
            return r;
        }
        return status(200, "{\"dockStatusId\":\"ds-1\"}");
    };
    auto c = client(settings());
    net::http_request r;
    r.method = "POST";
    r.target = "/api/public/workflows/a-1/import";
    r.body = "{}";
    r.content_type = "application/json";
    auto res = send(*c, r);
    BOOST_TEST_REQUIRE(res.has_value(), (res ? "" : res.error().what()));
    BOOST_TEST(res->status == 200);
    BOOST_TEST(res->attempts == 3);
    BOOST_TEST(seen.size() == 3u);
    BOOST_TEST_REQUIRE(attempts.size() == 3u);
    BOOST_TEST(attempts[0].status == 429);
    BOOST_TEST(attempts[1].status == 503);
}

BOOST_FIXTURE_TEST_CASE(repeatable_post_is_retried_like_a_get, fixture)
{
    // An export sent as POST only reads: a 502 or a reset is asked again.
    start();
    script = [](const net::server_request&, int n) {
        if (n == 1) return status(502, "bad gateway");
        if (n == 2) {
            auto r = status(200);
            r.fail = net::server_response::fault::close_before_response;
            return r;
        }
        return status(200, "file");
    };
    auto c = client(settings());
    net::http_request r;
    r.method = "POST";
    r.target = "/soc/workflows/export";
    r.body = "{\"id\":[\"w\"]}";
    r.content_type = "application/json";
    r.repeatable = true;
    auto res = send(*c, r);
    BOOST_TEST_REQUIRE(res.has_value(), (res ? "" : res.error().what()));
    BOOST_TEST(res->body == "file");
    BOOST_TEST(seen.size() == 3u);
    // The same request without the flag is sent once.
    seen.clear();
    attempts.clear();
    script = [](const net::server_request&, int) { return status(502, "bad gateway"); };
    r.repeatable = false;
    auto once = send(*c, r);
    BOOST_TEST_REQUIRE(once.has_error());
    BOOST_TEST(once.error().http_status == 502);
    BOOST_TEST(seen.size() == 1u);
}

BOOST_FIXTURE_TEST_CASE(post_with_idempotency_key_is_retried_with_the_same_key, fixture)
{
    start();
    script = [](const net::server_request&, int n) { return n < 3 ? status(500) : status(201, "created"); };
    auto c = client(settings());
    net::http_request r;
    r.method = "POST";
    r.target = "/workflows";
    r.body = "{}";
    r.content_type = "application/json";
    r.idempotency_key = "key-123";
    auto res = send(*c, r);
    BOOST_TEST_REQUIRE(res.has_value(), (res ? "" : res.error().what()));
    BOOST_TEST(res->status == 201);
    BOOST_TEST(res->attempts == 3);
    BOOST_TEST_REQUIRE(seen.size() == 3u);
    for (auto& q : seen) {
        BOOST_TEST_REQUIRE(q.headers.find("Idempotency-Key"));
        BOOST_TEST(*q.headers.find("Idempotency-Key") == "key-123");
        BOOST_TEST(q.body == "{}");
    }
}

BOOST_FIXTURE_TEST_CASE(connect_refused_is_transport_error_after_max_attempts, fixture)
{
    net::client_settings s;
    s.base_url = "http://127.0.0.1:" + std::to_string(free_port());
    s.max_attempts = 3;
    s.initial_backoff = 1ms;
    s.max_backoff = 5ms;
    s.default_headers.set("Authorization", "Bearer sekrit-token-abc");
    auto c = client(s);
    auto res = test::run_coro(ioc, c->send(get("/ping")));
    BOOST_TEST_REQUIRE(res.has_error());
    BOOST_TEST(res.error().code == errc::transport);
    auto m = res.error().message;
    BOOST_TEST(m.find("GET") != std::string::npos);
    BOOST_TEST(m.find("/ping") != std::string::npos);
    BOOST_TEST(m.find("127.0.0.1") != std::string::npos);
    BOOST_TEST(m.find("connect") != std::string::npos);
    BOOST_TEST(m.find("3 attempts") != std::string::npos);
    BOOST_TEST(m.find("sekrit") == std::string::npos);
    BOOST_TEST_REQUIRE(attempts.size() == 3u);
    for (auto& a : attempts) {
        BOOST_TEST(a.status == 0);
        BOOST_TEST(!a.error.empty());
        BOOST_TEST(a.error.find("sekrit") == std::string::npos);
    }
    BOOST_TEST(c->connections_opened() == 0u);
}

BOOST_FIXTURE_TEST_CASE(authorization_value_never_in_error_texts, fixture)
{
    start();
    script = [](const net::server_request&, int) { return status(503, "try later"); };
    auto s = settings();
    s.max_attempts = 2;
    s.default_headers.set("Authorization", "Bearer sekrit-token-abc");
    auto c = client(s);
    net::http_request r = get("/secure");
    r.headers.set("X-Api-Key", "other-sekrit-value");
    auto res = send(*c, r);
    BOOST_TEST_REQUIRE(res.has_error());
    BOOST_TEST(res.error().what().find("sekrit") == std::string::npos);
    for (auto& a : attempts) BOOST_TEST(a.error.find("sekrit") == std::string::npos);
    // the header did reach the server
    BOOST_TEST_REQUIRE(seen.size() == 2u);
    BOOST_TEST(*seen[0].headers.find("Authorization") == "Bearer sekrit-token-abc");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(connections)

BOOST_FIXTURE_TEST_CASE(keep_alive_reuses_one_connection, fixture)
{
    start();
    auto c = client(settings());
    for (int i = 0; i < 5; ++i) {
        auto res = send(*c, get("/n/" + std::to_string(i)));
        BOOST_TEST_REQUIRE(res.has_value(), (res ? "" : res.error().what()));
        BOOST_TEST(res->status == 200);
    }
    BOOST_TEST(seen.size() == 5u);
    BOOST_TEST(c->connections_opened() == 1u);
    BOOST_TEST(server->connections_accepted() == 1u);
    BOOST_TEST(seen[4].connection_id == seen[0].connection_id);
}

BOOST_FIXTURE_TEST_CASE(close_drops_idle_connections, fixture)
{
    start();
    auto c = client(settings());
    BOOST_TEST_REQUIRE(send(*c, get("/a")).has_value());
    c->close();
    BOOST_TEST_REQUIRE(send(*c, get("/b")).has_value());
    BOOST_TEST(c->connections_opened() == 2u);
}

BOOST_FIXTURE_TEST_CASE(server_closing_a_kept_alive_connection_is_recovered, fixture)
{
    start();
    // Request 2 arrives on the kept-alive connection and is dropped unanswered, as a server
    // closing an idle connection would: the GET is replayed on a new connection and that
    // does not count as an attempt.
    script = [](const net::server_request&, int n) {
        auto r = status(200, "r" + std::to_string(n));
        if (n == 2) r.fail = net::server_response::fault::close_before_response;
        return r;
    };
    auto c = client(settings());
    auto first = send(*c, get("/a"));
    BOOST_TEST_REQUIRE(first.has_value());
    auto second = send(*c, get("/b"));
    BOOST_TEST_REQUIRE(second.has_value(), (second ? "" : second.error().what()));
    BOOST_TEST(second->body == "r3");
    BOOST_TEST(second->attempts == 1);
    BOOST_TEST(c->connections_opened() == 2u);
    BOOST_TEST(server->connections_accepted() == 2u);
    BOOST_TEST(seen.size() == 3u);
}

BOOST_FIXTURE_TEST_CASE(post_without_key_on_a_dropped_connection_is_not_replayed, fixture)
{
    start();
    script = [](const net::server_request&, int n) {
        auto r = status(200);
        if (n == 2) r.fail = net::server_response::fault::close_before_response;
        return r;
    };
    auto c = client(settings());
    BOOST_TEST_REQUIRE(send(*c, get("/a")).has_value());
    net::http_request r;
    r.method = "POST";
    r.target = "/create";
    r.body = "x";
    r.content_type = "text/plain";
    auto res = send(*c, r);
    BOOST_TEST_REQUIRE(res.has_error());
    BOOST_TEST(res.error().code == errc::transport);
    BOOST_TEST(res.error().message.find("POST") != std::string::npos);
    BOOST_TEST(res.error().message.find("/create") != std::string::npos);
    BOOST_TEST(seen.size() == 2u);
}

BOOST_FIXTURE_TEST_CASE(idle_connection_closed_by_the_server_is_not_reused, fixture)
{
    // A bare server that answers each connection once with a keep-alive response and then
    // closes it, as servers do with idle connections.
    asio::ip::tcp::acceptor acceptor(ioc, {asio::ip::make_address("127.0.0.1"), 0});
    int accepted = 0;
    asio::co_spawn(
        ioc,
        [&]() -> awaitable<void> {
            for (;;) {
                auto sock = co_await acceptor.async_accept(asio::use_awaitable);
                ++accepted;
                std::string buf;
                auto dyn = asio::dynamic_buffer(buf);
                co_await asio::async_read_until(sock, dyn, "\r\n\r\n", asio::use_awaitable);
                std::string res = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
                co_await asio::async_write(sock, asio::buffer(res), asio::use_awaitable);
                sock.close();
            }
        },
        [](std::exception_ptr) {});
    net::client_settings s;
    s.base_url = "http://127.0.0.1:" + std::to_string(acceptor.local_endpoint().port());
    s.initial_backoff = 1ms;
    s.max_backoff = 5ms;
    s.rate_per_second = 0;
    auto c = client(s);
    BOOST_TEST_REQUIRE(send(*c, get("/a")).has_value());
    // let the server's close run (bounded: it is one ready handler)
    for (int i = 0; i < 100 && ioc.poll() > 0; ++i) {
    }
    // A POST without a key is never replayed, so this succeeds only because the pool
    // noticed the closed connection before using it.
    net::http_request r;
    r.method = "POST";
    r.target = "/after-close";
    r.body = "x";
    r.content_type = "text/plain";
    auto res = send(*c, r);
    BOOST_TEST_REQUIRE(res.has_value(), (res ? "" : res.error().what()));
    BOOST_TEST(res->status == 200);
    BOOST_TEST(res->attempts == 1);
    BOOST_TEST(c->connections_opened() == 2u);
    BOOST_TEST(accepted == 2);
    acceptor.close();
}

BOOST_FIXTURE_TEST_CASE(absolute_url_uses_its_own_pool_without_default_headers, fixture)
{
    start();
    std::vector<net::server_request> seen2;
    net::http_server second(ioc.get_executor(), {}, [&](net::server_request q) -> awaitable<net::server_response> {
        seen2.push_back(q);
        co_return status(200, "file");
    });
    BOOST_TEST_REQUIRE(second.start().has_value());

    auto s = settings();
    s.default_headers.set("Authorization", "Bearer tenant-token");
    auto c = client(s);
    BOOST_TEST_REQUIRE(send(*c, get("/a")).has_value());
    net::http_request dl;
    dl.absolute_url = second.base_url() + "/files/1?sig=abc";
    auto res = send(*c, dl);
    BOOST_TEST_REQUIRE(res.has_value(), (res ? "" : res.error().what()));
    BOOST_TEST(res->body == "file");
    BOOST_TEST_REQUIRE(send(*c, get("/b")).has_value());
    BOOST_TEST_REQUIRE(seen2.size() == 1u);
    BOOST_TEST(seen2[0].target == "/files/1?sig=abc");
    BOOST_TEST(seen2[0].headers.find("Authorization") == nullptr);
    BOOST_TEST(c->connections_opened() == 2u);
    BOOST_TEST(server->connections_accepted() == 1u);
    second.stop();
}

BOOST_FIXTURE_TEST_CASE(connect_timeout_names_the_host, fixture)
{
    // A listener that never accepts, with its accept queue full: Linux drops further SYNs,
    // so a connect hangs until the client's connect_timeout.
    asio::ip::tcp::acceptor acceptor(ioc);
    asio::ip::tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 0);
    acceptor.open(ep.protocol());
    acceptor.bind(ep);
    acceptor.listen(0);
    ep = acceptor.local_endpoint();
    std::vector<std::unique_ptr<asio::ip::tcp::socket>> fillers;
    for (int i = 0; i < 3; ++i) {
        fillers.push_back(std::make_unique<asio::ip::tcp::socket>(ioc));
        fillers.back()->async_connect(ep, [](boost::system::error_code) {});
    }
    for (int i = 0; i < 20 && ioc.poll() > 0; ++i) {
    }

    net::client_settings s;
    s.base_url = "http://127.0.0.1:" + std::to_string(ep.port());
    s.connect_timeout = 100ms;
    s.max_attempts = 2;
    s.initial_backoff = 1ms;
    s.max_backoff = 2ms;
    auto c = client(s);
    auto t0 = std::chrono::steady_clock::now();
    auto res = send(*c, get("/hang"));
    auto elapsed = ms_since(t0);
    BOOST_TEST_REQUIRE(res.has_error());
    BOOST_TEST_MESSAGE(res.error().message);
    BOOST_TEST(res.error().code == errc::timeout);
    BOOST_TEST(res.error().message.find("GET") != std::string::npos);
    BOOST_TEST(res.error().message.find("/hang") != std::string::npos);
    BOOST_TEST(res.error().message.find("connect to 127.0.0.1:" + std::to_string(ep.port()) + " timed out") !=
               std::string::npos);
    BOOST_TEST(attempts.size() == 2u);
    BOOST_TEST(elapsed >= 200);
    BOOST_TEST(elapsed < 2000);
}

BOOST_FIXTURE_TEST_CASE(absolute_url_query_is_kept_out_of_error_texts, fixture)
{
    start();
    script = [](const net::server_request&, int) { return status(503); };
    auto s = settings();
    s.max_attempts = 2;
    auto c = client(s);
    net::http_request dl;
    dl.absolute_url = server->base_url() + "/bucket/file.zip?X-Amz-Signature=deadbeefsig";
    auto res = send(*c, dl);
    BOOST_TEST_REQUIRE(res.has_error());
    BOOST_TEST(res.error().message.find("/bucket/file.zip?...") != std::string::npos, res.error().message);
    BOOST_TEST(res.error().message.find("deadbeefsig") == std::string::npos);
    BOOST_TEST_REQUIRE(attempts.size() == 2u);
    BOOST_TEST(attempts[0].target == "/bucket/file.zip?...");
    BOOST_TEST_REQUIRE(seen.size() == 2u);
    BOOST_TEST(seen[0].target == "/bucket/file.zip?X-Amz-Signature=deadbeefsig");
}

BOOST_FIXTURE_TEST_CASE(request_timeout_names_method_and_target, fixture)
{
    start();
    handler_delay = 3s;
    auto s = settings();
    s.request_timeout = 100ms;
    s.max_attempts = 2;
    auto c = client(s);
    auto t0 = std::chrono::steady_clock::now();
    auto res = send(*c, get("/slow"));
    auto elapsed = ms_since(t0);
    BOOST_TEST_REQUIRE(res.has_error());
    BOOST_TEST(res.error().code == errc::timeout);
    BOOST_TEST(res.error().message.find("GET") != std::string::npos);
    BOOST_TEST(res.error().message.find("/slow") != std::string::npos);
    BOOST_TEST(res.error().message.find("timed out") != std::string::npos);
    BOOST_TEST(attempts.size() == 2u);
    BOOST_TEST(elapsed >= 200);
    BOOST_TEST(elapsed < 2000);
}

BOOST_FIXTURE_TEST_CASE(overall_deadline_cuts_an_attempt_short, fixture)
{
    start();
    handler_delay = 3s;
    auto s = settings();
    s.request_timeout = 10s;
    auto c = client(s);
    auto t0 = std::chrono::steady_clock::now();
    auto res = test::run_coro(ioc, c->send(get("/slow"), std::chrono::steady_clock::now() + 150ms));
    BOOST_TEST_REQUIRE(res.has_error());
    BOOST_TEST(res.error().code == errc::timeout);
    BOOST_TEST(ms_since(t0) < 2000);
    BOOST_TEST(seen.size() == 1u);
}

BOOST_FIXTURE_TEST_CASE(concurrency_cap_limits_requests_in_flight, fixture)
{
    start();
    handler_delay = 30ms;
    auto s = settings();
    s.concurrency = 2;
    auto c = client(s);
    int done = 0, ok = 0;
    for (int i = 0; i < 6; ++i)
        asio::co_spawn(
            ioc,
            [&, i]() -> awaitable<void> {
                auto r = co_await c->send(get("/p/" + std::to_string(i)));
                ++done;
                if (r && r->status == 200) ++ok;
            },
            asio::detached);
    ioc.restart();
    auto until = std::chrono::steady_clock::now() + 10s;
    while (done < 6 && std::chrono::steady_clock::now() < until) ioc.run_one_until(until);
    BOOST_TEST(done == 6);
    BOOST_TEST(ok == 6);
    BOOST_TEST(seen.size() == 6u);
    BOOST_TEST(max_in_flight == 2);
    BOOST_TEST(c->connections_opened() <= 2u);
    // FIFO: requests start in the order they were sent
    for (int i = 0; i < 6; ++i) BOOST_TEST(seen[i].target == "/p/" + std::to_string(i));
}

BOOST_FIXTURE_TEST_CASE(cancelled_request_releases_its_slot, fixture)
{
    using namespace asio::experimental::awaitable_operators;
    start();
    handler_delay = 200ms;
    auto s = settings();
    s.concurrency = 1;
    auto c = client(s);
    // The first request is cancelled by a 20 ms timer while the server still works on it;
    // the second, queued behind it, then gets the only slot.
    auto racer = [&]() -> awaitable<int> {
        asio::steady_timer t(ioc, 20ms);
        auto r = co_await (c->send(get("/cancel-me")) || t.async_wait(asio::use_awaitable));
        co_return static_cast<int>(r.index());
    };
    BOOST_TEST(test::run_coro(ioc, racer()) == 1);
    handler_delay = 0ms;
    auto res = send(*c, get("/next"));
    BOOST_TEST_REQUIRE(res.has_value(), (res ? "" : res.error().what()));
    BOOST_TEST(res->status == 200);
    BOOST_TEST(c->connections_opened() == 2u);  // the cancelled connection was not reused
}

BOOST_FIXTURE_TEST_CASE(rate_limit_spaces_requests, fixture)
{
    start();
    auto s = settings();
    s.rate_per_second = 50;  // one token per 20 ms
    s.rate_burst = 1;
    auto c = client(s);
    auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < 4; ++i) BOOST_TEST_REQUIRE(send(*c, get("/r")).has_value());
    // the first goes at once, the next three wait ~20 ms each
    BOOST_TEST(ms_since(t0) >= 55);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(bodies)

BOOST_FIXTURE_TEST_CASE(gzip_response_is_inflated, fixture)
{
    start();
    std::string big(10000, 'z');
    script = [&](const net::server_request&, int) {
        auto r = status(200, big);
        r.gzip = true;
        return r;
    };
    auto c = client(settings());
    auto res = send(*c, get("/big"));
    BOOST_TEST_REQUIRE(res.has_value(), (res ? "" : res.error().what()));
    BOOST_TEST(res->body == big);
    BOOST_TEST_REQUIRE(res->headers.find("Content-Encoding"));
    BOOST_TEST(*res->headers.find("Content-Encoding") == "gzip");
}

BOOST_FIXTURE_TEST_CASE(inflated_body_over_the_cap_is_body_too_large, fixture)
{
    start();
    script = [](const net::server_request&, int) {
        auto r = status(200, std::string(100000, 'a'));  // compresses to well under 1000 bytes
        r.gzip = true;
        return r;
    };
    auto s = settings();
    s.max_body = 1000;
    auto c = client(s);
    auto res = send(*c, get("/bomb"));
    BOOST_TEST_REQUIRE(res.has_error());
    BOOST_TEST(res.error().code == errc::body_too_large);
    BOOST_TEST(res.error().message.find("/bomb") != std::string::npos);
    BOOST_TEST(seen.size() == 1u);
}

BOOST_FIXTURE_TEST_CASE(raw_body_over_the_cap_is_body_too_large, fixture)
{
    start();
    script = [](const net::server_request&, int) { return status(200, std::string(5000, 'b')); };
    auto s = settings();
    s.max_body = 1000;
    auto c = client(s);
    auto res = send(*c, get("/huge"));
    BOOST_TEST_REQUIRE(res.has_error());
    BOOST_TEST(res.error().code == errc::body_too_large);
    BOOST_TEST(seen.size() == 1u);
}

BOOST_FIXTURE_TEST_CASE(gzip_request_body_arrives_inflated, fixture)
{
    start();
    auto c = client(settings());
    net::http_request r;
    r.method = "PUT";
    r.target = "/upload";
    r.body = std::string(5000, 'q') + "end";
    r.content_type = "application/json";
    r.gzip_body = true;
    auto res = send(*c, r);
    BOOST_TEST_REQUIRE(res.has_value(), (res ? "" : res.error().what()));
    BOOST_TEST_REQUIRE(seen.size() == 1u);
    BOOST_TEST(seen[0].body == r.body);
    BOOST_TEST_REQUIRE(seen[0].headers.find("Content-Encoding"));
    BOOST_TEST(*seen[0].headers.find("Content-Encoding") == "gzip");
    BOOST_TEST_REQUIRE(seen[0].headers.find("Content-Length"));
    BOOST_TEST(std::stoul(*seen[0].headers.find("Content-Length")) < 200u);
}

BOOST_FIXTURE_TEST_CASE(deflate_response_is_inflated, fixture)
{
    start();
    std::string text(3000, 'd');
    script = [&](const net::server_request&, int) {
        auto r = status(200, zlib_compress(text));
        r.headers.set("Content-Encoding", "deflate");
        return r;
    };
    auto c = client(settings());
    auto res = send(*c, get("/deflated"));
    BOOST_TEST_REQUIRE(res.has_value(), (res ? "" : res.error().what()));
    BOOST_TEST(res->body == text);
}

BOOST_FIXTURE_TEST_CASE(corrupt_gzip_is_a_bad_response, fixture)
{
    start();
    script = [](const net::server_request&, int) {
        auto r = status(200, "this is not gzip at all");
        r.headers.set("Content-Encoding", "gzip");
        return r;
    };
    auto c = client(settings());
    auto res = send(*c, get("/garbled"));
    BOOST_TEST_REQUIRE(res.has_error());
    BOOST_TEST(res.error().code == errc::bad_response);
    BOOST_TEST(res.error().message.find("/garbled") != std::string::npos);
    BOOST_TEST(res.error().message.find("cannot be inflated") != std::string::npos);
    BOOST_TEST(seen.size() == 1u);
}

BOOST_FIXTURE_TEST_CASE(truncated_body_is_retried_for_get, fixture)
{
    start();
    script = [](const net::server_request&, int n) {
        auto r = status(200, std::string(2000, 'x'));
        if (n == 1) r.fail = net::server_response::fault::truncate_body;
        return r;
    };
    auto c = client(settings());
    auto res = send(*c, get("/t"));
    BOOST_TEST_REQUIRE(res.has_value(), (res ? "" : res.error().what()));
    BOOST_TEST(res->body.size() == 2000u);
    BOOST_TEST(res->attempts == 2);
    BOOST_TEST_REQUIRE(attempts.size() == 2u);
    BOOST_TEST(attempts[0].status == 0);
    BOOST_TEST(attempts[0].error.find("transport") == 0u, attempts[0].error);
}

BOOST_FIXTURE_TEST_CASE(head_response_has_no_body_and_keeps_the_connection, fixture)
{
    start();
    script = [](const net::server_request&, int) { return status(200, "0123456789"); };
    auto c = client(settings());
    net::http_request r = get("/h");
    r.method = "HEAD";
    auto res = send(*c, r);
    BOOST_TEST_REQUIRE(res.has_value(), (res ? "" : res.error().what()));
    BOOST_TEST(res->status == 200);
    BOOST_TEST(res->body.empty());
    auto again = send(*c, get("/h"));
    BOOST_TEST_REQUIRE(again.has_value(), (again ? "" : again.error().what()));
    BOOST_TEST(again->body == "0123456789");
    BOOST_TEST(c->connections_opened() == 1u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(tls)

struct tls_fixture : fixture {
    test::temp_dir dir;
    test::test_certs certs = test::make_test_certs(dir.path().string());

    void start_tls(bool trusted)
    {
        net::server_settings s;
        s.cert_file = trusted ? certs.cert_file : certs.untrusted_cert_file;
        s.key_file = trusted ? certs.key_file : certs.untrusted_key_file;
        start(s);
    }
};

BOOST_FIXTURE_TEST_CASE(https_with_the_test_ca_works, tls_fixture)
{
    start_tls(true);
    BOOST_TEST(server->base_url().rfind("https://", 0) == 0u);
    auto s = settings();
    s.ca_file = certs.ca_file;
    auto c = client(s);
    for (int i = 0; i < 3; ++i) {
        auto res = send(*c, get("/tls"));
        BOOST_TEST_REQUIRE(res.has_value(), (res ? "" : res.error().what()));
        BOOST_TEST(res->status == 200);
        BOOST_TEST(res->body == "ok");
    }
    BOOST_TEST(c->connections_opened() == 1u);
}

BOOST_FIXTURE_TEST_CASE(untrusted_certificate_is_refused_clearly, tls_fixture)
{
    start_tls(false);
    auto s = settings();
    s.ca_file = certs.ca_file;
    auto c = client(s);
    auto res = send(*c, get("/tls"));
    BOOST_TEST_REQUIRE(res.has_error());
    BOOST_TEST(res.error().code == errc::tls);
    BOOST_TEST(!is_retryable(res.error()));
    auto expected = "TLS handshake with 127.0.0.1:" + std::to_string(server->port()) +
                    " failed: certificate verify failed";
    BOOST_TEST_MESSAGE(res.error().message);
    BOOST_TEST(res.error().message.find(expected) != std::string::npos, res.error().message);
    // a rejected certificate is not retried
    BOOST_TEST(attempts.size() == 1u);
    BOOST_TEST(seen.empty());
}

BOOST_FIXTURE_TEST_CASE(without_ca_file_the_test_ca_is_not_trusted, tls_fixture)
{
    start_tls(true);
    auto c = client(settings());
    auto res = send(*c, get("/tls"));
    BOOST_TEST_REQUIRE(res.has_error());
    BOOST_TEST(res.error().message.find("certificate verify failed") != std::string::npos, res.error().message);
}

BOOST_FIXTURE_TEST_CASE(certificate_for_another_address_is_refused, tls_fixture)
{
    // The server certificate names 127.0.0.1 and localhost; 127.0.0.2 is loopback too.
    net::server_settings ss;
    ss.listen = "127.0.0.2:0";
    ss.cert_file = certs.cert_file;
    ss.key_file = certs.key_file;
    start(ss);
    auto s = settings();
    s.ca_file = certs.ca_file;
    auto c = client(s);
    auto res = send(*c, get("/tls"));
    BOOST_TEST_REQUIRE(res.has_error());
    BOOST_TEST_MESSAGE(res.error().message);
    BOOST_TEST(res.error().code == errc::tls);
    BOOST_TEST(res.error().message.find("TLS handshake with 127.0.0.2:") != std::string::npos);
    BOOST_TEST(res.error().message.find("IP address mismatch") != std::string::npos, res.error().message);
    BOOST_TEST(attempts.size() == 1u);
}

BOOST_FIXTURE_TEST_CASE(host_name_is_verified_with_sni, tls_fixture)
{
    start_tls(true);
    auto s = settings();
    s.base_url = "https://localhost:" + std::to_string(server->port());
    s.ca_file = certs.ca_file;
    auto c = client(s);
    auto res = send(*c, get("/named"));
    BOOST_TEST_REQUIRE(res.has_value(), (res ? "" : res.error().what()));
    BOOST_TEST(res->status == 200);
    BOOST_TEST_REQUIRE(seen.size() == 1u);
    BOOST_TEST(*seen[0].headers.find("Host") == "localhost:" + std::to_string(server->port()));
}

BOOST_FIXTURE_TEST_CASE(verify_tls_false_accepts_an_untrusted_certificate, tls_fixture)
{
    start_tls(false);
    auto s = settings();
    s.verify_tls = false;
    auto c = client(s);
    auto res = send(*c, get("/tls"));
    BOOST_TEST_REQUIRE(res.has_value(), (res ? "" : res.error().what()));
    BOOST_TEST(res->status == 200);
}

BOOST_AUTO_TEST_SUITE_END()
