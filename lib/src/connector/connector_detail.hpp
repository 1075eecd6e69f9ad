// SPDX-License-Identifier: Apache-2.0
// Private to the connector layer: what every platform's connector shares.
#pragma once

#include <string>

namespace wfsync::net {
struct attempt_record;
}

namespace wfsync::connector::detail {

/// Passes one HTTP attempt of tenant `tenant` to the observer set with set_attempt_observer.
void notify_attempt(const std::string& tenant, const net::attempt_record& rec);

}  // namespace wfsync::connector::detail
