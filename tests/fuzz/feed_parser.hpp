// SPDX-License-Identifier: Apache-2.0
// Feeds bytes to a Beast HTTP parser the way a socket read loop does: in pieces, keeping
// what the parser did not consume for the next call. Shared by the HTTP fuzz targets.
#pragma once

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/error.hpp>

#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>

namespace wfsync::fuzz {

/// Puts `bytes` into `parser` `piece` bytes at a time until it is done or all were given.
/// False when the parser refused the input (an error other than need_more).
template <class Parser>
bool feed_in_pieces(Parser& parser, std::string_view bytes, std::size_t piece)
{
    std::size_t pos = 0;
    std::string pending;
    boost::system::error_code ec;
    while (pos < bytes.size() && !parser.is_done()) {
        std::size_t n = std::min(piece, bytes.size() - pos);
        pending.append(bytes.data() + pos, n);
        pos += n;
        auto used = parser.put(boost::asio::buffer(pending), ec);
        if (ec && ec != boost::beast::http::error::need_more) return false;
        pending.erase(0, used);
    }
    return true;
}

}  // namespace wfsync::fuzz
