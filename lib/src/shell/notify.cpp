// SPDX-License-Identifier: Apache-2.0
#include <wfsync/shell/notify.hpp>

#include <wfsync/core/log.hpp>

#include <boost/asio/steady_timer.hpp>

#include <fmt/format.h>

#include <cerrno>
#include <charconv>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <ctime>

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace wfsync::shell {

namespace {

std::string errno_text(int e) { return std::strerror(e); }

// Closes the fd on every return path of send().
struct fd_guard {
    int fd;
    ~fd_guard()
    {
        if (fd >= 0) ::close(fd);
    }
};

std::optional<std::uint64_t> parse_u64(const char* text)
{
    if (!text || !*text) return std::nullopt;
    std::string_view s(text);
    std::uint64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || p != s.data() + s.size()) return std::nullopt;
    return v;
}

}  // namespace

std::string single_line(std::string_view text)
{
    std::string out(text);
    for (char& c : out)
        if (c == '\n' || c == '\r') c = ' ';
    return out;
}

notifier::notifier(std::string socket, std::optional<std::chrono::microseconds> watchdog_usec)
    : socket_(std::move(socket)), watchdog_usec_(socket_.empty() ? std::nullopt : watchdog_usec)
{
}

notifier notifier::from_environment()
{
    const char* sock = std::getenv("NOTIFY_SOCKET");
    if (!sock || !*sock) return notifier{};

    std::optional<std::chrono::microseconds> wd;
    if (const char* usec = std::getenv("WATCHDOG_USEC"); usec && *usec) {
        auto v = parse_u64(usec);
        bool ours = true;
        // WATCHDOG_PID names the process systemd expects pings from; when it is set for
        // another process (we are a child of the service's main process), the watchdog is
        // not ours to feed.
        if (const char* pid = std::getenv("WATCHDOG_PID"); pid && *pid) {
            auto p = parse_u64(pid);
            if (!p) {
                log::warn("systemd: ignoring malformed WATCHDOG_PID={}", pid);
                ours = false;
            }
            else if (*p != static_cast<std::uint64_t>(::getpid())) {
                ours = false;
            }
        }
        if (!v || *v == 0)
            log::warn("systemd: ignoring malformed WATCHDOG_USEC={}", usec);
        else if (ours)
            wd = std::chrono::microseconds(static_cast<std::int64_t>(*v));
    }
    return notifier(sock, wd);
}

result<void> notifier::send(std::string_view state) const
{
    if (!enabled()) return {};

    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    socklen_t len = 0;
    if (socket_[0] == '@') {
        // Abstract namespace: a leading NUL, no terminator; the length delimits the name.
        std::string_view name = std::string_view(socket_).substr(1);
        if (name.empty() || name.size() > sizeof(addr.sun_path) - 1)
            return fail(errc::config, fmt::format("systemd notify socket {}: abstract name "
                                                  "empty or longer than {} bytes",
                                                  socket_, sizeof(addr.sun_path) - 1));
        addr.sun_path[0] = '\0';
        std::memcpy(addr.sun_path + 1, name.data(), name.size());
        len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
    }
    else if (socket_[0] == '/') {
        if (socket_.size() >= sizeof(addr.sun_path))
            return fail(errc::config,
                        fmt::format("systemd notify socket {}: path longer than {} bytes",
                                    socket_, sizeof(addr.sun_path) - 1));
        std::memcpy(addr.sun_path, socket_.data(), socket_.size());
        len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + socket_.size() + 1);
    }
    else {
        return fail(errc::config,
                    fmt::format("systemd notify socket {}: not an absolute path or "
                                "'@abstract' name",
                                socket_));
    }

    fd_guard fd{::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)};
    if (fd.fd < 0)
        return fail(errc::io, fmt::format("systemd notify socket {}: socket: {}", socket_,
                                          errno_text(errno)));
    // Connected, so that poll() below waits for room in the receiver's queue. Never a
    // blocking send: when nobody reads the socket (its queue holds only
    // net.unix.max_dgram_qlen datagrams, 10 by default), the daemon's one thread would
    // stop there for good, shutdown included. A message that finds no room within
    // notify_send_limit is dropped with an error instead.
    int rc;
    do {
        rc = ::connect(fd.fd, reinterpret_cast<const sockaddr*>(&addr), len);
    } while (rc < 0 && errno == EINTR);
    if (rc < 0)
        return fail(errc::io, fmt::format("systemd notify socket {}: connect: {}", socket_,
                                          errno_text(errno)));
    ssize_t n = -1;
    for (int attempt = 0; attempt < 2; ++attempt) {
        do {
            n = ::send(fd.fd, state.data(), state.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        } while (n < 0 && errno == EINTR);
        if (n >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK) || attempt == 1) break;
        pollfd p{fd.fd, POLLOUT, 0};
        int ready;
        do {
            ready = ::poll(&p, 1, static_cast<int>(notify_send_limit.count()));
        } while (ready < 0 && errno == EINTR);
        if (ready <= 0) {
            errno = EAGAIN;
            break;
        }
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return fail(errc::io, fmt::format("systemd notify socket {}: nobody reads it (its queue "
                                          "stayed full for {} ms); '{}' dropped",
                                          socket_, notify_send_limit.count(),
                                          single_line(state.substr(0, state.find('=')))));
    if (n < 0)
        return fail(errc::io, fmt::format("systemd notify socket {}: send: {}", socket_,
                                          errno_text(errno)));
    if (static_cast<std::size_t>(n) != state.size())
        return fail(errc::io, fmt::format("systemd notify socket {}: sent {} of {} bytes",
                                          socket_, n, state.size()));
    return {};
}

