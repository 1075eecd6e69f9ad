// SPDX-License-Identifier: Apache-2.0
// The PostgreSQL implementation of wfsync::store::store: the SQLite store's statements and
// semantics (sqlite_store.cpp) on a libpq connection. Every public method is one transaction
// (READ COMMITTED); writes grouped by begin_batching share one, a savepoint each.
#include "detail/pg.hpp"
#include "detail/stored_values.hpp"
#include "pg_migrations.hpp"

#include <wfsync/core/zlib.hpp>
#include <wfsync/store/store.hpp>

#include <fmt/format.h>

#include <chrono>
#include <type_traits>

namespace wfsync::store {
namespace {

using detail::pg::param;
using detail::pg::rows;

using detail::max_package_bytes;
using detail::now;
using detail::parse_intent_state;
using detail::parse_job_state;

// ---- SQL: sqlite_store.cpp's, with $N and ON CONFLICT for INSERT OR REPLACE/IGNORE. Text is
// ordered COLLATE "C" (bytes), as SQLite's BINARY does, whatever the database's locale.

constexpr const char* sql_upsert_tenant =
    "INSERT INTO tenants (name, first_seen, last_seen) VALUES ($1, $2, $2) "
    "ON CONFLICT (name) DO UPDATE SET last_seen = excluded.last_seen";
constexpr const char* sql_upsert_workflow =
    "INSERT INTO workflows (tenant, remote_id, name) VALUES ($1, $2, $3) "
    "ON CONFLICT (tenant, remote_id) DO UPDATE SET name = excluded.name "
    "RETURNING id, tenant, remote_id, name";
constexpr const char* sql_find_workflow =
    "SELECT id, tenant, remote_id, name FROM workflows WHERE tenant = $1 AND remote_id = $2";
constexpr const char* sql_list_workflows =
    "SELECT id, tenant, remote_id, name FROM workflows WHERE tenant = $1 "
    "ORDER BY name COLLATE \"C\", remote_id COLLATE \"C\"";

constexpr const char* sql_find_version =
    "SELECT id, workflow, version, content_hash, format, size, seen_at FROM versions "
    "WHERE workflow = $1 AND version = $2 AND content_hash = $3";
constexpr const char* sql_insert_version =
    "INSERT INTO versions (workflow, version, content_hash, format, size, package, seen_at) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (workflow, version, content_hash) DO NOTHING";
constexpr const char* sql_list_versions =
    "SELECT id, workflow, version, content_hash, format, size, seen_at FROM versions WHERE workflow = $1 "
    "ORDER BY id";
constexpr const char* sql_load_package = "SELECT size, package FROM versions WHERE id = $1";

constexpr const char* sql_find_mapping =
    "SELECT source_tenant, source_workflow, target_tenant, target_workflow, target_name FROM workflow_mappings "
    "WHERE source_tenant = $1 AND source_workflow = $2 AND target_tenant = $3";
constexpr const char* sql_put_mapping =
    "INSERT INTO workflow_mappings "
    "(source_tenant, source_workflow, target_tenant, target_workflow, target_name, updated_at) "
    "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (source_tenant, source_workflow, target_tenant) DO UPDATE SET "
    "target_workflow = excluded.target_workflow, target_name = excluded.target_name, "
    "updated_at = excluded.updated_at";

constexpr const char* sql_add_version_mapping =
    "INSERT INTO version_mappings (source_tenant, source_workflow, source_version, content_hash, "
    "target_tenant, target_workflow, target_version, at, target_hash) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
#define WFSYNC_VERSION_MAPPING_COLUMNS                                                          \
    "source_tenant, source_workflow, source_version, content_hash, target_tenant, "              \
    "target_workflow, target_version, at, target_hash"
constexpr const char* sql_last_version_mapping =
    "SELECT " WFSYNC_VERSION_MAPPING_COLUMNS " FROM version_mappings "
    "WHERE target_tenant = $1 AND target_workflow = $2 ORDER BY id DESC LIMIT 1";
constexpr const char* sql_find_version_mapping =
    "SELECT " WFSYNC_VERSION_MAPPING_COLUMNS " FROM version_mappings "
    "WHERE target_tenant = $1 AND target_workflow = $2 AND content_hash = $3 ORDER BY id DESC LIMIT 1";
#undef WFSYNC_VERSION_MAPPING_COLUMNS
constexpr const char* sql_has_version_mapping =
    "SELECT 1 FROM version_mappings WHERE target_tenant = $1 AND target_workflow = $2 "
    "AND content_hash = $3 LIMIT 1";
constexpr const char* sql_has_target_hash =
    "SELECT 1 FROM version_mappings WHERE target_tenant = $1 AND target_workflow = $2 AND target_hash = $3 "
    "AND target_hash <> '' LIMIT 1";
constexpr const char* sql_set_target_hash =
    "UPDATE version_mappings SET target_hash = $5 WHERE id = (SELECT id FROM version_mappings "
    "WHERE target_tenant = $1 AND target_workflow = $2 AND content_hash = $3 AND target_version = $4 "
    "ORDER BY id DESC LIMIT 1)";

constexpr const char* sql_listing_marks =
    "SELECT rule, source_tenant, source_workflow, target_tenant, source_mark, target_workflow, target_mark, "
    "content_hash, verified_at FROM listing_marks WHERE rule = $1";
constexpr const char* sql_put_listing_mark =
    "INSERT INTO listing_marks (rule, source_tenant, source_workflow, target_tenant, source_mark, "
    "target_workflow, target_mark, content_hash, verified_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) "
    "ON CONFLICT (rule, source_tenant, source_workflow, target_tenant) DO UPDATE SET "
    "source_mark = excluded.source_mark, target_workflow = excluded.target_workflow, "
    "target_mark = excluded.target_mark, content_hash = excluded.content_hash, verified_at = excluded.verified_at";
constexpr const char* sql_forget_listing_mark =
    "DELETE FROM listing_marks WHERE rule = $1 AND source_tenant = $2 AND source_workflow = $3 AND target_tenant = $4";

#define WFSYNC_INTENT_COLUMNS                                                                    \
    "id, rule, run_uid, source_tenant, source_workflow, source_version, content_hash, "          \
    "target_tenant, target_workflow, target_version, generation, idempotency_key, state, "       \
    "detail, created_at, updated_at, target_before, hold"
constexpr const char* sql_insert_intent =
    "INSERT INTO import_intents (rule, run_uid, source_tenant, source_workflow, source_version, "
    "content_hash, target_tenant, target_workflow, target_version, generation, idempotency_key, "
    "state, detail, created_at, updated_at, target_before) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'pending', $12, $13, $13, $14) "
    "RETURNING " WFSYNC_INTENT_COLUMNS;
constexpr const char* sql_get_intent = "SELECT " WFSYNC_INTENT_COLUMNS " FROM import_intents WHERE id = $1";
constexpr const char* sql_find_intent =
    "SELECT " WFSYNC_INTENT_COLUMNS " FROM import_intents "
    "WHERE rule = $1 AND source_tenant = $2 AND source_workflow = $3 AND target_tenant = $4 "
    "AND content_hash = $5 ORDER BY id DESC LIMIT 1";
constexpr const char* sql_open_intents =
    "SELECT " WFSYNC_INTENT_COLUMNS " FROM import_intents WHERE state IN ('pending', 'unknown') ORDER BY id";
constexpr const char* sql_set_intent_state =
    "UPDATE import_intents SET state = $2, detail = $3, updated_at = $4, "
    "target_workflow = CASE WHEN $5 <> '' THEN $5 ELSE target_workflow END, "
    "hold = CASE WHEN $2 IN ('pending', 'unknown') THEN hold ELSE '' END WHERE id = $1";
constexpr const char* sql_hold_intent =
    "UPDATE import_intents SET state = 'unknown', hold = $2, updated_at = $3 WHERE id = $1";
constexpr const char* sql_held_intents =
    "SELECT " WFSYNC_INTENT_COLUMNS " FROM import_intents "
    "WHERE state IN ('pending', 'unknown') AND hold <> '' ORDER BY id";
#undef WFSYNC_INTENT_COLUMNS

constexpr const char* sql_begin_run =
    "INSERT INTO runs (uid, rule, command, started_at) VALUES ($1, $2, $3, $4) RETURNING id";
constexpr const char* sql_finish_run =
    "UPDATE runs SET finished_at = $2, outcome = $3, imported = $4, unchanged = $5, drift = $6, errors = $7 "
    "WHERE id = $1";
constexpr const char* sql_run_id_by_uid = "SELECT id FROM runs WHERE uid = $1";
constexpr const char* sql_add_event =
    "INSERT INTO events (run, at, rule, kind, source_tenant, source_workflow, workflow_name, "
    "target_tenant, target_workflow, version, content_hash, message, duration_ms) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)";
// One statement per filter combination, as in the SQLite store; LIMIT NULL is no limit. Each
// names all three parameters ($N::text IS NOT NULL where unused): PostgreSQL must type every one.
#define WFSYNC_RUNS_SELECT                                                                       \
    "SELECT id, uid, rule, command, started_at, finished_at, outcome, imported, unchanged, "     \
    "drift, errors FROM runs r "
#define WFSYNC_RUNS_WITH_WORKFLOW                                                                \
    "r.id IN (SELECT run FROM events WHERE source_workflow = $2 "                                \
    "UNION SELECT run FROM events WHERE workflow_name = $2) "
constexpr const char* sql_last_successes =
    "SELECT rule, MAX(finished_at) FROM runs WHERE outcome = 'ok' AND rule <> '' AND finished_at > 0 "
    "GROUP BY rule ORDER BY rule COLLATE \"C\"";
constexpr const char* sql_list_runs[4] = {
    WFSYNC_RUNS_SELECT "WHERE $1::text IS NOT NULL AND $2::text IS NOT NULL ORDER BY r.id DESC LIMIT $3",
    WFSYNC_RUNS_SELECT "WHERE r.rule = $1 AND $2::text IS NOT NULL ORDER BY r.id DESC LIMIT $3",
    WFSYNC_RUNS_SELECT "WHERE $1::text IS NOT NULL AND " WFSYNC_RUNS_WITH_WORKFLOW "ORDER BY r.id DESC LIMIT $3",
    WFSYNC_RUNS_SELECT "WHERE r.rule = $1 AND " WFSYNC_RUNS_WITH_WORKFLOW "ORDER BY r.id DESC LIMIT $3",
};
#undef WFSYNC_RUNS_SELECT
#undef WFSYNC_RUNS_WITH_WORKFLOW
#define WFSYNC_EVENTS_SELECT                                                                     \
    "SELECT e.id, e.run, r.uid, e.at, e.rule, e.kind, e.source_tenant, e.source_workflow, "      \
    "e.workflow_name, e.target_tenant, e.target_workflow, e.version, e.content_hash, e.message, " \
    "e.duration_ms FROM events e JOIN runs r ON r.id = e.run "
#define WFSYNC_EVENTS_WITH_WORKFLOW "(e.source_workflow = $2 OR e.workflow_name = $2) "
constexpr const char* sql_list_events[4] = {
    WFSYNC_EVENTS_SELECT "WHERE $1::text IS NOT NULL AND $2::text IS NOT NULL ORDER BY e.id DESC LIMIT $3",
    WFSYNC_EVENTS_SELECT "WHERE e.rule = $1 AND $2::text IS NOT NULL ORDER BY e.id DESC LIMIT $3",
    WFSYNC_EVENTS_SELECT "WHERE $1::text IS NOT NULL AND " WFSYNC_EVENTS_WITH_WORKFLOW "ORDER BY e.id DESC LIMIT $3",
    WFSYNC_EVENTS_SELECT "WHERE e.rule = $1 AND " WFSYNC_EVENTS_WITH_WORKFLOW "ORDER BY e.id DESC LIMIT $3",
};
#undef WFSYNC_EVENTS_SELECT
#undef WFSYNC_EVENTS_WITH_WORKFLOW

std::size_t filter_variant(const history_filter& f) noexcept
{
    return (f.rule.empty() ? 0u : 1u) + (f.workflow.empty() ? 0u : 2u);
}

#define WFSYNC_JOB_COLUMNS                                                                       \
    "id, tenant, kind, job_id, workflow, version, intent, state, detail, created_at, updated_at, resume"
constexpr const char* sql_add_job =
    "INSERT INTO async_jobs (tenant, kind, job_id, workflow, version, intent, state, detail, "
    "created_at, updated_at, resume) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10) "
    "RETURNING " WFSYNC_JOB_COLUMNS;
constexpr const char* sql_open_jobs =
    "SELECT " WFSYNC_JOB_COLUMNS " FROM async_jobs WHERE state IN ('running', 'unknown') "
    "AND ($1 = '' OR tenant = $1) ORDER BY id";
constexpr const char* sql_set_job_state =
    "UPDATE async_jobs SET state = $2, detail = $3, updated_at = $4, "
    "resume = CASE WHEN $2 IN ('succeeded', 'failed') THEN '' ELSE resume END WHERE id = $1";
constexpr const char* sql_drop_ended_job =
    "DELETE FROM async_jobs WHERE tenant = $1 AND job_id = $2 AND state IN ('succeeded', 'failed')";
#undef WFSYNC_JOB_COLUMNS

#define WFSYNC_ARCHIVE_ENTRY_COLUMNS                                                             \
    "id, archive, tenant, workflow_id, workflow_name, version, content_hash, format, path, "     \
    "file_sha256, size, stored_at"
constexpr const char* sql_find_archive_file =
    "SELECT archive, path, file_sha256, size, created_at FROM archive_files WHERE archive = $1 AND path = $2";
constexpr const char* sql_list_archive_files =
    "SELECT archive, path, file_sha256, size, created_at FROM archive_files WHERE archive = $1 "
    "ORDER BY path COLLATE \"C\"";
constexpr const char* sql_insert_archive_file =
    "INSERT INTO archive_files (archive, path, file_sha256, size, created_at) VALUES ($1, $2, $3, $4, $5)";
constexpr const char* sql_insert_archive_entry =
    "INSERT INTO archive_entries (archive, tenant, workflow_id, workflow_name, version, "
    "content_hash, format, path, file_sha256, size, stored_at) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) "
    "ON CONFLICT (archive, tenant, workflow_id, version, content_hash) DO NOTHING";
constexpr const char* sql_find_archive_entry =
    "SELECT " WFSYNC_ARCHIVE_ENTRY_COLUMNS " FROM archive_entries WHERE archive = $1 AND "
    "tenant = $2 AND workflow_id = $3 AND version = $4 AND content_hash = $5";
constexpr const char* sql_get_archive_entry =
    "SELECT " WFSYNC_ARCHIVE_ENTRY_COLUMNS " FROM archive_entries WHERE id = $1";
constexpr const char* sql_find_archive_entry_by_hash =
    "SELECT " WFSYNC_ARCHIVE_ENTRY_COLUMNS " FROM archive_entries WHERE archive = $1 AND "
    "tenant = $2 AND workflow_id = $3 AND content_hash = $4 ORDER BY id DESC LIMIT 1";
constexpr const char* sql_delete_archive_entry = "DELETE FROM archive_entries WHERE id = $1";
constexpr const char* sql_archive_file_refs =
    "SELECT count(*) FROM archive_entries WHERE archive = $1 AND path = $2";
constexpr const char* sql_delete_archive_file = "DELETE FROM archive_files WHERE archive = $1 AND path = $2";
#define WFSYNC_ARCHIVE_LIST "SELECT " WFSYNC_ARCHIVE_ENTRY_COLUMNS " FROM archive_entries WHERE archive = $1 "
#define WFSYNC_ARCHIVE_ORDER "ORDER BY stored_at, id"
constexpr const char* sql_list_archive_entries[4] = {
    WFSYNC_ARCHIVE_LIST "AND $2::text IS NOT NULL AND $3::text IS NOT NULL " WFSYNC_ARCHIVE_ORDER,
    WFSYNC_ARCHIVE_LIST "AND tenant = $2 AND $3::text IS NOT NULL " WFSYNC_ARCHIVE_ORDER,
    WFSYNC_ARCHIVE_LIST "AND $2::text IS NOT NULL AND (workflow_id = $3 OR workflow_name = $3) " WFSYNC_ARCHIVE_ORDER,
    WFSYNC_ARCHIVE_LIST "AND tenant = $2 AND (workflow_id = $3 OR workflow_name = $3) " WFSYNC_ARCHIVE_ORDER,
};
#undef WFSYNC_ARCHIVE_LIST
#undef WFSYNC_ARCHIVE_ORDER
#undef WFSYNC_ARCHIVE_ENTRY_COLUMNS

#define WFSYNC_NOTIFICATION_COLUMNS                                                              \
    "id, target, event_key, event, rule, delivery, payload, state, attempts, last_error, created_at, updated_at"
constexpr const char* sql_queue_notification =
    "INSERT INTO notifications (target, event_key, event, rule, delivery, payload, state, attempts, "
    "last_error, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, 'pending', 0, '', $7, $7) "
    "ON CONFLICT DO NOTHING";
constexpr const char* sql_pending_notifications =
    "SELECT " WFSYNC_NOTIFICATION_COLUMNS " FROM notifications WHERE state = 'pending' ORDER BY id";
constexpr const char* sql_find_notification =
    "SELECT " WFSYNC_NOTIFICATION_COLUMNS " FROM notifications WHERE target = $1 AND event_key = $2";
#undef WFSYNC_NOTIFICATION_COLUMNS
constexpr const char* sql_set_notification_state =
    "UPDATE notifications SET state = $2, attempts = attempts + $3, last_error = $4, updated_at = $5, "
    "payload = CASE WHEN $2 = 'sent' THEN '' ELSE payload END WHERE id = $1";
constexpr const char* sql_get_rule_health =
    "SELECT rule, failing, since_run, updated_at FROM rule_health WHERE rule = $1";
constexpr const char* sql_put_rule_health =
    "INSERT INTO rule_health (rule, failing, since_run, updated_at) VALUES ($1, $2, $3, $4) "
    "ON CONFLICT (rule) DO UPDATE SET failing = excluded.failing, since_run = excluded.since_run, "
    "updated_at = excluded.updated_at";

// ---- row readers

workflow_row read_workflow(const rows& q, int i)
{
    return workflow_row{q.int64(i, 0), q.text(i, 1), q.text(i, 2), q.text(i, 3)};
}

version_row read_version(const rows& q, int i)
{
    return version_row{q.int64(i, 0), q.int64(i, 1), q.text(i, 2), q.text(i, 3),
                       q.text(i, 4),  q.int64(i, 5), q.int64(i, 6)};
}

result<import_intent> read_intent(const rows& q, int r)
{
    import_intent i;
    i.id = q.int64(r, 0);
    i.rule = q.text(r, 1);
    i.run_uid = q.text(r, 2);
    i.source_tenant = q.text(r, 3);
    i.source_workflow = q.text(r, 4);
    i.source_version = q.text(r, 5);
    i.content_hash = q.text(r, 6);
    i.target_tenant = q.text(r, 7);
    i.target_workflow = q.text(r, 8);
    i.target_version = q.text(r, 9);
    i.generation = q.integer(r, 10);
    i.idempotency_key = q.text(r, 11);
    auto st = parse_intent_state(q.text(r, 12));
    if (!st) return st.error();
    i.state = *st;
    i.detail = q.text(r, 13);
    i.created_at = q.int64(r, 14);
    i.updated_at = q.int64(r, 15);
    i.target_before = q.text(r, 16);
    i.hold = q.text(r, 17);
    return i;
}

version_mapping read_version_mapping(const rows& q, int i)
{
    version_mapping m{q.text(i, 0), q.text(i, 1), q.text(i, 2), q.text(i, 3),
                      q.text(i, 4), q.text(i, 5), q.text(i, 6), q.int64(i, 7), {}};
    m.target_hash = q.text(i, 8);
    return m;
}

run_row read_run(const rows& q, int i)
{
    run_row r;
    r.id = q.int64(i, 0);
    r.uid = q.text(i, 1);
    r.rule = q.text(i, 2);
    r.command = q.text(i, 3);
    r.started_at = q.int64(i, 4);
    r.finished_at = q.int64(i, 5);
    r.outcome = q.text(i, 6);
    r.imported = q.integer(i, 7);
    r.unchanged = q.integer(i, 8);
    r.drift = q.integer(i, 9);
    r.errors = q.integer(i, 10);
    return r;
}

event_row read_event(const rows& q, int i)
{
    event_row e;
    e.id = q.int64(i, 0);
    e.run = q.int64(i, 1);
    e.run_uid = q.text(i, 2);
    e.at = q.int64(i, 3);
    e.rule = q.text(i, 4);
    e.kind = q.text(i, 5);
    e.source_tenant = q.text(i, 6);
    e.source_workflow = q.text(i, 7);
    e.workflow_name = q.text(i, 8);
    e.target_tenant = q.text(i, 9);
    e.target_workflow = q.text(i, 10);
    e.version = q.text(i, 11);
    e.content_hash = q.text(i, 12);
    e.message = q.text(i, 13);
    e.duration_ms = q.int64(i, 14);
    return e;
}

result<async_job> read_job(const rows& q, int i)
{
    async_job j;
    j.id = q.int64(i, 0);
    j.tenant = q.text(i, 1);
    j.kind = q.text(i, 2);
    j.job_id = q.text(i, 3);
    j.workflow = q.text(i, 4);
    j.version = q.text(i, 5);
    j.intent = q.is_null(i, 6) ? 0 : q.int64(i, 6);
    auto st = parse_job_state(q.text(i, 7));
    if (!st) return st.error();
    j.state = *st;
    j.detail = q.text(i, 8);
    j.created_at = q.int64(i, 9);
    j.updated_at = q.int64(i, 10);
    j.resume = q.text(i, 11);
    return j;
}

archive_entry_row read_archive_entry(const rows& q, int i)
{
    archive_entry_row e;
    e.id = q.int64(i, 0);
    e.archive = q.text(i, 1);
    e.tenant = q.text(i, 2);
    e.workflow_id = q.text(i, 3);
    e.workflow_name = q.text(i, 4);
    e.version = q.text(i, 5);
    e.content_hash = q.text(i, 6);
    e.format = q.text(i, 7);
    e.path = q.text(i, 8);
    e.file_sha256 = q.text(i, 9);
    e.size = q.int64(i, 10);
    e.stored_at = q.int64(i, 11);
    return e;
}

archive_file_row read_archive_file(const rows& q, int i)
{
    return archive_file_row{q.text(i, 0), q.text(i, 1), q.text(i, 2), q.int64(i, 3), q.int64(i, 4)};
}

notification_row read_notification(const rows& q, int i)
{
    notification_row n;
    n.id = q.int64(i, 0);
    n.target = q.text(i, 1);
    n.event_key = q.text(i, 2);
    n.event = q.text(i, 3);
    n.rule = q.text(i, 4);
    n.delivery = q.text(i, 5);
    n.payload = q.text(i, 6);
    const auto st = q.text(i, 7);
    n.state = st == "sent" ? notification_state::sent
              : st == "dropped" ? notification_state::dropped
                                : notification_state::pending;
    n.attempts = q.integer(i, 8);
    n.last_error = q.text(i, 9);
    n.created_at = q.int64(i, 10);
    n.updated_at = q.int64(i, 11);
    return n;
}

template <class T>
struct row_of {
    using type = T;
};
template <class T>
struct row_of<result<T>> {
    using type = T;
};

/// Every row of `q` read with `read` (a row or a result<row>; one it cannot understand fails all).
template <class Read>
auto collect(const rows& q, Read read, std::string_view op)
    -> result<std::vector<typename row_of<std::invoke_result_t<Read, const rows&, int>>::type>>
{
    using raw = std::invoke_result_t<Read, const rows&, int>;
    using row = typename row_of<raw>::type;
    std::vector<row> out;
    out.reserve(static_cast<std::size_t>(q.size()));
    for (int i = 0; i < q.size(); ++i) {
        if constexpr (std::is_same_v<raw, row>) {
            out.push_back(read(q, i));
        } else {
            auto v = read(q, i);
            if (!v) return std::move(v.error()).context(op);
            out.push_back(std::move(*v));
        }
    }
    return out;
}

/// LIMIT NULL is no limit, as -1 is in SQLite.
param sql_limit(int limit)
{
    if (limit > 0) return param(limit);
    return param(std::nullopt);
}

// ---- the store

class pg_store final : public store {
public:
    explicit pg_store(std::unique_ptr<detail::pg::connection> db) : db_(std::move(db)) {}
    ~pg_store() override
    {
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
        if (auto r = db_->script("commit batched writes", "COMMIT"); !r) {
            db_->quietly("ROLLBACK");
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
            if (auto r = q(op, sql_upsert_tenant, {tenant, now()}); !r) return r.error();
            auto r = q(op, sql_upsert_workflow, {tenant, remote_id, name});
            if (!r) return r.error();
            return read_workflow(*r, 0);
        });
    }

