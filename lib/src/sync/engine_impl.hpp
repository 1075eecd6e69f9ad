// SPDX-License-Identifier: Apache-2.0
// Private to the sync layer: the engine's state and the stages of a run, each defined in a
// file of its own (list.cpp, fetch.cpp, plan.cpp, apply.cpp, record.cpp, jobs.cpp,
// backups.cpp); engine.cpp runs them.
#pragma once

#include <wfsync/sync/engine.hpp>

#include "listing_check.hpp"

#include <wfsync/archive/archive.hpp>
#include <wfsync/config/config.hpp>
#include <wfsync/connector/connector.hpp>
#include <wfsync/core/async.hpp>
#include <wfsync/core/duration.hpp>
#include <wfsync/core/log.hpp>
#include <wfsync/store/store.hpp>
#include <wfsync/sync/normalize.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace wfsync::sync {
namespace detail {

/// Milliseconds of the steady clock, for durations.
inline std::int64_t now_ms()
{
    using namespace std::chrono;
    return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

/// The log fields of a line about a whole run.
inline log::fields run_fields(const run_summary& s)
{
    return {.rule = s.rule, .run = s.run_uid};
}

/// The log fields of a line about one item: the tenant is its target (the source when it has
/// none yet), the version the source's.
inline log::fields item_fields(const run_summary& s, const item& i)
{
    return {.rule = s.rule,
            .tenant = i.target_tenant.empty() ? std::string_view(i.source_tenant) : std::string_view(i.target_tenant),
            .workflow = i.source_workflow,
            .version = i.source_version,
            .run = s.run_uid};
}

/// Logs how an item ended: errors and held imports at error, drift at warn, the rest at info.
/// The action as a log line says it: "would import" for what a plan or a dry run decided
/// but did not do, so such lines never read like a change that was made.
inline std::string verb_of(const item& i)
{
    const auto verb = std::string(to_string(i.what));
    return (i.what == action::import || i.what == action::create) && !i.done ? "would " + verb : verb;
}

inline void log_item(const run_summary& s, const item& i, std::string_view text)
{
    auto lvl = i.what == action::error || i.what == action::held ? log::level::error
               : i.what == action::drift                        ? log::level::warn
                                                                 : log::level::info;
    if (log::enabled(lvl)) log::write(lvl, text, item_fields(s, i));
}

/// A target definition as the stages name it to a connector: id, name and a version.
inline connector::workflow_summary summary_of(const std::string& id, const std::string& name, const std::string& version)
{
    connector::workflow_summary w;
    w.id = id;
    w.name = name;
    w.active_version = version;
    w.latest_version = version;
    return w;
}

/// Makes `i` an error item: `e`'s kind and HTTP status, and `doing` then `e` as its reason.
inline void make_error_item(item& i, const error& e, std::string_view doing = {})
{
    i.what = action::error;
    i.error_kind = e.code;
    i.http_status = e.http_status;
    i.reason = std::string(doing) + e.what();
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
    listing_check check;
    std::vector<mark_after_import> after_import;
};

/// One item into one target in flight: where its outcome goes.
struct item_scope {
    const config::rule& r;
    run_summary& s;
    store::row_id run;
    const run_options& o;
    std::int64_t started;  ///< now_ms() when the item began, for its duration
    settled& outcome;
};

/// An import the plan stage decided on, for the apply stage to carry out.
struct planned_import {
    item it;                                      ///< action, reason and target version decided
    connector::connector* target = nullptr;
    target_view view;                             ///< what the target holds
    std::optional<store::import_intent> intent;   ///< an open intent to send again (same key)
    int generation = 0;                           ///< of a fresh intent's key
    std::optional<store::async_job> recorded_job; ///< an import job of an earlier run to follow
};

/// What a target shows of an import whose outcome is unknown.
struct landing {
    enum class kind { landed, absent, unknowable } what = kind::absent;
    connector::version_summary version;  ///< landed: the version holding it
    std::string hash;                    ///< landed: its fingerprint, when read
    std::string why;                     ///< unknowable: what an operator should check
};

/// What a read-back after an import found.
struct read_back_result {
    std::string hash;  ///< the target's fingerprint of the version; empty if it could not be read
    std::string note;  ///< for the item: a failed read, or how the stored version differs
    std::optional<connector::version_summary> version;  ///< as the platform lists it now
};

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

}  // namespace detail

struct engine::impl {
    using target_view = detail::target_view;
    using settled = detail::settled;
    using run_listings = detail::run_listings;
    using landing = detail::landing;
    using read_back_result = detail::read_back_result;
    using item_scope = detail::item_scope;
    using planned_import = detail::planned_import;

