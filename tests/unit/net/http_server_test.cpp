// SPDX-License-Identifier: Apache-2.0
#define BOOST_TEST_MODULE wfsync_http_server
#include <boost/test/unit_test.hpp>

#include <wfsync/core/zlib.hpp>
#include <wfsync/net/http_server.hpp>

#include <support/run_coro.hpp>
#include <support/temp_dir.hpp>
#include <support/test_certs.hpp>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <future>
#include <optional>
#include <thread>

using namespace wfsync;
using namespace std::chrono_literals;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = boost::asio::ip::tcp;
using boost::system::error_code;
using net::server_request;
using net::server_response;

namespace {

/// Runs the server on its own io thread; the test thread plays the client with blocking calls.
struct server_fixture {
    asio::io_context ioc;
    asio::executor_work_guard<asio::io_context::executor_type> guard = asio::make_work_guard(ioc);
    std::unique_ptr<net::http_server> server;
    std::thread thread;
    std::vector<server_request> seen;  // touched on the io thread only; read via on_io

    result<void> start(net::server_settings settings, net::request_handler handler)
    {
        server = std::make_unique<net::http_server>(ioc.get_executor(), std::move(settings), std::move(handler));
        auto r = server->start();
        if (r) thread = std::thread([this] { ioc.run(); });
        return r;
    }

    /// Runs `f` on the io thread and waits for its value.
    template <class F>
    auto on_io(F f) -> decltype(f())
    {
        std::packaged_task<decltype(f())()> task(std::move(f));
        auto fut = task.get_future();
        asio::post(ioc, [&task] { task(); });
        return fut.get();
    }

    std::uint64_t accepted()
    {
        return on_io([this] { return server->connections_accepted(); });
    }

    std::vector<server_request> requests()
    {
        return on_io([this] { return seen; });
    }

    /// A handler that records each request and answers with what `answer` builds.
    net::request_handler recording(std::function<server_response(const server_request&)> answer)
    {
        return [this, answer](server_request r) -> awaitable<server_response> {
            seen.push_back(r);
            co_return answer(seen.back());
        };
    }

    ~server_fixture()
    {
        if (thread.joinable()) {
            on_io([this] {
                server->stop();
                return 0;
            });
            guard.reset();
            thread.join();
        }
    }
};

/// A blocking client built from async calls run with a time limit, so a broken server fails
/// the test instead of hanging it.
struct client {
    asio::io_context ioc;
    beast::tcp_stream stream{ioc};
    beast::flat_buffer buffer;

    explicit client(std::uint16_t port)
    {
        error_code ec;
        stream.expires_after(10s);
        stream.async_connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port),
                             [&](error_code e) { ec = e; });
        run();
        BOOST_REQUIRE_MESSAGE(!ec, "connect: " << ec.message());
    }

    void run()
    {
        ioc.restart();
        ioc.run();
    }

    error_code send_raw(const std::string& bytes)
    {
        error_code ec;
        stream.expires_after(10s);
        asio::async_write(stream, asio::buffer(bytes), [&](error_code e, std::size_t) { ec = e; });
        run();
        return ec;
    }

    error_code send(http::request<http::string_body>& req)
    {
        error_code ec;
        req.prepare_payload();
        stream.expires_after(10s);
        http::async_write(stream, req, [&](error_code e, std::size_t) { ec = e; });
        run();
        return ec;
    }

    /// Reads one response; the error says how reading ended.
    std::pair<error_code, http::response<http::string_body>> read()
    {
        http::response_parser<http::string_body> parser;
        parser.body_limit(64u << 20);
        error_code ec;
        stream.expires_after(10s);
        http::async_read(stream, buffer, parser, [&](error_code e, std::size_t) { ec = e; });
        run();
        return {ec, parser.release()};
    }

    /// Everything the server sends until it closes, and how it closed.
    std::pair<error_code, std::string> read_all()
    {
        std::string data(static_cast<const char*>(buffer.data().data()), buffer.size());
        buffer.consume(buffer.size());
        error_code ec;
        char chunk[4096];
        std::function<void()> next = [&] {
            stream.async_read_some(asio::buffer(chunk), [&](error_code e, std::size_t n) {
                data.append(chunk, n);
                if (e) {
                    ec = e;
                    return;
                }
                next();
            });
        };
        stream.expires_after(10s);
        next();
        run();
        return {ec, data};
    }

    http::response<http::string_body> request(http::request<http::string_body> req)
    {
        BOOST_REQUIRE(!send(req));
        auto [ec, res] = read();
        BOOST_REQUIRE_MESSAGE(!ec, "read response: " << ec.message());
        return res;
    }
};

