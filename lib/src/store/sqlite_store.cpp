// SPDX-License-Identifier: Apache-2.0
// The SQLite implementation of wfsync::store::store.
//
// Every public method is one short transaction on the instance's own connection, and no
// state is cached outside SQLite (only prepared statements), so a kill -9 at any moment leaves
// either the committed transaction or nothing: WAL replays committed frames on the next open
// and drops the rest.
#include "detail/sqlite.hpp"
#include "detail/stored_values.hpp"
#include "detail/state_file.hpp"
#include "migrations.hpp"

#include <wfsync/core/read_file.hpp>
#include <wfsync/core/zlib.hpp>
#include <wfsync/store/store.hpp>

#include <fmt/format.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <type_traits>
#include <cstring>
#include <filesystem>
#include <vector>

namespace wfsync::store {

std::string_view to_string(intent_state s) noexcept
{
    switch (s) {
    case intent_state::pending: return "pending";
    case intent_state::succeeded: return "succeeded";
    case intent_state::failed: return "failed";
    case intent_state::unknown: return "unknown";
    }
    return "unknown";
}

std::string_view to_string(job_state s) noexcept
{
    switch (s) {
    case job_state::running: return "running";
    case job_state::succeeded: return "succeeded";
    case job_state::failed: return "failed";
    case job_state::unknown: return "unknown";
    }
    return "unknown";
}

std::string_view to_string(notification_state s) noexcept
{
    switch (s) {
    case notification_state::pending: return "pending";
    case notification_state::sent: return "sent";
    case notification_state::dropped: return "dropped";
    }
    return "pending";
}

namespace {

using detail::database;
using detail::statement;
using detail::transaction;

using detail::max_package_bytes;
using detail::now;
using detail::parse_intent_state;
using detail::parse_job_state;

bool is_unique_violation(int rc) noexcept
{
    return rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY;
}

// ---- SQL, prepared once per connection --------------------------------------------------

constexpr const char* sql_upsert_tenant =
    "INSERT INTO tenants (name, first_seen, last_seen) VALUES (?1, ?2, ?2) "
    "ON CONFLICT (name) DO UPDATE SET last_seen = excluded.last_seen";
constexpr const char* sql_upsert_workflow =
    "INSERT INTO workflows (tenant, remote_id, name) VALUES (?1, ?2, ?3) "
    "ON CONFLICT (tenant, remote_id) DO UPDATE SET name = excluded.name";
constexpr const char* sql_find_workflow =
    "SELECT id, tenant, remote_id, name FROM workflows WHERE tenant = ?1 AND remote_id = ?2";
constexpr const char* sql_list_workflows =
    "SELECT id, tenant, remote_id, name FROM workflows WHERE tenant = ?1 ORDER BY name, remote_id";

constexpr const char* sql_find_version =
    "SELECT id, workflow, version, content_hash, format, size, seen_at FROM versions "
    "WHERE workflow = ?1 AND version = ?2 AND content_hash = ?3";
constexpr const char* sql_insert_version =
    "INSERT INTO versions (workflow, version, content_hash, format, size, package, seen_at) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) "
    "ON CONFLICT (workflow, version, content_hash) DO NOTHING";
constexpr const char* sql_list_versions =
    "SELECT id, workflow, version, content_hash, format, size, seen_at FROM versions "
    "WHERE workflow = ?1 ORDER BY id";
constexpr const char* sql_load_package = "SELECT size, package FROM versions WHERE id = ?1";

constexpr const char* sql_find_mapping =
    "SELECT source_tenant, source_workflow, target_tenant, target_workflow, target_name "
    "FROM workflow_mappings "
    "WHERE source_tenant = ?1 AND source_workflow = ?2 AND target_tenant = ?3";
constexpr const char* sql_put_mapping =
    "INSERT INTO workflow_mappings "
    "(source_tenant, source_workflow, target_tenant, target_workflow, target_name, updated_at) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
    "ON CONFLICT (source_tenant, source_workflow, target_tenant) DO UPDATE SET "
    "target_workflow = excluded.target_workflow, target_name = excluded.target_name, "
    "updated_at = excluded.updated_at";

constexpr const char* sql_add_version_mapping =
    "INSERT INTO version_mappings (source_tenant, source_workflow, source_version, content_hash, "
    "target_tenant, target_workflow, target_version, at, target_hash) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";
#define WFSYNC_VERSION_MAPPING_COLUMNS                                                          \
    "source_tenant, source_workflow, source_version, content_hash, target_tenant, "              \
    "target_workflow, target_version, at, target_hash"
// Newest = inserted last: the wall clock may step back, the row id does not.
constexpr const char* sql_last_version_mapping =
    "SELECT " WFSYNC_VERSION_MAPPING_COLUMNS " FROM version_mappings "
    "WHERE target_tenant = ?1 AND target_workflow = ?2 ORDER BY id DESC LIMIT 1";
constexpr const char* sql_find_version_mapping =
    "SELECT " WFSYNC_VERSION_MAPPING_COLUMNS " FROM version_mappings "
    "WHERE target_tenant = ?1 AND target_workflow = ?2 AND content_hash = ?3 ORDER BY id DESC LIMIT 1";
#undef WFSYNC_VERSION_MAPPING_COLUMNS
constexpr const char* sql_has_target_hash =
    "SELECT 1 FROM version_mappings WHERE target_tenant = ?1 AND target_workflow = ?2 AND target_hash = ?3 "
    "AND target_hash <> '' LIMIT 1";
constexpr const char* sql_set_target_hash =
    "UPDATE version_mappings SET target_hash = ?5 WHERE id = (SELECT id FROM version_mappings "
    "WHERE target_tenant = ?1 AND target_workflow = ?2 AND content_hash = ?3 AND target_version = ?4 "
    "ORDER BY id DESC LIMIT 1)";

constexpr const char* sql_listing_marks =
    "SELECT rule, source_tenant, source_workflow, target_tenant, source_mark, target_workflow, target_mark, "
    "content_hash, verified_at FROM listing_marks WHERE rule = ?1";
constexpr const char* sql_put_listing_mark =
    "INSERT OR REPLACE INTO listing_marks (rule, source_tenant, source_workflow, target_tenant, source_mark, "
    "target_workflow, target_mark, content_hash, verified_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";
constexpr const char* sql_forget_listing_mark =
    "DELETE FROM listing_marks WHERE rule = ?1 AND source_tenant = ?2 AND source_workflow = ?3 AND target_tenant = ?4";

#define WFSYNC_NOTIFICATION_COLUMNS                                                              \
    "id, target, event_key, event, rule, delivery, payload, state, attempts, last_error, created_at, updated_at"
constexpr const char* sql_queue_notification =
    "INSERT OR IGNORE INTO notifications (target, event_key, event, rule, delivery, payload, state, attempts, "
    "last_error, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'pending', 0, '', ?7, ?7)";
constexpr const char* sql_pending_notifications =
    "SELECT " WFSYNC_NOTIFICATION_COLUMNS " FROM notifications WHERE state = 'pending' ORDER BY id";
constexpr const char* sql_find_notification =
    "SELECT " WFSYNC_NOTIFICATION_COLUMNS " FROM notifications WHERE target = ?1 AND event_key = ?2";
#undef WFSYNC_NOTIFICATION_COLUMNS
constexpr const char* sql_set_notification_state =
    "UPDATE notifications SET state = ?2, attempts = attempts + ?3, last_error = ?4, updated_at = ?5, "
    "payload = CASE WHEN ?2 = 'sent' THEN '' ELSE payload END WHERE id = ?1";
constexpr const char* sql_get_rule_health =
    "SELECT rule, failing, since_run, updated_at FROM rule_health WHERE rule = ?1";
constexpr const char* sql_put_rule_health =
    "INSERT OR REPLACE INTO rule_health (rule, failing, since_run, updated_at) VALUES (?1, ?2, ?3, ?4)";

constexpr const char* sql_has_version_mapping =
    "SELECT 1 FROM version_mappings WHERE target_tenant = ?1 AND target_workflow = ?2 "
    "AND content_hash = ?3 LIMIT 1";

#define WFSYNC_INTENT_COLUMNS                                                                    \
    "id, rule, run_uid, source_tenant, source_workflow, source_version, content_hash, "          \
    "target_tenant, target_workflow, target_version, generation, idempotency_key, state, "       \
    "detail, created_at, updated_at, target_before, hold"
constexpr const char* sql_insert_intent =
    "INSERT INTO import_intents (rule, run_uid, source_tenant, source_workflow, source_version, "
    "content_hash, target_tenant, target_workflow, target_version, generation, idempotency_key, "
    "state, detail, created_at, updated_at, target_before) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, 'pending', ?12, ?13, ?13, ?14)";
constexpr const char* sql_get_intent =
    "SELECT " WFSYNC_INTENT_COLUMNS " FROM import_intents WHERE id = ?1";
constexpr const char* sql_find_intent =
    "SELECT " WFSYNC_INTENT_COLUMNS " FROM import_intents "
    "WHERE rule = ?1 AND source_tenant = ?2 AND source_workflow = ?3 AND target_tenant = ?4 "
    "AND content_hash = ?5 ORDER BY id DESC LIMIT 1";
constexpr const char* sql_open_intents =
    "SELECT " WFSYNC_INTENT_COLUMNS " FROM import_intents "
    "WHERE state IN ('pending', 'unknown') ORDER BY id";
constexpr const char* sql_set_intent_state =
    "UPDATE import_intents SET state = ?2, detail = ?3, updated_at = ?4, "
    "target_workflow = CASE WHEN ?5 <> '' THEN ?5 ELSE target_workflow END, "
    "hold = CASE WHEN ?2 IN ('pending', 'unknown') THEN hold ELSE '' END WHERE id = ?1";
constexpr const char* sql_hold_intent =
    "UPDATE import_intents SET state = 'unknown', hold = ?2, updated_at = ?3 WHERE id = ?1";
constexpr const char* sql_held_intents =
    "SELECT " WFSYNC_INTENT_COLUMNS " FROM import_intents "
    "WHERE state IN ('pending', 'unknown') AND hold <> '' ORDER BY id";
#undef WFSYNC_INTENT_COLUMNS

constexpr const char* sql_begin_run =
    "INSERT INTO runs (uid, rule, command, started_at) VALUES (?1, ?2, ?3, ?4)";
constexpr const char* sql_finish_run =
    "UPDATE runs SET finished_at = ?2, outcome = ?3, imported = ?4, unchanged = ?5, drift = ?6, "
    "errors = ?7 WHERE id = ?1";
constexpr const char* sql_run_id_by_uid = "SELECT id FROM runs WHERE uid = ?1";
constexpr const char* sql_add_event =
    "INSERT INTO events (run, at, rule, kind, source_tenant, source_workflow, workflow_name, "
    "target_tenant, target_workflow, version, content_hash, message, duration_ms) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)";
// One statement per filter combination, so that each can use its index (a catch-all
// "(?1 = '' OR rule = ?1)" form makes SQLite scan the whole table).
#define WFSYNC_RUNS_SELECT                                                                       \
    "SELECT id, uid, rule, command, started_at, finished_at, outcome, imported, unchanged, "     \
    "drift, errors FROM runs r "
#define WFSYNC_RUNS_WITH_WORKFLOW                                                                \
    "r.id IN (SELECT run FROM events WHERE source_workflow = ?2 "                                \
    "UNION SELECT run FROM events WHERE workflow_name = ?2) "
constexpr const char* sql_last_successes =
    "SELECT rule, MAX(finished_at) FROM runs WHERE outcome = 'ok' AND rule <> '' AND finished_at > 0 "
    "GROUP BY rule ORDER BY rule";
constexpr const char* sql_list_runs[4] = {
    WFSYNC_RUNS_SELECT "ORDER BY r.id DESC LIMIT ?3",
    WFSYNC_RUNS_SELECT "WHERE r.rule = ?1 ORDER BY r.id DESC LIMIT ?3",
    WFSYNC_RUNS_SELECT "WHERE " WFSYNC_RUNS_WITH_WORKFLOW "ORDER BY r.id DESC LIMIT ?3",
    WFSYNC_RUNS_SELECT "WHERE r.rule = ?1 AND " WFSYNC_RUNS_WITH_WORKFLOW
                       "ORDER BY r.id DESC LIMIT ?3",
};
#undef WFSYNC_RUNS_SELECT
#undef WFSYNC_RUNS_WITH_WORKFLOW
#define WFSYNC_EVENTS_SELECT                                                                     \
    "SELECT e.id, e.run, r.uid, e.at, e.rule, e.kind, e.source_tenant, e.source_workflow, "      \
    "e.workflow_name, e.target_tenant, e.target_workflow, e.version, e.content_hash, e.message, " \
    "e.duration_ms FROM events e JOIN runs r ON r.id = e.run "
#define WFSYNC_EVENTS_WITH_WORKFLOW "(e.source_workflow = ?2 OR e.workflow_name = ?2) "
constexpr const char* sql_list_events[4] = {
    WFSYNC_EVENTS_SELECT "ORDER BY e.id DESC LIMIT ?3",
    WFSYNC_EVENTS_SELECT "WHERE e.rule = ?1 ORDER BY e.id DESC LIMIT ?3",
    WFSYNC_EVENTS_SELECT "WHERE " WFSYNC_EVENTS_WITH_WORKFLOW "ORDER BY e.id DESC LIMIT ?3",
    WFSYNC_EVENTS_SELECT "WHERE e.rule = ?1 AND " WFSYNC_EVENTS_WITH_WORKFLOW
                         "ORDER BY e.id DESC LIMIT ?3",
};
#undef WFSYNC_EVENTS_SELECT
#undef WFSYNC_EVENTS_WITH_WORKFLOW

/// Index into sql_list_runs / sql_list_events for a filter.
std::size_t filter_variant(const history_filter& f) noexcept
{
    return (f.rule.empty() ? 0u : 1u) + (f.workflow.empty() ? 0u : 2u);
}

#define WFSYNC_JOB_COLUMNS                                                                       \
    "id, tenant, kind, job_id, workflow, version, intent, state, detail, created_at, updated_at, resume"
constexpr const char* sql_add_job =
    "INSERT INTO async_jobs (tenant, kind, job_id, workflow, version, intent, state, detail, "
    "created_at, updated_at, resume) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9, ?10)";
constexpr const char* sql_get_job = "SELECT " WFSYNC_JOB_COLUMNS " FROM async_jobs WHERE id = ?1";
constexpr const char* sql_open_jobs =
    "SELECT " WFSYNC_JOB_COLUMNS " FROM async_jobs WHERE state IN ('running', 'unknown') "
    "AND (?1 = '' OR tenant = ?1) ORDER BY id";
// The resume data (a download URL, possibly pre-signed) is dropped once the job has ended.
constexpr const char* sql_set_job_state =
    "UPDATE async_jobs SET state = ?2, detail = ?3, updated_at = ?4, "
    "resume = CASE WHEN ?2 IN ('succeeded', 'failed') THEN '' ELSE resume END WHERE id = ?1";
// A platform may hand out a job id again (a counter reset, ids recycled after a while): an
// ended job under that id is history only and gives way.
constexpr const char* sql_drop_ended_job =
    "DELETE FROM async_jobs WHERE tenant = ?1 AND job_id = ?2 AND state IN ('succeeded', 'failed')";
#undef WFSYNC_JOB_COLUMNS

// ---- archive catalogue
#define WFSYNC_ARCHIVE_ENTRY_COLUMNS                                                             \
    "id, archive, tenant, workflow_id, workflow_name, version, content_hash, format, path, "     \
    "file_sha256, size, stored_at"
constexpr const char* sql_find_archive_file =
    "SELECT archive, path, file_sha256, size, created_at FROM archive_files "
    "WHERE archive = ?1 AND path = ?2";
constexpr const char* sql_list_archive_files =
    "SELECT archive, path, file_sha256, size, created_at FROM archive_files "
    "WHERE archive = ?1 ORDER BY path";
constexpr const char* sql_insert_archive_file =
    "INSERT INTO archive_files (archive, path, file_sha256, size, created_at) "
    "VALUES (?1, ?2, ?3, ?4, ?5)";
constexpr const char* sql_insert_archive_entry =
    "INSERT INTO archive_entries (archive, tenant, workflow_id, workflow_name, version, "
    "content_hash, format, path, file_sha256, size, stored_at) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) "
    "ON CONFLICT (archive, tenant, workflow_id, version, content_hash) DO NOTHING";
constexpr const char* sql_find_archive_entry =
    "SELECT " WFSYNC_ARCHIVE_ENTRY_COLUMNS " FROM archive_entries WHERE archive = ?1 AND "
    "tenant = ?2 AND workflow_id = ?3 AND version = ?4 AND content_hash = ?5";
constexpr const char* sql_get_archive_entry =
    "SELECT " WFSYNC_ARCHIVE_ENTRY_COLUMNS " FROM archive_entries WHERE id = ?1";
constexpr const char* sql_find_archive_entry_by_hash =
    "SELECT " WFSYNC_ARCHIVE_ENTRY_COLUMNS " FROM archive_entries WHERE archive = ?1 AND "
    "tenant = ?2 AND workflow_id = ?3 AND content_hash = ?4 ORDER BY id DESC LIMIT 1";
constexpr const char* sql_delete_archive_entry = "DELETE FROM archive_entries WHERE id = ?1";
constexpr const char* sql_archive_file_refs =
    "SELECT count(*) FROM archive_entries WHERE archive = ?1 AND path = ?2";
constexpr const char* sql_delete_archive_file =
    "DELETE FROM archive_files WHERE archive = ?1 AND path = ?2";
// One statement per filter combination, as for the history.
#define WFSYNC_ARCHIVE_LIST "SELECT " WFSYNC_ARCHIVE_ENTRY_COLUMNS " FROM archive_entries WHERE archive = ?1 "
#define WFSYNC_ARCHIVE_ORDER "ORDER BY stored_at, id"
constexpr const char* sql_list_archive_entries[4] = {
    WFSYNC_ARCHIVE_LIST WFSYNC_ARCHIVE_ORDER,
    WFSYNC_ARCHIVE_LIST "AND tenant = ?2 " WFSYNC_ARCHIVE_ORDER,
    WFSYNC_ARCHIVE_LIST "AND (workflow_id = ?3 OR workflow_name = ?3) " WFSYNC_ARCHIVE_ORDER,
    WFSYNC_ARCHIVE_LIST "AND tenant = ?2 AND (workflow_id = ?3 OR workflow_name = ?3) " WFSYNC_ARCHIVE_ORDER,
};
#undef WFSYNC_ARCHIVE_LIST
#undef WFSYNC_ARCHIVE_ORDER
#undef WFSYNC_ARCHIVE_ENTRY_COLUMNS

constexpr const char* sql_user_version = "PRAGMA user_version";

// ---- row readers --------------------------------------------------------------------------

workflow_row read_workflow(const statement& s)
{
    return workflow_row{s.int64(0), s.text(1), s.text(2), s.text(3)};
}

version_row read_version(const statement& s)
{
    return version_row{s.int64(0), s.int64(1), s.text(2), s.text(3), s.text(4), s.int64(5),
                       s.int64(6)};
}

result<import_intent> read_intent(const statement& s)
{
    import_intent i;
    i.id = s.int64(0);
    i.rule = s.text(1);
    i.run_uid = s.text(2);
    i.source_tenant = s.text(3);
    i.source_workflow = s.text(4);
    i.source_version = s.text(5);
    i.content_hash = s.text(6);
    i.target_tenant = s.text(7);
    i.target_workflow = s.text(8);
    i.target_version = s.text(9);
    i.generation = s.integer(10);
    i.idempotency_key = s.text(11);
    auto st = parse_intent_state(s.text(12));
    if (!st) return st.error();
    i.state = *st;
    i.detail = s.text(13);
    i.created_at = s.int64(14);
    i.updated_at = s.int64(15);
    i.target_before = s.text(16);
    i.hold = s.text(17);
    return i;
}

version_mapping read_version_mapping(const statement& s)
{
    version_mapping m{s.text(0), s.text(1), s.text(2), s.text(3), s.text(4), s.text(5), s.text(6), s.int64(7)};
    m.target_hash = s.text(8);
    return m;
}

run_row read_run(const statement& s)
{
    run_row r;
    r.id = s.int64(0);
    r.uid = s.text(1);
    r.rule = s.text(2);
    r.command = s.text(3);
    r.started_at = s.int64(4);
    r.finished_at = s.int64(5);
    r.outcome = s.text(6);
    r.imported = s.integer(7);
    r.unchanged = s.integer(8);
    r.drift = s.integer(9);
    r.errors = s.integer(10);
    return r;
}

event_row read_event(const statement& s)
{
    event_row e;
    e.id = s.int64(0);
    e.run = s.int64(1);
    e.run_uid = s.text(2);
    e.at = s.int64(3);
    e.rule = s.text(4);
    e.kind = s.text(5);
    e.source_tenant = s.text(6);
    e.source_workflow = s.text(7);
    e.workflow_name = s.text(8);
    e.target_tenant = s.text(9);
    e.target_workflow = s.text(10);
    e.version = s.text(11);
    e.content_hash = s.text(12);
    e.message = s.text(13);
    e.duration_ms = s.int64(14);
    return e;
}

result<async_job> read_job(const statement& s)
{
    async_job j;
    j.id = s.int64(0);
    j.tenant = s.text(1);
    j.kind = s.text(2);
    j.job_id = s.text(3);
    j.workflow = s.text(4);
    j.version = s.text(5);
    j.intent = s.is_null(6) ? 0 : s.int64(6);
    auto st = parse_job_state(s.text(7));
    if (!st) return st.error();
    j.state = *st;
    j.detail = s.text(8);
    j.created_at = s.int64(9);
    j.updated_at = s.int64(10);
    j.resume = s.text(11);
    return j;
}

archive_entry_row read_archive_entry(const statement& s)
{
    archive_entry_row e;
    e.id = s.int64(0);
    e.archive = s.text(1);
    e.tenant = s.text(2);
    e.workflow_id = s.text(3);
    e.workflow_name = s.text(4);
    e.version = s.text(5);
    e.content_hash = s.text(6);
    e.format = s.text(7);
    e.path = s.text(8);
    e.file_sha256 = s.text(9);
    e.size = s.int64(10);
    e.stored_at = s.int64(11);
    return e;
}

archive_file_row read_archive_file(const statement& s)
{
    return archive_file_row{s.text(0), s.text(1), s.text(2), s.int64(3), s.int64(4)};
}

template <class T>
struct row_of {
    using type = T;
};
template <class T>
struct row_of<result<T>> {
    using type = T;
};

/// Steps `s` to its end, reading each row with `read`, which returns a row or a result<row>
/// (a stored value it cannot understand fails the whole read, named by `op`).
template <class Read>
auto collect(statement& s, Read read, std::string_view op)
    -> result<std::vector<typename row_of<std::invoke_result_t<Read, const statement&>>::type>>
{
    using raw = std::invoke_result_t<Read, const statement&>;
    using row = typename row_of<raw>::type;
    std::vector<row> out;
    for (;;) {
        auto r = s.step();
        if (!r) return r.error();
        if (!*r) return out;
        if constexpr (std::is_same_v<raw, row>) {
            out.push_back(read(s));
        } else {
            auto v = read(s);
            if (!v) return std::move(v.error()).context(op);
            out.push_back(std::move(*v));
        }
    }
}

// A limit <= 0 means "no limit" (-1 in SQLite).
std::int64_t sql_limit(int limit) noexcept { return limit > 0 ? limit : -1; }

// ---- the store ----------------------------------------------------------------------------

class sqlite_store final : public store {
public:
    explicit sqlite_store(std::unique_ptr<database> db) : db_(std::move(db)) {}
    ~sqlite_store() override
    {
        // Whatever a batch still holds goes in: the writes were made to be kept.
        if (batch_open_) (void)commit_batch();
    }

