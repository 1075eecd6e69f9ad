// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <wfsync/core/async.hpp>
#include <wfsync/core/error.hpp>

#include <functional>
#include <memory>

namespace wfsync::shell {

/// Ignores SIGPIPE for the whole process, so that writing to a peer that went away gives
/// EPIPE (an error we handle) instead of killing the daemon. Call once, early in main().
result<void> ignore_sigpipe();

/// Turns the daemon's signals into callbacks on an Asio executor (boost::asio::signal_set):
///   - SIGHUP           -> on_reload()
///   - SIGTERM, SIGINT  -> on_stop(signo), for the first one and for every further one (the
///                         caller decides that a second stop request means "exit now").
/// A SIGHUP that arrives after a stop request is logged and ignored: there is nothing to
/// reload into. Callbacks run on the executor, never inside a real signal handler, so they
/// may do anything. Signals that arrive before the loop runs are queued by Asio, not lost.
///
/// Not thread safe: use it from the executor's thread (or before the executor runs).
class signal_handler {
public:
    explicit signal_handler(executor ex);
    ~signal_handler();
    signal_handler(const signal_handler&) = delete;
    signal_handler& operator=(const signal_handler&) = delete;

    void on_reload(std::function<void()> f);
    void on_stop(std::function<void(int signo)> f);

    /// Installs the handlers for SIGHUP, SIGTERM and SIGINT and starts waiting.
    /// Errors (errc::io) name the signal that could not be registered.
    result<void> start();
    /// Stops waiting and gives the three signals back their default disposition.
    void stop();

    /// Stop signals received so far (0 until the first SIGTERM/SIGINT).
    int stop_requests() const noexcept;

private:
    struct state;
    std::shared_ptr<state> state_;
};

}  // namespace wfsync::shell
