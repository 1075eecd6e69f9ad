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

#include <cctype>
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

/// A one-tenant seed "x" with `key`: `value` (raw JSON text).
std::string fmt_seed(const std::string& key, const std::string& value)
{
    return R"({"tenants":{"x":{"platform":"secmaster","project_id":"p","workspace_id":"w","bearer_token":"t",")" +
           key + "\":" + value + "}}}";
}

json::object seed_doc(int n) { return json::object{{"steps", json::array{"triage", n}}, {"timeout", n}}; }

std::string test_seed(int extra_workflows, const json::object& switches = {})
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
    for (const auto& kv : switches) sm[kv.key()] = kv.value();
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

    explicit fixture(int extra = 0, const json::object& switches = {})
    {
        auto seeded = emu.load_seed(test_seed(extra, switches));
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
    reply put(const std::string& target, const std::string& token, const std::string& body)
    {
        return call("PUT", target, body, {{"X-Auth-Token", token}, {"Content-Type", "application/json;charset=UTF-8"}});
    }
    /// The versions list's data[] of workflow `id`.
    json::array versions(const std::string& id, const std::string& token)
    {
        auto r = get(std::string(api) + "/" + id + "/versions", token);
        BOOST_TEST_REQUIRE(r.status == 200, r.body);
        return r.json().at("data").as_array();
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

std::string base64_decode(std::string_view in)
{
    auto digit = [](char c) -> int {
        if (c >= 'A' && c <= 'Z') return c - 'A';
        if (c >= 'a' && c <= 'z') return c - 'a' + 26;
        if (c >= '0' && c <= '9') return c - '0' + 52;
        if (c == '+') return 62;
        if (c == '/') return 63;
        return -1;
    };
    std::string out;
    std::uint32_t acc = 0;
    int bits = 0;
    for (char c : in) {
        int d = digit(c);
        if (d < 0) break;  // '=' padding
        acc = (acc << 6) | static_cast<std::uint32_t>(d);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out += static_cast<char>((acc >> bits) & 0xff);
        }
    }
    return out;
}

/// An export file whose version document refers to its own ids.
json::object linked_file(const std::string& name)
{
    auto doc = json::parse(R"({"dataclass_id":"dc-9","playbookId":"pb-1","start":"act-1",
        "actions":[{"id":"act-1","name":"enrich","next":"act-2","params":{"source_id":"src-3"}},
                   {"id":"act-2","name":"close","next":null,"after":["act-1"]}],
        "note":"act-1 first"})");
    return json::object{{"workflow", {{"name", name}, {"description", "linked"}}}, {"version", doc}};
}

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
    BOOST_TEST(vs[2].at("document") == json::parse(file).at("version"));  // the state shows what is stored

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

// ---- seed switches ---------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(import_ids_restamp_remaps_ids_within_the_document)
{
    fixture f(0, json::object{{"import_ids", "restamp"}});
    auto tok = f.login();
    auto file = linked_file("Phishing triage");
    BOOST_TEST_REQUIRE(f.import_file(json::serialize(file), tok).status == 200);
    auto doc = f.export_wf(wf_a, tok).json().at("version");  // the import is activated
    const auto& acts = doc.at("actions").as_array();
    BOOST_TEST_REQUIRE(acts.size() == 2u);
    std::vector<std::string> ids{std::string(acts[0].at("id").as_string()), std::string(acts[1].at("id").as_string()),
                                 std::string(doc.at("dataclass_id").as_string()),
                                 std::string(doc.at("playbookId").as_string()),
                                 std::string(acts[0].at("params").at("source_id").as_string())};
    const std::set<std::string> old{"act-1", "act-2", "dc-9", "pb-1", "src-3"};
    for (const auto& id : ids) BOOST_TEST(!old.contains(id), id);
    BOOST_TEST(std::set<std::string>(ids.begin(), ids.end()).size() == ids.size());
    BOOST_TEST(acts[0].at("next") == acts[1].at("id"));
    BOOST_TEST(acts[1].at("after").at(0) == acts[0].at("id"));
    BOOST_TEST(doc.at("start") == acts[0].at("id"));
    BOOST_TEST(acts[1].at("next").is_null());
    BOOST_TEST(doc.at("note").as_string() == "act-1 first");
    BOOST_TEST(acts[0].at("name").as_string() == "enrich");
}