    result<std::optional<workflow_row>> find_workflow(const std::string& tenant,
                                                      const std::string& remote_id) override
    {
        constexpr std::string_view op = "find workflow";
        return in_tx(op, false, [&]() -> result<std::optional<workflow_row>> {
            auto r = q(op, sql_find_workflow, {tenant, remote_id});
            if (!r) return r.error();
            if (r->empty()) return std::nullopt;
            return read_workflow(*r, 0);
        });
    }

    result<std::vector<workflow_row>> list_workflows(const std::string& tenant) override
    {
        constexpr std::string_view op = "list workflows";
        return in_tx(op, false, [&]() -> result<std::vector<workflow_row>> {
            auto r = q(op, sql_list_workflows, {tenant});
            if (!r) return r.error();
            return collect(*r, read_workflow, op);
        });
    }

    result<version_row> put_version(row_id workflow, const std::string& version, const std::string& content_hash,
                                    const std::string& format, const std::string& package) override
    {
        constexpr std::string_view op = "put version";
        auto existing = in_tx(op, false, [&] { return find_version_in_tx(op, workflow, version, content_hash); });
        if (!existing) return existing.error();
        if (*existing) return **existing;

        const std::string blob = zlib_compress(package);
        return in_tx(op, true, [&]() -> result<version_row> {
            auto ins = q(op, sql_insert_version,
                         {workflow, version, content_hash, format, static_cast<std::int64_t>(package.size()),
                          param::bytes(blob), now()});
            if (!ins) {
                if (db_->last_sqlstate() == "23503")
                    return fail(errc::store, fmt::format("{}: workflow {} does not exist", op, workflow));
                return ins.error();
            }
            auto row = find_version_in_tx(op, workflow, version, content_hash);
            if (!row) return row.error();
            if (!*row)
                return fail(errc::store,
                            fmt::format("{}: row for workflow {} version {} vanished", op, workflow, version));
            return **row;
        });
    }

