// SPDX-License-Identifier: Apache-2.0
#include <wfsync/sync/engine.hpp>

#include "listing_check.hpp"

#include <wfsync/archive/archive.hpp>
#include <wfsync/config/config.hpp>
#include <wfsync/connector/connector.hpp>
#include <wfsync/core/hash.hpp>
#include <wfsync/core/log.hpp>
#include <wfsync/store/store.hpp>
#include <wfsync/sync/diff.hpp>
#include <wfsync/sync/normalize.hpp>

#include <wfsync/core/duration.hpp>
#include <wfsync/core/zip.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <ctime>
#include <set>

namespace wfsync::sync {

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

std::string idempotency_key(const std::string& rule, const std::string& target_tenant,
                            const std::string& target_workflow, const std::string& content_hash,
                            const std::string& target_version, int generation)
{
    // Fields joined by NUL so that no two tuples can produce the same text.
    std::string material;
    for (const auto* part : {&rule, &target_tenant, &target_workflow, &content_hash, &target_version}) {
        material += *part;
        material += '\0';
    }
    material += std::to_string(generation);
    return "wfsync-" + sha256_hex(material).substr(0, 48);
}

namespace {

/// The numbers of a label: "0.0.3" -> {0,0,3}; "v12" and "V12" -> {12} (SecMaster's labels).
/// nullopt for a label that is not numbers ("deployed", Kore.ai's one readable version).
std::optional<std::vector<long long>> version_parts(std::string_view v)
{
    if (!v.empty() && (v.front() == 'v' || v.front() == 'V')) v.remove_prefix(1);
    if (v.empty()) return std::nullopt;
    std::vector<long long> parts;
    while (true) {
        auto dot = v.find('.');
        auto piece = v.substr(0, dot);
        long long n = 0;
        auto [p, ec] = std::from_chars(piece.data(), piece.data() + piece.size(), n);
        if (ec != std::errc{} || p != piece.data() + piece.size()) return std::nullopt;
        parts.push_back(n);
        if (dot == std::string_view::npos) break;
        v.remove_prefix(dot + 1);
    }
    return parts;
}

}  // namespace

int compare_versions(std::string_view a, std::string_view b) noexcept
{
    auto pa = version_parts(a);
    auto pb = version_parts(b);
    // Numbered labels sort above words (and the empty label); words sort by their text.
    if (!pa || !pb) {
        if (pa) return 1;
        if (pb) return -1;
        return a < b ? -1 : b < a ? 1 : 0;
    }
    auto n = std::max(pa->size(), pb->size());
    pa->resize(n, 0);
    pb->resize(n, 0);
    if (*pa < *pb) return -1;
    if (*pb < *pa) return 1;
    return 0;
}

std::string next_patch(std::string_view v)
{
    auto parts = version_parts(v);
    if (!parts) return "0.0.1";
    // "v7" -> "v8": a label keeps its platform's style.
    if (!v.empty() && (v.front() == 'v' || v.front() == 'V') && parts->size() == 1)
        return std::string(1, v.front()) + std::to_string(parts->front() + 1);
    while (parts->size() < 3) parts->push_back(0);
    parts->back() += 1;
    std::string out;
    for (std::size_t i = 0; i < parts->size(); ++i) {
        if (i) out += '.';
        out += std::to_string((*parts)[i]);
    }
    return out;
}

namespace {

std::int64_t now_ms()
{
    using namespace std::chrono;
    return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

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

/// What the target holds for one source workflow.
struct target_view {
    std::string workflow;  ///< empty: no definition yet
    std::string name;
    std::string highest_version;
    connector::version_summary highest;            ///< the version highest_version names
    std::vector<connector::version_summary> versions;
    std::string latest_hash;  ///< fingerprint of the latest version's content; empty if none
    std::optional<normalized_package> latest;
    /// The target's versions are read another way than the source's are exported
    /// (SecMaster's version detail), so their fingerprints never equal a content hash.
    bool other_space = false;
};

/// How an item into one target ended, for what the run records of its listings.
struct settled {
    action what = action::skip;
    bool done = false;
    std::string target_workflow;
};

/// A full comparison that ended in an import: its mark is taken from the target's listing
/// read again at the end of the run, which shows the import.
struct mark_after_import {
    connector::workflow_summary source;
    std::string target;
    std::string target_workflow;
    std::string content_hash;
};

/// What a run knows of its items' listings: the check against the last full comparisons, and
/// the marks still to record once the targets are listed again.
struct run_listings {
    detail::listing_check check;
    std::vector<mark_after_import> after_import;
};

/// What a target shows of an import whose outcome is unknown.
struct landing {
    enum class kind { landed, absent, unknowable } what = kind::absent;
    connector::version_summary version;  ///< landed: the version holding it
    std::string hash;                    ///< landed: its fingerprint, when read
    std::string why;                     ///< unknowable: what an operator should check
};

}  // namespace

struct engine::impl {
    /// Versions read at most when looking for an import whose answer was lost.
    static constexpr std::size_t max_versions_read = 20;

