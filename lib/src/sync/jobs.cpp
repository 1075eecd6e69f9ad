// SPDX-License-Identifier: Apache-2.0
// Async jobs: polling imports with backoff until they end or the next run must resume them.
#include "engine_impl.hpp"

#include <wfsync/core/log.hpp>

#include <fmt/format.h>

namespace wfsync::sync {
using namespace detail;

config::poll_settings engine::impl::poll_of(const std::string& tenant) const
{
    const auto* t = cfg->find_tenant(tenant);
    return t ? t->net.poll : cfg->defaults.poll;
}

awaitable<void> engine::impl::pause(milliseconds d)
{
    boost::asio::steady_timer timer(ex, d);
    co_await timer.async_wait(boost::asio::use_awaitable_t<executor>{});
}

void engine::impl::close_jobs_of(store::row_id intent, const std::string& tenant, const std::string& why)
{
    auto open = st.open_jobs(tenant);
    if (!open) return log::warn("cannot list the jobs of {}: {}", tenant, open.error().what());
    for (const auto& j : *open)
        if (j.kind == "import" && j.intent == intent) (void)st.set_job_state(j.id, store::job_state::succeeded, why);
}

bool engine::impl::job_failed(const error& e)
{
    return e.code == errc::conflict;
}

awaitable<result<connector::import_result>> engine::impl::wait_import(connector::connector& c, connector::import_result job,
                                                        store::row_id job_row)
{
    auto poll = poll_of(c.tenant());
    auto deadline = std::chrono::steady_clock::now() + poll.timeout;
    auto interval = poll.interval;
    for (;;) {
        co_await pause(interval);
        auto polled = co_await c.poll_import(job);
        if (!polled) {
            if (job_failed(polled.error())) {
                (void)st.set_job_state(job_row, store::job_state::failed, log::redact(polled.error().what()));
                co_return std::move(polled.error()).context("import job " + job.job_id);
            }
            if (!is_retryable(polled.error())) {
                (void)st.set_job_state(job_row, store::job_state::unknown, log::redact(polled.error().what()));
                auto e = std::move(polled.error()).context("import job " + job.job_id);
                e.code = errc::unknown_outcome;
                co_return e;
            }
            log::warn({.tenant = c.tenant()}, "polling import job {}: {}", job.job_id, polled.error().what());
        } else if (polled->done) {
            (void)st.set_job_state(job_row, store::job_state::succeeded, "imported");
            if (polled->target_workflow.empty()) polled->target_workflow = job.target_workflow;
            co_return std::move(*polled);
        } else {
            job = std::move(*polled);
        }
        if (std::chrono::steady_clock::now() >= deadline) {
            (void)st.set_job_state(job_row, store::job_state::unknown, "poll timeout");
            co_return fail(errc::unknown_outcome, "import job " + job.job_id + " still running after " +
                                                      format_duration(poll.timeout) + "; the next run checks it");
        }
        interval = std::min(interval * 2, poll.max_interval);
    }
}

}  // namespace wfsync::sync
