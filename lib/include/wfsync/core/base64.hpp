// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <wfsync/core/error.hpp>

#include <string>
#include <string_view>

namespace wfsync {

/// Standard base64 (RFC 4648 section 4) with padding.
std::string base64_encode(std::string_view bytes);

/// Decodes standard base64; padding optional, ASCII whitespace (line breaks) skipped. Any
/// other character, or a length that cannot be base64, is errc::bad_response naming the
/// offset.
[[nodiscard]] result<std::string> base64_decode(std::string_view text);

}  // namespace wfsync
