// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <string_view>

/// What this binary was built from, fixed when CMake configured the build (one place for
/// `wfsync version`, /status and the wfsync_build_info metric).
namespace wfsync::build_info {

/// The project version of CMake's project(): "0.1.0".
std::string_view version() noexcept;
/// `git rev-parse --short=12 HEAD` of the source tree at configure time, with "-dirty" when
/// tracked files differed from it; "unknown" outside a git checkout or without git.
std::string_view revision() noexcept;
/// CMAKE_BUILD_TYPE ("Release", "RelWithDebInfo", ...); "unknown" when none was set.
std::string_view build_type() noexcept;

}  // namespace wfsync::build_info
