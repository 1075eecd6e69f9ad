// SPDX-License-Identifier: Apache-2.0
#include "pg_migrations.hpp"
#include "migrations.hpp"

#include <fmt/format.h>

#include <array>

namespace wfsync::store::detail {
namespace {

// The SQLite schema (migrations.cpp) step for step: INTEGER PRIMARY KEY -> BIGSERIAL, INTEGER ->
// BIGINT, BLOB -> BYTEA. Forward-only: never edit a released step; add the next number to both.
constexpr const char* m0001_init = R"sql(
CREATE TABLE tenants (
    id          BIGSERIAL PRIMARY KEY,
    name        TEXT    NOT NULL UNIQUE,
    first_seen  BIGINT  NOT NULL,
    last_seen   BIGINT  NOT NULL
);

CREATE TABLE workflows (
    id         BIGSERIAL PRIMARY KEY,
    tenant     TEXT NOT NULL,
    remote_id  TEXT NOT NULL,
    name       TEXT NOT NULL,
    UNIQUE (tenant, remote_id)
);

CREATE TABLE versions (
    id            BIGSERIAL PRIMARY KEY,
    workflow      BIGINT  NOT NULL REFERENCES workflows(id) ON DELETE CASCADE,
    version       TEXT    NOT NULL,
    content_hash  TEXT    NOT NULL,
    format        TEXT    NOT NULL,
    size          BIGINT  NOT NULL,
    package       BYTEA   NOT NULL,   -- zlib (RFC 1950) of the raw package
    seen_at       BIGINT  NOT NULL,
    UNIQUE (workflow, version, content_hash)
);

CREATE TABLE workflow_mappings (
    source_tenant    TEXT    NOT NULL,
    source_workflow  TEXT    NOT NULL,
    target_tenant    TEXT    NOT NULL,
    target_workflow  TEXT    NOT NULL,
    target_name      TEXT    NOT NULL,
    updated_at       BIGINT  NOT NULL,
    PRIMARY KEY (source_tenant, source_workflow, target_tenant)
);
CREATE INDEX workflow_mappings_target ON workflow_mappings (target_tenant, target_workflow);

CREATE TABLE version_mappings (
    id               BIGSERIAL PRIMARY KEY,
    source_tenant    TEXT    NOT NULL,
    source_workflow  TEXT    NOT NULL,
    source_version   TEXT    NOT NULL,
    content_hash     TEXT    NOT NULL,
    target_tenant    TEXT    NOT NULL,
    target_workflow  TEXT    NOT NULL,
    target_version   TEXT    NOT NULL,
    at               BIGINT  NOT NULL
);
CREATE INDEX version_mappings_target ON version_mappings (target_tenant, target_workflow, id);
CREATE INDEX version_mappings_source ON version_mappings (source_tenant, source_workflow, id);

CREATE TABLE import_intents (
    id               BIGSERIAL PRIMARY KEY,
    rule             TEXT    NOT NULL,
    run_uid          TEXT    NOT NULL,
    source_tenant    TEXT    NOT NULL,
    source_workflow  TEXT    NOT NULL,
    source_version   TEXT    NOT NULL,
    content_hash     TEXT    NOT NULL,
    target_tenant    TEXT    NOT NULL,
    target_workflow  TEXT    NOT NULL,
    target_version   TEXT    NOT NULL,
    generation       BIGINT  NOT NULL,
    idempotency_key  TEXT    NOT NULL UNIQUE,
    state            TEXT    NOT NULL
        CHECK (state IN ('pending', 'succeeded', 'failed', 'unknown')),
    detail           TEXT    NOT NULL,
    created_at       BIGINT  NOT NULL,
    updated_at       BIGINT  NOT NULL
);
CREATE INDEX import_intents_tuple
    ON import_intents (rule, source_tenant, source_workflow, target_tenant, content_hash, id);
CREATE INDEX import_intents_open ON import_intents (id) WHERE state IN ('pending', 'unknown');

CREATE TABLE runs (
    id           BIGSERIAL PRIMARY KEY,
    uid          TEXT    NOT NULL UNIQUE,
    rule         TEXT    NOT NULL,
    command      TEXT    NOT NULL,
    started_at   BIGINT  NOT NULL,
    finished_at  BIGINT  NOT NULL DEFAULT 0,
    outcome      TEXT    NOT NULL DEFAULT '',
    imported     BIGINT  NOT NULL DEFAULT 0,
    unchanged    BIGINT  NOT NULL DEFAULT 0,
    drift        BIGINT  NOT NULL DEFAULT 0,
    errors       BIGINT  NOT NULL DEFAULT 0
);
CREATE INDEX runs_rule ON runs (rule, id);

CREATE TABLE events (
    id               BIGSERIAL PRIMARY KEY,
    run              BIGINT  NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    at               BIGINT  NOT NULL,
    rule             TEXT    NOT NULL,
    kind             TEXT    NOT NULL,
    source_tenant    TEXT    NOT NULL,
    source_workflow  TEXT    NOT NULL,
    workflow_name    TEXT    NOT NULL,
    target_tenant    TEXT    NOT NULL,
    target_workflow  TEXT    NOT NULL,
    version          TEXT    NOT NULL,
    content_hash     TEXT    NOT NULL,
    message          TEXT    NOT NULL,
    duration_ms      BIGINT  NOT NULL
);
CREATE INDEX events_run ON events (run, id);
CREATE INDEX events_rule ON events (rule, id);
CREATE INDEX events_source_workflow ON events (source_workflow, id);
CREATE INDEX events_workflow_name ON events (workflow_name, id);
)sql";

constexpr const char* m0002_async_jobs = R"sql(
CREATE TABLE async_jobs (
    id          BIGSERIAL PRIMARY KEY,
    tenant      TEXT    NOT NULL,
    kind        TEXT    NOT NULL CHECK (kind IN ('export', 'import')),
    job_id      TEXT    NOT NULL,
    workflow    TEXT    NOT NULL,
    version     TEXT    NOT NULL,
    intent      BIGINT  REFERENCES import_intents(id),
    state       TEXT    NOT NULL CHECK (state IN ('running', 'succeeded', 'failed', 'unknown')),
    detail      TEXT    NOT NULL,
    created_at  BIGINT  NOT NULL,
    updated_at  BIGINT  NOT NULL,
    UNIQUE (tenant, job_id)
);
CREATE INDEX async_jobs_open ON async_jobs (id) WHERE state IN ('running', 'unknown');
CREATE INDEX async_jobs_intent ON async_jobs (intent);
)sql";

