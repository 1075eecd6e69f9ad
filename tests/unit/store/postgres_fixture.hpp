// SPDX-License-Identifier: Apache-2.0
// One throwaway PostgreSQL server for the whole test program, started on first use, and raw
// libpq access for checks behind the store's back.
#pragma once

#include <support/postgres_server.hpp>

#include <cstdint>
#include <optional>
#include <string>

struct pg_conn;

namespace wfsync::test {

/// Why the PostgreSQL tests cannot run here (no server binaries), or nullopt.
std::optional<std::string> postgres_unavailable();
/// The program's server, started on the first call (a start that fails throws, every time).
postgres_server& shared_postgres();
/// A new, empty database on it; its URL over the socket.
std::string fresh_postgres_database();

/// A plain libpq connection for checks; failures fail the test.
class raw_pg {
public:
    explicit raw_pg(const std::string& url);
    ~raw_pg();
    raw_pg(const raw_pg&) = delete;
    raw_pg& operator=(const raw_pg&) = delete;
    void exec(const std::string& sql);
    /// The first column of the first row, as text ("" for none).
    std::string text(const std::string& sql);
    std::int64_t integer(const std::string& sql);
    /// This session's backend process id (for pg_terminate_backend).
    int backend_pid() const;

private:
    pg_conn* conn_ = nullptr;
};

}  // namespace wfsync::test
