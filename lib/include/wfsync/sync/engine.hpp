// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <wfsync/core/async.hpp>
#include <wfsync/core/error.hpp>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace wfsync::config {
struct config;
struct rule;
struct tenant;
}  // namespace wfsync::config
namespace wfsync::store {
class store;
}
namespace wfsync::connector {
class connector;
}

namespace wfsync::sync {

/// What the engine decided (or did) for one source workflow and one target.
enum class action {
    import,     ///< a new version goes into an existing target definition
    create,     ///< the target definition is created with this version
    unchanged,  ///< the target already holds this content
    adopt,      ///< an earlier import whose outcome was unknown turned out to have landed
    drift,      ///< the target was changed outside wfsync; on_drift said skip
    skip,       ///< nothing to export (e.g. no active version)
    error,      ///< this item failed; the others went on
    held,       ///< an earlier import's outcome is unknown and no read can tell: an operator decides
};
std::string_view to_string(action a) noexcept;

struct item {
    std::string rule;
    std::string source_tenant;
    std::string source_workflow;
    std::string workflow_name;
    std::string source_version;
    std::string content_hash;
    std::string target_tenant;
    std::string target_workflow;  ///< empty when it is (to be) created
    std::string target_version;   ///< planned or imported version label
    action what = action::skip;
    bool done = false;            ///< the action was carried out (false for plan and dry run)
    bool drifted = false;         ///< the target had been edited by hand (also with overwrite)
    bool by_listing = false;      ///< unchanged because both listings show what they did at the last full comparison
    std::string reason;           ///< why, in words, for people
    errc error_kind = errc::internal;  ///< for action::error
    int http_status = 0;               ///< for action::error from an HTTP answer
    std::vector<std::string> diff;     ///< structural diff target -> source (plan only)
};

struct run_summary {
    std::string run_uid;
    std::string rule;
    std::vector<item> items;
    int imported = 0;  ///< import + create actually done
    int unchanged = 0;
    int drift = 0;
    int skipped = 0;
    int errors = 0;    ///< errors and held items
    int held = 0;      ///< imports held for an operator (`wfsync resolve`)
    int by_listing = 0;  ///< items the listings proved unchanged, without an export
    /// Items whose contents were compared in full, by why (the listings changed, --full,
    /// verify_every, a listing that shows nothing that changes with the content, ...).
    std::map<std::string, int> compared_in_full;
    /// Archives whose retention could not be applied after the run, with why.
    std::vector<std::string> prune_errors;
    /// True when every error is transient (tenant down, timeouts): exit 75 rather than 1.
    bool only_transient_errors() const;
};

/// How far a run has come, for a progress line: workflows of the source done out of those
/// selected, and the one just started.
struct progress {
    std::string_view rule;
    std::size_t done = 0;
    std::size_t total = 0;
    std::string_view workflow;
};

struct run_options {
    std::string command = "sync";  ///< recorded in the runs table
    bool dry_run = false;          ///< decide, change nothing, record nothing
    bool with_diff = false;        ///< fill item::diff
    bool full = false;             ///< compare every item's contents, whatever the listings say
    /// Called on the run's executor as each selected workflow starts and ends; may be empty.
    std::function<void(const progress&)> on_progress;
};

using connector_factory =
    std::function<result<std::unique_ptr<connector::connector>>(const config::tenant&)>;

/// Runs rules: list, export, normalize, compare with the history and the target, import with
/// write-ahead intents and deterministic idempotency keys, record events.
/// Thread safety: one engine per executor thread; it owns the connectors it makes.
class engine {
public:
    /// `make` defaults to connector::make_connector on `ex`.
    engine(executor ex, std::shared_ptr<const config::config> cfg, store::store& st,
           connector_factory make = {});
    ~engine();
    engine(const engine&) = delete;
    engine& operator=(const engine&) = delete;

    /// Makes `c` the connector of the pseudo-tenant `name` (restore reads an archive this way).
    void add_connector(const std::string& name, std::unique_ptr<connector::connector> c);

    /// Runs one rule once. Per-item failures are in the summary; an error result means the
    /// run could not happen at all (source unreachable, store failure).
    [[nodiscard]] awaitable<result<run_summary>> run(const config::rule& r, run_options opts);

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

/// The idempotency key of an import: a pure function of what is imported where, so that a
/// retry after a crash sends the same key, and a changed body or a new generation a new one.
std::string idempotency_key(const std::string& rule, const std::string& target_tenant,
                            const std::string& target_workflow, const std::string& content_hash,
                            const std::string& target_version, int generation);

/// Compares version labels numerically per dot-separated part ("0.0.10" > "0.0.9"), with an
/// optional leading "v" ("v12" > "v9", SecMaster); labels that are not numbers ("deployed")
/// sort below numbered ones, by their text.
int compare_versions(std::string_view a, std::string_view b) noexcept;
/// The next version above `v` ("0.0.9" -> "0.0.10"; "v9" -> "v10"; "" or a word -> "0.0.1").
std::string next_patch(std::string_view v);

}  // namespace wfsync::sync
