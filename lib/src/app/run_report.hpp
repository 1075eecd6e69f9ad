// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <wfsync/sync/engine.hpp>

#include <boost/json/object.hpp>

#include <iosfwd>

namespace wfsync::app {

/// How a run is reported: carried out, or only decided (plan, --dry-run), which every line
/// then says ("would import").
enum class run_mode { done, dry_run, plan };

/// One run as the `runs[]` element of sync, plan and restore --json (docs/json.md).
boost::json::object run_json(const sync::run_summary& s, run_mode mode);

/// One run for people: a summary line, how items were read, a table of items and, for a
/// plan or a dry run, the changes each import would make.
/// On a terminal (`colour_on`) actions are coloured: imports green, drift yellow, errors red.
void print_run(std::ostream& out, const sync::run_summary& s, run_mode mode, std::string_view title,
               bool colour_on = false);

}  // namespace wfsync::app
