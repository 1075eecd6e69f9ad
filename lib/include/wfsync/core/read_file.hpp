// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <wfsync/core/error.hpp>

#include <cstddef>
#include <string>
#include <string_view>

namespace wfsync {

/// errc::permission for EACCES and EPERM (exit 77), else errc::io (exit 74).
errc errc_for_errno(int err) noexcept;

/// What a file of mode `mode` is, for "not a regular file but ..." messages: "a FIFO",
/// "a directory", "a socket", "a device", "a symbolic link".
std::string_view file_kind(unsigned mode) noexcept;

/// Reads the whole regular file at `path`, at most `cap` bytes. Anything but a regular file
/// (a FIFO would block for ever, a device never end) is refused before a byte is read, and
/// so is a file over `cap`. `follow_links` false refuses a symbolic link (O_NOFOLLOW).
/// Errors name the path: errc::permission when the OS refuses access, else errc::io.
[[nodiscard]] result<std::string> read_regular_file(const std::string& path, std::size_t cap,
                                                    bool follow_links = true);

/// Checks without reading that `path` is a regular file of at most `cap` bytes that this
/// process may open for reading (for a file another library reads later, e.g. a CA file).
[[nodiscard]] result<void> check_regular_file(const std::string& path, std::size_t cap);

}  // namespace wfsync
