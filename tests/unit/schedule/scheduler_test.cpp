// SPDX-License-Identifier: Apache-2.0
#define BOOST_TEST_MODULE wfsync_scheduler
#include <boost/test/unit_test.hpp>

#include <wfsync/schedule/clock.hpp>
#include <wfsync/schedule/scheduler.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace asio = boost::asio;
using namespace std::chrono_literals;
using wfsync::awaitable;
using wfsync::schedule::job_spec;
using wfsync::schedule::job_status;
using wfsync::schedule::manual_clock;
using wfsync::schedule::scheduler;
using time_point = std::chrono::system_clock::time_point;

namespace {

// "2025-01-06 00:00:00" (UTC) -> time_point
time_point at(const char* s)
{
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
    if (std::sscanf(s, "%d-%d-%d %d:%d:%d", &y, &mo, &d, &h, &mi, &sec) != 6)
        throw std::runtime_error(std::string("bad test time ") + s);
    using namespace std::chrono;
    return sys_days{year{y} / month{static_cast<unsigned>(mo)} / day{static_cast<unsigned>(d)}} +
           hours{h} + minutes{mi} + seconds{sec};
}

std::string show(std::optional<time_point> t)
{
    if (!t) return "none";
    using namespace std::chrono;
    auto ms = duration_cast<milliseconds>(t->time_since_epoch()).count();
    auto s = floor<seconds>(*t);
    auto day = floor<days>(s);
    year_month_day ymd{day};
    auto sod = (s - day).count();
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02u %02lld:%02lld:%02lld.%03lld", static_cast<int>(ymd.year()),
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                  static_cast<long long>(sod / 3600), static_cast<long long>(sod / 60 % 60),
                  static_cast<long long>(sod % 60), static_cast<long long>(ms % 1000));
    return buf;
}

wfsync::schedule::schedule parse(const char* text, const char* zone = "UTC")
{
    auto r = wfsync::schedule::schedule::parse(text, zone);
    if (!r) throw std::runtime_error(std::string("bad test schedule ") + text);
    return *r;
}

job_spec job(std::string name, std::optional<wfsync::schedule::schedule> when, std::string fp = "")
{
    job_spec j;
    j.name = std::move(name);
    j.when = std::move(when);
    j.fingerprint = std::move(fp);
    return j;
}

/// An io_context, a manual clock and a scheduler whose runner records each call and can be
/// told, per job, to sleep on the manual clock or to throw.
struct fixture {
    std::unique_ptr<asio::io_context> ioc_holder = std::make_unique<asio::io_context>();
    asio::io_context& ioc = *ioc_holder;
    time_point t0 = at("2025-01-06 00:00:00");  // a Monday
    std::shared_ptr<manual_clock> clk;
    std::unique_ptr<scheduler> sched;

    std::map<std::string, std::vector<time_point>> starts;  // per job: when each run began
    std::map<std::string, std::chrono::milliseconds> duration;  // per job: run length
    std::map<std::string, int> throw_on;                      // per job: throw on this call (1-based)
    int active = 0, max_active = 0;
    std::map<std::string, int> active_per_job, max_active_per_job;

    explicit fixture(time_point start = at("2025-01-06 00:00:00"), std::optional<std::uint64_t> seed = 1)
        : t0(start), clk(std::make_shared<manual_clock>(ioc.get_executor(), start))
    {
        sched = std::make_unique<scheduler>(ioc.get_executor(), clk,
                                            [this](const std::string& n) { return run(n); }, seed);
    }

    ~fixture()
    {
        // Documented order: stop, then destroy; pending coroutines (runs still sleeping on the
        // clock) die with the io_context, which must go before the runner's captures (us).
        sched->stop();
        sched.reset();
        ioc_holder.reset();
    }

    awaitable<void> run(const std::string& name)
    {
        std::string n = name;  // our own copy
        auto& list = starts[n];
        list.push_back(clk->now());
        int call = static_cast<int>(list.size());
        ++active;
        max_active = std::max(max_active, active);
        int a = ++active_per_job[n];
        max_active_per_job[n] = std::max(max_active_per_job[n], a);
        struct dec {
            fixture& f;
            std::string n;
            ~dec()
            {
                --f.active;
                --f.active_per_job[n];
            }
        } d{*this, n};
        if (auto it = duration.find(n); it != duration.end())
            co_await clk->sleep_until(clk->now() + it->second);
        if (auto it = throw_on.find(n); it != throw_on.end() && it->second == call)
            throw std::runtime_error("runner failure for " + n);
    }

