// SPDX-License-Identifier: Apache-2.0
#define BOOST_TEST_MODULE wfsync_retry_hint
#include <boost/test/unit_test.hpp>

#include <wfsync/net/retry_hint.hpp>

#include <chrono>

using namespace std::chrono_literals;
using wfsync::net::header_list;
using wfsync::net::max_retry_hint;
using wfsync::net::parse_retry_after;
using wfsync::net::server_wait_hint;

namespace {

/// Milliseconds of a hint, -1 for none (an optional has no operator<< for Boost.Test).
long long ms(std::optional<std::chrono::milliseconds> h)
{
    return h ? h->count() : -1;
}

// Sun, 06 Nov 1994 08:49:37 GMT, the example date of RFC 9110.
const auto rfc_date = std::chrono::system_clock::from_time_t(784111777);

}  // namespace

BOOST_AUTO_TEST_CASE(delta_seconds_and_dates_are_read_against_now)
{
    BOOST_TEST(ms(parse_retry_after("120", rfc_date)) == ms(std::chrono::milliseconds(120s)));
    BOOST_TEST(ms(parse_retry_after(" 0 ", rfc_date)) == ms(std::chrono::milliseconds(0)));
    BOOST_TEST(ms(parse_retry_after("Sun, 06 Nov 1994 08:50:07 GMT", rfc_date)) == ms(std::chrono::milliseconds(30s)));
    // A date already past asks for no wait rather than a negative one.
    BOOST_TEST(ms(parse_retry_after("Sun, 06 Nov 1994 08:49:07 GMT", rfc_date)) == ms(std::chrono::milliseconds(0)));
}

BOOST_AUTO_TEST_CASE(unreadable_values_are_no_hint)
{
    for (const char* v : {"", "  ", "-5", "1.5", "12s", "soon", "Sun, 06 Nov", "0x10"})
        BOOST_TEST(ms(parse_retry_after(v, rfc_date)) == -1, "'" << v << "'");
}

BOOST_AUTO_TEST_CASE(huge_values_are_clamped_not_overflowed)
{
    // 2^63 seconds overflowed the millisecond arithmetic before (a fuzzer's kind of input).
    BOOST_TEST(ms(parse_retry_after("9223372036854775807", rfc_date)) == ms(max_retry_hint));
    BOOST_TEST(ms(parse_retry_after("99999999999999999999999", rfc_date)) == ms(max_retry_hint));
    BOOST_TEST(ms(parse_retry_after("Fri, 31 Dec 9999 23:59:59 GMT", rfc_date)) == ms(max_retry_hint));
}

BOOST_AUTO_TEST_CASE(the_longer_of_retry_after_and_ratelimit_reset_wins)
{
    header_list h;
    BOOST_TEST(ms(server_wait_hint(h, rfc_date)) == -1);
    h.set("Retry-After", "3");
    h.set("RateLimit-Reset", "7");
    BOOST_TEST(ms(server_wait_hint(h, rfc_date)) == ms(std::chrono::milliseconds(7s)));
    h.set("RateLimit-Reset", "junk");
    BOOST_TEST(ms(server_wait_hint(h, rfc_date)) == ms(std::chrono::milliseconds(3s)));
}
