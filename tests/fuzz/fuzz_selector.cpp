// SPDX-License-Identifier: Apache-2.0
// Rule selectors (`select: {include, exclude}`: name globs with `*` and `?` by UTF-8
// character, or ids) on any pattern, id and name: NUL-separated in the input. A pattern
// without wildcards matches exactly its own text; `*` matches everything.
#include "fuzz_input.hpp"

#include <wfsync/config/config.hpp>

#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    auto t = wfsync::fuzz::parts(std::string_view(reinterpret_cast<const char*>(data), size), 4);
    wfsync::config::selector sel;
    sel.include = {std::string(t[0])};
    if (!t[3].empty()) sel.exclude = {std::string(t[3])};
    bool hit = sel.matches(t[1], t[2]);
    if (t[3].empty() && t[0].find_first_of("*?") == std::string_view::npos && t[0] == t[2] && !hit) __builtin_trap();
    wfsync::config::selector all;
    all.include = {"*"};
    if (!all.matches(t[1], t[2])) __builtin_trap();
    return 0;
}
