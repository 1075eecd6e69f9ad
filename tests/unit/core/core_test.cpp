// SPDX-License-Identifier: Apache-2.0
#define BOOST_TEST_MODULE wfsync_core
#include <boost/test/unit_test.hpp>

#include <wfsync/core/base64.hpp>
#include <wfsync/core/duration.hpp>
#include <wfsync/core/hash.hpp>
#include <wfsync/core/json.hpp>
#include <wfsync/core/log.hpp>
#include <wfsync/core/zlib.hpp>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <boost/json/string.hpp>

#include <bit>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

using namespace wfsync;
using namespace std::chrono_literals;

BOOST_AUTO_TEST_SUITE(duration)

BOOST_AUTO_TEST_CASE(parses_each_unit_and_combinations)
{
    BOOST_TEST(parse_duration("500ms").value() == 500ms);
    BOOST_TEST(parse_duration("30s").value() == 30s);
    BOOST_TEST(parse_duration("5m").value() == 5min);
    BOOST_TEST(parse_duration("2h").value() == 2h);
    BOOST_TEST(parse_duration("1d").value() == 24h);
    BOOST_TEST(parse_duration("1h30m").value() == 90min);
}

BOOST_AUTO_TEST_CASE(rejects_bad_text_naming_it)
{
    for (auto bad : {"", "30", "s", "-5s", "5 s", "5x", "1.5s"}) {
        auto r = parse_duration(bad);
        BOOST_TEST_REQUIRE(r.has_error(), bad);
        BOOST_TEST(r.error().code == errc::invalid_argument);
        BOOST_TEST(r.error().message.find(std::string("'") + bad + "'") != std::string::npos);
    }
}

// Found by tests/fuzz/fuzz_duration: the multiplication overflowed int64 (UBSan) before the
// "too large" check; now refused like any other too large duration.
BOOST_AUTO_TEST_CASE(refuses_huge_counts_without_overflow)
{
    for (auto huge : {"999999999999d", "999999999999h", "36500d1ms", "999999999999m999999999999d"}) {
        auto r = parse_duration(huge);
        BOOST_TEST_REQUIRE(r.has_error(), huge);
        BOOST_TEST(r.error().message.find("too large") != std::string::npos, r.error().message);
    }
    BOOST_TEST(parse_duration("36500d").value() == 36500 * 24h);
}

// Found by tests/fuzz/fuzz_duration: format_duration(1500ms) gave "1.5s" (and 1234ms "1.2s"),
// which parse_duration refuses; messages quote durations to put back in the config.
BOOST_AUTO_TEST_CASE(formats_what_it_parses_back_exactly)
{
    BOOST_TEST(format_duration(1500ms) == "1500ms");
    BOOST_TEST(format_duration(90min) == "90m");
    BOOST_TEST(format_duration(2h) == "2h");
    BOOST_TEST(format_duration(0ms) == "0s");
    // 3000000000001ms: written as ms, it was refused as a number over 10^12 (fuzz_duration).
    for (milliseconds d : std::initializer_list<milliseconds>{1ms, 999ms, 1234ms, 1500ms, 61001ms, 3600001ms, 0ms, 30s,
                                                               36500 * 24h, 3'000'000'000'001ms,
                                                               36500 * 24h - 1ms}) {
        auto back = parse_duration(format_duration(d));
        BOOST_TEST_REQUIRE(back.has_value(), format_duration(d));
        BOOST_TEST(back.value().count() == d.count());
    }
}