    result<std::vector<version_row>> list_versions(row_id workflow) override
    {
        constexpr std::string_view op = "list versions";
        return in_tx(op, false, [&]() -> result<std::vector<version_row>> {
            auto r = q(op, sql_list_versions, {workflow});
            if (!r) return r.error();
            return collect(*r, read_version, op);
        });
    }

    result<std::string> load_package(row_id version) override
    {
        const std::string op = fmt::format("load package of version {}", version);
        std::int64_t size = 0;
        std::string blob;
        auto read = in_tx(op, false, [&]() -> result<bool> {
            auto r = q(op, sql_load_package, {version});
            if (!r) return r.error();
            if (r->empty()) return false;
            size = r->int64(0, 0);
            blob = r->bytes(0, 1);
            return true;
        });
        if (!read) return read.error();
        if (!*read) return fail(errc::store, fmt::format("{}: no such version", op));
        auto raw = zlib_decompress(blob, max_package_bytes);
        if (!raw)
            return fail(errc::store, fmt::format("{}: stored package is corrupt ({})", op, raw.error().message));
        if (static_cast<std::int64_t>(raw->size()) != size)
            return fail(errc::store, fmt::format("{}: stored package is corrupt (inflates to {} bytes, {} recorded)",
                                                 op, raw->size(), size));
        return std::move(*raw);
    }

