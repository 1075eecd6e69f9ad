// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <wfsync/core/async.hpp>
#include <wfsync/schedule/clock.hpp>
#include <wfsync/schedule/cron.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace wfsync::schedule {

/// One rule as the scheduler sees it.
struct job_spec {
    std::string name;                  ///< unique; the runner is called with it
    std::optional<schedule> when;      ///< nullopt: runs only when triggered
    std::chrono::milliseconds jitter{0};  ///< a random delay in [0, jitter] added to each fire
    bool catch_up = false;             ///< run once at start() if a fire was missed while down
    /// When the rule last ran (from the history), for catch_up. Without it there is nothing
    /// to compare with and catch_up does nothing.
    std::optional<std::chrono::system_clock::time_point> last_run;
    /// Opaque. set_jobs reschedules a job whose fingerprint changed (e.g. a hash of its
    /// schedule, zone and jitter) and leaves one with the same fingerprint alone.
    std::string fingerprint;
};

/// What status() reports for one job.
struct job_status {
    std::string name;
    bool running = false;
    /// The next scheduled fire, jitter included; nullopt when the job is not scheduled
    /// (no schedule, scheduler not started or stopped).
    std::optional<std::chrono::system_clock::time_point> next_fire;
    std::optional<std::chrono::system_clock::time_point> last_start, last_end;
    std::uint64_t runs = 0;             ///< runs started (scheduled, caught up or triggered)
    std::uint64_t failed = 0;           ///< runs whose runner threw
    std::uint64_t skipped_overlap = 0;  ///< fires and triggers refused: the job was running
    /// Fires that passed while the scheduler could not act on them and the job was not
    /// running (the wall clock jumped forward, the machine slept): not run, only counted.
    std::uint64_t missed = 0;
};

/// Runs one job. Called on the scheduler's executor; may take as long as it needs. An
/// exception it throws is logged and counted (job_status::failed), nothing more.
using job_runner = std::function<awaitable<void>(const std::string& name)>;

/// Fires jobs on their schedules: a cron expression or `@every`, in a zone (see cron.hpp).
///
/// - No overlap, no queue: a fire (or trigger) that comes while the same job still runs is
///   skipped and counted in skipped_overlap.
/// - The next fire is computed from the previous fire time, not from the end of the run,
///   and is never in the past: fires the scheduler woke too late for are counted (as
///   skipped_overlap while the job runs, else as missed) and the next future one is taken.
/// - jitter delays each fire by a random amount in [0, jitter]; the schedule's grid is kept
///   (the next fire is computed from the fire time without jitter).
/// - Idle cost: one sleeping coroutine per scheduled job on the clock (no polling).
///
/// Single-threaded: every member must be called on the thread running `ex`'s io_context
/// (or while it does not run).
///
/// Lifetime: runs in flight keep the scheduler's internal state alive, but they call the
/// runner, whose captures belong to the caller. Destroy the scheduler while runs are in
/// flight only after stop() and wait_idle() returned true (or after cancel_runs() and a
/// second wait_idle()), or once the io_context is stopped for good. The destructor calls
/// stop(). Destroy it before its io_context (it owns a timer).
///
/// start(), set_jobs() and trigger() only spawn coroutines: firing and runs happen when the
/// io_context runs. status() is up to date at once (next_fire is computed synchronously).
class scheduler {
public:
    using time_point = std::chrono::system_clock::time_point;

    /// `jitter_seed`: seeds the jitter's random generator (tests pass one for reproducible
    /// fire times); nullopt seeds it from std::random_device.
    scheduler(executor ex, std::shared_ptr<clock> c, job_runner run,
              std::optional<std::uint64_t> jitter_seed = std::nullopt);
    ~scheduler();
    scheduler(const scheduler&) = delete;
    scheduler& operator=(const scheduler&) = delete;

    /// Replaces the job list, matched by name: new jobs are scheduled, removed ones stop
    /// firing (a run in progress finishes), jobs whose fingerprint changed are rescheduled
    /// (their counters and a run in progress are kept: the new schedule does not overlap
    /// it), unchanged ones keep their next fire time and counters. Jobs with an empty or
    /// duplicate name are left out and logged. Before start() it only records the list.
    void set_jobs(std::vector<job_spec> jobs);

    /// Begins firing. catch_up jobs that missed a fire since their last_run (the first fire
    /// after last_run is not in the future) run once now. Once only; not after stop().
    void start();

    /// No new runs (fires, catch-ups, triggers); runs in progress continue. Final.
    void stop();

    /// Runs `name` now, on the job's own overlap guard. Returns false, without running, for
    /// an unknown name, after stop(), or while the job runs (counted in skipped_overlap).
    bool trigger(const std::string& name);

    /// One entry per configured job, sorted by name.
    std::vector<job_status> status() const;

    /// Runs in progress, including those of jobs removed since they started.
    std::size_t running() const;

    /// Completes once no run is in progress (true) or when the clock reaches `deadline`
    /// (false if runs remain). For a graceful shutdown: stop(), wait_idle(now + grace),
    /// cancel_runs(), wait_idle(...) again.
    awaitable<bool> wait_idle(time_point deadline);

    /// Emits a terminal cancellation to every run in progress (to the runner's coroutine:
    /// Asio operations in it end with operation_aborted). The runs still end on their own.
    void cancel_runs();

    struct impl;

private:
    std::shared_ptr<impl> impl_;
};

}  // namespace wfsync::schedule
