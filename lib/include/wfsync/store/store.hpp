// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <wfsync/core/error.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace wfsync::store {

using row_id = std::int64_t;
/// Seconds since the Unix epoch, UTC.
using unix_time = std::int64_t;

/// A workflow as seen in a tenant.
struct workflow_row {
    row_id id = 0;
    std::string tenant;
    std::string remote_id;  ///< the platform's id of the definition
    std::string name;
};

/// One exported version of a workflow: content hash over the normalized package, and the
/// raw package (stored zlib-compressed; returned inflated).
struct version_row {
    row_id id = 0;
    row_id workflow = 0;
    std::string version;       ///< the platform's version label, e.g. "0.0.3"
    std::string content_hash;  ///< sha256 hex of the normalized package
    std::string format;        ///< package format, e.g. "zuora-json"
    std::int64_t size = 0;     ///< raw package size in bytes
    unix_time seen_at = 0;
};

/// Which target definition a source workflow is replicated into.
struct workflow_mapping {
    std::string source_tenant;
    std::string source_workflow;  ///< remote id
    std::string target_tenant;
    std::string target_workflow;  ///< remote id
    std::string target_name;
};

/// A version wfsync put into a target (or found already there with the same content).
struct version_mapping {
    std::string source_tenant;
    std::string source_workflow;
    std::string source_version;
    std::string content_hash;
    std::string target_tenant;
    std::string target_workflow;
    std::string target_version;
    unix_time at = 0;
    /// The target's fingerprint of that version as read back after the import (the same as
    /// content_hash where the platform stores what it was sent); empty when not known (a
    /// mapping made before read-backs, or a read-back that failed).
    std::string target_hash;
};

/// What the listings showed of one source workflow and its target when wfsync last compared
/// their contents in full and found the target holding the source's content. A later run whose
/// listings show the same marks need not export either side.
struct listing_mark {
    std::string rule;
    std::string source_tenant;
    std::string source_workflow;
    std::string target_tenant;    ///< a tenant, or "archive:NAME"
    std::string source_mark;      ///< see connector::workflow_summary::change_mark
    std::string target_workflow;  ///< empty for an archive
    std::string target_mark;      ///< empty for an archive
    std::string content_hash;     ///< the source content the target was found holding
    unix_time verified_at = 0;    ///< when the contents were last compared in full
};

enum class intent_state { pending, succeeded, failed, unknown };
std::string_view to_string(intent_state s) noexcept;

/// A write-ahead import intent, committed before the first request is sent.
struct import_intent {
    row_id id = 0;
    std::string rule;
    std::string run_uid;
    std::string source_tenant;
    std::string source_workflow;
    std::string source_version;
    std::string content_hash;
    std::string target_tenant;
    std::string target_workflow;  ///< empty when the import creates the definition
    std::string target_version;
    int generation = 0;           ///< rises after a definitive failure
    std::string idempotency_key;
    intent_state state = intent_state::pending;
    std::string detail;           ///< outcome text (never secrets)
    unix_time created_at = 0;
    unix_time updated_at = 0;
    /// The target workflow's version labels when the intent was made, one per line: an
    /// import whose answer was lost is looked for among the versions that appeared since.
    std::string target_before;
    /// Not empty: no read can tell whether this import happened, and it is not sent again
    /// until an operator says (`wfsync resolve`). The text says what to check.
    std::string hold;
};

struct run_row {
    row_id id = 0;
    std::string uid;      ///< run id shown to people and sent as Zuora-Track-Id
    std::string rule;     ///< empty for runs over several rules
    std::string command;  ///< "sync", "plan", "serve"
    unix_time started_at = 0;
    unix_time finished_at = 0;  ///< 0 while running (or killed)
    std::string outcome;        ///< "ok", "partial", "failed", "" while running
    int imported = 0;
    int unchanged = 0;
    int drift = 0;
    int errors = 0;
};

