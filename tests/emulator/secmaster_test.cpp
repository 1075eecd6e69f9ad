// SPDX-License-Identifier: Apache-2.0
// The emulator's SecMaster tenants over real loopback sockets, with a small synchronous Beast
// client written here (nothing shared with the connector it imitates).
#define BOOST_TEST_MODULE wfsync_emulator_secmaster
#include <boost/test/unit_test.hpp>

#include "emulator.hpp"

#include <wfsync/net/multipart.hpp>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>

#include <map>
#include <set>
#include <thread>

using namespace wfsync;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace json = boost::json;

namespace {

struct reply {
    boost::system::error_code ec;
    int status = 0;
    std::map<std::string, std::string> headers;  ///< lower-cased names
    std::string body;
    std::string header(const std::string& n) const
    {
        auto it = headers.find(n);
        return it == headers.end() ? std::string() : it->second;
    }
    json::value json() const { return json::parse(body); }
};

reply send(std::uint16_t port, const std::string& method, const std::string& target, const std::string& body,
           std::map<std::string, std::string> headers)
{
    asio::io_context ioc;
    beast::tcp_stream stream(ioc);
    stream.expires_after(std::chrono::seconds(10));
    reply out;
    stream.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), out.ec);
    if (out.ec) return out;
    http::request<http::string_body> req(http::string_to_verb(method), target, 11);
    req.set(http::field::host, "127.0.0.1");
    for (const auto& [k, v] : headers) req.set(k, v);
    req.body() = body;
    req.prepare_payload();
    http::write(stream, req, out.ec);
    if (out.ec) return out;
    beast::flat_buffer buf;
    http::response_parser<http::string_body> parser;
    parser.body_limit(64u << 20);
    http::read(stream, buf, parser, out.ec);
    const auto& res = parser.get();
    out.status = static_cast<int>(res.result_int());
    for (const auto& f : res) {
        std::string name(f.name_string());
        for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        out.headers[name] = std::string(f.value());
    }
    out.body = res.body();
    return out;
}

constexpr const char* wf_a = "c19470f3-5eaf-4572-82e8-2ff094495919";
constexpr const char* api = "/t/sm/v1/proj-1/workspaces/ws-1/soc/workflows";

json::object seed_doc(int n) { return json::object{{"steps", json::array{"triage", n}}, {"timeout", n}}; }

std::string test_seed(int extra_workflows)
{
    json::array wfs;
    wfs.push_back(json::object{{"id", wf_a},
                               {"name", "Phishing triage"},
                               {"description", "mail"},
                               {"versions", json::array{json::object{{"version", "v1"}, {"status", "not_activated"},
                                                                     {"document", seed_doc(1)}},
                                                        json::object{{"version", "v2"}, {"status", "activated"},
                                                                     {"document", seed_doc(2)}}}}});
    for (int i = 0; i < extra_workflows; ++i)
        wfs.push_back(json::object{{"name", "Extra " + std::to_string(i)},
                                   {"versions", json::array{json::object{{"document", seed_doc(i)}}}}});
    json::object sm{{"platform", "secmaster"},
                    {"project_id", "proj-1"},
                    {"workspace_id", "ws-1"},
                    {"iam", {{"user", "ops"}, {"domain", "acme"}, {"password", "pw-\"secret\""}, {"project", "ap-southeast-1"}}},
                    {"bearer_token", "static-sm-token"},
                    {"token_ttl_seconds", 3600},
                    {"workflows", wfs}};
    return json::serialize(json::object{{"tenants", {{"sm", sm}}}});
}

std::string iam_body(const std::string& password, const std::string& project = "ap-southeast-1")
{
    json::object b{{"auth",
                    {{"identity",
                      {{"methods", json::array{"password"}},
                       {"password", {{"user", {{"name", "ops"}, {"password", password}, {"domain", {{"name", "acme"}}}}}}}}},
                     {"scope", {{"project", {{"name", project}}}}}}}};
    return json::serialize(b);
}

struct fixture {
    asio::io_context ioc;
    asio::executor_work_guard<asio::io_context::executor_type> guard{ioc.get_executor()};
    emulator::emulator emu{ioc.get_executor(), {}};
    std::thread runner;
    std::uint16_t port = 0;

    explicit fixture(int extra = 0)
    {
        auto seeded = emu.load_seed(test_seed(extra));
        BOOST_TEST_REQUIRE(!seeded.has_error(), (seeded.has_error() ? seeded.error().message : ""));
        auto started = emu.start();
        BOOST_TEST_REQUIRE(!started.has_error());
        auto url = emu.base_url();
        port = static_cast<std::uint16_t>(std::stoi(url.substr(url.rfind(':') + 1)));
        runner = std::thread([this] { ioc.run(); });
    }
    fixture(const fixture&) = delete;
    ~fixture()
    {
        asio::post(ioc, [this] { emu.stop(); });
        guard.reset();
        ioc.stop();
        runner.join();
    }

