// SPDX-License-Identifier: Apache-2.0
#include "postgres_fixture.hpp"

#include <boost/test/unit_test.hpp>
#include <libpq-fe.h>

#include <atomic>
#include <iostream>
#include <memory>
#include <stdexcept>

namespace wfsync::test {

std::optional<std::string> postgres_unavailable() { return postgres_server::unavailable(); }

postgres_server& shared_postgres()
{
    static std::unique_ptr<postgres_server> server;
    static std::string failed;
    if (server) return *server;
    if (!failed.empty()) throw std::runtime_error(failed);
    try {
        server = std::make_unique<postgres_server>();
    } catch (const std::exception& e) {
        failed = std::string("cannot start the test PostgreSQL server: ") + e.what();
        throw std::runtime_error(failed);
    }
    std::cerr << "test PostgreSQL server on port " << server->port() << " started in " << server->start_time().count()
              << " ms\n";
    return *server;
}

std::string fresh_postgres_database()
{
    static std::atomic<int> counter{0};
    auto& server = shared_postgres();
    const std::string name = "t" + std::to_string(++counter);
    raw_pg admin(server.socket_url("postgres"));
    admin.exec("CREATE DATABASE " + name);
    return server.socket_url(name);
}

raw_pg::raw_pg(const std::string& url)
{
    conn_ = PQconnectdb(url.c_str());
    BOOST_TEST_REQUIRE((PQstatus(conn_) == CONNECTION_OK), url << ": " << PQerrorMessage(conn_));
}

raw_pg::~raw_pg() { PQfinish(conn_); }

void raw_pg::exec(const std::string& sql)
{
    PGresult* r = PQexec(conn_, sql.c_str());
    const auto st = PQresultStatus(r);
    BOOST_TEST_REQUIRE((st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK), sql << ": " << PQerrorMessage(conn_));
    PQclear(r);
}

std::string raw_pg::text(const std::string& sql)
{
    PGresult* r = PQexec(conn_, sql.c_str());
    const auto st = PQresultStatus(r);
    BOOST_TEST_REQUIRE((st == PGRES_TUPLES_OK), sql << ": " << PQerrorMessage(conn_));
    std::string out = PQntuples(r) > 0 ? PQgetvalue(r, 0, 0) : "";
    PQclear(r);
    return out;
}

std::int64_t raw_pg::integer(const std::string& sql) { return std::stoll(text(sql)); }

int raw_pg::backend_pid() const { return PQbackendPID(conn_); }

}  // namespace wfsync::test
