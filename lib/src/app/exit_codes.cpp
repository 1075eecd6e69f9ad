// SPDX-License-Identifier: Apache-2.0
#include <wfsync/app/cli.hpp>

namespace wfsync::app {

int exit_code_for(const error& e) noexcept
{
    // Transient: a tenant unreachable or overloaded, the store busy. A run again may succeed.
    if (is_retryable(e)) return exit_tempfail;
    switch (e.code) {
    case errc::permission: return exit_noperm;
    // The state or a local file: damaged, unreadable, on a read-only or full file system.
    // Waiting does not help; someone must act.
    case errc::io:
    case errc::store: return exit_ioerr;
    case errc::config: return exit_config;
    case errc::invalid_argument: return exit_usage;
    default: return exit_partial;
    }
}

}  // namespace wfsync::app
