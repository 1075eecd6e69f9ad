// SPDX-License-Identifier: Apache-2.0
#include <wfsync/app/metrics.hpp>

#include <wfsync/core/build_info.hpp>
#include <wfsync/core/error.hpp>
#include <wfsync/net/http_client.hpp>
#include <wfsync/sync/engine.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cassert>
#include <cmath>

namespace wfsync::app {

std::string format_metric_value(double v)
{
    if (std::isnan(v)) return "NaN";
    if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
    return fmt::format("{}", v);  // shortest form that reads back to the same double
}

std::string escape_label_value(std::string_view v)
{
    std::string out;
    out.reserve(v.size());
    for (char c : v) {
        switch (c) {
        case '\\': out += "\\\\"; break;
        case '"': out += "\\\""; break;
        case '\n': out += "\\n"; break;
        default: out += c;
        }
    }
    return out;
}

std::string escape_help(std::string_view v)
{
    std::string out;
    out.reserve(v.size());
    for (char c : v) {
        switch (c) {
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        default: out += c;
        }
    }
    return out;
}

// -- metrics_registry ------------------------------------------------------------------------

void metrics_registry::declare(std::string name, kind k, std::string help, std::vector<std::string> label_names,
                               std::vector<double> buckets)
{
    if (families_.contains(name)) return;
    family f;
    f.type = k;
    f.help = std::move(help);
    f.label_names = std::move(label_names);
    if (k == kind::histogram) {
        std::sort(buckets.begin(), buckets.end());
        buckets.erase(std::unique(buckets.begin(), buckets.end()), buckets.end());
        // +Inf is implicit; an explicit one would render twice.
        while (!buckets.empty() && std::isinf(buckets.back())) buckets.pop_back();
        f.buckets = std::move(buckets);
    }
    families_.emplace(std::move(name), std::move(f));
}

metrics_registry::family* metrics_registry::find(std::string_view name, kind k, const labels& values)
{
    auto it = families_.find(name);
    bool ok = it != families_.end() && it->second.type == k && it->second.label_names.size() == values.size();
    assert(ok && "metric not declared, or wrong kind or label count");
    return ok ? &it->second : nullptr;
}

const metrics_registry::family* metrics_registry::find(std::string_view name) const
{
    auto it = families_.find(name);
    return it == families_.end() ? nullptr : &it->second;
}

void metrics_registry::add(std::string_view name, const labels& values, double v)
{
    auto it = families_.find(name);
    kind k = it != families_.end() && it->second.type == kind::gauge ? kind::gauge : kind::counter;
    auto* f = find(name, k, values);
    if (!f) return;
    if (k == kind::counter && !(v >= 0)) return;  // counters only go up (NaN refused too)
    f->data[values].value += v;
}

void metrics_registry::set(std::string_view name, const labels& values, double v)
{
    if (auto* f = find(name, kind::gauge, values)) f->data[values].value = v;
}

void metrics_registry::observe(std::string_view name, const labels& values, double v)
{
    auto* f = find(name, kind::histogram, values);
    if (!f || std::isnan(v)) return;
    auto& s = f->data[values];
    if (s.counts.empty()) s.counts.assign(f->buckets.size() + 1, 0);
    // `le` is inclusive: the first bound >= v.
    auto i = std::lower_bound(f->buckets.begin(), f->buckets.end(), v) - f->buckets.begin();
    ++s.counts[static_cast<std::size_t>(i)];
    s.sum += v;
    ++s.count;
}

void metrics_registry::remove(std::string_view name, const labels& values)
{
    auto it = families_.find(name);
    if (it != families_.end()) it->second.data.erase(values);
}

void metrics_registry::remove_matching(std::string_view name, std::string_view label_name, std::string_view value)
{
    auto it = families_.find(name);
    if (it == families_.end()) return;
    auto& f = it->second;
    auto pos = std::find(f.label_names.begin(), f.label_names.end(), label_name);
    if (pos == f.label_names.end()) return;
    auto idx = static_cast<std::size_t>(pos - f.label_names.begin());
    std::erase_if(f.data, [&](const auto& kv) { return kv.first[idx] == value; });
}

double metrics_registry::value(std::string_view name, const labels& values) const
{
    auto* f = find(name);
    if (!f) return 0;
    auto s = f->data.find(values);
    if (s == f->data.end()) return 0;
    return f->type == kind::histogram ? static_cast<double>(s->second.count) : s->second.value;
}

double metrics_registry::sum(std::string_view name, const labels& values) const
{
    auto* f = find(name);
    if (!f) return 0;
    auto s = f->data.find(values);
    return s == f->data.end() ? 0 : s->second.sum;
}

namespace {

std::string_view type_name(metrics_registry::kind k)
{
    switch (k) {
    case metrics_registry::kind::counter: return "counter";
    case metrics_registry::kind::gauge: return "gauge";
    case metrics_registry::kind::histogram: return "histogram";
    }
    return "untyped";
}

/// `{a="x",b="y"}` with an optional extra label (histogram `le`); "" when there is none.
std::string label_text(const std::vector<std::string>& names, const std::vector<std::string>& values,
                       std::string_view extra_name = {}, std::string_view extra_value = {})
{
    if (names.empty() && extra_name.empty()) return {};
    std::string out = "{";
    for (std::size_t i = 0; i < names.size(); ++i) {
        if (i) out += ',';
        out += names[i];
        out += "=\"";
        out += escape_label_value(values[i]);
        out += '"';
    }
    if (!extra_name.empty()) {
        if (!names.empty()) out += ',';
        out += extra_name;
        out += "=\"";
        out += escape_label_value(extra_value);
        out += '"';
    }
    out += '}';
    return out;
}

}  // namespace

std::string metrics_registry::render() const
{
    std::string out;
    for (const auto& [name, f] : families_) {
        out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, escape_help(f.help), name, type_name(f.type));
        for (const auto& [values, s] : f.data) {
            if (f.type != kind::histogram) {
                out += fmt::format("{}{} {}\n", name, label_text(f.label_names, values), format_metric_value(s.value));
                continue;
            }
            std::uint64_t cumulative = 0;
            for (std::size_t i = 0; i <= f.buckets.size(); ++i) {
                cumulative += i < s.counts.size() ? s.counts[i] : 0;
                auto le = i < f.buckets.size() ? format_metric_value(f.buckets[i]) : std::string("+Inf");
                out += fmt::format("{}_bucket{} {}\n", name, label_text(f.label_names, values, "le", le), cumulative);
            }
            auto labels = label_text(f.label_names, values);
            out += fmt::format("{}_sum{} {}\n", name, labels, format_metric_value(s.sum));
            out += fmt::format("{}_count{} {}\n", name, labels, s.count);
        }
    }
    return out;
}

