// SPDX-License-Identifier: Apache-2.0
// A throwaway PostgreSQL server for tests: initdb into a temporary directory, postgres on a
// free loopback port and a private socket directory, stopped and removed at the end.
#pragma once

#include <support/process.hpp>
#include <support/temp_dir.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace wfsync::test {

class postgres_server {
public:
    /// Where initdb and postgres are looked for: $WFSYNC_PG_BINDIR, else Debian 12's
    /// /usr/lib/postgresql/15/bin.
    static std::string bin_dir();
    /// Why no server can be started here (binaries missing, no setpriv for root), or nullopt.
    static std::optional<std::string> unavailable();

    /// Runs initdb and starts postgres; waits until it accepts connections. Throws
    /// std::runtime_error naming the step that failed, with the end of the server's log.
    postgres_server();
    /// Fast shutdown (SIGINT), then the directory goes.
    ~postgres_server();
    postgres_server(const postgres_server&) = delete;
    postgres_server& operator=(const postgres_server&) = delete;

    static constexpr const char* user = "wfsync";
    /// The password of `user` over TCP (scram-sha-256); the socket trusts the local user.
    static constexpr const char* password = "test-password-not-secret";

    std::uint16_t port() const noexcept { return port_; }
    const std::string& socket_dir() const noexcept { return socket_dir_; }
    /// postgresql://wfsync@127.0.0.1:PORT/DB: over TCP, so it needs the password.
    std::string tcp_url(const std::string& database = "postgres") const;
    /// A libpq URL over the private unix socket, no password needed.
    std::string socket_url(const std::string& database = "postgres") const;
    /// A file holding the password (for the store's password_file).
    const std::string& password_file() const noexcept { return password_file_; }
    /// How long initdb plus the start took.
    std::chrono::milliseconds start_time() const noexcept { return start_time_; }
    /// The server's log so far.
    std::string log() const;

private:
    /// True once the server answers; false when it exited first. Throws after 60 s.
    bool wait_until_ready();

    std::unique_ptr<temp_dir> dir_;
    std::unique_ptr<process> server_;
    std::uint16_t port_ = 0;
    std::string socket_dir_;
    std::string password_file_;
    std::chrono::milliseconds start_time_{0};
};

}  // namespace wfsync::test
