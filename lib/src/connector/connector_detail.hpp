// SPDX-License-Identifier: Apache-2.0
// Private to the connector layer: what every platform's connector shares.
#pragma once

#include <wfsync/net/http_client.hpp>

#include <string>

namespace wfsync::config {
struct tenant;
}

namespace wfsync::connector::detail {

/// Passes one HTTP attempt of tenant `tenant` to the observer set with set_attempt_observer.
void notify_attempt(const std::string& tenant, const net::attempt_record& rec);

/// HTTP client settings from a tenant's base_url, tls and net sections (timeouts, retries,
/// concurrency, rate); no default headers.
net::client_settings client_settings_for(const config::tenant& t);

}  // namespace wfsync::connector::detail