result<void> notifier::ready() const { return send("READY=1"); }

result<void> notifier::status(std::string_view line) const
{
    if (!enabled()) return {};
    return send("STATUS=" + single_line(line));
}

result<void> notifier::reloading() const
{
    if (!enabled()) return {};
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    std::uint64_t usec = static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000u +
                         static_cast<std::uint64_t>(ts.tv_nsec) / 1'000u;
    return send(fmt::format("RELOADING=1\nMONOTONIC_USEC={}", usec));
}

result<void> notifier::stopping() const { return send("STOPPING=1"); }

result<void> notifier::watchdog() const { return send("WATCHDOG=1"); }

std::optional<std::chrono::microseconds> notifier::watchdog_interval() const noexcept
{
    return watchdog_usec_;
}

std::optional<std::chrono::microseconds> notifier::ping_interval() const noexcept
{
    if (!watchdog_usec_) return std::nullopt;
    return std::max(*watchdog_usec_ / 2, std::chrono::microseconds(std::chrono::milliseconds(1)));
}

// ---- watchdog pinger ------------------------------------------------------------------------

// Shared with the pending timer handler, so a handler that runs after the watchdog object is
// gone finds `stopped` set and touches nothing else.
struct watchdog::state {
    boost::asio::steady_timer timer;
    notifier* n;
    bool running = false;
    std::uint64_t generation = 0;  // a stop()+start() must not revive the old chain's handler
    std::uint64_t pings = 0;

    state(executor ex, notifier& nn) : timer(std::move(ex)), n(&nn) {}

    static void tick(const std::shared_ptr<state>& s, std::uint64_t gen)
    {
        if (!s->running || s->generation != gen) return;
        if (auto r = s->n->watchdog(); r)
            ++s->pings;
        else
            log::warn("systemd watchdog ping failed: {}", r.error().message);
        s->timer.expires_after(*s->n->ping_interval());
        s->timer.async_wait([s, gen](const boost::system::error_code& ec) {
            if (ec) return;  // cancelled by stop()
            tick(s, gen);
        });
    }
};

watchdog::watchdog(executor ex, notifier& n) : state_(std::make_shared<state>(std::move(ex), n))
{
}

watchdog::~watchdog() { stop(); }

void watchdog::start()
{
    if (state_->running || !state_->n->enabled() || !state_->n->ping_interval()) return;
    state_->running = true;
    ++state_->generation;
    state::tick(state_, state_->generation);
}

void watchdog::stop()
{
    if (!state_->running) return;
    state_->running = false;
    state_->timer.cancel();
}

bool watchdog::running() const noexcept { return state_->running; }

std::uint64_t watchdog::pings() const noexcept { return state_->pings; }

}  // namespace wfsync::shell
