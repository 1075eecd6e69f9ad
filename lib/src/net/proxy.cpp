// SPDX-License-Identifier: Apache-2.0
#include <wfsync/net/proxy.hpp>

#include <wfsync/core/base64.hpp>
#include <wfsync/core/log.hpp>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/network_v4.hpp>
#include <boost/asio/ip/network_v6.hpp>
#include <boost/url/parse.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>

namespace wfsync::net {
namespace {

namespace ip = boost::asio::ip;

std::string lower(std::string_view s)
{
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

std::string trim_dots(std::string_view s)
{
    while (!s.empty() && s.back() == '.') s.remove_suffix(1);
    return std::string(s);
}

/// The URL with any user:password@ replaced, so that a message can quote it.
std::string without_credentials(std::string_view text)
{
    auto start = text.find("://");
    start = start == std::string_view::npos ? 0 : start + 3;
    auto end = text.find_first_of("/?#", start);
    auto at = text.substr(0, end).rfind('@');
    if (at == std::string_view::npos || at < start) return std::string(text);
    return std::string(text.substr(0, start)) + "***@" + std::string(text.substr(at + 1));
}

std::optional<std::string> env(const char* name)
{
    const char* v = std::getenv(name);
    if (!v || !*v) return std::nullopt;
    return std::string(v);
}

/// The first variable of `names` that is set and not empty, and its name.
std::pair<std::string, std::string> first_env(std::initializer_list<const char*> names)
{
    for (const char* n : names)
        if (auto v = env(n)) return {*v, n};
    return {};
}

/// One NO_PROXY entry against a host that is an IP address.
bool matches_ip(std::string_view entry, const ip::address& host)
{
    boost::system::error_code ec;
    if (auto slash = entry.find('/'); slash != std::string_view::npos) {
        auto net_addr = ip::make_address(std::string(entry.substr(0, slash)), ec);
        if (ec) return false;
        int bits = -1;
        auto b = entry.substr(slash + 1);
        auto [p, e] = std::from_chars(b.data(), b.data() + b.size(), bits);
        if (e != std::errc{} || p != b.data() + b.size()) return false;
        if (net_addr.is_v4() && host.is_v4() && bits >= 0 && bits <= 32) {
            auto n = ip::make_network_v4(net_addr.to_v4(), bits);
            return ip::make_network_v4(host.to_v4(), bits).network() == n.network();
        }
        if (net_addr.is_v6() && host.is_v6() && bits >= 0 && bits <= 128) {
            auto n = ip::make_network_v6(net_addr.to_v6(), static_cast<unsigned short>(bits));
            return ip::make_network_v6(host.to_v6(), static_cast<unsigned short>(bits)).network() == n.network();
        }
        return false;
    }
    auto a = ip::make_address(std::string(entry), ec);
    return !ec && a == host;
}

}  // namespace

std::string proxy_endpoint::shown() const
{
    bool v6 = host.find(':') != std::string::npos;
    return fmt::format("http://{}{}{}:{}", v6 ? "[" : "", host, v6 ? "]" : "", port);
}

std::string proxy_endpoint::authorization() const
{
    if (user.empty() && password.empty()) return {};
    return "Basic " + base64_encode(user + ":" + password);
}

result<proxy_endpoint> parse_proxy_url(std::string_view text)
{
    std::string full(text);
    // curl takes a bare host[:port] as an http proxy.
    if (full.find("://") == std::string::npos) full = "http://" + full;
    auto shown = without_credentials(full);
    auto u = boost::urls::parse_uri(full);
    if (!u) return fail(errc::config, fmt::format("proxy '{}' is not a valid URL: {}", shown, u.error().message()));
    auto scheme = lower(u->scheme());
    if (scheme != "http")
        return fail(errc::config, fmt::format("proxy '{}': only http:// proxies are supported (scheme {})", shown,
                                              scheme));
    if (u->host_address().empty()) return fail(errc::config, fmt::format("proxy '{}' has no host", shown));
    auto path = u->encoded_path();
    if ((!path.empty() && path != "/") || u->has_query() || u->has_fragment())
        return fail(errc::config, fmt::format("proxy '{}' must be http://[user:password@]host[:port]", shown));
    proxy_endpoint p;
    p.host = std::string(u->host_address());
    p.port = 1080;  // curl's default proxy port
    if (u->has_port()) {
        if (u->port_number() == 0) return fail(errc::config, fmt::format("proxy '{}' has an invalid port", shown));
        p.port = u->port_number();
    }
    if (u->has_userinfo()) {
        p.user = u->user();
        p.password = u->password();
        // Credentials must never reach a log line, however they end up in a message.
        if (!p.password.empty()) log::add_secret(p.password);
        if (auto a = p.authorization(); !a.empty()) log::add_secret(a.substr(6));
    }
    return p;
}

bool no_proxy_matches(std::string_view no_proxy, std::string_view host_in, std::uint16_t port)
{
    std::string host = lower(host_in);
    if (host.size() > 1 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    host = trim_dots(host);
    boost::system::error_code ec;
    auto host_ip = ip::make_address(host, ec);
    const bool is_ip = !ec;

    std::size_t i = 0;
    while (i < no_proxy.size()) {
        auto end = no_proxy.find_first_of(", \t", i);
        if (end == std::string_view::npos) end = no_proxy.size();
        std::string entry = lower(no_proxy.substr(i, end - i));
        i = end + 1;
        if (entry.empty()) continue;
        if (entry == "*") return true;

        // An optional :port: after a bracketed IPv6 address, or after a name or IPv4 (one colon).
        std::optional<std::uint16_t> want_port;
        if (entry.front() == '[') {
            auto close = entry.find(']');
            if (close == std::string::npos) continue;
            if (close + 1 < entry.size()) {
                if (entry[close + 1] != ':') continue;
                auto ps = entry.substr(close + 2);
                unsigned v = 0;
                auto [p, e] = std::from_chars(ps.data(), ps.data() + ps.size(), v);
                if (e != std::errc{} || p != ps.data() + ps.size() || v > 65535) continue;
                want_port = static_cast<std::uint16_t>(v);
            }
            entry = entry.substr(1, close - 1);
        } else if (std::count(entry.begin(), entry.end(), ':') == 1) {
            auto colon = entry.find(':');
            auto ps = entry.substr(colon + 1);
            unsigned v = 0;
            auto [p, e] = std::from_chars(ps.data(), ps.data() + ps.size(), v);
            if (e != std::errc{} || p != ps.data() + ps.size() || v > 65535) continue;
            want_port = static_cast<std::uint16_t>(v);
            entry = entry.substr(0, colon);
        }
        if (want_port && *want_port != port) continue;

        if (is_ip) {
            if (matches_ip(entry, host_ip)) return true;
            continue;
        }
        while (!entry.empty() && entry.front() == '.') entry.erase(entry.begin());
        entry = trim_dots(entry);
        if (entry.empty()) continue;
        if (host == entry) return true;
        if (host.size() > entry.size() && host.ends_with(entry) && host[host.size() - entry.size() - 1] == '.')
            return true;
    }
    return false;
}

proxy_config proxy_config::from_environment()
{
    proxy_config c;
    std::tie(c.https_proxy, c.https_from) = first_env({"https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"});
    std::tie(c.http_proxy, c.http_from) = first_env({"http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"});
    c.no_proxy = first_env({"no_proxy", "NO_PROXY"}).first;
    return c;
}

proxy_config proxy_config::explicit_proxy(std::string url, std::string from)
{
    proxy_config c;
    c.https_proxy = url;
    c.http_proxy = std::move(url);
    c.https_from = from;
    c.http_from = std::move(from);
    c.no_proxy = first_env({"no_proxy", "NO_PROXY"}).first;
    return c;
}

result<std::optional<proxy_endpoint>> proxy_for(const proxy_config& cfg, bool tls, std::string_view host,
                                                std::uint16_t port)
{
    const std::string& url = tls ? cfg.https_proxy : cfg.http_proxy;
    if (url.empty() || no_proxy_matches(cfg.no_proxy, host, port)) return std::optional<proxy_endpoint>{};
    auto p = parse_proxy_url(url);
    if (!p) {
        auto e = p.error();
        const std::string& from = tls ? cfg.https_from : cfg.http_from;
        if (!from.empty()) e.message += " (from " + from + ")";
        return e;
    }
    return std::optional<proxy_endpoint>(std::move(*p));
}

}  // namespace wfsync::net
