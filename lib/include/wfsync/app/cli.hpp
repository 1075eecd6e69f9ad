// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <wfsync/core/error.hpp>

#include <iosfwd>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace wfsync::app {

/// Exit codes (sysexits.h where one fits; design.md "Command line").
enum exit_code : int {
    exit_ok = 0,
    exit_partial = 1,    ///< some items failed; the rest were done
    exit_usage = 2,
    exit_ioerr = 74,     ///< EX_IOERR: a local I/O problem that will not pass by itself (a damaged
                         ///< state, a read-only file system, a disk error, a FIFO for a file)
    exit_tempfail = 75,  ///< EX_TEMPFAIL: try again later (a tenant down, the store busy, the lock held)
    exit_noperm = 77,    ///< EX_NOPERM: the OS refused access to a local file or directory
    exit_config = 78,    ///< EX_CONFIG
};

/// The exit code for a command that failed with `e` as a whole: 75 only for what may pass
/// by itself (network, 5xx, 429, a busy store, the state's lock held), 77 for permissions,
/// 74 for local I/O and the state, 78 for the config, 2 for a bad argument, else 1.
int exit_code_for(const error& e) noexcept;

/// A parsed command line.
struct command_line {
    std::string config_file;  ///< --config, else $WFSYNC_CONFIG, else /etc/wfsync/wfsync.yaml
    std::string command;      ///< sync, plan, check, history, ...
    std::vector<std::string> rules;  ///< --rule (repeatable)
    std::string workflow;     ///< --workflow
    bool dry_run = false;
    bool full = false;        ///< sync/plan --full: compare every item's contents, whatever the listings say
    /// --wait[=DURATION]: wait for the state lock held by another command (no limit without
    /// a duration) rather than exit at once.
    std::optional<std::chrono::milliseconds> wait;
    bool offline = false;
    bool strict = false;      ///< check --offline --strict: a secret that cannot be read fails
    bool json = false;        ///< --json: the command's result as one JSON document (docs/json.md)
    bool quiet = false;       ///< -q: errors and warnings only, no progress line
    int verbose = 0;          ///< -v: info log lines on a terminal too; -vv: debug
    bool no_color = false;    ///< --no-color (NO_COLOR in the environment does the same)
    bool force = false;       ///< state backup --force: replace an existing FILE
    int limit = 50;
    std::string grace;        ///< serve --grace DURATION
    std::string archive;      ///< archive --archive NAME
    std::string from;         ///< restore --from archive:NAME
    std::string to;           ///< restore --to TENANT
    std::string version;      ///< restore --version V
    std::string at;           ///< restore --at TIME (ISO 8601, UTC)
    std::int64_t intent = 0;  ///< resolve --intent N
    std::string resolution;   ///< resolve: "imported" or "not-imported"
    std::string target_workflow;  ///< resolve --target-workflow ID
    std::string target_version;   ///< resolve --target-version V
    std::vector<std::string> positional;
    /// command "help": the text to print (the root's or one command's help).
    std::string help_text;
};

/// Parses argv (CLI11). `--help`, `COMMAND --help` and `help [COMMAND]` give command "help"
/// with its text; `--version` gives command "version". A usage error is one line naming the
/// offending argument.
[[nodiscard]] result<command_line> parse_command_line(const std::vector<std::string>& args);

/// The top-level help text (`wfsync --help`).
std::string usage();

/// Runs a parsed command; output to `out`, diagnostics to `err`; returns the exit code.
int run_command(const command_line& cl, std::ostream& out, std::ostream& err);

/// parse + run, the whole program.
int main(int argc, char** argv);

}  // namespace wfsync::app