    executor ex;
    std::shared_ptr<const config::config> cfg;
    store::store& st;
    connector_factory make;
    std::map<std::string, std::unique_ptr<connector::connector>> connectors;
    std::map<std::string, archive::archive> archives;

    result<archive::archive*> archive_for(const std::string& name)
    {
        if (auto it = archives.find(name); it != archives.end()) return &it->second;
        auto a = cfg->archives.find(name);
        if (a == cfg->archives.end()) return fail(errc::config, "no archive named " + name);
        auto opened = archive::archive::open(name, a->second.path, st);
        if (!opened) return opened.error();
        return &archives.emplace(name, std::move(*opened)).first->second;
    }

    /// Stores an exported version in an archive unless that content is there already.
    void backup(const config::rule& r, run_summary& s, store::row_id run, const run_options& o,
                const connector::workflow_summary& src, const connector::package& pkg,
                const normalized_package& norm, const std::string& target, item it, settled& outcome)
    {
        auto started = now_ms();
        auto name = target.substr(std::string_view("archive:").size());
        it.target_tenant = target;
        auto done = [&](item&& i) {
            outcome = {i.what, i.done, i.target_workflow};
            if (i.what == action::error) ++s.errors;
            else if (i.what == action::unchanged) ++s.unchanged;
            else if (i.done) ++s.imported;
            record(s, run, i, started, o);
            auto lvl = i.what == action::error ? log::level::error : log::level::info;
            if (log::enabled(lvl))
                log::write(lvl, fmt::format("run {} rule {}: {} {} '{}' -> {}: {}", s.run_uid, r.name,
                                            to_string(i.what), r.source, i.workflow_name, target, i.reason));
            s.items.push_back(std::move(i));
        };
        if (!cfg->archives.contains(name)) {
            it.what = action::error;
            it.error_kind = errc::config;
            it.reason = "no archive named " + name;
            return done(std::move(it));
        }
        auto existing = st.find_archive_entry_by_hash(name, r.source, src.id, norm.hash);
        if (!existing) {
            it.what = action::error;
            it.error_kind = existing.error().code;
            it.reason = existing.error().what();
            return done(std::move(it));
        }
        if (*existing) {
            it.what = action::unchanged;
            it.target_workflow = (*existing)->path;
            it.target_version = (*existing)->version;
            it.reason = "already in the archive";
            return done(std::move(it));
        }
        it.what = action::import;
        it.target_version = it.source_version;
        if (o.dry_run) {
            it.reason = "new content: would be stored";
            return done(std::move(it));
        }
        // Opened only to write: a plan or a dry run must not create the archive's directories.
        auto a = archive_for(name);
        if (!a) {
            it.what = action::error;
            it.error_kind = a.error().code;
            it.reason = a.error().what();
            return done(std::move(it));
        }
        auto stored = (*a)->put(r.source, pkg, norm.hash, std::chrono::system_clock::now());
        if (!stored) {
            it.what = action::error;
            it.error_kind = stored.error().code;
            it.reason = "storing in archive " + name + ": " + stored.error().what();
            return done(std::move(it));
        }
        it.done = true;
        it.target_workflow = stored->path;
        it.reason = "stored as " + stored->path;
        done(std::move(it));
    }

