// SPDX-License-Identifier: Apache-2.0
// The record stage: each item as an event, and the run's writes committed in groups.
#include "engine_impl.hpp"

#include <wfsync/core/log.hpp>

#include <boost/asio/redirect_error.hpp>

#include <ctime>

namespace wfsync::sync {
using namespace detail;

void engine::impl::record(const run_summary& s, store::row_id run, const item& i, std::int64_t started,
            const run_options& o)
{
    if (o.dry_run) return;
    store::event_row e;
    e.run = run;
    e.run_uid = s.run_uid;
    e.at = std::time(nullptr);
    e.rule = i.rule;
    e.kind = std::string(to_string(i.what));
    e.source_tenant = i.source_tenant;
    e.source_workflow = i.source_workflow;
    e.workflow_name = i.workflow_name;
    e.target_tenant = i.target_tenant;
    e.target_workflow = i.target_workflow;
    e.version = i.target_version.empty() ? i.source_version : i.target_version;
    e.content_hash = i.content_hash;
    e.message = log::redact(i.reason);
    e.duration_ms = now_ms() - started;
    if (auto r = st.add_event(e); !r) log::error(run_fields(s), "cannot record event: {}", r.error().what());
}

awaitable<void> engine::impl::commit_periodically(boost::asio::steady_timer& timer, const bool& stop, milliseconds period)
{
    while (!stop) {
        timer.expires_after(period);
        boost::system::error_code ec;
        co_await timer.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable_t<executor>{}, ec));
        if (auto c = st.commit_batch(); !c) log::error("cannot commit the run's records: {}", c.error().what());
    }
}

void engine::impl::finish_item(const item_scope& at, item&& done)
{
    auto& s = at.s;
    const auto& o = at.o;
    at.outcome = {done.what, done.done, done.target_workflow};
    switch (done.what) {
    case action::import:
    case action::create:
        if (done.done) ++s.imported;
        break;
    case action::unchanged:
    case action::adopt: ++s.unchanged; break;
    case action::drift: ++s.drift; break;
    case action::skip: ++s.skipped; break;
    case action::error: ++s.errors; break;
    case action::held:
        ++s.held;
        ++s.errors;
        break;
    }
    if (done.drifted && done.what != action::drift) ++s.drift;
    record(s, at.run, done, at.started, o);
    log_item(s, done,
             fmt::format("{} {} '{}' -> {} {}: {}", verb_of(done), done.source_tenant, done.workflow_name,
                         done.target_tenant, done.target_version.empty() ? done.target_workflow : done.target_version,
                         done.reason));
    s.items.push_back(std::move(done));
}

}  // namespace wfsync::sync