    result<std::optional<workflow_mapping>> find_mapping(const std::string& source_tenant,
                                                         const std::string& source_workflow,
                                                         const std::string& target_tenant) override
    {
        constexpr std::string_view op = "find workflow mapping";
        return in_tx(op, false, [&]() -> result<std::optional<workflow_mapping>> {
            auto r = q(op, sql_find_mapping, {source_tenant, source_workflow, target_tenant});
            if (!r) return r.error();
            if (r->empty()) return std::nullopt;
            return workflow_mapping{r->text(0, 0), r->text(0, 1), r->text(0, 2), r->text(0, 3), r->text(0, 4)};
        });
    }

    result<void> put_mapping(const workflow_mapping& m) override
    {
        constexpr std::string_view op = "put workflow mapping";
        return write(op, sql_put_mapping,
                     {m.source_tenant, m.source_workflow, m.target_tenant, m.target_workflow, m.target_name, now()});
    }

    result<void> add_version_mapping(const version_mapping& m) override
    {
        constexpr std::string_view op = "add version mapping";
        return write(op, sql_add_version_mapping,
                     {m.source_tenant, m.source_workflow, m.source_version, m.content_hash, m.target_tenant,
                      m.target_workflow, m.target_version, m.at != 0 ? m.at : now(), m.target_hash});
    }

