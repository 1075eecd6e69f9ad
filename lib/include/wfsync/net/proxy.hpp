// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <wfsync/core/error.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace wfsync::net {

/// An HTTP proxy: where to connect, and the credentials for Proxy-Authorization.
struct proxy_endpoint {
    std::string host;         ///< without brackets for IPv6
    std::uint16_t port = 0;
    std::string user;         ///< percent-decoded; empty = no credentials
    std::string password;     ///< percent-decoded
    /// "http://host:port": the proxy without its credentials, for messages and logs.
    std::string shown() const;
    /// "Basic base64(user:password)", or empty without credentials.
    std::string authorization() const;
};

/// Parses a proxy URL as curl does: `http://[user:password@]host[:port][/]`, or a bare
/// `host[:port]` (http assumed); the port defaults to 1080. Only plain-HTTP proxies are
/// supported (a `https://` proxy is refused). Errors never repeat the credentials.
[[nodiscard]] result<proxy_endpoint> parse_proxy_url(std::string_view text);

/// curl's NO_PROXY rules: a comma- (or space-) separated list; `*` alone means every host;
/// a name matches itself and its subdomains, with or without a leading dot (`example.com`
/// and `.example.com` both match `a.example.com`); an IP literal matches that address, a
/// CIDR block (`10.0.0.0/8`, `fd00::/8`) the addresses in it; `[::1]` may be bracketed;
/// an entry with `:port` matches only that port. Case-insensitive; trailing dots ignored.
bool no_proxy_matches(std::string_view no_proxy, std::string_view host, std::uint16_t port);

/// Which proxy serves which scheme, and the hosts reached directly.
struct proxy_config {
    std::string https_proxy;  ///< for https targets; empty = direct
    std::string http_proxy;   ///< for http targets; empty = direct
    std::string no_proxy;     ///< NO_PROXY syntax
    std::string https_from;   ///< where https_proxy came from ("HTTPS_PROXY", "the tenant's proxy")
    std::string http_from;

    /// From the environment, lowercase first as curl does: https targets use https_proxy,
    /// then HTTPS_PROXY, then all_proxy, ALL_PROXY; http targets use http_proxy, then
    /// HTTP_PROXY, then all_proxy, ALL_PROXY; the exceptions come from no_proxy, then NO_PROXY.
    static proxy_config from_environment();

    /// `url` for every target, with the exceptions still taken from the environment's
    /// no_proxy / NO_PROXY (as curl does for --proxy).
    static proxy_config explicit_proxy(std::string url, std::string from);
};

/// The proxy to use for a target, or nullopt to connect directly. An invalid proxy URL is
/// an errc::config error naming where it came from (without credentials).
[[nodiscard]] result<std::optional<proxy_endpoint>> proxy_for(const proxy_config& cfg,
                                                              bool tls,
                                                              std::string_view host,
                                                              std::uint16_t port);

}  // namespace wfsync::net
