// SPDX-License-Identifier: Apache-2.0
#include <wfsync/core/zlib.hpp>

#include <fmt/format.h>
#include <zlib.h>

#include <stdexcept>

namespace wfsync {
namespace {

// window_bits: 15 = zlib format, 16 + 15 = gzip format.
std::string compress(std::string_view data, int window_bits)
{
    z_stream zs{};
    if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        throw std::runtime_error("deflateInit2 failed");
    std::string out;
    out.resize(deflateBound(&zs, static_cast<uLong>(data.size())) + 32);
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    zs.avail_in = static_cast<uInt>(data.size());
    zs.next_out = reinterpret_cast<Bytef*>(out.data());
    zs.avail_out = static_cast<uInt>(out.size());
    int rc = deflate(&zs, Z_FINISH);
    deflateEnd(&zs);
    if (rc != Z_STREAM_END) throw std::runtime_error("deflate did not finish");
    out.resize(zs.total_out);
    return out;
}

result<std::string> decompress(std::string_view data, std::size_t max_out, int window_bits,
                               std::string_view what)
{
    z_stream zs{};
    if (inflateInit2(&zs, window_bits) != Z_OK) return fail(errc::internal, "inflateInit2 failed");
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    zs.avail_in = static_cast<uInt>(data.size());
    std::string out;
    char buf[16384];
    int rc = Z_OK;
    while (rc != Z_STREAM_END) {
        zs.next_out = reinterpret_cast<Bytef*>(buf);
        zs.avail_out = sizeof buf;
        rc = inflate(&zs, Z_NO_FLUSH);
        if (rc != Z_OK && rc != Z_STREAM_END) {
            inflateEnd(&zs);
            if (rc == Z_BUF_ERROR)
                return fail(errc::bad_response, fmt::format("{} data is truncated", what));
            return fail(errc::bad_response,
                        fmt::format("{} data is corrupt: {}", what, zs.msg ? zs.msg : "inflate failed"));
        }
        std::size_t produced = sizeof buf - zs.avail_out;
        if (out.size() + produced > max_out) {
            inflateEnd(&zs);
            return fail(errc::body_too_large,
                        fmt::format("{} data inflates to more than {} bytes", what, max_out));
        }
        out.append(buf, produced);
        if (rc != Z_STREAM_END && zs.avail_in == 0 && produced == 0) {
            inflateEnd(&zs);
            return fail(errc::bad_response, fmt::format("{} data is truncated", what));
        }
    }
    inflateEnd(&zs);
    return out;
}

}  // namespace

std::string gzip_compress(std::string_view data) { return compress(data, 16 + MAX_WBITS); }
std::string zlib_compress(std::string_view data) { return compress(data, MAX_WBITS); }

result<std::string> gzip_decompress(std::string_view data, std::size_t max_out)
{
    return decompress(data, max_out, 16 + MAX_WBITS, "gzip");
}

result<std::string> zlib_decompress(std::string_view data, std::size_t max_out)
{
    return decompress(data, max_out, MAX_WBITS, "zlib");
}

}  // namespace wfsync