/// One thing that happened in a run.
struct event_row {
    row_id id = 0;
    row_id run = 0;
    std::string run_uid;
    unix_time at = 0;
    std::string rule;
    std::string kind;  ///< export, import, create, unchanged, drift, skip, error, adopt
    std::string source_tenant;
    std::string source_workflow;
    std::string workflow_name;
    std::string target_tenant;
    std::string target_workflow;
    std::string version;
    std::string content_hash;
    std::string message;
    std::int64_t duration_ms = 0;
};

/// When a rule last ran without errors.
struct rule_success {
    std::string rule;
    unix_time finished_at = 0;
};

struct history_filter {
    std::string rule;      ///< empty = all
    std::string workflow;  ///< matches source_workflow or workflow_name; empty = all
    int limit = 200;       ///< newest events first
};

enum class job_state { running, succeeded, failed, unknown };
std::string_view to_string(job_state s) noexcept;

/// An asynchronous export or import job started on a platform (Kore.ai), recorded before it
/// is polled so that a restart can resume polling instead of starting the job again.
struct async_job {
    row_id id = 0;
    std::string tenant;
    std::string kind;      ///< "export" or "import"
    std::string job_id;    ///< the platform's job id; unique per tenant
    std::string workflow;  ///< remote id of the workflow the job concerns
    std::string version;
    row_id intent = 0;     ///< the import intent it carries out; 0 = none
    job_state state = job_state::running;
    std::string detail;    ///< outcome text (never secrets)
    unix_time created_at = 0;
    unix_time updated_at = 0;
    /// What the connector needs to pick the job up after a restart (a download URL). It may
    /// be short-lived and credential-like, so it is never shown in history or status.
    std::string resume;
};

/// One archived version in the catalogue of a local archive (see wfsync/archive/archive.hpp).
/// Several entries (version labels of the same content) may share one file.
struct archive_entry_row {
    row_id id = 0;
    std::string archive;        ///< the archive's name in the config
    std::string tenant;
    std::string workflow_id;    ///< the platform's id of the definition
    std::string workflow_name;
    std::string version;        ///< the platform's version label
    std::string content_hash;   ///< sha256 hex of the normalized package
    std::string format;         ///< package format, e.g. "zuora-json"
    std::string path;           ///< the file, relative to the archive root, '/'-separated
    std::string file_sha256;    ///< sha256 hex of the file's bytes on disk
    std::int64_t size = 0;      ///< the file's size in bytes
    unix_time stored_at = 0;
};

/// A file of an archive, referenced by one or more archive entries.
struct archive_file_row {
    std::string archive;
    std::string path;         ///< relative to the archive root
    std::string file_sha256;
    std::int64_t size = 0;
    unix_time created_at = 0;
};

enum class notification_state { pending, sent, dropped };
std::string_view to_string(notification_state s) noexcept;

/// A notification for one `notify:` target, queued before it is sent. (target, event_key) is
/// unique: the key says what the event is about (a version promoted into a target, a rule's
/// failure that began in a run, an intent held), so it is queued once however often it is seen.
struct notification_row {
    row_id id = 0;
    std::string target;     ///< the notify target's name
    std::string event_key;
    std::string event;      ///< failure, recovered, drift, unknown_outcome, promoted
    std::string rule;
    std::string delivery;   ///< unique id, the same on every attempt (X-Wfsync-Delivery)
    std::string payload;    ///< the event as JSON; emptied once sent
    notification_state state = notification_state::pending;
    int attempts = 0;       ///< HTTP attempts so far
    std::string last_error; ///< of the last failed delivery (never secrets)
    unix_time created_at = 0;
    unix_time updated_at = 0;
};

/// Whether a rule's last run failed, and since which run (for notifications).
struct rule_health {
    std::string rule;
    bool failing = false;
    std::string since_run;  ///< the run that started the current state
    unix_time updated_at = 0;
};

