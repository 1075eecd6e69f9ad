// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <wfsync/core/async.hpp>
#include <wfsync/core/error.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace wfsync::shell {

/// How long a notification waits for room in a full receiver queue before it is dropped.
inline constexpr std::chrono::milliseconds notify_send_limit{1000};

/// systemd's readiness protocol (sd_notify(3)) without libsystemd: each message is one
/// datagram to the AF_UNIX socket named by $NOTIFY_SOCKET, either a path ("/run/...") or an
/// abstract name ("@name"). Without $NOTIFY_SOCKET the notifier is disabled and every call is
/// a successful no-op, so callers never branch on "am I under systemd".
///
/// Thread safety: every call opens, uses and closes its own socket, so a notifier may be used
/// from several threads at once (the watchdog pinger and the main loop, for instance).
class notifier {
public:
    /// A disabled notifier.
    notifier() = default;

    /// An enabled notifier for `socket` ("/path" or "@abstract"); `watchdog_usec` as systemd
    /// would give it in WATCHDOG_USEC. An empty socket gives a disabled notifier.
    explicit notifier(std::string socket,
                      std::optional<std::chrono::microseconds> watchdog_usec = std::nullopt);

    /// Reads NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID. The watchdog is on only when
    /// WATCHDOG_USEC is a positive integer and WATCHDOG_PID, if set, is this process's pid.
    /// Malformed values switch the watchdog off (and are logged), they are never fatal.
    static notifier from_environment();

    bool enabled() const noexcept { return !socket_.empty(); }

    /// The socket as given in $NOTIFY_SOCKET ("" when disabled).
    const std::string& socket() const noexcept { return socket_; }

    /// Sends `state` (newline-separated VAR=value assignments) as one datagram. Never blocks
    /// for longer than notify_send_limit: a message that finds the receiver's queue full
    /// that long is dropped and reported. Errors (errc::io) name the socket.
    result<void> send(std::string_view state) const;

    /// "READY=1": startup finished, the service is serving.
    result<void> ready() const;
    /// "STATUS=<line>": a one-line status shown by `systemctl status`. CR and LF in `line`
    /// are replaced by spaces (the protocol is line based; a newline would start a new
    /// assignment).
    result<void> status(std::string_view line) const;
    /// "RELOADING=1\nMONOTONIC_USEC=<now>": a reload started (CLOCK_MONOTONIC, microseconds);
    /// send ready() when it is over, whatever its outcome.
    result<void> reloading() const;
    /// "STOPPING=1": shutdown started.
    result<void> stopping() const;
    /// "WATCHDOG=1": the service is alive.
    result<void> watchdog() const;

    /// The watchdog timeout systemd enforces (WATCHDOG_USEC), if the watchdog is on for this
    /// process; none when disabled.
    std::optional<std::chrono::microseconds> watchdog_interval() const noexcept;

    /// How often to send WATCHDOG=1: half of watchdog_interval() (at least 1 ms), as
    /// sd_watchdog_enabled(3) recommends.
    std::optional<std::chrono::microseconds> ping_interval() const noexcept;

private:
    std::string socket_;
    std::optional<std::chrono::microseconds> watchdog_usec_;
};

/// `text` with every CR and LF replaced by a space (what status() sends).
std::string single_line(std::string_view text);

/// Sends WATCHDOG=1 through a notifier every ping_interval(), on an Asio executor. The first
/// ping goes out at start(). Does nothing when the notifier's watchdog is off. A failed ping is
/// logged (warn) and the pinger keeps going: a transient error must not stop the pings and let
/// systemd kill a healthy service.
///
/// The pinger runs on the executor, so a stalled event loop stops the pings: that is the
/// point of a watchdog. `notifier` must outlive the pinger. Not thread safe: call start()/stop()
/// from the executor's thread (or before it runs).
class watchdog {
public:
    watchdog(executor ex, notifier& n);
    ~watchdog();
    watchdog(const watchdog&) = delete;
    watchdog& operator=(const watchdog&) = delete;

    /// Starts pinging; no-op if already running or if the watchdog is off.
    void start();
    /// Stops pinging; the pending timer is cancelled. start() may be called again.
    void stop();
    /// True between a start() that armed the timer and stop().
    bool running() const noexcept;
    /// Pings sent successfully so far.
    std::uint64_t pings() const noexcept;

private:
    struct state;
    std::shared_ptr<state> state_;
};

}  // namespace wfsync::shell