    void begin_batching() override { ++batching_; }

    result<void> end_batching() override
    {
        if (batching_ > 0) --batching_;
        return batching_ == 0 ? commit_batch() : result<void>{};
    }

    result<void> commit_batch() override
    {
        if (!batch_open_) return {};
        batch_open_ = false;
        batch_writes_ = 0;
        if (auto r = db_->exec("commit batched writes", "COMMIT"); !r) {
            // Not committed: nothing of the batch is kept, and nothing half.
            sqlite3_exec(db_->handle(), "ROLLBACK", nullptr, nullptr, nullptr);
            return r;
        }
        return {};
    }

    std::size_t batched_writes() const override { return batch_writes_; }

    result<workflow_row> upsert_workflow(const std::string& tenant, const std::string& remote_id,
                                         const std::string& name) override
    {
        constexpr std::string_view op = "upsert workflow";
        return in_tx(op, true, [&]() -> result<workflow_row> {
            {
                auto s = use(op, sql_upsert_tenant);
                if (!s) return s.error();
                (*s)->bind(1, tenant).bind(2, now());
                if (auto r = (*s)->step(); !r) return r.error();
            }
            {
                auto s = use(op, sql_upsert_workflow);
                if (!s) return s.error();
                (*s)->bind(1, tenant).bind(2, remote_id).bind(3, name);
                if (auto r = (*s)->step(); !r) return r.error();
            }
            auto found = find_workflow_in_tx(op, tenant, remote_id);
            if (!found) return found.error();
            if (!*found)
                return fail(errc::store, fmt::format("{}: row for {}/{} vanished", op, tenant, remote_id));
            return **found;
        });
    }

