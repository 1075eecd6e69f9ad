// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <wfsync/connector/model.hpp>
#include <wfsync/core/error.hpp>

#include <boost/json/value.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace wfsync::sync {

/// One file of a package in its normalized form.
struct normalized_file {
    std::string name;
    std::string canonical;  ///< canonical JSON when `json`, else the bytes as exported
    bool json = false;
};

/// A package with the tenant-local parts removed: what the content hash is taken over.
struct normalized_package {
    std::vector<normalized_file> files;  ///< sorted by name
    std::string hash;                    ///< sha256 hex, see `normalize`
};

/// Normalizes every file of `p` and hashes the result.
///
/// - format "zuora-json", file "workflow.json": `normalize_zuora_export`; its other "*.json"
///   files: canonical JSON.
/// - formats with tenant-local fields ("kore-zip", "secmaster-file",
///   connector::tenant_local_fields_for): every "*.json" file without the tenant's members and
///   with identifiers replaced by structural references (ids re-stamped by a target hash
///   equal); a lone file whose name the tenant chose is hashed as "export.<ext>".
/// - anything else (unknown formats, non-JSON files): the bytes as they are.
///
/// The hash is sha256 hex over, for each file in name order: name '\0' canonical '\0'.
/// Two tenants holding the same workflow give the same hash. Errors: a JSON file that does
/// not parse (the message names the file, line, column and byte offset), a Zuora export
/// without its structure (errc::bad_response).
[[nodiscard]] result<normalized_package> normalize(const connector::package& p);

/// Normalizes one Zuora export document ({workflow, tasks[], linkages[]}):
/// drops tenant-local fields (ids, status, timestamps, version, original_*), replaces task
/// ids by stable references "t1".."tN" (member "ref" of each task; linkages'
/// source_task_id/target_task_id) assigned in an order that depends on content and linkage
/// structure only, and sorts tasks and linkages. `what` names the document in errors.
[[nodiscard]] result<boost::json::value> normalize_zuora_export(std::string_view json_text,
                                                                std::string_view what);

/// Parses JSON with a depth limit; the error names `what`, the line, column and byte offset.
/// The value is allocated from `sp` (default: the heap).
[[nodiscard]] result<boost::json::value> parse_json_at(std::string_view text, std::string_view what,
                                                       boost::json::storage_ptr sp = {});

}  // namespace wfsync::sync