constexpr const char* m0003_job_resume = R"sql(
ALTER TABLE async_jobs ADD COLUMN resume TEXT NOT NULL DEFAULT '';
)sql";

constexpr const char* m0004_archive = R"sql(
CREATE TABLE archive_files (
    archive      TEXT    NOT NULL,
    path         TEXT    NOT NULL,
    file_sha256  TEXT    NOT NULL,
    size         BIGINT  NOT NULL,
    created_at   BIGINT  NOT NULL,
    PRIMARY KEY (archive, path)
);

CREATE TABLE archive_entries (
    id             BIGSERIAL PRIMARY KEY,
    archive        TEXT    NOT NULL,
    tenant         TEXT    NOT NULL,
    workflow_id    TEXT    NOT NULL,
    workflow_name  TEXT    NOT NULL,
    version        TEXT    NOT NULL,
    content_hash   TEXT    NOT NULL,
    format         TEXT    NOT NULL,
    path           TEXT    NOT NULL,
    file_sha256    TEXT    NOT NULL,
    size           BIGINT  NOT NULL,
    stored_at      BIGINT  NOT NULL,
    UNIQUE (archive, tenant, workflow_id, version, content_hash),
    FOREIGN KEY (archive, path) REFERENCES archive_files (archive, path)
);
CREATE INDEX archive_entries_list ON archive_entries (archive, tenant, workflow_id, stored_at, id);
CREATE INDEX archive_entries_hash ON archive_entries (archive, tenant, workflow_id, content_hash, id);
CREATE INDEX archive_entries_path ON archive_entries (archive, path);
)sql";

constexpr const char* m0005_read_back = R"sql(
ALTER TABLE version_mappings ADD COLUMN target_hash TEXT NOT NULL DEFAULT '';
CREATE INDEX version_mappings_content ON version_mappings (target_tenant, target_workflow, content_hash, id);
ALTER TABLE import_intents ADD COLUMN target_before TEXT NOT NULL DEFAULT '';
ALTER TABLE import_intents ADD COLUMN hold TEXT NOT NULL DEFAULT '';
)sql";

constexpr const char* m0006_listing_marks = R"sql(
CREATE TABLE listing_marks (
    rule             TEXT    NOT NULL,
    source_tenant    TEXT    NOT NULL,
    source_workflow  TEXT    NOT NULL,
    target_tenant    TEXT    NOT NULL,
    source_mark      TEXT    NOT NULL,
    target_workflow  TEXT    NOT NULL,
    target_mark      TEXT    NOT NULL,
    content_hash     TEXT    NOT NULL,
    verified_at      BIGINT  NOT NULL,
    PRIMARY KEY (rule, source_tenant, source_workflow, target_tenant)
);
)sql";

constexpr const char* m0007_notifications = R"sql(
CREATE TABLE notifications (
    id          BIGSERIAL PRIMARY KEY,
    target      TEXT    NOT NULL,
    event_key   TEXT    NOT NULL,
    event       TEXT    NOT NULL,
    rule        TEXT    NOT NULL,
    delivery    TEXT    NOT NULL UNIQUE,
    payload     TEXT    NOT NULL,
    state       TEXT    NOT NULL CHECK (state IN ('pending', 'sent', 'dropped')),
    attempts    BIGINT  NOT NULL,
    last_error  TEXT    NOT NULL,
    created_at  BIGINT  NOT NULL,
    updated_at  BIGINT  NOT NULL,
    UNIQUE (target, event_key)
);
CREATE INDEX notifications_pending ON notifications (id) WHERE state = 'pending';

