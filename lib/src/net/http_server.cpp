// SPDX-License-Identifier: Apache-2.0
#include <wfsync/net/http_server.hpp>

#include <wfsync/core/log.hpp>
#include <wfsync/core/zlib.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <fmt/format.h>
#include <openssl/ssl.h>

#include <charconv>
#include <map>
#include <optional>
#include <type_traits>

namespace wfsync::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = boost::asio::ip::tcp;
using boost::system::error_code;

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t header_limit = 64 * 1024;
// After the last response on a connection the peer may still be sending (a rejected body);
// reading that away for a moment keeps close() from turning into an RST that would destroy
// the response before the peer read it.
constexpr std::size_t drain_limit = 4u << 20;
constexpr auto drain_time = std::chrono::seconds(2);

std::string_view trim(std::string_view s) noexcept
{
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

/// True when an Accept-Encoding value lists gzip (or *) without q=0.
bool accepts_gzip(std::string_view accept)
{
    while (!accept.empty()) {
        auto comma = accept.find(',');
        auto item = trim(accept.substr(0, comma));
        accept = comma == std::string_view::npos ? std::string_view{} : accept.substr(comma + 1);
        auto semi = item.find(';');
        auto coding = trim(item.substr(0, semi));
        if (!iequals(coding, "gzip") && !iequals(coding, "x-gzip") && coding != "*") continue;
        if (semi == std::string_view::npos) return true;
        auto params = trim(item.substr(semi + 1));
        if (params.size() >= 2 && (params[0] == 'q' || params[0] == 'Q') && params[1] == '=') {
            auto q = trim(params.substr(2));
            // q=0, q=0.0, q=0.000 mean "not acceptable".
            bool zero = !q.empty() && q[0] == '0' &&
                        q.find_first_not_of("0.", 0) == std::string_view::npos;
            if (zero) continue;
        }
        return true;
    }
    return false;
}

struct listen_address {
    std::string host;
    std::uint16_t port = 0;
};

result<listen_address> parse_listen(std::string_view text)
{
    auto bad = [&](std::string_view why) {
        return fail(errc::config, fmt::format("listen address '{}': {}", text, why));
    };
    listen_address out;
    std::string_view port;
    if (!text.empty() && text.front() == '[') {
        auto close = text.find(']');
        if (close == std::string_view::npos) return bad("missing ']' after IPv6 address");
        out.host = std::string(text.substr(1, close - 1));
        if (close + 1 >= text.size() || text[close + 1] != ':')
            return bad("expected [ipv6]:port");
        port = text.substr(close + 2);
    } else {
        auto colon = text.rfind(':');
        if (colon == std::string_view::npos) return bad("expected host:port");
        if (text.find(':') != colon) return bad("IPv6 addresses must be written as [addr]:port");
        out.host = std::string(text.substr(0, colon));
        port = text.substr(colon + 1);
    }
    if (port.empty()) return bad("missing port");
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc{} || end != port.data() + port.size() || value > 65535)
        return bad(fmt::format("port '{}' is not a number from 0 to 65535", port));
    out.port = static_cast<std::uint16_t>(value);
    if (out.host.empty() || out.host == "*") out.host = "0.0.0.0";
    return out;
}

server_response plain_response(int status, std::string text)
{
    server_response r;
    r.status = status;
    r.content_type = "text/plain";
    r.body = std::move(text);
    return r;
}

/// The server's side of one connection, shared between its coroutine and stop().
struct connection {
    std::uint64_t id = 0;
    asio::cancellation_signal cancel;
    std::function<void()> close;  ///< closes the socket; set while the session runs
};

}  // namespace

struct http_server::impl : std::enable_shared_from_this<impl> {
    impl(executor ex, server_settings s, request_handler h)
        : ex_(std::move(ex)), settings_(std::move(s)), handler_(std::move(h)), acceptor_(ex_)
    {
    }

    executor ex_;
    server_settings settings_;
    request_handler handler_;
    std::optional<ssl::context> tls_;
    tcp::acceptor acceptor_;
    std::uint16_t port_ = 0;
    std::string host_for_url_;
    bool started_ = false;
    bool stopped_ = false;
    std::uint64_t accepted_ = 0;
    std::uint64_t next_id_ = 1;
    std::map<std::uint64_t, std::shared_ptr<connection>> connections_;