http::request<http::string_body> make_request(http::verb verb, std::string target, std::string body = {})
{
    http::request<http::string_body> req{verb, target, 11};
    req.set(http::field::host, "127.0.0.1");
    req.body() = std::move(body);
    return req;
}

net::server_settings local()
{
    return net::server_settings{};
}

server_response text(std::string body, int status = 200)
{
    server_response r;
    r.status = status;
    r.body = std::move(body);
    return r;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(http_basics)

BOOST_AUTO_TEST_CASE(header_list_is_case_insensitive)
{
    net::header_list h;
    h.add("X-One", "1");
    h.add("x-one", "2");
    h.add("Other", "o");
    BOOST_TEST(*h.find("X-ONE") == "1");
    h.set("X-ONE", "3");
    BOOST_TEST(h.fields.size() == 2u);
    BOOST_TEST(*h.find("x-one") == "3");
    BOOST_TEST(h.find("missing") == nullptr);
    h.set("New", "n");
    BOOST_TEST(*h.find("new") == "n");
}

BOOST_AUTO_TEST_CASE(url_encode_keeps_unreserved_only)
{
    BOOST_TEST(net::url_encode("aZ09-._~") == "aZ09-._~");
    BOOST_TEST(net::url_encode("a b/c?d=e&f") == "a%20b%2Fc%3Fd%3De%26f");
    BOOST_TEST(net::url_encode("\xC3\xA9") == "%C3%A9");
    BOOST_TEST(net::url_encode("") == "");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(http_server)

BOOST_AUTO_TEST_CASE(get_and_post_round_trip)
{
    server_fixture f;
    BOOST_REQUIRE(f.start(local(), f.recording([](const server_request& r) {
                      auto res = text("echo:" + r.body, r.method == "POST" ? 201 : 200);
                      res.headers.add("X-Reply", "yes");
                      return res;
                  })));
    BOOST_TEST(f.server->port() != 0);
    BOOST_TEST(f.server->base_url() == "http://127.0.0.1:" + std::to_string(f.server->port()));

    client c(f.server->port());
    auto get = make_request(http::verb::get, "/v1/items?id=7");
    get.set("X-Test", "hi");
    auto res = c.request(get);
    BOOST_TEST(res.result_int() == 200);
    BOOST_TEST(res.body() == "echo:");

    auto post = make_request(http::verb::post, "/a%20b/c?x=1&y=%20", "hello");
    post.set(http::field::content_type, "text/plain");
    res = c.request(post);
    BOOST_TEST(res.result_int() == 201);
    BOOST_TEST(res["X-Reply"] == "yes");
    BOOST_TEST(res[http::field::content_type] == "application/json");
    BOOST_TEST(res.body() == "echo:hello");

    auto seen = f.requests();
    BOOST_REQUIRE(seen.size() == 2u);
    BOOST_TEST(seen[0].method == "GET");
    BOOST_TEST(seen[0].path == "/v1/items");
    BOOST_TEST(seen[0].query == "id=7");
    BOOST_REQUIRE(seen[0].headers.find("x-test"));
    BOOST_TEST(*seen[0].headers.find("x-test") == "hi");
    BOOST_TEST(seen[1].method == "POST");
    BOOST_TEST(seen[1].target == "/a%20b/c?x=1&y=%20");
    BOOST_TEST(seen[1].path == "/a b/c");
    BOOST_TEST(seen[1].query == "x=1&y=%20");
    BOOST_TEST(seen[1].body == "hello");
    BOOST_TEST(*seen[1].headers.find("CONTENT-TYPE") == "text/plain");
    BOOST_TEST(seen[1].remote.rfind("127.0.0.1:", 0) == 0u);
    BOOST_TEST(seen[1].connection_id != 0u);
}

BOOST_AUTO_TEST_CASE(keep_alive_serves_two_requests_on_one_connection)
{
    server_fixture f;
    BOOST_REQUIRE(f.start(local(), f.recording([](const server_request& r) { return text(r.path); })));
    client c(f.server->port());
    BOOST_TEST(c.request(make_request(http::verb::get, "/one")).body() == "/one");
    BOOST_TEST(c.request(make_request(http::verb::get, "/two")).body() == "/two");
    BOOST_TEST(f.accepted() == 1u);
    auto seen = f.requests();
    BOOST_REQUIRE(seen.size() == 2u);
    BOOST_TEST(seen[0].connection_id == seen[1].connection_id);

    client other(f.server->port());
    BOOST_TEST(other.request(make_request(http::verb::get, "/three")).body() == "/three");
    BOOST_TEST(f.accepted() == 2u);
    BOOST_TEST(f.requests()[2].connection_id != seen[0].connection_id);
}

BOOST_AUTO_TEST_CASE(pipelined_requests_are_answered_in_order)
{
    server_fixture f;
    BOOST_REQUIRE(f.start(local(), f.recording([](const server_request& r) { return text(r.path + ":" + r.body); })));
    client c(f.server->port());
    BOOST_REQUIRE(!c.send_raw("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\none"
                              "GET /b HTTP/1.1\r\nHost: x\r\n\r\n"));
    auto [ec1, r1] = c.read();
    auto [ec2, r2] = c.read();
    BOOST_REQUIRE(!ec1);
    BOOST_REQUIRE(!ec2);
    BOOST_TEST(r1.body() == "/a:one");
    BOOST_TEST(r2.body() == "/b:");
    BOOST_TEST(f.accepted() == 1u);
}

BOOST_AUTO_TEST_CASE(bodiless_statuses_and_head_send_no_body)
{
    server_fixture f;
    BOOST_REQUIRE(f.start(local(), f.recording([](const server_request& r) {
                      return text("ignored body", r.path == "/none" ? 204 : 200);
                  })));
    client c(f.server->port());
    auto res = c.request(make_request(http::verb::delete_, "/none"));
    BOOST_TEST(res.result_int() == 204);
    BOOST_TEST(res.body().empty());

    // HEAD: the length of what GET would send, no body; the connection stays usable.
    auto head = make_request(http::verb::head, "/x");
    BOOST_REQUIRE(!c.send(head));
    http::response_parser<http::empty_body> p;
    p.skip(true);
    error_code ec;
    http::async_read(c.stream, c.buffer, p, [&](error_code e, std::size_t) { ec = e; });
    c.run();
    BOOST_REQUIRE_MESSAGE(!ec, ec.message());
    BOOST_TEST(p.get()[http::field::content_length] == "12");
    BOOST_TEST(c.request(make_request(http::verb::get, "/x")).body() == "ignored body");
    BOOST_TEST(f.accepted() == 1u);
}

BOOST_AUTO_TEST_CASE(connection_close_is_honoured)
{
    server_fixture f;
    BOOST_REQUIRE(f.start(local(), f.recording([](const server_request&) { return text("bye"); })));
    client c(f.server->port());
    auto req = make_request(http::verb::get, "/");
    req.keep_alive(false);
    auto res = c.request(req);
    BOOST_TEST(res.body() == "bye");
    BOOST_TEST(!res.keep_alive());
    auto [ec, rest] = c.read_all();
    BOOST_TEST((ec == asio::error::eof));
    BOOST_TEST(rest.empty());
}

BOOST_AUTO_TEST_CASE(gzip_response_only_when_accepted)
{
    const std::string big(20000, 'z');
    server_fixture f;
    BOOST_REQUIRE(f.start(local(), f.recording([&](const server_request&) {
                      auto r = text(big);
                      r.gzip = true;
                      return r;
                  })));
    client c(f.server->port());

    auto req = make_request(http::verb::get, "/big");
    req.set(http::field::accept_encoding, "deflate, gzip;q=0.8");
    auto res = c.request(req);
    BOOST_TEST(res[http::field::content_encoding] == "gzip");
    BOOST_TEST(res.body().size() < 1000u);
    BOOST_TEST(gzip_decompress(res.body(), 1 << 20).value() == big);

    res = c.request(make_request(http::verb::get, "/big"));
    BOOST_TEST((res.find(http::field::content_encoding) == res.end()));
    BOOST_TEST(res.body() == big);

    auto refused = make_request(http::verb::get, "/big");
    refused.set(http::field::accept_encoding, "gzip;q=0");
    res = c.request(refused);
    BOOST_TEST((res.find(http::field::content_encoding) == res.end()));
    BOOST_TEST(res.body() == big);
}

BOOST_AUTO_TEST_CASE(gzip_request_body_is_inflated)
{
    const std::string payload = std::string(5000, 'p') + "end";
    server_fixture f;
    BOOST_REQUIRE(f.start(local(), f.recording([](const server_request& r) {
                      return text(std::to_string(r.body.size()));
                  })));
    client c(f.server->port());
    auto req = make_request(http::verb::post, "/upload", gzip_compress(payload));
    req.set(http::field::content_encoding, "gzip");
    auto res = c.request(req);
    BOOST_TEST(res.result_int() == 200);
    BOOST_TEST(res.body() == std::to_string(payload.size()));
    auto seen = f.requests();
    BOOST_REQUIRE(seen.size() == 1u);
    BOOST_TEST(seen[0].body == payload);
    // The handler can still see how the body travelled.
    BOOST_TEST(*seen[0].headers.find("content-encoding") == "gzip");

    client bad(f.server->port());
    auto corrupt = make_request(http::verb::post, "/upload", "this is not gzip");
    corrupt.set(http::field::content_encoding, "gzip");
    res = bad.request(corrupt);
    BOOST_TEST(res.result_int() == 400);
    BOOST_TEST(f.requests().size() == 1u);  // the handler never saw it
}

BOOST_AUTO_TEST_CASE(body_over_the_limit_gets_413)
{
    auto settings = local();
    settings.max_body = 1000;
    server_fixture f;
    BOOST_REQUIRE(f.start(settings, f.recording([](const server_request& r) { return text("ok"); })));

    client exact(f.server->port());
    BOOST_TEST(exact.request(make_request(http::verb::post, "/", std::string(1000, 'a'))).result_int() == 200);

    client over(f.server->port());
    auto res = over.request(make_request(http::verb::post, "/", std::string(1001, 'a')));
    BOOST_TEST(res.result_int() == 413);
    BOOST_TEST(!res.keep_alive());
    BOOST_TEST(res.body().find("1000") != std::string::npos);

    // A small gzip body that inflates past the limit is refused the same way.
    client bomb(f.server->port());
    auto req = make_request(http::verb::post, "/", gzip_compress(std::string(100000, '\0')));
    req.set(http::field::content_encoding, "gzip");
    BOOST_TEST(req.body().size() < 1000u);
    BOOST_TEST(bomb.request(req).result_int() == 413);

    BOOST_TEST(f.requests().size() == 1u);
}

BOOST_AUTO_TEST_CASE(handler_exception_gives_500_and_connection_survives)
{
    server_fixture f;
    BOOST_REQUIRE(f.start(local(), [](server_request r) -> awaitable<server_response> {
        if (r.path == "/throw") throw std::runtime_error("boom");
        co_return text("fine");
    }));
    client c(f.server->port());
    auto res = c.request(make_request(http::verb::get, "/throw"));
    BOOST_TEST(res.result_int() == 500);
    BOOST_TEST(res.body().find("boom") == std::string::npos);  // internals stay inside
    BOOST_TEST(c.request(make_request(http::verb::get, "/ok")).body() == "fine");
    BOOST_TEST(f.accepted() == 1u);
}

BOOST_AUTO_TEST_CASE(malformed_request_gets_400_and_close)
{
    server_fixture f;
    BOOST_REQUIRE(f.start(local(), f.recording([](const server_request&) { return text("x"); })));
    {
        client c(f.server->port());
        BOOST_REQUIRE(!c.send_raw("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n"));
        auto [ec, res] = c.read();
        BOOST_REQUIRE_MESSAGE(!ec, ec.message());
        BOOST_TEST(res.result_int() == 400);
        BOOST_TEST(!res.keep_alive());
        auto [ec2, rest] = c.read_all();
        BOOST_TEST((ec2 == asio::error::eof));
    }
    {
        client c(f.server->port());
        BOOST_REQUIRE(!c.send_raw("this is not http\r\n\r\n"));
        auto [ec, res] = c.read();
        BOOST_REQUIRE_MESSAGE(!ec, ec.message());
        BOOST_TEST(res.result_int() == 400);
    }
    BOOST_TEST(f.requests().empty());
}

BOOST_AUTO_TEST_CASE(fault_truncate_body_sends_half_then_closes)
{
    server_fixture f;
    BOOST_REQUIRE(f.start(local(), f.recording([](const server_request&) {
                      auto r = text(std::string(1000, 'b'));
                      r.fail = server_response::fault::truncate_body;
                      return r;
                  })));
    {
        client c(f.server->port());
        auto req = make_request(http::verb::get, "/");
        BOOST_REQUIRE(!c.send(req));
        auto [ec, data] = c.read_all();
        BOOST_TEST((ec == asio::error::eof));
        auto split = data.find("\r\n\r\n");
        BOOST_REQUIRE(split != std::string::npos);
        BOOST_TEST(data.substr(0, split).find("Content-Length: 1000") != std::string::npos);
        BOOST_TEST(data.size() - split - 4 == 500u);
    }
    {
        // A Beast client notices the short body.
        client c(f.server->port());
        auto req = make_request(http::verb::get, "/");
        BOOST_REQUIRE(!c.send(req));
        auto [ec, res] = c.read();
        BOOST_TEST((ec == http::error::partial_message));
    }
}

BOOST_AUTO_TEST_CASE(fault_reset_is_a_connection_reset)
{
    server_fixture f;
    BOOST_REQUIRE(f.start(local(), f.recording([](const server_request&) {
                      auto r = text("never");
                      r.fail = server_response::fault::reset;
                      return r;
                  })));
    client c(f.server->port());
    auto req = make_request(http::verb::get, "/");
    BOOST_REQUIRE(!c.send(req));
    auto [ec, data] = c.read_all();
    BOOST_TEST((ec == asio::error::connection_reset), ec.message());
    BOOST_TEST(data.empty());
}

BOOST_AUTO_TEST_CASE(fault_close_before_response_is_eof)
{
    server_fixture f;
    BOOST_REQUIRE(f.start(local(), f.recording([](const server_request&) {
                      auto r = text("never");
                      r.fail = server_response::fault::close_before_response;
                      return r;
                  })));
    client c(f.server->port());
    auto req = make_request(http::verb::post, "/jobs", "{}");
    BOOST_REQUIRE(!c.send(req));
    auto [ec, data] = c.read_all();
    BOOST_TEST((ec == asio::error::eof), ec.message());
    BOOST_TEST(data.empty());
    BOOST_TEST(f.requests().size() == 1u);  // the request itself was read and handled
}

BOOST_AUTO_TEST_CASE(idle_connection_is_closed_after_the_timeout)
{
    auto settings = local();
    settings.idle_timeout = 200ms;
    server_fixture f;
    BOOST_REQUIRE(f.start(settings, f.recording([](const server_request&) { return text("x"); })));
    client c(f.server->port());
    auto before = std::chrono::steady_clock::now();
    auto [ec, data] = c.read_all();  // sends nothing; the server must hang up
    auto waited = std::chrono::steady_clock::now() - before;
    BOOST_TEST((ec != beast::error::timeout), "server did not close the idle connection");
    BOOST_TEST(data.empty());
    BOOST_TEST(waited >= 150ms);
    BOOST_TEST(waited < 5s);
}

BOOST_AUTO_TEST_CASE(stop_closes_idle_connections_and_waiting_handlers)
{
    server_fixture f;
    BOOST_REQUIRE(f.start(local(), [&](server_request r) -> awaitable<server_response> {
        if (r.path == "/slow") {
            asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::hours(1));
            co_await t.async_wait(asio::use_awaitable);
        }
        co_return text("quick");
    }));
    client idle(f.server->port());
    BOOST_TEST(idle.request(make_request(http::verb::get, "/")).body() == "quick");
    client slow(f.server->port());
    auto req = make_request(http::verb::get, "/slow");
    BOOST_REQUIRE(!slow.send(req));
    // Wait until the server has both connections (bounded poll).
    for (int i = 0; i < 500 && f.accepted() < 2; ++i) std::this_thread::sleep_for(10ms);
    BOOST_REQUIRE(f.accepted() == 2u);

    auto port = f.server->port();
    f.on_io([&] {
        f.server->stop();
        return 0;
    });
    auto [ec1, d1] = idle.read_all();
    BOOST_TEST((ec1 != beast::error::timeout), ec1.message());
    auto [ec2, d2] = slow.read_all();
    BOOST_TEST((ec2 != beast::error::timeout), ec2.message());
    BOOST_TEST(d2.empty());

    // The acceptor is closed too.
    asio::io_context ioc;
    tcp::socket s(ioc);
    error_code ec;
    s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), ec);
    BOOST_TEST((ec == asio::error::connection_refused));
}