    reply call(const std::string& method, const std::string& target, const std::string& body = {},
               std::map<std::string, std::string> headers = {})
    {
        return send(port, method, target, body, std::move(headers));
    }
    std::string login()
    {
        auto r = call("POST", "/t/sm/iam/v3/auth/tokens", iam_body("pw-\"secret\""),
                      {{"Content-Type", "application/json;charset=utf8"}});
        BOOST_TEST_REQUIRE(r.status == 201, r.body);
        return r.header("x-subject-token");
    }
    reply get(const std::string& target, const std::string& token)
    {
        return call("GET", target, {}, {{"X-Auth-Token", token}, {"Content-Type", "application/json;charset=UTF-8"}});
    }
    reply export_wf(const std::string& id, const std::string& token)
    {
        return call("POST", std::string(api) + "/export", json::serialize(json::object{{"id", json::array{json::string(id)}}}),
                    {{"X-Auth-Token", token}, {"Content-Type", "application/json;charset=UTF-8"}});
    }
    reply import_file(const std::string& file, const std::string& token, const std::string& field = "uploadFile")
    {
        auto mb = net::make_multipart({{field, "wf.json", "application/json", file}});
        return call("POST", std::string(api) + "/import", mb.body, {{"X-Auth-Token", token}, {"Content-Type", mb.content_type}});
    }
};

struct small : fixture {
    small() : fixture(0) {}
};

}  // namespace

BOOST_FIXTURE_TEST_CASE(iam_token_in_header_with_expiry_in_body, small)
{
    auto r = call("POST", "/t/sm/iam/v3/auth/tokens", iam_body("pw-\"secret\""), {{"Content-Type", "application/json"}});
    BOOST_TEST(r.status == 201);
    auto tok = r.header("x-subject-token");
    BOOST_TEST(tok.size() > 20u);
    auto exp = std::string(r.json().at("token").at("expires_at").as_string());
    BOOST_TEST(exp.size() == std::string("2025-01-01T00:00:00.000000Z").size());
    BOOST_TEST(exp.back() == 'Z');
    BOOST_TEST(r.body.find(tok) == std::string::npos);  // only in the header

    auto bad = call("POST", "/t/sm/iam/v3/auth/tokens", iam_body("wrong"), {{"Content-Type", "application/json"}});
    BOOST_TEST(bad.status == 401);
    BOOST_TEST(bad.json().at("error").at("message").as_string() == "The username or password is wrong.");
    BOOST_TEST(bad.header("x-subject-token").empty());
    auto other = call("POST", "/t/sm/iam/v3/auth/tokens", iam_body("pw-\"secret\"", "eu-west-0"), {});
    BOOST_TEST(other.status == 401);
}

BOOST_FIXTURE_TEST_CASE(calls_need_a_valid_token_gateway_shape_401, small)
{
    auto none = get(api, "");
    BOOST_TEST(none.status == 401);
    BOOST_TEST(none.json().at("error_code").as_string() == "APIG.1002");
    BOOST_TEST(get(api, "made-up").status == 401);
    BOOST_TEST(get(api, "static-sm-token").status == 200);
    auto tok = login();
    BOOST_TEST(get(api, tok).status == 200);
    BOOST_TEST_REQUIRE(!emu.expire_tokens("sm").has_error());
    BOOST_TEST(get(api, tok).status == 401);
    BOOST_TEST(get(api, "static-sm-token").status == 401);
    BOOST_TEST(get(api, login()).status == 200);  // a fresh token works again
}

BOOST_FIXTURE_TEST_CASE(wrong_project_or_workspace_is_404_code_message, small)
{
    auto tok = login();
    auto r = get("/t/sm/v1/other/workspaces/ws-1/soc/workflows", tok);
    BOOST_TEST(r.status == 404);
    BOOST_TEST(r.json().at("code").as_string() == "SecMaster.10000404");
    BOOST_TEST(std::string(r.json().at("message").as_string()).find("project other") != std::string::npos);
    BOOST_TEST(get("/t/sm/v1/proj-1/workspaces/nope/soc/workflows", tok).status == 404);
}

