// SPDX-License-Identifier: Apache-2.0
#include <wfsync/net/http_client.hpp>
#include <wfsync/net/proxy.hpp>
#include <wfsync/net/retry_hint.hpp>

#include <wfsync/core/log.hpp>
#include <wfsync/core/zlib.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/url/parse.hpp>

#include <fmt/format.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <ctime>
#include <deque>
#include <iomanip>
#include <map>
#include <optional>
#include <random>
#include <sstream>

namespace wfsync::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using asio::experimental::awaitable_operators::operator||;

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// Idle connections older than this are not reused: servers commonly drop idle keep-alive
// connections after 30-60 s, and a stale connection costs a failed write.
constexpr std::chrono::seconds idle_ttl{25};

std::string lower(std::string_view s)
{
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

milliseconds to_ms(std::chrono::steady_clock::duration d)
{
    return std::chrono::duration_cast<milliseconds>(d);
}

/// Scheme, host and port: one connection pool each.
struct origin {
    bool tls = false;
    std::string host;  ///< without brackets for IPv6
    std::uint16_t port = 0;

    std::string host_port() const
    {
        bool v6 = host.find(':') != std::string::npos;
        return fmt::format("{}{}{}:{}", v6 ? "[" : "", host, v6 ? "]" : "", port);
    }
    /// The Host header: the port only when it is not the scheme's default.
    std::string host_header() const
    {
        bool v6 = host.find(':') != std::string::npos;
        std::string h = v6 ? "[" + host + "]" : host;
        if (port != (tls ? 443 : 80)) h += ":" + std::to_string(port);
        return h;
    }
    std::string key() const { return (tls ? "https://" : "http://") + host_port(); }
    bool operator==(const origin&) const = default;
};

struct parsed_url {
    origin where;
    std::string target;  ///< path + query, at least "/"
};

result<parsed_url> parse_url(std::string_view text, std::string_view what)
{
    auto u = boost::urls::parse_uri(text);
    if (!u)
        return fail(errc::invalid_argument,
                    fmt::format("{} '{}' is not a valid URL: {}", what, text, u.error().message()));
    parsed_url out;
    auto scheme = lower(u->scheme());
    if (scheme == "https")
        out.where.tls = true;
    else if (scheme != "http")
        return fail(errc::invalid_argument, fmt::format("{} '{}': scheme must be http or https", what, text));
    if (!u->has_authority() || u->host_address().empty())
        return fail(errc::invalid_argument, fmt::format("{} '{}' has no host", what, text));
    out.where.host = std::string(u->host_address());
    if (u->has_port()) {
        auto p = u->port_number();
        if (p == 0) return fail(errc::invalid_argument, fmt::format("{} '{}' has an invalid port", what, text));
        out.where.port = p;
    } else {
        out.where.port = out.where.tls ? 443 : 80;
    }
    out.target = std::string(u->encoded_path());
    if (u->has_query()) out.target += "?" + std::string(u->encoded_query());
    return out;
}

/// Prefix + target; the prefix has no trailing slash, the result starts with '/'.
std::string join_target(const std::string& prefix, const std::string& target)
{
    std::string out = prefix;
    if (target.empty()) {
    } else if (target.front() == '/' || target.front() == '?') {
        out += target;
    } else {
        out += "/" + target;
    }
    if (out.empty() || out.front() == '?') out.insert(out.begin(), '/');
    return out;
}

// GET/HEAD/PUT/DELETE/OPTIONS are idempotent by definition (RFC 9110 9.2.2); POST and
// PATCH become retryable only with an idempotency key the server deduplicates on.
bool idempotent_method(std::string_view m)
{
    return m == "GET" || m == "HEAD" || m == "PUT" || m == "DELETE" || m == "OPTIONS";
}

bool retryable_status(int s)
{
    return s == 408 || s == 425 || s == 429 || (s >= 500 && s <= 599);
}

/// A short, single-line excerpt of a body for error texts (never the whole body).
std::string excerpt(std::string_view body)
{
    constexpr std::size_t max = 120;
    std::string out;
    for (char c : body.substr(0, max)) out += (c == '\n' || c == '\r' || c == '\t') ? ' ' : c;
    if (body.size() > max) out += "...";
    return out;
}

/// One keep-alive connection, plain or TLS.
struct connection {
    std::unique_ptr<beast::tcp_stream> plain;
    std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> tls;
    beast::flat_buffer buffer;
    steady_time idle_since{};
    int uses = 0;

    beast::tcp_stream& lowest() { return tls ? beast::get_lowest_layer(*tls) : *plain; }

    /// True when a pooled connection looks usable: nothing to read and no EOF pending.
    /// An idle HTTP connection never has data from the server, so any readable byte
    /// (a FIN, an alert, a stray response) means it must not be reused.
    bool looks_alive()
    {
        auto& sock = lowest().socket();
        if (!sock.is_open()) return false;
        char c;
        ssize_t n = ::recv(sock.native_handle(), &c, 1, MSG_PEEK | MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
        return false;
    }

    void close()
    {
        error_code ec;
        lowest().socket().shutdown(tcp::socket::shutdown_both, ec);
        lowest().socket().close(ec);
    }
};

/// Outcome of one write + read on one connection.
struct exchange_result {
    error_code ec;
    const char* stage = "";
    bool before_response = false;  ///< failed before any response byte arrived
    http::response<http::string_body> res;
};

template <class Stream>
awaitable<exchange_result> exchange(
    Stream& s,
    connection& c,
    const http::request<http::string_body>& rq,
    steady_time until,
    std::size_t max_body)
{
    exchange_result out;
    c.lowest().expires_at(until);
    auto [wec, wn] = co_await http::async_write(s, rq, use_tuple);
    if (wec) {
        out.ec = wec;
        out.stage = "write request";
        out.before_response = true;
        co_return out;
    }
    http::response_parser<http::string_body> parser;
    parser.body_limit(max_body);
    parser.header_limit(64 * 1024);
    if (rq.method() == http::verb::head) parser.skip(true);
    auto [rec, rn] = co_await http::async_read(s, c.buffer, parser, use_tuple);
    if (rec) {
        out.ec = rec;
        out.stage = "read response";
        out.before_response = !parser.got_some() && c.buffer.size() == 0;
        co_return out;
    }
    out.res = parser.release();
    co_return out;
}

/// FIFO async semaphore: at most `cap` holders, waiters woken in arrival order.
class slot_pool {
public:
    explicit slot_pool(int cap) : cap_(std::max(1, cap)) {}

    awaitable<bool> acquire(executor ex, steady_time until)
    {
        if (used_ < cap_ && queue_.empty()) {
            ++used_;
            co_return true;
        }
        auto w = std::make_shared<waiter>(ex);
        w->timer.expires_at(until);
        queue_.push_back(w);
        co_await w->timer.async_wait(use_tuple);
        // Granted wins over a simultaneous timeout: the slot was handed over already.
        if (w->granted) co_return true;
        std::erase(queue_, w);
        co_return false;
    }

    void release()
    {
        if (!queue_.empty()) {
            auto w = queue_.front();
            queue_.pop_front();
            w->granted = true;  // the slot passes directly to the first waiter
            w->timer.cancel();
            return;
        }
        --used_;
    }

private:
    struct waiter {
        explicit waiter(executor ex) : timer(ex) {}
        asio::steady_timer timer;
        bool granted = false;
    };
    int cap_;
    int used_ = 0;
    std::deque<std::shared_ptr<waiter>> queue_;
};

struct slot_guard {
    slot_pool* pool = nullptr;
    slot_guard() = default;
    explicit slot_guard(slot_pool* p) : pool(p) {}
    slot_guard(const slot_guard&) = delete;
    slot_guard& operator=(const slot_guard&) = delete;
    ~slot_guard()
    {
        if (pool) pool->release();
    }
};

/// Token bucket with debt: a caller takes a token now and, when the bucket is empty,
/// is told when its token will exist. Debt keeps callers in FIFO order without a queue.
struct token_bucket {
    double rate = 0;  ///< tokens per second; <= 0 = unlimited
    double burst = 1;
    double tokens = 1;
    steady_time last{};

    steady_time reserve(steady_time now)
    {
        if (rate <= 0) return now;
        double elapsed = std::chrono::duration<double>(now - last).count();
        if (elapsed > 0) {
            tokens = std::min(burst, tokens + elapsed * rate);
            last = now;
        }
        tokens -= 1;
        if (tokens >= 0) return now;
        auto wait = std::chrono::duration<double>(-tokens / rate);
        return now + std::chrono::duration_cast<std::chrono::steady_clock::duration>(wait);
    }
    void give_back()
    {
        if (rate > 0) tokens += 1;
    }
};

}  // namespace

struct http_client::impl {
    executor ex;
    client_settings settings;
    origin base;
    std::string prefix;
    std::optional<error> setup_error;  ///< bad base_url or ca_file: every send fails with it
    proxy_config proxies;
    std::unique_ptr<ssl::context> tls_ctx;
    std::map<std::string, std::deque<std::unique_ptr<connection>>> idle;
    std::uint64_t opened = 0;
    slot_pool slots;
    token_bucket bucket;
    std::mt19937_64 rng{std::random_device{}()};
    std::function<void(const attempt_record&)> on_attempt;

    impl(executor e, client_settings s)
        : ex(std::move(e)), settings(std::move(s)), slots(settings.concurrency)
    {
        bucket.rate = settings.rate_per_second;
        bucket.burst = std::max(1, settings.rate_burst);
        bucket.tokens = bucket.burst;
        bucket.last = std::chrono::steady_clock::now();

        auto u = parse_url(settings.base_url, "base_url");
        if (!u) {
            setup_error = u.error();
        } else {
            base = u->where;
            prefix = u->target;
            while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
            if (prefix.find('?') != std::string::npos)
                setup_error = make_error(errc::invalid_argument,
                                         "base_url '" + settings.base_url + "' must not have a query");
        }
        setup_tls();
        if (!settings.proxy)
            proxies = proxy_config::from_environment();
        else if (!settings.proxy->empty())
            proxies = proxy_config::explicit_proxy(*settings.proxy, "the tenant's proxy setting");
        // A bad proxy URL for the base URL fails every request, before any connection.
        if (!setup_error)
            if (auto p = proxy_for(proxies, base.tls, base.host, base.port); !p) setup_error = p.error();
    }

    void setup_tls()
    {
        tls_ctx = std::make_unique<ssl::context>(ssl::context::tls_client);
        error_code ec;
        tls_ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                                 ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1,
                             ec);
        if (!settings.verify_tls) {
            log::warn("TLS certificate verification is disabled for {} (verify_tls=false)", settings.base_url);
            tls_ctx->set_verify_mode(ssl::verify_none, ec);
            return;
        }
        tls_ctx->set_verify_mode(ssl::verify_peer, ec);
        tls_ctx->set_default_verify_paths(ec);
        if (ec) log::warn("cannot load the system CA store: {}", ec.message());
        if (!settings.ca_file.empty()) {
            error_code fec;
            tls_ctx->load_verify_file(settings.ca_file, fec);
            if (fec && !setup_error)
                setup_error = make_error(errc::config, fmt::format("ca_file '{}' cannot be loaded: {}",
                                                                  settings.ca_file, fec.message()));
        }
    }

    // ---- connections ---------------------------------------------------------------

    std::unique_ptr<connection> take_idle(const origin& o)
    {
        auto it = idle.find(o.key());
        if (it == idle.end()) return nullptr;
        auto& q = it->second;
        auto now = std::chrono::steady_clock::now();
        while (!q.empty()) {
            auto c = std::move(q.back());  // most recently used first: least likely stale
            q.pop_back();
            if (now - c->idle_since < idle_ttl && c->looks_alive()) return c;
            c->close();
        }
        return nullptr;
    }

    void put_idle(const origin& o, std::unique_ptr<connection> c)
    {
        auto& q = idle[o.key()];
        c->idle_since = std::chrono::steady_clock::now();
        q.push_back(std::move(c));
        auto cap = static_cast<std::size_t>(std::max(1, settings.concurrency));
        while (q.size() > cap) {
            q.front()->close();
            q.pop_front();
        }
    }

    /// Resolves, connects and (for https) handshakes. `final` is set when retrying is
    /// pointless (the certificate was rejected).
    awaitable<result<std::unique_ptr<connection>>> open(const origin& o, const proxy_endpoint* px, steady_time until,
                                                        milliseconds budget, bool& final)
    {
        // Through a proxy, the TCP connection goes to the proxy; TLS still speaks to `o`.
        const std::string& host = px ? px->host : o.host;
        const std::uint16_t port = px ? px->port : o.port;
        const std::string peer = px ? "proxy " + px->shown() : o.host_port();
        std::vector<tcp::endpoint> eps;
        error_code ec;
        auto addr = asio::ip::make_address(host, ec);
        if (!ec) {
            eps.emplace_back(addr, port);
        } else {
            tcp::resolver resolver(ex);
            asio::steady_timer timer(ex, until);
            auto r = co_await (resolver.async_resolve(host, std::to_string(port), use_tuple) ||
                               timer.async_wait(use_tuple));
            if (r.index() == 1)
                co_return fail(errc::timeout,
                               fmt::format("resolving {}{} timed out after {} ms", px ? "proxy " : "", host,
                                           budget.count()));
            auto& [rec, results] = std::get<0>(r);
            if (rec)
                co_return fail(errc::transport,
                               fmt::format("cannot resolve {}{}: {}", px ? "proxy " : "", host, rec.message()));
            for (auto& e : results) eps.push_back(e.endpoint());
        }
        error_code ipec;
        asio::ip::make_address(o.host, ipec);
        const bool is_ip = !ipec;

        auto c = std::make_unique<connection>();
        if (o.tls)
            c->tls = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(ex, *tls_ctx);
        else
            c->plain = std::make_unique<beast::tcp_stream>(ex);

        auto& low = c->lowest();
        low.expires_at(until);
        auto [cec, ep] = co_await low.async_connect(eps, use_tuple);
        if (cec == beast::error::timeout)
            co_return fail(errc::timeout, fmt::format("connect to {} timed out after {} ms", peer, budget.count()));
        if (cec) co_return fail(errc::transport, fmt::format("connect to {} failed: {}", peer, cec.message()));
        ++opened;
        error_code nd;
        low.socket().set_option(tcp::no_delay(true), nd);
        if (px && o.tls) {
            auto t = co_await tunnel(low, o, *px, until, budget, final);
            if (!t) co_return t.error();
        }

        if (o.tls) {
            auto& s = *c->tls;
            // SNI only for names: RFC 6066 forbids IP literals in server_name.
            if (!is_ip && !SSL_set_tlsext_host_name(s.native_handle(), o.host.c_str()))
                co_return fail(errc::transport, fmt::format("TLS setup for {} failed: cannot set SNI", o.host_port()));
            if (settings.verify_tls) {
                error_code vec;
                s.set_verify_mode(ssl::verify_peer, vec);
                int mismatch = is_ip ? X509_V_ERR_IP_ADDRESS_MISMATCH : X509_V_ERR_HOSTNAME_MISMATCH;
                s.set_verify_callback(
                    [hv = ssl::host_name_verification(o.host), mismatch](bool pre, ssl::verify_context& ctx) mutable {
                        if (!pre) return false;
                        bool ok = hv(pre, ctx);
                        // host_name_verification leaves the store error at "ok"; record why,
                        // so the handshake error can say it.
                        if (!ok) X509_STORE_CTX_set_error(ctx.native_handle(), mismatch);
                        return ok;
                    },
                    vec);
            }
            low.expires_at(until);
            auto [hec] = co_await s.async_handshake(ssl::stream_base::client, use_tuple);
            if (hec == beast::error::timeout)
                co_return fail(errc::timeout,
                               fmt::format("TLS handshake with {} timed out after {} ms", o.host_port(),
                                           budget.count()));
            if (hec) {
                long vr = SSL_get_verify_result(s.native_handle());
                std::string why = vr != X509_V_OK
                                      ? fmt::format("certificate verify failed ({})", X509_verify_cert_error_string(vr))
                                      : hec.message();
                final = vr != X509_V_OK;  // a rejected certificate will not get better on retry
                co_return fail(final ? errc::tls : errc::transport,
                               fmt::format("TLS handshake with {} failed: {}", o.host_port(), why));
            }
        }
        co_return c;
    }

    /// Asks the proxy for a tunnel to `o` (RFC 9110 9.3.6). A refusal names the proxy (never
    /// its credentials) and the status; 407 and other 4xx are final, 5xx may be retried.
    awaitable<result<void>> tunnel(beast::tcp_stream& s, const origin& o, const proxy_endpoint& px,
                                   steady_time until, milliseconds budget, bool& final)
    {
        const std::string what = fmt::format("proxy {}: CONNECT {}", px.shown(), o.host_port());
        http::request<http::empty_body> rq{http::verb::connect, o.host_port(), 11};
        rq.set(http::field::host, o.host_port());
        rq.set(http::field::user_agent, settings.user_agent);
        if (auto a = px.authorization(); !a.empty()) rq.set(http::field::proxy_authorization, a);
        s.expires_at(until);
        auto [wec, wn] = co_await http::async_write(s, rq, use_tuple);
        beast::flat_buffer buf;
        http::response_parser<http::empty_body> parser;
        parser.skip(true);  // a 2xx answer to CONNECT has no body: the tunnel starts after it
        error_code rec;
        if (!wec) std::tie(rec, std::ignore) = co_await http::async_read(s, buf, parser, use_tuple);
        auto ec = wec ? wec : rec;
        if (ec == beast::error::timeout)
            co_return fail(errc::timeout, fmt::format("{} timed out after {} ms", what, budget.count()));
        if (ec) co_return fail(errc::transport, fmt::format("{} failed: {}", what, ec.message()));
        const auto& res = parser.get();
        int status = static_cast<int>(res.result_int());
        if (status / 100 == 2) {
            if (buf.size() != 0)
                co_return fail(errc::bad_response, what + ": the proxy sent data before the TLS handshake");
            co_return result<void>{};
        }
        final = status < 500;
        std::string reason(res.reason());
        // Some proxies (tinyproxy) answer a failed login with 401 rather than 407.
        std::string hint = status == 407 || status == 401 ? (px.authorization().empty()
                                                ? " (the proxy wants credentials: http://user:password@host:port)"
                                                : " (the proxy refused the credentials in the proxy URL)")
                                         : "";
        co_return fail(errc::http_status,
                       fmt::format("{} refused: HTTP {}{}{}{}", what, status, reason.empty() ? "" : " ", reason, hint),
                       status);
    }

    // ---- one attempt ---------------------------------------------------------------

    struct attempt_outcome {
        std::optional<http_response> response;
        error err;
        bool final = false;
    };

    awaitable<attempt_outcome> attempt(const origin& o,
                                       const proxy_endpoint* px,
                                       const http::request<http::string_body>& rq,
                                       const std::string& what,
                                       bool may_replay,
                                       steady_time deadline)
    {
        attempt_outcome out;
        auto fail_with = [&](errc code, std::string msg) {
            out.err = make_error(code, what + ": " + msg);
        };

        auto conn = take_idle(o);
        bool reused = conn != nullptr;
        for (int round = 0;; ++round) {
            if (!conn) {
                auto now = std::chrono::steady_clock::now();
                auto connect_until = std::min(now + settings.connect_timeout, deadline);
                bool final = false;
                auto opened_conn = co_await open(o, px, connect_until, to_ms(connect_until - now), final);
                if (!opened_conn) {
                    out.err = opened_conn.error();
                    out.final = final;
                    out.err.message = what + ": " + out.err.message;
                    if (out.err.code == errc::timeout && connect_until == deadline &&
                        deadline < now + settings.connect_timeout)
                        out.err.message += " (overall deadline)";
                    co_return out;
                }
                conn = std::move(*opened_conn);
                reused = false;
            }

            auto start = std::chrono::steady_clock::now();
            auto until = std::min(start + settings.request_timeout, deadline);
            // (no `?:` around co_await: GCC 12 miscompiles a conditional of two co_awaits)
            exchange_result ex_res;
            if (conn->tls)
                ex_res = co_await exchange(*conn->tls, *conn, rq, until, settings.max_body);
            else
                ex_res = co_await exchange(*conn->plain, *conn, rq, until, settings.max_body);
            if (!ex_res.ec) {
                ++conn->uses;
                auto& res = ex_res.res;
                if (px && !o.tls && res.result_int() == 407) {
                    conn->close();
                    fail_with(errc::http_status,
                              fmt::format("proxy {} refused the request: HTTP 407{}", px->shown(),
                                          px->authorization().empty() ? " (the proxy wants credentials)"
                                                                      : " (the proxy refused the credentials)"));
                    out.err.http_status = 407;
                    out.final = true;
                    co_return out;
                }
                http_response r;
                r.status = static_cast<int>(res.result_int());
                for (auto& f : res) r.headers.add(std::string(f.name_string()), std::string(f.value()));
                bool keep = res.keep_alive();
                auto enc = lower(res[http::field::content_encoding]);
                if (enc == "gzip" || enc == "x-gzip" || enc == "deflate") {
                    auto inflated = enc == "deflate" ? zlib_decompress(res.body(), settings.max_body)
                                                     : gzip_decompress(res.body(), settings.max_body);
                    if (!inflated) {
                        conn->close();
                        auto e = inflated.error();
                        if (e.code == errc::body_too_large)
                            fail_with(e.code, fmt::format("{} response body exceeds max_body ({} bytes) once inflated",
                                                          enc, settings.max_body));
                        else
                            fail_with(errc::bad_response,
                                      fmt::format("{} response body cannot be inflated: {}", enc, e.message));
                        out.final = true;
                        co_return out;
                    }
                    r.body = std::move(*inflated);
                } else {
                    r.body = std::move(res.body());
                }
                if (keep)
                    put_idle(o, std::move(conn));
                else
                    conn->close();
                out.response = std::move(r);
                co_return out;
            }

            conn->close();
            auto ec = ex_res.ec;
            // A kept-alive connection the server closed while idle fails on write or before
            // the first response byte. The request then never reached a handler or was
            // dropped unanswered, so replaying it on a fresh connection is safe for
            // idempotent requests and does not count as an attempt.
            bool transport_failure = ec != beast::error::timeout && ec != asio::error::operation_aborted &&
                                     ec != http::error::body_limit;
            if (reused && round == 0 && ex_res.before_response && transport_failure && may_replay) {
                log::debug("{}: reused connection failed ({}), replaying on a new connection", what, ec.message());
                conn.reset();
                continue;
            }
            if (ec == beast::error::timeout) {
                bool overall = until == deadline && deadline < start + settings.request_timeout;
                fail_with(errc::timeout,
                          fmt::format("{} timed out after {} ms{}", ex_res.stage, to_ms(until - start).count(),
                                      overall ? " (overall deadline)" : ""));
            } else if (ec == http::error::body_limit) {
                fail_with(errc::body_too_large,
                          fmt::format("response body exceeds max_body ({} bytes)", settings.max_body));
                out.final = true;
            } else if (ec == asio::error::operation_aborted) {
                fail_with(errc::cancelled, fmt::format("{} cancelled", ex_res.stage));
                out.final = true;
            } else if (ec == http::error::end_of_stream && ex_res.before_response) {
                fail_with(errc::transport, fmt::format("{} failed: server closed the connection{}", ex_res.stage,
                                                       reused ? " (reused connection)" : ""));
            } else if (ec.category() == http::make_error_code(http::error::bad_version).category() &&
                       ec != http::error::partial_message && ec != http::error::end_of_stream) {
                fail_with(errc::bad_response, fmt::format("malformed response: {}", ec.message()));
            } else {
                fail_with(errc::transport, fmt::format("{} failed: {}", ex_res.stage, ec.message()));
            }
            co_return out;
        }
    }

    // ---- the request loop ----------------------------------------------------------

    /// The retry decision, every case in one place:
    ///  * a response with a status other than 408/425/429/5xx: done, the caller decides;
    ///  * failures that cannot improve (certificate rejected, body too large, corrupt gzip,
    ///    malformed response, cancellation): done;
    ///  * 429, and 503 with Retry-After, for any method: the server says it did not process
    ///    the request (RFC 9110 15.6.4, RFC 6585 4), so even a POST without a key is safe;
    ///  * other failures of a POST/PATCH without an idempotency key that is not repeatable: done
    ///    (a replay could duplicate the write);
    ///  * the last attempt: done;
    ///  * otherwise (transport error, timeout, retryable status): retry -- the caller still
    ///    drops the retry when its wait would pass the overall deadline.
    static bool should_retry(const attempt_outcome& out, bool may_retry, int n, int max_attempts)
    {
        if (n >= max_attempts) return false;
        if (out.response && not_processed(*out.response)) return true;
        bool transient = out.response ? retryable_status(out.response->status)
                                      : (!out.final && is_retryable(out.err));
        return transient && may_retry;
    }

    static bool not_processed(const http_response& r)
    {
        return r.status == 429 || (r.status == 503 && r.headers.find("Retry-After"));
    }

    milliseconds backoff_for(int attempt_no)
    {
        // Full jitter (AWS architecture blog, "Exponential Backoff And Jitter"): spreads
        // clients that failed together instead of synchronising their retries.
        double cap = static_cast<double>(settings.initial_backoff.count()) * std::pow(2.0, attempt_no - 1);
        cap = std::min(cap, static_cast<double>(settings.max_backoff.count()));
        if (cap <= 0) return milliseconds(0);
        std::uniform_int_distribution<long long> dist(0, static_cast<long long>(cap));
        return milliseconds(dist(rng));
    }

    /// Minimum wait the server asked for (Retry-After, RateLimit-Reset), capped at max_backoff.
    std::optional<milliseconds> server_hint(const http_response& r)
    {
        auto hint = server_wait_hint(r.headers, std::chrono::system_clock::now());
        if (hint) hint = std::min(*hint, settings.max_backoff);
        return hint;
    }

    awaitable<bool> sleep_until(steady_time t)
    {
        asio::steady_timer timer(ex, t);
        auto [ec] = co_await timer.async_wait(use_tuple);
        co_return !ec;
    }

    awaitable<result<http_response>> send(http_request req, steady_time deadline)
    {
        if (setup_error) co_return *setup_error;

        std::string method = req.method;
        for (char& c : method) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));

        origin o = base;
        std::string target;
        bool foreign = false;
        if (!req.absolute_url.empty()) {
            auto u = parse_url(req.absolute_url, "absolute_url");
            if (!u) co_return std::move(u).error().context(method);
            o = u->where;
            target = u->target.empty() ? "/" : u->target;
            foreign = !(o == base);
        } else {
            target = join_target(prefix, req.target);
        }
        // Absolute URLs are mostly pre-signed downloads whose query is a credential: texts
        // that leave this function (errors, logs, attempt records) show only its path.
        std::string shown = target;
        if (!req.absolute_url.empty())
            if (auto q = shown.find('?'); q != std::string::npos) shown = shown.substr(0, q) + "?...";
        const std::string what = fmt::format("{} {}{}", method, o.key(), shown);
        auto px = proxy_for(proxies, o.tls, o.host, o.port);
        if (!px) co_return std::move(px).error().context(what);

        http::request<http::string_body> rq;
        auto verb = http::string_to_verb(method);
        if (verb == http::verb::unknown)
            rq.method_string(method);
        else
            rq.method(verb);
        // A plain-http request through a proxy names the whole URL (RFC 9112 3.2.2).
        rq.target(*px && !o.tls ? o.key() + target : target);
        rq.version(11);
        rq.set(http::field::host, o.host_header());
        rq.set(http::field::user_agent, settings.user_agent);
        rq.set(http::field::accept_encoding, "gzip");
        // Default headers belong to the base URL's service (tenant ids, tracking ids);
        // they are not sent to other hosts (downloads from storage URLs).
        if (!foreign)
            for (auto& [n, v] : settings.default_headers.fields) rq.set(n, v);
        for (auto& [n, v] : req.headers.fields) rq.set(n, v);
        if (!req.idempotency_key.empty()) rq.set("Idempotency-Key", req.idempotency_key);
        if (!req.body.empty() && !req.content_type.empty()) rq.set(http::field::content_type, req.content_type);
        if (req.gzip_body && !req.body.empty()) {
            rq.body() = gzip_compress(req.body);
            rq.set(http::field::content_encoding, "gzip");
        } else {
            rq.body() = std::move(req.body);
        }
        if (*px && !o.tls)
            if (auto a = (*px)->authorization(); !a.empty()) rq.set(http::field::proxy_authorization, a);
        rq.keep_alive(true);
        rq.prepare_payload();

        const bool may_retry = idempotent_method(method) || !req.idempotency_key.empty() || req.repeatable;
        const int max_attempts = std::max(1, settings.max_attempts);

        // The concurrency slot is held across retries: backing off is part of the request.
        if (!co_await slots.acquire(ex, deadline))
            co_return fail(errc::timeout, what + ": no free request slot before the deadline");
        slot_guard guard(&slots);

        for (int n = 1;; ++n) {
            auto now = std::chrono::steady_clock::now();
            if (now >= deadline)
                co_return fail(errc::timeout, fmt::format("{}: deadline passed before attempt {}", what, n));
            auto go = bucket.reserve(now);
            if (go > now) {
                if (go >= deadline) {
                    bucket.give_back();
                    co_return fail(errc::timeout, what + ": rate limit wait would pass the deadline");
                }
                if (!co_await sleep_until(go)) co_return fail(errc::cancelled, what + ": cancelled");
            }

            auto start = std::chrono::steady_clock::now();
            auto out = co_await attempt(o, *px ? &**px : nullptr, rq, what, may_retry, deadline);
            attempt_record rec;
            rec.method = method;
            rec.target = shown;
            rec.attempt = n;
            rec.elapsed = std::chrono::steady_clock::now() - start;
            if (out.response) {
                rec.status = out.response->status;
                out.response->attempts = n;
            } else {
                rec.error = log::redact(out.err.what());
            }

            bool retry = should_retry(out, may_retry, n, max_attempts);
            milliseconds wait{0};
            bool deadline_stop = false;
            if (retry) {
                wait = backoff_for(n);
                if (out.response)
                    if (auto hint = server_hint(*out.response)) wait = std::max(wait, *hint);
                if (std::chrono::steady_clock::now() + wait >= deadline) {
                    retry = false;
                    deadline_stop = true;
                    wait = milliseconds(0);
                }
            }
            rec.backoff = wait;
            if (on_attempt) on_attempt(rec);
            log::debug("{} attempt {}: {} in {:.1f} ms{}", what, n,
                       out.response ? std::to_string(out.response->status) : rec.error, rec.elapsed.count() * 1000,
                       retry ? fmt::format(", retry in {} ms", wait.count()) : "");

            if (!retry) {
                std::string tail = fmt::format(" (after {} attempt{}{})", n, n == 1 ? "" : "s",
                                               deadline_stop ? "; no time left before the deadline" : "");
                if (out.response) {
                    int s = out.response->status;
                    if (!retryable_status(s)) co_return std::move(*out.response);
                    std::string msg = fmt::format("{}: HTTP {}{}", what, s, tail);
                    auto body = excerpt(out.response->body);
                    if (!body.empty()) msg += ": " + body;
                    co_return fail(s == 429 ? errc::rate_limited : errc::http_status, log::redact(msg), s);
                }
                out.err.message = log::redact(out.err.message + tail);
                co_return out.err;
            }
            if (wait.count() > 0 && !co_await sleep_until(std::chrono::steady_clock::now() + wait))
                co_return fail(errc::cancelled, what + ": cancelled while waiting to retry");
        }
    }
};

