// SPDX-License-Identifier: Apache-2.0
// Zip archives in memory (libzip), generic: no platform knowledge here.
#pragma once

#include <wfsync/core/error.hpp>

#include <cstddef>
#include <map>
#include <string>
#include <string_view>

namespace wfsync {

/// Caps applied while reading an archive that came from the network.
struct zip_limits {
    std::size_t max_entries = 64;            ///< files and directories in the central directory
    std::size_t max_entry_size = 32u << 20;  ///< one file, inflated
    std::size_t max_total = 64u << 20;       ///< all files together, inflated
};

/// Reads every file of a zip archive held in `bytes`: name -> contents. Directory entries
/// (names ending in '/') are skipped.
///
/// Refused with errc::bad_response (or errc::body_too_large for the size caps), the
/// message naming the entry: not a zip or a damaged one (truncated, CRC mismatch), more
/// than max_entries entries, a file over max_entry_size or a total over max_total — counted
/// while inflating, since the sizes a header declares can lie (zip bombs) — and names that
/// are empty, absolute ("/x", "C:x"), contain a ".." component, a backslash or a NUL byte,
/// or appear twice. Nothing is written to disk.
[[nodiscard]] result<std::map<std::string, std::string>> unzip(std::string_view bytes,
                                                               const zip_limits& limits = {});

/// Builds a zip archive (deflate) of `files`, in name order, every entry dated
/// 1980-01-01 00:00 (the DOS epoch), so equal inputs give equal bytes. Names are checked as
/// unzip() checks them (errc::invalid_argument).
[[nodiscard]] result<std::string> make_zip(const std::map<std::string, std::string>& files);

}  // namespace wfsync
