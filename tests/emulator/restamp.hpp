// SPDX-License-Identifier: Apache-2.0
// Internal to the emulator: giving imported documents the tenant's own identifiers, as a
// platform that assigns its own ids would (seed switch "import_ids": "restamp", Kore.ai and
// SecMaster tenants).
#pragma once

#include <boost/json/value.hpp>

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace wfsync::emulator::detail {

/// True for a member name that holds an identifier: "id", "_id", or one ending in "Id" or
/// "_id" (appId, flowId, startNodeId, dataclass_id, ...).
bool is_id_key(std::string_view key);

/// Re-identifies `docs` together. Every member at any depth whose key is_id_key() and whose
/// value is a non-empty string gets `fresh()`; the same old value gets the same new value in
/// all of `docs`. Then every string value anywhere in `docs` (member or array element) equal
/// to an old id is replaced by its new value, so references by value ("next": "n2",
/// "next": ["n2","n3"], a condition's target) follow. Object keys are left alone.
/// Returns the old -> new map.
std::map<std::string, std::string> restamp_ids(const std::vector<boost::json::value*>& docs,
                                               const std::function<std::string()>& fresh);

}  // namespace wfsync::emulator::detail
