// SPDX-License-Identifier: Apache-2.0
// Private to the connector layer: what every platform's connector shares.
#pragma once

#include <wfsync/core/async.hpp>
#include <wfsync/net/http_client.hpp>

#include <string>
#include <string_view>

namespace wfsync::config {
struct tenant;
}

namespace wfsync::connector::detail {

/// Passes one HTTP attempt of tenant `tenant` to the observer set with set_attempt_observer.
void notify_attempt(const std::string& tenant, const net::attempt_record& rec);

/// HTTP client settings from a tenant's base_url, tls and net sections (timeouts, retries,
/// concurrency, rate); no default headers.
net::client_settings client_settings_for(const config::tenant& t);

/// Sends a token request (a POST the client itself does not retry without an idempotency
/// key); asking for a token again is harmless, so transient failures are retried here:
/// retryable transport errors, 408/425, 429 and 5xx, up to the client's max_attempts with
/// its exponential backoff. With `honor_retry_after`, the server's wait hint (net::server_wait_hint)
/// lengthens the wait, capped at max_backoff. `what` ("login") names the request in logs
/// and errors; a transport error comes back redacted, prefixed with `what`. Any HTTP
/// answer is returned as it is.
awaitable<result<net::http_response>> send_token_request(net::http_client& client,
                                                         net::http_request req,
                                                         std::string_view tenant,
                                                         std::string_view what,
                                                         bool honor_retry_after);

}  // namespace wfsync::connector::detail