    result<std::optional<workflow_row>> find_workflow(const std::string& tenant,
                                                      const std::string& remote_id) override
    {
        constexpr std::string_view op = "find workflow";
        return in_tx(op, false, [&] { return find_workflow_in_tx(op, tenant, remote_id); });
    }

    result<std::vector<workflow_row>> list_workflows(const std::string& tenant) override
    {
        constexpr std::string_view op = "list workflows";
        return in_tx(op, false, [&]() -> result<std::vector<workflow_row>> {
            auto s = use(op, sql_list_workflows);
            if (!s) return s.error();
            (*s)->bind(1, tenant);
            return collect(**s, read_workflow, op);
        });
    }

    result<version_row> put_version(row_id workflow, const std::string& version,
                                    const std::string& content_hash, const std::string& format,
                                    const std::string& package) override
    {
        constexpr std::string_view op = "put version";
        // Already stored (the common case): no compression, no write.
        auto existing = in_tx(op, false, [&] {
            return find_version_in_tx(op, workflow, version, content_hash);
        });
        if (!existing) return existing.error();
        if (*existing) return **existing;

        // Compress before the write transaction so that the lock is held only for the insert.
        const std::string blob = zlib_compress(package);
        return in_tx(op, true, [&]() -> result<version_row> {
            {
                auto s = use(op, sql_insert_version);
                if (!s) return s.error();
                (*s)->bind(1, workflow)
                    .bind(2, version)
                    .bind(3, content_hash)
                    .bind(4, format)
                    .bind(5, static_cast<std::int64_t>(package.size()))
                    .bind_blob(6, blob)
                    .bind(7, now());
                if (auto r = (*s)->step(); !r) {
                    if ((*s)->last_error() == SQLITE_CONSTRAINT_FOREIGNKEY)
                        return fail(errc::store,
                                    fmt::format("{}: workflow {} does not exist", op, workflow));
                    return r.error();
                }
            }
            auto row = find_version_in_tx(op, workflow, version, content_hash);
            if (!row) return row.error();
            if (!*row)
                return fail(errc::store, fmt::format("{}: row for workflow {} version {} vanished",
                                                     op, workflow, version));
            return **row;
        });
    }