BOOST_AUTO_TEST_CASE(list_pages_with_offset_limit_total)
{
    fixture f(204);  // 205 workflows
    auto tok = f.login();
    std::set<std::string> ids;
    std::int64_t offset = 0;
    int pages = 0;
    for (;; ++pages) {
        auto r = f.get(std::string(api) + "?offset=" + std::to_string(offset) + "&limit=100", tok);
        BOOST_TEST_REQUIRE(r.status == 200);
        auto v = r.json();
        BOOST_TEST(v.at("total").as_int64() == 205);
        BOOST_TEST(v.at("success").as_bool());
        auto& data = v.at("data").as_array();
        if (data.empty()) break;
        for (auto& w : data) ids.insert(std::string(w.at("id").as_string()));
        offset += static_cast<std::int64_t>(data.size());
    }
    BOOST_TEST(pages == 3);
    BOOST_TEST(ids.size() == 205u);
    auto first = f.get(std::string(api) + "?offset=0&limit=1", tok).json().at("data").at(0);
    BOOST_TEST(first.at("id").as_string() == wf_a);
    BOOST_TEST(first.at("version").as_string() == "v2");
    BOOST_TEST(f.get(std::string(api) + "?limit=101", tok).status == 400);
    BOOST_TEST(f.get(std::string(api) + "?offset=x", tok).status == 400);
    // Default limit is 10.
    BOOST_TEST(f.get(api, tok).json().at("data").as_array().size() == 10u);
}

BOOST_FIXTURE_TEST_CASE(versions_list_labels_and_status, small)
{
    auto tok = login();
    auto r = get(std::string(api) + "/" + wf_a + "/versions", tok);
    BOOST_TEST_REQUIRE(r.status == 200);
    auto body = r.json();
    auto& data = body.at("data").as_array();
    BOOST_TEST_REQUIRE(data.size() == 2u);
    BOOST_TEST(data[0].at("version").as_string() == "v1");
    BOOST_TEST(data[0].at("status").as_string() == "not_activated");
    BOOST_TEST(data[1].at("status").as_string() == "activated");
    BOOST_TEST(data[1].at("name").as_string() == "Phishing triage");
    auto only = get(std::string(api) + "/" + wf_a + "/versions?status=activated", tok);
    BOOST_TEST(only.json().at("data").as_array().size() == 1u);
    BOOST_TEST(get(std::string(api) + "/nope/versions", tok).status == 404);
}

BOOST_FIXTURE_TEST_CASE(export_is_one_json_file_of_the_active_version, small)
{
    auto tok = login();
    auto r = export_wf(wf_a, tok);
    BOOST_TEST_REQUIRE(r.status == 200, r.body);
    BOOST_TEST(r.header("content-disposition") == "attachment; filename=\"Phishing triage.json\"");
    BOOST_TEST(r.header("content-type") == "application/octet-stream");
    auto v = r.json();
    BOOST_TEST(v.at("workflow").at("name").as_string() == "Phishing triage");
    BOOST_TEST(v.at("version") == json::value(seed_doc(2)));

    auto two = call("POST", std::string(api) + "/export",
                    json::serialize(json::object{{"id", json::array{wf_a, wf_a}}}),
                    {{"X-Auth-Token", tok}, {"Content-Type", "application/json"}});
    BOOST_TEST(two.status == 400);
    auto missing = export_wf("00000000-0000-0000-0000-000000000000", tok);
    BOOST_TEST(missing.status == 400);
    BOOST_TEST(missing.json().at("code").as_string() == "SecMaster.10000404");
    auto no_ct = call("POST", std::string(api) + "/export", "{\"id\":[\"x\"]}", {{"X-Auth-Token", tok}});
    BOOST_TEST(no_ct.status == 400);
}

BOOST_FIXTURE_TEST_CASE(import_creates_then_adds_a_version, small)
{
    auto tok = login();
    auto file = export_wf(wf_a, tok).body;
    // Same name: a new version v3, activated.
    auto r = import_file(file, tok);
    BOOST_TEST_REQUIRE(r.status == 200, r.body);
    BOOST_TEST(r.json().at("success").as_bool());
    BOOST_TEST(r.json().at("code").as_string() == "00000000");
    BOOST_TEST(!r.json().at("request_id").as_string().empty());
    auto st = emu.state("sm");
    BOOST_TEST_REQUIRE(st.at("workflows").as_array().size() == 1u);
    auto& vs = st.at("workflows").at(0).at("versions").as_array();
    BOOST_TEST_REQUIRE(vs.size() == 3u);
    BOOST_TEST(vs[2].at("version").as_string() == "v3");
    BOOST_TEST(vs[2].at("status").as_string() == "activated");
    BOOST_TEST(vs[1].at("status").as_string() == "not_activated");

    // A new name: a new workflow with v1.
    auto doc = json::parse(file).as_object();
    doc["workflow"].as_object()["name"] = "Copied triage";
    BOOST_TEST(import_file(json::serialize(doc), tok).status == 200);
    st = emu.state("sm");
    BOOST_TEST_REQUIRE(st.at("workflows").as_array().size() == 2u);
    auto& nw = st.at("workflows").at(1);
    BOOST_TEST(nw.at("name").as_string() == "Copied triage");
    BOOST_TEST(nw.at("id").as_string().size() == 36u);
    BOOST_TEST(nw.at("versions").at(0).at("version").as_string() == "v1");
    // And its export is the same document.
    auto again = export_wf(std::string(nw.at("id").as_string()), tok);
    BOOST_TEST(again.json().at("version") == json::value(seed_doc(2)));
}