    /// Runs every handler that is ready, including those they make ready.
    void pump()
    {
        ioc.restart();
        ioc.poll();
    }

    /// Moves time to `target`, stopping at every wake-up time on the way, as real time would.
    void advance_to(time_point target)
    {
        pump();
        while (clk->next_wake() <= target) {
            clk->set(clk->next_wake());
            pump();
        }
        clk->set(target);
        pump();
    }
    void advance_by(std::chrono::milliseconds d) { advance_to(clk->now() + d); }

    job_status status_of(const std::string& name)
    {
        for (auto& s : sched->status())
            if (s.name == name) return s;
        BOOST_FAIL("no status for job " << name);
        return {};
    }

    std::vector<std::string> times(const std::string& name)
    {
        std::vector<std::string> out;
        for (auto t : starts[name]) out.push_back(show(t));
        return out;
    }

    std::vector<std::string> names()
    {
        std::vector<std::string> out;
        for (auto& s : sched->status()) out.push_back(s.name);
        return out;
    }
};

using strings = std::vector<std::string>;

}  // namespace

// ---------------------------------------------------------------------------------------
// manual_clock

BOOST_AUTO_TEST_CASE(manual_clock_wakes_waiters_in_time_order_only_when_advanced)
{
    asio::io_context ioc;
    auto t0 = at("2025-01-06 00:00:00");
    manual_clock clk(ioc.get_executor(), t0);
    std::vector<std::string> woke;
    auto sleeper = [&](std::string tag, time_point when) -> awaitable<void> {
        co_await clk.sleep_until(when);
        woke.push_back(tag + "@" + show(clk.now()));
    };
    asio::co_spawn(ioc, sleeper("c", t0 + 30s), asio::detached);
    asio::co_spawn(ioc, sleeper("a", t0 + 10s), asio::detached);
    asio::co_spawn(ioc, sleeper("b", t0 + 10s), asio::detached);
    asio::co_spawn(ioc, sleeper("past", t0 - 1s), asio::detached);
    ioc.poll();
    BOOST_TEST(woke == strings{"past@2025-01-06 00:00:00.000"});
    BOOST_TEST(clk.waiters() == 3u);
    BOOST_TEST(show(clk.next_wake()) == "2025-01-06 00:00:10.000");

    clk.advance(9999ms);
    ioc.restart();
    ioc.poll();
    BOOST_TEST(woke.size() == 1u);

    clk.advance(40s);  // both due: they wake in time order, ties in arrival order
    BOOST_TEST(clk.waiters() == 0u);
    BOOST_TEST(woke.size() == 1u);  // nothing resumes before the io_context runs
    ioc.restart();
    ioc.poll();
    BOOST_TEST(woke == (strings{"past@2025-01-06 00:00:00.000", "a@2025-01-06 00:00:49.999",
                                "b@2025-01-06 00:00:49.999", "c@2025-01-06 00:00:49.999"}));
}

BOOST_AUTO_TEST_CASE(manual_clock_sleep_is_cancellable)
{
    using namespace asio::experimental::awaitable_operators;
    asio::io_context ioc;
    auto t0 = at("2025-01-06 00:00:00");
    manual_clock clk(ioc.get_executor(), t0);
    std::optional<std::size_t> winner;
    auto race = [&]() -> awaitable<void> {
        auto a = clk.sleep_until(t0 + 100s);
        auto b = clk.sleep_until(t0 + 5s);
        auto r = co_await (std::move(a) || std::move(b));
        winner = r.index();
    };
    asio::co_spawn(ioc, race(), asio::detached);
    ioc.poll();
    BOOST_TEST(clk.waiters() == 2u);
    clk.advance(4s);
    ioc.restart();
    ioc.poll();
    BOOST_TEST(!winner.has_value());
    clk.set(t0 + 5s);
    ioc.restart();
    ioc.poll();
    BOOST_REQUIRE(winner.has_value());
    BOOST_TEST(*winner == 1u);
    BOOST_TEST(clk.waiters() == 0u);  // the loser's cancelled sleep removed itself
}

