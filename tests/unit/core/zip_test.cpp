// SPDX-License-Identifier: Apache-2.0
#define BOOST_TEST_MODULE wfsync_zip
#include <boost/test/unit_test.hpp>

#include <wfsync/core/zip.hpp>

#include <cstdint>
#include <string>
#include <vector>

using namespace wfsync;

namespace {

std::map<std::string, std::string> sample()
{
    return {{"flow_definition.json", R"({"nodes":[1,2,3]})"},
            {"app_definition.json", R"({"version":"v3"})"},
            {"sub/env_variables.json", std::string("binary\0bytes\xff", 13)}};
}

/// Offsets of every occurrence of a 4-byte little-endian signature.
std::vector<std::size_t> find_sig(const std::string& z, std::uint32_t sig)
{
    std::vector<std::size_t> out;
    for (std::size_t i = 0; i + 4 <= z.size(); ++i) {
        std::uint32_t v = std::uint32_t(std::uint8_t(z[i])) | std::uint32_t(std::uint8_t(z[i + 1])) << 8 |
                          std::uint32_t(std::uint8_t(z[i + 2])) << 16 | std::uint32_t(std::uint8_t(z[i + 3])) << 24;
        if (v == sig) out.push_back(i);
    }
    return out;
}

void put32(std::string& z, std::size_t at, std::uint32_t v)
{
    for (int k = 0; k < 4; ++k) z[at + k] = static_cast<char>((v >> (8 * k)) & 0xff);
}

/// Replaces the name `from` by `to` (same length) in the local and central headers, as a
/// hostile producer would write it (make_zip refuses such names itself).
std::string rename_entry(std::string z, const std::string& from, const std::string& to)
{
    BOOST_REQUIRE_EQUAL(from.size(), to.size());
    std::size_t n = 0;
    for (std::size_t at = z.find(from); at != std::string::npos; at = z.find(from, at + 1)) {
        z.replace(at, from.size(), to);
        ++n;
    }
    BOOST_REQUIRE_EQUAL(n, 2u);  // local header + central directory
    return z;
}

}  // namespace

BOOST_AUTO_TEST_CASE(round_trip_keeps_names_and_bytes)
{
    auto files = sample();
    auto z = make_zip(files);
    BOOST_TEST_REQUIRE(z.has_value(), z.error().what());
    BOOST_TEST(z->substr(0, 4) == std::string("PK\x03\x04"));
    auto back = unzip(*z);
    BOOST_TEST_REQUIRE(back.has_value(), back.error().what());
    BOOST_TEST((*back == files));
}

BOOST_AUTO_TEST_CASE(make_zip_is_deterministic_and_compresses)
{
    std::map<std::string, std::string> files{{"a.json", std::string(100000, 'x')}};
    auto a = make_zip(files);
    auto b = make_zip(files);
    BOOST_TEST_REQUIRE(a.has_value());
    BOOST_TEST_REQUIRE(b.has_value());
    BOOST_TEST((*a == *b));
    BOOST_TEST(a->size() < 2000u);
}

BOOST_AUTO_TEST_CASE(empty_archive_round_trips)
{
    auto z = make_zip({});
    BOOST_TEST_REQUIRE(z.has_value());
    auto back = unzip(*z);
    BOOST_TEST_REQUIRE(back.has_value(), back.error().what());
    BOOST_TEST(back->empty());
}

BOOST_AUTO_TEST_CASE(make_zip_refuses_unsafe_names)
{
    for (const std::string& bad : std::vector<std::string>{"../x", "/abs", "a\\b", "dir/", "", std::string("a\0b", 3)}) {
        auto z = make_zip({{bad, "1"}});
        BOOST_TEST_REQUIRE(z.has_error());
        BOOST_TEST((z.error().code == errc::invalid_argument));
    }
}

BOOST_AUTO_TEST_CASE(zip_bomb_refused_by_declared_size)
{
    // 100 MiB of one byte deflates to about 100 KiB.
    std::string big(100u << 20, 'A');
    auto z = make_zip({{"bomb.json", big}});
    big.clear();
    big.shrink_to_fit();
    BOOST_TEST_REQUIRE(z.has_value());
    BOOST_TEST(z->size() < (1u << 20));
    auto r = unzip(*z);
    BOOST_TEST_REQUIRE(r.has_error());
    BOOST_TEST((r.error().code == errc::body_too_large));
    BOOST_TEST(r.error().message.find("'bomb.json'") != std::string::npos, r.error().message);
    BOOST_TEST(r.error().message.find("declares 104857600 bytes") != std::string::npos, r.error().message);
}