/// The daemon's persistent state. Every method is one short transaction; nothing is cached
/// outside the database, so a kill -9 at any point leaves a consistent state behind.
/// Thread safety: one instance per thread (one SQLite or PostgreSQL connection, no mutex).
/// Several instances (threads or processes) may open the same state; writers wait up to
/// busy_timeout (SQLite) or lock_timeout (PostgreSQL), 5 s.
class store {
public:
    virtual ~store() = default;

    /// Inserts or updates (name) the workflow; returns its row.
    [[nodiscard]] virtual result<workflow_row> upsert_workflow(const std::string& tenant,
                                                               const std::string& remote_id,
                                                               const std::string& name) = 0;
    [[nodiscard]] virtual result<std::optional<workflow_row>> find_workflow(
        const std::string& tenant, const std::string& remote_id) = 0;
    /// Every workflow recorded for `tenant`, by name then id.
    [[nodiscard]] virtual result<std::vector<workflow_row>> list_workflows(const std::string& tenant) = 0;

    /// Stores a version unless (workflow, version, content_hash) is already there.
    [[nodiscard]] virtual result<version_row> put_version(row_id workflow, const std::string& version,
                                                          const std::string& content_hash,
                                                          const std::string& format,
                                                          const std::string& package) = 0;
    [[nodiscard]] virtual result<std::vector<version_row>> list_versions(row_id workflow) = 0;
    /// The raw package of a stored version, inflated.
    [[nodiscard]] virtual result<std::string> load_package(row_id version) = 0;

    [[nodiscard]] virtual result<std::optional<workflow_mapping>> find_mapping(
        const std::string& source_tenant, const std::string& source_workflow,
        const std::string& target_tenant) = 0;
    [[nodiscard]] virtual result<void> put_mapping(const workflow_mapping& m) = 0;

    [[nodiscard]] virtual result<void> add_version_mapping(const version_mapping& m) = 0;
    /// True if wfsync ever put (or found) this content in that target workflow.
    [[nodiscard]] virtual result<bool> has_version_mapping(const std::string& target_tenant,
                                                           const std::string& target_workflow,
                                                           const std::string& content_hash) = 0;
    /// The newest mapping of this content into that target workflow.
    [[nodiscard]] virtual result<std::optional<version_mapping>> find_version_mapping(
        const std::string& target_tenant, const std::string& target_workflow,
        const std::string& content_hash) = 0;
    /// True if some mapping into that target workflow recorded this target fingerprint.
    [[nodiscard]] virtual result<bool> has_target_hash(const std::string& target_tenant,
                                                       const std::string& target_workflow,
                                                       const std::string& target_hash) = 0;
    /// Sets the target fingerprint of the newest mapping of (target workflow, content,
    /// target version): a read-back that came late. errc::not_found when there is none.
    [[nodiscard]] virtual result<void> set_target_hash(const std::string& target_tenant,
                                                       const std::string& target_workflow,
                                                       const std::string& content_hash,
                                                       const std::string& target_version,
                                                       const std::string& target_hash) = 0;
    /// The newest version mapping into a target workflow (what wfsync last put there).
    [[nodiscard]] virtual result<std::optional<version_mapping>> last_version_mapping(
        const std::string& target_tenant, const std::string& target_workflow) = 0;

    /// The listing marks of a rule's items.
    [[nodiscard]] virtual result<std::vector<listing_mark>> listing_marks(const std::string& rule) = 0;
    /// Records (replaces) the mark of (rule, source tenant, source workflow, target tenant).
    [[nodiscard]] virtual result<void> put_listing_mark(const listing_mark& m) = 0;
    /// Forgets the mark of one item, so that its next run compares contents in full.
    [[nodiscard]] virtual result<void> forget_listing_mark(const std::string& rule, const std::string& source_tenant,
                                                           const std::string& source_workflow,
                                                           const std::string& target_tenant) = 0;

