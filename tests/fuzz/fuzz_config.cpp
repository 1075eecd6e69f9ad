// SPDX-License-Identifier: Apache-2.0
// The config loader on any text: YAML syntax, shapes, durations, rates, cron, selectors,
// ${VAR} interpolation. load_string must answer a config or issues, never crash.
#include <wfsync/config/config.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    std::string_view text(reinterpret_cast<const char*>(data), size);
    auto r = wfsync::config::load_string(text, "fuzz.yaml");
    (void)r;
    return 0;
}
