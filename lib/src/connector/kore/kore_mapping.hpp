// SPDX-License-Identifier: Apache-2.0
// Pure JSON/URL <-> connector::model conversion for Kore.ai AI for Process
// (api-reference.md section 2). No I/O here, so every function is unit-tested on texts
// (tests/unit/connector/kore_mapping_test.cpp).
//
// The docs spell several fields two ways (dockStatusId / dock-statusId, downloadUrl /
// downloadURL, workflowId / toolId); the parsers accept each spelling.
#pragma once

#include <wfsync/connector/model.hpp>
#include <wfsync/connector/tenant_local.hpp>
#include <wfsync/core/error.hpp>
#include <wfsync/core/zip.hpp>

#include <map>
#include <string>
#include <string_view>

namespace wfsync::connector::kore {

/// What in this platform's packages is tenant-local, and why (kore_tenant_local.cpp).
extern const tenant_local_fields tenant_local;

/// The three members of an exported package [SEED 004].
inline constexpr std::string_view flow_file = "flow_definition.json";
inline constexpr std::string_view app_file = "app_definition.json";
inline constexpr std::string_view env_file = "env_variables.json";

/// Version label used where the platform names none: Kore.ai exports the deployed call flow
/// and has no API listing versions.
inline constexpr std::string_view deployed_version = "deployed";

/// Caps for an export zip: three JSON files are expected, so a few entries and sizes far
/// below the HTTP body cap.
zip_limits package_limits();

/// `path_template` with every "{id}" replaced by the percent-encoded `id`.
std::string expand_path(std::string_view path_template, std::string_view id);

/// Removes leading and trailing spaces, tabs and line breaks (the sample download URL has
/// a leading space [SEED 002]).
std::string trim(std::string_view s);

/// "scheme://host:port" of an http(s) URL, scheme and host lower-cased, the port made
/// explicit (80/443 when absent). Empty if `url` is not an absolute http(s) URL.
std::string origin_of(std::string_view url);

/// True if `url` has the same scheme, host and port as `base_url` — only then may the API
/// key go with a request to it.
bool same_origin(std::string_view base_url, std::string_view url);

/// A download URL as given, trimmed; one starting with '/' is taken relative to the base
/// URL's origin. Empty or not http(s) -> errc::bad_response naming `what`.
[[nodiscard]] result<std::string> resolve_download_url(std::string_view base_url, std::string_view url,
                                                       std::string_view what);

/// A job's status as the platform says it.
enum class job_status { in_progress, success, failed };

/// What the export, import and dock-status answers share.
struct job_info {
    std::string dock_status_id;  ///< dockStatusId, dock-statusId or _id
    std::string workflow_id;     ///< workflowId or toolId
    std::string job_type, action;
    job_status status = job_status::in_progress;
    std::string status_text;     ///< as sent
    std::string download_url;    ///< response.downloadUrl / downloadURL (trimmed), if any
    std::string export_job_id;   ///< exportJobId, if any
};

/// Parses an export, import or dock-status answer. `need_id` requires a dock status id
/// (export and import answers). A missing or unknown status is errc::bad_response, naming
/// `what`. A status answer without one of the spelled ids leaves it empty.
[[nodiscard]] result<job_info> parse_job(std::string_view body, bool need_id, std::string_view what);

/// The export answer as a job to record and poll (done = false, even when the answer says
/// SUCCESS: the package is fetched by poll_export). A FAILED answer is errc::conflict.
[[nodiscard]] result<export_job> parse_export_start(std::string_view body, std::string_view what);

/// POST /api/public/files answer {"fileId": "...", "url": "..."} -> the file id.
[[nodiscard]] result<std::string> parse_upload(std::string_view body, std::string_view what);

/// File ids of an uploaded package.
struct file_ids {
    std::string workflow_data;  ///< app_definition.json   [GUESS] api-reference.md
    std::string flow_data;      ///< flow_definition.json
    std::string env_variables;  ///< env_variables.json
};

/// Body of POST .../workflows/{id}/import, or of .../workflows/import when `new_name` is
/// not empty (then with workflowName).
std::string import_body(const file_ids& ids, std::string_view new_name);

/// Import answer -> import_result (target_workflow = workflowId, or `fallback_workflow`;
/// job_id = dock status id; done = status SUCCESS). FAILED is errc::conflict.
[[nodiscard]] result<import_result> parse_import_start(std::string_view body, std::string_view fallback_workflow,
                                                       std::string_view what);

/// Builds the package from the unzipped export: the three members are required (found at
/// the top level or, if not there, as the only entry of that base name in a folder); each
/// must be JSON. Version = app_definition.json's "version" (string or number) or
/// "deployed". Errors name the member, never its contents (env variables may be secret).
[[nodiscard]] result<package> package_from_files(const std::map<std::string, std::string>& files,
                                                 const workflow_summary& wf, std::string_view what);

/// The error for a non-2xx answer: "<prefix>: HTTP 404: <message from the body>", the body
/// text (if not JSON) cut short and passed through log::redact. 401/403 -> errc::auth,
/// 404 -> not_found, 409 -> conflict, 429 -> rate_limited, else http_status.
error status_error(std::string_view prefix, int status, std::string_view body);

}  // namespace wfsync::connector::kore