    /// Versions read at most when looking for an import whose answer was lost.
    static constexpr std::size_t max_versions_read = 20;

    executor ex;
    std::shared_ptr<const config::config> cfg;
    store::store& st;
    connector_factory make;
    std::map<std::string, std::unique_ptr<connector::connector>> connectors;
    std::map<std::string, archive::archive> archives;

    result<archive::archive*> archive_for(const std::string& name);

    /// Stores an exported version in an archive unless that content is there already.
    void backup(const config::rule& r, run_summary& s, store::row_id run, const run_options& o,
                const connector::workflow_summary& src, const connector::package& pkg,
                const normalized_package& norm, const std::string& target, item it, settled& outcome);

    /// Applies the rule's (or the archive's) retention to each archive the rule writes to.
    void apply_retention(const config::rule& r, run_summary& s);

    impl(executor e, std::shared_ptr<const config::config> c, store::store& s, connector_factory m);

    result<connector::connector*> connector_for(const std::string& tenant);

    void record(const run_summary& s, store::row_id run, const item& i, std::int64_t started,
                const run_options& o);

    /// Poll settings of a tenant (the defaults if it is unknown).
    config::poll_settings poll_of(const std::string& tenant) const;

    /// Waits `d` on the engine's executor.
    awaitable<void> pause(milliseconds d);

    static std::string version_label(const connector::version_ref& ref);

    /// Exports one version and waits for it. An asynchronous export is a job: recorded in the
    /// store before it is polled, polled with backoff from poll.interval to poll.max_interval,
    /// and left "unknown" at poll.timeout, so that the next run resumes the same job instead
    /// of starting another export.
    awaitable<result<connector::package>> fetch_package(connector::connector& c, const connector::workflow_summary& wf,
                                                        const connector::version_ref& ref);

    /// Closes the import jobs recorded for an intent once the intent is settled otherwise, so
    /// they neither count as pending nor make a restarted daemon resume them.
    void close_jobs_of(store::row_id intent, const std::string& tenant, const std::string& why);

    /// A poll error other than the platform's own FAILED (errc::conflict) says nothing about the
    /// job: the job stays open ("unknown") for the next run, never treated as failed.
    static bool job_failed(const error& e);

    /// Waits for an asynchronous import (already recorded as `job_row`) to end.
    awaitable<result<connector::import_result>> wait_import(connector::connector& c, connector::import_result job,
                                                            store::row_id job_row);

    /// Reads one version of a tenant for its fingerprint: through the platform's version API
    /// where it has one besides the export (any version), else by exporting that version.
    /// `other_space` tells which: a fingerprint read another way never equals a content hash.
    awaitable<result<normalized_package>> read_fingerprint(connector::connector& c, const connector::workflow_summary& wf,
                                                           const connector::version_summary& v, bool& other_space);

    awaitable<result<target_view>> read_target(connector::connector& target,
                                                const std::vector<connector::workflow_summary>& listing,
                                                const std::string& source_tenant,
                                                const connector::workflow_summary& src);

    /// Why a creation whose answer was lost cannot be looked for where workflows cannot be listed.
    static std::string lost_creation(const std::string& name, const std::string& tenant, std::int64_t at);

    /// The target's version labels as an intent records them: a JSON array, so that "none"
    /// ("[]") differs from "not recorded" (empty, an intent of an older wfsync).
    static std::string labels_text(const std::vector<connector::version_summary>& versions);

    static std::optional<std::vector<std::string>> labels_of(const std::string& text);

    /// Looks for an import whose answer was lost among the target's versions that appeared
    /// since the intent was written (all of them when that is not recorded), each read and
    /// compared with the content: as exported, or (`read_hash`) as the source's version reads
    /// the same way the target's do (SecMaster's version detail). Found: landed. No new
    /// version: it did not happen, where every version is visible. New versions of which none
    /// shows the content, or a platform that shows one version only: no read can tell.
    awaitable<result<landing>> find_landed(connector::connector& target, const target_view& view,
                                           const connector::workflow_summary& src, const normalized_package& norm,
                                           const std::string& read_hash, const store::import_intent& intent);

    std::string plan_version(const config::rule& r, const std::string& source_version,
                             const std::string& highest);

