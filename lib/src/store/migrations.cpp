// SPDX-License-Identifier: Apache-2.0
#include "migrations.hpp"

#include <fmt/format.h>

#include <array>

namespace wfsync::store::detail {
namespace {

// Forward-only: never edit a migration once released; add the next number instead.
// STRICT tables make SQLite enforce the column types, so a bug cannot store text in a count.
constexpr const char* m0001_init = R"sql(
CREATE TABLE tenants (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL UNIQUE,
    first_seen  INTEGER NOT NULL,
    last_seen   INTEGER NOT NULL
) STRICT;

CREATE TABLE workflows (
    id         INTEGER PRIMARY KEY,
    tenant     TEXT NOT NULL,
    remote_id  TEXT NOT NULL,
    name       TEXT NOT NULL,
    UNIQUE (tenant, remote_id)
) STRICT;

CREATE TABLE versions (
    id            INTEGER PRIMARY KEY,
    workflow      INTEGER NOT NULL REFERENCES workflows(id) ON DELETE CASCADE,
    version       TEXT    NOT NULL,
    content_hash  TEXT    NOT NULL,
    format        TEXT    NOT NULL,
    size          INTEGER NOT NULL,
    package       BLOB    NOT NULL,   -- zlib (RFC 1950) of the raw package
    seen_at       INTEGER NOT NULL,
    UNIQUE (workflow, version, content_hash)
) STRICT;

CREATE TABLE workflow_mappings (
    source_tenant    TEXT    NOT NULL,
    source_workflow  TEXT    NOT NULL,
    target_tenant    TEXT    NOT NULL,
    target_workflow  TEXT    NOT NULL,
    target_name      TEXT    NOT NULL,
    updated_at       INTEGER NOT NULL,
    PRIMARY KEY (source_tenant, source_workflow, target_tenant)
) STRICT;
CREATE INDEX workflow_mappings_target ON workflow_mappings (target_tenant, target_workflow);

CREATE TABLE version_mappings (
    id               INTEGER PRIMARY KEY,
    source_tenant    TEXT    NOT NULL,
    source_workflow  TEXT    NOT NULL,
    source_version   TEXT    NOT NULL,
    content_hash     TEXT    NOT NULL,
    target_tenant    TEXT    NOT NULL,
    target_workflow  TEXT    NOT NULL,
    target_version   TEXT    NOT NULL,
    at               INTEGER NOT NULL
) STRICT;
CREATE INDEX version_mappings_target ON version_mappings (target_tenant, target_workflow, id);
CREATE INDEX version_mappings_source ON version_mappings (source_tenant, source_workflow, id);

CREATE TABLE import_intents (
    id               INTEGER PRIMARY KEY,
    rule             TEXT    NOT NULL,
    run_uid          TEXT    NOT NULL,
    source_tenant    TEXT    NOT NULL,
    source_workflow  TEXT    NOT NULL,
    source_version   TEXT    NOT NULL,
    content_hash     TEXT    NOT NULL,
    target_tenant    TEXT    NOT NULL,
    target_workflow  TEXT    NOT NULL,
    target_version   TEXT    NOT NULL,
    generation       INTEGER NOT NULL,
    idempotency_key  TEXT    NOT NULL UNIQUE,
    state            TEXT    NOT NULL
        CHECK (state IN ('pending', 'succeeded', 'failed', 'unknown')),
    detail           TEXT    NOT NULL,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
) STRICT;
CREATE INDEX import_intents_tuple
    ON import_intents (rule, source_tenant, source_workflow, target_tenant, content_hash, id);
CREATE INDEX import_intents_open ON import_intents (id) WHERE state IN ('pending', 'unknown');

CREATE TABLE runs (
    id           INTEGER PRIMARY KEY,
    uid          TEXT    NOT NULL UNIQUE,
    rule         TEXT    NOT NULL,
    command      TEXT    NOT NULL,
    started_at   INTEGER NOT NULL,
    finished_at  INTEGER NOT NULL DEFAULT 0,
    outcome      TEXT    NOT NULL DEFAULT '',
    imported     INTEGER NOT NULL DEFAULT 0,
    unchanged    INTEGER NOT NULL DEFAULT 0,
    drift        INTEGER NOT NULL DEFAULT 0,
    errors       INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX runs_rule ON runs (rule, id);

CREATE TABLE events (
    id               INTEGER PRIMARY KEY,
    run              INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    at               INTEGER NOT NULL,
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
    duration_ms      INTEGER NOT NULL
) STRICT;
CREATE INDEX events_run ON events (run, id);
CREATE INDEX events_rule ON events (rule, id);
CREATE INDEX events_source_workflow ON events (source_workflow, id);
CREATE INDEX events_workflow_name ON events (workflow_name, id);
)sql";

// Async export/import jobs (Kore.ai): recorded when started so a restart resumes polling.
constexpr const char* m0002_async_jobs = R"sql(
CREATE TABLE async_jobs (
    id          INTEGER PRIMARY KEY,
    tenant      TEXT    NOT NULL,
    kind        TEXT    NOT NULL CHECK (kind IN ('export', 'import')),
    job_id      TEXT    NOT NULL,
    workflow    TEXT    NOT NULL,
    version     TEXT    NOT NULL,
    intent      INTEGER REFERENCES import_intents(id),
    state       TEXT    NOT NULL CHECK (state IN ('running', 'succeeded', 'failed', 'unknown')),
    detail      TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    UNIQUE (tenant, job_id)
) STRICT;
CREATE INDEX async_jobs_open ON async_jobs (id) WHERE state IN ('running', 'unknown');
CREATE INDEX async_jobs_intent ON async_jobs (intent);
)sql";

// What a connector needs to pick a job up again after a restart (e.g. Kore.ai's download URL,
// which the dock status does not repeat).
constexpr const char* m0003_job_resume = R"sql(
ALTER TABLE async_jobs ADD COLUMN resume TEXT NOT NULL DEFAULT '';
)sql";

