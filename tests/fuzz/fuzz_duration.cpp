// SPDX-License-Identifier: Apache-2.0
// parse_duration on any text; what it accepts must format and read back to the same value.
#include <wfsync/core/duration.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    std::string_view text(reinterpret_cast<const char*>(data), size);
    auto d = wfsync::parse_duration(text);
    if (!d) return 0;
    auto again = wfsync::parse_duration(wfsync::format_duration(*d));
    if (!again || *again != *d) std::abort();  // format_duration must give what parse reads
    return 0;
}