BOOST_AUTO_TEST_CASE(manual_clock_set_back_wakes_every_waiter_early)
{
    asio::io_context ioc;
    auto t0 = at("2025-01-06 00:00:00");
    manual_clock clk(ioc.get_executor(), t0);
    std::vector<std::string> woke;
    auto sleeper = [&](std::string tag, time_point when) -> awaitable<void> {
        co_await clk.sleep_until(when);
        woke.push_back(tag + "@" + show(clk.now()));
    };
    asio::co_spawn(ioc, sleeper("a", t0 + 1h), asio::detached);
    asio::co_spawn(ioc, sleeper("b", t0 + 10s), asio::detached);
    ioc.poll();
    clk.set(t0 - 24h);
    ioc.restart();
    ioc.poll();
    BOOST_TEST(woke == (strings{"b@2025-01-05 00:00:00.000", "a@2025-01-05 00:00:00.000"}));
    BOOST_TEST(clk.waiters() == 0u);
}

BOOST_AUTO_TEST_CASE(system_clock_sleep_in_the_past_completes_at_once_and_cancel_aborts)
{
    using namespace asio::experimental::awaitable_operators;
    asio::io_context ioc;
    auto clk = wfsync::schedule::make_system_clock(ioc.get_executor());
    auto now = clk->now();
    BOOST_TEST(std::chrono::abs(now - std::chrono::system_clock::now()) < 5s);
    bool done = false;
    std::optional<std::size_t> winner;
    auto body = [&]() -> awaitable<void> {
        co_await clk->sleep_until(now - 1s);
        done = true;
        // A day-long sleep loses to a short timer and is cancelled cleanly.
        asio::steady_timer t(ioc, 10ms);
        auto a = clk->sleep_until(clk->now() + 24h);
        auto b = t.async_wait(asio::use_awaitable);
        auto r = co_await (std::move(a) || std::move(b));
        winner = r.index();
    };
    asio::co_spawn(ioc, body(), asio::detached);
    ioc.run_for(5s);
    BOOST_TEST(done);
    BOOST_REQUIRE(winner.has_value());
    BOOST_TEST(*winner == 1u);
}

// ---------------------------------------------------------------------------------------
// firing

BOOST_AUTO_TEST_CASE(every_10s_fires_on_the_grid)
{
    fixture f(at("2025-01-06 00:00:03"));
    f.sched->set_jobs({job("a", parse("@every 10s"))});
    BOOST_TEST(!f.status_of("a").next_fire.has_value());  // not started yet
    f.advance_by(20s);
    BOOST_TEST(f.starts["a"].empty());

    f.sched->start();
    // Started at 00:00:23: the grid counts from the epoch, so the first fire is at :30.
    BOOST_TEST(show(f.status_of("a").next_fire) == "2025-01-06 00:00:30.000");
    f.advance_by(35s);  // to 00:00:58
    BOOST_TEST(f.times("a") == (strings{"2025-01-06 00:00:30.000", "2025-01-06 00:00:40.000",
                                        "2025-01-06 00:00:50.000"}));
    auto st = f.status_of("a");
    BOOST_TEST(st.runs == 3u);
    BOOST_TEST(st.skipped_overlap == 0u);
    BOOST_TEST(st.missed == 0u);
    BOOST_TEST(!st.running);
    BOOST_TEST(show(st.last_start) == "2025-01-06 00:00:50.000");
    BOOST_TEST(show(st.last_end) == "2025-01-06 00:00:50.000");
    BOOST_TEST(show(st.next_fire) == "2025-01-06 00:01:00.000");
    // Idle: exactly one sleeper (the job's loop), nothing else pending.
    BOOST_TEST(f.clk->waiters() == 1u);
    BOOST_TEST(f.sched->running() == 0u);
}

BOOST_AUTO_TEST_CASE(cron_fires_at_local_time_of_its_zone)
{
    fixture f(at("2025-03-29 00:00:00"));
    // 09:30 in Berlin: 08:30Z in winter (CET), 07:30Z after the switch on 2025-03-30 (CEST).
    f.sched->set_jobs({job("berlin", parse("30 9 * * *", "Europe/Berlin")),
                       job("ny", parse("0 6 * * MON-FRI", "America/New_York"))});
    f.sched->start();
    BOOST_TEST(show(f.status_of("berlin").next_fire) == "2025-03-29 08:30:00.000");
    BOOST_TEST(show(f.status_of("ny").next_fire) == "2025-03-31 10:00:00.000");  // Monday, EDT
    f.advance_to(at("2025-04-01 00:00:00"));
    BOOST_TEST(f.times("berlin") == (strings{"2025-03-29 08:30:00.000", "2025-03-30 07:30:00.000",
                                             "2025-03-31 07:30:00.000"}));
    BOOST_TEST(f.times("ny") == strings{"2025-03-31 10:00:00.000"});
    BOOST_TEST(show(f.status_of("berlin").next_fire) == "2025-04-01 07:30:00.000");
}

