// SPDX-License-Identifier: Apache-2.0
#define BOOST_TEST_MODULE wfsync_proxy
#include <boost/test/unit_test.hpp>
#include <boost/test/data/test_case.hpp>

#include <wfsync/core/base64.hpp>
#include <wfsync/core/log.hpp>
#include <wfsync/net/http_client.hpp>
#include <wfsync/net/http_server.hpp>
#include <wfsync/net/proxy.hpp>

#include "connect_proxy.hpp"

#include <support/run_coro.hpp>
#include <support/temp_dir.hpp>
#include <support/test_certs.hpp>

#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

using namespace wfsync;
using namespace std::chrono_literals;
namespace asio = boost::asio;

namespace {

/// The proxy variables this suite sets, cleared before and after each case.
void clear_proxy_env()
{
    for (const char* v : {"https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY",
                          "no_proxy", "NO_PROXY"})
        ::unsetenv(v);
}

struct fixture {
    fixture() { clear_proxy_env(); }
    ~fixture()
    {
        proxy.stop();
        if (server) server->stop();
        clear_proxy_env();
    }

    asio::io_context ioc;
    test::connect_proxy proxy{ioc};
    test::temp_dir dir;
    test::test_certs certs = test::make_test_certs(dir.path().string());
    std::unique_ptr<net::http_server> server;
    std::vector<net::server_request> seen;
    std::vector<net::attempt_record> attempts;

    void start(bool tls, bool trusted = true)
    {
        net::server_settings s;
        if (tls) {
            s.cert_file = trusted ? certs.cert_file : certs.untrusted_cert_file;
            s.key_file = trusted ? certs.key_file : certs.untrusted_key_file;
        }
        server = std::make_unique<net::http_server>(ioc.get_executor(), s,
                                                    [this](net::server_request req) -> awaitable<net::server_response> {
                                                        seen.push_back(req);
                                                        net::server_response r;
                                                        r.body = "ok";
                                                        r.content_type = "text/plain";
                                                        co_return r;
                                                    });
        auto st = server->start();
        BOOST_TEST_REQUIRE(st.has_value(), (st ? "" : st.error().what()));
    }

    /// A client for the server by its name (`localhost`: the certificate's name, checked
    /// against the target even through the tunnel).
    std::unique_ptr<net::http_client> client(std::optional<std::string> proxy_url, bool tls = true)
    {
        net::client_settings s;
        s.base_url = std::string(tls ? "https" : "http") + "://localhost:" + std::to_string(server->port());
        s.ca_file = certs.ca_file;
        s.connect_timeout = 2s;
        s.request_timeout = 3s;
        s.max_attempts = 4;
        s.initial_backoff = 1ms;
        s.max_backoff = 5ms;
        s.rate_per_second = 0;
        s.proxy = std::move(proxy_url);
        auto c = std::make_unique<net::http_client>(ioc.get_executor(), std::move(s));
        c->on_attempt([this](const net::attempt_record& r) { attempts.push_back(r); });
        return c;
    }

    result<net::http_response> get(net::http_client& c, std::string target)
    {
        net::http_request r;
        r.target = std::move(target);
        return test::run_coro(ioc, c.send(std::move(r)));
    }

