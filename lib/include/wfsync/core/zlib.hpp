// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <wfsync/core/error.hpp>

#include <cstddef>
#include <string>
#include <string_view>

namespace wfsync {

/// gzip-compresses `data` (RFC 1952), for request bodies and archive files.
std::string gzip_compress(std::string_view data);

/// Inflates a gzip stream; fails with `errc::body_too_large` once the output would pass
/// `max_out` bytes (a bomb guard), and `errc::bad_response` on corrupt or truncated input.
[[nodiscard]] result<std::string> gzip_decompress(std::string_view data, std::size_t max_out);

/// zlib-format (RFC 1950) compression, for packages stored in SQLite.
std::string zlib_compress(std::string_view data);

/// Inflates zlib-format data with an output cap, as gzip_decompress.
[[nodiscard]] result<std::string> zlib_decompress(std::string_view data, std::size_t max_out);

}  // namespace wfsync
