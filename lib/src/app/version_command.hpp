// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <wfsync/app/cli.hpp>

#include <iosfwd>

namespace wfsync::app {

/// `wfsync version` and `--version`: wfsync's version, git revision and build type, and the
/// versions of the libraries it runs with (those loaded at run time where the library says).
int run_version(const command_line& cl, std::ostream& out);

}  // namespace wfsync::app