BOOST_AUTO_TEST_CASE(a_fire_while_running_is_skipped_and_counted_never_concurrent)
{
    fixture f;
    f.duration["slow"] = 25s;
    f.sched->set_jobs({job("slow", parse("@every 10s"))});
    f.sched->start();
    f.advance_by(60s);
    // 10 run (to 35), 20 skip, 30 skip, 40 run (to 65), 50 skip, 60 skip
    BOOST_TEST(f.times("slow") == (strings{"2025-01-06 00:00:10.000", "2025-01-06 00:00:40.000"}));
    auto st = f.status_of("slow");
    BOOST_TEST(st.runs == 2u);
    BOOST_TEST(st.skipped_overlap == 4u);
    BOOST_TEST(st.running);
    BOOST_TEST(f.sched->running() == 1u);
    BOOST_TEST(f.max_active_per_job["slow"] == 1);
    BOOST_TEST(show(st.last_end) == "2025-01-06 00:00:35.000");
    // The next fire counts from the fire times, not from the run's end (35 or 65).
    BOOST_TEST(show(st.next_fire) == "2025-01-06 00:01:10.000");
    f.advance_by(10s);
    BOOST_TEST(f.times("slow").back() == "2025-01-06 00:01:10.000");
    BOOST_TEST(f.status_of("slow").runs == 3u);
    BOOST_TEST(f.max_active_per_job["slow"] == 1);
}

BOOST_AUTO_TEST_CASE(a_late_wake_up_runs_once_and_counts_the_fires_that_passed)
{
    fixture f;
    f.sched->set_jobs({job("a", parse("@every 10s")), job("slow", parse("@every 10s"))});
    f.duration["slow"] = 500s;
    f.sched->start();
    f.advance_by(10s);  // both run at :10; slow runs until 00:08:30
    BOOST_TEST(f.starts["a"].size() == 1u);
    BOOST_TEST(f.starts["slow"].size() == 1u);
    // The wall clock jumps 95 s at once (suspend, NTP step): each loop wakes once.
    f.clk->advance(95s);
    f.pump();
    BOOST_TEST(f.times("a") == (strings{"2025-01-06 00:00:10.000", "2025-01-06 00:01:45.000"}));
    auto a = f.status_of("a");
    BOOST_TEST(a.runs == 2u);
    BOOST_TEST(a.missed == 8u);  // 30, 40, ..., 100 passed unseen; 20 ran late
    BOOST_TEST(a.skipped_overlap == 0u);
    BOOST_TEST(show(a.next_fire) == "2025-01-06 00:01:50.000");  // the next future one
    auto slow = f.status_of("slow");
    BOOST_TEST(slow.runs == 1u);
    BOOST_TEST(slow.skipped_overlap == 9u);  // 20..100, all while its run was in progress
    BOOST_TEST(slow.missed == 0u);
    BOOST_TEST(show(slow.next_fire) == "2025-01-06 00:01:50.000");
}

BOOST_AUTO_TEST_CASE(a_clock_set_back_replans_the_next_fire)
{
    fixture f;
    f.sched->set_jobs({job("h", parse("@every 1h")), job("c", parse("0 9 * * *", "Europe/Berlin"))});
    f.sched->start();
    f.advance_to(at("2025-01-06 00:30:00"));
    BOOST_TEST(show(f.status_of("h").next_fire) == "2025-01-06 01:00:00.000");
    BOOST_TEST(show(f.status_of("c").next_fire) == "2025-01-06 08:00:00.000");
    // A small step back changes nothing: the planned fires are still the next ones.
    f.clk->set(at("2025-01-06 00:20:00"));
    f.pump();
    BOOST_TEST(show(f.status_of("h").next_fire) == "2025-01-06 01:00:00.000");
    BOOST_TEST(f.clk->waiters() == 2u);
    // A day back (the clock had been wrong): the jobs fire on the corrected time, not a
    // day later.
    f.clk->set(at("2025-01-05 00:20:00"));
    f.pump();
    BOOST_TEST(show(f.status_of("h").next_fire) == "2025-01-05 01:00:00.000");
    BOOST_TEST(show(f.status_of("c").next_fire) == "2025-01-05 08:00:00.000");
    f.advance_to(at("2025-01-05 08:30:00"));
    BOOST_TEST(f.times("h").front() == "2025-01-05 01:00:00.000");
    BOOST_TEST(f.starts["h"].size() == 8u);  // 01:00 .. 08:00
    BOOST_TEST(f.times("c") == strings{"2025-01-05 08:00:00.000"});
    BOOST_TEST(f.status_of("h").missed == 0u);
}