    result<std::vector<version_row>> list_versions(row_id workflow) override
    {
        constexpr std::string_view op = "list versions";
        return in_tx(op, false, [&]() -> result<std::vector<version_row>> {
            auto s = use(op, sql_list_versions);
            if (!s) return s.error();
            (*s)->bind(1, workflow);
            return collect(**s, read_version, op);
        });
    }

    result<std::string> load_package(row_id version) override
    {
        const std::string op = fmt::format("load package of version {}", version);
        std::int64_t size = 0;
        std::string blob;
        auto read = in_tx(op, false, [&]() -> result<bool> {
            auto s = use(op, sql_load_package);
            if (!s) return s.error();
            (*s)->bind(1, version);
            auto r = (*s)->step();
            if (!r) return r.error();
            if (!*r) return false;
            size = (*s)->int64(0);
            blob = std::string((*s)->blob(1));
            return true;
        });
        if (!read) return read.error();
        if (!*read) return fail(errc::store, fmt::format("{}: no such version", op));

        // Inflate outside the transaction: it can take a while and needs no lock.
        auto raw = zlib_decompress(blob, max_package_bytes);
        if (!raw)
            return fail(errc::store, fmt::format("{}: stored package is corrupt ({})", op,
                                                 raw.error().message));
        if (static_cast<std::int64_t>(raw->size()) != size)
            return fail(errc::store, fmt::format("{}: stored package is corrupt (inflates to {} "
                                                 "bytes, {} recorded)",
                                                 op, raw->size(), size));
        return std::move(*raw);
    }

    result<std::optional<workflow_mapping>> find_mapping(const std::string& source_tenant,
                                                         const std::string& source_workflow,
                                                         const std::string& target_tenant) override
    {
        constexpr std::string_view op = "find workflow mapping";
        return in_tx(op, false, [&]() -> result<std::optional<workflow_mapping>> {
            auto s = use(op, sql_find_mapping);
            if (!s) return s.error();
            (*s)->bind(1, source_tenant).bind(2, source_workflow).bind(3, target_tenant);
            auto r = (*s)->step();
            if (!r) return r.error();
            if (!*r) return std::nullopt;
            auto& st = **s;
            return workflow_mapping{st.text(0), st.text(1), st.text(2), st.text(3), st.text(4)};
        });
    }

    result<void> put_mapping(const workflow_mapping& m) override
    {
        constexpr std::string_view op = "put workflow mapping";
        return in_tx(op, true, [&]() -> result<void> {
            auto s = use(op, sql_put_mapping);
            if (!s) return s.error();
            (*s)->bind(1, m.source_tenant)
                .bind(2, m.source_workflow)
                .bind(3, m.target_tenant)
                .bind(4, m.target_workflow)
                .bind(5, m.target_name)
                .bind(6, now());
            if (auto r = (*s)->step(); !r) return r.error();
            return {};
        });
    }

    result<void> add_version_mapping(const version_mapping& m) override
    {
        constexpr std::string_view op = "add version mapping";
        return in_tx(op, true, [&]() -> result<void> {
            auto s = use(op, sql_add_version_mapping);
            if (!s) return s.error();
            (*s)->bind(1, m.source_tenant)
                .bind(2, m.source_workflow)
                .bind(3, m.source_version)
                .bind(4, m.content_hash)
                .bind(5, m.target_tenant)
                .bind(6, m.target_workflow)
                .bind(7, m.target_version)
                .bind(8, m.at != 0 ? m.at : now())
                .bind(9, m.target_hash);
            if (auto r = (*s)->step(); !r) return r.error();
            return {};
        });
    }

    result<std::optional<version_mapping>> find_version_mapping(const std::string& target_tenant,
                                                                const std::string& target_workflow,
                                                                const std::string& content_hash) override
    {
        constexpr std::string_view op = "find version mapping";
        return in_tx(op, false, [&]() -> result<std::optional<version_mapping>> {
            auto s = use(op, sql_find_version_mapping);
            if (!s) return s.error();
            (*s)->bind(1, target_tenant).bind(2, target_workflow).bind(3, content_hash);
            auto r = (*s)->step();
            if (!r) return r.error();
            if (!*r) return std::nullopt;
            return read_version_mapping(**s);
        });
    }

    result<bool> has_target_hash(const std::string& target_tenant, const std::string& target_workflow,
                                 const std::string& target_hash) override
    {
        constexpr std::string_view op = "find target fingerprint";
        return in_tx(op, false, [&]() -> result<bool> {
            auto s = use(op, sql_has_target_hash);
            if (!s) return s.error();
            (*s)->bind(1, target_tenant).bind(2, target_workflow).bind(3, target_hash);
            auto r = (*s)->step();
            if (!r) return r.error();
            return *r;
        });
    }

    result<void> set_target_hash(const std::string& target_tenant, const std::string& target_workflow,
                                 const std::string& content_hash, const std::string& target_version,
                                 const std::string& target_hash) override
    {
        constexpr std::string_view op = "set target fingerprint";
        return in_tx(op, true, [&]() -> result<void> {
            auto s = use(op, sql_set_target_hash);
            if (!s) return s.error();
            (*s)->bind(1, target_tenant)
                .bind(2, target_workflow)
                .bind(3, content_hash)
                .bind(4, target_version)
                .bind(5, target_hash);
            if (auto r = (*s)->step(); !r) return r.error();
            if (sqlite3_changes(db_->handle()) == 0)
                return fail(errc::not_found, fmt::format("{}: no mapping of {} into {}/{} version {}", op,
                                                         content_hash, target_tenant, target_workflow,
                                                         target_version));
            return {};
        });
    }

    result<std::vector<listing_mark>> listing_marks(const std::string& rule) override
    {
        constexpr std::string_view op = "read listing marks";
        return in_tx(op, false, [&]() -> result<std::vector<listing_mark>> {
            auto s = use(op, sql_listing_marks);
            if (!s) return s.error();
            (*s)->bind(1, rule);
            std::vector<listing_mark> out;
            for (;;) {
                auto r = (*s)->step();
                if (!r) return r.error();
                if (!*r) return out;
                auto& q = **s;
                out.push_back({q.text(0), q.text(1), q.text(2), q.text(3), q.text(4), q.text(5), q.text(6), q.text(7),
                               q.int64(8)});
            }
        });
    }

    result<void> put_listing_mark(const listing_mark& m) override
    {
        constexpr std::string_view op = "record listing mark";
        return in_tx(op, true, [&]() -> result<void> {
            auto s = use(op, sql_put_listing_mark);
            if (!s) return s.error();
            (*s)->bind(1, m.rule)
                .bind(2, m.source_tenant)
                .bind(3, m.source_workflow)
                .bind(4, m.target_tenant)
                .bind(5, m.source_mark)
                .bind(6, m.target_workflow)
                .bind(7, m.target_mark)
                .bind(8, m.content_hash)
                .bind(9, static_cast<std::int64_t>(m.verified_at));
            if (auto r = (*s)->step(); !r) return r.error();
            return {};
        });
    }

    result<void> forget_listing_mark(const std::string& rule, const std::string& source_tenant,
                                     const std::string& source_workflow, const std::string& target_tenant) override
    {
        constexpr std::string_view op = "forget listing mark";
        return in_tx(op, true, [&]() -> result<void> {
            auto s = use(op, sql_forget_listing_mark);
            if (!s) return s.error();
            (*s)->bind(1, rule).bind(2, source_tenant).bind(3, source_workflow).bind(4, target_tenant);
            if (auto r = (*s)->step(); !r) return r.error();
            return {};
        });
    }

