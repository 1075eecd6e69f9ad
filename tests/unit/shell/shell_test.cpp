// SPDX-License-Identifier: Apache-2.0
// The shell layer against real sockets and real signals: a unix datagram socket stands in for
// systemd's $NOTIFY_SOCKET, and the test raises SIGHUP/SIGTERM at itself.
#define BOOST_TEST_MODULE wfsync_unit_shell
#include <boost/test/unit_test.hpp>

#include <support/temp_dir.hpp>

#include <wfsync/core/hash.hpp>
#include <wfsync/shell/notify.hpp>
#include <wfsync/shell/signals.hpp>

#include <boost/asio/io_context.hpp>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <optional>
#include <string>
#include <vector>

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

using namespace wfsync;
using namespace std::chrono_literals;

namespace {

/// A bound AF_UNIX datagram socket playing systemd's side of the notify protocol.
class fake_systemd {
public:
    /// `name`: a filesystem path, or "@name" for the abstract namespace.
    explicit fake_systemd(std::string name) : name_(std::move(name))
    {
        fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        BOOST_REQUIRE(fd_ >= 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        socklen_t len;
        if (name_[0] == '@') {
            std::memcpy(addr.sun_path + 1, name_.data() + 1, name_.size() - 1);
            len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name_.size());
        }
        else {
            BOOST_REQUIRE(name_.size() < sizeof(addr.sun_path));
            std::memcpy(addr.sun_path, name_.data(), name_.size());
            len = static_cast<socklen_t>(sizeof(addr));
        }
        BOOST_REQUIRE_MESSAGE(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), len) == 0,
                              "bind " << name_ << ": " << std::strerror(errno));
    }
    ~fake_systemd() { ::close(fd_); }

    /// The next datagram, waiting at most `limit`; none on time-out.
    std::optional<std::string> receive(std::chrono::milliseconds limit = 5s)
    {
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(limit.count())) != 1) return std::nullopt;
        char buf[4096];
        ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
        if (n < 0) return std::nullopt;
        return std::string(buf, static_cast<std::size_t>(n));
    }

    const std::string& name() const { return name_; }

private:
    std::string name_;
    int fd_ = -1;
};

/// Sets (or, with nullptr, unsets) environment variables for one test, restoring them after.
class scoped_env {
public:
    void set(const char* name, const char* value)
    {
        if (const char* old = std::getenv(name))
            saved_.push_back({name, std::string(old)});
        else
            saved_.push_back({name, std::nullopt});
        if (value)
            ::setenv(name, value, 1);
        else
            ::unsetenv(name);
    }
    ~scoped_env()
    {
        for (auto it = saved_.rbegin(); it != saved_.rend(); ++it) {
            if (it->second)
                ::setenv(it->first.c_str(), it->second->c_str(), 1);
            else
                ::unsetenv(it->first.c_str());
        }
    }

private:
    std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

std::uint64_t monotonic_usec()
{
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000u +
           static_cast<std::uint64_t>(ts.tv_nsec) / 1'000u;
}

/// Sends the whole message sequence the daemon sends and checks each datagram byte for byte.
void check_sequence(fake_systemd& sd)
{
    scoped_env env;
    env.set("NOTIFY_SOCKET", sd.name().c_str());
    env.set("WATCHDOG_USEC", nullptr);
    env.set("WATCHDOG_PID", nullptr);
    auto n = shell::notifier::from_environment();
    BOOST_REQUIRE(n.enabled());
    BOOST_TEST(n.socket() == sd.name());

    BOOST_REQUIRE(n.ready());
    BOOST_REQUIRE(n.status("run nightly: 3 imported, 1 skipped"));
    auto before = monotonic_usec();
    BOOST_REQUIRE(n.reloading());
    auto after = monotonic_usec();
    BOOST_REQUIRE(n.stopping());
    BOOST_REQUIRE(n.watchdog());
    BOOST_REQUIRE(n.send("EXTEND_TIMEOUT_USEC=5000000"));

    BOOST_TEST(sd.receive().value_or("<none>") == "READY=1");
    BOOST_TEST(sd.receive().value_or("<none>") == "STATUS=run nightly: 3 imported, 1 skipped");

    auto reloading = sd.receive().value_or("<none>");
    const std::string prefix = "RELOADING=1\nMONOTONIC_USEC=";
    BOOST_REQUIRE_MESSAGE(reloading.rfind(prefix, 0) == 0, "got: " << reloading);
    auto digits = reloading.substr(prefix.size());
    BOOST_REQUIRE(!digits.empty());
    BOOST_REQUIRE(digits.find_first_not_of("0123456789") == std::string::npos);
    auto usec = std::stoull(digits);
    BOOST_TEST(usec >= before);
    BOOST_TEST(usec <= after);

    BOOST_TEST(sd.receive().value_or("<none>") == "STOPPING=1");
    BOOST_TEST(sd.receive().value_or("<none>") == "WATCHDOG=1");
    BOOST_TEST(sd.receive().value_or("<none>") == "EXTEND_TIMEOUT_USEC=5000000");
    BOOST_TEST(!sd.receive(50ms).has_value());  // nothing else was sent
}

}  // namespace

