// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <wfsync/core/duration.hpp>
#include <wfsync/core/async.hpp>
#include <wfsync/core/error.hpp>

#include <boost/json/object.hpp>

#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace wfsync::config {
struct config;
struct admin_settings;
}  // namespace wfsync::config

namespace wfsync::net {
struct server_request;
struct server_response;
}  // namespace wfsync::net

namespace wfsync::app {

/// What the admin endpoint asks of the daemon. `wfsync serve` implements it; every call is
/// made on the admin server's executor (the daemon's io thread).
struct admin_provider {
    virtual ~admin_provider() = default;

    /// Config loaded and store open (GET /readyz).
    virtual bool ready() const = 0;

    /// Prometheus text, format 0.0.4 (GET /metrics), e.g. daemon_metrics::render().
    virtual std::string metrics_text() = 0;

    /// The GET /status body. Shape (what `wfsync status` reads; times are ISO 8601 UTC,
    /// "2026-11-23T15:04:05Z"):
    /// ```
    /// {
    ///   "version": "0.1.0",
    ///   "started_at": "2026-11-23T15:00:00Z",
    ///   "config_file": "/etc/wfsync/wfsync.yaml",
    ///   "ready": true,
    ///   "rules": [
    ///     { "name": "prod-to-sandbox", "source": "zuora-prod", "targets": ["zuora-sbx"],
    ///       "schedule": "0 2 * * *",            // "" = only by hand
    ///       "timezone": "Europe/Berlin",
    ///       "next_fire": "2026-11-24T01:00:00Z", // or null
    ///       "running": false,
    ///       "last_outcome": "ok",               // ok|partial|failed|skipped_overlap, or null
    ///       "last_run": "2026-11-23T01:00:02Z", // or null
    ///       "last_success": "2026-11-23T01:00:02Z", // or null
    ///       "runs": 12, "skipped_overlap": 0 }
    ///   ],
    ///   "pending_jobs": 0,
    ///   "held_imports": [ { "intent": 7, "rule": "...", "target_tenant": "...",
    ///                       "workflow": "...", "version": "...", "check": "what to look at" } ]
    /// }
    /// ```
    virtual boost::json::object status() = 0;

    /// POST /rules/{name}/run: starts a run of the rule now, without waiting for it.
    /// A value (e.g. the run id or "started") means accepted -> 202; errc::not_found -> 404;
    /// errc::conflict (a run of that rule is in flight) -> 409; any other error -> 503.
    virtual result<std::string> run_rule(const std::string& name) = 0;
};

/// The time format of /status: wfsync::format_iso_utc (UTC, whole seconds).
using wfsync::format_iso_utc;

/// One rule in /status; to_json() gives the documented shape.
struct rule_status {
    std::string name;
    std::string source;
    std::vector<std::string> targets;
    std::string schedule;  ///< "" = only by hand
    std::string timezone = "UTC";
    std::optional<std::chrono::system_clock::time_point> next_fire;
    bool running = false;
    std::string last_outcome;  ///< "" = never ran (null)
    std::optional<std::chrono::system_clock::time_point> last_run;
    std::optional<std::chrono::system_clock::time_point> last_success;
    std::int64_t runs = 0;
    std::int64_t skipped_overlap = 0;
};

/// The whole /status body; the provider may fill this and return to_json(it).
struct daemon_status {
    std::string version = "0.1.0";
    std::chrono::system_clock::time_point started_at{};
    std::string config_file;
    bool ready = false;
    std::vector<rule_status> rules;
    std::int64_t pending_jobs = 0;
    /// Imports held for an operator (`wfsync resolve`).
    struct held_import {
        std::int64_t intent = 0;
        std::string rule, target_tenant, workflow, version, check;
    };
    std::vector<held_import> held_imports;
};

boost::json::object to_json(const rule_status& r);
boost::json::object to_json(const daemon_status& s);

/// Settings of the admin endpoint.
struct admin_server_settings {
    std::string listen = "127.0.0.1:9470";  ///< host:port; port 0 = any free port (tests)
    /// Bearer token; empty = no authentication. Never logged, never echoed.
    std::string token;
};

/// Builds admin_server_settings from the config's `admin` section, reading the token file
/// (a trailing newline is not part of the token). Fails naming the file, never its content.
[[nodiscard]] result<admin_server_settings> admin_settings_from(const config::admin_settings& a);

/// What the admin endpoint answers to one request, as the table under admin_server says;
/// admin_server calls it for each request. Logs nothing about the request itself.
net::server_response admin_answer(const net::server_request& req,
                                  const admin_server_settings& settings,
                                  admin_provider& provider);

/// The daemon's HTTP admin endpoint on net::http_server:
///
/// | route                  | answer |
/// |------------------------|--------|
/// | GET /healthz           | 200 "ok" (never needs the token) |
/// | GET /readyz            | 200 "ready" / 503 "not ready" |
/// | GET /metrics           | 200 Prometheus text, `text/plain; version=0.0.4` |
/// | GET /status            | 200 JSON (admin_provider::status) |
/// | POST /rules/{name}/run | 202 {"accepted":true,"rule":name,"message":...} / 404 / 409 / 503 |
///
/// HEAD works wherever GET does. Other paths: 404; a known path with another method: 405 with
/// `Allow`. With a token, every route except /healthz needs `Authorization: Bearer <token>`
/// (compared in constant time) and answers 401 with `WWW-Authenticate: Bearer` otherwise,
/// before revealing whether the path exists.
///
/// Thread safety: use from the executor's one thread only.
class admin_server {
public:
    admin_server(executor ex, admin_server_settings settings, admin_provider& provider);
    ~admin_server();
    admin_server(const admin_server&) = delete;
    admin_server& operator=(const admin_server&) = delete;

    /// Binds and starts serving; logs the address, and warns when it is not a loopback
    /// address and no token is set. Fails naming the address when it cannot bind.
    [[nodiscard]] result<void> start();
    /// "http://127.0.0.1:PORT" (after start).
    std::string base_url() const;
    std::uint16_t port() const noexcept;
    /// Stops accepting and closes every connection.
    void stop();

private:
    struct impl;
    std::shared_ptr<impl> impl_;
};

/// True when `listen` ("host:port") names a loopback address (127.0.0.0/8, ::1, localhost).
bool is_loopback_listen(const std::string& listen);

/// `wfsync status`: GET {admin.listen}/status (with the token from admin.token_file if set)
/// and prints a table for people, or the JSON as received with `json`. Returns the exit code:
/// 0; 75 when the daemon does not answer ("wfsync serve is not running (no answer on ...)");
/// 78 when the token is refused or cannot be read; 1 for another unexpected answer.
int run_status(const config::config& cfg, bool json, std::ostream& out, std::ostream& err);

}  // namespace wfsync::app