    result<bool> has_version_mapping(const std::string& target_tenant, const std::string& target_workflow,
                                     const std::string& content_hash) override
    {
        return exists("find version mapping", sql_has_version_mapping, {target_tenant, target_workflow, content_hash});
    }

    result<std::optional<version_mapping>> find_version_mapping(const std::string& target_tenant,
                                                                const std::string& target_workflow,
                                                                const std::string& content_hash) override
    {
        return one_mapping("find version mapping", sql_find_version_mapping,
                           {target_tenant, target_workflow, content_hash});
    }

    result<bool> has_target_hash(const std::string& target_tenant, const std::string& target_workflow,
                                 const std::string& target_hash) override
    {
        return exists("find target fingerprint", sql_has_target_hash, {target_tenant, target_workflow, target_hash});
    }

    result<void> set_target_hash(const std::string& target_tenant, const std::string& target_workflow,
                                 const std::string& content_hash, const std::string& target_version,
                                 const std::string& target_hash) override
    {
        constexpr std::string_view op = "set target fingerprint";
        return in_tx(op, true, [&]() -> result<void> {
            auto r = q(op, sql_set_target_hash, {target_tenant, target_workflow, content_hash, target_version, target_hash});
            if (!r) return r.error();
            if (r->affected() == 0)
                return fail(errc::not_found, fmt::format("{}: no mapping of {} into {}/{} version {}", op, content_hash,
                                                         target_tenant, target_workflow, target_version));
            return {};
        });
    }

    result<std::optional<version_mapping>> last_version_mapping(const std::string& target_tenant,
                                                                const std::string& target_workflow) override
    {
        return one_mapping("find last version mapping", sql_last_version_mapping, {target_tenant, target_workflow});
    }

    result<std::vector<listing_mark>> listing_marks(const std::string& rule) override
    {
        constexpr std::string_view op = "read listing marks";
        return in_tx(op, false, [&]() -> result<std::vector<listing_mark>> {
            auto r = q(op, sql_listing_marks, {rule});
            if (!r) return r.error();
            std::vector<listing_mark> out;
            for (int i = 0; i < r->size(); ++i)
                out.push_back({r->text(i, 0), r->text(i, 1), r->text(i, 2), r->text(i, 3), r->text(i, 4),
                               r->text(i, 5), r->text(i, 6), r->text(i, 7), r->int64(i, 8)});
            return out;
        });
    }

    result<void> put_listing_mark(const listing_mark& m) override
    {
        return write("record listing mark", sql_put_listing_mark,
                     {m.rule, m.source_tenant, m.source_workflow, m.target_tenant, m.source_mark, m.target_workflow,
                      m.target_mark, m.content_hash, static_cast<std::int64_t>(m.verified_at)});
    }

    result<void> forget_listing_mark(const std::string& rule, const std::string& source_tenant,
                                     const std::string& source_workflow, const std::string& target_tenant) override
    {
        return write("forget listing mark", sql_forget_listing_mark,
                     {rule, source_tenant, source_workflow, target_tenant});
    }

    result<import_intent> create_intent(const import_intent& i) override
    {
        constexpr std::string_view op = "create import intent";
        if (i.idempotency_key.empty())
            return fail(errc::invalid_argument, fmt::format("{}: empty idempotency key", op));
        return in_tx(op, true, [&]() -> result<import_intent> {
            auto r = q(op, sql_insert_intent,
                       {i.rule, i.run_uid, i.source_tenant, i.source_workflow, i.source_version, i.content_hash,
                        i.target_tenant, i.target_workflow, i.target_version, i.generation, i.idempotency_key,
                        i.detail, i.created_at != 0 ? i.created_at : now(), i.target_before});
            if (!r) {
                if (db_->last_sqlstate() == "23505")
                    return fail(errc::conflict,
                                fmt::format("{}: idempotency key {} already exists", op, i.idempotency_key));
                return r.error();
            }
            auto got = read_intent(*r, 0);
            if (!got) return std::move(got.error()).context(op);
            return std::move(*got);
        });
    }

