// SPDX-License-Identifier: Apache-2.0
#include "pg.hpp"

#include <wfsync/core/read_file.hpp>

#include <fmt/format.h>
#include <libpq-fe.h>

#include <charconv>
#include <regex>

namespace wfsync::store::detail::pg {

rows::rows(rows&& o) noexcept : res_(o.res_) { o.res_ = nullptr; }

rows& rows::operator=(rows&& o) noexcept
{
    if (this != &o) {
        if (res_) PQclear(res_);
        res_ = o.res_;
        o.res_ = nullptr;
    }
    return *this;
}

rows::~rows()
{
    if (res_) PQclear(res_);
}

int rows::size() const noexcept { return res_ ? PQntuples(res_) : 0; }

bool rows::is_null(int row, int col) const noexcept { return PQgetisnull(res_, row, col) != 0; }

std::string rows::text(int row, int col) const
{
    return std::string(PQgetvalue(res_, row, col), static_cast<std::size_t>(PQgetlength(res_, row, col)));
}

std::int64_t rows::int64(int row, int col) const
{
    const char* v = PQgetvalue(res_, row, col);
    const auto len = static_cast<std::size_t>(PQgetlength(res_, row, col));
    std::int64_t out = 0;
    std::from_chars(v, v + len, out);
    return out;
}

std::string rows::bytes(int row, int col) const
{
    std::size_t len = 0;
    unsigned char* raw =
        PQunescapeBytea(reinterpret_cast<const unsigned char*>(PQgetvalue(res_, row, col)), &len);
    if (!raw) return {};
    std::string out(reinterpret_cast<const char*>(raw), len);
    PQfreemem(raw);
    return out;
}

std::int64_t rows::affected() const noexcept
{
    const char* n = res_ ? PQcmdTuples(res_) : "";
    std::int64_t out = 0;
    std::from_chars(n, n + std::char_traits<char>::length(n), out);
    return out;
}

std::string redact_url(std::string_view url)
{
    std::string s(url);
    // scheme://user:PASSWORD@host
    static const std::regex userinfo(R"(^(postgres(?:ql)?://[^:/@?]*:)[^@/?]*@)");
    s = std::regex_replace(s, userinfo, "$1***@");
    // ?password=...& or password=... in a key=value string
    static const std::regex keyword(R"((^|[?&\s])password\s*=\s*('[^']*'|[^&\s]*))");
    return std::regex_replace(s, keyword, "$1password=***");
}

errc errc_for_sqlstate(std::string_view st) noexcept
{
    if (st.size() != 5) return errc::store;
    if (st.substr(0, 2) == "08") return errc::transport;  // connection exception
    // admin_shutdown, crash_shutdown, cannot_connect_now: the server went or is starting.
    if (st == "57P01" || st == "57P02" || st == "57P03") return errc::transport;
    // serialization_failure, deadlock_detected, lock_not_available, too_many_connections:
    // another transaction is in the way for now.
    if (st == "40001" || st == "40P01" || st == "55P03" || st == "53300") return errc::busy;
    if (st == "57014") return errc::timeout;  // query_canceled (statement_timeout)
    if (st == "23505") return errc::conflict;
    if (st.substr(0, 2) == "28") return errc::auth;
    if (st == "42501") return errc::permission;
    return errc::store;
}

connection::~connection()
{
    if (conn_) PQfinish(conn_);
}

result<void> connection::open(const std::string& url, const std::string& password_file)
{
    where_ = redact_url(url);
    std::string password;
    if (!password_file.empty()) {
        auto pw = read_regular_file(password_file, 4096);
        if (!pw)
            return fail(pw.error().code,
                        fmt::format("cannot read the PostgreSQL password file: {}", pw.error().message));
        password = std::move(*pw);
        while (!password.empty() && (password.back() == '\n' || password.back() == '\r')) password.pop_back();
        if (password.empty())
            return fail(errc::config, fmt::format("PostgreSQL password file {} is empty", password_file));
    }
    // expand_dbname: the URL's own parameters (sslmode, connect_timeout, ...) pass through;
    // keywords after it override, so the file's password wins over one in the URL.
    std::vector<const char*> keys{"dbname", "application_name", "client_encoding"};
    std::vector<const char*> values{url.c_str(), "wfsync", "UTF8"};
    if (!password.empty()) {
        keys.push_back("password");
        values.push_back(password.c_str());
    }
    keys.push_back(nullptr);
    values.push_back(nullptr);
    conn_ = PQconnectdbParams(keys.data(), values.data(), 1);
    std::fill(password.begin(), password.end(), '\0');
    if (!conn_) return fail(errc::internal, "libpq could not allocate a connection");
    if (PQstatus(conn_) != CONNECTION_OK) {
        std::string why = PQerrorMessage(conn_);
        while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
        // libpq says "password authentication failed" for a refused login.
        const errc kind = why.find("authentication failed") != std::string::npos ? errc::auth : errc::transport;
        return fail(kind, fmt::format("cannot connect to PostgreSQL at {}: {}", where_, why));
    }
    if (auto r = script("set session", "SET client_min_messages = warning"); !r) return r;
    // As SQLite's busy_timeout: a lock held by another session past 5 s is errc::busy (55P03),
    // not a wait for ever. A lock_timeout set in the URL (options=-c lock_timeout=...) stands.
    auto lt = exec("set session", "SELECT current_setting('lock_timeout')");
    if (!lt) return lt.error();
    if (lt->text(0, 0) == "0")
        if (auto r = script("set session", "SET lock_timeout = '5s'"); !r) return r;
    return {};
}

bool connection::ok() const noexcept { return conn_ && PQstatus(conn_) == CONNECTION_OK; }

result<void> connection::reset()
{
    if (!conn_) return fail(errc::internal, "PostgreSQL connection was never opened");
    PQreset(conn_);
    if (PQstatus(conn_) != CONNECTION_OK)
        return fail(errc::transport, fmt::format("cannot reconnect to PostgreSQL at {}: {}", where_,
                                                 PQerrorMessage(conn_)));
    return {};
}

error connection::error_for(std::string_view op, pg_result* res)
{
    sqlstate_.clear();
    const char* st = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
    if (!st || !ok()) {
        std::string why = PQerrorMessage(conn_);
        while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
        if (st) sqlstate_ = st;
        return fail(errc::transport, fmt::format("{}: connection to PostgreSQL at {} lost: {}", op, where_, why));
    }
    sqlstate_ = st;
    const char* primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
    return fail(errc_for_sqlstate(sqlstate_),
                fmt::format("{}: {} (SQLSTATE {}, PostgreSQL at {})", op, primary ? primary : "error", sqlstate_,
                            where_));
}

result<rows> connection::exec(std::string_view op, const char* sql, const std::vector<param>& params)
{
    if (!conn_) return fail(errc::internal, fmt::format("{}: PostgreSQL connection not open", op));
    std::vector<const char*> values;
    std::vector<int> lengths;
    std::vector<int> formats;
    for (const auto& p : params) {
        values.push_back(p.value ? p.value->data() : nullptr);
        lengths.push_back(p.value ? static_cast<int>(p.value->size()) : 0);
        formats.push_back(p.binary ? 1 : 0);
    }
    pg_result* res = PQexecParams(conn_, sql, static_cast<int>(params.size()), nullptr, values.data(),
                                  lengths.data(), formats.data(), 0);
    const auto status = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
        sqlstate_.clear();
        return rows(res);
    }
    auto e = error_for(op, res);
    if (res) PQclear(res);
    return e;
}

result<void> connection::script(std::string_view op, const char* sql)
{
    if (!conn_) return fail(errc::internal, fmt::format("{}: PostgreSQL connection not open", op));
    pg_result* res = PQexec(conn_, sql);
    const auto status = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
        PQclear(res);
        sqlstate_.clear();
        return {};
    }
    auto e = error_for(op, res);
    if (res) PQclear(res);
    return e;
}

void connection::quietly(const char* sql) noexcept
{
    if (!conn_) return;
    if (pg_result* res = PQexec(conn_, sql)) PQclear(res);
}

}  // namespace wfsync::store::detail::pg