    result<bool> has_version_mapping(const std::string& target_tenant, const std::string& target_workflow,
                                     const std::string& content_hash) override
    {
        constexpr std::string_view op = "find version mapping";
        return in_tx(op, false, [&]() -> result<bool> {
            auto s = use(op, sql_has_version_mapping);
            if (!s) return s.error();
            (*s)->bind(1, target_tenant).bind(2, target_workflow).bind(3, content_hash);
            auto r = (*s)->step();
            if (!r) return r.error();
            return *r;
        });
    }

    result<std::optional<version_mapping>> last_version_mapping(
        const std::string& target_tenant, const std::string& target_workflow) override
    {
        constexpr std::string_view op = "find last version mapping";
        return in_tx(op, false, [&]() -> result<std::optional<version_mapping>> {
            auto s = use(op, sql_last_version_mapping);
            if (!s) return s.error();
            (*s)->bind(1, target_tenant).bind(2, target_workflow);
            auto r = (*s)->step();
            if (!r) return r.error();
            if (!*r) return std::nullopt;
            return read_version_mapping(**s);
        });
    }

    result<import_intent> create_intent(const import_intent& i) override
    {
        constexpr std::string_view op = "create import intent";
        if (i.idempotency_key.empty())
            return fail(errc::invalid_argument, fmt::format("{}: empty idempotency key", op));
        return in_tx(op, true, [&]() -> result<import_intent> {
            row_id id = 0;
            {
                auto s = use(op, sql_insert_intent);
                if (!s) return s.error();
                (*s)->bind(1, i.rule)
                    .bind(2, i.run_uid)
                    .bind(3, i.source_tenant)
                    .bind(4, i.source_workflow)
                    .bind(5, i.source_version)
                    .bind(6, i.content_hash)
                    .bind(7, i.target_tenant)
                    .bind(8, i.target_workflow)
                    .bind(9, i.target_version)
                    .bind(10, i.generation)
                    .bind(11, i.idempotency_key)
                    .bind(12, i.detail)
                    .bind(13, i.created_at != 0 ? i.created_at : now())
                    .bind(14, i.target_before);
                if (auto r = (*s)->step(); !r) {
                    if (is_unique_violation((*s)->last_error()))
                        return fail(errc::conflict,
                                    fmt::format("{}: idempotency key {} already exists", op,
                                                i.idempotency_key));
                    return r.error();
                }
                id = sqlite3_last_insert_rowid(db_->handle());
            }
            auto got = get_intent_in_tx(op, id);
            if (!got) return got.error();
            if (!*got) return fail(errc::store, fmt::format("{}: row {} vanished", op, id));
            return **got;
        });
    }

    result<std::optional<import_intent>> find_intent(const std::string& rule,
                                                     const std::string& source_tenant,
                                                     const std::string& source_workflow,
                                                     const std::string& target_tenant,
                                                     const std::string& content_hash) override
    {
        constexpr std::string_view op = "find import intent";
        return in_tx(op, false, [&]() -> result<std::optional<import_intent>> {
            auto s = use(op, sql_find_intent);
            if (!s) return s.error();
            (*s)->bind(1, rule)
                .bind(2, source_tenant)
                .bind(3, source_workflow)
                .bind(4, target_tenant)
                .bind(5, content_hash);
            auto r = (*s)->step();
            if (!r) return r.error();
            if (!*r) return std::nullopt;
            auto i = read_intent(**s);
            if (!i) return std::move(i.error()).context(op);
            return std::optional<import_intent>(std::move(*i));
        });
    }

    result<std::vector<import_intent>> open_intents() override
    {
        constexpr std::string_view op = "list open import intents";
        return in_tx(op, false, [&]() -> result<std::vector<import_intent>> {
            auto s = use(op, sql_open_intents);
            if (!s) return s.error();
            return collect(**s, read_intent, op);
        });
    }

    result<void> set_intent_state(row_id intent, intent_state st, const std::string& detail,
                                  const std::string& target_workflow) override
    {
        const std::string op = fmt::format("set state of import intent {}", intent);
        return in_tx(op, true, [&]() -> result<void> {
            auto s = use(op, sql_set_intent_state);
            if (!s) return s.error();
            (*s)->bind(1, intent)
                .bind(2, to_string(st))
                .bind(3, detail)
                .bind(4, now())
                .bind(5, target_workflow);
            if (auto r = (*s)->step(); !r) return r.error();
            if (sqlite3_changes(db_->handle()) == 0)
                return fail(errc::store, fmt::format("{}: no such intent", op));
            return {};
        });
    }

    result<void> hold_intent(row_id intent, const std::string& hold) override
    {
        const std::string op = fmt::format("hold import intent {}", intent);
        if (hold.empty()) return fail(errc::invalid_argument, op + ": a hold needs a text");
        return in_tx(op, true, [&]() -> result<void> {
            auto s = use(op, sql_hold_intent);
            if (!s) return s.error();
            (*s)->bind(1, intent).bind(2, hold).bind(3, now());
            if (auto r = (*s)->step(); !r) return r.error();
            if (sqlite3_changes(db_->handle()) == 0) return fail(errc::not_found, fmt::format("{}: no such intent", op));
            return {};
        });
    }

    result<std::optional<import_intent>> get_intent(row_id intent) override
    {
        const std::string op = fmt::format("read import intent {}", intent);
        return in_tx(op, false, [&]() { return get_intent_in_tx(op, intent); });
    }

    result<std::vector<import_intent>> held_intents() override
    {
        constexpr std::string_view op = "list held import intents";
        return in_tx(op, false, [&]() -> result<std::vector<import_intent>> {
            auto s = use(op, sql_held_intents);
            if (!s) return s.error();
            return collect(**s, read_intent, op);
        });
    }

    result<run_row> begin_run(const std::string& uid, const std::string& rule,
                              const std::string& command) override
    {
        constexpr std::string_view op = "begin run";
        return in_tx(op, true, [&]() -> result<run_row> {
            run_row r;
            r.uid = uid;
            r.rule = rule;
            r.command = command;
            r.started_at = now();
            auto s = use(op, sql_begin_run);
            if (!s) return s.error();
            (*s)->bind(1, uid).bind(2, rule).bind(3, command).bind(4, r.started_at);
            if (auto st = (*s)->step(); !st) {
                if (is_unique_violation((*s)->last_error()))
                    return fail(errc::conflict, fmt::format("{}: run id {} already exists", op, uid));
                return st.error();
            }
            r.id = sqlite3_last_insert_rowid(db_->handle());
            return r;
        });
    }

    result<void> finish_run(const run_row& run) override
    {
        const std::string op = fmt::format("finish run {}", run.uid);
        return in_tx(op, true, [&]() -> result<void> {
            auto id = run_id(op, run.id, run.uid);
            if (!id) return id.error();
            auto s = use(op, sql_finish_run);
            if (!s) return s.error();
            (*s)->bind(1, *id)
                .bind(2, run.finished_at != 0 ? run.finished_at : now())
                .bind(3, run.outcome)
                .bind(4, run.imported)
                .bind(5, run.unchanged)
                .bind(6, run.drift)
                .bind(7, run.errors);
            if (auto r = (*s)->step(); !r) return r.error();
            if (sqlite3_changes(db_->handle()) == 0)
                return fail(errc::store, fmt::format("{}: no such run", op));
            return {};
        });
    }

    result<void> add_event(const event_row& e) override
    {
        const std::string op = fmt::format("add {} event to run {}", e.kind,
                                           e.run_uid.empty() ? std::to_string(e.run) : e.run_uid);
        return in_tx(op, true, [&]() -> result<void> {
            auto id = run_id(op, e.run, e.run_uid);
            if (!id) return id.error();
            auto s = use(op, sql_add_event);
            if (!s) return s.error();
            (*s)->bind(1, *id)
                .bind(2, e.at != 0 ? e.at : now())
                .bind(3, e.rule)
                .bind(4, e.kind)
                .bind(5, e.source_tenant)
                .bind(6, e.source_workflow)
                .bind(7, e.workflow_name)
                .bind(8, e.target_tenant)
                .bind(9, e.target_workflow)
                .bind(10, e.version)
                .bind(11, e.content_hash)
                .bind(12, e.message)
                .bind(13, e.duration_ms);
            if (auto r = (*s)->step(); !r) {
                if ((*s)->last_error() == SQLITE_CONSTRAINT_FOREIGNKEY)
                    return fail(errc::store, fmt::format("{}: no such run", op));
                return r.error();
            }
            return {};
        });
    }

    result<std::vector<run_row>> list_runs(const history_filter& f) override
    {
        constexpr std::string_view op = "list runs";
        return in_tx(op, false, [&]() -> result<std::vector<run_row>> {
            auto s = use(op, sql_list_runs[filter_variant(f)]);
            if (!s) return s.error();
            (*s)->bind(1, f.rule).bind(2, f.workflow).bind(3, sql_limit(f.limit));
            return collect(**s, read_run, op);
        });
    }

