// SPDX-License-Identifier: Apache-2.0
#include "postgres_server.hpp"

#include <libpq-fe.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <thread>
#include <sys/stat.h>
#include <unistd.h>

namespace wfsync::test {
namespace {

constexpr const char* setpriv = "/usr/bin/setpriv";
constexpr unsigned nobody = 65534;

bool as_root() { return ::geteuid() == 0; }

/// initdb and postgres refuse to run as root: under root they run as nobody.
std::pair<std::string, std::vector<std::string>> unprivileged(const std::string& program,
                                                              std::vector<std::string> args)
{
    if (!as_root()) return {program, std::move(args)};
    args.insert(args.begin(), {"--reuid=65534", "--regid=65534", "--clear-groups", program});
    return {setpriv, std::move(args)};
}

void give_to_nobody(const std::filesystem::path& root)
{
    if (!as_root()) return;
    (void)::lchown(root.c_str(), nobody, nobody);
    for (auto& e : std::filesystem::recursive_directory_iterator(root))
        (void)::lchown(e.path().c_str(), nobody, nobody);
}

std::string tail(const std::string& text, std::size_t n = 2000)
{
    return text.size() <= n ? text : "..." + text.substr(text.size() - n);
}

}  // namespace

std::string postgres_server::bin_dir()
{
    const char* env = std::getenv("WFSYNC_PG_BINDIR");
    return env && *env ? env : "/usr/lib/postgresql/15/bin";
}

std::optional<std::string> postgres_server::unavailable()
{
    for (const char* tool : {"initdb", "postgres"}) {
        const auto path = bin_dir() + "/" + tool;
        if (::access(path.c_str(), X_OK) != 0)
            return "no PostgreSQL server here: " + path +
                   " is missing (install Debian's postgresql-15, see scripts/setup, or set WFSYNC_PG_BINDIR)";
    }
    if (as_root() && ::access(setpriv, X_OK) != 0)
        return std::string("running as root, and ") + setpriv + " (to start PostgreSQL as nobody) is missing";
    return std::nullopt;
}

postgres_server::postgres_server() : dir_(std::make_unique<temp_dir>())
{
    if (auto why = unavailable()) throw std::runtime_error(*why);
    const auto began = std::chrono::steady_clock::now();
    const auto data = dir_->file("data");
    socket_dir_ = dir_->file("sock");
    std::filesystem::create_directory(socket_dir_);
    ::chmod(socket_dir_.c_str(), 0700);
    password_file_ = dir_->write("password", password);
    ::chmod(password_file_.c_str(), 0600);
    give_to_nobody(dir_->path());

    // --no-sync and fsync=off: a test server's data need not survive a power loss.
    auto [initdb, initdb_args] = unprivileged(
        bin_dir() + "/initdb",
        {"-D", data, "-U", user, "--pwfile=" + password_file_, "--auth-local=trust",
         "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions"});
    auto init = run_program(initdb, initdb_args, {}, std::chrono::seconds(120));
    if (init.code != 0)
        throw std::runtime_error("initdb failed (exit " + std::to_string(init.code) + "): " + tail(init.err + init.out));

    // free_port() only says the port was free a moment ago: another test may take it first, and
    // then postgres exits saying so; a few tries on other ports.
    for (int attempt = 1;; ++attempt) {
        port_ = free_port();
        auto [postgres, postgres_args] = unprivileged(
            bin_dir() + "/postgres",
            {"-D", data, "-p", std::to_string(port_), "-k", socket_dir_, "-c", "listen_addresses=127.0.0.1",
             "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off", "-c",
             "shared_buffers=16MB", "-c", "max_connections=40", "-c", "logging_collector=off"});
        server_ = std::make_unique<process>(postgres, postgres_args, std::map<std::string, std::string>{},
                                            dir_->file("server.out"), dir_->file("server.log"));
        if (wait_until_ready()) break;
        const bool port_taken = log().find("could not bind") != std::string::npos ||
                                log().find("could not create any TCP/IP sockets") != std::string::npos;
        if (!port_taken || attempt == 3) throw std::runtime_error("postgres exited at start: " + tail(log()));
        server_.reset();
    }
    start_time_ = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - began);
}

bool postgres_server::wait_until_ready()
{
    // Bounded poll until the server answers (or dies): PQping makes no session.
    const std::string ping = "host=" + socket_dir_ + " port=" + std::to_string(port_) + " dbname=postgres user=" + user +
                             " connect_timeout=2";
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    auto pause = std::chrono::milliseconds(2);
    for (;;) {
        if (PQping(ping.c_str()) == PQPING_OK) return true;
        if (!server_->running()) return false;
        if (std::chrono::steady_clock::now() >= until)
            throw std::runtime_error("postgres did not accept connections within 60 s: " + tail(log()));
        std::this_thread::sleep_for(pause);
        pause = std::min(pause * 2, std::chrono::milliseconds(50));
    }
}

postgres_server::~postgres_server()
{
    if (server_ && server_->running()) {
        server_->signal(SIGINT);  // fast shutdown: ends sessions, writes a checkpoint
        if (!server_->wait_for(std::chrono::seconds(30))) server_->signal(SIGKILL);
        (void)server_->wait_for(std::chrono::seconds(10));
    }
    server_.reset();
    dir_.reset();
}

std::string postgres_server::tcp_url(const std::string& database) const
{
    return "postgresql://" + std::string(user) + "@127.0.0.1:" + std::to_string(port_) + "/" + database;
}

std::string postgres_server::socket_url(const std::string& database) const
{
    return "postgresql://" + std::string(user) + "@/" + database + "?host=" + socket_dir_ +
           "&port=" + std::to_string(port_);
}

std::string postgres_server::log() const { return read_file(dir_->file("server.log")); }

}  // namespace wfsync::test
