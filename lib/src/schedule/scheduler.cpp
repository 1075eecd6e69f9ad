// SPDX-License-Identifier: Apache-2.0
#include <wfsync/schedule/scheduler.hpp>

#include <wfsync/core/log.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <date/date.h>

#include <exception>
#include <map>
#include <random>
#include <utility>

namespace asio = boost::asio;

namespace wfsync::schedule {

namespace {

using time_point = scheduler::time_point;
using std::chrono::milliseconds;
using std::chrono::seconds;
using std::chrono::sys_seconds;

std::string iso(time_point t)
{
    return date::format("%FT%TZ", std::chrono::floor<milliseconds>(t));
}

/// Tracks one spawned coroutine (a job's timer loop or a run) so it can be cancelled.
struct task_ctl {
    asio::cancellation_signal signal;
    bool cancelled = false;  ///< set synchronously by cancel(): checked after every wake-up
    bool done = false;       ///< the coroutine has ended: its signal must not be emitted again

    void cancel()
    {
        if (cancelled) return;
        cancelled = true;
        if (!done) signal.emit(asio::cancellation_type::terminal);
    }
};

/// Keeps a task's signal alive until after a cancellation Asio may have posted into it
/// (co_spawn forwards an emit made outside the io_context's thread by posting), then
/// frees it. Called from the co_spawn completion handler.
void release_later(const executor& ex, std::shared_ptr<task_ctl> ctl)
{
    ctl->done = true;
    asio::post(ex, [ctl = std::move(ctl)] {});
}

}  // namespace

namespace detail {

/// One job, by name. Outlives its removal from the configuration while a run is in progress,
/// so that the overlap guard holds when the name comes back before the run ends.
struct job_rec {
    job_spec spec;
    job_status st;
    std::shared_ptr<task_ctl> loop;  ///< the timer loop, if scheduled
    std::shared_ptr<task_ctl> run;   ///< the run in progress, if any
    bool removed = false;            ///< no longer configured (kept only while it runs)
};

}  // namespace detail

using detail::job_rec;

struct scheduler::impl : std::enable_shared_from_this<impl> {
    impl(executor e, std::shared_ptr<clock> c, job_runner r, std::uint64_t seed)
        : ex(std::move(e)), clk(std::move(c)), runner(std::move(r)), rng(seed),
          idle(ex, asio::steady_timer::time_point::max())
    {
    }

    executor ex;
    std::shared_ptr<clock> clk;
    job_runner runner;
    std::mt19937_64 rng;
    std::map<std::string, std::shared_ptr<job_rec>> jobs;
    bool started = false;
    bool stopped = false;
    std::size_t running = 0;
    /// Never expires: wait_idle() waits on it and the last run to end cancels it.
    asio::steady_timer idle;

    milliseconds draw_jitter(milliseconds max)
    {
        if (max.count() <= 0) return milliseconds{0};
        std::uniform_int_distribution<milliseconds::rep> d(0, max.count());
        return milliseconds{d(rng)};
    }