// The catalogue of local archives (backups): one row per file on disk, and one per archived
// version; versions with the same content share a file.
constexpr const char* m0004_archive = R"sql(
CREATE TABLE archive_files (
    archive      TEXT    NOT NULL,
    path         TEXT    NOT NULL,
    file_sha256  TEXT    NOT NULL,
    size         INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (archive, path)
) STRICT;

CREATE TABLE archive_entries (
    id             INTEGER PRIMARY KEY,
    archive        TEXT    NOT NULL,
    tenant         TEXT    NOT NULL,
    workflow_id    TEXT    NOT NULL,
    workflow_name  TEXT    NOT NULL,
    version        TEXT    NOT NULL,
    content_hash   TEXT    NOT NULL,
    format         TEXT    NOT NULL,
    path           TEXT    NOT NULL,
    file_sha256    TEXT    NOT NULL,
    size           INTEGER NOT NULL,
    stored_at      INTEGER NOT NULL,
    UNIQUE (archive, tenant, workflow_id, version, content_hash),
    FOREIGN KEY (archive, path) REFERENCES archive_files (archive, path)
) STRICT;
CREATE INDEX archive_entries_list ON archive_entries (archive, tenant, workflow_id, stored_at, id);
CREATE INDEX archive_entries_hash ON archive_entries (archive, tenant, workflow_id, content_hash, id);
CREATE INDEX archive_entries_path ON archive_entries (archive, path);
)sql";

// 5: what the target holds after an import, as read back (a platform that stamps its own ids
// or labels stores other bytes than were sent); the target's versions when an intent was made,
// so that one whose answer was lost is found among the versions that appeared since; and the
// hold an operator must lift when no read can tell whether an import happened.
constexpr const char* m0005_read_back = R"sql(
ALTER TABLE version_mappings ADD COLUMN target_hash TEXT NOT NULL DEFAULT '';
CREATE INDEX version_mappings_content ON version_mappings (target_tenant, target_workflow, content_hash, id);
ALTER TABLE import_intents ADD COLUMN target_before TEXT NOT NULL DEFAULT '';
ALTER TABLE import_intents ADD COLUMN hold TEXT NOT NULL DEFAULT '';
)sql";

// 6: what the listings showed of a workflow on both sides when its content was last compared
// in full, so that a run whose listings show the same can skip the export.
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
    verified_at      INTEGER NOT NULL,
    PRIMARY KEY (rule, source_tenant, source_workflow, target_tenant)
) STRICT;
)sql";

