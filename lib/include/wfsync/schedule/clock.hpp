// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <wfsync/core/async.hpp>

#include <chrono>
#include <cstddef>
#include <memory>

namespace wfsync::schedule {

/// Wall-clock time with waiting. The scheduler asks it for the time and sleeps on it, so
/// tests can drive time by hand (manual_clock) and never wait for real.
///
/// Not thread-safe: use it from the thread that runs its executor.
class clock {
public:
    using time_point = std::chrono::system_clock::time_point;

    virtual ~clock() = default;

    /// The current wall-clock time.
    virtual time_point now() const = 0;

    /// Completes once now() >= `when`; at once (without suspending) if that is already so.
    /// Also completes early when the wall clock is set back (the system clock: by more than
    /// a second), so that a caller whose `when` came from the old time can plan again:
    /// callers re-check now() and sleep again if needed.
    /// Honours per-operation cancellation (the awaiting coroutine's cancellation slot, e.g.
    /// a cancellation_signal bound to its co_spawn, or the `||` operator): a cancelled sleep
    /// throws boost::system::system_error(operation_aborted), like any Asio operation.
    virtual awaitable<void> sleep_until(time_point when) = 0;
};

/// The real clock: std::chrono::system_clock, waiting on a steady_timer. A sleep re-reads
/// the wall clock whenever it wakes and wakes at least every 30 s, so it ends at the right
/// wall time after the clock was set (NTP step, manual change) or the machine slept:
/// a forward jump is noticed within 30 s, a backward one too and then ends the sleep early.
std::shared_ptr<clock> make_system_clock(executor ex);

/// A clock for tests: time moves only when advance() or set() is called. Waiters whose
/// time has come are then woken in order of their time (ties: the order they started
/// waiting); they resume when the io_context runs (their completions are posted).
class manual_clock : public clock {
public:
    manual_clock(executor ex, time_point start);
    ~manual_clock() override;

    time_point now() const override;
    awaitable<void> sleep_until(time_point when) override;

    /// Moves time forward by `d` (negative values are ignored) and wakes the due waiters.
    void advance(std::chrono::milliseconds d);
    /// Sets the time. Going backwards wakes every waiter early, as the system clock does when
    /// the wall clock is set back.
    void set(time_point t);
    /// How many sleeps are pending.
    std::size_t waiters() const;
    /// The earliest pending wake-up time, or time_point::max() when nobody waits.
    time_point next_wake() const;

    struct state;

private:
    std::shared_ptr<state> state_;  // shared with pending sleeps, which may outlive the clock
};

}  // namespace wfsync::schedule
