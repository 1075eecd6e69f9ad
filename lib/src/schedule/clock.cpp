// SPDX-License-Identifier: Apache-2.0
#include <wfsync/schedule/clock.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>

#include <algorithm>
#include <map>
#include <utility>

namespace asio = boost::asio;

namespace wfsync::schedule {

namespace {

using time_point = clock::time_point;

/// A steady_timer can not see wall-clock steps; waking at least this often bounds how late a
/// forward jump is noticed, at the cost of one wake-up per sleeper per period.
constexpr std::chrono::seconds max_step{30};

class system_clock_impl final : public clock {
public:
    explicit system_clock_impl(executor ex) : ex_(std::move(ex)) {}

    time_point now() const override { return std::chrono::system_clock::now(); }

    awaitable<void> sleep_until(time_point when) override { return sleep(ex_, when); }

private:
    // Static: the frame must not depend on the clock object, which may go away first.
    static awaitable<void> sleep(executor ex, time_point when)
    {
        asio::steady_timer timer(ex);
        auto last = std::chrono::system_clock::now();
        for (;;) {
            auto now = std::chrono::system_clock::now();
            if (now >= when) co_return;
            // Set back: `when` may now be far off (say the machine booted with a clock in the
            // future, then NTP fixed it); the caller decides whether it still holds.
            if (now + std::chrono::seconds(1) < last) co_return;
            last = now;
            auto left = std::chrono::duration_cast<std::chrono::steady_clock::duration>(when - now);
            timer.expires_after(std::min<std::chrono::steady_clock::duration>(left, max_step));
            // Throws operation_aborted when cancelled, as documented.
            co_await timer.async_wait(asio::use_awaitable);
        }
    }

    executor ex_;
};

}  // namespace

std::shared_ptr<clock> make_system_clock(executor ex)
{
    return std::make_shared<system_clock_impl>(std::move(ex));
}

// ---------------------------------------------------------------------------------------
// manual_clock

namespace {

/// One pending sleep. Its timer never expires by itself: the clock cancels it to wake it,
/// after setting `due`, so a wake-up is told apart from an outside cancellation.
struct waiter {
    explicit waiter(const executor& ex) : timer(ex, asio::steady_timer::time_point::max()) {}
    asio::steady_timer timer;
    bool due = false;
};

using waiter_key = std::pair<time_point, std::uint64_t>;  // (when, arrival order)

}  // namespace

struct manual_clock::state {
    executor ex;
    time_point now;
    std::uint64_t seq = 0;
    std::map<waiter_key, std::shared_ptr<waiter>> waiters;

    void wake_all()
    {
        auto all = std::move(waiters);
        waiters.clear();
        for (auto& [key, w] : all) {
            w->due = true;
            w->timer.cancel();
        }
    }

    void wake_due()
    {
        // In key order: the cancellations post the completions, which run in that order.
        while (!waiters.empty() && waiters.begin()->first.first <= now) {
            auto w = std::move(waiters.begin()->second);
            waiters.erase(waiters.begin());
            w->due = true;
            w->timer.cancel();
        }
    }
};

namespace {

awaitable<void> manual_sleep(std::shared_ptr<manual_clock::state> s, time_point when)
{
    if (when <= s->now) co_return;
    auto w = std::make_shared<waiter>(s->ex);
    waiter_key key{when, s->seq++};
    s->waiters.emplace(key, w);
    // Removes the entry however this frame ends: cancelled, or destroyed with its io_context.
    struct guard {
        manual_clock::state& s;
        waiter_key key;
        ~guard() { s.waiters.erase(key); }
    } g{*s, key};
    (void)co_await w->timer.async_wait(asio::as_tuple(asio::use_awaitable));  // due or cancelled
    if (!w->due) throw boost::system::system_error(asio::error::operation_aborted, "manual_clock sleep");
}

}  // namespace

manual_clock::manual_clock(executor ex, time_point start) : state_(std::make_shared<state>())
{
    state_->ex = std::move(ex);
    state_->now = start;
}

manual_clock::~manual_clock() = default;

time_point manual_clock::now() const { return state_->now; }

awaitable<void> manual_clock::sleep_until(time_point when) { return manual_sleep(state_, when); }

void manual_clock::advance(std::chrono::milliseconds d)
{
    if (d.count() <= 0) return;
    state_->now += d;
    state_->wake_due();
}

void manual_clock::set(time_point t)
{
    bool back = t < state_->now;
    state_->now = t;
    if (back)
        state_->wake_all();
    else
        state_->wake_due();
}

std::size_t manual_clock::waiters() const { return state_->waiters.size(); }

time_point manual_clock::next_wake() const
{
    return state_->waiters.empty() ? time_point::max() : state_->waiters.begin()->first.first;
}

}  // namespace wfsync::schedule