BOOST_FIXTURE_TEST_CASE(import_ids_keep_stores_the_document_as_uploaded, small)
{
    auto tok = login();
    auto file = linked_file("Phishing triage");
    BOOST_TEST_REQUIRE(import_file(json::serialize(file), tok).status == 200);
    BOOST_TEST(export_wf(wf_a, tok).json().at("version") == file.at("version"));
}

BOOST_AUTO_TEST_CASE(export_file_name_version_carries_the_label)
{
    fixture f(0, json::object{{"export_file_name", "version"}});
    auto tok = f.login();
    auto r = f.export_wf(wf_a, tok);
    BOOST_TEST_REQUIRE(r.status == 200);
    BOOST_TEST(r.header("content-disposition") == "attachment; filename=\"Phishing_triage_v2.json\"");
    // After an import the activated version is v3, and so is the name.
    BOOST_TEST_REQUIRE(f.import_file(r.body, tok).status == 200);
    BOOST_TEST(f.export_wf(wf_a, tok).header("content-disposition") ==
               "attachment; filename=\"Phishing_triage_v3.json\"");
}

BOOST_AUTO_TEST_CASE(export_version_active_or_latest)
{
    // Leave imports unactivated, so that the newest version is not the activated one.
    for (std::string which : {"active", "latest"}) {
        fixture f(0, json::object{{"export_version", json::string(which)}, {"import_activation", "leave"},
                                  {"export_file_name", "version"}});
        auto tok = f.login();
        json::object file{{"workflow", {{"name", "Phishing triage"}}}, {"version", seed_doc(3)}};
        BOOST_TEST_REQUIRE(f.import_file(json::serialize(file), tok).status == 200);
        auto r = f.export_wf(wf_a, tok);
        BOOST_TEST_REQUIRE(r.status == 200);
        if (which == "active") {
            BOOST_TEST(r.json().at("version") == json::value(seed_doc(2)));
            BOOST_TEST(r.header("content-disposition") == "attachment; filename=\"Phishing_triage_v2.json\"");
        } else {
            BOOST_TEST(r.json().at("version") == json::value(seed_doc(3)));
            BOOST_TEST(r.header("content-disposition") == "attachment; filename=\"Phishing_triage_v3.json\"");
        }
    }
}

BOOST_AUTO_TEST_CASE(import_activation_leave_stores_not_activated)
{
    fixture f(0, json::object{{"import_activation", "leave"}});
    auto tok = f.login();
    json::object file{{"workflow", {{"name", "Phishing triage"}}}, {"version", seed_doc(3)}};
    auto r = f.import_file(json::serialize(file), tok);
    BOOST_TEST_REQUIRE(r.status == 200, r.body);
    BOOST_TEST(r.json().at("success").as_bool());
    auto vs = f.versions(wf_a, tok);
    BOOST_TEST_REQUIRE(vs.size() == 3u);
    BOOST_TEST(vs[2].at("version").as_string() == "v3");
    BOOST_TEST(vs[2].at("status").as_string() == "not_activated");
    BOOST_TEST(vs[1].at("status").as_string() == "activated");  // still
    auto listed = f.get(std::string(api) + "?name=Phishing%20triage", tok).json().at("data").at(0);
    BOOST_TEST(listed.at("version").as_string() == "v2");

    // A workflow created by import has no activated version; its export is the last one.
    file["workflow"].as_object()["name"] = "Fresh";
    BOOST_TEST_REQUIRE(f.import_file(json::serialize(file), tok).status == 200);
    auto st = f.emu.state("sm");
    BOOST_TEST_REQUIRE(st.at("workflows").as_array().size() == 2u);
    const auto& nw = st.at("workflows").at(1);
    BOOST_TEST(nw.at("versions").at(0).at("status").as_string() == "not_activated");
    std::string id(nw.at("id").as_string());
    auto item = f.get(std::string(api) + "?name=Fresh", tok).json().at("data").at(0);
    BOOST_TEST(!item.at("enabled").as_bool());
    BOOST_TEST(item.at("version").is_null());
    BOOST_TEST(f.export_wf(id, tok).json().at("version") == json::value(seed_doc(3)));
}

