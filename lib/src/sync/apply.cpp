// SPDX-License-Identifier: Apache-2.0
// The apply stage: intents made durable, what an import created read back, and remembered.
#include "engine_impl.hpp"

#include <wfsync/core/log.hpp>
#include <wfsync/sync/diff.hpp>

#include <boost/asio/post.hpp>

#include <fmt/format.h>

#include <ctime>

namespace wfsync::sync {
using namespace detail;

awaitable<read_back_result> engine::impl::read_back(connector::connector& target, const target_view& view,
                                      const std::string& version, const std::string& version_id,
                                      const normalized_package& sent)
{
    read_back_result out;
    auto versions = co_await target.list_versions(view.workflow);
    if (!versions) {
        out.note = "read-back failed (the next run takes it): " + versions.error().what();
        co_return out;
    }
    const connector::version_summary* found = nullptr;
    for (const auto& v : *versions)
        if ((!version_id.empty() && v.id == version_id) || (!found && v.version == version)) found = &v;
    if (!found) {
        // Kore.ai lists only "deployed": read what is there.
        if (versions->size() == 1) found = &versions->front();
        else {
            out.note = "read-back failed (the next run takes it): version " + version + " is not listed";
            co_return out;
        }
    }
    out.version = *found;
    auto tw = summary_of(view.workflow, view.name, found->version);
    bool other_space = false;
    auto fp = co_await read_fingerprint(target, tw, *found, other_space);
    if (!fp) {
        out.note = "read-back failed (the next run takes it): " + fp.error().what();
        co_return out;
    }
    out.hash = fp->hash;
    if (!other_space && fp->hash != sent.hash) {
        auto d = diff_packages(sent, *fp);
        std::string shown;
        for (std::size_t i = 0; i < d.size() && i < 3; ++i) shown += (i ? "; " : "") + d[i];
        if (d.size() > 3) shown += fmt::format("; and {} more", d.size() - 3);
        out.note = "the target stores it differently from what was sent (" + shown + ")";
    }
    co_return out;
}

result<void> engine::impl::remember(const config::rule& r, const connector::workflow_summary& src,
                      const std::string& hash, const std::string& target_name, const target_view& view,
                      const std::string& target_version, const std::string& target_hash)
{
    store::workflow_mapping m{r.source, src.id, target_name, view.workflow,
                              view.name.empty() ? src.name : view.name};
    if (auto p = st.put_mapping(m); !p) return p.error();
    store::version_mapping vm;
    vm.source_tenant = r.source;
    vm.source_workflow = src.id;
    vm.content_hash = hash;
    vm.target_tenant = target_name;
    vm.target_workflow = view.workflow;
    vm.target_version = target_version;
    vm.at = std::time(nullptr);
    vm.target_hash = target_hash;
    auto last = st.last_version_mapping(target_name, view.workflow);
    if (!last) return last.error();
    if (*last && (*last)->content_hash == hash && (*last)->target_version == target_version) {
        if ((*last)->target_hash.empty() && !target_hash.empty())
            return st.set_target_hash(target_name, view.workflow, hash, target_version, target_hash);
        return {};
    }
    return st.add_version_mapping(vm);
}

awaitable<result<void>> engine::impl::make_durable(store::row_id id)
{
    co_await boost::asio::post(ex, boost::asio::use_awaitable_t<executor>{});
    if (auto c = st.commit_batch(); !c) co_return std::move(c.error()).context("recording the import intent");
    auto kept = st.get_intent(id);
    if (!kept) co_return kept.error();
    if (!*kept) co_return fail(errc::store, fmt::format("import intent {} was not recorded; not sent", id));
    co_return result<void>{};
}

awaitable<void> engine::impl::apply_import(const item_scope& at, const connector::workflow_summary& src,
                                          const connector::package& pkg, const normalized_package& norm,
                                          const std::string& target_name,
                                          std::vector<connector::workflow_summary>& listing, planned_import p)
{
    const auto& r = at.r;
    auto& s = at.s;
    auto& target = *p.target;
    auto* view = &p.view;
    auto& it = p.it;
    auto& intent = p.intent;
    const int generation = p.generation;
    const auto& recorded_job = p.recorded_job;
    auto finish = [&](item&& done) { finish_item(at, std::move(done)); };
    auto failed = [&](const error& e) {
        make_error_item(it, e);
        finish(std::move(it));
    };

    if (!intent) {
        store::import_intent fresh;
        fresh.rule = r.name;
        fresh.run_uid = s.run_uid;
        fresh.source_tenant = r.source;
        fresh.source_workflow = src.id;
        fresh.source_version = it.source_version;
        fresh.content_hash = norm.hash;
        fresh.target_tenant = target_name;
        fresh.target_workflow = view->workflow;
        fresh.target_version = it.target_version;
        fresh.generation = generation;
        fresh.idempotency_key =
            idempotency_key(r.name, target_name, view->workflow.empty() ? "new:" + src.name : view->workflow,
                            norm.hash, it.target_version, generation);
        fresh.target_before = labels_text(view->versions);
        auto created = st.create_intent(fresh);
        if (!created) co_return failed(created.error());
        intent = std::move(*created);
    }
    // Write-ahead: the intent is on disk before the request it announces is sent.
    if (auto d = co_await make_durable(intent->id); !d) co_return failed(d.error());

    result<connector::import_result> done = fail(errc::internal, "no import attempted");
    if (recorded_job) {
        log::info({.tenant = target_name, .workflow = recorded_job->workflow}, "following import job {} of an earlier run",
                  recorded_job->job_id);
        connector::import_result pending;
        pending.target_workflow = recorded_job->workflow;
        pending.version = recorded_job->version;
        pending.job_id = recorded_job->job_id;
        pending.done = false;
        done = co_await wait_import(target, pending, recorded_job->id);
    } else {
        connector::import_request req;
        req.target_workflow = view->workflow;
        req.target_name = src.name;
        req.version = it.target_version;
        req.activate = r.activate;
        req.idempotency_key = intent->idempotency_key;
        req.content = &pkg;
        done = co_await target.import_package(req);
        if (done && !done->done) {
            store::async_job row;
            row.tenant = target_name;
            row.kind = "import";
            row.job_id = done->job_id;
            row.workflow = done->target_workflow.empty() ? view->workflow : done->target_workflow;
            row.version = it.target_version;
            row.intent = intent->id;
            auto added = st.add_job(row);
            if (!added) {
                (void)st.set_intent_state(intent->id, store::intent_state::unknown, added.error().what());
                co_return failed(added.error());
            }
            // The job is followed by a restarted wfsync only if its row survives.
            if (auto c = st.commit_batch(); !c) log::error("cannot record import job {}: {}", row.job_id, c.error().what());
            done = co_await wait_import(target, *done, added->id);
        }
    }
    if (!done) {
        // A definitive refusal needs a new key next time; anything else may have landed.
        bool definitive = !is_retryable(done.error()) && done.error().code != errc::timeout &&
                          done.error().code != errc::transport && done.error().code != errc::cancelled &&
                          done.error().code != errc::unknown_outcome;
        auto state = definitive ? store::intent_state::failed : store::intent_state::unknown;
        (void)st.set_intent_state(intent->id, state, log::redact(done.error().what()));
        co_return failed(std::move(done.error()).context("import into " + target_name));
    }
    if (!done->target_workflow.empty()) view->workflow = done->target_workflow;
    if (!done->version.empty()) it.target_version = done->version;
    it.target_workflow = view->workflow;
    it.done = true;
    if (view->name.empty()) view->name = src.name;
    // Where it went is recorded before the intent is settled: a crash in between leaves an
    // open intent, which the next run settles by looking, never a settled one without a record.
    if (auto m = remember(r, src, norm.hash, target_name, *view, it.target_version, {}); !m)
        co_return failed(m.error());
    if (auto u = st.set_intent_state(intent->id, store::intent_state::succeeded,
                                     "imported as version " + it.target_version, view->workflow);
        !u)
        co_return failed(u.error());
    // A created definition joins the run's listing, so that a later workflow of the same
    // name (its lane runs after this one) finds it instead of creating it again.
    if (it.what == action::create)
        listing.push_back(summary_of(view->workflow, view->name, it.target_version));

    auto back = co_await read_back(target, *view, it.target_version, done->version_id, norm);
    if (!back.note.empty()) it.reason += "; " + back.note;
    if (!done->note.empty()) it.reason += "; " + done->note;
    if (!back.hash.empty())
        if (auto m = remember(r, src, norm.hash, target_name, *view, it.target_version, back.hash); !m)
            co_return failed(m.error());
    if (!done->activation_error.empty()) {
        it.what = action::error;
        it.error_kind = errc::conflict;
        it.reason = fmt::format("imported as version {}, but not activated as the rule says: {}", it.target_version,
                                done->activation_error);
    } else if (target.visibility() == connector::write_visibility::every_version && done->note.empty() &&
               back.version && back.version->version == it.target_version) {
        // The connector said nothing of activation: the version list tells.
        if (back.version->active && !r.activate) {
            it.reason += "; the platform activated the imported version although the rule says activate: false";
        } else if (!back.version->active && r.activate) {
            it.what = action::error;
            it.error_kind = errc::conflict;
            it.reason = fmt::format("imported as version {}, but not activated as the rule says: the platform "
                                    "lists it as {}",
                                    it.target_version,
                                    back.version->status.empty() ? "not active" : back.version->status);
        }
    } else if (target.visibility() == connector::write_visibility::exported_only && !back.hash.empty()) {
        // Only the deployed version can be read: what it shows tells whether the import was deployed.
        bool deployed = back.hash == norm.hash;
        if (deployed && !r.activate)
            it.reason += "; the platform deployed the import although the rule says activate: false";
        else if (!deployed && r.activate)
            it.reason += "; the deployed version is not the imported one: deploy it in the platform's UI";
    }
    co_return finish(std::move(it));
}

}  // namespace wfsync::sync
