// SPDX-License-Identifier: Apache-2.0
#define BOOST_TEST_MODULE wfsync_multipart
#include <boost/test/unit_test.hpp>

#include <wfsync/net/multipart.hpp>

#include <string>

using namespace wfsync;
using namespace wfsync::net;

namespace {

std::string boundary_of(const std::string& content_type)
{
    auto at = content_type.find("boundary=");
    BOOST_TEST_REQUIRE(at != std::string::npos);
    return content_type.substr(at + 9);
}

// A body as curl writes it for `-F uploadFile=@wf.json -F note=hi`.
const std::string curl_ct = "multipart/form-data; boundary=------------------------abc123";
const std::string curl_body =
    "--------------------------abc123\r\n"
    "Content-Disposition: form-data; name=\"uploadFile\"; filename=\"wf.json\"\r\n"
    "Content-Type: application/json\r\n"
    "\r\n"
    "{\"a\":1}\r\n"
    "--------------------------abc123\r\n"
    "Content-Disposition: form-data; name=\"note\"\r\n"
    "\r\n"
    "hi\r\n"
    "--------------------------abc123--\r\n";

}  // namespace

BOOST_AUTO_TEST_CASE(build_then_parse_round_trips_bytes)
{
    std::string binary("\0\x01\xff\r\n--x\r\n\r\n", 12);
    std::vector<multipart_part> in{
        {"uploadFile", "flow.json", "application/json", "{\"name\":\"x\"}"},
        {"plain", "", "", "value with\r\nnewlines"},
        {"bin", "b.bin", "", binary},
        {"empty", "e.txt", "text/plain", ""},
    };
    auto mb = make_multipart(in);
    BOOST_TEST(mb.content_type.rfind("multipart/form-data; boundary=wfsync-", 0) == 0);
    auto b = boundary_of(mb.content_type);
    BOOST_TEST(b.size() == 7 + 32);
    // CRLF framing and the closing delimiter at the very end.
    BOOST_TEST(mb.body.rfind("--" + b + "\r\n", 0) == 0);
    BOOST_TEST(mb.body.substr(mb.body.size() - b.size() - 6) == "--" + b + "--\r\n");
    BOOST_TEST(mb.body.find("Content-Type: application/octet-stream\r\n") != std::string::npos);

    auto out = parse_multipart(mb.content_type, mb.body);
    BOOST_TEST_REQUIRE(out.has_value(), (out ? "" : out.error().what()));
    BOOST_TEST_REQUIRE(out->size() == 4u);
    for (std::size_t i = 0; i < in.size(); ++i) {
        BOOST_TEST((*out)[i].name == in[i].name);
        BOOST_TEST((*out)[i].filename == in[i].filename);
        BOOST_TEST((*out)[i].data == in[i].data);
    }
    BOOST_TEST((*out)[0].content_type == "application/json");
    BOOST_TEST((*out)[1].content_type == "");
    BOOST_TEST((*out)[2].content_type == "application/octet-stream");
}

BOOST_AUTO_TEST_CASE(boundaries_are_random_and_absent_from_data)
{
    auto a = make_multipart({{"f", "", "", "x"}});
    auto b = make_multipart({{"f", "", "", "x"}});
    BOOST_TEST(boundary_of(a.content_type) != boundary_of(b.content_type));
    // Data that holds a boundary-like text still parses back intact.
    std::string tricky = "--wfsync-" + std::string(32, '0') + "\r\n--" + boundary_of(a.content_type);
    auto c = make_multipart({{"f", "", "", tricky}});
    BOOST_TEST(c.body.find("--" + boundary_of(c.content_type)) == 0u);
    auto p = parse_multipart(c.content_type, c.body);
    BOOST_TEST_REQUIRE(p.has_value());
    BOOST_TEST((*p)[0].data == tricky);
}

BOOST_AUTO_TEST_CASE(quotes_and_line_breaks_in_names_cannot_escape)
{
    auto mb = make_multipart({{"a\"b\r\nX-Evil: 1", "f\"\n.json", "text/plain\r\nX-Evil: 2", "d"}});
    BOOST_TEST(mb.body.find("X-Evil: 1\r\n") == std::string::npos);
    BOOST_TEST(mb.body.find("\r\nX-Evil") == std::string::npos);
    BOOST_TEST(mb.body.find("name=\"a%22b%0D%0AX-Evil: 1\"") != std::string::npos);
    BOOST_TEST(mb.body.find("filename=\"f%22%0A.json\"") != std::string::npos);
    auto p = parse_multipart(mb.content_type, mb.body);
    BOOST_TEST_REQUIRE(p.has_value());
    BOOST_TEST_REQUIRE(p->size() == 1u);
    BOOST_TEST((*p)[0].name == "a%22b%0D%0AX-Evil: 1");
    BOOST_TEST((*p)[0].filename == "f%22%0A.json");
}