BOOST_AUTO_TEST_CASE(jitter_delays_each_fire_within_bounds_reproducibly)
{
    auto fires = [](std::uint64_t seed) {
        fixture f(at("2025-01-06 00:00:00"), seed);
        auto j = job("j", parse("@every 10s"));
        j.jitter = 3000ms;
        f.sched->set_jobs({j});
        f.sched->start();
        f.advance_by(200s);
        return f.starts["j"];
    };
    auto a = fires(42);
    BOOST_TEST_REQUIRE(a.size() >= 19u);
    std::set<std::chrono::milliseconds> offsets;
    auto t0 = at("2025-01-06 00:00:00");
    for (std::size_t i = 0; i < a.size(); ++i) {
        auto grid = t0 + std::chrono::seconds(10 * (i + 1));  // the grid is kept
        auto off = std::chrono::duration_cast<std::chrono::milliseconds>(a[i] - grid);
        BOOST_TEST(off >= 0ms, "fire " << i << " at " << show(a[i]));
        BOOST_TEST(off <= 3000ms, "fire " << i << " at " << show(a[i]));
        offsets.insert(off);
    }
    BOOST_TEST(offsets.size() > 5u);  // really random, not a constant delay
    BOOST_TEST((fires(42) == a));     // the seed makes it reproducible
    BOOST_TEST((fires(43) != a));
}

// ---------------------------------------------------------------------------------------
// catch-up

BOOST_AUTO_TEST_CASE(catch_up_runs_once_at_start_only_when_a_fire_was_missed)
{
    auto t0 = at("2025-01-06 10:20:00");
    auto start_with = [&](bool catch_up, std::optional<time_point> last_run) {
        auto f = std::make_unique<fixture>(t0);
        auto j = job("hourly", parse("0 * * * *"));
        j.catch_up = catch_up;
        j.last_run = last_run;
        f->sched->set_jobs({j});
        f->sched->start();
        f->pump();
        return f;
    };
    {
        // Last ran 08:30; 09:00 and 10:00 were missed: one run now, not two.
        auto f = start_with(true, at("2025-01-06 08:30:00"));
        BOOST_TEST(f->times("hourly") == strings{"2025-01-06 10:20:00.000"});
        BOOST_TEST(f->status_of("hourly").runs == 1u);
        BOOST_TEST(show(f->status_of("hourly").next_fire) == "2025-01-06 11:00:00.000");
        f->advance_to(at("2025-01-06 11:30:00"));
        BOOST_TEST(f->times("hourly") == (strings{"2025-01-06 10:20:00.000", "2025-01-06 11:00:00.000"}));
    }
    {
        auto f = start_with(false, at("2025-01-06 08:30:00"));
        BOOST_TEST(f->starts["hourly"].empty());
        BOOST_TEST(f->status_of("hourly").runs == 0u);
    }
    {
        // Ran at 10:05, after the last fire (10:00): nothing was missed.
        auto f = start_with(true, at("2025-01-06 10:05:00"));
        BOOST_TEST(f->starts["hourly"].empty());
    }
    {
        // Ran exactly at the last fire: that run covered it.
        auto f = start_with(true, at("2025-01-06 10:00:00"));
        BOOST_TEST(f->starts["hourly"].empty());
    }
    {
        // No history: nothing to compare with.
        auto f = start_with(true, std::nullopt);
        BOOST_TEST(f->starts["hourly"].empty());
    }
}

// ---------------------------------------------------------------------------------------
// set_jobs

