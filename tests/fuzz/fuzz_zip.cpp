// SPDX-License-Identifier: Apache-2.0
// unzip (Kore.ai export packages from the network) on any bytes, with small caps; what it
// accepts must respect them and have safe names.
#include <wfsync/core/zip.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    std::string_view bytes(reinterpret_cast<const char*>(data), size);
    wfsync::zip_limits limits;
    limits.max_entries = 16;
    limits.max_entry_size = 1 << 20;
    limits.max_total = 2 << 20;
    auto files = wfsync::unzip(bytes, limits);
    if (!files) return 0;
    std::size_t total = 0;
    for (const auto& [name, body] : *files) {
        std::string_view n = name;
        if (n.empty() || n[0] == '/' || n == ".." || n.starts_with("../") || n.ends_with("/..") ||
            n.find("/../") != std::string_view::npos || n.find('\\') != std::string_view::npos)
            __builtin_trap();
        if (body.size() > limits.max_entry_size) __builtin_trap();
        total += body.size();
    }
    if (total > limits.max_total || files->size() > limits.max_entries) __builtin_trap();
    return 0;
}
