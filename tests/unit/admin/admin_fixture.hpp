// SPDX-License-Identifier: Apache-2.0
// An admin_server with a fake provider on its own io thread, and a blocking HTTP client.
#pragma once

#include <wfsync/app/admin.hpp>
#include <wfsync/app/metrics.hpp>

#include <boost/asio/connect.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <future>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace wfsync::test {

/// Answers like the daemon would; counts calls (made on the io thread, read after).
struct fake_provider : app::admin_provider {
    std::atomic<bool> is_ready{true};
    std::atomic<int> status_calls{0};
    std::atomic<int> metrics_calls{0};
    std::vector<std::string> run_requests;  // io thread only; read via server_fixture::on_io
    app::daemon_metrics metrics;
    std::string error_text = "internal failure";

    bool ready() const override { return is_ready; }
    std::string metrics_text() override
    {
        ++metrics_calls;
        return metrics.render();
    }
    boost::json::object status() override
    {
        ++status_calls;
        return boost::json::parse(R"({
          "version": "0.1.0", "started_at": "2026-11-23T15:00:00Z",
          "config_file": "/etc/wfsync/wfsync.yaml", "ready": true,
          "rules": [
            {"name": "prod-to-sandbox", "source": "zuora-prod", "targets": ["zuora-sbx"],
             "schedule": "0 2 * * *", "timezone": "Europe/Berlin", "next_fire": "2026-11-24T01:00:00Z",
             "running": false, "last_outcome": "ok", "last_run": "2026-11-23T01:00:02Z",
             "last_success": "2026-11-23T01:00:02Z", "runs": 12, "skipped_overlap": 1},
            {"name": "backup-hourly", "source": "zuora-prod", "targets": ["archive:local"],
             "schedule": "@hourly", "timezone": "UTC", "next_fire": null,
             "running": true, "last_outcome": null, "last_run": null,
             "last_success": null, "runs": 0, "skipped_overlap": 0}
          ],
          "pending_jobs": 3,
          "held_imports": [{"intent": 7, "rule": "prod-to-sandbox", "target_tenant": "zuora-sbx",
                            "workflow": "458", "version": "0.0.4", "check": "look for Lost New in the UI"}]})")
            .as_object();
    }
    result<std::string> run_rule(const std::string& name) override
    {
        run_requests.push_back(name);
        if (name == "prod-to-sandbox") return std::string("run started");
        if (name == "backup-hourly") return fail(errc::conflict, "rule backup-hourly is already running");
        if (name == "broken") return fail(errc::store, error_text);
        return fail(errc::not_found, "no rule named '" + name + "'");
    }
};

/// Runs the admin server on its own io thread; the test thread plays the client.
struct server_fixture {
    boost::asio::io_context ioc;
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard =
        boost::asio::make_work_guard(ioc);
    fake_provider provider;
    std::unique_ptr<app::admin_server> server;
    std::thread thread;

    result<void> start(app::admin_server_settings s)
    {
        server = std::make_unique<app::admin_server>(ioc.get_executor(), std::move(s), provider);
        auto r = server->start();
        if (r) thread = std::thread([this] { ioc.run(); });
        return r;
    }

    template <class F>
    auto on_io(F f) -> decltype(f())
    {
        std::packaged_task<decltype(f())()> task(std::move(f));
        auto fut = task.get_future();
        boost::asio::post(ioc, [&task] { task(); });
        return fut.get();
    }

    std::uint16_t port() const { return server->port(); }

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

struct reply {
    int status = 0;
    std::map<std::string, std::string> headers;  // lower-case names
    std::string body;
    std::string raw;  // the whole response as text, for "the token is nowhere" checks
    std::string header(const std::string& n) const
    {
        auto it = headers.find(n);
        return it == headers.end() ? std::string() : it->second;
    }
};

/// One request on a fresh connection, with a 10 s limit.
inline reply http_call(std::uint16_t port, const std::string& method, const std::string& target,
                       const std::map<std::string, std::string>& headers = {}, const std::string& body = {})
{
    namespace asio = boost::asio;
    namespace beast = boost::beast;
    namespace http = beast::http;
    using boost::system::error_code;
    asio::io_context ioc;
    beast::tcp_stream stream(ioc);
    stream.expires_after(std::chrono::seconds(10));
    error_code ec;
    stream.async_connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port),
                         [&](error_code e) { ec = e; });
    ioc.run();
    BOOST_REQUIRE_MESSAGE(!ec, "connect: " << ec.message());

    http::request<http::string_body> req{http::string_to_verb(method), target, 11};
    req.set(http::field::host, "127.0.0.1");
    for (const auto& [k, v] : headers) req.set(k, v);
    req.body() = body;
    req.prepare_payload();
    beast::flat_buffer buf;
    http::response_parser<http::string_body> parser;
    if (method == "HEAD") parser.skip(true);
    http::async_write(stream, req, [&](error_code e, std::size_t) { ec = e; });
    ioc.restart();
    ioc.run();
    BOOST_REQUIRE_MESSAGE(!ec, "write: " << ec.message());
    http::async_read(stream, buf, parser, [&](error_code e, std::size_t) { ec = e; });
    ioc.restart();
    ioc.run();
    BOOST_REQUIRE_MESSAGE(!ec, "read: " << ec.message());
    auto res = parser.release();
    reply r;
    r.status = static_cast<int>(res.result_int());
    for (const auto& f : res) {
        std::string n(f.name_string());
        for (auto& c : n) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        r.headers[n] = std::string(f.value());
    }
    r.body = res.body();
    std::ostringstream os;
    os << res;
    r.raw = os.str();
    return r;
}

}  // namespace wfsync::test
