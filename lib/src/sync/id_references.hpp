// SPDX-License-Identifier: Apache-2.0
// Internal to the sync layer: the tenant-local parts of Kore.ai and SecMaster packages.
#pragma once

#include <wfsync/connector/tenant_local.hpp>

#include <boost/json/value.hpp>

#include <map>
#include <string>

namespace wfsync::sync::detail {

/// A JSON file of a package, parsed.
struct json_file {
    boost::json::value doc;
    std::size_t text_size = 0;  ///< of the text it was parsed from: about what its canonical form takes
};

/// The canonical JSON (core/json.hpp) of the JSON documents of one package (file name ->
/// document), by file name: their tenant-local members dropped, each identifier (as a value, an array element, or inside a
/// longer text when it is long) replaced by a reference "@/<file>/<path>" to the place where it first appears in a
/// walk of the files in name order and of each object's members in byte order. The walk
/// depends on structure and member names only, never on identifier values, so re-stamping
/// every identifier of a package consistently leaves the result unchanged, while a changed
/// reference (a "next" that now names another node) changes it. Limits: object keys that are
/// identifiers are replaced too, but order the walk by their old text, so a keyed map hashes
/// equal after re-stamping only where the new keys sort as the old did; arrays are taken in
/// the order the platform gives them.
std::map<std::string, std::string> canonical_without_tenant_local(const std::map<std::string, json_file>& docs,
                                                                  const connector::tenant_local_fields& fields);

}  // namespace wfsync::sync::detail