BOOST_AUTO_TEST_CASE(zip_bomb_with_lying_header_refused_while_inflating)
{
    // 8 MiB entry; the headers are patched to declare 1000 bytes. A reader that trusted
    // the header would allocate 1000 bytes and then overflow or inflate all of it.
    zip_limits lim;
    lim.max_entry_size = 1u << 20;
    auto z = make_zip({{"liar.json", std::string(8u << 20, 'B')}});
    BOOST_TEST_REQUIRE(z.has_value());
    std::string patched = *z;
    auto local = find_sig(patched, 0x04034b50);
    auto central = find_sig(patched, 0x02014b50);
    BOOST_TEST_REQUIRE(local.size() == 1u);
    BOOST_TEST_REQUIRE(central.size() == 1u);
    put32(patched, local[0] + 22, 1000);    // uncompressed size in the local header
    put32(patched, central[0] + 24, 1000);  // and in the central directory
    auto r = unzip(patched, lim);
    BOOST_TEST_REQUIRE(r.has_error());
    BOOST_TEST_MESSAGE("lying header: " << r.error().message);
    // libzip inflates past the declared size; the count while inflating stops it at the cap.
    BOOST_TEST((r.error().code == errc::body_too_large));
    BOOST_TEST(r.error().message == "zip entry 'liar.json': inflates to more than the limit of 1048576 bytes");

    // The same with an honest header but a total cap: two entries each under the entry cap.
    zip_limits total;
    total.max_total = 300000;
    auto two = make_zip({{"a", std::string(200000, 'a')}, {"b", std::string(200000, 'b')}});
    BOOST_TEST_REQUIRE(two.has_value());
    auto t = unzip(*two, total);
    BOOST_TEST_REQUIRE(t.has_error());
    BOOST_TEST((t.error().code == errc::body_too_large));
    BOOST_TEST(t.error().message.find("in all (at entry 'b')") != std::string::npos, t.error().message);
}

BOOST_AUTO_TEST_CASE(dot_dot_path_refused)
{
    auto z = make_zip({{"aa/evil.json", "{}"}});
    BOOST_TEST_REQUIRE(z.has_value());
    auto r = unzip(rename_entry(*z, "aa/evil.json", "../evil.json"));
    BOOST_TEST_REQUIRE(r.has_error());
    BOOST_TEST((r.error().code == errc::bad_response));
    BOOST_TEST(r.error().message == "zip entry '../evil.json': refused: a '..' component");

    auto inner = unzip(rename_entry(*z, "aa/evil.json", "a/../../e.js"));
    BOOST_TEST_REQUIRE(inner.has_error());
    BOOST_TEST(inner.error().message.find("'..' component") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(absolute_backslash_and_nul_names_refused)
{
    auto z = make_zip({{"xetc/passwd", "root"}});
    BOOST_TEST_REQUIRE(z.has_value());
    auto abs = unzip(rename_entry(*z, "xetc/passwd", "/etc/passwd"));
    BOOST_TEST_REQUIRE(abs.has_error());
    BOOST_TEST(abs.error().message == "zip entry '/etc/passwd': refused: an absolute path");

    auto back = unzip(rename_entry(*z, "xetc/passwd", "..\\..\\passw"));
    BOOST_TEST_REQUIRE(back.has_error());
    BOOST_TEST(back.error().message.find("backslash") != std::string::npos, back.error().message);

    auto nul = unzip(rename_entry(*z, "xetc/passwd", std::string("x.json\0abcd", 11)));
    BOOST_TEST_REQUIRE(nul.has_error());
    BOOST_TEST(nul.error().message.find("NUL byte") != std::string::npos, nul.error().message);
}

BOOST_AUTO_TEST_CASE(duplicate_names_refused)
{
    auto z = make_zip({{"a.json", "1"}, {"b.json", "2"}});
    BOOST_TEST_REQUIRE(z.has_value());
    auto r = unzip(rename_entry(*z, "b.json", "a.json"));
    BOOST_TEST_REQUIRE(r.has_error());
    BOOST_TEST(r.error().message.find("a.json") != std::string::npos, r.error().message);
}

BOOST_AUTO_TEST_CASE(too_many_entries_refused)
{
    std::map<std::string, std::string> files;
    for (int i = 0; i < 70; ++i) files["f" + std::to_string(i)] = "x";
    auto z = make_zip(files);
    BOOST_TEST_REQUIRE(z.has_value());
    auto r = unzip(*z);
    BOOST_TEST_REQUIRE(r.has_error());
    BOOST_TEST((r.error().code == errc::body_too_large));
    BOOST_TEST(r.error().message == "zip archive has 70 entries, more than the limit of 64");
    zip_limits more;
    more.max_entries = 70;
    BOOST_TEST(unzip(*z, more).has_value());
}

BOOST_AUTO_TEST_CASE(non_zip_body_refused)
{
    for (std::string body : {std::string(), std::string("{\"error\":\"not found\"}"),
                             std::string("<html><body>Login</body></html>") + std::string(100, ' ')}) {
        auto r = unzip(body);
        BOOST_TEST_REQUIRE(r.has_error());
        BOOST_TEST((r.error().code == errc::bad_response));
        BOOST_TEST(r.error().message.starts_with("not a zip archive"), r.error().message);
    }
}

BOOST_AUTO_TEST_CASE(truncated_zip_refused)
{
    auto z = make_zip(sample());
    BOOST_TEST_REQUIRE(z.has_value());
    for (std::size_t keep : {z->size() / 2, z->size() - 10, std::size_t(30)}) {
        auto r = unzip(z->substr(0, keep));
        BOOST_TEST_REQUIRE(r.has_error(), keep);
        BOOST_TEST((r.error().code == errc::bad_response));
        BOOST_TEST(r.error().message.find("damaged zip archive") != std::string::npos, r.error().message);
    }
    // Corrupted data inside an entry: the CRC check catches it.
    std::string flipped = *z;
    auto local = find_sig(flipped, 0x04034b50);
    BOOST_TEST_REQUIRE(!local.empty());
    std::size_t data = local[0] + 30 + (std::uint8_t(flipped[local[0] + 26]) | std::uint8_t(flipped[local[0] + 27]) << 8);
    flipped[data + 2] = static_cast<char>(flipped[data + 2] ^ 0x55);
    auto c = unzip(flipped);
    BOOST_TEST_REQUIRE(c.has_error());
    BOOST_TEST((c.error().code == errc::bad_response));
}