    /// Inserts a pending intent; `key` must be unique. Returns it with its id.
    [[nodiscard]] virtual result<import_intent> create_intent(const import_intent& i) = 0;
    /// The newest intent for this (rule, source workflow, target tenant, content hash), any state.
    [[nodiscard]] virtual result<std::optional<import_intent>> find_intent(
        const std::string& rule, const std::string& source_tenant,
        const std::string& source_workflow, const std::string& target_tenant,
        const std::string& content_hash) = 0;
    /// Intents still pending or unknown (left by a crash or a lost response).
    [[nodiscard]] virtual result<std::vector<import_intent>> open_intents() = 0;
    /// Sets the state; any hold is lifted unless the state stays pending or unknown.
    [[nodiscard]] virtual result<void> set_intent_state(row_id intent, intent_state s,
                                                        const std::string& detail,
                                                        const std::string& target_workflow = {}) = 0;
    /// Holds an intent for an operator (state unknown, `hold` says what to check).
    [[nodiscard]] virtual result<void> hold_intent(row_id intent, const std::string& hold) = 0;
    /// One intent by id.
    [[nodiscard]] virtual result<std::optional<import_intent>> get_intent(row_id intent) = 0;
    /// Intents held for an operator, oldest first.
    [[nodiscard]] virtual result<std::vector<import_intent>> held_intents() = 0;

    [[nodiscard]] virtual result<run_row> begin_run(const std::string& uid, const std::string& rule,
                                                    const std::string& command) = 0;
    [[nodiscard]] virtual result<void> finish_run(const run_row& r) = 0;
    [[nodiscard]] virtual result<void> add_event(const event_row& e) = 0;
    [[nodiscard]] virtual result<std::vector<run_row>> list_runs(const history_filter& f) = 0;
    [[nodiscard]] virtual result<std::vector<event_row>> list_events(const history_filter& f) = 0;
    /// The newest finished run with outcome "ok" of each rule, by any command, sorted by rule:
    /// what a restarted daemon reports as each rule's last success.
    [[nodiscard]] virtual result<std::vector<rule_success>> last_successes() = 0;

    /// Records a started async job (state as given, normally running). `job.intent`, when
    /// not 0, must name an existing intent. (tenant, job_id) is unique: errc::conflict.
    [[nodiscard]] virtual result<async_job> add_job(const async_job& job) = 0;
    /// Jobs still running or unknown, oldest first; all tenants when `tenant` is empty.
    [[nodiscard]] virtual result<std::vector<async_job>> open_jobs(const std::string& tenant = {}) = 0;
    [[nodiscard]] virtual result<void> set_job_state(row_id job, job_state s,
                                                     const std::string& detail = {}) = 0;

    /// Adds an archive entry; its file row (archive, path) is created when missing, and when
    /// present must have the same file_sha256 and size (errc::conflict otherwise). An entry
    /// with the same (archive, tenant, workflow_id, version, content_hash) already there is
    /// returned as it is. `stored_at` 0 means now. Returns the entry with its id.
    [[nodiscard]] virtual result<archive_entry_row> add_archive_entry(const archive_entry_row& e) = 0;
    /// Entries of an archive, oldest first (stored_at, then id); `tenant` filters when not
    /// empty, `workflow` matches the workflow id or name when not empty.
    [[nodiscard]] virtual result<std::vector<archive_entry_row>> list_archive_entries(
        const std::string& archive, const std::string& tenant = {}, const std::string& workflow = {}) = 0;
    /// Removes an entry (errc::store "no such archive entry" if absent). When no other entry uses its
    /// file any more, the file row goes too, in the same transaction, and its path is returned:
    /// the caller deletes the file afterwards (a crash in between leaves an unknown file, never
    /// a catalogued file that is missing).
    [[nodiscard]] virtual result<std::optional<std::string>> remove_archive_entry(row_id entry) = 0;
    /// The newest entry of that workflow with that content, any version label.
    [[nodiscard]] virtual result<std::optional<archive_entry_row>> find_archive_entry_by_hash(
        const std::string& archive, const std::string& tenant, const std::string& workflow_id,
        const std::string& content_hash) = 0;
    /// Every file row of an archive, in path order.
    [[nodiscard]] virtual result<std::vector<archive_file_row>> list_archive_files(
        const std::string& archive) = 0;
    [[nodiscard]] virtual result<std::optional<archive_file_row>> find_archive_file(
        const std::string& archive, const std::string& path) = 0;