// restore --at. Found by tests/fuzz/fuzz_at_time: std::get_time took "1" as the year 1, whose
// time overflowed system_clock (UBSan), and "2026-02-31" as March 3.
BOOST_AUTO_TEST_CASE(iso_utc_times_exactly_as_written)
{
    BOOST_TEST(format_iso_utc(parse_iso_utc("2026-11-20T10:00:00Z").value()) == "2026-11-20T10:00:00Z");
    BOOST_TEST(format_iso_utc(parse_iso_utc("2026-11-20T10:00:00").value()) == "2026-11-20T10:00:00Z");
    BOOST_TEST(format_iso_utc(parse_iso_utc("2026-11-20").value()) == "2026-11-20T23:59:59Z");
    BOOST_TEST(format_iso_utc(parse_iso_utc("2024-02-29").value()) == "2024-02-29T23:59:59Z");
    BOOST_TEST(format_iso_utc(parse_iso_utc("1970-01-01T00:00:00Z").value()) == "1970-01-01T00:00:00Z");
    for (auto bad : {"", "1", "2026", "yesterday", "2026-02-31", "2025-02-29", "2026-13-01", "2026-00-10",
                     "2026-11-20T24:00:00Z", "2026-11-20T10:60:00", "2026-11-20T10:00:60Z", "2026-11-20T10:00:00+01",
                     "2026-11-20 10:00:00", " 2026-11-20", "2026-1-20", "0001-01-01", "2300-01-01",
                     "2026-11-20T1:00:00Z", "+026-11-20"})
        BOOST_TEST(!parse_iso_utc(bad).has_value(), bad);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(base64)

BOOST_AUTO_TEST_CASE(rfc4648_vectors_both_ways)
{
    const std::pair<std::string, std::string> vectors[] = {
        {"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"}, {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="},
        {"foobar", "Zm9vYmFy"}};
    for (const auto& [plain, coded] : vectors) {
        BOOST_TEST(wfsync::base64_encode(plain) == coded);
        BOOST_TEST(wfsync::base64_decode(coded).value() == plain);
    }
    std::string all;
    for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
    BOOST_TEST(wfsync::base64_decode(wfsync::base64_encode(all)).value() == all);
    // Line breaks are skipped; padding may be left out.
    BOOST_TEST(wfsync::base64_decode("Zm9v\r\nYmE").value() == "fooba");
}

BOOST_AUTO_TEST_CASE(bad_base64_is_refused_with_the_offset)
{
    auto bad = wfsync::base64_decode("Zm9v*mFy");
    BOOST_TEST_REQUIRE(bad.has_error());
    BOOST_TEST(bad.error().code == wfsync::errc::bad_response);
    BOOST_TEST(bad.error().message == "invalid base64: unexpected character at offset 4");
    BOOST_TEST(wfsync::base64_decode("Zm9vY").has_error());     // one digit left over
    BOOST_TEST(wfsync::base64_decode("Zg==Zg==").has_error());  // data after padding
    BOOST_TEST(wfsync::base64_decode("Zg===").has_error());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(compression)

BOOST_AUTO_TEST_CASE(gzip_round_trip)
{
    std::string text(100000, 'a');
    auto packed = gzip_compress(text);
    BOOST_TEST(packed.size() < 1000u);
    BOOST_TEST(gzip_decompress(packed, 1 << 20).value() == text);
}

BOOST_AUTO_TEST_CASE(inflate_cap_stops_a_bomb)
{
    auto packed = gzip_compress(std::string(10 << 20, '\0'));
    auto r = gzip_decompress(packed, 1 << 20);
    BOOST_TEST_REQUIRE(r.has_error());
    BOOST_TEST(r.error().code == errc::body_too_large);
}

BOOST_AUTO_TEST_CASE(truncated_and_corrupt_input_fail)
{
    auto packed = zlib_compress(std::string(5000, 'x') + "tail");
    auto cut = zlib_decompress(std::string_view(packed).substr(0, packed.size() / 2), 1 << 20);
    BOOST_TEST_REQUIRE(cut.has_error());
    BOOST_TEST(cut.error().code == errc::bad_response);
    auto junk = gzip_decompress("definitely not gzip", 1 << 20);
    BOOST_TEST_REQUIRE(junk.has_error());
    BOOST_TEST(junk.error().code == errc::bad_response);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(json)

BOOST_AUTO_TEST_CASE(canonical_form_sorts_keys_and_drops_whitespace)
{
    auto a = parse_json(R"({"b": 1, "a": {"y": [1, 2], "x": null}})", "a").value();
    auto b = parse_json(R"({"a":{"x":null,"y":[1,2]},"b":1})", "b").value();
    BOOST_TEST(canonical_json(a) == R"({"a":{"x":null,"y":[1,2]},"b":1})");
    BOOST_TEST(canonical_json(a) == canonical_json(b));
}

BOOST_AUTO_TEST_CASE(strings_are_escaped_as_boost_json_serializes_them)
{
    // Canonical text is what content hashes are taken over: its strings must stay byte for
    // byte what json::serialize wrote, for every byte value and for mixed text.
    for (int c = 0; c < 256; ++c) {
        std::string s = "a" + std::string(1, static_cast<char>(c)) + "b";
        std::string out;
        append_json_string(out, s);
        BOOST_TEST(out == boost::json::serialize(boost::json::string(s)), "byte " << c);
    }
    // Also where the byte to escape sits in a long text (scanned many bytes at a time).
    for (int c = 0; c < 256; ++c)
        for (std::size_t at : {0, 7, 15, 16, 17, 31, 32, 47, 150, 199}) {
            std::string s(at < 48 ? 48 : 200, 'x');
            s[at] = static_cast<char>(c);
            std::string out;
            append_json_string(out, s);
            BOOST_TEST(out == boost::json::serialize(boost::json::string(s)), "byte " << c << " at " << at);
        }
    const std::string mixed = "x\"q\\ /\x01\x1f\x7f \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\b\f\n\r\t~end";
    std::string out;
    append_json_string(out, mixed);
    BOOST_TEST(out == boost::json::serialize(boost::json::string(mixed)));
}

BOOST_AUTO_TEST_CASE(canonical_numbers_are_boost_json_numbers)
{
    auto v = parse_json(R"([0,-1,9223372036854775807,-9223372036854775808,18446744073709551615,)"
                        R"(0.1,-0.0,1e300,2.5e-8,1.0,5e-324,1e21,123456.789,true,false,null,{},[],"",{"":[]}])",
                        "numbers")
                 .value();
    BOOST_TEST(canonical_json(v) == boost::json::serialize(v));
}

BOOST_AUTO_TEST_CASE(strings_of_every_length_are_escaped_as_boost_json_serializes_them)
{
    // Escapes are searched 16, 8 or 4 bytes at a time, with overlapping loads at the end: a byte
    // to escape (or one next to the limits) at every place of strings of 1 to 40 bytes.
    const unsigned char bytes[] = {0x00, 0x01, 0x1f, 0x20, '"', '\\', '/', 0x21, 0x5b, 0x5d, 0x7f, 0x80, 0xa2, 0xdc, 0xff, 'a'};
    for (std::size_t len = 1; len <= 40; ++len)
        for (std::size_t pos = 0; pos < len; ++pos)
            for (unsigned char c : bytes) {
                std::string s(len, 'x');
                s[pos] = static_cast<char>(c);
                if (pos + 3 < len) s[pos + 3] = '\x1e';
                std::string out;
                append_json_string(out, s);
                BOOST_TEST(out == boost::json::serialize(boost::json::string(s)), "length " << len << " at " << pos << " byte " << int(c));
            }
}

BOOST_AUTO_TEST_CASE(doubles_are_written_as_boost_json_serializes_them)
{
    // Doubles are written without a serializer: the same digits for every kind of double
    // (subnormal, huge, negative zero, infinities, NaN, and many bit patterns).
    std::vector<double> ds = {0.0, -0.0, 0.2, 1e-7, 123456.789, 1e21, 1e300, 5e-324, -2.5e-8,
                              std::numeric_limits<double>::max(), std::numeric_limits<double>::infinity(),
                              -std::numeric_limits<double>::infinity(), std::numeric_limits<double>::quiet_NaN()};
    std::uint64_t bits = 0x9e3779b97f4a7c15ULL;
    for (int i = 0; i < 20000; ++i) {
        bits ^= bits << 13;
        bits ^= bits >> 7;
        bits ^= bits << 17;
        double d;
        std::memcpy(&d, &bits, sizeof d);
        ds.push_back(d);
    }
    for (double d : ds) {
        boost::json::value v(d);
        BOOST_TEST(canonical_json(v) == boost::json::serialize(v), "bits " << std::hex << std::bit_cast<std::uint64_t>(d));
    }
}

BOOST_AUTO_TEST_CASE(parse_error_names_the_document)
{
    auto r = parse_json("{\"a\": ", "export of workflow 458");
    BOOST_TEST_REQUIRE(r.has_error());
    BOOST_TEST(r.error().message.find("export of workflow 458") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_CASE(sha256_known_vector)
{
    BOOST_TEST(sha256_hex("abc") ==
               "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

BOOST_AUTO_TEST_CASE(sha256_in_pieces_equals_sha256_of_the_whole)
{
    sha256 h;
    h.update("a");
    h.update("");
    h.update("bc");
    BOOST_TEST(h.hex_digest() == sha256_hex("abc"));
    std::string big(100000, 'x');
    sha256 g;
    for (std::size_t i = 0; i < big.size(); i += 777) g.update(std::string_view(big).substr(i, 777));
    BOOST_TEST(g.hex_digest() == sha256_hex(big));
}

BOOST_AUTO_TEST_CASE(redact_masks_registered_secrets)
{
    log::add_secret("s3cr3t-value");
    BOOST_TEST(log::redact("token=s3cr3t-value; again s3cr3t-value") == "token=***; again ***");
    log::add_secret("abc");  // too short to mask safely
    BOOST_TEST(log::redact("abc") == "abc");
    log::remove_secret("s3cr3t-value");
    BOOST_TEST(log::redact("token=s3cr3t-value") == "token=s3cr3t-value");
}

BOOST_AUTO_TEST_CASE(retryable_errors_are_transient_ones)
{
    BOOST_TEST(is_retryable(make_error(errc::transport, "reset")));
    BOOST_TEST(is_retryable(make_error(errc::http_status, "x", 503)));
    BOOST_TEST(is_retryable(make_error(errc::rate_limited, "x", 429)));
    BOOST_TEST(!is_retryable(make_error(errc::http_status, "x", 400)));
    BOOST_TEST(!is_retryable(make_error(errc::unknown_outcome, "x")));
}