BOOST_FIXTURE_TEST_CASE(import_activation_activate_is_the_default, small)
{
    auto tok = login();
    json::object file{{"workflow", {{"name", "Phishing triage"}}}, {"version", seed_doc(3)}};
    BOOST_TEST_REQUIRE(import_file(json::serialize(file), tok).status == 200);
    auto vs = versions(wf_a, tok);
    BOOST_TEST_REQUIRE(vs.size() == 3u);
    BOOST_TEST(vs[2].at("status").as_string() == "activated");
    BOOST_TEST(vs[1].at("status").as_string() == "not_activated");
}

// ---- version detail GET / PUT ----------------------------------------------------------------

BOOST_FIXTURE_TEST_CASE(version_detail_has_the_document_as_base64_taskflow, small)
{
    auto tok = login();
    auto vs = versions(wf_a, tok);
    BOOST_TEST_REQUIRE(vs.size() == 2u);
    // The list carries each version's id, the same the state shows.
    auto st = emu.state("sm");
    for (std::size_t i = 0; i < vs.size(); ++i)
        BOOST_TEST(vs[i].at("id") == st.at("workflows").at(0).at("versions").at(i).at("id"));
    std::string v1(vs[0].at("id").as_string());

    auto r = get(std::string(api) + "/versions/" + v1, tok);
    BOOST_TEST_REQUIRE(r.status == 200, r.body);
    auto body = r.json();
    BOOST_TEST(body.at("code").as_string() == "00000000");
    BOOST_TEST(body.at("success").as_bool());
    const auto& d = body.at("data");
    BOOST_TEST(d.at("id").as_string() == v1);
    BOOST_TEST(d.at("workflow_id").as_string() == wf_a);
    BOOST_TEST(d.at("version").as_string() == "v1");
    BOOST_TEST(d.at("status").as_string() == "not_activated");
    BOOST_TEST(d.at("name").as_string() == "Phishing triage");
    BOOST_TEST(d.at("taskflow_type").as_string() == "JSON");
    BOOST_TEST(d.at("create_time").is_string());
    BOOST_TEST(d.at("update_time").is_string());
    auto taskflow = std::string(d.at("taskflow").as_string());
    BOOST_TEST(taskflow.find('{') == std::string::npos);  // encoded, not raw JSON
    BOOST_TEST(json::parse(base64_decode(taskflow)) == json::value(seed_doc(1)));

    // The base64 holds for any length (padding): an imported document of another size.
    for (int n : {10, 11, 12, 1000}) {
        json::object doc{{"pad", std::string(static_cast<std::size_t>(n), 'x')}};
        json::object file{{"workflow", {{"name", "Pad"}}}, {"version", doc}};
        BOOST_TEST_REQUIRE(import_file(json::serialize(file), tok).status == 200);
        auto last = emu.state("sm").at("workflows").at(1).at("versions").as_array().back();
        auto shown = get(std::string(api) + "/versions/" + std::string(last.at("id").as_string()), tok).json();
        const auto& tf = shown.at("data").at("taskflow").as_string();
        BOOST_TEST(tf.size() % 4 == 0u);  // padded
        BOOST_TEST(json::parse(base64_decode(tf)) == json::value(doc));
    }

    auto missing = get(std::string(api) + "/versions/00000000-0000-0000-0000-000000000000", tok);
    BOOST_TEST(missing.status == 404);
    BOOST_TEST(missing.json().at("code").as_string() == "SecMaster.10000404");
    BOOST_TEST(missing.json().at("message").is_string());
    BOOST_TEST(call("DELETE", std::string(api) + "/versions/" + v1, {}, {{"X-Auth-Token", tok}}).status == 405);
}