    /// Counts, records, logs and keeps how an item ended.
    void finish_item(const item_scope& at, item&& done);

    /// The plan stage for one source version and one target: what the target holds, what the
    /// history and open intents say; finishes the item (unchanged, adopted, held, drift, an
    /// error, or anything in a dry run) or returns the import to make.
    awaitable<std::optional<planned_import>> plan_import(const item_scope& at, connector::connector& source,
                                                         const connector::workflow_summary& src,
                                                         const connector::package& pkg, const normalized_package& norm,
                                                         const std::string& target_name,
                                                         std::vector<connector::workflow_summary>& listing, item it,
                                                         bool older_version);

    /// The apply stage: the intent written and made durable, the import sent (or an earlier
    /// run's job followed), the outcome settled, remembered and read back.
    awaitable<void> apply_import(const item_scope& at, const connector::workflow_summary& src,
                                 const connector::package& pkg, const normalized_package& norm,
                                 const std::string& target_name, std::vector<connector::workflow_summary>& listing,
                                 planned_import p);

    /// One source version into one target: plan, then (unless a dry run) apply.
    awaitable<void> sync_target(const config::rule& r, run_summary& s, store::row_id run,
                                const run_options& o, connector::connector& source,
                                const connector::workflow_summary& src,
                                const connector::package& pkg, const normalized_package& norm,
                                const std::string& target_name,
                                std::vector<connector::workflow_summary>& listing, item it,
                                bool older_version, settled& outcome);

    /// Reads back the version an import created (any version, not only the active one), so that
    /// drift is measured against what the target really holds of what wfsync wrote.
    awaitable<read_back_result> read_back(connector::connector& target, const target_view& view,
                                          const std::string& version, const std::string& version_id,
                                          const normalized_package& sent);

    static std::string norm_version(const connector::package& pkg, const connector::workflow_summary& src);

    result<void> remember(const config::rule& r, const connector::workflow_summary& src,
                          const std::string& hash, const std::string& target_name, const target_view& view,
                          const std::string& target_version, const std::string& target_hash);

    /// Records what the listings show of an item whose contents were just compared in full,
    /// or forgets the old mark when the comparison did not end with the target holding them.
    void note_compared(const config::rule& r, const run_options& o, run_listings& rl,
                       const connector::workflow_summary& src, const std::string& target,
                       const std::vector<connector::workflow_summary>* listing, const settled& how,
                       const std::string& content_hash);

    awaitable<void> sync_workflow(const config::rule& r, run_summary& s, store::row_id run,
                                  const run_options& o, connector::connector& source,
                                  const connector::workflow_summary& src,
                                  std::map<std::string, std::vector<connector::workflow_summary>>& listings,
                                  run_listings& rl);

    /// Commits the state's open batch so that the intent `id` is on disk. Workers that reach
    /// their imports in the same turn of the executor share one commit. An intent the commit
    /// did not keep (a batch that failed) is an error: its import must not be sent.
    awaitable<result<void>> make_durable(store::row_id id);

    /// Commits the state's batched writes every `period` until `stop` is set: a run's events,
    /// versions and marks reach the disk in groups, and the write lock is never held longer.
    awaitable<void> commit_periodically(boost::asio::steady_timer& timer, const bool& stop, milliseconds period);

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
    awaitable<void> mark_imports(const config::rule& r, run_listings& rl);

    /// How many workflows of a rule are handled at once: as many as the busiest tenant of the
    /// rule may have requests in flight (each tenant's client holds its own to its
    /// `concurrency` and `rate_limit`, so a slow tenant waits alone).
    std::size_t width_of(const config::rule& r) const;

    /// The rule's selected workflows, handled concurrently by workers that take one lane at a
    /// time. Workflows of one name share a lane, in listing order: a target definition is found
    /// or created by name, so two of them must not create it at once. The versions of one
    /// workflow stay in order within it. Items are reported in listing order, whatever order
    /// they finished in. A cancelled run cancels every worker and waits for them.
    awaitable<void> sync_concurrently(const config::rule& r, run_summary& s, store::row_id run, const run_options& o,
                                      connector::connector& source,
                                      const std::vector<connector::workflow_summary>& listed,
                                      std::map<std::string, std::vector<connector::workflow_summary>>& listings,
                                      run_listings& rl);

    awaitable<result<run_summary>> run(const config::rule& r, run_options o);
};

}  // namespace wfsync::sync
