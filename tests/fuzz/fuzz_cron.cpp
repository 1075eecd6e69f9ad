// SPDX-License-Identifier: Apache-2.0
// schedule::parse (cron fields, @macros, @every) on any text, in a few zones, and next_after
// from a few instants (DST changes included) for what it accepts.
// Input: byte 0 picks the zone, the rest is the expression.
#include <wfsync/schedule/cron.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size < 1) return 0;
    static constexpr std::string_view zones[] = {"", "UTC", "Europe/Berlin", "America/New_York",
                                                 "Australia/Lord_Howe", "Asia/Kolkata"};
    std::string_view zone = zones[data[0] % std::size(zones)];
    std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
    auto s = wfsync::schedule::schedule::parse(text, zone);
    if (!s) return 0;
    using std::chrono::sys_seconds;
    // 2026-03-29 00:30 UTC (Berlin's spring change), 2026-11-01 05:30 UTC (New York's fall
    // back), the epoch, and 2099-12-31 23:59:59 UTC.
    for (std::int64_t t : {1774744200LL, 1793511000LL, 0LL, 4102444799LL}) {
        auto at = sys_seconds{std::chrono::seconds{t}};
        for (int i = 0; i < 3; ++i) {
            auto next = s->next_after(at);
            if (next == wfsync::schedule::schedule::never) break;
            if (next <= at) __builtin_trap();  // must move forward
            at = next;
        }
    }
    return 0;
}