    result<void> start();
    void stop();
    awaitable<void> accept_loop(std::shared_ptr<impl> self);
    awaitable<void> session(std::shared_ptr<impl> self, std::shared_ptr<connection> conn, tcp::socket socket);
    template <class Stream>
    awaitable<void> serve(Stream& stream, connection& conn, const std::string& remote);
    template <class Stream>
    awaitable<void> close_gracefully(Stream& stream);

    void expire(beast::tcp_stream& s)
    {
        if (settings_.idle_timeout.count() > 0)
            s.expires_after(settings_.idle_timeout);
        else
            s.expires_never();
    }
};

result<void> http_server::impl::start()
{
    if (started_) return fail(errc::internal, "http server already started");
    auto addr = parse_listen(settings_.listen);
    if (!addr) return addr.error();

    if (settings_.cert_file.empty() != settings_.key_file.empty())
        return fail(errc::config, fmt::format("listen {}: HTTPS needs both cert_file and key_file",
                                              settings_.listen));
    if (!settings_.cert_file.empty()) {
        tls_.emplace(ssl::context::tls_server);
        tls_->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                          ssl::context::no_sslv3 | ssl::context::single_dh_use);
        SSL_CTX_set_min_proto_version(tls_->native_handle(), TLS1_2_VERSION);
        error_code ec;
        tls_->use_certificate_chain_file(settings_.cert_file, ec);
        if (ec)
            return fail(errc::config, fmt::format("cannot load TLS certificate '{}': {}",
                                                  settings_.cert_file, ec.message()));
        tls_->use_private_key_file(settings_.key_file, ssl::context::pem, ec);
        if (ec)
            return fail(errc::config, fmt::format("cannot load TLS private key '{}': {}",
                                                  settings_.key_file, ec.message()));
    }

    error_code ec;
    auto ip = asio::ip::make_address(addr->host, ec);
    if (ec) {
        // A host name: resolve it once, synchronously (start-up only).
        tcp::resolver resolver(ex_);
        auto found = resolver.resolve(addr->host, std::to_string(addr->port), ec);
        if (ec || found.empty())
            return fail(errc::config, fmt::format("listen address '{}': cannot resolve '{}': {}",
                                                  settings_.listen, addr->host,
                                                  ec ? ec.message() : "no address"));
        ip = found.begin()->endpoint().address();
    }
    tcp::endpoint ep(ip, addr->port);
    auto where = fmt::format("{}", settings_.listen);
    auto bind_error = [&](std::string_view step) {
        error_code ignore;
        acceptor_.close(ignore);
        return fail(errc::io, fmt::format("cannot listen on {}: {}: {}", where, step, ec.message()));
    };
    acceptor_.open(ep.protocol(), ec);
    if (ec) return bind_error("open");
    acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (ec) return bind_error("reuse_address");
    acceptor_.bind(ep, ec);
    if (ec) return bind_error("bind");
    acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return bind_error("listen");
    port_ = acceptor_.local_endpoint(ec).port();
    if (ec) return bind_error("local_endpoint");

    if (ip.is_unspecified())
        host_for_url_ = ip.is_v6() ? "[::1]" : "127.0.0.1";
    else
        host_for_url_ = ip.is_v6() ? "[" + ip.to_string() + "]" : ip.to_string();

    started_ = true;
    asio::co_spawn(ex_, accept_loop(shared_from_this()), [](std::exception_ptr e) {
        if (!e) return;
        try {
            std::rethrow_exception(e);
        } catch (const std::exception& x) {
            log::error("http server accept loop ended: {}", x.what());
        }
    });
    log::debug("http server listening on {}", host_for_url_ + ":" + std::to_string(port_));
    return {};
}

void http_server::impl::stop()
{
    if (stopped_) return;
    stopped_ = true;
    error_code ignore;
    acceptor_.close(ignore);
    // Copy: sessions remove themselves from the map as they end.
    auto conns = connections_;
    for (auto& [id, c] : conns) {
        if (c->close) c->close();
        // Also wakes handlers that are waiting (latency injection) so that nothing lingers.
        c->cancel.emit(asio::cancellation_type::all);
    }
}