// -- daemon_metrics --------------------------------------------------------------------------

namespace {
constexpr std::string_view m_up = "wfsync_up";
constexpr std::string_view m_rules = "wfsync_rules";
constexpr std::string_view m_runs = "wfsync_runs_total";
constexpr std::string_view m_imports = "wfsync_imports_total";
constexpr std::string_view m_unchanged = "wfsync_unchanged_total";
constexpr std::string_view m_skips = "wfsync_skips_total";
constexpr std::string_view m_drift = "wfsync_drift_total";
constexpr std::string_view m_errors = "wfsync_errors_total";
constexpr std::string_view m_http_requests = "wfsync_http_requests_total";
constexpr std::string_view m_http_retries = "wfsync_http_retries_total";
constexpr std::string_view m_http_duration = "wfsync_http_request_duration_seconds";
constexpr std::string_view m_pending = "wfsync_pending_async_jobs";
constexpr std::string_view m_held = "wfsync_held_imports";
constexpr std::string_view m_last_success = "wfsync_last_success_timestamp_seconds";
constexpr std::string_view m_since_success = "wfsync_rule_seconds_since_success";
constexpr std::string_view m_interval = "wfsync_rule_schedule_interval_seconds";
constexpr std::string_view m_run_duration = "wfsync_run_duration_seconds";
constexpr std::string_view m_build_info = "wfsync_build_info";
constexpr std::string_view m_reloads = "wfsync_config_reloads_total";
constexpr std::string_view m_prune_failures = "wfsync_archive_prune_failures_total";
constexpr std::string_view m_by_listing = "wfsync_items_by_listing_total";
constexpr std::string_view m_in_full = "wfsync_items_compared_in_full_total";
}  // namespace

