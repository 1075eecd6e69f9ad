// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <wfsync/core/async.hpp>
#include <wfsync/core/duration.hpp>
#include <wfsync/core/error.hpp>
#include <wfsync/net/http.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace wfsync::net {

/// A request as the server hands it to a handler (body inflated if gzip-encoded).
struct server_request {
    std::string method;
    std::string target;  ///< path and query as sent
    std::string path;    ///< decoded path without query
    std::string query;   ///< raw query string without '?'
    header_list headers;
    std::string body;
    std::uint64_t connection_id = 0;
    std::string remote;  ///< peer address
};

/// What a handler answers. Faults let the emulator and fake servers misbehave on purpose.
struct server_response {
    int status = 200;
    header_list headers;
    std::string body;
    std::string content_type = "application/json";

    enum class fault {
        none,
        close_before_response,  ///< read the request, then close without answering
        truncate_body,          ///< send headers with the full Content-Length, then half the body, close
        reset,                  ///< abortive close (RST) instead of an answer
    };
    fault fail = fault::none;
    bool gzip = false;  ///< gzip the body (sets Content-Encoding) if the client accepts it
};

/// Handlers are coroutines so that they can wait (latency injection, slow jobs).
using request_handler = std::function<awaitable<server_response>(server_request)>;

struct server_settings {
    std::string listen = "127.0.0.1:0";  ///< host:port; port 0 = any free port
    std::string cert_file;               ///< PEM; with key_file enables HTTPS
    std::string key_file;
    std::size_t max_body = 64u << 20;
    milliseconds idle_timeout{30'000};
};

/// A small HTTP/1.1 (and HTTPS) server on Beast, keep-alive, one coroutine per connection.
/// Used by the emulator, the admin endpoint and tests.
/// Thread safety: use from the executor's one thread only.
class http_server {
public:
    http_server(executor ex, server_settings settings, request_handler handler);
    ~http_server();

    /// Binds and starts accepting. Fails naming the address when it cannot bind.
    [[nodiscard]] result<void> start();
    /// The bound port (after start).
    std::uint16_t port() const noexcept;
    /// "http://127.0.0.1:PORT" or "https://..." (after start).
    std::string base_url() const;
    /// Stops accepting and closes every connection.
    void stop();
    std::uint64_t connections_accepted() const noexcept;

private:
    struct impl;
    std::shared_ptr<impl> impl_;
};

}  // namespace wfsync::net