awaitable<void> http_server::impl::accept_loop(std::shared_ptr<impl> self)
{
    while (!stopped_) {
        auto [ec, socket] = co_await acceptor_.async_accept(use_tuple);
        if (stopped_ || ec == asio::error::operation_aborted) co_return;
        if (ec) {
            // Out of descriptors and the like: back off a little rather than spin.
            log::warn("http server on port {}: accept failed: {}", port_, ec.message());
            asio::steady_timer t(ex_, std::chrono::milliseconds(100));
            co_await t.async_wait(use_tuple);
            continue;
        }
        ++accepted_;
        auto conn = std::make_shared<connection>();
        conn->id = next_id_++;
        connections_.emplace(conn->id, conn);
        auto slot = conn->cancel.slot();
        asio::co_spawn(ex_, session(self, conn, std::move(socket)),
                       asio::bind_cancellation_slot(slot, [self, id = conn->id](std::exception_ptr e) {
                           // Asio 1.81's co_spawn forwards a cancellation by posting a call into
                           // memory owned by our signal when stop() runs outside the loop: keep
                           // the signal alive until after that call by freeing it later.
                           asio::post(self->ex_, [self, id] { self->connections_.erase(id); });
                           if (!e) return;
                           try {
                               std::rethrow_exception(e);
                           } catch (const std::exception& x) {
                               if (self->stopped_)
                                   log::debug("http connection {} ended at stop: {}", id, x.what());
                               else
                                   log::warn("http connection {} failed: {}", id, x.what());
                           }
                       }));
    }
}

awaitable<void> http_server::impl::session(std::shared_ptr<impl> self, std::shared_ptr<connection> conn,
                                           tcp::socket socket)
{
    error_code ec;
    auto peer = socket.remote_endpoint(ec);
    std::string remote = ec ? std::string("unknown")
                            : (peer.address().is_v6() ? "[" + peer.address().to_string() + "]"
                                                      : peer.address().to_string()) +
                                  ":" + std::to_string(peer.port());
    socket.set_option(tcp::no_delay(true), ec);

    beast::tcp_stream tcp_stream(std::move(socket));
    conn->close = [&tcp_stream] {
        error_code ignore;
        tcp_stream.socket().shutdown(tcp::socket::shutdown_both, ignore);
        tcp_stream.close();
    };
    // The lambda refers to this frame: forget it before the frame goes away.
    struct forget {
        connection& c;
        ~forget() { c.close = nullptr; }
    } guard{*conn};

    if (stopped_) co_return;
    if (!tls_) {
        co_await serve(tcp_stream, *conn, remote);
        co_return;
    }
    ssl::stream<beast::tcp_stream> tls(std::move(tcp_stream), *tls_);
    conn->close = [&tls] {
        error_code ignore;
        beast::get_lowest_layer(tls).socket().shutdown(tcp::socket::shutdown_both, ignore);
        beast::get_lowest_layer(tls).close();
    };
    expire(beast::get_lowest_layer(tls));
    auto [hs_ec] = co_await tls.async_handshake(ssl::stream_base::server, use_tuple);
    if (hs_ec) {
        log::debug("http connection {} from {}: TLS handshake failed: {}", conn->id, remote, hs_ec.message());
        beast::get_lowest_layer(tls).close();
        co_return;
    }
    co_await serve(tls, *conn, remote);
}

template <class Stream>
awaitable<void> http_server::impl::close_gracefully(Stream& stream)
{
    auto& lowest = beast::get_lowest_layer(stream);
    error_code ec;
    if constexpr (!std::is_same_v<Stream, beast::tcp_stream>) {
        // Best effort close_notify; a peer that does not answer costs at most drain_time.
        lowest.expires_after(drain_time);
        co_await stream.async_shutdown(use_tuple);
    }
    if (lowest.socket().is_open()) {
        lowest.socket().shutdown(tcp::socket::shutdown_send, ec);
        lowest.expires_after(drain_time);
        std::size_t drained = 0;
        char buf[8192];
        while (drained < drain_limit && lowest.socket().is_open()) {
            auto [rec, n] = co_await lowest.async_read_some(asio::buffer(buf), use_tuple);
            if (rec) break;
            drained += n;
        }
    }
    lowest.close();
}

