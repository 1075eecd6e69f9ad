// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <wfsync/app/cli.hpp>
#include <wfsync/config/config.hpp>

#include <iosfwd>

namespace wfsync::app {

/// `wfsync state check` and `wfsync state backup FILE [--force]`. Both only read the state:
/// they take no lock and work beside a running daemon.
int run_state(const config::config& cfg, const command_line& cl, std::ostream& out, std::ostream& err);

}  // namespace wfsync::app
