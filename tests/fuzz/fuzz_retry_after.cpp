// SPDX-License-Identifier: Apache-2.0
// The wait a server's answer asks for (Retry-After, RateLimit-Reset) from any header values:
// never negative, never above net::max_retry_hint, never undefined arithmetic.
#include <wfsync/net/retry_hint.hpp>

#include "fuzz_input.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    auto in = wfsync::fuzz::split_pick(data, size, 256);
    auto texts = wfsync::fuzz::parts(in.rest, 2);
    // "now" anywhere from 1970 to about 2106, so that dates land before and after it.
    auto now = std::chrono::system_clock::from_time_t(static_cast<std::time_t>(in.pick) << 24);
    wfsync::net::header_list h;
    h.set("Retry-After", std::string(texts[0]));
    if (!texts[1].empty()) h.set("RateLimit-Reset", std::string(texts[1]));
    for (auto hint : {wfsync::net::parse_retry_after(texts[0], now), wfsync::net::server_wait_hint(h, now)}) {
        if (hint && (hint->count() < 0 || *hint > wfsync::net::max_retry_hint)) std::abort();
    }
    return 0;
}