    std::string with_credentials(std::string userinfo) const
    {
        return "http://" + userinfo + "@127.0.0.1:" + std::to_string(proxy.port());
    }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(through_a_proxy)

BOOST_FIXTURE_TEST_CASE(https_target_goes_through_one_connect_tunnel_with_proxy_credentials, fixture)
{
    start(true);
    auto c = client(with_credentials("alice:p%40ss-word"));
    for (int i = 0; i < 2; ++i) {
        auto res = get(*c, "/tunnelled");
        BOOST_TEST_REQUIRE(res.has_value(), (res ? "" : res.error().what()));
        BOOST_TEST(res->body == "ok");
    }
    // One CONNECT to the target by name; the tunnel is kept alive for the second request.
    BOOST_TEST_REQUIRE(proxy.seen.size() == 1u);
    BOOST_TEST(proxy.seen[0].method == "CONNECT");
    BOOST_TEST(proxy.seen[0].target == "localhost:" + std::to_string(server->port()));
    BOOST_TEST(proxy.seen[0].host == "localhost:" + std::to_string(server->port()));
    BOOST_TEST(proxy.seen[0].proxy_authorization == "Basic " + base64_encode("alice:p@ss-word"));
    BOOST_TEST(c->connections_opened() == 1u);
    // The target sees its own request, and never the proxy's credentials.
    BOOST_TEST_REQUIRE(seen.size() == 2u);
    BOOST_TEST(seen[0].target == "/tunnelled");
    BOOST_TEST(!seen[0].headers.find("Proxy-Authorization"));
    BOOST_TEST(*seen[0].headers.find("Host") == "localhost:" + std::to_string(server->port()));
    // The password is masked wherever it might be logged.
    BOOST_TEST(log::redact("x p@ss-word y") == "x *** y");
}

BOOST_FIXTURE_TEST_CASE(tls_through_the_tunnel_is_verified_against_the_target, fixture)
{
    start(true, false);  // a certificate the client's CA did not sign
    auto c = client(proxy.url());
    auto res = get(*c, "/x");
    BOOST_TEST_REQUIRE(res.has_error());
    BOOST_TEST(res.error().code == errc::tls);
    BOOST_TEST(res.error().message.find("certificate verify failed") != std::string::npos, res.error().message);
    BOOST_TEST(proxy.connects() == 1);
    BOOST_TEST(seen.empty());
}

BOOST_FIXTURE_TEST_CASE(http_target_is_asked_of_the_proxy_by_absolute_uri, fixture)
{
    start(false);
    auto c = client(with_credentials("bob:hunter2"), false);
    auto res = get(*c, "/plain?q=1");
    BOOST_TEST_REQUIRE(res.has_value(), (res ? "" : res.error().what()));
    auto origin = "http://localhost:" + std::to_string(server->port());
    BOOST_TEST(res->body == "proxied " + origin + "/plain?q=1");
    BOOST_TEST_REQUIRE(proxy.seen.size() == 1u);
    BOOST_TEST(proxy.seen[0].method == "GET");
    BOOST_TEST(proxy.seen[0].target == origin + "/plain?q=1");
    BOOST_TEST(proxy.seen[0].host == "localhost:" + std::to_string(server->port()));
    BOOST_TEST(proxy.seen[0].proxy_authorization == "Basic " + base64_encode("bob:hunter2"));
    BOOST_TEST(seen.empty());  // the test proxy answered itself
}

BOOST_FIXTURE_TEST_CASE(proxy_407_is_a_clear_error_without_credentials_and_not_retried, fixture)
{
    start(true);
    proxy.refuse_with = 407;
    auto c = client(with_credentials("carol:topsecret-9"));
    auto res = get(*c, "/x");
    BOOST_TEST_REQUIRE(res.has_error());
    const auto& m = res.error().message;
    BOOST_TEST_MESSAGE(m);
    BOOST_TEST(res.error().http_status == 407);
    BOOST_TEST(m.find("proxy " + proxy.url() + ": CONNECT localhost:" + std::to_string(server->port()) +
                      " refused: HTTP 407 Proxy Authentication Required") != std::string::npos, m);
    BOOST_TEST(m.find("carol") == std::string::npos, m);
    BOOST_TEST(m.find("topsecret") == std::string::npos, m);
    BOOST_TEST(proxy.connects() == 1);
    BOOST_TEST(attempts.size() == 1u);
    BOOST_TEST(seen.empty());
}

BOOST_FIXTURE_TEST_CASE(proxy_403_is_final, fixture)
{
    start(true);
    proxy.refuse_with = 403;
    auto c = client(proxy.url());
    auto res = get(*c, "/x");
    BOOST_TEST_REQUIRE(res.has_error());
    BOOST_TEST(res.error().http_status == 403);
    BOOST_TEST(proxy.connects() == 1);
}

BOOST_FIXTURE_TEST_CASE(proxy_502_is_retried_like_a_5xx, fixture)
{
    start(true);
    proxy.refuse_with = 502;
    auto c = client(proxy.url());
    auto res = get(*c, "/x");
    BOOST_TEST_REQUIRE(res.has_error());
    BOOST_TEST(res.error().http_status == 502);
    BOOST_TEST(is_retryable(res.error()));
    BOOST_TEST(res.error().message.find("HTTP 502 Bad Gateway") != std::string::npos, res.error().message);
    BOOST_TEST(proxy.connects() == 4);  // max_attempts
    BOOST_TEST(attempts.size() == 4u);
}

BOOST_FIXTURE_TEST_CASE(a_proxy_that_is_down_is_named_in_the_error, fixture)
{
    start(true);
    auto port = proxy.port();
    proxy.stop();
    auto c = client("http://u:pw-never-shown@127.0.0.1:" + std::to_string(port));
    auto res = get(*c, "/x");
    BOOST_TEST_REQUIRE(res.has_error());
    BOOST_TEST(res.error().message.find("connect to proxy http://127.0.0.1:" + std::to_string(port) + " failed") !=
                   std::string::npos,
               res.error().message);
    BOOST_TEST(res.error().message.find("pw-never-shown") == std::string::npos);
}

BOOST_FIXTURE_TEST_CASE(environment_proxy_lowercase_first_and_no_proxy_bypasses_it, fixture)
{
    start(true);
    // https_proxy wins over HTTPS_PROXY (curl's order); the uppercase one points nowhere.
    ::setenv("https_proxy", proxy.url().c_str(), 1);
    ::setenv("HTTPS_PROXY", "http://127.0.0.1:1", 1);
    {
        auto c = client(std::nullopt);
        auto res = get(*c, "/via-env");
        BOOST_TEST_REQUIRE(res.has_value(), (res ? "" : res.error().what()));
    }
    BOOST_TEST(proxy.connects() == 1);
    BOOST_TEST(seen.size() == 1u);

    ::setenv("NO_PROXY", "example.com,.LocalHost", 1);
    {
        auto c = client(std::nullopt);
        auto res = get(*c, "/direct");
        BOOST_TEST_REQUIRE(res.has_value(), (res ? "" : res.error().what()));
    }
    BOOST_TEST(proxy.connects() == 1);  // unchanged: NO_PROXY sent it directly
    BOOST_TEST(seen.size() == 2u);
}

BOOST_FIXTURE_TEST_CASE(uppercase_https_proxy_is_honoured, fixture)
{
    start(true);
    ::setenv("HTTPS_PROXY", proxy.url().c_str(), 1);
    auto c = client(std::nullopt);
    auto res = get(*c, "/x");
    BOOST_TEST_REQUIRE(res.has_value(), (res ? "" : res.error().what()));
    BOOST_TEST(proxy.connects() == 1);
}

BOOST_FIXTURE_TEST_CASE(an_empty_proxy_setting_ignores_the_environment, fixture)
{
    start(true);
    ::setenv("HTTPS_PROXY", "http://127.0.0.1:1", 1);  // nothing listens there
    auto c = client(std::string());
    auto res = get(*c, "/x");
    BOOST_TEST_REQUIRE(res.has_value(), (res ? "" : res.error().what()));
    BOOST_TEST(proxy.seen.empty());
    BOOST_TEST(seen.size() == 1u);
}

BOOST_FIXTURE_TEST_CASE(an_invalid_proxy_url_fails_every_request_naming_its_source, fixture)
{
    start(true);
    ::setenv("HTTPS_PROXY", "https://user:pw-hidden@proxy.example:3128", 1);
    auto c = client(std::nullopt);
    auto res = get(*c, "/x");
    BOOST_TEST_REQUIRE(res.has_error());
    BOOST_TEST(res.error().code == errc::config);
    BOOST_TEST(res.error().message ==
                   "proxy 'https://***@proxy.example:3128': only http:// proxies are supported (scheme https) "
                   "(from HTTPS_PROXY)",
               res.error().message);
    BOOST_TEST(seen.empty());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(proxy_urls)

BOOST_AUTO_TEST_CASE(parsed_as_curl_does)
{
    auto a = net::parse_proxy_url("proxy.corp:3128");
    BOOST_TEST_REQUIRE(a.has_value());
    BOOST_TEST(a->host == "proxy.corp");
    BOOST_TEST(a->port == 3128);
    BOOST_TEST(a->authorization().empty());
    auto b = net::parse_proxy_url("http://proxy.corp");
    BOOST_TEST_REQUIRE(b.has_value());
    BOOST_TEST(b->port == 1080);
    BOOST_TEST(b->shown() == "http://proxy.corp:1080");
    auto c = net::parse_proxy_url("http://u%3Ax:p%2Fw@[::1]:8080/");
    BOOST_TEST_REQUIRE(c.has_value());
    BOOST_TEST(c->host == "::1");
    BOOST_TEST(c->user == "u:x");
    BOOST_TEST(c->password == "p/w");
    BOOST_TEST(c->shown() == "http://[::1]:8080");
    auto d = net::parse_proxy_url("http://u:pw@proxy.corp:3128/some/path");
    BOOST_TEST_REQUIRE(d.has_error());
    BOOST_TEST(d.error().message.find("pw") == std::string::npos, d.error().message);
    BOOST_TEST(net::parse_proxy_url("socks5://proxy:1080").has_error());
}

struct no_proxy_row {
    const char* name;
    const char* no_proxy;
    const char* host;
    std::uint16_t port;
    bool direct;
};

std::ostream& operator<<(std::ostream& os, const no_proxy_row& r)
{
    return os << r.name;
}

const no_proxy_row no_proxy_rows[] = {
    {"empty list", "", "example.com", 443, false},
    {"star alone means every host", "*", "anything.example", 443, true},
    {"exact name", "example.com", "example.com", 443, true},
    {"name matches subdomains", "example.com", "api.example.com", 443, true},
    {"leading dot matches subdomains", ".example.com", "api.example.com", 443, true},
    {"leading dot matches the domain itself", ".example.com", "example.com", 443, true},
    {"no partial label match", "example.com", "badexample.com", 443, false},
    {"case-insensitive", "EXAMPLE.com", "Api.Example.COM", 443, true},
    {"trailing dots ignored", "example.com.", "api.example.com.", 443, true},
    {"second entry, spaces around", "other.org , example.com", "example.com", 443, true},
    {"not listed", "other.org,example.net", "example.com", 443, false},
    {"entry with the matching port", "example.com:8443", "example.com", 8443, true},
    {"entry with another port", "example.com:8443", "example.com", 443, false},
    {"IPv4 literal", "10.1.2.3", "10.1.2.3", 80, true},
    {"IPv4 literal, other address", "10.1.2.3", "10.1.2.4", 80, false},
    {"IPv4 CIDR", "10.0.0.0/8", "10.200.3.4", 80, true},
    {"IPv4 CIDR, outside", "10.0.0.0/8", "11.0.0.1", 80, false},
    {"IPv4 with port", "127.0.0.1:3000", "127.0.0.1", 3000, true},
    {"IPv4 with another port", "127.0.0.1:3000", "127.0.0.1", 3001, false},
    {"IPv6 literal", "::1", "::1", 443, true},
    {"bracketed IPv6 with port", "[::1]:8443", "[::1]", 8443, true},
    {"IPv6 CIDR", "fd00::/8", "fd12::5", 443, true},
    {"a name does not match an IP", "example.com", "93.184.216.34", 443, false},
    {"star inside a list", "a.org,*", "b.org", 443, true},
};

BOOST_DATA_TEST_CASE(no_proxy_matching, boost::unit_test::data::make(no_proxy_rows), row)
{
    BOOST_TEST(net::no_proxy_matches(row.no_proxy, row.host, row.port) == row.direct, row.name);
}

BOOST_AUTO_TEST_SUITE_END()
