// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <wfsync/core/error.hpp>

#include <boost/json/value.hpp>

#include <string>
#include <string_view>

namespace wfsync {

/// Parses JSON; the error names `what` (e.g. "export of workflow 458") and the byte offset.
[[nodiscard]] result<boost::json::value> parse_json(std::string_view text, std::string_view what);

/// Canonical JSON: object keys sorted by byte order, no whitespace. Equal documents give
/// equal bytes, which is what content hashes are taken over.
std::string canonical_json(const boost::json::value& v);

/// Appends the canonical JSON of `v` to `out` (what `canonical_json` returns).
void append_canonical_json(std::string& out, const boost::json::value& v);

/// Appends `s` as a JSON string, quoted and escaped exactly as Boost.JSON's serializer does
/// ('"', '\\' and control characters only), which canonical JSON is made of.
void append_json_string(std::string& out, std::string_view s);

/// Member `key` of `v` if `v` is an object holding it, else nullptr.
const boost::json::value* find_member(const boost::json::value& v, std::string_view key);

/// Member as a string: a JSON string as is, a number printed, else empty.
std::string member_string(const boost::json::value& v, std::string_view key);

}  // namespace wfsync
