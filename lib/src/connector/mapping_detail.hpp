// SPDX-License-Identifier: Apache-2.0
// Private to the connector layer: text and JSON helpers the platforms' mappings share.
// No I/O here.
#pragma once

#include <wfsync/core/error.hpp>
#include <wfsync/net/http.hpp>

#include <boost/json/value.hpp>

#include <cstddef>
#include <initializer_list>
#include <string>
#include <string_view>

namespace wfsync::connector::detail {

/// Parses a response body; a syntax error becomes errc::bad_response naming `what` and the
/// byte offset where parsing stopped.
[[nodiscard]] result<boost::json::value> parse_body(std::string_view body, std::string_view what);

using net::iequals;  ///< ASCII case-insensitive equality

/// Printable ASCII, at most `max` bytes ("..." appended when cut): used when showing a
/// non-JSON text in an error.
std::string printable_prefix(std::string_view s, std::size_t max);

/// True if the body is a JSON object with "success": false (or the text "false", any case).
bool is_failure_body(const boost::json::value& v);

/// The error for an HTTP answer that failed, of kind `code`, carrying the status:
/// "<prefix>: HTTP 400: <message>", where `message` is the platform's own text, or when it
/// is empty and the body is not JSON (an HTML page from a proxy, say) the body's start.
/// Passed through log::redact.
error status_error(std::string_view prefix, int status, std::string_view body,
                   std::string message, errc code);

/// workflow_summary::change_mark of one listed definition: the sha256 of its canonical JSON
/// (everything the listing shows, so that no change the platform reports there is missed),
/// or empty when none of `changing` (members that change with the content: version labels
/// and ids, update times) is there with a value.
std::string change_mark(const boost::json::object& item, std::initializer_list<std::string_view> changing);

}  // namespace wfsync::connector::detail
