// SPDX-License-Identifier: Apache-2.0
// Pure JSON <-> connector::model conversion for Zuora Workflow. No I/O here, so every
// function is unit-tested on JSON texts (tests/unit/connector/zuora_mapping_test.cpp).
//
// Much of the Zuora Workflow response shape is not documented (api-reference.md section 1
// marks it [UNKNOWN] or [GUESS]); the parsers below accept every plausible shape and say
// so where they do.
#pragma once

#include <wfsync/connector/model.hpp>
#include <wfsync/core/error.hpp>

#include <boost/json/value.hpp>

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace wfsync::connector::zuora {

/// Parses a response body; a syntax error becomes errc::bad_response naming `what` and the
/// byte offset where parsing stopped.
[[nodiscard]] result<boost::json::value> parse_body(std::string_view body, std::string_view what);

/// A JSON id as text: strings as they are, integers printed; anything else empty.
std::string id_text(const boost::json::value* v);

/// The platform's own error text in a body: `reasons[].message` (joined with "; "),
/// `message`, `error_description` or `error` (string or {message}). Empty if none is found.
/// Not JSON: empty.
std::string platform_message(std::string_view body);

/// True if the body is a JSON object with "success": false (Zuora answers some errors
/// with HTTP 200 and this flag).
bool is_failure_body(const boost::json::value& v);

/// The error kind for a non-success HTTP status.
/// `write` is true for imports: there a 400/422 is the platform refusing because of the
/// target's state (version not greater than the highest, idempotency mismatch) -> conflict.
errc errc_for_status(int status, bool write);

/// The error kind for a "success": false body, from the first reasons[].code: the last two
/// digits are the category (10/11 auth, 20-23 invalid, 30 business rule, 40 not found), and
/// codes starting with 9 are authentication problems.
errc errc_for_failure_body(const boost::json::value& v, bool write);

/// Builds the error for an HTTP answer that failed: "<prefix>: HTTP 400: <platform message>".
/// `prefix` is e.g. "tenant prod: import of workflow 205 version 0.0.3". The platform's
/// message (or the start of a non-JSON body) is passed through log::redact.
error status_error(std::string_view prefix, int status, std::string_view body, bool write);

/// Replaces in a Zuora-Track-Id value every character Zuora forbids (non-ASCII, controls,
/// `:` `;` `"` `'`) by '_' and cuts it to 64 characters.
std::string sanitize_track_id(std::string_view value);

/// application/x-www-form-urlencoded body of the client-credentials token request.
std::string token_request_body(std::string_view client_id, std::string_view client_secret);

/// A token answer.
struct token_info {
    std::string access_token;
    std::chrono::seconds expires_in{0};  ///< as the server says; 0 if absent
};

/// Parses POST /oauth/token's answer; a missing access_token is errc::bad_response (the
/// message never contains the body, which could hold the token).
[[nodiscard]] result<token_info> parse_token(std::string_view body, std::string_view what);

/// How long a token is used: expires_in minus min(60 s, 10% of expires_in). An unknown
/// lifetime (0) counts as 3600 s ([GUESS]: Zuora tokens last about an hour).
std::chrono::milliseconds token_usable_for(std::chrono::seconds expires_in);

/// One page of GET /workflows.
struct workflow_page {
    std::vector<workflow_summary> items;
    bool has_pagination = false;  ///< the {data, pagination} shape
    bool has_next = false;        ///< pagination.next_page is set (not null, not empty)
};

/// Parses one page of GET /workflows: {data:[...], pagination:{next_page}} or a bare array.
[[nodiscard]] result<workflow_page> parse_workflow_page(std::string_view body, std::string_view what);

/// Parses GET /workflows/{id}/versions: {data:[...]} or a bare array.
[[nodiscard]] result<std::vector<version_summary>> parse_versions(std::string_view body,
                                                                  std::string_view what);

/// Validates an export document ({workflow: object, tasks: array, linkages: array or absent})
/// and wraps it in a package (format "zuora-json", file "workflow.json" = the body as is).
/// `wf` gives the id and the fallback name.
[[nodiscard]] result<package> parse_export(std::string_view body, const workflow_summary& wf,
                                           std::string_view what);

/// The body to send to an import: the package's workflow.json, with workflow.name replaced
/// by `new_name` if that is not empty (only for a new definition).
[[nodiscard]] result<std::string> import_body(const package& p, std::string_view new_name,
                                              std::string_view what);

/// Parses an import's answer: the new-version shape {id, active_version{version}} or the
/// export shape {workflow{id, version}}. `fallback_id` / `requested_version` are used where
/// the answer does not say.
[[nodiscard]] result<import_result> parse_import_result(std::string_view body,
                                                        std::string_view fallback_id,
                                                        std::string_view requested_version,
                                                        std::string_view what);

}  // namespace wfsync::connector::zuora