    result<std::vector<rule_success>> last_successes() override
    {
        constexpr std::string_view op = "read the last successes";
        return in_tx(op, false, [&]() -> result<std::vector<rule_success>> {
            auto s = use(op, sql_last_successes);
            if (!s) return s.error();
            return collect(**s, [](const statement& q) { return rule_success{q.text(0), q.int64(1)}; }, op);
        });
    }

    result<std::vector<event_row>> list_events(const history_filter& f) override
    {
        constexpr std::string_view op = "list events";
        return in_tx(op, false, [&]() -> result<std::vector<event_row>> {
            auto s = use(op, sql_list_events[filter_variant(f)]);
            if (!s) return s.error();
            (*s)->bind(1, f.rule).bind(2, f.workflow).bind(3, sql_limit(f.limit));
            return collect(**s, read_event, op);
        });
    }

    result<async_job> add_job(const async_job& j) override
    {
        const std::string op = fmt::format("add {} job {} of {}", j.kind, j.job_id, j.tenant);
        if (j.kind != "export" && j.kind != "import")
            return fail(errc::invalid_argument,
                        fmt::format("{}: kind must be export or import", op));
        return in_tx(op, true, [&]() -> result<async_job> {
            row_id id = 0;
            {
                auto d = use(op, sql_drop_ended_job);
                if (!d) return d.error();
                (*d)->bind(1, j.tenant).bind(2, j.job_id);
                if (auto r = (*d)->step(); !r) return r.error();
            }
            {
                auto s = use(op, sql_add_job);
                if (!s) return s.error();
                (*s)->bind(1, j.tenant)
                    .bind(2, j.kind)
                    .bind(3, j.job_id)
                    .bind(4, j.workflow)
                    .bind(5, j.version)
                    .bind(7, to_string(j.state))
                    .bind(8, j.detail)
                    .bind(9, j.created_at != 0 ? j.created_at : now())
                    .bind(10, j.resume);
                if (j.intent != 0)
                    (*s)->bind(6, j.intent);
                else
                    (*s)->bind_null(6);
                if (auto r = (*s)->step(); !r) {
                    int rc = (*s)->last_error();
                    if (is_unique_violation(rc))
                        return fail(errc::conflict, fmt::format("{}: job already recorded", op));
                    if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
                        return fail(errc::store,
                                    fmt::format("{}: import intent {} does not exist", op, j.intent));
                    return r.error();
                }
                id = sqlite3_last_insert_rowid(db_->handle());
            }
            auto s = use(op, sql_get_job);
            if (!s) return s.error();
            (*s)->bind(1, id);
            auto r = (*s)->step();
            if (!r) return r.error();
            if (!*r) return fail(errc::store, fmt::format("{}: row {} vanished", op, id));
            auto job = read_job(**s);
            if (!job) return std::move(job.error()).context(op);
            return std::move(*job);
        });
    }

    result<std::vector<async_job>> open_jobs(const std::string& tenant) override
    {
        constexpr std::string_view op = "list open async jobs";
        return in_tx(op, false, [&]() -> result<std::vector<async_job>> {
            auto s = use(op, sql_open_jobs);
            if (!s) return s.error();
            (*s)->bind(1, tenant);
            return collect(**s, read_job, op);
        });
    }

    result<void> set_job_state(row_id job, job_state st, const std::string& detail) override
    {
        const std::string op = fmt::format("set state of async job {}", job);
        return in_tx(op, true, [&]() -> result<void> {
            auto s = use(op, sql_set_job_state);
            if (!s) return s.error();
            (*s)->bind(1, job).bind(2, to_string(st)).bind(3, detail).bind(4, now());
            if (auto r = (*s)->step(); !r) return r.error();
            if (sqlite3_changes(db_->handle()) == 0)
                return fail(errc::store, fmt::format("{}: no such job", op));
            return {};
        });
    }

    result<bool> queue_notification(const notification_row& n) override
    {
        const std::string op = fmt::format("queue notification {} for {}", n.event_key, n.target);
        return in_tx(op, true, [&]() -> result<bool> {
            auto s = use(op, sql_queue_notification);
            if (!s) return s.error();
            (*s)->bind(1, n.target)
                .bind(2, n.event_key)
                .bind(3, n.event)
                .bind(4, n.rule)
                .bind(5, n.delivery)
                .bind(6, n.payload)
                .bind(7, n.created_at != 0 ? n.created_at : now());
            if (auto r = (*s)->step(); !r) return r.error();
            return sqlite3_changes(db_->handle()) > 0;
        });
    }

    static notification_row read_notification(const statement& q)
    {
        notification_row n;
        n.id = q.int64(0);
        n.target = q.text(1);
        n.event_key = q.text(2);
        n.event = q.text(3);
        n.rule = q.text(4);
        n.delivery = q.text(5);
        n.payload = q.text(6);
        const auto st = q.text(7);
        n.state = st == "sent" ? notification_state::sent
                  : st == "dropped" ? notification_state::dropped
                                    : notification_state::pending;
        n.attempts = q.integer(8);
        n.last_error = q.text(9);
        n.created_at = q.int64(10);
        n.updated_at = q.int64(11);
        return n;
    }

    result<std::vector<notification_row>> pending_notifications() override
    {
        constexpr std::string_view op = "read pending notifications";
        return in_tx(op, false, [&]() -> result<std::vector<notification_row>> {
            auto s = use(op, sql_pending_notifications);
            if (!s) return s.error();
            std::vector<notification_row> out;
            for (;;) {
                auto r = (*s)->step();
                if (!r) return r.error();
                if (!*r) return out;
                out.push_back(read_notification(**s));
            }
        });
    }

    result<std::optional<notification_row>> find_notification(const std::string& target,
                                                               const std::string& event_key) override
    {
        constexpr std::string_view op = "find notification";
        return in_tx(op, false, [&]() -> result<std::optional<notification_row>> {
            auto s = use(op, sql_find_notification);
            if (!s) return s.error();
            (*s)->bind(1, target).bind(2, event_key);
            auto r = (*s)->step();
            if (!r) return r.error();
            if (!*r) return std::nullopt;
            return read_notification(**s);
        });
    }

    result<void> set_notification_state(row_id id, notification_state st, int attempts,
                                        const std::string& error) override
    {
        const std::string op = fmt::format("set state of notification {}", id);
        return in_tx(op, true, [&]() -> result<void> {
            auto s = use(op, sql_set_notification_state);
            if (!s) return s.error();
            (*s)->bind(1, id).bind(2, to_string(st)).bind(3, attempts).bind(4, error).bind(5, now());
            if (auto r = (*s)->step(); !r) return r.error();
            if (sqlite3_changes(db_->handle()) == 0) return fail(errc::store, fmt::format("{}: no such notification", op));
            return {};
        });
    }

    result<std::optional<rule_health>> get_rule_health(const std::string& rule) override
    {
        constexpr std::string_view op = "read rule health";
        return in_tx(op, false, [&]() -> result<std::optional<rule_health>> {
            auto s = use(op, sql_get_rule_health);
            if (!s) return s.error();
            (*s)->bind(1, rule);
            auto r = (*s)->step();
            if (!r) return r.error();
            if (!*r) return std::nullopt;
            const auto& q = **s;
            return rule_health{q.text(0), q.integer(1) != 0, q.text(2), q.int64(3)};
        });
    }

    result<void> put_rule_health(const rule_health& h) override
    {
        constexpr std::string_view op = "record rule health";
        return in_tx(op, true, [&]() -> result<void> {
            auto s = use(op, sql_put_rule_health);
            if (!s) return s.error();
            (*s)->bind(1, h.rule).bind(2, h.failing ? 1 : 0).bind(3, h.since_run).bind(4, h.updated_at != 0 ? h.updated_at : now());
            if (auto r = (*s)->step(); !r) return r.error();
            return {};
        });
    }

