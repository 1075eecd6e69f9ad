// SPDX-License-Identifier: Apache-2.0
// What the server (the admin endpoint) does with a request before routing it: Beast's
// request_parser with the server's header limit and a body limit, chunked bodies included,
// fed in pieces whose sizes come from byte 0; then the path's percent-decoding and a gzip
// Content-Encoding, as net::http_server does. Routing itself is not reached here.
#include <wfsync/core/zlib.hpp>
#include <wfsync/net/http.hpp>

#include "feed_parser.hpp"

#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>

namespace http = boost::beast::http;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size < 1) return 0;
    std::size_t piece = 1 + data[0] % 64;
    ++data;
    --size;
    http::request_parser<http::string_body> parser;
    parser.header_limit(64 * 1024);
    parser.body_limit(1 << 20);
    parser.eager(true);
    if (!wfsync::fuzz::feed_in_pieces(parser, {reinterpret_cast<const char*>(data), size}, piece)) return 0;
    if (!parser.is_done()) return 0;
    auto req = parser.release();
    std::string target(req.target());
    auto q = target.find('?');
    auto path = wfsync::net::percent_decode(std::string_view(target).substr(0, q));
    (void)path;
    if (auto enc = req.find(http::field::content_encoding); enc != req.end() && enc->value() == "gzip") {
        auto body = wfsync::gzip_decompress(req.body(), 1 << 20);
        if (body && body->size() > (1u << 20)) __builtin_trap();
    }
    return 0;
}
