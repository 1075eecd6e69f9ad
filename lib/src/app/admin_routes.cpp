// SPDX-License-Identifier: Apache-2.0
// The admin endpoint's answer to one request (routes, methods, the bearer token), apart from
// the socket so that tests and the fuzzer reach it directly.
#include <wfsync/app/admin.hpp>

#include <wfsync/core/hash.hpp>
#include <wfsync/core/log.hpp>
#include <wfsync/net/http_server.hpp>

#include <boost/json/serialize.hpp>

#include <string_view>

namespace wfsync::app {
namespace {

/// Compares two secrets in time independent of where they differ (and of their lengths):
/// both are hashed first, then every byte of the digests is looked at.
bool constant_time_equal(std::string_view a, std::string_view b)
{
    auto ha = sha256_hex(a);
    auto hb = sha256_hex(b);
    unsigned char diff = 0;
    for (std::size_t i = 0; i < ha.size() && i < hb.size(); ++i)
        diff |= static_cast<unsigned char>(ha[i] ^ hb[i]);
    return diff == 0 && ha.size() == hb.size();
}

net::server_response text(int status, std::string body)
{
    net::server_response r;
    r.status = status;
    r.body = std::move(body);
    r.content_type = "text/plain; charset=utf-8";
    return r;
}

net::server_response json(int status, const boost::json::value& v)
{
    net::server_response r;
    r.status = status;
    r.body = boost::json::serialize(v);
    r.body += '\n';
    r.content_type = "application/json";
    return r;
}

net::server_response method_not_allowed(std::string allow)
{
    auto r = text(405, "method not allowed\n");
    r.headers.set("Allow", std::move(allow));
    return r;
}

bool authorized(const net::server_request& req, const admin_server_settings& settings)
{
    if (settings.token.empty()) return true;
    const std::string* h = req.headers.find("Authorization");
    if (!h) return false;
    std::string_view v = *h;
    constexpr std::string_view scheme = "Bearer";
    if (v.size() <= scheme.size() || !net::iequals(v.substr(0, scheme.size()), scheme) || v[scheme.size()] != ' ')
        return false;
    v.remove_prefix(scheme.size());
    while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
    while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
    return constant_time_equal(v, settings.token);
}

net::server_response run(const std::string& name, admin_provider& provider)
{
    auto r = provider.run_rule(name);
    if (r) {
        log::info("admin: run of rule '{}' requested", name);
        return json(202, boost::json::object{{"accepted", true}, {"rule", name}, {"message", log::redact(*r)}});
    }
    int status = r.error().code == errc::not_found ? 404 : r.error().code == errc::conflict ? 409 : 503;
    return json(status, boost::json::object{{"accepted", false},
                                            {"rule", name},
                                            {"error", log::redact(r.error().message)}});
}

}  // namespace

net::server_response admin_answer(const net::server_request& req,
                                  const admin_server_settings& settings,
                                  admin_provider& provider)
{
    const std::string& path = req.path;
    bool get = req.method == "GET" || req.method == "HEAD";

    // Liveness needs no token: the supervisor probing it has none.
    if (path == "/healthz") return get ? text(200, "ok\n") : method_not_allowed("GET, HEAD");

    if (!authorized(req, settings)) {
        auto r = text(401, "unauthorized: send Authorization: Bearer <token> (admin.token_file)\n");
        bool sent = req.headers.find("Authorization") != nullptr;
        r.headers.set("WWW-Authenticate",
                      sent ? R"(Bearer realm="wfsync", error="invalid_token")" : R"(Bearer realm="wfsync")");
        return r;
    }

    if (path == "/readyz") {
        if (!get) return method_not_allowed("GET, HEAD");
        return provider.ready() ? text(200, "ready\n") : text(503, "not ready\n");
    }
    if (path == "/metrics") {
        if (!get) return method_not_allowed("GET, HEAD");
        auto r = text(200, provider.metrics_text());
        r.content_type = "text/plain; version=0.0.4; charset=utf-8";
        return r;
    }
    if (path == "/status") {
        if (!get) return method_not_allowed("GET, HEAD");
        return json(200, provider.status());
    }
    constexpr std::string_view prefix = "/rules/";
    constexpr std::string_view suffix = "/run";
    if (path.size() > prefix.size() + suffix.size() && path.starts_with(prefix) && path.ends_with(suffix)) {
        if (req.method != "POST") return method_not_allowed("POST");
        return run(path.substr(prefix.size(), path.size() - prefix.size() - suffix.size()), provider);
    }
    return text(404, "not found\n");
}

}  // namespace wfsync::app
