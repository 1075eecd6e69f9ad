// SPDX-License-Identifier: Apache-2.0
// Pure JSON <-> connector::model conversion for Huawei Cloud SecMaster (and its IAM token
// call). No I/O here, so every function is unit-tested on texts
// (tests/unit/connector/secmaster_mapping_test.cpp).
//
// Much of SecMaster's answers is undocumented (api-reference.md section 3 marks the export
// format, the version fields and the import's effect [UNKNOWN]); the parsers below accept
// every plausible shape and say so where they do.
#pragma once

#include <wfsync/connector/model.hpp>
#include <wfsync/connector/tenant_local.hpp>
#include <wfsync/core/error.hpp>

#include <boost/json/value.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace wfsync::connector::secmaster {

/// What in this platform's packages is tenant-local, and why (secmaster_tenant_local.cpp).
extern const tenant_local_fields tenant_local;

/// Parses a response body; a syntax error becomes errc::bad_response naming `what` and the
/// byte offset where parsing stopped.
[[nodiscard]] result<boost::json::value> parse_body(std::string_view body, std::string_view what);

// ---- IAM -------------------------------------------------------------------------------

/// The body of POST {iam}/v3/auth/tokens, password method, scoped to the project by name
/// [H-IAM]. JSON-escaped properly (a password may hold quotes or backslashes).
std::string token_request_body(std::string_view user, std::string_view password,
                               std::string_view domain, std::string_view project);

/// "2025-01-02T03:04:05.123456Z" or with a "+08:00" offset -> time point. Fractions of any
/// length are accepted (Keystone sends microseconds). nullopt when the text is not that form.
std::optional<std::chrono::system_clock::time_point> parse_iso8601(std::string_view text);

/// What an IAM token answer says.
struct token_info {
    std::string token;  ///< from the X-Subject-Token header
    std::optional<std::chrono::system_clock::time_point> expires_at;  ///< body token.expires_at
};

/// Reads the token from the X-Subject-Token header value (`header` null = absent) and the
/// expiry from the body's token.expires_at ([GUESS] standard Keystone; absent or unreadable
/// -> nullopt). A missing token is errc::bad_response; messages never quote the body.
[[nodiscard]] result<token_info> parse_token(const std::string* header, std::string_view body,
                                             std::string_view what);

/// How long a token is used: its lifetime minus 5 minutes, or minus 10% of it when that is
/// shorter. An unknown expiry counts as 24 h [H-IAM]. A lifetime <= 0 (clock skew) -> 0.
std::chrono::milliseconds token_usable_for(std::optional<std::chrono::milliseconds> lifetime);

// ---- errors ----------------------------------------------------------------------------

/// The platform's error text: "CODE: message" from {code, message} (SecMaster),
/// {error_code, error_msg} (API gateway, e.g. APIG.1002) or {error:{code, message}} (IAM).
/// Empty if none is found or the body is not JSON.
std::string platform_message(std::string_view body);

/// True if the body is a JSON object with "success": false (or "false").
bool is_failure_body(const boost::json::value& v);

/// The error kind for a non-success HTTP status. `write` is true for imports.
errc errc_for_status(int status, bool write);

/// "<prefix>: HTTP 400: <platform message>", of the kind errc_for_status gives, carrying the
/// status; a non-JSON body is shown in part. Passed through log::redact.
error status_error(std::string_view prefix, int status, std::string_view body, bool write);

// ---- lists -----------------------------------------------------------------------------

/// One page of GET .../soc/workflows.
struct workflow_page {
    std::vector<workflow_summary> items;
    std::optional<std::int64_t> total;  ///< "total", if the answer has it
};

/// Parses {code, message, success, total, offset, limit, data:[AopWorkflowInfo]} [H-LIST]
/// (a bare array is accepted too). Each item needs an id. [UNKNOWN] which AopWorkflowInfo
/// field names the current version: "version" (text or {version}), "active_version" or
/// "current_version" are read for active_version, "latest_version"/"last_version" for latest.
[[nodiscard]] result<workflow_page> parse_workflow_page(std::string_view body, std::string_view what);

/// Parses GET .../soc/workflows/{id}/versions [H-VERS]: data[] of AopWorkflowVersionInfo.
/// Label from "version", else "name", else "version_id"; id from "id", else "version_id";
/// active = status "activated" (or a boolean "enabled"/"active" when there is no status).
[[nodiscard]] result<std::vector<version_summary>> parse_versions(std::string_view body,
                                                                  std::string_view what);

// ---- export / import -------------------------------------------------------------------

/// The file name an export is stored under: Content-Disposition's filename (or RFC 5987
/// filename*=UTF-8''...), reduced to its last path component, control characters dropped;
/// "<workflow_id>.json" when there is none or it is unusable ("", ".", "..").
std::string export_file_name(const std::string* content_disposition, std::string_view workflow_id);

/// Wraps an export body in a package (format "secmaster-file", files {file_name: body}).
/// The bytes are kept as they are (the format is [UNKNOWN]). The version label is read from
/// the file when it is a JSON object carrying one ("version" text, or version.version /
/// workflow.version text); else the summary's active version, else its latest, else
/// `fallback_version`. An empty body is errc::bad_response.
[[nodiscard]] result<package> make_export_package(std::string_view body, std::string file_name,
                                                  const workflow_summary& wf,
                                                  std::string_view fallback_version,
                                                  std::string_view what);

/// Reads a version detail answer, GET .../soc/workflows/versions/{version_id} [H-SHOWV]
/// ({code, message, success, data:{...}} or the object itself) into a package of format
/// "secmaster-version": "taskflow.json" (the BASE64 topology decoded; "taskflow" when it is not
/// JSON), "taskconfig.json" (a JSON text or object), and "version.json" with the remaining
/// members. [GUESS] that the detail carries the content the update API takes [H-UPDV]: an
/// answer with neither taskflow nor taskconfig is errc::bad_response, as is bad BASE64.
[[nodiscard]] result<package> parse_version_detail(std::string_view body, const workflow_summary& wf,
                                                   const version_summary& v, std::string_view what);

/// The workflow name an export file carries (JSON object with workflow.name, or "name");
/// empty if the file is not JSON or names none.
std::string file_workflow_name(std::string_view file);

/// The file to upload for an import: the package's only file. When `name` is not empty,
/// differs from the file's workflow.name and the file is JSON with a "workflow" object, the
/// name is replaced, so that the import lands on the workflow of that name (the platform
/// matches by name [GUESS], see secmaster_connector.hpp). errc::invalid_argument when the
/// package is not "secmaster-file" or does not hold exactly one file.
struct upload_file {
    std::string name;
    std::string bytes;
};
[[nodiscard]] result<upload_file> import_file(const package& p, std::string_view name,
                                              std::string_view what);

/// Checks an import answer {code, message, success, request_id} [H-IMP]: success false is an
/// error (errc::conflict) with the code and message; a non-JSON answer is errc::bad_response.
[[nodiscard]] result<void> check_import_answer(std::string_view body, int status,
                                               std::string_view what);

}  // namespace wfsync::connector::secmaster