    result<std::optional<import_intent>> find_intent(const std::string& rule, const std::string& source_tenant,
                                                     const std::string& source_workflow,
                                                     const std::string& target_tenant,
                                                     const std::string& content_hash) override
    {
        return one_intent("find import intent", sql_find_intent,
                          {rule, source_tenant, source_workflow, target_tenant, content_hash});
    }

    result<std::vector<import_intent>> open_intents() override
    {
        return intents("list open import intents", sql_open_intents);
    }

    result<void> set_intent_state(row_id intent, intent_state st, const std::string& detail,
                                  const std::string& target_workflow) override
    {
        const std::string op = fmt::format("set state of import intent {}", intent);
        return in_tx(op, true, [&]() -> result<void> {
            auto r = q(op, sql_set_intent_state, {intent, to_string(st), detail, now(), target_workflow});
            if (!r) return r.error();
            if (r->affected() == 0) return fail(errc::store, fmt::format("{}: no such intent", op));
            return {};
        });
    }

    result<void> hold_intent(row_id intent, const std::string& hold) override
    {
        const std::string op = fmt::format("hold import intent {}", intent);
        if (hold.empty()) return fail(errc::invalid_argument, op + ": a hold needs a text");
        return in_tx(op, true, [&]() -> result<void> {
            auto r = q(op, sql_hold_intent, {intent, hold, now()});
            if (!r) return r.error();
            if (r->affected() == 0) return fail(errc::not_found, fmt::format("{}: no such intent", op));
            return {};
        });
    }

    result<std::optional<import_intent>> get_intent(row_id intent) override
    {
        return one_intent(fmt::format("read import intent {}", intent), sql_get_intent, {intent});
    }

    result<std::vector<import_intent>> held_intents() override
    {
        return intents("list held import intents", sql_held_intents);
    }

    result<run_row> begin_run(const std::string& uid, const std::string& rule, const std::string& command) override
    {
        constexpr std::string_view op = "begin run";
        return in_tx(op, true, [&]() -> result<run_row> {
            run_row r;
            r.uid = uid;
            r.rule = rule;
            r.command = command;
            r.started_at = now();
            auto ins = q(op, sql_begin_run, {uid, rule, command, r.started_at});
            if (!ins) {
                if (db_->last_sqlstate() == "23505")
                    return fail(errc::conflict, fmt::format("{}: run id {} already exists", op, uid));
                return ins.error();
            }
            r.id = ins->int64(0, 0);
            return r;
        });
    }

    result<void> finish_run(const run_row& run) override
    {
        const std::string op = fmt::format("finish run {}", run.uid);
        return in_tx(op, true, [&]() -> result<void> {
            auto id = run_id(op, run.id, run.uid);
            if (!id) return id.error();
            auto r = q(op, sql_finish_run,
                       {*id, run.finished_at != 0 ? run.finished_at : now(), run.outcome, run.imported, run.unchanged,
                        run.drift, run.errors});
            if (!r) return r.error();
            if (r->affected() == 0) return fail(errc::store, fmt::format("{}: no such run", op));
            return {};
        });
    }

    result<void> add_event(const event_row& e) override
    {
        const std::string op =
            fmt::format("add {} event to run {}", e.kind, e.run_uid.empty() ? std::to_string(e.run) : e.run_uid);
        return in_tx(op, true, [&]() -> result<void> {
            auto id = run_id(op, e.run, e.run_uid);
            if (!id) return id.error();
            auto r = q(op, sql_add_event,
                       {*id, e.at != 0 ? e.at : now(), e.rule, e.kind, e.source_tenant, e.source_workflow,
                        e.workflow_name, e.target_tenant, e.target_workflow, e.version, e.content_hash, e.message,
                        e.duration_ms});
            if (!r) {
                if (db_->last_sqlstate() == "23503") return fail(errc::store, fmt::format("{}: no such run", op));
                return r.error();
            }
            return {};
        });
    }

    result<std::vector<run_row>> list_runs(const history_filter& f) override
    {
        constexpr std::string_view op = "list runs";
        return in_tx(op, false, [&]() -> result<std::vector<run_row>> {
            auto r = q(op, sql_list_runs[filter_variant(f)], {f.rule, f.workflow, sql_limit(f.limit)});
            if (!r) return r.error();
            return collect(*r, read_run, op);
        });
    }

    result<std::vector<rule_success>> last_successes() override
    {
        constexpr std::string_view op = "read the last successes";
        return in_tx(op, false, [&]() -> result<std::vector<rule_success>> {
            auto r = q(op, sql_last_successes);
            if (!r) return r.error();
            return collect(*r, [](const rows& q, int i) { return rule_success{q.text(i, 0), q.int64(i, 1)}; }, op);
        });
    }

    result<std::vector<event_row>> list_events(const history_filter& f) override
    {
        constexpr std::string_view op = "list events";
        return in_tx(op, false, [&]() -> result<std::vector<event_row>> {
            auto r = q(op, sql_list_events[filter_variant(f)], {f.rule, f.workflow, sql_limit(f.limit)});
            if (!r) return r.error();
            return collect(*r, read_event, op);
        });
    }

    result<async_job> add_job(const async_job& j) override
    {
        const std::string op = fmt::format("add {} job {} of {}", j.kind, j.job_id, j.tenant);
        if (j.kind != "export" && j.kind != "import")
            return fail(errc::invalid_argument, fmt::format("{}: kind must be export or import", op));
        return in_tx(op, true, [&]() -> result<async_job> {
            if (auto d = q(op, sql_drop_ended_job, {j.tenant, j.job_id}); !d) return d.error();
            auto r = q(op, sql_add_job,
                       {j.tenant, j.kind, j.job_id, j.workflow, j.version,
                        j.intent != 0 ? param(j.intent) : param(std::nullopt), to_string(j.state), j.detail,
                        j.created_at != 0 ? j.created_at : now(), j.resume});
            if (!r) {
                if (db_->last_sqlstate() == "23505")
                    return fail(errc::conflict, fmt::format("{}: job already recorded", op));
                if (db_->last_sqlstate() == "23503")
                    return fail(errc::store, fmt::format("{}: import intent {} does not exist", op, j.intent));
                return r.error();
            }
            auto job = read_job(*r, 0);
            if (!job) return std::move(job.error()).context(op);
            return std::move(*job);
        });
    }

