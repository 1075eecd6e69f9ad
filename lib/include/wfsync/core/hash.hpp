// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <string>
#include <string_view>

namespace wfsync {

/// Lower-case hex SHA-256 of `data`.
std::string sha256_hex(std::string_view data);

/// `n` random bytes as lower-case hex, from the OS's CSPRNG (run ids, track ids).
std::string random_hex(std::size_t n);

}  // namespace wfsync
