// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <wfsync/core/duration.hpp>
#include <wfsync/core/error.hpp>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace wfsync::config {

/// Where a value came from, for error messages: "wfsync.yaml:14:7".
struct source_location {
    std::string file;
    int line = 0;    ///< 1-based; 0 = unknown
    int column = 0;  ///< 1-based
    std::string str() const;
};

/// One problem found in a config file.
struct config_issue {
    source_location where;
    std::string path;     ///< YAML path, e.g. "tenants.zuora-prod.auth.client_secret_env"
    std::string message;  ///< what is wrong
    /// "wfsync.yaml:14:7: tenants.zuora-prod.auth.client_secret_env: variable ZUORA_SECRET is not set"
    std::string str() const;
};

/// A secret named by the config: a variable (`*_env`), a file (`*_file`) or a `${VAR}` text.
/// Loading the config only checks the reference; the value is read when a tenant is
/// contacted (read, resolve), so commands that talk to no tenant need no secret. It has no
/// stream operator and no implicit conversion, so it cannot end up in a log line by
/// accident; every value read is also registered with log::add_secret so that it is masked
/// wherever it appears.
class secret {
public:
    enum class source { value, env, file, text };

    secret() = default;
    /// A value known already (tests, a config built in code).
    explicit secret(std::string value) : value_(std::move(value)) {}

    /// A reference read later. `key` is the YAML path ("tenants.a.auth.client_secret_file"),
    /// `where` its position, `dir` the config's directory (relative secret files).
    secret(source kind, std::string ref, std::string key, source_location where, std::string dir = {})
        : kind_(kind), ref_(std::move(ref)), key_(std::move(key)), where_(std::move(where)), dir_(std::move(dir))
    {
    }

    /// True if the config names no secret here.
    bool empty() const noexcept { return kind_ == source::value && value_.empty(); }
    /// The value given to the constructor or read by resolve(); empty before.
    const std::string& reveal() const noexcept { return value_; }
    /// Reads the value from its source now (every call: rotated credentials are picked up).
    /// errc::config "file:line:col: key: cannot read secret file '...': why", never a value.
    [[nodiscard]] result<std::string> read() const;
    /// Why read() fails now (the same text as its error, as an issue), or nullopt.
    std::optional<config_issue> problem() const;
    /// read() into this object, for reveal().
    [[nodiscard]] result<void> resolve();
    /// The YAML path of the key that names it; empty for a plain value.
    const std::string& key() const noexcept { return key_; }

private:
    std::optional<std::string> fetch(std::string& why) const;

    source kind_ = source::value;
    std::string ref_;    ///< variable name, file path (may hold ${VAR}) or ${VAR} text
    std::string key_;
    source_location where_;
    std::string dir_;
    std::string value_;
};