    /// Queues a notification unless (target, event_key) was queued before, in any state: true
    /// when it is queued now. `created_at` 0 means now.
    [[nodiscard]] virtual result<bool> queue_notification(const notification_row& n) = 0;
    /// Notifications not delivered yet, oldest first.
    [[nodiscard]] virtual result<std::vector<notification_row>> pending_notifications() = 0;
    /// One notification by target and event key, any state.
    [[nodiscard]] virtual result<std::optional<notification_row>> find_notification(
        const std::string& target, const std::string& event_key) = 0;
    /// After a delivery: its new state, `attempts` more HTTP attempts, and the error of a failed
    /// one. A sent notification's payload is dropped (the row stays: it is what de-duplicates).
    [[nodiscard]] virtual result<void> set_notification_state(row_id id, notification_state s, int attempts,
                                                              const std::string& error) = 0;
    [[nodiscard]] virtual result<std::optional<rule_health>> get_rule_health(const std::string& rule) = 0;
    [[nodiscard]] virtual result<void> put_rule_health(const rule_health& h) = 0;

    /// Group commit. Between begin_batching and end_batching, writes are grouped: the first
    /// opens a transaction that stays open until commit_batch (or the last end_batching), so
    /// that many writes cost one fsync. Reads see the batch's writes. A caller that needs a
    /// write durable before it acts (an intent before its import is sent) calls commit_batch.
    /// A batch lost to a crash loses only writes whose loss the engine recovers from.
    /// Calls nest; the last end_batching commits.
    virtual void begin_batching() = 0;
    [[nodiscard]] virtual result<void> end_batching() = 0;
    /// Commits the writes grouped so far; nothing to do when there are none.
    [[nodiscard]] virtual result<void> commit_batch() = 0;
    /// Writes made in the open batch, not yet committed.
    virtual std::size_t batched_writes() const = 0;

    /// The schema version after migrations (SQLite: PRAGMA user_version; PostgreSQL: the
    /// highest version in wfsync_schema_migrations); -1 when it cannot be read.
    virtual int schema_version() = 0;
};

/// Opens (creating with mode 0600 in a 0700 directory if needed) the SQLite file at `path`,
/// checks it (quick_check, and integrity_check of every table but the history), sets WAL,
/// foreign_keys and busy_timeout, and runs pending migrations. Errors: errc::store for a
/// damaged file (naming it and how to restore a backup; the file is not changed), errc::io for
/// a FIFO, directory or symbolic link in place of the file or its -wal/-shm, or a read-only file
/// system, errc::permission when the OS refuses access, errc::busy when another connection
/// holds the database past busy_timeout.
[[nodiscard]] result<std::unique_ptr<store>> open_sqlite(const std::string& path);

/// Connects to PostgreSQL at `url` (a libpq URL or key=value string; sslmode, sslrootcert and
/// the rest pass through to libpq), with the password read from `password_file` when it is not
/// empty (a password in the URL is overridden; neither is ever logged or put in an error), and
/// runs pending migrations: the SQLite schema's numbered steps, translated, each in a
/// transaction, serialized across processes by an advisory lock. The state lives in the
/// connection's current schema. Errors: errc::transport when the server cannot be reached or
/// the connection drops (retryable), errc::auth for refused credentials, errc::busy for a
/// serialization failure, a deadlock or a lock held by another session past lock_timeout (5 s
/// unless the URL sets it, as SQLite's busy_timeout), errc::store for a database that is not a wfsync state
/// or has a newer schema. Messages carry the SQLSTATE. One instance per thread, as for SQLite.
[[nodiscard]] result<std::unique_ptr<store>> open_postgresql(const std::string& url,
                                                             const std::string& password_file = {});

}  // namespace wfsync::store