BOOST_AUTO_TEST_CASE(set_jobs_adds_removes_and_reschedules_by_fingerprint)
{
    fixture f;
    f.duration["b"] = 15s;
    f.sched->set_jobs({job("a", parse("@every 10s"), "a1"), job("b", parse("@every 10s"), "b1")});
    f.sched->start();
    f.advance_by(12s);  // a and b ran at :10; b runs until :25
    BOOST_TEST(f.sched->running() == 1u);

    // b removed while running, c added, a unchanged.
    f.sched->set_jobs({job("a", parse("@every 10s"), "a1"), job("c", parse("@every 5s"), "c1")});
    BOOST_TEST(f.names() == (strings{"a", "c"}));
    BOOST_TEST(f.sched->running() == 1u);  // b's run goes on
    BOOST_TEST(show(f.status_of("c").next_fire) == "2025-01-06 00:00:15.000");
    BOOST_TEST(show(f.status_of("a").next_fire) == "2025-01-06 00:00:20.000");
    f.advance_to(at("2025-01-06 00:00:50"));
    BOOST_TEST(f.sched->running() == 0u);  // b's run completed at :25
    BOOST_TEST(f.times("b") == strings{"2025-01-06 00:00:10.000"});  // and b never fired again
    BOOST_TEST(f.starts["c"].size() == 8u);                          // 15, 20, ..., 50
    auto a = f.status_of("a");
    BOOST_TEST(a.runs == 5u);  // unchanged job kept its counters: 10, 20, 30, 40, 50

    // a's fingerprint changes (new schedule): rescheduled, counters kept.
    f.sched->set_jobs({job("a", parse("@every 1m"), "a2"), job("c", parse("@every 5s"), "c1")});
    BOOST_TEST(show(f.status_of("a").next_fire) == "2025-01-06 00:01:00.000");
    BOOST_TEST(f.status_of("a").runs == 5u);
    f.advance_to(at("2025-01-06 00:02:30"));
    BOOST_TEST(f.times("a").back() == "2025-01-06 00:02:00.000");
    BOOST_TEST(f.status_of("a").runs == 7u);  // 01:00 and 02:00 only: the old 10 s loop is gone
    // Idle cost: one sleeper per scheduled job, no leftovers from replaced loops.
    BOOST_TEST(f.clk->waiters() == 2u);
}

BOOST_AUTO_TEST_CASE(set_jobs_without_fingerprint_compares_the_schedule)
{
    fixture f;
    f.sched->set_jobs({job("a", parse("@every 10s"))});
    f.sched->start();
    f.advance_by(15s);
    f.sched->set_jobs({job("a", parse("@every 10s"))});  // same: keeps its next fire
    BOOST_TEST(show(f.status_of("a").next_fire) == "2025-01-06 00:00:20.000");
    f.sched->set_jobs({job("a", parse("@every 1m"))});  // different text: rescheduled
    BOOST_TEST(show(f.status_of("a").next_fire) == "2025-01-06 00:01:00.000");
    f.sched->set_jobs({job("a", parse("0 * * * *", "Europe/Berlin"))});
    BOOST_TEST(show(f.status_of("a").next_fire) == "2025-01-06 01:00:00.000");
    BOOST_TEST(f.clk->waiters() == 1u);
}

BOOST_AUTO_TEST_CASE(set_jobs_leaves_out_duplicates_and_empty_names)
{
    fixture f;
    f.sched->set_jobs({job("a", parse("@every 10s")), job("", parse("@every 10s")),
                       job("a", parse("@every 1m"))});
    f.sched->start();
    BOOST_TEST(f.names() == strings{"a"});
    BOOST_TEST(show(f.status_of("a").next_fire) == "2025-01-06 00:00:10.000");  // the first one
}

BOOST_AUTO_TEST_CASE(a_removed_job_brought_back_while_its_run_goes_on_does_not_overlap)
{
    fixture f;
    f.duration["b"] = 30s;
    f.sched->set_jobs({job("b", parse("@every 10s"), "1")});
    f.sched->start();
    f.advance_by(10s);  // b runs from :10 to :40
    f.sched->set_jobs({});
    BOOST_TEST(f.names().empty());
    BOOST_TEST(!f.sched->trigger("b"));  // unknown now
    f.sched->set_jobs({job("b", parse("@every 10s"), "1")});
    auto st = f.status_of("b");
    BOOST_TEST(st.running);  // same job, same run
    BOOST_TEST(st.runs == 1u);
    BOOST_TEST(!f.sched->trigger("b"));
    f.advance_by(30s);  // :20 and :30 skipped, :40 runs: the first run ended at :40 (it slept first)
    BOOST_TEST(f.times("b") == (strings{"2025-01-06 00:00:10.000", "2025-01-06 00:00:40.000"}));
    BOOST_TEST(f.status_of("b").skipped_overlap == 3u);  // the trigger, :20, :30
    BOOST_TEST(f.max_active_per_job["b"] == 1);
}