BOOST_FIXTURE_TEST_CASE(put_version_status_activates_and_deactivates, small)
{
    auto tok = login();
    auto vs = versions(wf_a, tok);
    std::string v1(vs[0].at("id").as_string()), v2(vs[1].at("id").as_string());
    auto at = std::string(api) + "/versions/";

    auto r = put(at + v1, tok, R"({"status":"activated","name":"ignored"})");
    BOOST_TEST_REQUIRE(r.status == 200, r.body);
    BOOST_TEST(r.json().at("success").as_bool());
    BOOST_TEST(r.json().at("code").as_string() == "00000000");
    vs = versions(wf_a, tok);
    BOOST_TEST(vs[0].at("status").as_string() == "activated");
    BOOST_TEST(vs[1].at("status").as_string() == "not_activated");
    BOOST_TEST(export_wf(wf_a, tok).json().at("version") == json::value(seed_doc(1)));
    BOOST_TEST(get(at + v1, tok).json().at("data").at("status").as_string() == "activated");

    BOOST_TEST(put(at + v1, tok, R"({"status":"not_activated"})").status == 200);
    BOOST_TEST(put(at + v2, tok, R"({"status":"pending_approval"})").status == 200);
    vs = versions(wf_a, tok);
    BOOST_TEST(vs[0].at("status").as_string() == "not_activated");
    BOOST_TEST(vs[1].at("status").as_string() == "pending_approval");
    BOOST_TEST(put(at + v2, tok, R"({"status":"pending_submit"})").status == 200);
    BOOST_TEST(versions(wf_a, tok)[1].at("status").as_string() == "pending_submit");

    auto bad = put(at + v2, tok, R"({"status":"publishing"})");
    BOOST_TEST(bad.status == 400);
    BOOST_TEST(bad.json().at("code").as_string() == "SecMaster.10000400");
    BOOST_TEST(put(at + v2, tok, R"({"name":"no status"})").status == 400);
    BOOST_TEST(put(at + v2, tok, "not json").status == 400);
    BOOST_TEST(put(at + "nope", tok, R"({"status":"activated"})").status == 404);
    BOOST_TEST(versions(wf_a, tok)[1].at("status").as_string() == "pending_submit");
}

BOOST_AUTO_TEST_CASE(activation_needs_approval_refuses_put_activated)
{
    fixture f(0, json::object{{"activation", "needs_approval"}});
    auto tok = f.login();
    auto vs = f.versions(wf_a, tok);
    std::string v1(vs[0].at("id").as_string());
    auto at = std::string(api) + "/versions/" + v1;
    auto r = f.put(at, tok, R"({"status":"activated"})");
    BOOST_TEST(r.status == 400);
    BOOST_TEST(r.json().at("code").as_string() == "SecMaster.20010001");
    BOOST_TEST(r.json().at("message").as_string() == "the version must be approved before it is activated");
    vs = f.versions(wf_a, tok);
    BOOST_TEST(vs[0].at("status").as_string() == "not_activated");
    BOOST_TEST(vs[1].at("status").as_string() == "activated");
    // Other statuses are still set.
    BOOST_TEST(f.put(at, tok, R"({"status":"pending_approval"})").status == 200);
    BOOST_TEST(f.versions(wf_a, tok)[0].at("status").as_string() == "pending_approval");
}

BOOST_AUTO_TEST_CASE(seed_switch_values_are_checked)
{
    asio::io_context ioc;
    emulator::emulator emu(ioc.get_executor(), {});
    const std::pair<const char*, const char*> bad[] = {{"import_ids", "\"renumber\""},
                                                       {"export_file_name", "\"label\""},
                                                       {"export_version", "\"newest\""},
                                                       {"import_activation", "true"},
                                                       {"activation", "\"approval\""},
                                                       {"list_detail", "\"times\""},
                                                       {"list_detail", "3"}};
    for (auto [key, value] : bad) {
        auto r = emu.load_seed(fmt_seed(key, value));
        BOOST_TEST_REQUIRE(r.has_error(), key);
        BOOST_TEST(r.error().message.find(std::string("tenants.x.") + key + ": must be ") != std::string::npos,
                   r.error().message);
    }
    const std::pair<const char*, const char*> good[] = {{"import_ids", "\"restamp\""},
                                                        {"export_file_name", "\"version\""},
                                                        {"export_version", "\"latest\""},
                                                        {"import_activation", "\"leave\""},
                                                        {"activation", "\"needs_approval\""},
                                                        {"list_detail", "\"full\""},
                                                        {"list_detail", "\"labels\""},
                                                        {"list_detail", "\"names\""}};
    for (auto [key, value] : good) {
        auto r = emu.load_seed(fmt_seed(key, value));
        BOOST_TEST(r.has_value(), (r ? "" : r.error().message));
    }
}

// ---- faults aimed at one method -------------------------------------------------------------

