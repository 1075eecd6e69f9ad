// SPDX-License-Identifier: Apache-2.0
// wfsync behind a real proxy: Debian's tinyproxy, started by the test on a loopback port with
// its own config and log, and the real wfsync binary syncing against the emulator through it.
#define BOOST_TEST_MODULE wfsync_e2e_proxy
#include <boost/test/unit_test.hpp>

#include "fixtures.hpp"

#include <support/test_certs.hpp>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

using namespace wfsync;
using namespace wfsync::test;

namespace {

const char* const tinyproxy_bin = "/usr/bin/tinyproxy";

boost::test_tools::assertion_result tinyproxy_installed(boost::unit_test::test_unit_id)
{
    boost::test_tools::assertion_result r(std::filesystem::exists(tinyproxy_bin));
    if (!r) r.message() << "skipped: " << tinyproxy_bin << " is not installed (scripts/setup installs tinyproxy)";
    return r;
}

/// tinyproxy in the foreground, with basic auth (alice / the password given), logging every
/// request to a file of its own.
class tinyproxy {
public:
    tinyproxy(const temp_dir& dir, const std::string& password) : port_(free_port()), log_(dir.file("tinyproxy.log"))
    {
        std::ostringstream conf;
        conf << "Port " << port_ << "\n"
             << "Listen 127.0.0.1\n"
             << "Timeout 30\n"
             << "LogFile \"" << log_ << "\"\n"
             << "LogLevel Connect\n"
             << "MaxClients 20\n"
             << "Allow 127.0.0.1\n"
             << "BasicAuth alice " << password << "\n";
        auto file = dir.write("tinyproxy.conf", conf.str());
        proc_ = std::make_unique<process>(tinyproxy_bin, std::vector<std::string>{"-d", "-c", file},
                                          std::map<std::string, std::string>{}, dir.file("tinyproxy.out"),
                                          dir.file("tinyproxy.err"));
        // Ready when it accepts a connection: a short bounded poll.
        for (int i = 0; i < 500; ++i) {
            boost::asio::io_context ioc;
            boost::asio::ip::tcp::socket s(ioc);
            boost::system::error_code ec;
            s.connect({boost::asio::ip::make_address("127.0.0.1"), port_}, ec);
            if (!ec) return;
            BOOST_TEST_REQUIRE(proc_->running(), "tinyproxy exited: " << read(dir.file("tinyproxy.err")));
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        BOOST_FAIL("tinyproxy did not listen on port " << port_ << " within 5 s");
    }

    std::string url(const std::string& password) const
    {
        return "http://alice:" + password + "@127.0.0.1:" + std::to_string(port_);
    }
    std::string shown() const { return "http://127.0.0.1:" + std::to_string(port_); }

    /// Lines of its log holding `what` ("Request (file descriptor 5): CONNECT 127.0.0.1:4431 HTTP/1.1").
    int count(const std::string& what) const
    {
        std::ifstream in(log_);
        int n = 0;
        for (std::string line; std::getline(in, line);) n += line.find(what) != std::string::npos;
        return n;
    }

    static std::string read(const std::string& path)
    {
        std::ifstream in(path);
        return std::string(std::istreambuf_iterator<char>(in), {});
    }

private:
    std::uint16_t port_;
    std::string log_;
    std::unique_ptr<process> proc_;
};

std::string host_port(const std::string& base_url)
{
    return base_url.substr(base_url.find("://") + 3);
}

const std::string proxy_password = "Px-pass-7c41";

}  // namespace

BOOST_AUTO_TEST_SUITE(behind_a_proxy, *boost::unit_test::label("e2e") * boost::unit_test::precondition(tinyproxy_installed))

BOOST_AUTO_TEST_CASE(https_tenants_are_reached_through_connect_with_proxy_credentials, *boost::unit_test::timeout(120))
{
    temp_dir certs_dir;
    auto certs = make_test_certs(certs_dir.path());
    emulator_thread emu(seed(), {.cert_file = certs.cert_file, .key_file = certs.key_file});
    config_options o;
    o.ca_file = certs.ca_file;
    auto env = make_env(emu->base_url(), o);
    tinyproxy proxy(*env.dir, proxy_password);
    env.env["HTTPS_PROXY"] = proxy.url(proxy_password);

    auto r = env.run({"sync"});
    BOOST_TEST(r.code == 0, describe(r));
    expect_replicated_once(emu);
    // Token and API requests all went through tunnels to the emulator; TLS was verified
    // against the emulator's certificate (the test CA), not the proxy.
    BOOST_TEST(proxy.count("CONNECT " + host_port(emu->base_url()) + " HTTP/1.1") >= 2);
    BOOST_TEST(!emu.find("sandbox", "oauth").empty());
    BOOST_TEST(!emu.find("prod", "oauth").empty());
    BOOST_TEST(r.out.find(proxy_password) == std::string::npos);
    BOOST_TEST(r.err.find(proxy_password) == std::string::npos);
}

BOOST_AUTO_TEST_CASE(http_tenants_are_asked_through_the_proxy_by_absolute_uri, *boost::unit_test::timeout(120))
{
    emulator_thread emu(seed());
    auto env = make_env(emu->base_url());
    tinyproxy proxy(*env.dir, proxy_password);
    env.env["http_proxy"] = proxy.url(proxy_password);

    auto r = env.run({"sync"});
    BOOST_TEST(r.code == 0, describe(r));
    expect_replicated_once(emu);
    auto requests = emu->requests().size();
    BOOST_TEST(proxy.count("): GET " + emu->base_url() + "/t/sandbox/") >= 1);
    BOOST_TEST(proxy.count("): POST " + emu->base_url() + "/t/prod/") >= 1);
    // The OAuth token requests too: the same proxy as the tenant's API.
    BOOST_TEST(proxy.count("): POST " + emu->base_url() + "/t/sandbox/oauth/token ") >= 1);
    BOOST_TEST(proxy.count("): POST " + emu->base_url() + "/t/prod/oauth/token ") >= 1);
    BOOST_TEST(proxy.count("Request (") == static_cast<int>(requests));  // every request went through it
}

BOOST_AUTO_TEST_CASE(no_proxy_and_proxy_none_bypass_the_proxy, *boost::unit_test::timeout(120))
{
    emulator_thread emu(seed());
    auto env = make_env(emu->base_url());
    tinyproxy proxy(*env.dir, proxy_password);
    env.env["HTTP_PROXY"] = proxy.url(proxy_password);
    env.env["HTTPS_PROXY"] = proxy.url(proxy_password);
    env.env["NO_PROXY"] = "localhost,127.0.0.1";

    auto r = env.run({"sync"});
    BOOST_TEST(r.code == 0, describe(r));
    expect_replicated_once(emu);
    BOOST_TEST(proxy.count("Request (") == 0);

    // Without NO_PROXY, the tenants' own `proxy: none` ignores the environment.
    env.env.erase("NO_PROXY");
    auto text = tinyproxy::read(env.config_file);
    for (auto pos = text.find("_SECRET}\n"); pos != std::string::npos; pos = text.find("_SECRET}\n", pos + 1))
        text.insert(pos + 9, "    proxy: none\n");
    env.dir->write("wfsync.yaml", text);
    auto again = env.run({"plan"});
    BOOST_TEST(again.code == 0, describe(again));
    BOOST_TEST(proxy.count("Request (") == 0);
}

BOOST_AUTO_TEST_CASE(a_tenants_proxy_key_sends_only_that_tenant_through_the_proxy, *boost::unit_test::timeout(120))
{
    emulator_thread emu(seed());
    auto env = make_env(emu->base_url());
    tinyproxy proxy(*env.dir, proxy_password);
    auto text = tinyproxy::read(env.config_file);
    const std::string prod_auth = "client_secret_env: WFSYNC_TEST_PROD_SECRET}\n";
    BOOST_TEST_REQUIRE(text.find(prod_auth) != std::string::npos);
    text.insert(text.find(prod_auth) + prod_auth.size(), "    proxy: " + proxy.url(proxy_password) + "\n");
    env.dir->write("wfsync.yaml", text);

    auto r = env.run({"sync"});
    BOOST_TEST(r.code == 0, describe(r));
    expect_replicated_once(emu);
    BOOST_TEST(proxy.count("): POST " + emu->base_url() + "/t/prod/oauth/token ") >= 1);
    BOOST_TEST(proxy.count("/t/prod/") == static_cast<int>(emu->requests("prod").size()));
    BOOST_TEST(proxy.count("/t/sandbox/") == 0);
    BOOST_TEST(r.err.find(proxy_password) == std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_proxy_refusing_the_credentials_is_a_clear_error, *boost::unit_test::timeout(120))
{
    temp_dir certs_dir;
    auto certs = make_test_certs(certs_dir.path());
    emulator_thread emu(seed(), {.cert_file = certs.cert_file, .key_file = certs.key_file});
    config_options o;
    o.ca_file = certs.ca_file;
    auto env = make_env(emu->base_url(), o);
    tinyproxy proxy(*env.dir, proxy_password);
    env.env["HTTPS_PROXY"] = proxy.url("Wrong-pass-93");

    auto r = env.run({"sync"});
    BOOST_TEST(r.code != 0, describe(r));
    auto all = r.out + r.err;
    // tinyproxy answers a failed login with 401 (the unit tests cover 407).
    BOOST_TEST(all.find("proxy " + proxy.shown() + ": CONNECT " + host_port(emu->base_url()) +
                        " refused: HTTP 401 Unauthorized (the proxy refused the credentials in the proxy URL)") !=
                   std::string::npos,
               describe(r));
    BOOST_TEST(all.find("(after 1 attempt)") != std::string::npos, describe(r));
    BOOST_TEST(all.find("Wrong-pass-93") == std::string::npos, describe(r));
    BOOST_TEST(emu->requests().empty());
    // 407 is not retried: one CONNECT per tenant contacted, at most.
    BOOST_TEST(proxy.count("CONNECT " + host_port(emu->base_url())) <= 2);
}

BOOST_AUTO_TEST_SUITE_END()
