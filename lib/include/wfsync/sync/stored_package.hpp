// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <wfsync/connector/model.hpp>
#include <wfsync/core/error.hpp>
#include <wfsync/store/store.hpp>

#include <string>

namespace wfsync::sync {

/// The package of a version kept in the state, rebuilt from its stored bytes: one file kept
/// as it was exported, or several as a zip (see fetch.cpp). The stored bytes do not say which,
/// nor the lone file's name, so each reading is normalized and the one whose hash is the
/// recorded content hash is the package; none matching is errc::not_found.
[[nodiscard]] result<connector::package> stored_package(const store::workflow_row& w, const store::version_row& v,
                                                        const std::string& bytes);

}  // namespace wfsync::sync