template <class Stream>
awaitable<void> http_server::impl::serve(Stream& stream, connection& conn, const std::string& remote)
{
    auto& lowest = beast::get_lowest_layer(stream);
    beast::flat_buffer buffer;

    auto write = [&](http::response<http::string_body>& res) -> awaitable<error_code> {
        expire(lowest);
        auto [ec, n] = co_await http::async_write(stream, res, use_tuple);
        co_return ec;
    };
    // Answers an unreadable or refused request and ends the connection.
    auto reject = [&](int status, std::string text, unsigned version) -> awaitable<void> {
        http::response<http::string_body> res{static_cast<http::status>(status), version ? version : 11};
        res.set(http::field::server, "wfsync");
        res.set(http::field::content_type, "text/plain");
        res.body() = std::move(text);
        res.keep_alive(false);
        res.prepare_payload();
        if (!co_await write(res)) co_await close_gracefully(stream);
        else lowest.close();
    };

    while (!stopped_) {
        http::request_parser<http::string_body> parser;
        parser.header_limit(header_limit);
        parser.body_limit(settings_.max_body);

        expire(lowest);
        auto [hec, hn] = co_await http::async_read_header(stream, buffer, parser, use_tuple);
        if (!hec && !parser.is_done()) {
            // A client that waits for "100 Continue" before sending a large body (curl does).
            if (iequals(parser.get()[http::field::expect], "100-continue")) {
                http::response<http::empty_body> cont{http::status::continue_, parser.get().version()};
                expire(lowest);
                auto [cec, cn] = co_await http::async_write(stream, cont, use_tuple);
                if (cec) {
                    lowest.close();
                    co_return;
                }
            }
            // Piece by piece, so that the idle timeout bounds silence rather than a whole slow upload.
            while (!hec && !parser.is_done()) {
                expire(lowest);
                std::tie(hec, hn) = co_await http::async_read_some(stream, buffer, parser, use_tuple);
            }
        }
        if (hec) {
            unsigned version = parser.is_header_done() ? parser.get().version() : 11;
            if (hec == http::error::end_of_stream || hec == http::error::partial_message ||
                hec == beast::error::timeout || hec == asio::error::operation_aborted ||
                hec.category() != make_error_code(http::error::end_of_stream).category() ||
                stopped_) {
                // The peer went away, idled out, or the network failed: nothing to answer.
                if (hec != http::error::end_of_stream && hec != beast::error::timeout && !stopped_)
                    log::debug("http connection {} from {}: read failed: {}", conn.id, remote, hec.message());
                if (hec == http::error::end_of_stream) co_await close_gracefully(stream);
                else lowest.close();
                co_return;
            }
            if (hec == http::error::body_limit) {
                co_await reject(413, fmt::format("request body exceeds the limit of {} bytes\n",
                                                 settings_.max_body),
                                version);
                co_return;
            }
            if (hec == http::error::header_limit) {
                co_await reject(431, "request header fields too large\n", version);
                co_return;
            }
            log::debug("http connection {} from {}: bad request: {}", conn.id, remote, hec.message());
            co_await reject(400, fmt::format("bad request: {}\n", hec.message()), version);
            co_return;
        }

        auto req = parser.release();
        bool keep_alive = req.keep_alive();
        server_request sreq;
        sreq.method = std::string(req.method_string());
        sreq.target = std::string(req.target());
        auto q = sreq.target.find('?');
        auto decoded = percent_decode(std::string_view(sreq.target).substr(0, q));
        if (!decoded) {
            co_await reject(400, "bad request: invalid percent-encoding in the path\n", req.version());
            co_return;
        }
        sreq.path = std::move(*decoded);
        if (q != std::string::npos) sreq.query = sreq.target.substr(q + 1);
        for (const auto& f : req) sreq.headers.add(std::string(f.name_string()), std::string(f.value()));
        sreq.body = std::move(req.body());
        sreq.connection_id = conn.id;
        sreq.remote = remote;

        if (auto enc = req.find(http::field::content_encoding); enc != req.end()) {
            auto coding = trim(enc->value());
            if (iequals(coding, "gzip") || iequals(coding, "x-gzip")) {
                auto inflated = gzip_decompress(sreq.body, settings_.max_body);
                if (!inflated) {
                    if (inflated.error().code == errc::body_too_large)
                        co_await reject(413, fmt::format("inflated request body exceeds the limit of {} bytes\n",
                                                         settings_.max_body),
                                        req.version());
                    else
                        co_await reject(400, "bad request: " + inflated.error().message + "\n", req.version());
                    co_return;
                }
                sreq.body = std::move(*inflated);
            } else if (!coding.empty() && !iequals(coding, "identity")) {
                co_await reject(415, fmt::format("unsupported Content-Encoding '{}'\n", coding), req.version());
                co_return;
            }
        }
        bool client_gzip = false;
        if (auto ae = req.find(http::field::accept_encoding); ae != req.end()) client_gzip = accepts_gzip(ae->value());
        bool head = req.method() == http::verb::head;

        // The handler may take as long as it likes (latency injection): no idle timer meanwhile.
        lowest.expires_never();
        server_response sres;
        try {
            sres = co_await handler_(std::move(sreq));
        } catch (const std::exception& e) {
            if (stopped_) {
                lowest.close();
                co_return;
            }
            log::warn("http handler for {} {} failed: {}", req.method_string(), req.target(), e.what());
            sres = plain_response(500, "internal server error\n");
        }
        if (stopped_) {
            lowest.close();
            co_return;
        }

        using fault = server_response::fault;
        if (sres.fail == fault::reset) {
            // SO_LINGER 0: close() sends RST instead of FIN.
            error_code ignore;
            lowest.socket().set_option(asio::socket_base::linger(true, 0), ignore);
            lowest.close();
            co_return;
        }
        if (sres.fail == fault::close_before_response) {
            error_code ignore;
            lowest.socket().shutdown(tcp::socket::shutdown_both, ignore);
            lowest.close();
            co_return;
        }

        if (sres.status < 100 || sres.status > 999) {
            log::warn("http handler for {} {} answered invalid status {}", req.method_string(), req.target(),
                      sres.status);
            sres = plain_response(500, "internal server error\n");
        }
        http::response<http::string_body> res{static_cast<http::status>(sres.status), req.version()};
        res.set(http::field::server, "wfsync");
        if (!sres.content_type.empty() && !sres.body.empty()) res.set(http::field::content_type, sres.content_type);
        bool handler_closes = false;
        for (auto& [name, value] : sres.headers.fields) {
            if (iequals(name, "Content-Length") || iequals(name, "Transfer-Encoding")) continue;
            if (iequals(name, "Connection")) {
                if (iequals(trim(value), "close")) handler_closes = true;
                continue;
            }
            if (iequals(name, "Content-Type")) res.set(http::field::content_type, value);
            else res.insert(name, value);
        }
        if (sres.gzip) {
            res.set(http::field::vary, "Accept-Encoding");
            if (client_gzip && !sres.body.empty()) {
                sres.body = gzip_compress(sres.body);
                res.set(http::field::content_encoding, "gzip");
            }
        }
        if (sres.status < 200 || sres.status == 204 || sres.status == 304) {
            // These statuses cannot carry a body (Beast refuses to frame one).
            sres.body.clear();
            res.erase(http::field::content_type);
            res.erase(http::field::content_encoding);
        }
        res.body() = std::move(sres.body);
        keep_alive = keep_alive && !handler_closes && !stopped_;
        res.keep_alive(keep_alive);
        res.prepare_payload();
        if (head) {
            // HEAD: the headers describe the body that GET would send, but none follows.
            res.content_length(res.body().size());
            res.body().clear();
        }

        if (sres.fail == fault::truncate_body) {
            auto full = res.body();
            http::response_serializer<http::string_body> sr{res};
            expire(lowest);
            auto [wec, wn] = co_await http::async_write_header(stream, sr, use_tuple);
            if (!wec) co_await asio::async_write(stream, asio::buffer(full.data(), full.size() / 2), use_tuple);
            error_code ignore;
            lowest.socket().shutdown(tcp::socket::shutdown_send, ignore);
            lowest.close();
            co_return;
        }

        if (auto wec = co_await write(res)) {
            log::debug("http connection {} from {}: write failed: {}", conn.id, remote, wec.message());
            lowest.close();
            co_return;
        }
        if (!keep_alive) {
            co_await close_gracefully(stream);
            co_return;
        }
    }
    lowest.close();
}

http_server::http_server(executor ex, server_settings settings, request_handler handler)
    : impl_(std::make_shared<impl>(std::move(ex), std::move(settings), std::move(handler)))
{
}

http_server::~http_server()
{
    if (impl_) impl_->stop();
}

result<void> http_server::start()
{
    return impl_->start();
}

std::uint16_t http_server::port() const noexcept
{
    return impl_->port_;
}

std::string http_server::base_url() const
{
    return fmt::format("{}://{}:{}", impl_->tls_ ? "https" : "http", impl_->host_for_url_, impl_->port_);
}

void http_server::stop()
{
    impl_->stop();
}

std::uint64_t http_server::connections_accepted() const noexcept
{
    return impl_->accepted_;
}

}  // namespace wfsync::net