struct retry_settings {
    int max_attempts = 6;
    milliseconds initial_backoff{500};
    milliseconds max_backoff{60'000};
};

struct poll_settings {
    milliseconds interval{2000};
    milliseconds max_interval{30'000};
    milliseconds timeout{15 * 60'000};
};

/// Requests per second with a burst; parsed from "20/s", "600/m", "5/s".
struct rate_limit {
    double per_second = 20.0;
    int burst = 20;
};

/// Per-tenant network settings; `defaults` gives the values a tenant does not override.
struct network_settings {
    milliseconds timeout{30'000};   ///< one HTTP request (connect + write + read)
    retry_settings retry;
    int concurrency = 4;            ///< requests in flight per tenant
    rate_limit rate;
    poll_settings poll;
};

struct tls_settings {
    std::string ca_file;  ///< extra CA bundle (PEM); empty = the system's CAs
    bool verify = true;   ///< peer and host name verification; off only when the config says so
};

enum class platform { zuora, kore, secmaster };
std::string_view to_string(platform p) noexcept;

enum class auth_type { oauth2, bearer, api_key, iam_password };

struct auth_settings {
    auth_type type = auth_type::bearer;
    std::string client_id;  ///< oauth2 (not a secret; may come from ${ENV})
    secret client_secret;   ///< oauth2
    secret token;           ///< bearer, and static SecMaster tokens
    secret api_key;         ///< kore
    std::string token_url;  ///< oauth2; empty = base_url + "/oauth/token"
    // iam_password (SecMaster): user, domain and project are names, not secrets.
    std::string iam_url;
    std::string user;
    std::string domain;
    std::string project;
    secret password;
};

/// A Kore.ai workflow named in the config (the platform has no list API).
struct named_workflow {
    std::string id;
    std::string flow_id;
    std::string name;
};

/// Kore.ai API paths, relative to the base URL. The docs disagree on some of them
/// (api-reference.md section 2: `workflow` vs `workflows`), so each may be set per tenant.
/// `{id}` stands for the workflow id (export, import) or the dock status id (dock_status).
struct kore_paths {
    std::string export_path = "/api/public/workflows/{id}/export";
    std::string import_path = "/api/public/workflows/{id}/import";
    std::string import_new_path = "/api/public/workflows/import";
    std::string dock_status_path = "/api/public/dock-status/{id}";
    std::string files_path = "/api/public/files";
};

struct tenant {
    std::string name;
    platform kind = platform::zuora;
    std::string base_url;  ///< scheme://host[:port][/prefix], no trailing slash
    auth_settings auth;
    tls_settings tls;
    network_settings net;  ///< defaults merged with the tenant's overrides
    std::string entity_id; ///< zuora: Zuora-Entity-Ids header, optional
    std::vector<named_workflow> workflows;  ///< kore
    kore_paths kore;                        ///< kore: API paths (`kore:` key; defaults as documented)
    std::string project_id;                 ///< secmaster
    std::string workspace_id;               ///< secmaster
    /// HTTP proxy: nullopt = from the environment (HTTPS_PROXY, NO_PROXY, ...), "" = none
    /// (`proxy: none`), else a proxy URL (http://[user:password@]host:port).
    std::optional<std::string> proxy;
    source_location where;
};

/// `select.include` / `select.exclude` entries: a name glob (`Billing *`) or a numeric id.
struct selector {
    std::vector<std::string> include;  ///< empty = everything
    std::vector<std::string> exclude;
    /// True if a workflow with this id and name is selected.
    bool matches(std::string_view id, std::string_view name) const;
};

enum class version_choice { latest, active, all };
enum class version_policy { keep_source, bump };
enum class drift_policy { skip, overwrite, fail };

struct rule {
    std::string name;
    std::string source;                ///< tenant name
    std::vector<std::string> targets;  ///< tenant names, or "archive:NAME"
    selector select;
    version_choice version = version_choice::latest;
    version_policy policy = version_policy::keep_source;
    bool create_missing = false;
    bool activate = false;
    drift_policy on_drift = drift_policy::skip;
    std::string schedule;   ///< validated cron text or macro; empty = only by hand
    std::string timezone = "UTC";
    milliseconds jitter{0};
    source_location jitter_where;  ///< of the `jitter` value, for problems found against the schedule
    bool catch_up = false;
    /// How often each item's contents are compared in full even when the listings on both
    /// sides show no change (a change they cannot show: an edit in place). 0 = every run.
    milliseconds verify_every{std::chrono::hours(24)};
    /// Archive retention, restic-style: keep_last, keep_hourly, keep_daily, keep_weekly,
    /// keep_monthly, keep_yearly -> count. Empty = keep everything.
    std::map<std::string, int> retention;
    source_location where;
};

struct archive {
    std::string name;
    std::string path;
    /// keep_last, keep_hourly, ... (restic's forget); a rule's own retention wins. Empty = keep all.
    std::map<std::string, int> retention;
    source_location where;
};

struct state_settings {
    std::string path = "/var/lib/wfsync";  ///< directory holding state.db
};

struct log_settings {
    std::string level = "info";
    std::string format = "text";
};

struct admin_settings {
    std::string listen = "127.0.0.1:9470";
    std::string token_file;
    secret token;  ///< token_file as a secret reference (read by the admin server and `status`); empty = no token required
};

/// Where a secret is to be read from when it is needed, not at load time: a daemon that runs
/// for months picks up a rotated credential file, and a target that is never used never
/// needs its secret. The loader checks the reference's form; reading it may still fail later.
struct secret_ref {
    enum class from { none, env, file, text };
    from how = from::none;
    std::string name;  ///< env: the variable; file: the resolved path; text: the raw `${VAR}` text
    source_location where;
    bool empty() const noexcept { return how == from::none; }
};

/// Reads a secret now: the variable, the file (a regular file of at most 64 KiB, one trailing
/// newline dropped) or the text with its ${VAR}s substituted. The value is registered with
/// log::add_secret. Errors say which key at which place, never the value.
[[nodiscard]] result<secret> read_secret(const secret_ref& ref);

/// What a notification is about. `recovered` is sent to the targets that take `failure`.
enum class notify_event { failure, recovered, drift, unknown_outcome, promoted };
std::string_view to_string(notify_event e) noexcept;

enum class notify_type { webhook, slack };

/// A `notify:` target: where alerts about runs go.
struct notify_target {
    std::string name;
    notify_type type = notify_type::webhook;
    std::string url;        ///< a literal URL, not secret (may be shown)
    secret_ref url_secret;  ///< or a URL that is itself a secret (Slack's): url_env, url_file, url: ${VAR}
    secret_ref key;         ///< webhook: the HMAC-SHA256 key (secret_env, secret_file, secret: ${VAR})
    std::vector<notify_event> on;    ///< empty = every event
    std::vector<std::string> rules;  ///< empty = every rule
    network_settings net;            ///< timeout and retry of one delivery
    source_location where;

    bool wants(notify_event e, std::string_view rule) const;
    /// How the target is named in logs: its name, and the URL only when it is not a secret.
    std::string shown() const;
};

struct config {
    std::string file;  ///< the file it was loaded from
    state_settings state;
    log_settings log;
    admin_settings admin;
    network_settings defaults;
    std::map<std::string, tenant> tenants;
    std::map<std::string, archive> archives;
    std::vector<rule> rules;
    std::map<std::string, notify_target> notify;  ///< `notify:` targets by name

    const tenant* find_tenant(std::string_view name) const;
    const rule* find_rule(std::string_view name) const;
};

/// `t` with its auth secrets read now: a connector is built from this copy, so a secret is
/// read only for a tenant that is contacted, and read again for every new connector.
/// errc::config naming the tenant's key and the variable or file.
[[nodiscard]] result<tenant> with_secrets(const tenant& t);

/// Every secret of `cfg` (tenants' auth, admin.token_file) that cannot be read now, one issue
/// each, naming the key and the variable or file, never a value.
std::vector<config_issue> unreadable_secrets(const config& cfg);

/// Either a valid config or every problem found, each with file:line:column.
using load_result = std::variant<std::shared_ptr<const config>, std::vector<config_issue>>;

/// Reads, parses and validates a config file. Environment lookups go through `getenv`.
load_result load_file(const std::string& path);

/// As load_file, on text already in memory; `file` names it in messages.
load_result load_string(std::string_view text, const std::string& file);

}  // namespace wfsync::config