BOOST_AUTO_TEST_CASE(parses_a_curl_body_with_quoted_boundary_and_escapes)
{
    auto p = parse_multipart(curl_ct, curl_body);
    BOOST_TEST_REQUIRE(p.has_value(), (p ? "" : p.error().what()));
    BOOST_TEST_REQUIRE(p->size() == 2u);
    BOOST_TEST((*p)[0].name == "uploadFile");
    BOOST_TEST((*p)[0].filename == "wf.json");
    BOOST_TEST((*p)[0].data == "{\"a\":1}");
    BOOST_TEST((*p)[1].data == "hi");

    // Quoted boundary, upper-case type, preamble, backslash-escaped quote in a name.
    std::string body = "preamble text\r\n--b q\r\n"
                       "content-disposition: form-data; name=\"x\\\"y\"\r\n\r\nv\r\n--b q--";
    auto q = parse_multipart("Multipart/Form-Data; charset=utf-8; boundary=\"b q\"", body);
    BOOST_TEST_REQUIRE(q.has_value(), (q ? "" : q.error().what()));
    BOOST_TEST_REQUIRE(q->size() == 1u);
    BOOST_TEST((*q)[0].name == "x\"y");
    BOOST_TEST((*q)[0].data == "v");
}

BOOST_AUTO_TEST_CASE(refuses_bad_content_types)
{
    auto msg = [](std::string_view ct) {
        auto r = parse_multipart(ct, curl_body);
        BOOST_TEST_REQUIRE(r.has_error(), ct);
        BOOST_TEST((r.error().code == errc::bad_response));
        return r.error().message;
    };
    BOOST_TEST(msg("application/json").find("not multipart/form-data") != std::string::npos);
    BOOST_TEST(msg("multipart/form-data").find("no boundary") != std::string::npos);
    BOOST_TEST(msg("multipart/form-data; charset=x").find("no boundary") != std::string::npos);
    BOOST_TEST(msg("multipart/form-data; boundary=").find("1 to 70") != std::string::npos);
    BOOST_TEST(msg("multipart/form-data; boundary=\"abc").find("unterminated") != std::string::npos);
    BOOST_TEST(msg("multipart/form-data; boundary=nothere").find("does not contain the boundary") !=
               std::string::npos);
}

BOOST_AUTO_TEST_CASE(refuses_truncated_and_malformed_bodies)
{
    auto msg = [](std::string_view body) {
        auto r = parse_multipart(curl_ct, body);
        BOOST_TEST_REQUIRE(r.has_error(), body);
        return r.error().message;
    };
    // Every strict prefix of a valid body fails (none crashes, none is accepted).
    for (std::size_t n = 0; n < curl_body.size() - 2; ++n) {
        auto r = parse_multipart(curl_ct, std::string_view(curl_body).substr(0, n));
        BOOST_TEST(r.has_error(), "prefix of " << n << " bytes was accepted");
    }
    BOOST_TEST(msg(curl_body.substr(0, curl_body.size() - 40)).find("truncated") != std::string::npos);
    BOOST_TEST(msg("--------------------------abc123\r\nContent-Disposition: form-data; name=\"a\"")
                   .find("truncated in the part's headers") != std::string::npos);
    BOOST_TEST(msg("--------------------------abc123\r\nContent-Type: text/plain\r\n\r\nx\r\n"
                   "--------------------------abc123--")
                   .find("part 1: no Content-Disposition") != std::string::npos);
    BOOST_TEST(msg("--------------------------abc123\r\nContent-Disposition: form-data\r\n\r\nx\r\n"
                   "--------------------------abc123--")
                   .find("has no name") != std::string::npos);
    BOOST_TEST(msg("--------------------------abc123\r\nContent-Disposition: attachment; name=a\r\n\r\n"
                   "x\r\n--------------------------abc123--")
                   .find("not form-data") != std::string::npos);
    BOOST_TEST(msg("--------------------------abc123garbage\r\n").find("garbage after delimiter 1") !=
               std::string::npos);
    BOOST_TEST(msg("--------------------------abc123\r\nno colon here\r\n\r\nx\r\n"
                   "--------------------------abc123--")
                   .find("without ':'") != std::string::npos);
    // A huge header block is refused without scanning the rest.
    std::string big = "--------------------------abc123\r\nX: " + std::string(20000, 'a');
    BOOST_TEST(msg(big).find("header block too large") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(limits_the_number_of_parts)
{
    std::vector<multipart_part> many(5, multipart_part{"f", "", "", "x"});
    auto mb = make_multipart(many);
    BOOST_TEST(parse_multipart(mb.content_type, mb.body, 5).has_value());
    auto r = parse_multipart(mb.content_type, mb.body, 4);
    BOOST_TEST_REQUIRE(r.has_error());
    BOOST_TEST(r.error().message.find("more than 4 parts") != std::string::npos);
    // An empty form (closing delimiter only) is zero parts, not an error.
    auto e = make_multipart({});
    auto z = parse_multipart(e.content_type, e.body);
    BOOST_TEST_REQUIRE(z.has_value());
    BOOST_TEST(z->empty());
}
