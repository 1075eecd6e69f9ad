// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <wfsync/app/cli.hpp>

#include <iosfwd>

namespace wfsync::store {
class store;
}

namespace wfsync::app {

/// `wfsync resolve`: lists the imports held because no read could tell whether they happened
/// (table or --json); with --intent N settles one open intent as an operator found it:
/// --imported (a new workflow's id with --target-workflow) records it as done, so nothing is
/// sent again; --not-imported lets the next run send it again. Exit 1 for an unknown or
/// already settled intent.
int run_resolve(store::store& st, const command_line& cl, std::ostream& out, std::ostream& err);

}  // namespace wfsync::app