// ---------------------------------------------------------------------------------------
// trigger, wait_idle, failures, stop

BOOST_AUTO_TEST_CASE(trigger_runs_now_and_refuses_while_running)
{
    fixture f;
    f.duration["manual"] = 20s;
    f.sched->set_jobs({job("manual", std::nullopt)});
    BOOST_TEST(f.sched->trigger("manual"));  // allowed before start()
    f.pump();
    BOOST_TEST(f.times("manual") == strings{"2025-01-06 00:00:00.000"});
    BOOST_TEST(f.sched->running() == 1u);
    BOOST_TEST(!f.sched->trigger("manual"));
    BOOST_TEST(!f.sched->trigger("nope"));
    auto st = f.status_of("manual");
    BOOST_TEST(st.running);
    BOOST_TEST(st.skipped_overlap == 1u);
    BOOST_TEST(!st.next_fire.has_value());  // no schedule
    f.sched->start();
    BOOST_TEST(!f.status_of("manual").next_fire.has_value());
    f.advance_by(20s);
    BOOST_TEST(!f.status_of("manual").running);
    BOOST_TEST(f.sched->trigger("manual"));
    f.pump();
    BOOST_TEST(f.times("manual") == (strings{"2025-01-06 00:00:00.000", "2025-01-06 00:00:20.000"}));
    BOOST_TEST(f.max_active_per_job["manual"] == 1);
    f.advance_by(20s);
    f.sched->stop();
    BOOST_TEST(!f.sched->trigger("manual"));  // no new runs after stop
    f.pump();
    BOOST_TEST(f.status_of("manual").runs == 2u);
}

BOOST_AUTO_TEST_CASE(wait_idle_true_when_runs_end_false_at_the_deadline)
{
    fixture f;
    f.duration["x"] = 30s;
    f.sched->set_jobs({job("x", std::nullopt)});

    std::optional<bool> idle;
    auto wait = [&](time_point deadline) {
        idle.reset();
        asio::co_spawn(f.ioc, f.sched->wait_idle(deadline), [&](std::exception_ptr e, bool v) {
            BOOST_TEST(!e);
            idle = v;
        });
        f.pump();
    };

    wait(f.t0 + 1s);  // nothing running: at once
    BOOST_TEST((idle == std::optional<bool>(true)));

    BOOST_TEST(f.sched->trigger("x"));
    f.pump();
    wait(f.t0 + 60s);
    BOOST_TEST(!idle.has_value());
    f.advance_by(29s);
    BOOST_TEST(!idle.has_value());
    f.advance_by(1s);  // the run ends at +30 s
    BOOST_TEST((idle == std::optional<bool>(true)));
    BOOST_TEST(f.clk->waiters() == 0u);  // the deadline sleep was cancelled

    f.duration["x"] = 100s;
    BOOST_TEST(f.sched->trigger("x"));
    f.pump();
    wait(f.clk->now() + 10s);
    f.advance_by(10s);
    BOOST_TEST((idle == std::optional<bool>(false)));  // the deadline came first
    BOOST_TEST(f.sched->running() == 1u);

    // Shutdown's second step: cancel what remains, then the run ends (as a failure).
    wait(f.clk->now() + 10s);
    f.sched->cancel_runs();
    f.pump();
    BOOST_TEST((idle == std::optional<bool>(true)));
    BOOST_TEST(f.sched->running() == 0u);
    auto st = f.status_of("x");
    BOOST_TEST(st.failed == 1u);
    BOOST_TEST(st.runs == 2u);
    BOOST_TEST(show(st.last_end) == "2025-01-06 00:00:40.000");
    BOOST_TEST(f.clk->waiters() == 0u);
}

BOOST_AUTO_TEST_CASE(a_throwing_runner_does_not_stop_later_fires)
{
    fixture f;
    f.throw_on["a"] = 1;
    f.throw_on["b"] = 2;
    f.duration["b"] = 1s;  // throws after a wait, from a resumed coroutine
    f.sched->set_jobs({job("a", parse("@every 10s")), job("b", parse("@every 10s"))});
    f.sched->start();
    f.advance_by(35s);
    BOOST_TEST(f.starts["a"].size() == 3u);
    BOOST_TEST(f.starts["b"].size() == 3u);
    auto a = f.status_of("a");
    BOOST_TEST(a.failed == 1u);
    BOOST_TEST(a.runs == 3u);
    BOOST_TEST(!a.running);
    BOOST_TEST(f.status_of("b").failed == 1u);
    BOOST_TEST(f.sched->running() == 0u);
}

