// SPDX-License-Identifier: Apache-2.0
// Forward-only schema migrations of the SQLite state, private to the store layer.
#pragma once

#include "detail/sqlite.hpp"

#include <span>
#include <string_view>

namespace wfsync::store::detail {

/// One numbered step: after it runs, PRAGMA user_version == version.
struct migration {
    int version;
    std::string_view name;
    const char* sql;
};

/// All migrations, in order; version i+1 at index i.
std::span<const migration> migrations() noexcept;

/// The newest schema version this program knows.
int latest_schema_version() noexcept;

/// Marks our files (PRAGMA application_id) so that another program's SQLite file is refused.
inline constexpr int application_id = 0x77667379;  // "wfsy"

/// Brings the database to latest_schema_version(), each step in its own transaction.
/// Refuses a database newer than this program or one that belongs to another application.
/// Returns the resulting schema version.
[[nodiscard]] result<int> migrate(database& db);

}  // namespace wfsync::store::detail
