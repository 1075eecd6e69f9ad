// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace wfsync::net {

/// ASCII case-insensitive equality (header names, auth schemes, host names).
bool iequals(std::string_view a, std::string_view b) noexcept;

/// Header fields in order; names compared case-insensitively.
struct header_list {
    std::vector<std::pair<std::string, std::string>> fields;

    void set(std::string name, std::string value);  ///< replaces an existing field
    void add(std::string name, std::string value);
    /// The first value of `name`, or nullptr.
    const std::string* find(std::string_view name) const;
};

/// A request as the connectors build it. `target` is path plus query, relative to the
/// client's base URL (its path prefix is prepended).
struct http_request {
    std::string method = "GET";
    std::string target;
    header_list headers;
    std::string body;
    std::string content_type;     ///< set when body is not empty
    std::string idempotency_key;  ///< sent as Idempotency-Key; makes a POST retryable
    /// Safe to send twice although a POST: it only reads (an export), or what it writes
    /// nothing refers to yet (a file upload). Retried like a GET.
    bool repeatable = false;
    bool gzip_body = false;       ///< send the body gzip-compressed (Content-Encoding: gzip)
    /// Absolute URL to a different host (downloads); empty = base URL + target.
    /// Credentials the connector adds are its own business.
    std::string absolute_url;
};

/// A response, its body already inflated if it came gzip-encoded.
struct http_response {
    int status = 0;
    header_list headers;
    std::string body;
    int attempts = 1;  ///< how many attempts it took, 1 = no retry
};

/// Percent-encodes a query or path component (RFC 3986 unreserved characters kept).
std::string url_encode(std::string_view s);

/// Undoes percent-encoding (a request path on the server); nullopt for a `%` not followed by
/// two hex digits.
std::optional<std::string> percent_decode(std::string_view s);

}  // namespace wfsync::net