    result<archive_entry_row> add_archive_entry(const archive_entry_row& e) override
    {
        const std::string op = fmt::format("add archive entry {} of {}/{} version {} in archive {}",
                                           e.path, e.tenant, e.workflow_id, e.version, e.archive);
        if (e.archive.empty() || e.path.empty() || e.tenant.empty() || e.workflow_id.empty() ||
            e.content_hash.empty() || e.file_sha256.empty())
            return fail(errc::invalid_argument,
                        fmt::format("{}: archive, tenant, workflow id, content hash, path and file "
                                    "sha256 must not be empty",
                                    op));
        return in_tx(op, true, [&]() -> result<archive_entry_row> {
            const unix_time at = e.stored_at != 0 ? e.stored_at : now();
            auto file = find_archive_file_in_tx(op, e.archive, e.path);
            if (!file) return file.error();
            if (*file) {
                if ((*file)->file_sha256 != e.file_sha256 || (*file)->size != e.size)
                    return fail(errc::conflict,
                                fmt::format("{}: the catalogue has this file with sha256 {} and {} "
                                            "bytes, not {} and {}",
                                            op, (*file)->file_sha256, (*file)->size,
                                            e.file_sha256, e.size));
            } else {
                auto s = use(op, sql_insert_archive_file);
                if (!s) return s.error();
                (*s)->bind(1, e.archive).bind(2, e.path).bind(3, e.file_sha256).bind(4, e.size).bind(5, at);
                if (auto r = (*s)->step(); !r) return r.error();
            }
            {
                auto s = use(op, sql_insert_archive_entry);
                if (!s) return s.error();
                (*s)->bind(1, e.archive)
                    .bind(2, e.tenant)
                    .bind(3, e.workflow_id)
                    .bind(4, e.workflow_name)
                    .bind(5, e.version)
                    .bind(6, e.content_hash)
                    .bind(7, e.format)
                    .bind(8, e.path)
                    .bind(9, e.file_sha256)
                    .bind(10, e.size)
                    .bind(11, at);
                if (auto r = (*s)->step(); !r) return r.error();
            }
            auto s = use(op, sql_find_archive_entry);
            if (!s) return s.error();
            (*s)->bind(1, e.archive).bind(2, e.tenant).bind(3, e.workflow_id).bind(4, e.version).bind(5, e.content_hash);
            auto r = (*s)->step();
            if (!r) return r.error();
            if (!*r) return fail(errc::store, fmt::format("{}: row vanished", op));
            return read_archive_entry(**s);
        });
    }

    result<std::vector<archive_entry_row>> list_archive_entries(const std::string& archive,
                                                                const std::string& tenant,
                                                                const std::string& workflow) override
    {
        const std::string op = fmt::format("list entries of archive {}", archive);
        const std::size_t variant = (tenant.empty() ? 0u : 1u) + (workflow.empty() ? 0u : 2u);
        return in_tx(op, false, [&]() -> result<std::vector<archive_entry_row>> {
            auto s = use(op, sql_list_archive_entries[variant]);
            if (!s) return s.error();
            (*s)->bind(1, archive).bind(2, tenant).bind(3, workflow);
            return collect(**s, read_archive_entry, op);
        });
    }

    result<std::optional<std::string>> remove_archive_entry(row_id entry) override
    {
        const std::string op = fmt::format("remove archive entry {}", entry);
        return in_tx(op, true, [&]() -> result<std::optional<std::string>> {
            archive_entry_row e;
            {
                auto s = use(op, sql_get_archive_entry);
                if (!s) return s.error();
                (*s)->bind(1, entry);
                auto r = (*s)->step();
                if (!r) return r.error();
                if (!*r) return fail(errc::store, fmt::format("{}: no such archive entry", op));
                e = read_archive_entry(**s);
            }
            {
                auto s = use(op, sql_delete_archive_entry);
                if (!s) return s.error();
                (*s)->bind(1, entry);
                if (auto r = (*s)->step(); !r) return r.error();
            }
            std::int64_t refs = 0;
            {
                auto s = use(op, sql_archive_file_refs);
                if (!s) return s.error();
                (*s)->bind(1, e.archive).bind(2, e.path);
                auto r = (*s)->step();
                if (!r) return r.error();
                refs = *r ? (*s)->int64(0) : 0;
            }
            if (refs > 0) return std::nullopt;
            auto s = use(op, sql_delete_archive_file);
            if (!s) return s.error();
            (*s)->bind(1, e.archive).bind(2, e.path);
            if (auto r = (*s)->step(); !r) return r.error();
            return std::optional<std::string>(e.path);
        });
    }

    result<std::optional<archive_entry_row>> find_archive_entry_by_hash(
        const std::string& archive, const std::string& tenant, const std::string& workflow_id,
        const std::string& content_hash) override
    {
        constexpr std::string_view op = "find archive entry by content hash";
        return in_tx(op, false, [&]() -> result<std::optional<archive_entry_row>> {
            auto s = use(op, sql_find_archive_entry_by_hash);
            if (!s) return s.error();
            (*s)->bind(1, archive).bind(2, tenant).bind(3, workflow_id).bind(4, content_hash);
            auto r = (*s)->step();
            if (!r) return r.error();
            if (!*r) return std::nullopt;
            return read_archive_entry(**s);
        });
    }

    result<std::vector<archive_file_row>> list_archive_files(const std::string& archive) override
    {
        const std::string op = fmt::format("list files of archive {}", archive);
        return in_tx(op, false, [&]() -> result<std::vector<archive_file_row>> {
            auto s = use(op, sql_list_archive_files);
            if (!s) return s.error();
            (*s)->bind(1, archive);
            return collect(**s, read_archive_file, op);
        });
    }

    result<std::optional<archive_file_row>> find_archive_file(const std::string& archive,
                                                              const std::string& path) override
    {
        constexpr std::string_view op = "find archive file";
        return in_tx(op, false, [&] { return find_archive_file_in_tx(op, archive, path); });
    }

    int schema_version() override
    {
        auto s = use("read schema version", sql_user_version);
        if (!s) return -1;
        auto r = (*s)->step();
        return r && *r ? (*s)->integer(0) : -1;
    }

private:
    /// A cached statement, reset when the returned object dies.
    result<std::unique_ptr<statement>> use(std::string_view op, const char* sql)
    {
        auto st = db_->prepare(op, sql);
        if (!st) return st.error();
        return std::make_unique<statement>(*db_, *st, op);
    }

    /// Runs `f` in one transaction; commits if it succeeded, rolls back otherwise (also when
    /// it throws).
    template <class F>
    auto in_tx(std::string_view op, bool write, F&& f) -> decltype(f())
    {
        if (batch_open_ || (write && batching_ > 0)) {
            if (!batch_open_) {
                if (auto r = db_->exec(op, "BEGIN IMMEDIATE"); !r) return r.error();
                batch_open_ = true;
            }
            // A savepoint each, so that a failed write takes back only itself.
            if (auto r = db_->exec(op, "SAVEPOINT one_write"); !r) return r.error();
            auto r = f();
            if (!r) {
                sqlite3_exec(db_->handle(), "ROLLBACK TO one_write; RELEASE one_write", nullptr, nullptr, nullptr);
                return r;
            }
            if (auto c = db_->exec(op, "RELEASE one_write"); !c) return c.error();
            if (write) ++batch_writes_;
            return r;
        }
        transaction tx(*db_, op);
        if (auto r = tx.begin(write); !r) return r.error();
        auto r = f();
        if (!r) return r;
        if (auto c = tx.commit(); !c) return c.error();
        return r;
    }

    result<std::optional<workflow_row>> find_workflow_in_tx(std::string_view op,
                                                            const std::string& tenant,
                                                            const std::string& remote_id)
    {
        auto s = use(op, sql_find_workflow);
        if (!s) return s.error();
        (*s)->bind(1, tenant).bind(2, remote_id);
        auto r = (*s)->step();
        if (!r) return r.error();
        if (!*r) return std::nullopt;
        return read_workflow(**s);
    }

    result<std::optional<version_row>> find_version_in_tx(std::string_view op, row_id workflow,
                                                          const std::string& version,
                                                          const std::string& content_hash)
    {
        auto s = use(op, sql_find_version);
        if (!s) return s.error();
        (*s)->bind(1, workflow).bind(2, version).bind(3, content_hash);
        auto r = (*s)->step();
        if (!r) return r.error();
        if (!*r) return std::nullopt;
        return read_version(**s);
    }

    result<std::optional<import_intent>> get_intent_in_tx(std::string_view op, row_id id)
    {
        auto s = use(op, sql_get_intent);
        if (!s) return s.error();
        (*s)->bind(1, id);
        auto r = (*s)->step();
        if (!r) return r.error();
        if (!*r) return std::nullopt;
        auto i = read_intent(**s);
        if (!i) return std::move(i.error()).context(op);
        return std::optional<import_intent>(std::move(*i));
    }

    result<std::optional<archive_file_row>> find_archive_file_in_tx(std::string_view op,
                                                                    const std::string& archive,
                                                                    const std::string& path)
    {
        auto s = use(op, sql_find_archive_file);
        if (!s) return s.error();
        (*s)->bind(1, archive).bind(2, path);
        auto r = (*s)->step();
        if (!r) return r.error();
        if (!*r) return std::nullopt;
        return read_archive_file(**s);
    }

    /// The row id of a run given by id, or else by uid.
    result<row_id> run_id(std::string_view op, row_id id, const std::string& uid)
    {
        if (id != 0 || uid.empty()) return id;
        auto s = use(op, sql_run_id_by_uid);
        if (!s) return s.error();
        (*s)->bind(1, uid);
        auto r = (*s)->step();
        if (!r) return r.error();
        if (!*r) return fail(errc::store, fmt::format("{}: no such run", op));
        return (*s)->int64(0);
    }

