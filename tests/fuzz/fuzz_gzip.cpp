// SPDX-License-Identifier: Apache-2.0
// gzip (HTTP bodies, archive files) and zlib (packages in the state) readers on any bytes,
// with a small output cap so that bombs are refused quickly.
#include <wfsync/core/zlib.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    std::string_view bytes(reinterpret_cast<const char*>(data), size);
    auto g = wfsync::gzip_decompress(bytes, 1 << 20);
    if (g && g->size() > (1u << 20)) __builtin_trap();
    auto z = wfsync::zlib_decompress(bytes, 1 << 20);
    if (z && z->size() > (1u << 20)) __builtin_trap();
    return 0;
}
