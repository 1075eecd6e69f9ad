// SPDX-License-Identifier: Apache-2.0
// parse_iso_utc (restore --at TIME) on any text; a time it accepts in the full form must be
// the one it names: format_iso_utc gives the same text back.
#include <wfsync/core/duration.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    std::string_view text(reinterpret_cast<const char*>(data), size);
    auto t = wfsync::parse_iso_utc(text);
    if (!t) return 0;
    std::string back = wfsync::format_iso_utc(*t);
    if (text.size() == 20 && back != text) __builtin_trap();  // "YYYY-MM-DDTHH:MM:SSZ"
    if (text.size() == 19 && back != std::string(text) + "Z") __builtin_trap();
    if (text.size() == 10 && back != std::string(text) + "T23:59:59Z") __builtin_trap();
    return 0;
}
