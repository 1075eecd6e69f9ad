// SPDX-License-Identifier: Apache-2.0
// Thin RAII over libpq, private to the store layer: one connection, parameterised queries only
// (PQexecParams), results read by type, errors mapped to wfsync's errc with the SQLSTATE.
#pragma once

#include <wfsync/core/error.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

struct pg_conn;
struct pg_result;

namespace wfsync::store::detail::pg {

/// One parameter, sent as text (the server infers its type from the statement), or as raw
/// bytes for a BYTEA; nullopt is SQL NULL.
struct param {
    param(std::nullopt_t) {}
    param(std::string_view v) : value(v) {}
    param(const std::string& v) : value(v) {}
    param(const char* v) : value(v) {}
    param(std::int64_t v) : value(std::to_string(v)) {}
    param(int v) : value(std::to_string(v)) {}
    static param bytes(std::string_view v)
    {
        param p{v};
        p.binary = true;
        return p;
    }
    std::optional<std::string> value;
    bool binary = false;
};

/// A query's rows, read as the types the caller knows the columns have.
class rows {
public:
    rows() = default;
    explicit rows(pg_result* r) noexcept : res_(r) {}
    rows(rows&&) noexcept;
    rows& operator=(rows&&) noexcept;
    ~rows();

    int size() const noexcept;
    bool empty() const noexcept { return size() == 0; }
    bool is_null(int row, int col) const noexcept;
    std::string text(int row, int col) const;
    std::int64_t int64(int row, int col) const;
    int integer(int row, int col) const { return static_cast<int>(int64(row, col)); }
    /// A BYTEA column, decoded.
    std::string bytes(int row, int col) const;
    /// Rows an INSERT, UPDATE or DELETE touched.
    std::int64_t affected() const noexcept;

private:
    pg_result* res_ = nullptr;
};

/// Replaces the password of a URL (userinfo or a password= parameter) with "***", for any
/// message that names the URL.
std::string redact_url(std::string_view url);

/// The errc for a SQLSTATE: class 08 and server shutdowns are transport (retryable: the
/// connection went), 40001/40P01/55P03/53300 busy (retry the transaction), 23505 conflict,
/// 28xxx auth, 42501 permission, anything else store.
errc errc_for_sqlstate(std::string_view sqlstate) noexcept;

/// One connection. Thread safety: none (one per thread, like the SQLite store's).
class connection {
public:
    connection() = default;
    ~connection();
    connection(const connection&) = delete;
    connection& operator=(const connection&) = delete;

    /// Connects to `url` (a libpq URL or key=value string; sslmode and the rest pass through),
    /// with the password read from `password_file` when that is not empty. Errors name the
    /// redacted URL, never the password.
    [[nodiscard]] result<void> open(const std::string& url, const std::string& password_file);

    /// Runs one statement with parameters; `op` names it in errors.
    [[nodiscard]] result<rows> exec(std::string_view op, const char* sql, const std::vector<param>& params = {});
    /// Runs statements without parameters or results (a migration's script, BEGIN, COMMIT).
    [[nodiscard]] result<void> script(std::string_view op, const char* sql);
    /// Best effort, for clean-up paths (ROLLBACK): errors are dropped.
    void quietly(const char* sql) noexcept;

    /// True while the connection is usable; after a loss, reset() tries once to reconnect.
    bool ok() const noexcept;
    [[nodiscard]] result<void> reset();
    /// The SQLSTATE of the last failed statement ("" for none or a lost connection).
    const std::string& last_sqlstate() const noexcept { return sqlstate_; }
    /// The redacted URL, for messages.
    const std::string& where() const noexcept { return where_; }

private:
    error error_for(std::string_view op, pg_result* res);

    pg_conn* conn_ = nullptr;
    std::string where_;
    std::string sqlstate_;
};

}  // namespace wfsync::store::detail::pg