BOOST_FIXTURE_TEST_CASE(fault_429_with_retry_after_on_posts_only, small)
{
    auto tok = login();
    BOOST_TEST_REQUIRE(!emu.add_fault(json::object{{"tenant", "sm"}, {"method", "POST"}, {"kind", "status"},
                                                   {"status", 429}, {"retry_after", "5"}, {"count", 100}})
                            .has_error());
    auto r = export_wf(wf_a, tok);
    BOOST_TEST(r.status == 429);
    BOOST_TEST(r.header("retry-after") == "5");
    BOOST_TEST(r.json().at("code").is_string());  // SecMaster's {code, message} shape
    BOOST_TEST(import_file(export_wf(wf_a, tok).body, tok).status == 429);
    BOOST_TEST(get(api, tok).status == 200);  // GETs pass
    BOOST_TEST(versions(wf_a, tok).size() == 2u);
    emu.clear_faults();

    // reset_after_commit aimed at POST .../import: a GET on the same path is not hit.
    BOOST_TEST_REQUIRE(!emu.add_fault(json::object{{"tenant", "sm"}, {"method", "POST"}, {"path_contains", "/import"},
                                                   {"kind", "reset_after_commit"}})
                            .has_error());
    BOOST_TEST(get(std::string(api) + "/import", tok).status == 405);
    auto lost = import_file(export_wf(wf_a, tok).body, tok);
    BOOST_TEST(!!lost.ec);
    BOOST_TEST(versions(wf_a, tok).size() == 3u);  // stored all the same
}

// ---- listing detail, update times, edits in place --------------------------------------------

namespace {

std::set<std::string> keys_of(const json::value& v)
{
    std::set<std::string> out;
    for (const auto& kv : v.as_object()) out.insert(std::string(kv.key()));
    return out;
}

/// "2026-11-29T18:00:00.123Z": ISO-8601 UTC with exactly three fraction digits.
bool is_ms_stamp(const json::value& v)
{
    if (!v.is_string()) return false;
    std::string s(v.as_string());
    const std::string shape = "dddd-dd-ddTdd:dd:dd.dddZ";
    if (s.size() != shape.size()) return false;
    for (std::size_t i = 0; i < s.size(); ++i)
        if (shape[i] == 'd' ? !std::isdigit(static_cast<unsigned char>(s[i])) : s[i] != shape[i]) return false;
    return true;
}

/// The list item of workflow `id`.
json::value listed(fixture& f, const std::string& token, const std::string& id)
{
    auto r = f.get(std::string(api) + "?limit=100", token);
    BOOST_TEST_REQUIRE(r.status == 200, r.body);
    const auto body = r.json();
    for (const auto& item : body.at("data").as_array())
        if (item.at("id").as_string() == id) return item;
    BOOST_TEST_REQUIRE(false, "workflow " + id + " is not listed");
    return {};
}

std::string update_time(fixture& f, const std::string& token)
{
    return std::string(listed(f, token, wf_a).at("update_time").as_string());
}

}  // namespace

BOOST_AUTO_TEST_CASE(list_detail_full_labels_names_show_the_fields_said)
{
    const std::set<std::string> names{"id", "name", "description", "project_id", "workspace_id", "enabled", "aop_type"};
    std::set<std::string> labels = names;
    labels.insert({"version", "version_id"});
    std::set<std::string> full = labels;
    full.insert({"create_time", "update_time"});
    const std::pair<std::string, std::set<std::string>> cases[] = {
        {"", full}, {"full", full}, {"labels", labels}, {"names", names}};
    for (const auto& [detail, expected] : cases) {
        BOOST_TEST_CONTEXT("list_detail '" << detail << "'")
        {
            json::object switches;
            if (!detail.empty()) switches["list_detail"] = detail;
            fixture f(1, switches);
            auto tok = f.login();
            auto r = f.get(api, tok);
            BOOST_TEST_REQUIRE(r.status == 200, r.body);
            const auto body = r.json();
            const auto& data = body.at("data").as_array();
            BOOST_TEST_REQUIRE(data.size() == 2u);
            for (const auto& item : data) BOOST_TEST(keys_of(item) == expected, boost::test_tools::per_element());
            const auto& a = data[0];
            BOOST_TEST(a.at("enabled").as_bool());
            if (expected.count("version")) {
                BOOST_TEST(a.at("version").as_string() == "v2");
                BOOST_TEST(a.at("version_id") == f.versions(wf_a, tok)[1].at("id"));
                BOOST_TEST(data[1].at("version").is_null());  // no activated version
                BOOST_TEST(data[1].at("version_id").is_null());
            }
            if (expected.count("update_time")) {
                BOOST_TEST(is_ms_stamp(a.at("update_time")), a.at("update_time"));
                BOOST_TEST(is_ms_stamp(a.at("create_time")), a.at("create_time"));
            }
        }
    }
}