BOOST_FIXTURE_TEST_CASE(import_refuses_bad_uploads, small)
{
    auto tok = login();
    auto wrong_field = import_file("{}", tok, "file");
    BOOST_TEST(wrong_field.status == 400);
    BOOST_TEST(std::string(wrong_field.json().at("message").as_string()).find("'file'") != std::string::npos);
    BOOST_TEST(import_file("not json", tok).status == 400);
    BOOST_TEST(import_file("{\"workflow\":{}}", tok).status == 400);
    // No version object: the documented 200 with success false.
    auto sf = import_file("{\"workflow\":{\"name\":\"X\"}}", tok);
    BOOST_TEST(sf.status == 200);
    BOOST_TEST(!sf.json().at("success").as_bool());
    auto cut = call("POST", std::string(api) + "/import", "--b\r\nContent-Disposition: form-data; name=\"uploadFile\"\r\n\r\nxx",
                    {{"X-Auth-Token", tok}, {"Content-Type", "multipart/form-data; boundary=b"}});
    BOOST_TEST(cut.status == 400);
    BOOST_TEST(std::string(cut.json().at("message").as_string()).find("truncated") != std::string::npos);
    BOOST_TEST(emu.state("sm").at("workflows").at(0).at("versions").as_array().size() == 2u);
}

BOOST_FIXTURE_TEST_CASE(faults_and_request_log_apply, small)
{
    auto tok = login();
    BOOST_TEST_REQUIRE(!emu.add_fault(json::object{{"tenant", "sm"}, {"kind", "status"}, {"status", 503},
                                                   {"path_contains", "/export"}})
                            .has_error());
    auto r = export_wf(wf_a, tok);
    BOOST_TEST(r.status == 503);
    BOOST_TEST(r.json().at("code").as_string() == "SecMaster.50000000");
    BOOST_TEST(export_wf(wf_a, tok).status == 200);
    auto log = emu.requests("sm");
    BOOST_TEST_REQUIRE(log.size() == 3u);
    BOOST_TEST(log[1].at("fault").as_string() == "status");
    BOOST_TEST(log[1].at("status").as_int64() == 503);
    BOOST_TEST(log[2].at("path").as_string() == std::string(api) + "/export");
    BOOST_TEST(log[2].at("headers").at("x-auth-token").as_string() == tok);

    // reset_after_commit: the import happens, the answer is lost.
    BOOST_TEST_REQUIRE(!emu.add_fault(json::object{{"kind", "reset_after_commit"}, {"path_contains", "/import"}}).has_error());
    auto lost = import_file(export_wf(wf_a, tok).body, tok);
    BOOST_TEST(!!lost.ec);
    BOOST_TEST(emu.state("sm").at("workflows").at(0).at("versions").as_array().size() == 3u);
}

BOOST_FIXTURE_TEST_CASE(add_version_and_seed_errors, small)
{
    auto label = emu.add_version("sm", wf_a, seed_doc(9));
    BOOST_TEST_REQUIRE(!label.has_error());
    BOOST_TEST(*label == "v3");
    BOOST_TEST(export_wf(wf_a, login()).json().at("version") == json::value(seed_doc(9)));
    BOOST_TEST(emu.add_version("sm", "nope", seed_doc(1)).has_error());

    auto bad = emu.load_seed(R"({"tenants":{"x":{"platform":"secmaster","project_id":"p","workspace_id":"w",
        "bearer_token":"t","workflows":[{"name":"a","versions":[{"status":"bogus"}]}]}}})");
    BOOST_TEST_REQUIRE(bad.has_error());
    BOOST_TEST(bad.error().message.find("tenants.x.workflows[0].versions[0].status") != std::string::npos);
    auto unknown = emu.load_seed(R"({"tenants":{"x":{"platform":"secmaster","project_id":"p","workspace_id":"w",
        "bearer_token":"t","colour":"red"}}})");
    BOOST_TEST_REQUIRE(unknown.has_error());
    BOOST_TEST(unknown.error().message.find("unknown key 'colour'") != std::string::npos);
    auto noauth = emu.load_seed(R"({"tenants":{"x":{"platform":"secmaster","project_id":"p","workspace_id":"w"}}})");
    BOOST_TEST(noauth.has_error());
}