BOOST_AUTO_TEST_SUITE(notify)

BOOST_AUTO_TEST_CASE(messages_arrive_in_order_on_a_path_socket)
{
    test::temp_dir dir;
    fake_systemd sd(dir.file("notify"));
    check_sequence(sd);
}

BOOST_AUTO_TEST_CASE(messages_arrive_in_order_on_an_abstract_socket)
{
    fake_systemd sd("@wfsync-test-notify-" + random_hex(6));
    check_sequence(sd);
}

BOOST_AUTO_TEST_CASE(a_receiver_that_never_reads_costs_a_bounded_wait_not_a_hang)
{
    // The queue of an unread datagram socket fills after net.unix.max_dgram_qlen messages
    // (10 by default); a blocking send then waited for ever, stopping `serve` at shutdown.
    test::temp_dir dir;
    fake_systemd sd(dir.file("notify"));
    shell::notifier n(sd.name());
    int sent = 0;
    result<void> r;
    while (sent < 100000 && (r = n.status("busy " + std::to_string(sent)))) ++sent;
    BOOST_TEST_REQUIRE(r.has_error(), "100000 messages queued, none refused");
    BOOST_TEST(sent > 0);
    BOOST_TEST(r.error().code == errc::io);
    BOOST_TEST(r.error().message == "systemd notify socket " + sd.name() + ": nobody reads it (its queue stayed full for " +
                                        std::to_string(shell::notify_send_limit.count()) + " ms); 'STATUS' dropped");
    // Once systemd reads again, messages go through.
    for (int i = 0; i < sent; ++i) BOOST_TEST_REQUIRE(sd.receive(1s).has_value());
    BOOST_TEST_REQUIRE(n.stopping().has_value());
    BOOST_TEST(sd.receive().value_or("<none>") == "STOPPING=1");
}

BOOST_AUTO_TEST_CASE(status_is_one_line)
{
    test::temp_dir dir;
    fake_systemd sd(dir.file("notify"));
    shell::notifier n(sd.name());
    BOOST_REQUIRE(n.status("line one\nREADY=1\r\nthree"));
    // A newline would have smuggled a READY=1 assignment into the status.
    BOOST_TEST(sd.receive().value_or("<none>") == "STATUS=line one READY=1  three");
    BOOST_TEST(shell::single_line("a\nb\rc") == "a b c");
}

