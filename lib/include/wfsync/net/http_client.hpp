// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <wfsync/core/async.hpp>
#include <wfsync/core/duration.hpp>
#include <wfsync/core/error.hpp>
#include <wfsync/net/http.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace wfsync::net {

/// Settings of one client: one per tenant (one base URL, one set of limits).
struct client_settings {
    std::string base_url;           ///< http[s]://host[:port][/prefix]
    std::string ca_file;            ///< extra trusted CAs (PEM); empty = system store
    bool verify_tls = true;
    milliseconds connect_timeout{10'000};
    milliseconds request_timeout{30'000};  ///< one attempt: write + read
    int max_attempts = 6;
    milliseconds initial_backoff{500};
    milliseconds max_backoff{60'000};
    int concurrency = 4;                   ///< requests in flight at once
    double rate_per_second = 20.0;         ///< token bucket; <= 0 = unlimited
    int rate_burst = 20;
    std::size_t max_body = 64u << 20;      ///< cap on a response body, after inflating
    std::string user_agent = "wfsync/0.1";
    /// HTTP proxy: nullopt = from the environment (net::proxy_config::from_environment);
    /// "" = none, whatever the environment says; else a proxy URL for every target, with the
    /// environment's NO_PROXY still honoured (as curl's --proxy).
    std::optional<std::string> proxy;
    /// Headers sent with every request (e.g. Zuora-Track-Id for the run).
    header_list default_headers;
};

/// One attempt of one request, for metrics and tests.
struct attempt_record {
    std::string method;
    std::string target;
    int attempt = 1;
    int status = 0;         ///< 0 = transport failure
    std::string error;      ///< empty on a response
    std::chrono::duration<double> elapsed{0};  ///< seconds, with the steady clock's precision
    /// Wait chosen before the next attempt (0 = no further attempt). Includes the
    /// Retry-After / RateLimit-Reset minimum, so tests can check it without sleeping long.
    milliseconds backoff{0};
};

/// HTTP/1.1 client for one base URL: keep-alive connections (reused), TLS with peer and
/// host name verification and SNI, per-attempt timeouts within an overall deadline,
/// gzip responses with an inflate cap, and retries with exponential backoff and full
/// jitter on transport errors and 408/425/429/5xx, honouring Retry-After and
/// RateLimit-Reset. A POST or PATCH is retried only when it carries an idempotency key.
/// Through an HTTP proxy (client_settings::proxy): https targets by a CONNECT tunnel, TLS
/// still verified against the target; http targets by absolute-URI requests to the proxy.
///
/// Thread safety: use from the executor's one thread only.
class http_client {
public:
    http_client(executor ex, client_settings settings);
    ~http_client();
    http_client(const http_client&) = delete;
    http_client& operator=(const http_client&) = delete;

    /// Sends `req`, retrying as above until success, a non-retryable answer, the last
    /// attempt or `deadline`. Any HTTP status comes back as a response (the caller decides
    /// what a 404 means) except a retryable status after the last attempt, which is an
    /// error of kind http_status / rate_limited carrying the status.
    [[nodiscard]] awaitable<result<http_response>> send(http_request req, steady_time deadline);

    /// As send(), with deadline = now + max_attempts * request_timeout.
    [[nodiscard]] awaitable<result<http_response>> send(http_request req);

    /// Called after every attempt (metrics, tests). Not called for requests never sent.
    void on_attempt(std::function<void(const attempt_record&)> f);

    /// Replaces the default headers (e.g. a new Zuora-Track-Id per run).
    void set_default_header(std::string name, std::string value);

    const client_settings& settings() const noexcept;

    /// Connections opened so far (keep-alive reuse keeps this low).
    std::uint64_t connections_opened() const noexcept;

    /// Closes idle connections.
    void close();

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace wfsync::net