http_client::http_client(executor ex, client_settings settings)
    : impl_(std::make_unique<impl>(std::move(ex), std::move(settings)))
{
}

http_client::~http_client()
{
    close();
}

awaitable<result<http_response>> http_client::send(http_request req, steady_time deadline)
{
    std::string what = req.method + " " + req.target;
    try {
        co_return co_await impl_->send(std::move(req), deadline);
    } catch (const boost::system::system_error& e) {
        // Asio throws operation_aborted at the next co_await once the caller cancelled us.
        if (e.code() == asio::error::operation_aborted) co_return fail(errc::cancelled, what + ": cancelled");
        co_return fail(errc::internal, fmt::format("{}: http client: {}", what, e.what()));
    } catch (const std::exception& e) {
        co_return fail(errc::internal, fmt::format("{}: http client: {}", what, e.what()));
    }
}

awaitable<result<http_response>> http_client::send(http_request req)
{
    auto& s = impl_->settings;
    auto deadline = std::chrono::steady_clock::now() + s.request_timeout * std::max(1, s.max_attempts);
    co_return co_await send(std::move(req), deadline);
}

void http_client::on_attempt(std::function<void(const attempt_record&)> f)
{
    impl_->on_attempt = std::move(f);
}

void http_client::set_default_header(std::string name, std::string value)
{
    impl_->settings.default_headers.set(std::move(name), std::move(value));
}

const client_settings& http_client::settings() const noexcept
{
    return impl_->settings;
}

std::uint64_t http_client::connections_opened() const noexcept
{
    return impl_->opened;
}

void http_client::close()
{
    for (auto& [key, q] : impl_->idle)
        for (auto& c : q) c->close();
    impl_->idle.clear();
}

}  // namespace wfsync::net
