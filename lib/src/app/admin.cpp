// SPDX-License-Identifier: Apache-2.0
#include <wfsync/app/admin.hpp>
#include <wfsync/core/read_file.hpp>

#include <wfsync/config/config.hpp>
#include <wfsync/core/log.hpp>
#include <wfsync/net/http_server.hpp>

#include <boost/asio/ip/address.hpp>

#include <fmt/format.h>

#include <boost/json/array.hpp>
#include <boost/json/string.hpp>

#include <ctime>
#include <fstream>
#include <sstream>

namespace wfsync::app {
namespace {

/// A request path for a log line: control characters (a decoded %0A) would forge lines.
std::string printable(std::string_view s)
{
    std::string out;
    out.reserve(s.size());
    for (char c : s) {
        auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7f) out += fmt::format("\\x{:02x}", u);
        else out += c;
    }
    return out;
}

boost::json::value time_or_null(const std::optional<std::chrono::system_clock::time_point>& t)
{
    if (!t) return nullptr;
    return boost::json::string(format_iso_utc(*t));
}

}  // namespace

boost::json::object to_json(const rule_status& r)
{
    boost::json::array targets;
    for (const auto& t : r.targets) targets.emplace_back(t);
    boost::json::object o;
    o["name"] = r.name;
    o["source"] = r.source;
    o["targets"] = std::move(targets);
    o["schedule"] = r.schedule;
    o["timezone"] = r.timezone;
    o["next_fire"] = time_or_null(r.next_fire);
    o["running"] = r.running;
    if (r.last_outcome.empty()) o["last_outcome"] = nullptr;
    else o["last_outcome"] = r.last_outcome;
    o["last_run"] = time_or_null(r.last_run);
    o["last_success"] = time_or_null(r.last_success);
    o["runs"] = r.runs;
    o["skipped_overlap"] = r.skipped_overlap;
    return o;
}

boost::json::object to_json(const daemon_status& s)
{
    boost::json::array rules;
    for (const auto& r : s.rules) rules.emplace_back(to_json(r));
    boost::json::object o;
    o["version"] = s.version;
    o["started_at"] = format_iso_utc(s.started_at);
    o["config_file"] = s.config_file;
    o["ready"] = s.ready;
    o["rules"] = std::move(rules);
    o["pending_jobs"] = s.pending_jobs;
    boost::json::array held;
    for (const auto& h : s.held_imports)
        held.push_back(boost::json::object{{"intent", h.intent},
                                           {"rule", h.rule},
                                           {"target_tenant", h.target_tenant},
                                           {"workflow", h.workflow},
                                           {"version", h.version},
                                           {"check", log::redact(h.check)}});
    o["held_imports"] = std::move(held);
    return o;
}

bool is_loopback_listen(const std::string& listen)
{
    auto colon = listen.rfind(':');
    std::string host = colon == std::string::npos ? listen : listen.substr(0, colon);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    if (net::iequals(host, "localhost")) return true;
    boost::system::error_code ec;
    auto addr = boost::asio::ip::make_address(host, ec);
    return !ec && addr.is_loopback();
}

result<admin_server_settings> admin_settings_from(const config::admin_settings& a)
{
    admin_server_settings s;
    s.listen = a.listen;
    if (a.token_file.empty()) return s;
    // A regular file of a sane size: a FIFO or a device is refused, not read for ever.
    auto read = read_regular_file(a.token_file, 64 * 1024);
    if (!read) return fail(errc::config, fmt::format("admin.token_file: {}", read.error().message));
    std::string token = std::move(*read);
    // Files written with `echo` end in a newline that is not part of the token.
    if (!token.empty() && token.back() == '\n') {
        token.pop_back();
        if (!token.empty() && token.back() == '\r') token.pop_back();
    }
    if (token.empty()) return fail(errc::config, fmt::format("admin.token_file: '{}' is empty", a.token_file));
    log::add_secret(token);
    s.token = std::move(token);
    return s;
}

struct admin_server::impl {
    admin_server_settings settings;
    admin_provider& provider;
    std::unique_ptr<net::http_server> server;

    impl(executor ex, admin_server_settings s, admin_provider& p) : settings(std::move(s)), provider(p)
    {
        net::server_settings ss;
        ss.listen = settings.listen;
        ss.max_body = 64 * 1024;  // admin requests carry no real bodies
        server = std::make_unique<net::http_server>(
            std::move(ex), std::move(ss), [this](net::server_request req) -> awaitable<net::server_response> {
                auto res = admin_answer(req, settings, provider);
                // Method and path only: headers may hold the token.
                log::debug("admin {} {} -> {} ({})", printable(req.method), printable(req.path), res.status, req.remote);
                co_return res;
            });
    }
};

admin_server::admin_server(executor ex, admin_server_settings settings, admin_provider& provider)
    : impl_(std::make_shared<impl>(std::move(ex), std::move(settings), provider))
{
    if (!impl_->settings.token.empty()) log::add_secret(impl_->settings.token);
}

admin_server::~admin_server() = default;

result<void> admin_server::start()
{
    if (auto r = impl_->server->start(); !r) return r.error().context("admin endpoint");
    log::info("admin endpoint listening on {}{}", impl_->server->base_url(),
              impl_->settings.token.empty() ? "" : " (bearer token required)");
    if (impl_->settings.token.empty() && !is_loopback_listen(impl_->settings.listen))
        log::warn("admin endpoint listens on non-loopback address {} without a token: anyone who can reach it "
                  "can read /status and /metrics and start runs; set admin.token_file",
                  impl_->settings.listen);
    return {};
}

std::string admin_server::base_url() const
{
    return impl_->server->base_url();
}

std::uint16_t admin_server::port() const noexcept
{
    return impl_->server->port();
}

void admin_server::stop()
{
    impl_->server->stop();
}

}  // namespace wfsync::app
