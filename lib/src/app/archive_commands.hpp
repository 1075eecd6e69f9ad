// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <wfsync/app/cli.hpp>

#include <iosfwd>
#include <memory>

namespace wfsync::config {
struct config;
}
namespace wfsync::store {
class store;
}

namespace wfsync::app {

/// `wfsync archive list|verify|prune`: exit 1 when verify finds a problem or prune fails.
int run_archive(const config::config& cfg, store::store& st, const command_line& cl, std::ostream& out,
                std::ostream& err);

/// `wfsync restore`: a sync from an archive into a tenant of the same platform.
int run_restore(std::shared_ptr<const config::config> cfg, store::store& st, const command_line& cl,
                std::ostream& out, std::ostream& err);

}  // namespace wfsync::app
