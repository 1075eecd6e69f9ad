// SPDX-License-Identifier: Apache-2.0
// Forward-only schema migrations of the PostgreSQL state, private to the store layer: the same
// numbered steps as the SQLite ones (migrations.hpp), translated.
#pragma once

#include "detail/pg.hpp"

#include <span>
#include <string_view>

namespace wfsync::store::detail {

struct pg_migration {
    int version;
    std::string_view name;
    const char* sql;
};

/// All migrations, in order; version i+1 at index i. As many as the SQLite ones.
std::span<const pg_migration> pg_migrations() noexcept;

/// The advisory lock key that serializes migrators on one database ("wfsy").
inline constexpr std::int64_t pg_migration_lock = 0x77667379;

/// Brings the database to the latest schema version, each step in its own transaction under
/// the advisory lock, recorded in wfsync_schema_migrations. Refuses a database with a newer
/// schema, or with tables but no wfsync schema. Returns the resulting version.
[[nodiscard]] result<int> pg_migrate(pg::connection& db);

/// The schema version recorded in the database (0 when none).
[[nodiscard]] result<int> pg_schema_version(pg::connection& db);

}  // namespace wfsync::store::detail
