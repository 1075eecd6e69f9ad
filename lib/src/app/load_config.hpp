// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <wfsync/config/config.hpp>

#include <iosfwd>

namespace wfsync::app {

/// Loads a config and checks what the config layer cannot: every rule's schedule is parsed
/// by the scheduler's own parser, so `check --offline` and a reload refuse exactly what the
/// daemon could not run. Problems carry the rule's file:line:column.
config::load_result load_checked(const std::string& file);

/// Prints "the configuration has N errors:" and each issue, secrets masked.
void print_issues(const std::vector<config::config_issue>& issues, std::ostream& err);

}  // namespace wfsync::app
