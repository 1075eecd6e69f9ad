// SPDX-License-Identifier: Apache-2.0
// The engine: a run of one rule lists the source and the targets at once, then hands the
// selected workflows to concurrent workers (fetch.cpp, then plan.cpp and apply.cpp per target),
// records as it goes (record.cpp) and leaves the marks for the next run (list.cpp).
#include "engine_impl.hpp"

#include <wfsync/core/hash.hpp>
#include <wfsync/core/log.hpp>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <ctime>

namespace wfsync::sync {
using namespace detail;

std::string_view to_string(action a) noexcept
{
    switch (a) {
    case action::import: return "import";
    case action::create: return "create";
    case action::unchanged: return "unchanged";
    case action::adopt: return "adopt";
    case action::drift: return "drift";
    case action::skip: return "skip";
    case action::held: return "held";
    case action::error: return "error";
    }
    return "?";
}

bool run_summary::only_transient_errors() const
{
    if (errors == 0) return false;
    for (const auto& i : items) {
        if (i.what == action::held) return false;  // waits for an operator, not for time
        if (i.what == action::error) {
            error e{i.error_kind, {}, i.http_status};
            if (!is_retryable(e) && i.error_kind != errc::unknown_outcome) return false;
        }
        if (i.done && (i.what == action::import || i.what == action::create)) return false;
    }
    return true;
}

namespace {

std::string make_run_uid()
{
    // Zuora-Track-Id allows at most 64 ASCII characters without : ; " '.
    std::time_t t = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
    return std::string("run-") + buf + "-" + random_hex(4);
}

}  // namespace

engine::impl::impl(executor e, std::shared_ptr<const config::config> c, store::store& s, connector_factory m)
    : ex(std::move(e)), cfg(std::move(c)), st(s), make(std::move(m))
{
    if (!make) {
        make = [this](const config::tenant& t) { return connector::make_connector(ex, t); };
    }
}

result<connector::connector*> engine::impl::connector_for(const std::string& tenant)
{
    if (auto it = connectors.find(tenant); it != connectors.end()) return it->second.get();
    const auto* t = cfg->find_tenant(tenant);
    if (!t) return fail(errc::config, "no tenant named " + tenant);
    auto c = make(*t);
    if (!c) return c.error();
    auto* raw = c->get();
    connectors.emplace(tenant, std::move(*c));
    return raw;
}

std::size_t engine::impl::width_of(const config::rule& r) const
{
    int width = 1;
    if (const auto* t = cfg->find_tenant(r.source)) width = t->net.concurrency;
    for (const auto& target : r.targets)
        if (const auto* t = cfg->find_tenant(target)) width = std::max(width, t->net.concurrency);
    return static_cast<std::size_t>(width);
}

awaitable<void> engine::impl::sync_concurrently(const config::rule& r, run_summary& s, store::row_id run, const run_options& o,
                                  connector::connector& source,
                                  const std::vector<connector::workflow_summary>& listed,
                                  std::map<std::string, std::vector<connector::workflow_summary>>& listings,
                                  run_listings& rl)
{
    std::vector<std::vector<const connector::workflow_summary*>> lanes;
    std::map<std::string, std::size_t> lane_of_name;
    std::map<std::string, std::size_t> position;  // source workflow id -> listing order
    for (const auto& src : listed) {
        if (!r.select.matches(src.id, src.name)) continue;
        position.emplace(src.id, position.size());
        auto [it, fresh] = lane_of_name.emplace(src.name, lanes.size());
        if (fresh) lanes.emplace_back();
        lanes[it->second].push_back(&src);
    }
    if (lanes.empty()) co_return;

    std::size_t next = 0, done = 0;
    const std::size_t first_item = s.items.size();
    auto report = [&](std::string_view workflow) {
        if (o.on_progress) o.on_progress(progress{r.name, done, position.size(), workflow});
    };
    co_await for_each_at_once(std::min(width_of(r), lanes.size()), [&](std::size_t) -> awaitable<void> {
        while (next < lanes.size()) {
            const auto& lane = lanes[next++];
            for (const auto* src : lane) {
                report(src->name);
                co_await sync_workflow(r, s, run, o, source, *src, listings, rl);
                ++done;
                report(src->name);
            }
        }
    });
    // Listing order, then the rule's order of targets (they ran at once).
    auto target_rank = [&](const std::string& t) {
        return std::find(r.targets.begin(), r.targets.end(), t) - r.targets.begin();
    };
    std::stable_sort(s.items.begin() + static_cast<std::ptrdiff_t>(first_item), s.items.end(),
                     [&](const item& a, const item& b) {
                         auto pa = position[a.source_workflow], pb = position[b.source_workflow];
                         if (pa != pb) return pa < pb;
                         return target_rank(a.target_tenant) < target_rank(b.target_tenant);
                     });
}

awaitable<result<run_summary>> engine::impl::run(const config::rule& r, run_options o)
{
    batching batch(st);
    run_summary s;
    s.run_uid = make_run_uid();
    s.rule = r.name;
    store::row_id run_id = 0;
    if (!o.dry_run) {
        auto begun = st.begin_run(s.run_uid, r.name, o.command);
        if (!begun) co_return begun.error();
        run_id = begun->id;
    }
    log::debug(run_fields(s), "{} run of {} -> {}", o.command, r.source, fmt::join(r.targets, ", "));
    auto close = [&](std::string outcome) -> result<void> {
        if (o.dry_run) return {};
        store::run_row row;
        row.id = run_id;
        row.uid = s.run_uid;
        row.rule = r.name;
        row.command = o.command;
        row.finished_at = std::time(nullptr);
        row.outcome = std::move(outcome);
        row.imported = s.imported;
        row.unchanged = s.unchanged;
        row.drift = s.drift;
        row.errors = s.errors;
        return st.finish_run(row);
    };

    auto source = connector_for(r.source);
    if (!source) {
        (void)close("failed");
        co_return source.error();
    }
    for (auto& [name, c] : connectors) c->set_run_id(s.run_uid);

    // The source and every target are listed at once: a no-change run is little more.
    std::vector<std::string> listed_tenants{r.source};
    for (const auto& target : r.targets)
        if (!detail::is_archive(target)) listed_tenants.push_back(target);
    std::vector<result<std::vector<connector::workflow_summary>>> lists(
        listed_tenants.size(), fail(errc::internal, "not listed"));
    co_await for_each_at_once(listed_tenants.size(), [&](std::size_t k) -> awaitable<void> {
        auto c = connector_for(listed_tenants[k]);
        if (!c) {
            lists[k] = c.error();
            co_return;
        }
        (*c)->set_run_id(s.run_uid);
        lists[k] = co_await (*c)->list_workflows();
    });
    auto& listed = lists[0];
    if (!listed) {
        (void)close("failed");
        co_return std::move(listed.error()).context("listing workflows of " + r.source);
    }

    // Target listings are read once per run, for finding definitions by name.
    std::map<std::string, std::vector<connector::workflow_summary>> listings;
    for (std::size_t k = 1; k < listed_tenants.size(); ++k) {
        const auto& target = listed_tenants[k];
        auto& l = lists[k];
        if (!l) {
            for (const auto& src : *listed) {
                if (!r.select.matches(src.id, src.name)) continue;
                item i;
                i.rule = r.name;
                i.source_tenant = r.source;
                i.source_workflow = src.id;
                i.workflow_name = src.name;
                i.target_tenant = target;
                i.what = action::error;
                i.error_kind = l.error().code;
                i.http_status = l.error().http_status;
                i.reason = "listing workflows of " + target + ": " + l.error().what();
                ++s.errors;
                record(s, run_id, i, now_ms(), o);
                s.items.push_back(std::move(i));
            }
            continue;
        }
        listings.emplace(target, std::move(*l));
    }

    std::vector<std::string> unreachable;
    for (const auto& target : r.targets)
        if (!detail::is_archive(target) && !listings.contains(target)) unreachable.push_back(target);

    auto marks = st.listing_marks(r.name);
    if (!marks) {
        (void)close("failed");
        co_return marks.error();
    }
    auto open = st.open_intents();
    if (!open) {
        (void)close("failed");
        co_return open.error();
    }
    run_listings rl{detail::listing_check(r, o.full, *marks, *open, std::time(nullptr)), {}};

    boost::asio::steady_timer commit_timer(ex);
    bool work_done = false;
    co_await for_each_at_once(2, [&](std::size_t k) -> awaitable<void> {
        if (k == 1) co_return co_await commit_periodically(commit_timer, work_done, milliseconds(50));
        try {
            if (unreachable.size() != r.targets.size() || r.targets.empty())
                co_await sync_concurrently(r, s, run_id, o, **source, *listed, listings, rl);
            co_await mark_imports(r, rl);
        } catch (...) {
            work_done = true;
            commit_timer.cancel();
            throw;
        }
        work_done = true;
        commit_timer.cancel();
    });

    if (!o.dry_run) apply_retention(r, s);
    s.errors += static_cast<int>(s.prune_errors.size());
    std::string outcome = s.errors == 0 ? "ok" : (s.imported + s.unchanged > 0 ? "partial" : "failed");
    if (auto c = close(outcome); !c) co_return c.error();
    if (auto lvl = s.errors == 0 ? log::level::info : log::level::warn; log::enabled(lvl))
        log::write(lvl, fmt::format("run {}: {} imported, {} unchanged, {} drift, {} skipped, {} errors", outcome, s.imported,
                                    s.unchanged, s.drift, s.skipped, s.errors),
                   run_fields(s));
    if (auto e = batch.end(); !e) co_return std::move(e.error()).context("recording the run");
    co_return s;
}

engine::engine(executor ex, std::shared_ptr<const config::config> cfg, store::store& st, connector_factory make)
    : impl_(std::make_unique<impl>(std::move(ex), std::move(cfg), st, std::move(make)))
{
}

engine::~engine() = default;

void engine::add_connector(const std::string& name, std::unique_ptr<connector::connector> c)
{
    impl_->connectors[name] = std::move(c);
}

awaitable<result<run_summary>> engine::run(const config::rule& r, run_options opts)
{
    return impl_->run(r, std::move(opts));
}

}  // namespace wfsync::sync