    result<std::vector<async_job>> open_jobs(const std::string& tenant) override
    {
        constexpr std::string_view op = "list open async jobs";
        return in_tx(op, false, [&]() -> result<std::vector<async_job>> {
            auto r = q(op, sql_open_jobs, {tenant});
            if (!r) return r.error();
            return collect(*r, read_job, op);
        });
    }

    result<void> set_job_state(row_id job, job_state st, const std::string& detail) override
    {
        const std::string op = fmt::format("set state of async job {}", job);
        return in_tx(op, true, [&]() -> result<void> {
            auto r = q(op, sql_set_job_state, {job, to_string(st), detail, now()});
            if (!r) return r.error();
            if (r->affected() == 0) return fail(errc::store, fmt::format("{}: no such job", op));
            return {};
        });
    }

    result<archive_entry_row> add_archive_entry(const archive_entry_row& e) override
    {
        const std::string op = fmt::format("add archive entry {} of {}/{} version {} in archive {}", e.path,
                                           e.tenant, e.workflow_id, e.version, e.archive);
        if (e.archive.empty() || e.path.empty() || e.tenant.empty() || e.workflow_id.empty() ||
            e.content_hash.empty() || e.file_sha256.empty())
            return fail(errc::invalid_argument,
                        fmt::format("{}: archive, tenant, workflow id, content hash, path and file sha256 must not "
                                    "be empty",
                                    op));
        return in_tx(op, true, [&]() -> result<archive_entry_row> {
            const unix_time at = e.stored_at != 0 ? e.stored_at : now();
            auto file = find_archive_file_in_tx(op, e.archive, e.path);
            if (!file) return file.error();
            if (*file) {
                if ((*file)->file_sha256 != e.file_sha256 || (*file)->size != e.size)
                    return fail(errc::conflict,
                                fmt::format("{}: the catalogue has this file with sha256 {} and {} bytes, not {} and {}",
                                            op, (*file)->file_sha256, (*file)->size, e.file_sha256, e.size));
            } else if (auto r = q(op, sql_insert_archive_file, {e.archive, e.path, e.file_sha256, e.size, at}); !r) {
                return r.error();
            }
            if (auto r = q(op, sql_insert_archive_entry,
                           {e.archive, e.tenant, e.workflow_id, e.workflow_name, e.version, e.content_hash, e.format,
                            e.path, e.file_sha256, e.size, at});
                !r)
                return r.error();
            auto r = q(op, sql_find_archive_entry, {e.archive, e.tenant, e.workflow_id, e.version, e.content_hash});
            if (!r) return r.error();
            if (r->empty()) return fail(errc::store, fmt::format("{}: row vanished", op));
            return read_archive_entry(*r, 0);
        });
    }

    result<std::vector<archive_entry_row>> list_archive_entries(const std::string& archive, const std::string& tenant,
                                                                const std::string& workflow) override
    {
        const std::string op = fmt::format("list entries of archive {}", archive);
        const std::size_t variant = (tenant.empty() ? 0u : 1u) + (workflow.empty() ? 0u : 2u);
        return in_tx(op, false, [&]() -> result<std::vector<archive_entry_row>> {
            auto r = q(op, sql_list_archive_entries[variant], {archive, tenant, workflow});
            if (!r) return r.error();
            return collect(*r, read_archive_entry, op);
        });
    }

    result<std::optional<std::string>> remove_archive_entry(row_id entry) override
    {
        const std::string op = fmt::format("remove archive entry {}", entry);
        return in_tx(op, true, [&]() -> result<std::optional<std::string>> {
            auto got = q(op, sql_get_archive_entry, {entry});
            if (!got) return got.error();
            if (got->empty()) return fail(errc::store, fmt::format("{}: no such archive entry", op));
            const auto e = read_archive_entry(*got, 0);
            if (auto r = q(op, sql_delete_archive_entry, {entry}); !r) return r.error();
            auto refs = q(op, sql_archive_file_refs, {e.archive, e.path});
            if (!refs) return refs.error();
            if (refs->int64(0, 0) > 0) return std::nullopt;
            if (auto r = q(op, sql_delete_archive_file, {e.archive, e.path}); !r) return r.error();
            return std::optional<std::string>(e.path);
        });
    }

    result<std::optional<archive_entry_row>> find_archive_entry_by_hash(const std::string& archive,
                                                                        const std::string& tenant,
                                                                        const std::string& workflow_id,
                                                                        const std::string& content_hash) override
    {
        constexpr std::string_view op = "find archive entry by content hash";
        return in_tx(op, false, [&]() -> result<std::optional<archive_entry_row>> {
            auto r = q(op, sql_find_archive_entry_by_hash, {archive, tenant, workflow_id, content_hash});
            if (!r) return r.error();
            if (r->empty()) return std::nullopt;
            return read_archive_entry(*r, 0);
        });
    }

    result<std::vector<archive_file_row>> list_archive_files(const std::string& archive) override
    {
        const std::string op = fmt::format("list files of archive {}", archive);
        return in_tx(op, false, [&]() -> result<std::vector<archive_file_row>> {
            auto r = q(op, sql_list_archive_files, {archive});
            if (!r) return r.error();
            return collect(*r, read_archive_file, op);
        });
    }

    result<std::optional<archive_file_row>> find_archive_file(const std::string& archive,
                                                              const std::string& path) override
    {
        constexpr std::string_view op = "find archive file";
        return in_tx(op, false, [&] { return find_archive_file_in_tx(op, archive, path); });
    }

    result<bool> queue_notification(const notification_row& n) override
    {
        const std::string op = fmt::format("queue notification {} for {}", n.event_key, n.target);
        return in_tx(op, true, [&]() -> result<bool> {
            auto r = q(op, sql_queue_notification,
                       {n.target, n.event_key, n.event, n.rule, n.delivery, n.payload,
                        n.created_at != 0 ? n.created_at : now()});
            if (!r) return r.error();
            return r->affected() > 0;
        });
    }

    result<std::vector<notification_row>> pending_notifications() override
    {
        constexpr std::string_view op = "read pending notifications";
        return in_tx(op, false, [&]() -> result<std::vector<notification_row>> {
            auto r = q(op, sql_pending_notifications);
            if (!r) return r.error();
            return collect(*r, read_notification, op);
        });
    }

    result<std::optional<notification_row>> find_notification(const std::string& target,
                                                               const std::string& event_key) override
    {
        constexpr std::string_view op = "find notification";
        return in_tx(op, false, [&]() -> result<std::optional<notification_row>> {
            auto r = q(op, sql_find_notification, {target, event_key});
            if (!r) return r.error();
            if (r->empty()) return std::nullopt;
            return read_notification(*r, 0);
        });
    }