BOOST_FIXTURE_TEST_CASE(update_times_strictly_increase_with_every_change, small)
{
    auto tok = login();
    auto seeded = listed(*this, tok, wf_a);
    BOOST_TEST(seeded.at("create_time") == seeded.at("update_time"));
    std::vector<std::string> seen{std::string(seeded.at("update_time").as_string())};
    // In-process changes right after one another, mostly within one millisecond.
    for (int i = 0; i < 8; ++i) {
        BOOST_TEST_REQUIRE(!emu.add_version("sm", wf_a, seed_doc(i)).has_error());
        BOOST_TEST_REQUIRE(!emu.edit_version("sm", wf_a, "v1", seed_doc(100 + i)).has_error());
    }
    seen.push_back(update_time(*this, tok));
    // One change at a time over the API: an activation, a status change, an import, an edit.
    auto vs = versions(wf_a, tok);
    const std::string at = std::string(api) + "/versions/";
    BOOST_TEST_REQUIRE(put(at + std::string(vs[0].at("id").as_string()), tok, R"({"status":"activated"})").status == 200);
    seen.push_back(update_time(*this, tok));
    BOOST_TEST_REQUIRE(put(at + std::string(vs[1].at("id").as_string()), tok, R"({"status":"pending_approval"})").status == 200);
    seen.push_back(update_time(*this, tok));
    auto file = json::object{{"workflow", {{"name", "Phishing triage"}, {"description", "new"}}}, {"version", seed_doc(50)}};
    BOOST_TEST_REQUIRE(import_file(json::serialize(file), tok).status == 200);
    seen.push_back(update_time(*this, tok));
    BOOST_TEST_REQUIRE(call("PUT", "/_emulator/tenants/sm/workflows/" + std::string(wf_a) + "/versions/v2",
                            json::serialize(seed_doc(51)), {{"Content-Type", "application/json"}})
                           .status == 200);
    seen.push_back(update_time(*this, tok));
    for (std::size_t i = 1; i < seen.size(); ++i) {
        BOOST_TEST(is_ms_stamp(json::value(seen[i])), seen[i]);
        BOOST_TEST(seen[i] > seen[i - 1], seen[i - 1] << " then " << seen[i]);
    }
    BOOST_TEST(listed(*this, tok, wf_a).at("create_time") == seeded.at("create_time"));
    // A workflow created by import: created when its first version was.
    auto created = json::object{{"workflow", {{"name", "Brand new"}}}, {"version", seed_doc(1)}};
    BOOST_TEST_REQUIRE(import_file(json::serialize(created), tok).status == 200);
    auto list = get(std::string(api) + "?name=Brand%20new", tok).json().at("data").at(0);
    BOOST_TEST(list.at("create_time") == list.at("update_time"));
    BOOST_TEST(std::string(list.at("update_time").as_string()) > seen.back());
}

