// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <wfsync/config/config.hpp>
#include <wfsync/core/async.hpp>
#include <wfsync/core/error.hpp>
#include <wfsync/store/store.hpp>

#include <boost/json/object.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace wfsync::sync {
struct run_summary;
}

namespace wfsync::app {

/// Something worth telling people about, found in one finished run.
struct notice {
    config::notify_event event = config::notify_event::failure;
    /// What makes it the same event when a later run sees it again (a version promoted into a
    /// target, a failure that began in a run, a held intent): it is sent once per key.
    std::string key;
    std::string rule;
    std::string run;                ///< the run's id; empty when the run could not start
    std::int64_t at = 0;            ///< unix seconds
    std::string source_tenant;
    std::string target_tenant;      ///< several for a failure, comma-separated
    std::string workflow;           ///< the workflow's name
    std::string workflow_id;        ///< in the source
    std::string version;            ///< source version
    std::string target_version;
    std::string content_hash;
    std::int64_t intent = 0;        ///< unknown_outcome: the held intent (`wfsync resolve --intent N`)
    std::string message;            ///< for people; redacted
};

/// The notices of a run and the rule's health after it.
struct run_notices {
    std::vector<notice> notices;
    store::rule_health health;
};

/// What a finished run has to say (pure; the unit tests' subject):
///  * promoted: each version imported (or an earlier import found landed) into a tenant;
///  * drift: each target found changed outside wfsync, whatever on_drift did about it;
///  * unknown_outcome: each intent of the rule held for an operator (`held`);
///  * failure: the rule went from ok (or never run) to failing: the run failed as a whole, an
///    item failed, or an archive could not be pruned; recovered: back from failing to ok.
/// `previous` is the rule's health before the run. `run` is the engine's result.
run_notices notices_of(const std::string& rule, const result<sync::run_summary>& run,
                       const std::optional<store::rule_health>& previous,
                       const std::vector<store::import_intent>& held, std::int64_t now);

/// A notice as the JSON a webhook receives, without `delivery` and `timestamp` (added per
/// delivery): {"event", "rule", "run", "time", "source_tenant", "target_tenant", "workflow",
/// "workflow_id", "version", "target_version", "content_hash", "intent", "message"}.
boost::json::object notice_json(const notice& n);

/// The webhook body: the stored notice JSON plus "delivery" and "timestamp" (unix seconds of
/// this send), serialized once: the signature is over exactly these bytes.
std::string webhook_body(const boost::json::object& stored, std::string_view delivery, std::int64_t timestamp);

/// "sha256=" + hex HMAC-SHA256 of `body` under `key` (X-Wfsync-Signature, GitHub's scheme).
std::string webhook_signature(std::string_view key, std::string_view body);

/// The Slack incoming-webhook body: {"text": one line in Slack's mrkdwn, escaped}.
std::string slack_body(const boost::json::object& stored);

/// How one delivery went, for logs and metrics.
struct delivery_outcome {
    bool sent = false;
    int attempts = 0;      ///< HTTP attempts made
    std::string error;     ///< when not sent; redacted, never the URL of a secret URL
};

/// Sends one notification to one target now: resolves the target's secrets (URL, HMAC key),
/// builds the body, POSTs it with the target's timeout and retries (repeatable: receivers
/// de-duplicate by X-Wfsync-Delivery). Sent means a 2xx answer.
awaitable<delivery_outcome> deliver(executor ex, const config::notify_target& target,
                                    const store::notification_row& row, std::int64_t now);

/// The notifications of runs: queued in the state (once per event key and target), then
/// delivered after the run, retried by later runs when a target was down, given up after a
/// day. A target that fails is skipped for the rest of a pass, so a dead receiver costs a run
/// at most one delivery's timeout and retries. Never fails a run: problems are logged.
/// Thread safety: one executor thread, like the store it uses.
class notifications {
public:
    /// (target, event, outcome): outcome "sent", "failed" (retried by a later run), "retry"
    /// (one more HTTP attempt within a delivery) or "dropped" (given up).
    using observer = std::function<void(const std::string&, const std::string&, std::string_view)>;

    /// A notification still undelivered this long after it was queued is dropped: by then it
    /// is stale news, and a receiver gone for good must not keep every run busy.
    static constexpr std::int64_t max_age_seconds = 24 * 3600;

    notifications(executor ex, store::store& st);

    void on_outcome(observer f) { observer_ = std::move(f); }

    /// Queues the notices of a finished run (not of a plan or dry run) for the targets that
    /// want them, and records the rule's health. Nothing when the config has no targets.
    void queue(const config::config& cfg, const std::string& rule, const result<sync::run_summary>& run);

    /// Delivers every pending notification of a configured target. A pass already under way
    /// (another rule's run) takes these too; this one returns at once. Returns how many were sent.
    awaitable<std::size_t> deliver_pending(std::shared_ptr<const config::config> cfg);

    /// queue + deliver_pending: what `serve` does after each run.
    awaitable<std::size_t> after_run(std::shared_ptr<const config::config> cfg, std::string rule,
                                     const result<sync::run_summary>& run);

private:
    void report(const std::string& target, const std::string& event, std::string_view outcome);

    executor ex_;
    store::store& st_;
    observer observer_;
    bool delivering_ = false;
    bool again_ = false;
};

}  // namespace wfsync::app