BOOST_AUTO_TEST_CASE(single_thread_use_and_destruction_with_open_connections)
{
    // The way the daemon and the emulator use it: server and clients on one io_context,
    // the server destroyed while a connection is still open and a handler is still waiting.
    asio::io_context ioc;
    auto server = std::make_unique<net::http_server>(
        ioc.get_executor(), local(), [](server_request r) -> awaitable<server_response> {
            if (r.path == "/slow") {
                asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::hours(1));
                co_await t.async_wait(asio::use_awaitable);
            }
            co_return text("one thread");
        });
    BOOST_REQUIRE(server->start());
    auto port = server->port();
    auto body = test::run_coro(ioc, [](std::uint16_t port) -> awaitable<std::string> {
        beast::tcp_stream s(co_await asio::this_coro::executor);
        co_await s.async_connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), asio::use_awaitable);
        auto req = make_request(http::verb::get, "/");
        req.prepare_payload();
        co_await http::async_write(s, req, asio::use_awaitable);
        beast::flat_buffer buf;
        http::response<http::string_body> res;
        co_await http::async_read(s, buf, res, asio::use_awaitable);
        s.release_socket().release();  // leave the connection open on the server's side
        co_return res.body();
    }(port));
    BOOST_TEST(body == "one thread");
    BOOST_TEST(server->connections_accepted() == 1u);

    // A second client whose request waits in the handler.
    auto slow = std::make_shared<tcp::socket>(ioc);
    slow->connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    std::string raw = "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n";
    asio::write(*slow, asio::buffer(raw));
    for (int i = 0; i < 1000 && server->connections_accepted() < 2; ++i) ioc.run_one_for(10ms);
    for (int i = 0; i < 20; ++i) ioc.poll();
    BOOST_REQUIRE(server->connections_accepted() == 2u);

    server.reset();  // stops; sessions end on the next turns of the loop
    ioc.restart();
    for (int i = 0; i < 100 && !ioc.stopped(); ++i) ioc.run_one_for(10ms);
    BOOST_TEST(ioc.stopped(), "sessions still running after the server was destroyed");
    char c;
    error_code ec;
    slow->read_some(asio::buffer(&c, 1), ec);
    BOOST_TEST(ec.failed());
}

