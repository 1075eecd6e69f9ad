// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <wfsync/app/cli.hpp>

#include <chrono>
#include <optional>
#include <iosfwd>
#include <string>

namespace wfsync::app {

struct serve_options {
    /// How long SIGTERM waits for running rules before cancelling them.
    std::chrono::milliseconds grace{30'000};
    /// How long to wait for the state's lock held by another command (see state_lock).
    std::optional<std::chrono::milliseconds> wait;
};

/// Runs the daemon until SIGTERM/SIGINT; returns the exit code.
int run_serve(const std::string& config_file, serve_options opts, std::ostream& err);

}  // namespace wfsync::app