BOOST_AUTO_TEST_CASE(disabled_without_notify_socket)
{
    scoped_env env;
    env.set("NOTIFY_SOCKET", nullptr);
    env.set("WATCHDOG_USEC", "20000");
    auto n = shell::notifier::from_environment();
    BOOST_TEST(!n.enabled());
    BOOST_TEST(n.socket().empty());
    BOOST_TEST(n.ready().has_value());
    BOOST_TEST(n.status("x").has_value());
    BOOST_TEST(n.reloading().has_value());
    BOOST_TEST(n.stopping().has_value());
    BOOST_TEST(n.watchdog().has_value());
    BOOST_TEST(n.send("READY=1").has_value());
    BOOST_TEST(!n.watchdog_interval().has_value());  // no socket, no watchdog to feed

    env.set("NOTIFY_SOCKET", "");
    BOOST_TEST(!shell::notifier::from_environment().enabled());
    BOOST_TEST(!shell::notifier{}.enabled());
}

BOOST_AUTO_TEST_CASE(errors_name_the_socket)
{
    test::temp_dir dir;
    auto missing = dir.file("nobody-listens-here");
    shell::notifier n(missing);
    auto r = n.ready();
    BOOST_REQUIRE(!r);
    BOOST_TEST(r.error().code == errc::io);
    BOOST_TEST(r.error().message.find(missing) != std::string::npos, r.error().message);
    BOOST_TEST(r.error().message.find("connect: No such file or directory") != std::string::npos, r.error().message);

    shell::notifier relative("run/notify");
    auto r2 = relative.ready();
    BOOST_REQUIRE(!r2);
    BOOST_TEST(r2.error().message.find("run/notify") != std::string::npos, r2.error().message);

    shell::notifier too_long("/" + std::string(200, 'x'));
    auto r3 = too_long.ready();
    BOOST_REQUIRE(!r3);
    BOOST_TEST(r3.error().message.find("longer than") != std::string::npos, r3.error().message);

    shell::notifier empty_abstract("@");
    BOOST_TEST(!empty_abstract.ready());
}

BOOST_AUTO_TEST_CASE(watchdog_interval_from_environment)
{
    scoped_env env;
    env.set("NOTIFY_SOCKET", "@wfsync-test-unused");
    env.set("WATCHDOG_PID", nullptr);

    env.set("WATCHDOG_USEC", "60000000");
    auto n = shell::notifier::from_environment();
    BOOST_REQUIRE(n.watchdog_interval().has_value());
    BOOST_TEST(n.watchdog_interval()->count() == 60'000'000);
    BOOST_TEST(n.ping_interval()->count() == 30'000'000);

    auto pid = std::to_string(::getpid());
    env.set("WATCHDOG_PID", pid.c_str());
    BOOST_TEST(shell::notifier::from_environment().watchdog_interval().value_or(0us).count() ==
               60'000'000);

    // Meant for another process (we would be the service's child): not ours to feed.
    auto other = std::to_string(::getpid() + 1);
    env.set("WATCHDOG_PID", other.c_str());
    BOOST_TEST(!shell::notifier::from_environment().watchdog_interval().has_value());
    env.set("WATCHDOG_PID", "12x");
    BOOST_TEST(!shell::notifier::from_environment().watchdog_interval().has_value());
    env.set("WATCHDOG_PID", nullptr);

    for (const char* bad : {"", "0", "-5", "abc", "100us", "18446744073709551616"}) {
        env.set("WATCHDOG_USEC", bad);
        auto b = shell::notifier::from_environment();
        BOOST_TEST(b.enabled());
        BOOST_TEST(!b.watchdog_interval().has_value(), "WATCHDOG_USEC=" << bad);
        BOOST_TEST(!b.ping_interval().has_value());
    }
    env.set("WATCHDOG_USEC", nullptr);
    BOOST_TEST(!shell::notifier::from_environment().watchdog_interval().has_value());

    // Tiny timeouts still give a sane ping period.
    BOOST_TEST(shell::notifier("@x", 100us).ping_interval()->count() == 1000);
}