CREATE TABLE rule_health (
    rule        TEXT    PRIMARY KEY,
    failing     BIGINT  NOT NULL CHECK (failing IN (0, 1)),
    since_run   TEXT    NOT NULL,
    updated_at  BIGINT  NOT NULL
);
)sql";

constexpr std::array<pg_migration, 7> all{{
    {1, "0001_init", m0001_init},
    {2, "0002_async_jobs", m0002_async_jobs},
    {3, "0003_job_resume", m0003_job_resume},
    {4, "0004_archive", m0004_archive},
    {5, "0005_read_back", m0005_read_back},
    {6, "0006_listing_marks", m0006_listing_marks},
    {7, "0007_notifications", m0007_notifications},
}};

constexpr const char* sql_has_table =
    "SELECT to_regclass(current_schema() || '.wfsync_schema_migrations') IS NOT NULL";
constexpr const char* sql_foreign_tables =
    "SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname = current_schema()";
constexpr const char* sql_create_table =
    "CREATE TABLE wfsync_schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
    "applied_at BIGINT NOT NULL)";
constexpr const char* sql_version = "SELECT COALESCE(max(version), 0) FROM wfsync_schema_migrations";
constexpr const char* sql_record =
    "INSERT INTO wfsync_schema_migrations (version, name, applied_at) "
    "VALUES ($1, $2, extract(epoch from now())::bigint)";

/// Runs one step of the loop in its own transaction; the version after it, or that it is done.
result<std::pair<int, bool>> step(pg::connection& db, int latest)
{
    constexpr std::string_view op = "migrate the PostgreSQL state";
    if (auto r = db.script(op, "BEGIN"); !r) return r.error();
    struct rollback_guard {
        pg::connection& db;
        bool done = false;
        ~rollback_guard()
        {
            if (!done) db.quietly("ROLLBACK");
        }
    } guard{db};
    // Transaction-scoped: released at COMMIT or ROLLBACK, and when the session dies.
    if (auto r = db.exec(op, "SELECT pg_advisory_xact_lock($1)", {pg_migration_lock}); !r) return r.error();
    auto has = db.exec(op, sql_has_table);
    if (!has) return has.error();
    if (has->text(0, 0) != "t") {
        auto tables = db.exec(op, sql_foreign_tables);
        if (!tables) return tables.error();
        if (tables->int64(0, 0) > 0)
            return fail(errc::store, fmt::format("PostgreSQL database at {} is not a wfsync state (its schema has "
                                                 "{} tables but no wfsync_schema_migrations); use an empty "
                                                 "database or schema",
                                                 db.where(), tables->int64(0, 0)));
        if (auto r = db.exec(op, sql_create_table); !r) return r.error();
    }
    auto v = db.exec(op, sql_version);
    if (!v) return v.error();
    const int version = v->integer(0, 0);
    if (version > latest)
        return fail(errc::store, fmt::format("PostgreSQL state at {} has schema version {}, newer than this wfsync "
                                             "knows ({}); use a newer wfsync or another database",
                                             db.where(), version, latest));
    if (version < latest) {
        const auto& m = all[static_cast<std::size_t>(version)];
        const std::string mop = fmt::format("PostgreSQL migration {}", m.name);
        if (auto r = db.script(mop, m.sql); !r) return r.error();
        if (auto r = db.exec(mop, sql_record, {m.version, m.name}); !r) return r.error();
    }
    if (auto r = db.script(op, "COMMIT"); !r) return r.error();
    guard.done = true;
    return std::pair{version < latest ? version + 1 : version, version == latest};
}

}  // namespace

std::span<const pg_migration> pg_migrations() noexcept { return all; }

result<int> pg_migrate(pg::connection& db)
{
    const int latest = static_cast<int>(all.size());
    if (latest != latest_schema_version())
        return fail(errc::internal, fmt::format("PostgreSQL schema has {} migrations, SQLite {}", latest,
                                                latest_schema_version()));
    for (;;) {
        auto r = step(db, latest);
        if (!r) return r.error();
        if (r->second) return r->first;
    }
}

result<int> pg_schema_version(pg::connection& db)
{
    constexpr std::string_view op = "read the PostgreSQL schema version";
    auto has = db.exec(op, sql_has_table);
    if (!has) return has.error();
    if (has->text(0, 0) != "t") return 0;
    auto v = db.exec(op, sql_version);
    if (!v) return v.error();
    return v->integer(0, 0);
}

}  // namespace wfsync::store::detail