    void schedule_job(const std::shared_ptr<job_rec>& rec);
    void unschedule_job(job_rec& rec);
    bool start_run(const std::shared_ptr<job_rec>& rec, const char* why);
    void run_ended(const std::shared_ptr<job_rec>& rec);
    void stop();
};

namespace {

awaitable<void> job_loop(std::shared_ptr<scheduler::impl> self, std::shared_ptr<job_rec> rec,
                         std::shared_ptr<task_ctl> ctl, schedule sched, milliseconds jitter,
                         sys_seconds nominal, time_point fire)
{
    for (;;) {
        co_await self->clk->sleep_until(fire);
        if (ctl->cancelled || self->stopped) co_return;
        auto now = self->clk->now();
        if (now < fire) {
            // Woken early: the wall clock was set back. Without this a clock corrected from
            // far in the future would stall the job until the old fire time comes round.
            auto again = sched.next_after(std::chrono::floor<seconds>(now));
            if (again < nominal) {
                nominal = again;
                fire = time_point(nominal) + self->draw_jitter(jitter);
                rec->st.next_fire = fire;
                log::warn({.rule = rec->spec.name}, "the clock was set back; next run at {}", iso(fire));
            }
            continue;
        }

        // The next fire counts from this fire time, not from now nor from the end of a run,
        // so the grid is kept. Fires that already passed (we woke late: clock jump, suspend,
        // a long-blocked loop) are counted, not run.
        auto next = sched.next_after(nominal);
        std::uint64_t passed = 0;
        auto limit = std::chrono::floor<seconds>(now - jitter);
        if (next != schedule::never && next <= limit) {
            if (auto every = sched.interval(); every.count() > 0) {
                auto n = (limit - next) / every + 1;
                passed = static_cast<std::uint64_t>(n);
                next += n * every;
            } else {
                // Cron: walk, but bounded; past the bound the count is a lower bound.
                while (next != schedule::never && next <= limit && passed < 100000) {
                    ++passed;
                    next = sched.next_after(next);
                }
                if (next != schedule::never && next <= limit) next = sched.next_after(limit);
            }
        }
        if (passed > 0) {
            // Judged before this fire starts a run: was the job busy all along?
            if (rec->st.running) {
                rec->st.skipped_overlap += passed;
                log::info({.rule = rec->spec.name},
                          "{} scheduled run(s) skipped: the previous run is still in progress", passed);
            } else {
                rec->st.missed += passed;
                log::warn({.rule = rec->spec.name}, "{} scheduled run(s) passed while the scheduler was late", passed);
            }
        }

        self->start_run(rec, "scheduled");  // or counted as an overlap
        if (ctl->cancelled) co_return;

        if (next == schedule::never) {
            rec->st.next_fire.reset();
            co_return;
        }
        nominal = next;
        fire = time_point(nominal) + self->draw_jitter(jitter);
        rec->st.next_fire = fire;
    }
}

awaitable<void> run_job(std::shared_ptr<scheduler::impl> self, std::shared_ptr<job_rec> rec,
                        std::shared_ptr<task_ctl> ctl)
{
    std::string name = rec->spec.name;  // named: the runner takes a reference
    bool failed = false;
    try {
        // Never call the runner from inside trigger()/start()/a loop step: it might call
        // back into the scheduler while the caller iterates its jobs.
        co_await asio::post(self->ex, asio::use_awaitable);
        co_await self->runner(name);
    } catch (const std::exception& e) {
        failed = true;
        if (ctl->cancelled)  // cancel_runs(): expected at shutdown, not an error of the rule
            log::warn({.rule = name}, "run cancelled: {}", e.what());
        else
            log::error({.rule = name}, "run failed: {}", e.what());
    } catch (...) {
        failed = true;
        log::error("rule {}: run failed: unknown exception", name);
    }
    if (failed) ++rec->st.failed;
    self->run_ended(rec);
}

awaitable<void> until_idle(std::shared_ptr<scheduler::impl> self)
{
    while (self->running > 0) {
        co_await self->idle.async_wait(asio::as_tuple(asio::use_awaitable));
        auto cs = co_await asio::this_coro::cancellation_state;
        if (cs.cancelled() != asio::cancellation_type::none) co_return;
    }
}

/// Sleeps until the wall clock really reaches `when`, across early wake-ups.
awaitable<void> sleep_through(std::shared_ptr<clock> clk, time_point when)
{
    while (clk->now() < when) co_await clk->sleep_until(when);
}

awaitable<bool> wait_idle_impl(std::shared_ptr<scheduler::impl> self, time_point deadline)
{
    using namespace asio::experimental::awaitable_operators;
    if (self->running == 0) co_return true;
    // Named first: GCC 12 mishandles temporaries inside co_await expressions.
    auto idle = until_idle(self);
    auto timeout = sleep_through(self->clk, deadline);
    co_await (std::move(idle) || std::move(timeout));
    co_return self->running == 0;
}

}  // namespace


void scheduler::impl::schedule_job(const std::shared_ptr<job_rec>& rec)
{
    unschedule_job(*rec);
    if (!started || stopped || rec->removed || !rec->spec.when) return;
    const schedule& sched = *rec->spec.when;
    auto nominal = sched.next_after(std::chrono::floor<seconds>(clk->now()));
    if (nominal == schedule::never) return;
    auto fire = time_point(nominal) + draw_jitter(rec->spec.jitter);
    rec->st.next_fire = fire;
    auto ctl = std::make_shared<task_ctl>();
    rec->loop = ctl;
    auto slot = ctl->signal.slot();
    asio::co_spawn(
        ex, job_loop(shared_from_this(), rec, ctl, sched, rec->spec.jitter, nominal, fire),
        asio::bind_cancellation_slot(slot, [ex = ex, ctl, name = rec->spec.name](std::exception_ptr e) {
            bool cancelled = ctl->cancelled;
            release_later(ex, ctl);
            if (!e) return;
            try {
                std::rethrow_exception(e);
            } catch (const boost::system::system_error& x) {
                if (cancelled && x.code() == asio::error::operation_aborted)
                    log::debug("rule {}: schedule loop cancelled", name);
                else
                    log::error({.rule = name}, "schedule loop ended: {}", x.what());
            } catch (const std::exception& x) {
                log::error({.rule = name}, "schedule loop ended: {}", x.what());
            }
        }));
}

void scheduler::impl::unschedule_job(job_rec& rec)
{
    if (rec.loop) {
        rec.loop->cancel();
        rec.loop.reset();
    }
    rec.st.next_fire.reset();
}

bool scheduler::impl::start_run(const std::shared_ptr<job_rec>& rec, const char* why)
{
    if (stopped) return false;
    if (rec->st.running) {
        ++rec->st.skipped_overlap;
        log::info({.rule = rec->spec.name}, "{} run skipped: the previous run is still in progress", why);
        return false;
    }
    rec->st.running = true;
    ++rec->st.runs;
    rec->st.last_start = clk->now();
    ++running;
    auto ctl = std::make_shared<task_ctl>();
    rec->run = ctl;
    log::debug({.rule = rec->spec.name}, "{} run starts", why);
    auto slot = ctl->signal.slot();
    asio::co_spawn(ex, run_job(shared_from_this(), rec, ctl),
                   asio::bind_cancellation_slot(slot, [ex = ex, ctl, name = rec->spec.name](std::exception_ptr e) {
                       release_later(ex, ctl);
                       if (!e) return;
                       // run_job catches what the runner throws; this is a bug if reached.
                       try {
                           std::rethrow_exception(e);
                       } catch (const std::exception& x) {
                           log::error({.rule = name}, "run ended abnormally: {}", x.what());
                       }
                   }));
    return true;
}

void scheduler::impl::run_ended(const std::shared_ptr<job_rec>& rec)
{
    rec->st.running = false;
    rec->st.last_end = clk->now();
    rec->run.reset();
    --running;
    log::debug("rule {}: run ended", rec->spec.name);
    if (rec->removed) {
        auto it = jobs.find(rec->spec.name);
        if (it != jobs.end() && it->second == rec) jobs.erase(it);
    }
    if (running == 0) idle.cancel();  // wakes every wait_idle()
}

void scheduler::impl::stop()
{
    if (stopped) return;
    stopped = true;
    for (auto& [name, rec] : jobs) unschedule_job(*rec);
    log::info("scheduler stopped; {} run(s) in progress", running);
}

namespace {

/// What decides "changed" on set_jobs: the caller's fingerprint, or when it gave none, the
/// schedule itself.
std::string effective_fingerprint(const job_spec& j)
{
    if (!j.fingerprint.empty()) return j.fingerprint;
    if (!j.when) return "manual|" + std::to_string(j.jitter.count());
    return std::string(j.when->text()) + "|" + std::string(j.when->timezone()) + "|" +
           std::to_string(j.jitter.count());
}

}  // namespace

// ---------------------------------------------------------------------------------------

scheduler::scheduler(executor ex, std::shared_ptr<clock> c, job_runner run,
                     std::optional<std::uint64_t> jitter_seed)
{
    std::uint64_t seed = 0;
    if (jitter_seed) {
        seed = *jitter_seed;
    } else {
        std::random_device rd;
        seed = (std::uint64_t{rd()} << 32) ^ rd();
    }
    impl_ = std::make_shared<impl>(std::move(ex), std::move(c), std::move(run), seed);
}

scheduler::~scheduler()
{
    if (impl_) impl_->stop();
}

void scheduler::set_jobs(std::vector<job_spec> list)
{
    auto& s = *impl_;
    std::map<std::string, job_spec> incoming;
    for (auto& j : list) {
        if (j.name.empty()) {
            log::error("scheduler: a job without a name is left out");
            continue;
        }
        if (incoming.count(j.name)) {
            log::error("scheduler: job '{}' is listed twice; the second one is left out", j.name);
            continue;
        }
        if (j.jitter.count() < 0) j.jitter = milliseconds{0};
        auto name = j.name;
        incoming.emplace(std::move(name), std::move(j));
    }

    for (auto it = s.jobs.begin(); it != s.jobs.end();) {
        auto& rec = it->second;
        if (incoming.count(it->first) == 0) {
            if (!rec->removed) {
                s.unschedule_job(*rec);
                rec->removed = true;
                log::info({.rule = it->first}, "removed from the schedule{}",
                          rec->st.running ? " (its run in progress continues)" : "");
            }
            if (!rec->st.running) {
                it = s.jobs.erase(it);
                continue;
            }
        }
        ++it;
    }

    for (auto& [name, spec] : incoming) {
        auto it = s.jobs.find(name);
        if (it == s.jobs.end()) {
            auto rec = std::make_shared<job_rec>();
            rec->st.name = name;
            rec->spec = std::move(spec);
            s.jobs.emplace(name, rec);
            s.schedule_job(rec);
            continue;
        }
        auto rec = it->second;  // a copy: schedule_job may run coroutine steps inline
        bool changed = rec->removed || effective_fingerprint(rec->spec) != effective_fingerprint(spec);
        rec->removed = false;
        rec->spec = std::move(spec);
        if (changed) {
            log::info("rule {}: schedule changed", name);
            s.schedule_job(rec);
        }
    }
}

void scheduler::start()
{
    auto& s = *impl_;
    if (s.started || s.stopped) return;
    s.started = true;
    auto now = s.clk->now();
    // A copy of the list: starting things must not invalidate what we iterate.
    std::vector<std::shared_ptr<job_rec>> recs;
    for (auto& [name, rec] : s.jobs)
        if (!rec->removed) recs.push_back(rec);
    for (auto& rec : recs) s.schedule_job(rec);
    for (auto& rec : recs) {
        const auto& spec = rec->spec;
        if (!spec.catch_up || !spec.when || !spec.last_run) continue;
        auto first = spec.when->next_after(std::chrono::floor<seconds>(*spec.last_run));
        if (first == schedule::never || time_point(first) > now) continue;
        log::info({.rule = spec.name}, "the run scheduled for {} was missed (last run {}); catching up",
                  iso(first), iso(*spec.last_run));
        s.start_run(rec, "catch-up");
    }
    log::info("scheduler started with {} job(s)", recs.size());
}

void scheduler::stop() { impl_->stop(); }

bool scheduler::trigger(const std::string& name)
{
    auto& s = *impl_;
    auto it = s.jobs.find(name);
    if (it == s.jobs.end() || it->second->removed) return false;
    auto rec = it->second;
    return s.start_run(rec, "triggered");
}

std::vector<job_status> scheduler::status() const
{
    std::vector<job_status> out;
    for (auto& [name, rec] : impl_->jobs)
        if (!rec->removed) out.push_back(rec->st);
    return out;
}

std::size_t scheduler::running() const { return impl_->running; }

awaitable<bool> scheduler::wait_idle(time_point deadline) { return wait_idle_impl(impl_, deadline); }

void scheduler::cancel_runs()
{
    // A copy: nothing ends synchronously today, but stay safe if that changes.
    std::vector<std::shared_ptr<task_ctl>> runs;
    for (auto& [name, rec] : impl_->jobs)
        if (rec->run) runs.push_back(rec->run);
    for (auto& r : runs) r->cancel();
}

}  // namespace wfsync::schedule