BOOST_AUTO_TEST_CASE(bind_conflict_names_the_address)
{
    server_fixture first;
    BOOST_REQUIRE(first.start(local(), first.recording([](const server_request&) { return text("x"); })));
    auto settings = local();
    settings.listen = "127.0.0.1:" + std::to_string(first.server->port());
    server_fixture second;
    auto r = second.start(settings, second.recording([](const server_request&) { return text("x"); }));
    BOOST_REQUIRE(r.has_error());
    BOOST_TEST(r.error().message.find(settings.listen) != std::string::npos, r.error().message);
    BOOST_TEST(r.error().message.find("in use") != std::string::npos, r.error().message);
}

BOOST_AUTO_TEST_CASE(bad_listen_values_are_explained)
{
    struct bad_case {
        const char* listen;
        const char* says;
    };
    for (auto [listen, says] : {bad_case{"localhost", "expected host:port"},
                                bad_case{"127.0.0.1:", "missing port"},
                                bad_case{"127.0.0.1:99999", "99999"},
                                bad_case{"127.0.0.1:80x", "80x"},
                                bad_case{"::1:80", "[addr]:port"},
                                bad_case{"[::1", "']'"}}) {
        asio::io_context ioc;
        net::server_settings s;
        s.listen = listen;
        net::http_server server(ioc.get_executor(), s, [](server_request) -> awaitable<server_response> {
            co_return server_response{};
        });
        auto r = server.start();
        BOOST_REQUIRE_MESSAGE(r.has_error(), listen);
        BOOST_TEST(r.error().code == errc::config);
        BOOST_TEST(r.error().message.find(std::string("'") + listen + "'") != std::string::npos, r.error().message);
        BOOST_TEST(r.error().message.find(says) != std::string::npos, r.error().message);
    }
}

