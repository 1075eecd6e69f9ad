// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <wfsync/app/cli.hpp>

#include <iosfwd>

namespace wfsync::config {
struct config;
}
namespace wfsync::store {
class store;
}

namespace wfsync::app {

/// `wfsync diff TENANT WORKFLOW [A [B]]`: the structural diff between two versions of a
/// workflow kept in the state (the versions wfsync exported from TENANT), from A to B. No
/// version: the second newest to the newest; one: A to the newest. Contacts no tenant.
/// Exit 0 whether or not they differ, 1 for a workflow or version not recorded, 2 for a
/// tenant not in the config.
int run_diff(const config::config& cfg, store::store& st, const command_line& cl, std::ostream& out,
             std::ostream& err);

}  // namespace wfsync::app