BOOST_FIXTURE_TEST_CASE(edit_version_replaces_the_document_in_place, small)
{
    auto tok = login();
    const auto before = versions(wf_a, tok);
    const auto before_item = listed(*this, tok, wf_a);
    const std::string v2_id(before[1].at("id").as_string());
    auto detail = [&](const std::string& id) {
        return get(std::string(api) + "/versions/" + id, tok).json().at("data");
    };
    const auto before_detail = detail(v2_id);

    // The activated version v2: the export shows the edit.
    auto r = emu.edit_version("sm", wf_a, "v2", seed_doc(7));
    BOOST_TEST_REQUIRE(!r.has_error(), (r ? "" : r.error().message));
    BOOST_TEST(export_wf(wf_a, tok).json().at("version") == json::value(seed_doc(7)));
    // v1 (not activated), given as an export file {workflow, version}: its detail shows it.
    auto file = json::object{{"workflow", {{"name", "ignored"}}}, {"version", seed_doc(8)}};
    BOOST_TEST_REQUIRE(!emu.edit_version("sm", wf_a, "v1", file).has_error());
    const std::string v1_id(before[0].at("id").as_string());
    BOOST_TEST(base64_decode(detail(v1_id).at("taskflow").as_string()) == json::serialize(seed_doc(8)));
    BOOST_TEST(export_wf(wf_a, tok).json().at("version") == json::value(seed_doc(7)));  // still v2

    // Ids, labels, statuses, the name and the listing's version stay; the times move.
    const auto after = versions(wf_a, tok);
    BOOST_TEST_REQUIRE(after.size() == before.size());
    for (std::size_t i = 0; i < after.size(); ++i) {
        BOOST_TEST(after[i].at("id") == before[i].at("id"));
        BOOST_TEST(after[i].at("version") == before[i].at("version"));
        BOOST_TEST(after[i].at("status") == before[i].at("status"));
        BOOST_TEST(after[i].at("create_time") == before[i].at("create_time"));
    }
    const auto after_item = listed(*this, tok, wf_a);
    for (auto key : {"name", "description", "version", "version_id", "enabled", "create_time"})
        BOOST_TEST(after_item.at(key) == before_item.at(key), key);
    BOOST_TEST(std::string(after_item.at("update_time").as_string()) >
               std::string(before_item.at("update_time").as_string()));
    const auto after_detail = detail(v2_id);
    BOOST_TEST(std::string(after_detail.at("update_time").as_string()) >
               std::string(before_detail.at("update_time").as_string()));
    BOOST_TEST(after_detail.at("create_time") == before_detail.at("create_time"));

    // The control endpoint.
    const std::string ctl = "/_emulator/tenants/sm/workflows/" + std::string(wf_a) + "/versions/";
    auto put_ctl = [&](const std::string& target, const std::string& body) {
        return call("PUT", target, body, {{"Content-Type", "application/json"}});
    };
    auto ok = put_ctl(ctl + "v2", json::serialize(seed_doc(9)));
    BOOST_TEST_REQUIRE(ok.status == 200, ok.body);
    BOOST_TEST(ok.json() == json::parse(R"({"success":true,"version":"v2"})"));
    BOOST_TEST(export_wf(wf_a, tok).json().at("version") == json::value(seed_doc(9)));

    // Errors: unknown workflow, label or tenant (404); a body that is not an object (400).
    auto code_of = [](const result<void>& x) { return x ? errc{} : x.error().code; };
    BOOST_TEST((code_of(emu.edit_version("sm", wf_a, "v3", seed_doc(1))) == errc::not_found));
    BOOST_TEST((code_of(emu.edit_version("sm", "nope", "v1", seed_doc(1))) == errc::not_found));
    BOOST_TEST((code_of(emu.edit_version("nope", wf_a, "v1", seed_doc(1))) == errc::not_found));
    BOOST_TEST((code_of(emu.edit_version("sm", wf_a, v2_id, seed_doc(1))) == errc::not_found));  // a label, not an id
    BOOST_TEST(put_ctl(ctl + "v3", "{}").status == 404);
    BOOST_TEST(put_ctl("/_emulator/tenants/sm/workflows/nope/versions/v1", "{}").status == 404);
    BOOST_TEST(put_ctl("/_emulator/tenants/nope/workflows/x/versions/v1", "{}").status == 404);
    BOOST_TEST(put_ctl(ctl + "v2", "[1]").status == 400);
    BOOST_TEST(put_ctl(ctl + "v2", "not json").status == 400);
    BOOST_TEST(export_wf(wf_a, tok).json().at("version") == json::value(seed_doc(9)));
}

BOOST_AUTO_TEST_CASE(an_edit_in_place_is_invisible_in_a_labels_listing)
{
    // Under "labels" the listing shows the active version but no time: an edit in place
    // leaves it exactly as it was.
    fixture f(0, json::object{{"list_detail", "labels"}});
    auto tok = f.login();
    auto before = f.get(api, tok).json().at("data");
    BOOST_TEST_REQUIRE(!f.emu.edit_version("sm", wf_a, "v2", seed_doc(42)).has_error());
    BOOST_TEST(f.get(api, tok).json().at("data") == before);
    BOOST_TEST(f.export_wf(wf_a, tok).json().at("version") == json::value(seed_doc(42)));
}
