// SPDX-License-Identifier: Apache-2.0
// The HTTP/1.1 response parsing the client does (Beast's response_parser with the client's
// header and body limits), chunked transfer coding included, on any bytes fed in pieces whose
// sizes come from byte 0, as a socket would deliver them.
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include "feed_parser.hpp"

#include <cstddef>
#include <cstdint>

namespace http = boost::beast::http;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size < 1) return 0;
    std::size_t piece = 1 + data[0] % 64;
    ++data;
    --size;
    http::response_parser<http::string_body> parser;
    parser.body_limit(1 << 20);
    parser.header_limit(64 * 1024);
    parser.eager(true);
    if (!wfsync::fuzz::feed_in_pieces(parser, {reinterpret_cast<const char*>(data), size}, piece)) return 0;
    boost::beast::error_code ec;
    if (!parser.is_done() && parser.got_some()) parser.put_eof(ec);  // put_eof asserts got_some
    if (parser.is_done() && !ec) {
        auto res = parser.release();
        (void)res.body().size();
        (void)res.result_int();
    }
    return 0;
}
