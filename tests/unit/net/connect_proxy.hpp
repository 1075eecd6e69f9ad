// SPDX-License-Identifier: Apache-2.0
// A small HTTP proxy for tests, on the test's io_context and a loopback port: CONNECT opens a
// tunnel to the target (or is refused with a scripted status); any other request is answered
// by the proxy itself, as a forward proxy's origin would. Everything that arrives is recorded.
#pragma once

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <memory>
#include <string>
#include <vector>

namespace wfsync::test {

class connect_proxy {
public:
    struct request {
        std::string method;
        std::string target;               ///< "host:port" for CONNECT, the absolute URI otherwise
        std::string host;                 ///< the Host header
        std::string proxy_authorization;  ///< empty when none was sent
    };

    explicit connect_proxy(boost::asio::io_context& ioc)
        : ioc_(ioc), acceptor_(ioc, {boost::asio::ip::make_address("127.0.0.1"), 0})
    {
        boost::asio::co_spawn(ioc_, accept_loop(), boost::asio::detached);
    }
    ~connect_proxy() { stop(); }

    std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
    std::string url() const { return "http://127.0.0.1:" + std::to_string(port()); }

    /// Answer CONNECT with this status (0 = open the tunnel).
    int refuse_with = 0;
    std::vector<request> seen;

    int connects() const
    {
        int n = 0;
        for (const auto& r : seen) n += r.method == "CONNECT";
        return n;
    }

    void stop()
    {
        boost::system::error_code ec;
        acceptor_.close(ec);
        for (auto& s : sockets_)
            if (auto p = s.lock()) p->close(ec);
    }

private:
    using tcp = boost::asio::ip::tcp;

    boost::asio::awaitable<void> accept_loop()
    {
        for (;;) {
            auto [ec, sock] = co_await acceptor_.async_accept(boost::asio::as_tuple(boost::asio::use_awaitable));
            if (ec) co_return;
            auto p = std::make_shared<tcp::socket>(std::move(sock));
            sockets_.push_back(p);
            boost::asio::co_spawn(ioc_, serve(p), boost::asio::detached);
        }
    }

    boost::asio::awaitable<void> serve(std::shared_ptr<tcp::socket> client)
    {
        namespace http = boost::beast::http;
        using boost::asio::as_tuple;
        using boost::asio::use_awaitable;
        boost::beast::flat_buffer buf;
        for (;;) {
            http::request<http::string_body> rq;
            auto [rec, rn] = co_await http::async_read(*client, buf, rq, as_tuple(use_awaitable));
            if (rec) co_return;
            request r{std::string(rq.method_string()), std::string(rq.target()), std::string(rq[http::field::host]),
                      std::string(rq[http::field::proxy_authorization])};
            seen.push_back(r);
            if (rq.method() != http::verb::connect) {
                http::response<http::string_body> res{http::status::ok, 11};
                res.body() = "proxied " + r.target;
                res.prepare_payload();
                auto [wec, wn] = co_await http::async_write(*client, res, as_tuple(use_awaitable));
                if (wec) co_return;
                continue;
            }
            if (refuse_with != 0) {
                http::response<http::string_body> res{static_cast<http::status>(refuse_with), 11};
                res.body() = "refused by the test proxy";
                res.prepare_payload();
                res.keep_alive(false);
                co_await http::async_write(*client, res, as_tuple(use_awaitable));
                co_return;
            }
            auto colon = r.target.rfind(':');
            auto upstream = std::make_shared<tcp::socket>(ioc_);
            sockets_.push_back(upstream);
            tcp::resolver resolver(ioc_);
            auto [res_ec, eps] = co_await resolver.async_resolve(r.target.substr(0, colon), r.target.substr(colon + 1),
                                                                 as_tuple(use_awaitable));
            if (res_ec) co_return;
            auto [cec, ep] = co_await boost::asio::async_connect(*upstream, eps, as_tuple(use_awaitable));
            if (cec) co_return;
            std::string ok = "HTTP/1.1 200 Connection established\r\n\r\n";
            auto [wec, wn] = co_await boost::asio::async_write(*client, boost::asio::buffer(ok), as_tuple(use_awaitable));
            if (wec) co_return;
            using namespace boost::asio::experimental::awaitable_operators;
            co_await (pipe(client, upstream) && pipe(upstream, client));
            co_return;
        }
    }

    static boost::asio::awaitable<void> pipe(std::shared_ptr<tcp::socket> from, std::shared_ptr<tcp::socket> to)
    {
        using boost::asio::as_tuple;
        using boost::asio::use_awaitable;
        char data[8192];
        for (;;) {
            auto [rec, n] = co_await from->async_read_some(boost::asio::buffer(data), as_tuple(use_awaitable));
            if (rec) break;
            auto [wec, wn] = co_await boost::asio::async_write(*to, boost::asio::buffer(data, n), as_tuple(use_awaitable));
            if (wec) break;
        }
        boost::system::error_code ec;
        to->shutdown(tcp::socket::shutdown_send, ec);
    }

    boost::asio::io_context& ioc_;
    tcp::acceptor acceptor_;
    std::vector<std::weak_ptr<tcp::socket>> sockets_;
};

}  // namespace wfsync::test
