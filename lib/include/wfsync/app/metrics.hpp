// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace wfsync {
struct error;
}
namespace wfsync::net {
struct attempt_record;
}
namespace wfsync::sync {
struct run_summary;
}

namespace wfsync::app {

/// A small metrics registry rendered in the Prometheus text exposition format 0.0.4.
///
/// A family is declared once with its name, type, help text and label names; its series are
/// then addressed by label *values* given in the declared order. Rendering is deterministic:
/// families sorted by name, series sorted by their label values, histogram buckets in
/// ascending order with the cumulative `+Inf` bucket, then `_sum` and `_count`.
///
/// Misuse (an undeclared name, the wrong kind, a wrong number of label values) is a bug in the
/// caller; it is ignored in release builds rather than crashing the daemon, and asserted in
/// debug builds.
///
/// Thread safety: none. Use from one thread (the daemon's io thread).
class metrics_registry {
public:
    enum class kind { counter, gauge, histogram };
    using labels = std::vector<std::string>;

    /// Declares a family. Re-declaring an existing name is a no-op. `buckets` (histograms only)
    /// are upper bounds, sorted ascending here; `+Inf` is implicit.
    void declare(std::string name, kind k, std::string help, std::vector<std::string> label_names = {},
                 std::vector<double> buckets = {});

    /// Counter: adds `v` (>= 0). Gauge: adds `v` (may be negative).
    void add(std::string_view name, const labels& values = {}, double v = 1.0);
    /// Gauge: sets the value.
    void set(std::string_view name, const labels& values, double v);
    /// Histogram: records one observation.
    void observe(std::string_view name, const labels& values, double v);
    /// Removes one series (e.g. a gauge of a rule that no longer exists).
    void remove(std::string_view name, const labels& values);
    /// Removes every series of `name` whose label `label_name` equals `value`.
    void remove_matching(std::string_view name, std::string_view label_name, std::string_view value);

    /// Counter/gauge value of a series, or the observation count of a histogram series;
    /// 0 when the series does not exist. For tests and status pages.
    double value(std::string_view name, const labels& values = {}) const;
    /// Histogram sum of a series; 0 when absent.
    double sum(std::string_view name, const labels& values) const;

    /// The whole registry as Prometheus text (format 0.0.4), ending in a newline.
    std::string render() const;

private:
    struct series {
        double value = 0;                  ///< counter/gauge
        std::vector<std::uint64_t> counts; ///< histogram: per bucket, not cumulative; last = +Inf
        double sum = 0;
        std::uint64_t count = 0;
    };
    struct family {
        kind type = kind::counter;
        std::string help;
        std::vector<std::string> label_names;
        std::vector<double> buckets;
        std::map<labels, series> data;
    };
    family* find(std::string_view name, kind k, const labels& values);
    const family* find(std::string_view name) const;