const std::vector<double>& daemon_metrics::http_buckets()
{
    static const std::vector<double> b{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
    return b;
}

const std::vector<double>& daemon_metrics::run_buckets()
{
    // A run that finds nothing changed takes about a second; a first copy of a large tenant
    // with asynchronous exports can take most of an hour.
    static const std::vector<double> b{0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600};
    return b;
}

daemon_metrics::daemon_metrics()
{
    using k = metrics_registry::kind;
    reg_.declare(std::string(m_up), k::gauge, "1 while wfsync serve is running.");
    reg_.declare(std::string(m_rules), k::gauge, "Rules in the current configuration.");
    reg_.declare(std::string(m_runs), k::counter, "Rule runs by outcome (ok, partial, failed, skipped_overlap).",
                 {"rule", "outcome"});
    reg_.declare(std::string(m_imports), k::counter, "Workflow versions imported into a target.", {"rule", "target"});
    reg_.declare(std::string(m_unchanged), k::counter, "Items whose target already held the content.", {"rule"});
    reg_.declare(std::string(m_skips), k::counter, "Items skipped (nothing to export).", {"rule"});
    reg_.declare(std::string(m_drift), k::counter, "Targets found changed outside wfsync.", {"rule"});
    reg_.declare(std::string(m_errors), k::counter, "Failed items and failed runs by error kind.", {"rule", "kind"});
    reg_.declare(std::string(m_http_requests), k::counter,
                 "HTTP attempts by tenant and status (0 = transport failure).", {"tenant", "status"});
    reg_.declare(std::string(m_http_retries), k::counter, "HTTP attempts that were retries.", {"tenant"});
    reg_.declare(std::string(m_http_duration), k::histogram, "Duration of one HTTP attempt.", {"tenant"},
                 http_buckets());
    reg_.declare(std::string(m_pending), k::gauge, "Asynchronous platform jobs (imports, exports) being polled.");
    reg_.declare(std::string(m_held), k::gauge,
                 "Imports whose outcome no read can tell, held until an operator runs wfsync resolve.");
    reg_.declare(std::string(m_last_success), k::gauge, "Unix time of the rule's last run without errors.",
                 {"rule"});
    reg_.declare(std::string(m_reloads), k::counter, "Configuration reloads by result (ok, failed).", {"result"});
    reg_.declare(std::string(m_prune_failures), k::counter,
                 "Archive retention runs that failed after a backup (alert on any increase).", {"rule"});
    reg_.declare(std::string(m_by_listing), k::counter,
                 "Items the listings proved unchanged since their last full comparison (not exported).", {"rule"});
    reg_.declare(std::string(m_in_full), k::counter,
                 "Items whose contents were compared in full, by why (the listings changed, verify_every, ...).",
                 {"rule", "why"});
    reg_.declare(std::string(m_since_success), k::gauge,
                 "Seconds from the rule's last run without errors to this scrape (alert when it grows past a few "
                 "schedule periods).",
                 {"rule"});
    reg_.declare(std::string(m_interval), k::gauge,
                 "Seconds between the rule's next two scheduled fires (absent for rules run by hand).", {"rule"});
    reg_.declare(std::string(m_run_duration), k::histogram, "Duration of a rule run, whatever its outcome.",
                 {"rule"}, run_buckets());
    reg_.declare(std::string(m_build_info), k::gauge,
                 "Always 1; the labels say what this binary was built from (git revision at configure time).",
                 {"version", "revision", "build_type"});
    reg_.set(m_build_info,
             {std::string(build_info::version()), std::string(build_info::revision()),
              std::string(build_info::build_type())},
             1);
    reg_.set(m_up, {}, 1);
    reg_.set(m_rules, {}, 0);
    reg_.set(m_pending, {}, 0);
    reg_.set(m_held, {}, 0);
}

std::string_view daemon_metrics::outcome_of(const sync::run_summary& s)
{
    // The same rule the engine records in the runs table.
    if (s.errors == 0) return "ok";
    return s.imported + s.unchanged > 0 ? "partial" : "failed";
}

void daemon_metrics::record_run(const sync::run_summary& s, std::chrono::system_clock::time_point finished,
                                std::chrono::duration<double> took)
{
    auto outcome = outcome_of(s);
    reg_.add(m_runs, {s.rule, std::string(outcome)});
    reg_.observe(m_run_duration, {s.rule}, took.count());
    for (const auto& it : s.items) {
        switch (it.what) {
        case sync::action::import:
        case sync::action::create:
            if (it.done) reg_.add(m_imports, {s.rule, it.target_tenant});
            break;
        case sync::action::unchanged:
        case sync::action::adopt: reg_.add(m_unchanged, {s.rule}); break;
        case sync::action::drift: reg_.add(m_drift, {s.rule}); break;
        case sync::action::skip: reg_.add(m_skips, {s.rule}); break;
        case sync::action::error: reg_.add(m_errors, {s.rule, std::string(to_string(it.error_kind))}); break;
        case sync::action::held: reg_.add(m_errors, {s.rule, "held"}); break;
        }
        if (it.drifted && it.what != sync::action::drift) reg_.add(m_drift, {s.rule});
    }
    if (s.by_listing > 0) reg_.add(m_by_listing, {s.rule}, s.by_listing);
    for (const auto& [why, n] : s.compared_in_full) {
        // verify_every's reason names a time: one series for all of them.
        auto kind = why.rfind("verify_every: last", 0) == 0 ? std::string("verify_every") : why;
        reg_.add(m_in_full, {s.rule, kind}, n);
    }
    if (!s.prune_errors.empty()) {
        reg_.add(m_prune_failures, {s.rule});
        reg_.add(m_errors, {s.rule, "prune"}, static_cast<double>(s.prune_errors.size()));
    }
    if (outcome == "ok") set_last_success(s.rule, finished);
}

void daemon_metrics::restore_last_success(const std::string& rule, std::chrono::system_clock::time_point at)
{
    auto known = last_success_.find(rule);
    if (known == last_success_.end() || known->second < at) set_last_success(rule, at);
}

void daemon_metrics::set_last_success(const std::string& rule, std::chrono::system_clock::time_point at)
{
    last_success_[rule] = at;
    auto secs = std::chrono::duration<double>(at.time_since_epoch()).count();
    reg_.set(m_last_success, {rule}, std::floor(secs * 1000) / 1000);
}

void daemon_metrics::refresh_staleness(std::chrono::system_clock::time_point now)
{
    for (const auto& [rule, at] : last_success_)
        reg_.set(m_since_success, {rule}, std::max(0.0, std::chrono::duration<double>(now - at).count()));
}

void daemon_metrics::set_schedule_interval(const std::string& rule, std::optional<std::chrono::seconds> every)
{
    if (every) reg_.set(m_interval, {rule}, static_cast<double>(every->count()));
    else reg_.remove(m_interval, {rule});
}

void daemon_metrics::record_run_failure(const std::string& rule, const error& e, std::chrono::duration<double> took)
{
    reg_.add(m_runs, {rule, "failed"});
    reg_.observe(m_run_duration, {rule}, took.count());
    reg_.add(m_errors, {rule, std::string(to_string(e.code))});
}

void daemon_metrics::record_overlap_skip(const std::string& rule)
{
    reg_.add(m_runs, {rule, "skipped_overlap"});
}

void daemon_metrics::record_attempt(const std::string& tenant, const net::attempt_record& a)
{
    reg_.add(m_http_requests, {tenant, std::to_string(a.status)});
    if (a.attempt > 1) reg_.add(m_http_retries, {tenant});
    reg_.observe(m_http_duration, {tenant}, std::chrono::duration<double>(a.elapsed).count());
}

void daemon_metrics::record_reload(bool ok)
{
    reg_.add(m_reloads, {ok ? "ok" : "failed"});
}

void daemon_metrics::set_pending_jobs(std::int64_t n)
{
    reg_.set(m_pending, {}, static_cast<double>(n));
}

void daemon_metrics::set_held_imports(std::int64_t n)
{
    reg_.set(m_held, {}, static_cast<double>(n));
}

void daemon_metrics::set_rules(std::int64_t n)
{
    reg_.set(m_rules, {}, static_cast<double>(n));
}

void daemon_metrics::forget_rule(const std::string& rule)
{
    reg_.remove_matching(m_last_success, "rule", rule);
    reg_.remove_matching(m_since_success, "rule", rule);
    reg_.remove_matching(m_interval, "rule", rule);
    last_success_.erase(rule);
}

// Notifications: declared on first use, so a daemon without `notify:` shows no such family.
void daemon_metrics::record_notification(const std::string& target, const std::string& event, std::string_view outcome)
{
    constexpr std::string_view name = "wfsync_notifications_total";
    reg_.declare(std::string(name), metrics_registry::kind::counter,
                 "Notifications by target, event and outcome (sent; failed: retried by a later run; retry: one more "
                 "HTTP attempt within a delivery; dropped: undelivered for a day).",
                 {"target", "event", "outcome"});
    reg_.add(name, {target, event, std::string(outcome)});
}

}  // namespace wfsync::app
