// SPDX-License-Identifier: Apache-2.0
// The plan stage: what one source version needs in one target, from its history, its open
// intents and what the target holds; then the import it decides on.
#include "engine_impl.hpp"

#include <wfsync/core/duration.hpp>
#include <wfsync/core/log.hpp>
#include <wfsync/sync/diff.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <fmt/format.h>

#include <algorithm>

namespace wfsync::sync {
using namespace detail;

std::string engine::impl::lost_creation(const std::string& name, const std::string& tenant, std::int64_t at)
{
    return fmt::format("the answer to the creation of workflow '{}' in {} was lost, and the platform has no "
                       "API that lists workflows: check in its UI whether a workflow named '{}' was created at "
                       "about {}",
                       name, tenant, name, format_iso_utc(at));
}

std::string engine::impl::labels_text(const std::vector<connector::version_summary>& versions)
{
    boost::json::array a;
    for (const auto& v : versions) a.emplace_back(v.version);
    return boost::json::serialize(a);
}

std::optional<std::vector<std::string>> engine::impl::labels_of(const std::string& text)
{
    boost::system::error_code ec;
    auto v = boost::json::parse(text, ec);
    if (ec || !v.is_array()) return std::nullopt;
    std::vector<std::string> out;
    for (const auto& e : v.get_array())
        if (e.is_string()) out.emplace_back(e.get_string());
    return out;
}

awaitable<result<landing>> engine::impl::find_landed(connector::connector& target, const target_view& view,
                                       const connector::workflow_summary& src, const normalized_package& norm,
                                       const std::string& read_hash, const store::import_intent& intent)
{
    landing out;
    const bool partial = target.visibility() == connector::write_visibility::exported_only;
    const bool create = intent.target_workflow.empty();
    if (create && partial) {
        out.what = landing::kind::unknowable;
        out.why = lost_creation(src.name, target.tenant(), intent.updated_at);
        co_return out;
    }
    if (view.workflow.empty()) co_return out;  // nothing of that name: the creation did not happen
    std::optional<std::vector<std::string>> before;
    if (create) before.emplace();
    else before = labels_of(intent.target_before);
    std::vector<connector::version_summary> candidates;
    for (const auto& v : view.versions)
        if (!before || std::find(before->begin(), before->end(), v.version) == before->end())
            candidates.push_back(v);
    std::sort(candidates.begin(), candidates.end(),
              [](const auto& a, const auto& b) { return compare_versions(a.version, b.version) > 0; });
    if (candidates.size() > max_versions_read) candidates.resize(max_versions_read);

    auto tw = summary_of(view.workflow, view.name, view.highest_version);
    bool other_space = view.other_space;
    for (const auto& v : candidates) {
        std::string hash;
        if (v.version == view.highest_version && !view.latest_hash.empty()) {
            hash = view.latest_hash;
        } else {
            auto fp = co_await read_fingerprint(target, tw, v, other_space);
            if (!fp) co_return std::move(fp.error()).context("looking for an import whose answer was lost");
            hash = fp->hash;
        }
        if (hash == norm.hash || (!read_hash.empty() && hash == read_hash)) {
            out.what = landing::kind::landed;
            out.version = v;
            out.hash = hash;
            co_return out;
        }
    }
    if (partial) {
        out.what = landing::kind::unknowable;
        out.why = fmt::format("the answer to the import into workflow {} of {} was lost, and the platform shows "
                              "only its deployed version, which does not hold the content: check the "
                              "workflow's versions in its UI for one imported at about {}",
                              view.workflow, target.tenant(), format_iso_utc(intent.updated_at));
        co_return out;
    }
    if (!candidates.empty()) {
        // Versions appeared and none shows the content: a person's, or ours stored in a way
        // the fingerprints do not see through. Guessing either way could duplicate or lose.
        std::string labels;
        for (const auto& v : candidates) labels += (labels.empty() ? "" : ", ") + v.version;
        out.what = landing::kind::unknowable;
        out.why = fmt::format("the answer to the import into workflow {} of {} was lost, and {} version{} appeared "
                              "since ({}) without the content as it was sent: check in the platform's UI whether "
                              "one of them is version {} of '{}'",
                              view.workflow, target.tenant(), candidates.size(), candidates.size() == 1 ? "" : "s",
                              labels, intent.source_version, src.name);
        co_return out;
    }
    co_return out;  // every version was seen and none appeared since: it did not happen
}

std::string engine::impl::plan_version(const config::rule& r, const std::string& source_version,
                         const std::string& highest)
{
    if (highest.empty())
        return r.policy == config::version_policy::keep_source && !source_version.empty()
                   ? source_version
                   : std::string("0.0.1");
    if (r.policy == config::version_policy::keep_source && compare_versions(source_version, highest) > 0)
        return source_version;
    return next_patch(highest);
}

awaitable<void> engine::impl::sync_target(const config::rule& r, run_summary& s, store::row_id run,
                            const run_options& o, connector::connector& source,
                            const connector::workflow_summary& src,
                            const connector::package& pkg, const normalized_package& norm,
                            const std::string& target_name,
                            std::vector<connector::workflow_summary>& listing, item it,
                            bool older_version, settled& outcome)
{
    item_scope at{r, s, run, o, now_ms(), outcome};
    auto planned = co_await plan_import(at, source, src, pkg, norm, target_name, listing, std::move(it), older_version);
    if (!planned) co_return;
    co_await apply_import(at, src, pkg, norm, target_name, listing, std::move(*planned));
}

awaitable<std::optional<planned_import>> engine::impl::plan_import(
    const item_scope& at, connector::connector& source, const connector::workflow_summary& src,
    const connector::package& pkg, const normalized_package& norm, const std::string& target_name,
    std::vector<connector::workflow_summary>& listing, item it, bool older_version)
{
    const auto& r = at.r;
    auto& s = at.s;
    const auto& o = at.o;
    auto finish = [&](item&& done) -> std::optional<planned_import> {
        finish_item(at, std::move(done));
        return std::nullopt;
    };
    auto failed = [&](const error& e) -> std::optional<planned_import> {
        make_error_item(it, e);
        return finish(std::move(it));
    };

    auto target_c = connector_for(target_name);
    if (!target_c) co_return failed(target_c.error());
    auto& target = **target_c;

    auto view = co_await read_target(target, listing, r.source, src);
    if (!view) co_return failed(std::move(view.error()).context("target " + target_name));
    it.target_workflow = view->workflow;

    // With `version: all`, an older source version replicated before stays done even though
    // the target's latest version has moved on.
    if (older_version && !view->workflow.empty()) {
        auto seen = st.has_version_mapping(target_name, view->workflow, norm.hash);
        if (!seen) co_return failed(seen.error());
        if (*seen) {
            it.what = action::unchanged;
            it.reason = "replicated earlier";
            it.done = !o.dry_run;
            co_return finish(std::move(it));
        }
    }

    // A write-ahead intent left open by a crash or a lost response is settled first.
    auto prior = st.find_intent(r.name, r.source, src.id, target_name, norm.hash);
    if (!prior) co_return failed(prior.error());
    const bool open_prior = *prior && ((*prior)->state == store::intent_state::pending ||
                                       (*prior)->state == store::intent_state::unknown);

    // What wfsync last put into this target workflow. A mapping without the target's
    // fingerprint (an operator's `wfsync resolve`, a read-back that failed, a Kore.ai or
    // SecMaster state of an older wfsync) takes it now from the version wfsync wrote, or
    // where only one version can be read (Kore.ai), from what that one holds.
    std::optional<store::version_mapping> last_mapping;
    if (!view->workflow.empty()) {
        auto last = st.last_version_mapping(target_name, view->workflow);
        if (!last) co_return failed(last.error());
        last_mapping = *last;
        const auto* t = cfg->find_tenant(target_name);
        const bool zuora = t && t->kind == config::platform::zuora;
        bool rebaseline = last_mapping && last_mapping->target_hash.empty() && !zuora && !view->latest_hash.empty();
        if (rebaseline && target.visibility() == connector::write_visibility::exported_only) {
            // One version readable: only what wfsync wrote, or saw there before, is a baseline;
            // anything else may be a person's edit.
            auto seen = st.has_target_hash(target_name, view->workflow, view->latest_hash);
            if (!seen) co_return failed(seen.error());
            rebaseline = view->latest_hash == last_mapping->content_hash || *seen;
        } else if (rebaseline) {
            rebaseline = compare_versions(last_mapping->target_version, view->highest_version) == 0;
        }
        if (rebaseline) {
            last_mapping->target_hash = view->latest_hash;
            if (!o.dry_run)
                if (auto u = st.set_target_hash(target_name, view->workflow, last_mapping->content_hash,
                                                last_mapping->target_version, view->latest_hash);
                    !u)
                    co_return failed(u.error());
        }
    }

    // The target holds this content: as sent, or as the platform stored what wfsync wrote
    // (its own ids or labels stamped on it), by the fingerprint read back then.
    std::optional<store::version_mapping> same_as;
    if (!view->latest_hash.empty() && view->latest_hash != norm.hash && !view->workflow.empty()) {
        if (last_mapping && last_mapping->content_hash == norm.hash && last_mapping->target_hash == view->latest_hash) {
            same_as = *last_mapping;
        } else {
            auto m = st.find_version_mapping(target_name, view->workflow, norm.hash);
            if (!m) co_return failed(m.error());
            if (*m && !(*m)->target_hash.empty() && (*m)->target_hash == view->latest_hash) same_as = **m;
        }
    }
    // Read another way than exported (SecMaster), a target fingerprint never equals a
    // content hash: the source's version, read the same way, is compared instead.
    std::optional<std::string> read_hash_memo;
    auto source_read_hash = [&]() -> awaitable<result<std::string>> {
        if (read_hash_memo) co_return *read_hash_memo;
        auto versions = co_await source.list_versions(src.id);
        if (!versions) co_return std::move(versions.error()).context("source " + r.source);
        const connector::version_summary* v = nullptr;
        for (const auto& x : *versions)
            if (x.version == it.source_version) v = &x;
        std::string hash;
        if (!v) log::warn({.rule = r.name, .tenant = r.source, .workflow = src.id, .version = it.source_version},
                          "source {}: '{}' lists no version {}: compared by export only", r.source, src.name,
                          it.source_version);
        if (v) {
            bool other = false;
            auto fp = co_await read_fingerprint(source, src, *v, other);
            if (!fp) co_return std::move(fp.error()).context("source " + r.source);
            if (other) hash = fp->hash;
        }
        read_hash_memo = hash;
        co_return hash;
    };
    bool same_read = false;
    if (!same_as && view->other_space && !view->latest_hash.empty()) {
        // Only a shortcut here: a source that cannot be read that way leaves the import to decide.
        auto rh = co_await source_read_hash();
        if (!rh) log::warn(run_fields(s), "'{}': {}", src.name, rh.error().what());
        else same_read = !rh->empty() && *rh == view->latest_hash;
    }
    if (!view->latest_hash.empty() && (view->latest_hash == norm.hash || same_as || same_read)) {
        it.target_version = view->highest_version;
        it.what = open_prior ? action::adopt : action::unchanged;
        it.reason = open_prior ? "an earlier import with an unknown outcome is in the target"
                    : same_as  ? "target holds this content as the platform stored it when wfsync imported it"
                               : "target already holds this content";
        it.done = !o.dry_run;
        // What the platform changed of what was sent, for plan to show.
        if (same_as && o.with_diff && view->latest) it.diff = diff_packages(norm, *view->latest);
        if (!o.dry_run) {
            if (open_prior) {
                if (auto u = st.set_intent_state((*prior)->id, store::intent_state::succeeded,
                                                 "found in target as version " + view->highest_version,
                                                 view->workflow);
                    !u)
                    co_return failed(u.error());
                close_jobs_of((*prior)->id, target_name, "settled: the content is in the target");
            }
            if (auto m = remember(r, src, norm.hash, target_name, *view, view->highest_version, view->latest_hash);
                !m)
                co_return failed(m.error());
        }
        co_return finish(std::move(it));
    }

    // An earlier version of this workflow whose import is held, or whose creation was lost
    // where workflows cannot be listed, blocks the later ones: sending them could create the
    // workflow twice, or bury what an operator is asked to check.
    {
        auto open = st.open_intents();
        if (!open) co_return failed(open.error());
        const bool partial = target.visibility() == connector::write_visibility::exported_only;
        for (const auto& other : *open) {
            if (other.rule != r.name || other.source_tenant != r.source || other.source_workflow != src.id ||
                other.target_tenant != target_name || other.content_hash == norm.hash)
                continue;
            const bool lost_create = other.target_workflow.empty() && view->workflow.empty() && partial;
            if (other.hold.empty() && !lost_create) continue;
            if (other.hold.empty()) {
                // Its import job may still be open: followed first, then this version next run.
                auto jobs = st.open_jobs(target_name);
                if (!jobs) co_return failed(jobs.error());
                auto job = std::find_if(jobs->begin(), jobs->end(), [&](const store::async_job& j) {
                    return j.kind == "import" && j.intent == other.id;
                });
                if (job != jobs->end()) {
                    if (o.dry_run) {
                        it.what = action::skip;
                        it.reason = fmt::format("waits for import job {} of an earlier version (intent {})",
                                                job->job_id, other.id);
                        co_return finish(std::move(it));
                    }
                    connector::import_result pending;
                    pending.target_workflow = job->workflow;
                    pending.version = job->version;
                    pending.job_id = job->job_id;
                    pending.done = false;
                    auto ended = co_await wait_import(target, pending, job->id);
                    if (!ended) {
                        if (ended.error().code != errc::unknown_outcome)
                            (void)st.set_intent_state(other.id, store::intent_state::failed,
                                                      log::redact(ended.error().what()));
                        co_return failed(std::move(ended.error())
                                             .context("import job " + job->job_id + " of an earlier version"));
                    }
                    target_view landed = *view;
                    landed.workflow = ended->target_workflow.empty() ? job->workflow : ended->target_workflow;
                    landed.name = src.name;
                    if (auto m = remember(r, src, other.content_hash, target_name, landed, other.target_version, {}); !m)
                        co_return failed(m.error());
                    if (auto u = st.set_intent_state(other.id, store::intent_state::succeeded,
                                                     "imported by job " + job->job_id, landed.workflow);
                        !u)
                        co_return failed(u.error());
                    it.what = action::skip;
                    it.target_workflow = landed.workflow;
                    it.reason = fmt::format("the import job {} of an earlier version ended first; this version "
                                            "follows next run",
                                            job->job_id);
                    co_return finish(std::move(it));
                }
            }
            std::string why = other.hold;
            if (why.empty()) {
                why = lost_creation(src.name, target_name, other.updated_at);
                if (!o.dry_run)
                    if (auto h = st.hold_intent(other.id, why); !h) co_return failed(h.error());
            }
            it.what = action::held;
            it.error_kind = errc::unknown_outcome;
            it.reason = fmt::format("waits for intent {} (version {}), whose import is held: {}; then run "
                                    "`wfsync resolve --intent {} --imported` (with --target-workflow ID for a new "
                                    "workflow) or `--not-imported`",
                                    other.id, other.source_version, why, other.id);
            co_return finish(std::move(it));
        }
    }

    // An import job recorded for an open intent by an earlier run is followed, not resent.
    std::optional<store::async_job> recorded_job;
    if (open_prior) {
        auto open = st.open_jobs(target_name);
        if (!open) co_return failed(open.error());
        for (const auto& j : *open)
            if (j.kind == "import" && j.intent == (*prior)->id) recorded_job = j;
    }

    // An open intent without a job: did the import happen? Held ones wait for an operator.
    if (open_prior && !recorded_job) {
        const auto& p = **prior;
        if (!p.hold.empty()) {
            it.what = action::held;
            it.error_kind = errc::unknown_outcome;
            it.target_version = p.target_version;
            it.reason = fmt::format("{}; then run `wfsync resolve --intent {} --imported` (with --target-workflow "
                                    "ID for a new workflow) or `--not-imported`",
                                    p.hold, p.id);
            co_return finish(std::move(it));
        }
        std::string read_hash;
        if (view->other_space) {
            auto rh = co_await source_read_hash();
            if (!rh) co_return failed(rh.error());
            read_hash = *rh;
        }
        auto found = co_await find_landed(target, *view, src, norm, read_hash, p);
        if (!found) co_return failed(found.error());
        if (found->what == landing::kind::landed) {
            it.what = action::adopt;
            it.target_version = found->version.version;
            it.reason = "an earlier import with an unknown outcome is in the target as version " +
                        found->version.version;
            it.done = !o.dry_run;
            if (!o.dry_run) {
                if (auto u = st.set_intent_state(p.id, store::intent_state::succeeded, it.reason, view->workflow); !u)
                    co_return failed(u.error());
                std::string hash = found->hash;
                if (hash.empty() && found->version.version == view->highest_version) hash = view->latest_hash;
                if (auto m = remember(r, src, norm.hash, target_name, *view, found->version.version, hash); !m)
                    co_return failed(m.error());
            }
            co_return finish(std::move(it));
        }
        if (found->what == landing::kind::unknowable) {
            it.what = action::held;
            it.error_kind = errc::unknown_outcome;
            it.target_version = p.target_version;
            it.reason = fmt::format("{}; then run `wfsync resolve --intent {} --imported` (with "
                                    "--target-workflow ID for a new workflow) or `--not-imported`",
                                    found->why, p.id);
            if (!o.dry_run)
                if (auto h = st.hold_intent(p.id, found->why); !h) co_return failed(h.error());
            co_return finish(std::move(it));
        }
        // Absent: every version was seen and none holds it, so sending again duplicates nothing.
    }

    // Drift: the target's latest content is not what wfsync last put there (by the
    // fingerprint read back then) nor the source's.
    if (last_mapping && !view->latest_hash.empty()) {
        const auto& last = *last_mapping;
        // Content of an import of ours whose bookkeeping a crash cut short is not drift.
        auto ours = st.find_intent(r.name, r.source, src.id, target_name, view->latest_hash);
        if (!ours) co_return failed(ours.error());
        std::string baseline = last.target_hash;
        const auto* t = cfg->find_tenant(target_name);
        // Zuora's fingerprints were always taken as now: the content hash is its own.
        if (baseline.empty() && t && t->kind == config::platform::zuora) baseline = last.content_hash;
        // No fingerprint of what wfsync wrote, and a version after it: changed, as far as
        // anyone can tell, so not overwritten unless the rule says so.
        if (baseline != view->latest_hash && !*ours) {
            it.drifted = true;
            std::string why = "target version " + view->highest_version +
                              " was changed outside wfsync (last synced " + last.target_version +
                              (baseline.empty() ? ", whose fingerprint was never read back)" : ")");
            switch (r.on_drift) {
            case config::drift_policy::skip:
                it.what = action::drift;
                it.target_version = view->highest_version;
                it.reason = why + "; on_drift: skip";
                if (o.with_diff && view->latest) it.diff = diff_packages(*view->latest, norm);
                co_return finish(std::move(it));
            case config::drift_policy::fail:
                co_return failed(make_error(errc::drift, why + "; on_drift: fail"));
            case config::drift_policy::overwrite:
                it.reason = why + "; on_drift: overwrite; ";
                break;
            }
        }
    }

    if (view->workflow.empty() && !r.create_missing)
        co_return failed(make_error(errc::not_found, "no workflow named '" + src.name + "' in " +
                                                         target_name + " and create_missing is false"));

    // Reuse an open intent (same key, same version) so a retry is recognised by the platform;
    // after a definitive failure the generation rises and with it the key.
    std::optional<store::import_intent> intent;
    int generation = 0;
    if (*prior) {
        if (open_prior) {
            if ((*prior)->target_workflow == view->workflow &&
                (view->highest_version.empty() ||
                 compare_versions((*prior)->target_version, view->highest_version) > 0))
                intent = **prior;
            else
                generation = (*prior)->generation + 1;
        } else {
            generation = (*prior)->generation + 1;
        }
    }
    it.target_version = intent ? intent->target_version
                               : plan_version(r, norm_version(pkg, src), view->highest_version);
    it.what = view->workflow.empty() ? action::create : action::import;
    it.reason += view->workflow.empty() ? "no such definition in target; create_missing: true"
                 : view->latest_hash.empty() ? "target definition has no version yet"
                                             : "source content differs from target version " + view->highest_version;
    if (o.with_diff && view->latest) it.diff = diff_packages(*view->latest, norm);
    if (o.dry_run) co_return finish(std::move(it));
    co_return planned_import{std::move(it), &target, std::move(*view), std::move(intent), generation,
                             std::move(recorded_job)};
}

}  // namespace wfsync::sync
