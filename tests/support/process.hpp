// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <sys/types.h>

namespace wfsync::test {

/// A child process started with posix_spawn, its stdout and stderr going to files.
/// The destructor kills it (SIGKILL) if it still runs.
class process {
public:
    /// `env` entries are added to (or replace in) the current environment.
    process(const std::string& program, const std::vector<std::string>& args,
            const std::map<std::string, std::string>& env, const std::string& stdout_file,
            const std::string& stderr_file);
    ~process();
    process(const process&) = delete;
    process& operator=(const process&) = delete;

    pid_t pid() const noexcept { return pid_; }
    /// Waits up to `limit`; the exit code (128+signal when killed), or nullopt on time-out.
    std::optional<int> wait_for(std::chrono::milliseconds limit);
    /// Sends a signal.
    void signal(int sig);
    bool running();

private:
    pid_t pid_ = -1;
    std::optional<int> status_;
};

struct run_output {
    int code = -1;
    std::string out;
    std::string err;
};

/// Runs a program to the end (at most `limit`, then SIGKILL and a test failure).
run_output run_program(const std::string& program, const std::vector<std::string>& args,
                       const std::map<std::string, std::string>& env = {},
                       std::chrono::milliseconds limit = std::chrono::seconds(120));

/// Runs a program to the end with stdin, stdout and stderr on a new pseudo-terminal of
/// `columns` columns, as a person at a terminal would; `out` is all it wrote there, `err`
/// stays empty. At most `limit`, then SIGKILL and a test failure.
run_output run_in_terminal(const std::string& program, const std::vector<std::string>& args,
                           const std::map<std::string, std::string>& env = {}, unsigned short columns = 80,
                           std::chrono::milliseconds limit = std::chrono::seconds(120));

/// A loopback TCP port nobody listens on right now (for a child that must be told its port).
std::uint16_t free_port();

}  // namespace wfsync::test