    std::unique_ptr<database> db_;
    int batching_ = 0;         ///< begin_batching calls not yet ended
    bool batch_open_ = false;  ///< a batch's transaction is open
    std::size_t batch_writes_ = 0;
};

// ---- opening ------------------------------------------------------------------------------

/// Creates the missing directories leading to `dir` with mode 0700 (whatever the umask).
result<void> make_private_dirs(const std::filesystem::path& dir)
{
    if (dir.empty()) return {};
    std::error_code ec;
    if (std::filesystem::is_directory(dir, ec)) return {};
    if (auto r = make_private_dirs(dir.parent_path()); !r) return r;
    if (::mkdir(dir.c_str(), 0700) != 0) {
        const int err = errno;
        if (err == EEXIST) {
            if (std::filesystem::is_directory(dir, ec)) return {};  // created concurrently
            return fail(errc::io, fmt::format("cannot create directory {} for the state database: "
                                              "it exists and is not a directory",
                                              dir.string()));
        }
        return fail(errc_for_errno(err), fmt::format("cannot create directory {} for the state database: {}",
                                                     dir.string(), std::strerror(err)));
    }
    // mkdir's mode is filtered by the umask; chmod is not.
    if (::chmod(dir.c_str(), 0700) != 0)
        return fail(errc_for_errno(errno), fmt::format("cannot set mode 0700 on {}: {}", dir.string(),
                                                       std::strerror(errno)));
    return {};
}

/// Creates `path` with mode 0600 if it does not exist, so SQLite never creates it with the
/// umask's mode (the -wal and -shm files then copy the database file's mode).
result<void> make_private_file(const std::string& path)
{
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        if (errno == EEXIST) return {};  // existing file: keep its mode (the admin's choice)
        return fail(errc_for_errno(errno), fmt::format("cannot create state database {}: {}", path,
                                                       errno == EROFS ? "read-only file system" : std::strerror(errno)));
    }
    int rc = ::fchmod(fd, 0600);
    int err = errno;
    ::close(fd);
    if (rc != 0)
        return fail(errc_for_errno(err), fmt::format("cannot set mode 0600 on {}: {}", path, std::strerror(err)));
    return {};
}

/// Runs one check pragma; its problem lines, empty when it answers "ok". A file too damaged
/// to be checked answers with SQLite's error as the one problem.
result<std::vector<std::string>> run_check(database& db, const std::string& sql)
{
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db.handle(), sql.c_str(), -1, &st, nullptr) != SQLITE_OK) {
        const int ext = sqlite3_extended_errcode(db.handle());
        if ((ext & 0xff) == SQLITE_CORRUPT || (ext & 0xff) == SQLITE_NOTADB)
            return std::vector<std::string>{sqlite3_errmsg(db.handle())};
        return db.error_for("check the state database");
    }
    std::vector<std::string> problems;
    int rc = SQLITE_OK;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const auto* t = sqlite3_column_text(st, 0);
        auto more = detail::check_lines(t ? reinterpret_cast<const char*>(t) : "");
        problems.insert(problems.end(), more.begin(), more.end());
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        const int ext = sqlite3_extended_errcode(db.handle());
        if ((ext & 0xff) != SQLITE_CORRUPT && (ext & 0xff) != SQLITE_NOTADB) return db.error_for("check the state database");
        return std::vector<std::string>{sqlite3_errmsg(db.handle())};
    }
    if (problems.size() == 1 && problems.front() == "ok") problems.clear();
    return problems;
}

/// The check at every open. A damaged state is refused rather than used: writing into a broken
/// b-tree spreads the damage, and an index that disagrees with its table answers wrongly what
/// was imported (an intent not found is an import sent twice).
/// - PRAGMA quick_check over the whole file: every page and b-tree well formed.
/// - PRAGMA integrity_check of every table but the history (runs, events), which quick_check
///   does not do: each index agrees with its table. These tables decide what is imported; the
///   history's indexes, the bulk of a large state, only decide what `history` lists, and are
///   checked in full by `wfsync state check`. Costs: see README "Measured".
result<void> check_at_open(database& db)
{
    auto quick = run_check(db, "PRAGMA quick_check(5)");
    if (!quick) return quick.error();
    std::string pragma = "quick_check";
    std::vector<std::string> problems = std::move(*quick);
    if (problems.empty()) {
        std::vector<std::string> tables;
        sqlite3_stmt* st = nullptr;
        if (sqlite3_prepare_v2(db.handle(),
                               "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
                               "AND name NOT IN ('runs', 'events') ORDER BY name",
                               -1, &st, nullptr) != SQLITE_OK)
            return db.error_for("check the state database");
        while (sqlite3_step(st) == SQLITE_ROW)
            tables.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)));
        sqlite3_finalize(st);
        for (const auto& t : tables) {
            auto full = run_check(db, fmt::format("PRAGMA integrity_check(\"{}\")", t));
            if (!full) return full.error();
            if (!full->empty()) {
                pragma = fmt::format("integrity_check({})", t);
                problems = std::move(*full);
                break;
            }
        }
    }
    if (problems.empty()) return {};
    return fail(errc::store, fmt::format("state database {} is damaged (PRAGMA {}: {}{}); {}", db.path(), pragma,
                                         problems.front(), problems.size() > 1 ? "; and more" : "",
                                         detail::restore_advice(db.path())));
}

}  // namespace

/// The state's directory and file as ssh treats a private key: a directory others may write
/// to (they could swap the database) and a file that is a symbolic link are refused.
static result<void> check_private(const std::string& path)
{
    const auto dir = std::filesystem::path(path).parent_path();
    struct stat st {};
    if (!dir.empty() && ::stat(dir.c_str(), &st) == 0 && (st.st_mode & 0022) != 0)
        return fail(errc::io, fmt::format("state directory {} is writable by {} (mode {:04o}): anyone who can write "
                                          "there can replace the state; run chmod go-w {} (wfsync makes it 0700)",
                                          dir.string(), (st.st_mode & 0002) ? "others" : "its group",
                                          st.st_mode & 07777, dir.string()));
    if (::lstat(path.c_str(), &st) == 0 && S_ISLNK(st.st_mode))
        return fail(errc::io, fmt::format("state database {} is a symbolic link; wfsync does not follow links to its "
                                          "state: put the file itself there, or point state.path at its directory",
                                          path));
    return {};
}

result<std::unique_ptr<store>> open_sqlite(const std::string& path)
{
    if (path.empty()) return fail(errc::invalid_argument, "state database path is empty");
    const bool in_memory = path == ":memory:";
    if (!in_memory) {
        if (auto r = make_private_dirs(std::filesystem::path(path).parent_path()); !r)
            return r.error();
        if (auto r = check_private(path); !r) return r.error();
        if (auto r = make_private_file(path); !r) return r.error();
        if (auto r = detail::check_state_file(path, true); !r) return r.error();
    }

    auto db = std::make_unique<database>();
    if (auto r = db->open(path); !r) return r.error();
    if (sqlite3_busy_timeout(db->handle(), 5000) != SQLITE_OK) return db->error_for("set busy timeout");

    // The first read of the header tells a database from anything else.
    if (auto r = db->exec("open", "SELECT count(*) FROM sqlite_schema"); !r) {
        int rc = sqlite3_extended_errcode(db->handle());
        if (rc == SQLITE_NOTADB)
            return fail(errc::store, fmt::format("{} is not a SQLite database", path));
        return fail(detail::errc_for_sqlite(rc, db->handle()),
                    fmt::format("cannot open state database {}: {}", path,
                                detail::describe_sqlite(rc, sqlite3_errmsg(db->handle()), path)));
    }
    if (!in_memory)
        if (auto r = check_at_open(*db); !r) return r.error();

    if (!in_memory) {
        // journal_mode answers with the mode in force; anything but "wal" means no WAL.
        sqlite3_stmt* st = nullptr;
        if (sqlite3_prepare_v2(db->handle(), "PRAGMA journal_mode=WAL", -1, &st, nullptr) != SQLITE_OK)
            return db->error_for("set journal_mode=WAL");
        std::string mode;
        if (sqlite3_step(st) == SQLITE_ROW)
            mode = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
        sqlite3_finalize(st);
        if (mode != "wal")
            return fail(errc::store, fmt::format("cannot switch state database {} to WAL mode "
                                                 "(journal mode stays '{}'): {}",
                                                 path, mode, sqlite3_errmsg(db->handle())));
    }
    // synchronous=FULL: an import intent must be on disk before the request it announces is
    // sent. With NORMAL a power loss could drop a committed intent while a platform without
    // idempotency keys (Kore.ai, SecMaster) carries the import out, and the next run would
    // send it again. One fsync per commit is cheap at wfsync's write rate.
    if (auto r = db->exec("set pragmas", "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;"); !r)
        return r.error();

    auto version = detail::migrate(*db);
    if (!version) return version.error();
    return std::unique_ptr<store>(std::make_unique<sqlite_store>(std::move(db)));
}

}  // namespace wfsync::store