// 7: notifications (`notify:`). One row per target and event key, kept after delivery, so an
// event is sent once however often runs see it, a restart included; one whose delivery failed
// stays pending and goes out with a later run. And whether each rule is failing, so that a
// failure is announced when it starts and a recovery when it ends, not on every run.
constexpr const char* m0007_notifications = R"sql(
CREATE TABLE notifications (
    id          INTEGER PRIMARY KEY,
    target      TEXT    NOT NULL,
    event_key   TEXT    NOT NULL,
    event       TEXT    NOT NULL,
    rule        TEXT    NOT NULL,
    delivery    TEXT    NOT NULL UNIQUE,
    payload     TEXT    NOT NULL,
    state       TEXT    NOT NULL CHECK (state IN ('pending', 'sent', 'dropped')),
    attempts    INTEGER NOT NULL,
    last_error  TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    UNIQUE (target, event_key)
) STRICT;
CREATE INDEX notifications_pending ON notifications (id) WHERE state = 'pending';

CREATE TABLE rule_health (
    rule        TEXT    PRIMARY KEY,
    failing     INTEGER NOT NULL CHECK (failing IN (0, 1)),
    since_run   TEXT    NOT NULL,
    updated_at  INTEGER NOT NULL
) STRICT;
)sql";

constexpr std::array<migration, 7> all{{
    {1, "0001_init", m0001_init},
    {2, "0002_async_jobs", m0002_async_jobs},
    {3, "0003_job_resume", m0003_job_resume},
    {4, "0004_archive", m0004_archive},
    {5, "0005_read_back", m0005_read_back},
    {6, "0006_listing_marks", m0006_listing_marks},
    {7, "0007_notifications", m0007_notifications},
}};

result<int> pragma_int(database& db, std::string_view op, const char* sql)
{
    auto st = db.prepare(op, sql);
    if (!st) return st.error();
    statement s(db, *st, op);
    auto row = s.step();
    if (!row) return row.error();
    return *row ? s.integer(0) : 0;
}

result<bool> has_foreign_tables(database& db)
{
    constexpr std::string_view op = "check schema";
    auto st = db.prepare(op, "SELECT count(*) FROM sqlite_schema WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\'");
    if (!st) return st.error();
    statement s(db, *st, op);
    auto row = s.step();
    if (!row) return row.error();
    return *row && s.int64(0) > 0;
}

}  // namespace

std::span<const migration> migrations() noexcept { return all; }

int latest_schema_version() noexcept { return all.back().version; }

result<int> migrate(database& db)
{
    const int latest = latest_schema_version();
    for (;;) {
        // IMMEDIATE: two processes opening a fresh file at once must not both run step N;
        // the second waits, then re-reads user_version inside its own transaction.
        transaction tx(db, "migrate");
        if (auto r = tx.begin(true); !r) return r.error();
        auto version = pragma_int(db, "read schema version", "PRAGMA user_version");
        if (!version) return version.error();
        auto app = pragma_int(db, "read application id", "PRAGMA application_id");
        if (!app) return app.error();

        if (*app != 0 && *app != application_id)
            return fail(errc::store, fmt::format("{} is not a wfsync state database "
                                                 "(application_id {:#x})",
                                                 db.path(), *app));
        if (*version > latest)
            return fail(errc::store,
                        fmt::format("state database {} has schema version {}, newer than this "
                                    "wfsync knows ({}); use a newer wfsync or another file",
                                    db.path(), *version, latest));
        if (*version == 0) {
            auto foreign = has_foreign_tables(db);
            if (!foreign) return foreign.error();
            if (*foreign)
                return fail(errc::store, fmt::format("{} is not a wfsync state database "
                                                     "(it has tables but no wfsync schema)",
                                                     db.path()));
        }
        if (*version == latest) {
            if (auto r = tx.commit(); !r) return r.error();
            return latest;
        }

        const migration& m = all[static_cast<std::size_t>(*version)];
        const std::string op = fmt::format("migration {}", m.name);
        if (auto r = db.exec(op, m.sql); !r) return r.error();
        // Both pragmas write the database header, inside this transaction.
        const std::string stamp = fmt::format("PRAGMA user_version = {}; PRAGMA application_id = {};",
                                              m.version, application_id);
        if (auto r = db.exec(op, stamp.c_str()); !r) return r.error();
        if (auto r = tx.commit(); !r) return r.error();
    }
}

}  // namespace wfsync::store::detail
