// SPDX-License-Identifier: Apache-2.0
// The fetch stage: for each selected workflow, the versions to export, exported (async jobs
// recorded and polled), normalized, kept, and handed to each target; reading a target.
#include "engine_impl.hpp"

#include <wfsync/core/log.hpp>
#include <wfsync/core/zip.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

namespace wfsync::sync {
using namespace detail;

std::string engine::impl::version_label(const connector::version_ref& ref)
{
    switch (ref.which) {
    case connector::version_ref::kind::latest: return "latest";
    case connector::version_ref::kind::active: return "active";
    case connector::version_ref::kind::exact: return ref.version;
    }
    return {};
}

awaitable<result<connector::package>> engine::impl::fetch_package(connector::connector& c, const connector::workflow_summary& wf,
                                                    const connector::version_ref& ref)
{
    auto label = version_label(ref);
    connector::export_job job;
    std::optional<store::async_job> recorded;
    auto open = st.open_jobs(c.tenant());
    if (!open) co_return open.error();
    for (const auto& j : *open) {
        if (j.kind == "export" && j.workflow == wf.id && j.version == label) {
            recorded = j;
            job.job_id = j.job_id;
            job.download_url = j.resume;
            log::info({.tenant = c.tenant(), .workflow = wf.id, .version = label}, "resuming export job {}", j.job_id);
            break;
        }
    }
    if (!recorded) {
        auto started = co_await c.start_export(wf, ref);
        if (!started) co_return std::move(started.error()).context("export");
        if (started->done) {
            if (!started->result) co_return fail(errc::bad_response, "export returned no package");
            co_return std::move(*started->result);
        }
        job = std::move(*started);
        store::async_job row;
        row.tenant = c.tenant();
        row.kind = "export";
        row.job_id = job.job_id;
        row.workflow = wf.id;
        row.version = label;
        row.resume = job.download_url;
        auto added = st.add_job(row);
        if (!added) co_return added.error();
        recorded = std::move(*added);
        // A restarted wfsync resumes the job instead of starting another only if its row survives.
        if (auto c = st.commit_batch(); !c) log::error("cannot record export job {}: {}", row.job_id, c.error().what());
    }

    auto poll = poll_of(c.tenant());
    auto deadline = std::chrono::steady_clock::now() + poll.timeout;
    auto interval = poll.interval;
    for (;;) {
        co_await pause(interval);
        auto polled = co_await c.poll_export(wf, job);
        if (!polled) {
            if (is_retryable(polled.error())) {
                // The job lives on at the platform; a transient failure to ask is not its end.
                log::warn({.tenant = c.tenant(), .workflow = wf.id}, "polling export job {}: {}", job.job_id,
                          polled.error().what());
            } else {
                // An export is only read: a job that failed, or whose package is unusable, is
                // closed and the next run starts a fresh one.
                (void)st.set_job_state(recorded->id, store::job_state::failed, log::redact(polled.error().what()));
                co_return std::move(polled.error()).context("export job " + job.job_id);
            }
        } else if (polled->done) {
            if (!polled->result) {
                (void)st.set_job_state(recorded->id, store::job_state::failed, "finished without a package");
                co_return fail(errc::bad_response, "export job " + job.job_id + " finished without a package");
            }
            (void)st.set_job_state(recorded->id, store::job_state::succeeded, "downloaded");
            co_return std::move(*polled->result);
        } else {
            job = std::move(*polled);
        }
        if (std::chrono::steady_clock::now() >= deadline) {
            (void)st.set_job_state(recorded->id, store::job_state::unknown, "poll timeout");
            co_return fail(errc::unknown_outcome, "export job " + job.job_id + " still running after " +
                                                      format_duration(poll.timeout) + "; the next run resumes it");
        }
        interval = std::min(interval * 2, poll.max_interval);
    }
}

awaitable<result<normalized_package>> engine::impl::read_fingerprint(connector::connector& c, const connector::workflow_summary& wf,
                                                       const connector::version_summary& v, bool& other_space)
{
    auto direct = co_await c.read_version(wf, v);
    if (!direct) co_return std::move(direct.error()).context("reading version " + v.version);
    connector::package pkg;
    other_space = direct->has_value();
    if (*direct) {
        pkg = std::move(**direct);
    } else {
        // Named, not a braced temporary: GCC 12 destroys temporaries in co_await arguments twice.
        connector::version_ref ref{connector::version_ref::kind::exact, v.version};
        auto fetched = co_await fetch_package(c, wf, ref);
        if (!fetched) co_return std::move(fetched.error()).context("reading version " + v.version);
        pkg = std::move(*fetched);
    }
    auto norm = normalize(pkg);
    if (!norm) co_return std::move(norm.error()).context("version " + v.version);
    co_return std::move(*norm);
}

awaitable<result<target_view>> engine::impl::read_target(connector::connector& target,
                                            const std::vector<connector::workflow_summary>& listing,
                                            const std::string& source_tenant,
                                            const connector::workflow_summary& src)
{
    target_view view;
    // A stored mapping wins; otherwise the definition with the exact same name.
    auto mapping = st.find_mapping(source_tenant, src.id, target.tenant());
    if (!mapping) co_return mapping.error();
    if (*mapping) {
        view.workflow = (*mapping)->target_workflow;
        view.name = (*mapping)->target_name;
    } else {
        for (const auto& w : listing) {
            if (w.name == src.name) {
                view.workflow = w.id;
                view.name = w.name;
                break;
            }
        }
    }
    if (view.workflow.empty()) co_return view;

    auto versions = co_await target.list_versions(view.workflow);
    if (!versions) co_return versions.error();
    view.versions = std::move(*versions);
    for (const auto& v : view.versions) {
        if (view.highest_version.empty() || compare_versions(v.version, view.highest_version) > 0) {
            view.highest_version = v.version;
            view.highest = v;
        }
    }
    if (view.highest_version.empty()) co_return view;

    auto tw = summary_of(view.workflow, view.name, view.highest_version);
    auto norm = co_await read_fingerprint(target, tw, view.highest, view.other_space);
    if (!norm) co_return std::move(norm.error()).context("reading target version " + view.highest_version);
    view.latest_hash = norm->hash;
    view.latest = std::move(*norm);
    co_return view;
}

std::string engine::impl::norm_version(const connector::package& pkg, const connector::workflow_summary& src)
{
    return pkg.version.empty() ? src.latest_version : pkg.version;
}

awaitable<void> engine::impl::sync_workflow(const config::rule& r, run_summary& s, store::row_id run,
                              const run_options& o, connector::connector& source,
                              const connector::workflow_summary& src,
                              std::map<std::string, std::vector<connector::workflow_summary>>& listings,
                              run_listings& rl)
{
    auto started = now_ms();
    item base;
    base.rule = r.name;
    base.source_tenant = r.source;
    base.source_workflow = src.id;
    base.workflow_name = src.name;

    // Targets whose listing failed were reported already. Of the others, those whose
    // listings show what they showed at the last full comparison need no export.
    std::map<std::string, std::string> why_full;  // target -> why its contents are compared
    for (const auto& target : r.targets) {
        const std::vector<connector::workflow_summary>* listing = nullptr;
        if (!detail::is_archive(target)) {
            auto found = listings.find(target);
            if (found == listings.end()) continue;
            listing = &found->second;
        }
        auto why = rl.check.why_full(src, target, listing);
        if (!why.empty()) {
            why_full.emplace(target, std::move(why));
            continue;
        }
        item i = base;
        i.target_tenant = target;
        i.what = action::unchanged;
        i.by_listing = true;
        i.done = !o.dry_run;
        i.content_hash = rl.check.content_hash(src.id, target);
        i.target_workflow = rl.check.target_workflow(src.id, target);
        i.reason = fmt::format("both listings are as at the last full comparison ({}); not exported",
                               format_iso_utc(rl.check.verified_at(src.id, target)));
        ++s.unchanged;
        ++s.by_listing;
        record(s, run, i, started, o);
        if (log::enabled(log::level::info))
            log_item(s, i, fmt::format("unchanged {} '{}' -> {}: {}", r.source, i.workflow_name, target, i.reason));
        s.items.push_back(std::move(i));
    }
    if (why_full.empty() && !r.targets.empty()) co_return;
    for (const auto& [target, why] : why_full) ++s.compared_in_full[why];

    auto report = [&](item&& i) {
        if (i.what == action::error) ++s.errors;
        if (i.what == action::skip) ++s.skipped;
        record(s, run, i, started, o);
        log_item(s, i, fmt::format("{} {} '{}': {}", verb_of(i), r.source, i.workflow_name, i.reason));
        s.items.push_back(std::move(i));
    };
    auto report_error = [&](item i, const error& e, std::string_view doing) {
        make_error_item(i, e, doing);
        report(std::move(i));
    };

    std::vector<connector::version_ref> refs;
    if (r.version == config::version_choice::active) {
        std::string active = src.active_version;
        if (active.empty() && !src.versions_listed) {
            // The listing does not say which version is active: the version list does.
            auto versions = co_await source.list_versions(src.id);
            if (!versions) co_return report_error(base, versions.error(), "listing versions: ");
            for (const auto& v : *versions)
                if (v.active) active = v.version;
        }
        if (active.empty()) {
            item i = base;
            i.what = action::skip;
            i.reason = "no active version";
            co_return report(std::move(i));
        }
        refs.push_back({connector::version_ref::kind::exact, active});
    } else if (r.version == config::version_choice::all) {
        auto versions = co_await source.list_versions(src.id);
        if (!versions) co_return report_error(base, versions.error(), "listing versions: ");
        std::vector<std::string> labels;
        for (const auto& v : *versions) labels.push_back(v.version);
        std::sort(labels.begin(), labels.end(),
                  [](const auto& a, const auto& b) { return compare_versions(a, b) < 0; });
        labels.erase(std::unique(labels.begin(), labels.end()), labels.end());
        for (const auto& l : labels) refs.push_back({connector::version_ref::kind::exact, l});
        if (refs.empty()) {
            item i = base;
            i.what = action::skip;
            i.reason = "no versions";
            co_return report(std::move(i));
        }
    } else {
        refs.emplace_back();  // latest
    }

    std::set<std::string> older_failed;
    // Versions go into a tenant in order. One sent after an older version that did not make it
    // there would land above it; the older one could then only follow as a newer version, and
    // the newest content would be sent once more after it: a duplicate. So it waits for the
    // next run. (Archives keep versions side by side: no order to keep.)
    std::map<std::string, std::string> behind;  // target -> the older version that did not make it
    // An older version that could not even be read did not make it anywhere: without this, the
    // newest version's mark would let the listings skip the workflow, the older one never read.
    auto fell_behind = [&](const std::string& version) {
        for (const auto& target : r.targets) {
            older_failed.insert(target);
            if (!detail::is_archive(target)) behind.try_emplace(target, version);
        }
    };
    for (std::size_t k = 0; k < refs.size(); ++k) {
        item version_base = base;
        auto fetched = co_await fetch_package(source, src, refs[k]);
        if (!fetched) {
            item i = version_base;
            i.source_version = refs[k].version;
            report_error(std::move(i), fetched.error(), "");
            fell_behind(refs[k].version);
            continue;
        }
        const auto& pkg = *fetched;
        auto norm = normalize(pkg);
        if (!norm) {
            item i = version_base;
            i.source_version = refs[k].version;
            report_error(std::move(i), norm.error(), "normalizing export: ");
            fell_behind(refs[k].version);
            continue;
        }
        version_base.source_version = norm_version(pkg, src);
        version_base.content_hash = norm->hash;

        if (!o.dry_run) {
            auto wf = st.upsert_workflow(r.source, src.id, src.name);
            if (wf) {
                // One file is kept as it is; several (Kore.ai) as a zip, so they can be told apart.
                std::string raw;
                if (pkg.files.size() == 1) {
                    raw = pkg.files.begin()->second;
                } else if (auto z = make_zip(pkg.files); z) {
                    raw = std::move(*z);
                }
                auto v = st.put_version(wf->id, version_base.source_version, norm->hash, pkg.format, raw);
                if (!v) log::error(run_fields(s), "cannot store version: {}", v.error().what());
            } else {
                log::error(run_fields(s), "cannot store workflow: {}", wf.error().what());
            }
        }

        // The targets of one version are independent of each other: handled at once (each
        // tenant's client holds its own requests to its limits). Versions stay in order.
        // A target whose listing failed was reported already (without its listing a definition
        // could not be found by name and might be created twice); one the listings proved
        // unchanged, too.
        bool older = k + 1 < refs.size();
        std::vector<std::string> targets;
        for (const auto& target : r.targets)
            if (why_full.contains(target)) targets.push_back(target);
        co_await for_each_at_once(targets.size(), [&](std::size_t t) -> awaitable<void> {
            const auto& target = targets[t];
            settled how;
            std::vector<connector::workflow_summary>* listing = nullptr;
            if (detail::is_archive(target)) {
                item it = version_base;
                backup(r, s, run, o, src, pkg, *norm, target, std::move(it), how);
            } else if (auto b = behind.find(target); b != behind.end()) {
                listing = &listings.find(target)->second;
                item it = version_base;
                it.target_tenant = target;
                it.what = action::skip;
                it.reason = fmt::format("waits for version {}, which did not make it into {} in this run: versions "
                                        "go in order",
                                        b->second, target);
                finish_item(item_scope{r, s, run, o, now_ms(), how}, std::move(it));
            } else {
                listing = &listings.find(target)->second;
                item it = version_base;
                it.target_tenant = target;
                co_await sync_target(r, s, run, o, source, src, pkg, *norm, target, *listing, std::move(it), older,
                                     how);
            }
            // With `version: all`, the listings prove the newest version only: an older one
            // that did not make it keeps the item compared in full until it does.
            const bool made_it = how.what == action::unchanged || how.what == action::adopt ||
                                 ((how.what == action::import || how.what == action::create) && how.done);
            const bool planned = o.dry_run && (how.what == action::import || how.what == action::create);
            if (!made_it) older_failed.insert(target);
            if (!made_it && !planned && !detail::is_archive(target)) behind.try_emplace(target, version_base.source_version);
            if (older) co_return;
            if (older_failed.contains(target)) how.what = action::error;
            note_compared(r, o, rl, src, target, listing, how, norm->hash);
        });
    }
}

}  // namespace wfsync::sync
