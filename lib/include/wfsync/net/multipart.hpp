// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <wfsync/core/error.hpp>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace wfsync::net {

/// One field of a multipart/form-data body (RFC 7578). `filename` empty = a plain field;
/// `content_type` empty = none sent (a file part then goes as application/octet-stream).
struct multipart_part {
    std::string name;
    std::string filename;
    std::string content_type;
    std::string data;
};

/// A built body and the Content-Type that names its boundary.
struct multipart_body {
    std::string content_type;  ///< multipart/form-data; boundary=...
    std::string body;
};

/// Builds a multipart/form-data body with CRLF framing and a random boundary that occurs in
/// no part. In names and file names `"`, CR and LF are written as %22, %0D and %0A (the
/// encoding browsers use), so a name can never break out of its quotes or its header line.
multipart_body make_multipart(const std::vector<multipart_part>& parts);

/// Parses a multipart/form-data body. Strict and bounded: the boundary must be given in
/// `content_type`, every part needs a Content-Disposition with a name, the body must end with
/// the closing delimiter, and more than `max_parts` parts is an error. Errors are
/// errc::bad_response naming what is wrong and at which part. Names are returned as sent
/// (quoted-string backslash escapes undone; %22/%0D/%0A are left as they are).
result<std::vector<multipart_part>> parse_multipart(std::string_view content_type,
                                                    std::string_view body,
                                                    std::size_t max_parts = 64);

}  // namespace wfsync::net