    /// Applies the rule's (or the archive's) retention to each archive the rule writes to.
    void apply_retention(const config::rule& r, run_summary& s)
    {
        for (const auto& target : r.targets) {
            if (target.rfind("archive:", 0) != 0) continue;
            auto name = target.substr(std::string_view("archive:").size());
            auto conf = cfg->archives.find(name);
            if (conf == cfg->archives.end()) continue;
            auto policy = archive::retention_from(r.retention.empty() ? conf->second.retention : r.retention);
            if (policy.empty()) continue;
            auto a = archive_for(name);
            if (!a) {
                s.prune_errors.push_back(name + ": " + a.error().what());
                continue;
            }
            auto pruned = (*a)->prune(policy, r.timezone, false, std::chrono::system_clock::now());
            if (!pruned) {
                s.prune_errors.push_back(name + ": " + pruned.error().what());
            } else if (!pruned->ok()) {
                for (const auto& e : pruned->errors) s.prune_errors.push_back(name + ": " + e.path + ": " + e.detail);
            } else if (!pruned->removed.empty()) {
                log::info("run {} rule {}: retention removed {} versions from archive {}", s.run_uid, r.name,
                          pruned->removed.size(), name);
            }
        }
        for (const auto& e : s.prune_errors) log::error("run {} rule {}: retention failed: {}", s.run_uid, r.name, e);
    }

    impl(executor e, std::shared_ptr<const config::config> c, store::store& s, connector_factory m)
        : ex(std::move(e)), cfg(std::move(c)), st(s), make(std::move(m))
    {
        if (!make) {
            make = [this](const config::tenant& t) { return connector::make_connector(ex, t); };
        }
    }

    result<connector::connector*> connector_for(const std::string& tenant)
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

    void record(const run_summary& s, store::row_id run, const item& i, std::int64_t started,
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
        if (auto r = st.add_event(e); !r) log::error("run {}: cannot record event: {}", s.run_uid, r.error().what());
    }

    /// Poll settings of a tenant (the defaults if it is unknown).
    config::poll_settings poll_of(const std::string& tenant) const
    {
        const auto* t = cfg->find_tenant(tenant);
        return t ? t->net.poll : cfg->defaults.poll;
    }

    /// Waits `d` on the engine's executor.
    awaitable<void> pause(milliseconds d)
    {
        boost::asio::steady_timer timer(ex, d);
        co_await timer.async_wait(boost::asio::use_awaitable_t<executor>{});
    }

    static std::string version_label(const connector::version_ref& ref)
    {
        switch (ref.which) {
        case connector::version_ref::kind::latest: return "latest";
        case connector::version_ref::kind::active: return "active";
        case connector::version_ref::kind::exact: return ref.version;
        }
        return {};
    }