BOOST_AUTO_TEST_CASE(status_next_fire_and_stop)
{
    fixture f(at("2025-01-06 10:20:30"));
    f.duration["d"] = 90s;
    f.sched->set_jobs({job("m", std::nullopt), job("d", parse("@daily")),
                       job("h", parse("15 */2 * * *")), job("e", parse("@every 1m"))});
    for (auto& s : f.sched->status()) BOOST_TEST(!s.next_fire.has_value(), s.name);
    f.sched->start();
    BOOST_TEST(f.names() == (strings{"d", "e", "h", "m"}));
    BOOST_TEST(show(f.status_of("d").next_fire) == "2025-01-07 00:00:00.000");
    BOOST_TEST(show(f.status_of("h").next_fire) == "2025-01-06 12:15:00.000");
    BOOST_TEST(show(f.status_of("e").next_fire) == "2025-01-06 10:21:00.000");
    BOOST_TEST(!f.status_of("m").next_fire.has_value());
    f.pump();  // the loops start sleeping once the io_context runs
    BOOST_TEST(f.clk->waiters() == 3u);

    f.advance_to(at("2025-01-07 00:00:30"));  // d runs from midnight for 90 s
    BOOST_TEST(f.status_of("d").running);
    BOOST_TEST(show(f.status_of("h").next_fire) == "2025-01-07 00:15:00.000");
    auto e_runs = f.status_of("e").runs;
    BOOST_TEST(e_runs == 820u);  // 10:21 .. 00:00 every minute

    f.sched->stop();
    for (auto& s : f.sched->status()) BOOST_TEST(!s.next_fire.has_value(), s.name);
    BOOST_TEST(f.sched->running() == 1u);  // runs in progress continue
    f.advance_to(at("2025-01-08 01:00:00"));
    BOOST_TEST(!f.status_of("d").running);  // and finish
    BOOST_TEST(show(f.status_of("d").last_end) == "2025-01-07 00:01:30.000");
    BOOST_TEST(f.status_of("e").runs == e_runs);  // but nothing fires any more
    BOOST_TEST(f.status_of("d").runs == 1u);
    BOOST_TEST(f.clk->waiters() == 0u);
    f.sched->start();  // final: no restart
    BOOST_TEST(f.clk->waiters() == 0u);
}

BOOST_AUTO_TEST_CASE(destroyed_with_sleeping_loops_and_the_clock_gone_first)
{
    // Documented: stop() (here by the destructor) then destroy, with loops still asleep on
    // the clock; the clock and the scheduler go before the io_context.
    auto ioc = std::make_unique<asio::io_context>();
    auto clk = std::make_shared<manual_clock>(ioc->get_executor(), at("2025-01-06 00:00:00"));
    int runs = 0;
    auto s = std::make_unique<scheduler>(ioc->get_executor(), clk, [&](const std::string&) -> awaitable<void> {
        ++runs;
        co_return;
    });
    s->set_jobs({job("a", parse("@every 10s")), job("b", parse("@every 1m"))});
    s->start();
    ioc->poll();
    BOOST_TEST(clk->waiters() == 2u);
    s.reset();
    clk.reset();
    ioc->restart();
    ioc->poll();  // the cancelled loops end
    ioc.reset();
    BOOST_TEST(runs == 0);
}

// ---------------------------------------------------------------------------------------
// real clock (one smoke test, bounded)

BOOST_AUTO_TEST_CASE(real_clock_every_second_fires)
{
    asio::io_context ioc;
    auto clk = wfsync::schedule::make_system_clock(ioc.get_executor());
    std::vector<time_point> fired;
    scheduler s(ioc.get_executor(), clk, [&](const std::string&) -> awaitable<void> {
        fired.push_back(std::chrono::system_clock::now());
        co_return;
    });
    s.set_jobs({job("tick", parse("@every 1s"))});
    s.start();
    auto until = std::chrono::steady_clock::now() + 5s;
    while (fired.size() < 2 && std::chrono::steady_clock::now() < until) ioc.run_one_until(until);
    BOOST_TEST_REQUIRE(fired.size() >= 2u);
    for (auto t : fired) {
        // At (or just after) a whole second: the @every grid.
        auto into = t - std::chrono::floor<std::chrono::seconds>(t);
        BOOST_TEST(into < 500ms, show(t));
    }
    s.stop();
    ioc.restart();
    ioc.poll();
}