    std::map<std::string, family, std::less<>> families_;
};

/// Formats a sample value the way Prometheus reads it: shortest round-trip decimal,
/// "+Inf", "-Inf", "NaN".
std::string format_metric_value(double v);
/// Escapes a label value: backslash, double quote and line feed.
std::string escape_label_value(std::string_view v);
/// Escapes a HELP text: backslash and line feed.
std::string escape_help(std::string_view v);

/// The metric set of `wfsync serve`. Callers use the named methods and never spell metric
/// names. Families:
///
/// | name                                       | type      | labels            |
/// |--------------------------------------------|-----------|-------------------|
/// | wfsync_up                                  | gauge     |                   |
/// | wfsync_rules                               | gauge     |                   |
/// | wfsync_runs_total                          | counter   | rule, outcome (ok, partial, failed, skipped_overlap) |
/// | wfsync_imports_total                       | counter   | rule, target      |
/// | wfsync_unchanged_total                     | counter   | rule              |
/// | wfsync_skips_total                         | counter   | rule              |
/// | wfsync_drift_total                         | counter   | rule              |
/// | wfsync_errors_total                        | counter   | rule, kind (errc name) |
/// | wfsync_http_requests_total                 | counter   | tenant, status ("0" = transport failure) |
/// | wfsync_http_retries_total                  | counter   | tenant            |
/// | wfsync_http_request_duration_seconds       | histogram | tenant            |
/// | wfsync_pending_async_jobs                  | gauge     |                   |
/// | wfsync_held_imports                        | gauge     |                   |
/// | wfsync_last_success_timestamp_seconds      | gauge     | rule              |
/// | wfsync_rule_seconds_since_success          | gauge     | rule (computed at scrape time) |
/// | wfsync_rule_schedule_interval_seconds      | gauge     | rule (scheduled rules) |
/// | wfsync_run_duration_seconds                | histogram | rule              |
/// | wfsync_build_info                          | gauge     | version, revision, build_type (value 1) |
/// | wfsync_config_reloads_total                | counter   | result (ok, failed) |
/// | wfsync_archive_prune_failures_total        | counter   | rule              |
/// | wfsync_items_by_listing_total              | counter   | rule              |
/// | wfsync_items_compared_in_full_total        | counter   | rule, why         |
/// | wfsync_notifications_total                 | counter   | target, event, outcome (sent, failed, retry, dropped) |
///
/// Thread safety: none (single io thread), like metrics_registry.
class daemon_metrics {
public:
    /// Latency buckets in seconds: 5 ms .. 30 s.
    static const std::vector<double>& http_buckets();
    /// Run duration buckets in seconds: 0.5 s .. 1 h.
    static const std::vector<double>& run_buckets();

    daemon_metrics();

    /// A finished run: runs_total{outcome} by the engine's rule (ok when no item failed,
    /// partial when something was imported or unchanged besides errors, else failed), then
    /// per item imports (import/create done, by target), unchanged (incl. adopt), skips,
    /// drift (drift action or a drifted target that was overwritten) and errors by kind;
    /// an ok run sets last_success to `finished`. `took` goes to the run duration histogram.
    void record_run(const sync::run_summary& s, std::chrono::system_clock::time_point finished,
                    std::chrono::duration<double> took);
    /// A run that could not happen at all (the engine returned an error): runs_total{failed},
    /// errors_total{kind} and its duration.
    void record_run_failure(const std::string& rule, const error& e, std::chrono::duration<double> took);
    /// A last success read from the state at start (store::last_successes), so that a
    /// restarted daemon reports it before its first run; an older time than the one known is
    /// ignored.
    void restore_last_success(const std::string& rule, std::chrono::system_clock::time_point at);
    /// Sets wfsync_rule_seconds_since_success of every rule with a known last success to its
    /// age at `now`; called before each scrape.
    void refresh_staleness(std::chrono::system_clock::time_point now);
    /// The gap between the rule's next two scheduled fires (staleness alerts compare against
    /// a multiple of it); nullopt for a rule without a schedule drops the series.
    void set_schedule_interval(const std::string& rule, std::optional<std::chrono::seconds> every);
    /// A scheduled fire skipped because the previous run of the rule was still going.
    void record_overlap_skip(const std::string& rule);
    /// One HTTP attempt to `tenant`: requests_total{status}, retries_total when
    /// attempt > 1, and the duration histogram.
    void record_attempt(const std::string& tenant, const net::attempt_record& a);
    /// A SIGHUP reload, accepted or refused.
    void record_reload(bool ok);
    void set_pending_jobs(std::int64_t n);
    /// Imports held for an operator (store::held_intents).
    void set_held_imports(std::int64_t n);
    /// Number of configured rules.
    void set_rules(std::int64_t n);
    /// One notification delivery outcome (see app::notifications::observer).
    void record_notification(const std::string& target, const std::string& event, std::string_view outcome);
    /// Drops the per-rule gauges of a rule that left the config (counters stay).
    void forget_rule(const std::string& rule);

    /// The outcome label of a run summary: "ok", "partial" or "failed".
    static std::string_view outcome_of(const sync::run_summary& s);

    const metrics_registry& registry() const noexcept { return reg_; }
    /// Prometheus text of every family.
    std::string render() const { return reg_.render(); }

private:
    void set_last_success(const std::string& rule, std::chrono::system_clock::time_point at);

    metrics_registry reg_;
    std::map<std::string, std::chrono::system_clock::time_point> last_success_;
};

}  // namespace wfsync::app