    /// Exports one version and waits for it. An asynchronous export is a job: recorded in the
    /// store before it is polled, polled with backoff from poll.interval to poll.max_interval,
    /// and left "unknown" at poll.timeout, so that the next run resumes the same job instead
    /// of starting another export.
    awaitable<result<connector::package>> fetch_package(connector::connector& c, const connector::workflow_summary& wf,
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
                log::info("tenant {}: resuming export job {} of workflow {}", c.tenant(), j.job_id, wf.id);
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
                    log::warn("tenant {}: polling export job {}: {}", c.tenant(), job.job_id, polled.error().what());
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

    /// Closes the import jobs recorded for an intent once the intent is settled otherwise, so
    /// they neither count as pending nor make a restarted daemon resume them.
    void close_jobs_of(store::row_id intent, const std::string& tenant, const std::string& why)
    {
        auto open = st.open_jobs(tenant);
        if (!open) return log::warn("cannot list the jobs of {}: {}", tenant, open.error().what());
        for (const auto& j : *open)
            if (j.kind == "import" && j.intent == intent) (void)st.set_job_state(j.id, store::job_state::succeeded, why);
    }

    /// A poll error other than the platform's own FAILED (errc::conflict) says nothing about the
    /// job: the job stays open ("unknown") for the next run, never treated as failed.
    static bool job_failed(const error& e) { return e.code == errc::conflict; }

    /// Waits for an asynchronous import (already recorded as `job_row`) to end.
    awaitable<result<connector::import_result>> wait_import(connector::connector& c, connector::import_result job,
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
                log::warn("tenant {}: polling import job {}: {}", c.tenant(), job.job_id, polled.error().what());
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

    /// Reads one version of a tenant for its fingerprint: through the platform's version API
    /// where it has one besides the export (any version), else by exporting that version.
    /// `other_space` tells which: a fingerprint read another way never equals a content hash.
    awaitable<result<normalized_package>> read_fingerprint(connector::connector& c, const connector::workflow_summary& wf,
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

    awaitable<result<target_view>> read_target(connector::connector& target,
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

        connector::workflow_summary tw{view.workflow, view.name, {}, view.highest_version, {}};
        auto norm = co_await read_fingerprint(target, tw, view.highest, view.other_space);
        if (!norm) co_return std::move(norm.error()).context("reading target version " + view.highest_version);
        view.latest_hash = norm->hash;
        view.latest = std::move(*norm);
        co_return view;
    }

    /// Why a creation whose answer was lost cannot be looked for where workflows cannot be listed.
    static std::string lost_creation(const std::string& name, const std::string& tenant, std::int64_t at)
    {
        return fmt::format("the answer to the creation of workflow '{}' in {} was lost, and the platform has no "
                           "API that lists workflows: check in its UI whether a workflow named '{}' was created at "
                           "about {}",
                           name, tenant, name, format_iso_utc(at));
    }

    /// The target's version labels as an intent records them: a JSON array, so that "none"
    /// ("[]") differs from "not recorded" (empty, an intent of an older wfsync).
    static std::string labels_text(const std::vector<connector::version_summary>& versions)
    {
        boost::json::array a;
        for (const auto& v : versions) a.emplace_back(v.version);
        return boost::json::serialize(a);
    }

    static std::optional<std::vector<std::string>> labels_of(const std::string& text)
    {
        boost::system::error_code ec;
        auto v = boost::json::parse(text, ec);
        if (ec || !v.is_array()) return std::nullopt;
        std::vector<std::string> out;
        for (const auto& e : v.get_array())
            if (e.is_string()) out.emplace_back(e.get_string());
        return out;
    }

    /// Looks for an import whose answer was lost among the target's versions that appeared
    /// since the intent was written (all of them when that is not recorded), each read and
    /// compared with the content: as exported, or (`read_hash`) as the source's version reads
    /// the same way the target's do (SecMaster's version detail). Found: landed. No new
    /// version: it did not happen, where every version is visible. New versions of which none
    /// shows the content, or a platform that shows one version only: no read can tell.
    awaitable<result<landing>> find_landed(connector::connector& target, const target_view& view,
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

        connector::workflow_summary tw{view.workflow, view.name, {}, view.highest_version, {}};
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

    std::string plan_version(const config::rule& r, const std::string& source_version,
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

    /// One source version into one target: decide, then (unless a dry run) import.
    awaitable<void> sync_target(const config::rule& r, run_summary& s, store::row_id run,
                                const run_options& o, connector::connector& source,
                                const connector::workflow_summary& src,
                                const connector::package& pkg, const normalized_package& norm,
                                const std::string& target_name,
                                std::vector<connector::workflow_summary>& listing, item it,
                                bool older_version, settled& outcome)
    {
        auto started = now_ms();
        auto finish = [&](item&& done) {
            outcome = {done.what, done.done, done.target_workflow};
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
            record(s, run, done, started, o);
            auto lvl = done.what == action::error || done.what == action::held ? log::level::error
                       : done.what == action::drift                             ? log::level::warn
                                                                                 : log::level::info;
            if (log::enabled(lvl))
                log::write(lvl, fmt::format("run {} rule {}: {} {} '{}' -> {} {}: {}", s.run_uid, r.name,
                                            to_string(done.what), done.source_tenant, done.workflow_name,
                                            done.target_tenant,
                                            done.target_version.empty() ? done.target_workflow : done.target_version,
                                            done.reason));
            s.items.push_back(std::move(done));
        };
        auto failed = [&](const error& e) {
            it.what = action::error;
            it.error_kind = e.code;
            it.http_status = e.http_status;
            it.reason = e.what();
            finish(std::move(it));
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
            if (!v) log::warn("source {}: '{}' lists no version {}: compared by export only", r.source, src.name,
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
            if (!rh) log::warn("run {} rule {}: '{}': {}", s.run_uid, r.name, src.name, rh.error().what());
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
            log::info("tenant {}: following import job {} of an earlier run", target_name, recorded_job->job_id);
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
            listing.push_back({view->workflow, view->name, it.target_version, it.target_version, {}});

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

    /// What a read-back after an import found.
    struct read_back_result {
        std::string hash;  ///< the target's fingerprint of the version; empty if it could not be read
        std::string note;  ///< for the item: a failed read, or how the stored version differs
        std::optional<connector::version_summary> version;  ///< as the platform lists it now
    };

    /// Reads back the version an import created (any version, not only the active one), so that
    /// drift is measured against what the target really holds of what wfsync wrote.
    awaitable<read_back_result> read_back(connector::connector& target, const target_view& view,
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
        connector::workflow_summary tw{view.workflow, view.name, {}, found->version, {}};
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

    static std::string norm_version(const connector::package& pkg, const connector::workflow_summary& src)
    {
        return pkg.version.empty() ? src.latest_version : pkg.version;
    }

    result<void> remember(const config::rule& r, const connector::workflow_summary& src,
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

    /// Records what the listings show of an item whose contents were just compared in full,
    /// or forgets the old mark when the comparison did not end with the target holding them.
    void note_compared(const config::rule& r, const run_options& o, run_listings& rl,
                       const connector::workflow_summary& src, const std::string& target,
                       const std::vector<connector::workflow_summary>* listing, const settled& how,
                       const std::string& content_hash)
    {
        if (o.dry_run) return;
        // An adopted import may sit below a newer version (a person's): the next run looks again.
        const bool holds = how.done && (how.what == action::unchanged ||
                                        (detail::is_archive(target) && how.what == action::import));
        if (holds) {
            if (auto m = rl.check.mark_after(src, target, how.target_workflow, listing, content_hash))
                if (auto p = st.put_listing_mark(*m); !p) log::warn("cannot record a listing mark: {}", p.error().what());
            return;
        }
        if (how.done && (how.what == action::import || how.what == action::create)) {
            rl.after_import.push_back({src, target, how.target_workflow, content_hash});
            return;
        }
        if (rl.check.verified_at(src.id, target) != 0)
            if (auto f = st.forget_listing_mark(r.name, r.source, src.id, target); !f)
                log::warn("cannot forget a listing mark: {}", f.error().what());
    }

    awaitable<void> sync_workflow(const config::rule& r, run_summary& s, store::row_id run,
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
                log::write(log::level::info, fmt::format("run {} rule {}: unchanged {} '{}' -> {}: {}", s.run_uid, r.name,
                                                         r.source, i.workflow_name, target, i.reason));
            s.items.push_back(std::move(i));
        }
        if (why_full.empty() && !r.targets.empty()) co_return;
        for (const auto& [target, why] : why_full) ++s.compared_in_full[why];

        auto report = [&](item&& i) {
            if (i.what == action::error) ++s.errors;
            if (i.what == action::skip) ++s.skipped;
            record(s, run, i, started, o);
            auto lvl = i.what == action::error ? log::level::error : log::level::info;
            if (log::enabled(lvl))
                log::write(lvl, fmt::format("run {} rule {}: {} {} '{}': {}", s.run_uid, r.name, to_string(i.what),
                                   r.source, i.workflow_name, i.reason));
            s.items.push_back(std::move(i));
        };

        std::vector<connector::version_ref> refs;
        if (r.version == config::version_choice::active) {
            if (src.active_version.empty()) {
                item i = base;
                i.what = action::skip;
                i.reason = "no active version";
                co_return report(std::move(i));
            }
            refs.push_back({connector::version_ref::kind::exact, src.active_version});
        } else if (r.version == config::version_choice::all) {
            auto versions = co_await source.list_versions(src.id);
            if (!versions) {
                item i = base;
                i.what = action::error;
                i.error_kind = versions.error().code;
                i.http_status = versions.error().http_status;
                i.reason = "listing versions: " + versions.error().what();
                co_return report(std::move(i));
            }
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
        for (std::size_t k = 0; k < refs.size(); ++k) {
            item version_base = base;
            auto fetched = co_await fetch_package(source, src, refs[k]);
            if (!fetched) {
                item i = version_base;
                i.source_version = refs[k].version;
                i.what = action::error;
                i.error_kind = fetched.error().code;
                i.http_status = fetched.error().http_status;
                i.reason = fetched.error().what();
                report(std::move(i));
                continue;
            }
            const auto& pkg = *fetched;
            auto norm = normalize(pkg);
            if (!norm) {
                item i = version_base;
                i.source_version = refs[k].version;
                i.what = action::error;
                i.error_kind = norm.error().code;
                i.http_status = norm.error().http_status;
                i.reason = "normalizing export: " + norm.error().what();
                report(std::move(i));
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
                    if (!v) log::error("run {}: cannot store version: {}", s.run_uid, v.error().what());
                } else {
                    log::error("run {}: cannot store workflow: {}", s.run_uid, wf.error().what());
                }
            }

            bool older = k + 1 < refs.size();
            for (const auto& target : r.targets) {
                // A target whose listing failed was reported already (without its listing a
                // definition could not be found by name and might be created twice); one the
                // listings proved unchanged, too.
                if (!why_full.contains(target)) continue;
                settled how;
                std::vector<connector::workflow_summary>* listing = nullptr;
                if (detail::is_archive(target)) {
                    item it = version_base;
                    backup(r, s, run, o, src, pkg, *norm, target, std::move(it), how);
                } else {
                    listing = &listings.find(target)->second;
                    item it = version_base;
                    it.target_tenant = target;
                    co_await sync_target(r, s, run, o, source, src, pkg, *norm, target, *listing, std::move(it),
                                         older, how);
                }
                // With `version: all`, the listings prove the newest version only: an older one
                // that did not make it keeps the item compared in full until it does.
                const bool made_it = how.what == action::unchanged || how.what == action::adopt ||
                                     ((how.what == action::import || how.what == action::create) && how.done);
                if (!made_it) older_failed.insert(target);
                if (older) continue;
                if (older_failed.contains(target)) how.what = action::error;
                note_compared(r, o, rl, src, target, listing, how, norm->hash);
            }
        }
    }

    /// Commits the state's open batch so that the intent `id` is on disk. Workers that reach
    /// their imports in the same turn of the executor share one commit. An intent the commit
    /// did not keep (a batch that failed) is an error: its import must not be sent.
    awaitable<result<void>> make_durable(store::row_id id)
    {
        co_await boost::asio::post(ex, boost::asio::use_awaitable_t<executor>{});
        if (auto c = st.commit_batch(); !c) co_return std::move(c.error()).context("recording the import intent");
        auto kept = st.get_intent(id);
        if (!kept) co_return kept.error();
        if (!*kept) co_return fail(errc::store, fmt::format("import intent {} was not recorded; not sent", id));
        co_return result<void>{};
    }

    /// Commits the state's batched writes every `period` until `stop` is set: a run's events,
    /// versions and marks reach the disk in groups, and the write lock is never held longer.
    awaitable<void> commit_periodically(boost::asio::steady_timer& timer, const bool& stop, milliseconds period)
    {
        while (!stop) {
            timer.expires_after(period);
            boost::system::error_code ec;
            co_await timer.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable_t<executor>{}, ec));
            if (auto c = st.commit_batch(); !c) log::error("cannot commit the run's records: {}", c.error().what());
        }
    }

    /// Runs `task(0)` .. `task(n - 1)` concurrently on the engine's executor and waits for all;
    /// an exception in one is rethrown once all have ended. A cancelled run cancels them all.
    template <class Task>
    awaitable<void> for_each_at_once(std::size_t n, Task task)
    {
        if (n == 0) co_return;
        if (n == 1) co_return co_await task(std::size_t{0});
        using op_type = decltype(boost::asio::co_spawn(ex, task(std::size_t{0}), boost::asio::deferred));
        std::vector<op_type> ops;
        for (std::size_t k = 0; k < n; ++k) ops.push_back(boost::asio::co_spawn(ex, task(k), boost::asio::deferred));
        auto [order, failures] = co_await boost::asio::experimental::make_parallel_group(std::move(ops))
                                     .async_wait(boost::asio::experimental::wait_for_all(),
                                                 boost::asio::use_awaitable_t<executor>{});
        for (const auto& e : failures)
            if (e) std::rethrow_exception(e);
    }

    /// Records the marks of this run's imports from each target's listing read again now, so
    /// that the next run can tell from the listings alone that nothing changed since. A person's
    /// edit between the import and this listing would pass for ours until verify_every.
    awaitable<void> mark_imports(const config::rule& r, run_listings& rl)
    {
        std::vector<std::string> targets;
        for (const auto& m : rl.after_import)
            if (std::find(targets.begin(), targets.end(), m.target) == targets.end()) targets.push_back(m.target);
        co_await for_each_at_once(targets.size(), [&](std::size_t k) -> awaitable<void> {
            auto c = connector_for(targets[k]);
            if (!c) co_return;
            auto listing = co_await (*c)->list_workflows();
            if (!listing) {
                log::warn("rule {}: listing {} again after its imports: {}; the next run compares them in full",
                          r.name, targets[k], listing.error().what());
                co_return;
            }
            for (const auto& m : rl.after_import) {
                if (m.target != targets[k]) continue;
                auto mark = rl.check.mark_after(m.source, m.target, m.target_workflow, &*listing, m.content_hash);
                if (!mark) continue;
                if (auto p = st.put_listing_mark(*mark); !p) log::warn("cannot record a listing mark: {}", p.error().what());
            }
        });
    }

    /// How many workflows of a rule are handled at once: as many as the busiest tenant of the
    /// rule may have requests in flight (each tenant's client holds its own to its
    /// `concurrency` and `rate_limit`, so a slow tenant waits alone).
    std::size_t width_of(const config::rule& r) const
    {
        int width = 1;
        if (const auto* t = cfg->find_tenant(r.source)) width = t->net.concurrency;
        for (const auto& target : r.targets)
            if (const auto* t = cfg->find_tenant(target)) width = std::max(width, t->net.concurrency);
        return static_cast<std::size_t>(width);
    }

    /// The rule's selected workflows, handled concurrently by workers that take one lane at a
    /// time. Workflows of one name share a lane, in listing order: a target definition is found
    /// or created by name, so two of them must not create it at once. The versions of one
    /// workflow stay in order within it. Items are reported in listing order, whatever order
    /// they finished in. A cancelled run cancels every worker and waits for them.
    awaitable<void> sync_concurrently(const config::rule& r, run_summary& s, store::row_id run, const run_options& o,
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

        std::size_t next = 0;
        const std::size_t first_item = s.items.size();
        co_await for_each_at_once(std::min(width_of(r), lanes.size()), [&](std::size_t) -> awaitable<void> {
            while (next < lanes.size()) {
                const auto& lane = lanes[next++];
                for (const auto* src : lane) co_await sync_workflow(r, s, run, o, source, *src, listings, rl);
            }
        });
        std::stable_sort(s.items.begin() + static_cast<std::ptrdiff_t>(first_item), s.items.end(),
                         [&](const item& a, const item& b) {
                             return position[a.source_workflow] < position[b.source_workflow];
                         });
    }

    /// A run's writes grouped into few commits (store::begin_batching), ended however the run ends.
    class batching {
    public:
        explicit batching(store::store& st) : st_(st) { st_.begin_batching(); }
        ~batching()
        {
            if (!ended_) (void)st_.end_batching();
        }
        batching(const batching&) = delete;
        batching& operator=(const batching&) = delete;
        result<void> end()
        {
            ended_ = true;
            return st_.end_batching();
        }

    private:
        store::store& st_;
        bool ended_ = false;
    };

    awaitable<result<run_summary>> run(const config::rule& r, run_options o)
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
        if (auto e = batch.end(); !e) co_return std::move(e.error()).context("recording the run");
        co_return s;
    }
};

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