BOOST_AUTO_TEST_CASE(watchdog_pinger_sends_pings)
{
    test::temp_dir dir;
    fake_systemd sd(dir.file("notify"));
    scoped_env env;
    env.set("NOTIFY_SOCKET", sd.name().c_str());
    env.set("WATCHDOG_USEC", "20000");
    env.set("WATCHDOG_PID", nullptr);
    auto n = shell::notifier::from_environment();
    BOOST_REQUIRE(n.ping_interval().has_value());
    BOOST_TEST(n.ping_interval()->count() == 10'000);

    boost::asio::io_context ioc;
    shell::watchdog wd(ioc.get_executor(), n);
    wd.start();
    BOOST_TEST(wd.running());

    std::vector<std::string> got;
    auto deadline = std::chrono::steady_clock::now() + 10s;
    while (got.size() < 3 && std::chrono::steady_clock::now() < deadline) {
        ioc.run_one_for(20ms);
        while (auto d = sd.receive(0ms)) got.push_back(*d);
    }
    BOOST_REQUIRE_EQUAL(got.size(), 3u);
    for (auto& d : got) BOOST_TEST(d == "WATCHDOG=1");
    BOOST_TEST(wd.pings() >= 3u);

    // After stop() the loop runs dry: no timer pending, no more pings.
    wd.stop();
    BOOST_TEST(!wd.running());
    ioc.run_for(50ms);
    while (sd.receive(0ms)) {}  // a ping sent between the last receive and stop()
    auto pings = wd.pings();
    ioc.restart();
    ioc.run_for(50ms);
    BOOST_TEST(wd.pings() == pings);
    BOOST_TEST(!sd.receive(30ms).has_value());

    // Restartable.
    wd.start();
    ioc.restart();
    std::optional<std::string> again;
    deadline = std::chrono::steady_clock::now() + 10s;
    while (!again && std::chrono::steady_clock::now() < deadline) {
        ioc.run_one_for(20ms);
        again = sd.receive(0ms);
    }
    BOOST_TEST(again.value_or("<none>") == "WATCHDOG=1");
}

BOOST_AUTO_TEST_CASE(watchdog_pinger_is_idle_without_watchdog)
{
    test::temp_dir dir;
    fake_systemd sd(dir.file("notify"));
    shell::notifier n(sd.name());  // no WATCHDOG_USEC
    boost::asio::io_context ioc;
    shell::watchdog wd(ioc.get_executor(), n);
    wd.start();
    BOOST_TEST(!wd.running());
    BOOST_TEST(ioc.run_for(20ms) == 0u);  // nothing scheduled
    BOOST_TEST(!sd.receive(10ms).has_value());

    shell::notifier disabled;
    shell::watchdog wd2(ioc.get_executor(), disabled);
    wd2.start();
    BOOST_TEST(!wd2.running());
}

BOOST_AUTO_TEST_CASE(watchdog_destroyed_while_timer_pending)
{
    test::temp_dir dir;
    fake_systemd sd(dir.file("notify"));
    shell::notifier n(sd.name(), 20000us);
    boost::asio::io_context ioc;
    {
        shell::watchdog wd(ioc.get_executor(), n);
        wd.start();
    }
    // The cancelled handler still runs; it must not touch the destroyed pinger.
    ioc.run_for(50ms);
    BOOST_TEST(sd.receive(0ms).value_or("<none>") == "WATCHDOG=1");  // the one from start()
    BOOST_TEST(!sd.receive(0ms).has_value());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(signals)

namespace {

/// Runs handlers one at a time until `done()` or the limit passes.
template <class Pred>
bool run_until(boost::asio::io_context& ioc, Pred done, std::chrono::milliseconds limit = 5s)
{
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done() && std::chrono::steady_clock::now() < deadline) {
        ioc.restart();
        ioc.run_one_for(20ms);
    }
    return done();
}

}  // namespace

BOOST_AUTO_TEST_CASE(sigpipe_is_ignored)
{
    BOOST_REQUIRE(shell::ignore_sigpipe());
    struct sigaction sa{};
    BOOST_REQUIRE(::sigaction(SIGPIPE, nullptr, &sa) == 0);
    BOOST_TEST((sa.sa_handler == SIG_IGN));

    // Writing to a closed pipe now gives EPIPE instead of killing the test.
    int fds[2];
    BOOST_REQUIRE(::pipe(fds) == 0);
    ::close(fds[0]);
    errno = 0;
    BOOST_TEST(::write(fds[1], "x", 1) == -1);
    BOOST_TEST(errno == EPIPE);
    ::close(fds[1]);
}

BOOST_AUTO_TEST_CASE(sighup_reloads_sigterm_stops)
{
    boost::asio::io_context ioc;
    shell::signal_handler h(ioc.get_executor());
    int reloads = 0;
    std::vector<int> stops;
    h.on_reload([&] { ++reloads; });
    h.on_stop([&](int signo) { stops.push_back(signo); });
    BOOST_REQUIRE(h.start());

    BOOST_REQUIRE(::raise(SIGHUP) == 0);
    BOOST_REQUIRE(run_until(ioc, [&] { return reloads == 1; }));
    BOOST_TEST(stops.empty());

    BOOST_REQUIRE(::raise(SIGHUP) == 0);
    BOOST_REQUIRE(run_until(ioc, [&] { return reloads == 2; }));

    BOOST_REQUIRE(::raise(SIGTERM) == 0);
    BOOST_REQUIRE(run_until(ioc, [&] { return stops.size() == 1; }));
    BOOST_TEST(stops[0] == SIGTERM);
    BOOST_TEST(h.stop_requests() == 1);

    // A reload request while stopping is ignored.
    BOOST_REQUIRE(::raise(SIGHUP) == 0);
    // A second stop request is delivered again (the daemon force-exits on it).
    BOOST_REQUIRE(::raise(SIGINT) == 0);
    BOOST_REQUIRE(run_until(ioc, [&] { return stops.size() == 2; }));
    BOOST_TEST(stops[1] == SIGINT);
    BOOST_TEST(h.stop_requests() == 2);
    BOOST_TEST(reloads == 2);

    h.stop();
    // Default dispositions are back.
    struct sigaction sa{};
    BOOST_REQUIRE(::sigaction(SIGTERM, nullptr, &sa) == 0);
    BOOST_TEST((sa.sa_handler == SIG_DFL));
}

BOOST_AUTO_TEST_CASE(sigint_stops_and_signals_before_run_are_queued)
{
    boost::asio::io_context ioc;
    shell::signal_handler h(ioc.get_executor());
    std::vector<int> stops;
    h.on_stop([&](int signo) { stops.push_back(signo); });
    BOOST_REQUIRE(h.start());
    // Raised before the loop runs: Asio records it and delivers it on the loop.
    BOOST_REQUIRE(::raise(SIGINT) == 0);
    BOOST_TEST(stops.empty());
    BOOST_REQUIRE(run_until(ioc, [&] { return stops.size() == 1; }));
    BOOST_TEST(stops[0] == SIGINT);
    h.stop();
}

BOOST_AUTO_TEST_CASE(stop_from_inside_a_callback)
{
    boost::asio::io_context ioc;
    {
        shell::signal_handler h(ioc.get_executor());
        int reloads = 0;
        h.on_reload([&] {
            ++reloads;
            h.stop();
        });
        BOOST_REQUIRE(h.start());
        BOOST_REQUIRE(::raise(SIGHUP) == 0);
        BOOST_REQUIRE(run_until(ioc, [&] { return reloads == 1; }));
        BOOST_TEST(h.stop_requests() == 0);
        // Restart works after a stop.
        BOOST_REQUIRE(h.start());
        BOOST_REQUIRE(::raise(SIGHUP) == 0);
        BOOST_REQUIRE(run_until(ioc, [&] { return reloads == 2; }));
    }
    // Destroyed with nothing pending that refers to it.
    ioc.restart();
    ioc.run_for(20ms);
}

BOOST_AUTO_TEST_SUITE_END()