    result<void> set_notification_state(row_id id, notification_state st, int attempts,
                                        const std::string& error) override
    {
        const std::string op = fmt::format("set state of notification {}", id);
        return in_tx(op, true, [&]() -> result<void> {
            auto r = q(op, sql_set_notification_state, {id, to_string(st), attempts, error, now()});
            if (!r) return r.error();
            if (r->affected() == 0) return fail(errc::store, fmt::format("{}: no such notification", op));
            return {};
        });
    }

    result<std::optional<rule_health>> get_rule_health(const std::string& rule) override
    {
        constexpr std::string_view op = "read rule health";
        return in_tx(op, false, [&]() -> result<std::optional<rule_health>> {
            auto r = q(op, sql_get_rule_health, {rule});
            if (!r) return r.error();
            if (r->empty()) return std::nullopt;
            return rule_health{r->text(0, 0), r->integer(0, 1) != 0, r->text(0, 2), r->int64(0, 3)};
        });
    }

    result<void> put_rule_health(const rule_health& h) override
    {
        return write("record rule health", sql_put_rule_health,
                     {h.rule, h.failing ? 1 : 0, h.since_run, h.updated_at != 0 ? h.updated_at : now()});
    }

    int schema_version() override
    {
        auto v = detail::pg_schema_version(*db_);
        return v ? *v : -1;
    }

private:
    result<rows> q(std::string_view op, const char* sql, const std::vector<param>& params = {})
    {
        return db_->exec(op, sql, params);
    }

    /// One statement in its own transaction (or the open batch).
    result<void> write(std::string_view op, const char* sql, const std::vector<param>& params)
    {
        return in_tx(op, true, [&]() -> result<void> {
            if (auto r = q(op, sql, params); !r) return r.error();
            return {};
        });
    }

    result<bool> exists(std::string_view op, const char* sql, const std::vector<param>& params)
    {
        return in_tx(op, false, [&]() -> result<bool> {
            auto r = q(op, sql, params);
            if (!r) return r.error();
            return !r->empty();
        });
    }

    result<std::optional<version_mapping>> one_mapping(std::string_view op, const char* sql,
                                                       const std::vector<param>& params)
    {
        return in_tx(op, false, [&]() -> result<std::optional<version_mapping>> {
            auto r = q(op, sql, params);
            if (!r) return r.error();
            if (r->empty()) return std::nullopt;
            return read_version_mapping(*r, 0);
        });
    }

    result<std::optional<import_intent>> one_intent(std::string_view op, const char* sql,
                                                    const std::vector<param>& params)
    {
        return in_tx(op, false, [&]() -> result<std::optional<import_intent>> {
            auto r = q(op, sql, params);
            if (!r) return r.error();
            if (r->empty()) return std::nullopt;
            auto i = read_intent(*r, 0);
            if (!i) return std::move(i.error()).context(op);
            return std::optional<import_intent>(std::move(*i));
        });
    }

    result<std::vector<import_intent>> intents(std::string_view op, const char* sql)
    {
        return in_tx(op, false, [&]() -> result<std::vector<import_intent>> {
            auto r = q(op, sql);
            if (!r) return r.error();
            return collect(*r, read_intent, op);
        });
    }

    /// Runs `f` in one transaction (commit when it succeeded, rollback otherwise), or inside the
    /// open batch under a savepoint, so that a failed write takes back only itself.
    template <class F>
    auto in_tx(std::string_view op, bool write, F&& f) -> decltype(f())
    {
        if (batch_open_ && !db_->ok()) {
            // The server dropped the batch's transaction with the connection: its writes are
            // gone whole (as a kill -9 loses a batch); the next call starts afresh.
            batch_open_ = false;
            batch_writes_ = 0;
            return fail(errc::transport, fmt::format("{}: connection to PostgreSQL at {} lost; the writes "
                                                     "batched since the last commit were not kept",
                                                     op, db_->where()));
        }
        if (batch_open_ || (write && batching_ > 0)) {
            if (!batch_open_) {
                if (auto r = begin(op); !r) return r.error();
                batch_open_ = true;
            }
            if (auto r = db_->script(op, "SAVEPOINT one_write"); !r) return r.error();
            auto r = f();
            if (!r) {
                db_->quietly("ROLLBACK TO SAVEPOINT one_write");
                db_->quietly("RELEASE SAVEPOINT one_write");
                return r;
            }
            if (auto c = db_->script(op, "RELEASE SAVEPOINT one_write"); !c) return c.error();
            if (write) ++batch_writes_;
            return r;
        }
        if (auto b = begin(op); !b) return b.error();
        auto r = f();
        if (!r) {
            db_->quietly("ROLLBACK");
            return r;
        }
        if (auto c = db_->script(op, "COMMIT"); !c) {
            db_->quietly("ROLLBACK");
            return c.error();
        }
        return r;
    }

    /// BEGIN, reconnecting first when the connection was lost (nothing is open on it then).
    result<void> begin(std::string_view op)
    {
        if (!db_->ok())
            if (auto r = db_->reset(); !r) return std::move(r.error()).context(op);
        return db_->script(op, "BEGIN");
    }

    result<std::optional<version_row>> find_version_in_tx(std::string_view op, row_id workflow,
                                                          const std::string& version, const std::string& content_hash)
    {
        auto r = q(op, sql_find_version, {workflow, version, content_hash});
        if (!r) return r.error();
        if (r->empty()) return std::nullopt;
        return read_version(*r, 0);
    }

    result<std::optional<archive_file_row>> find_archive_file_in_tx(std::string_view op, const std::string& archive,
                                                                    const std::string& path)
    {
        auto r = q(op, sql_find_archive_file, {archive, path});
        if (!r) return r.error();
        if (r->empty()) return std::nullopt;
        return read_archive_file(*r, 0);
    }

    result<row_id> run_id(std::string_view op, row_id id, const std::string& uid)
    {
        if (id != 0 || uid.empty()) return id;
        auto r = q(op, sql_run_id_by_uid, {uid});
        if (!r) return r.error();
        if (r->empty()) return fail(errc::store, fmt::format("{}: no such run", op));
        return r->int64(0, 0);
    }

    std::unique_ptr<detail::pg::connection> db_;
    int batching_ = 0;
    bool batch_open_ = false;
    std::size_t batch_writes_ = 0;
};

}  // namespace

result<std::unique_ptr<store>> open_postgresql(const std::string& url, const std::string& password_file)
{
    if (url.empty()) return fail(errc::invalid_argument, "PostgreSQL state URL is empty");
    auto db = std::make_unique<detail::pg::connection>();
    if (auto r = db->open(url, password_file); !r) return r.error();
    auto version = detail::pg_migrate(*db);
    if (!version) return version.error();
    return std::unique_ptr<store>(std::make_unique<pg_store>(std::move(db)));
}

}  // namespace wfsync::store