BOOST_AUTO_TEST_CASE(https_round_trip_trusting_the_test_ca)
{
    test::temp_dir dir;
    auto certs = test::make_test_certs(dir.path());
    auto settings = local();
    settings.cert_file = certs.cert_file;
    settings.key_file = certs.key_file;
    server_fixture f;
    BOOST_REQUIRE(f.start(settings, f.recording([](const server_request& r) { return text("secure:" + r.body); })));
    BOOST_TEST(f.server->base_url() == "https://127.0.0.1:" + std::to_string(f.server->port()));

    auto connect = [&](const std::string& ca, error_code& hs) {
        asio::io_context ioc;
        ssl::context ctx(ssl::context::tls_client);
        ctx.load_verify_file(ca);
        ctx.set_verify_mode(ssl::verify_peer);
        ssl::stream<beast::tcp_stream> s(ioc, ctx);
        s.set_verify_callback(ssl::host_name_verification("localhost"));
        SSL_set_tlsext_host_name(s.native_handle(), "localhost");
        beast::get_lowest_layer(s).expires_after(10s);
        beast::get_lowest_layer(s).async_connect(
            tcp::endpoint(asio::ip::make_address("127.0.0.1"), f.server->port()), [&](error_code e) { hs = e; });
        ioc.run();
        BOOST_REQUIRE(!hs);
        s.async_handshake(ssl::stream_base::client, [&](error_code e) { hs = e; });
        ioc.restart();
        ioc.run();
        if (hs) return std::string();
        auto req = make_request(http::verb::post, "/tls", "ping");
        req.prepare_payload();
        http::response<http::string_body> res;
        beast::flat_buffer buf;
        error_code ec;
        http::async_write(s, req, [&](error_code e, std::size_t) {
            ec = e;
            if (!e) http::async_read(s, buf, res, [&](error_code e2, std::size_t) { ec = e2; });
        });
        ioc.restart();
        ioc.run();
        BOOST_REQUIRE_MESSAGE(!ec, ec.message());
        return res.body();
    };

    error_code hs;
    BOOST_TEST(connect(certs.ca_file, hs) == "secure:ping");
    BOOST_TEST(!hs);

    // A client trusting only the unrelated self-signed certificate refuses the server.
    connect(certs.untrusted_cert_file, hs);
    BOOST_TEST(hs.failed());

    // A plain-text request to the TLS port gets no HTTP answer.
    client plain(f.server->port());
    auto req = make_request(http::verb::get, "/");
    BOOST_REQUIRE(!plain.send(req));
    auto [ec, data] = plain.read_all();
    BOOST_TEST(data.find("HTTP/1.1 200") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(https_with_missing_key_fails_naming_the_file)
{
    test::temp_dir dir;
    auto certs = test::make_test_certs(dir.path());
    auto settings = local();
    settings.cert_file = certs.cert_file;
    settings.key_file = dir.file("missing.key");
    asio::io_context ioc;
    net::http_server server(ioc.get_executor(), settings, [](server_request) -> awaitable<server_response> {
        co_return server_response{};
    });
    auto r = server.start();
    BOOST_REQUIRE(r.has_error());
    BOOST_TEST(r.error().message.find("missing.key") != std::string::npos, r.error().message);

    settings.key_file.clear();
    net::http_server half(ioc.get_executor(), settings, [](server_request) -> awaitable<server_response> {
        co_return server_response{};
    });
    r = half.start();
    BOOST_REQUIRE(r.has_error());
    BOOST_TEST(r.error().message.find("key_file") != std::string::npos, r.error().message);
}

BOOST_AUTO_TEST_SUITE_END()
