// SPDX-License-Identifier: Apache-2.0
// The emulator over real loopback sockets: an in-process emulator on its own thread and a
// small synchronous Beast client written here (so these tests share nothing with net::http_client).
#define BOOST_TEST_MODULE wfsync_emulator
#include <boost/test/unit_test.hpp>

#include "emulator.hpp"
#include "zuora_model.hpp"

#include <support/process.hpp>
#include <support/run_coro.hpp>
#include <support/temp_dir.hpp>
#include <support/test_certs.hpp>
#include <wfsync/net/http_client.hpp>
#include <wfsync/core/zlib.hpp>

#include <boost/asio/connect.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <csignal>
#include <future>
#include <map>
#include <optional>
#include <set>
#include <thread>

using namespace wfsync;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace json = boost::json;

namespace {

// ---- a tiny synchronous client ---------------------------------------------------------

struct reply {
    boost::system::error_code ec;  ///< set when the connection failed or the answer was cut
    int status = 0;
    std::map<std::string, std::string> headers;  ///< lower-cased names
    std::string body;

    const std::string& header(const std::string& name) const
    {
        static const std::string none;
        auto it = headers.find(name);
        return it == headers.end() ? none : it->second;
    }
    json::value json() const { return json::parse(body); }
    std::string message() const  // first reasons[].message of an error body
    {
        return std::string(json().at("reasons").at(0).at("message").as_string());
    }
};

struct client {
    std::uint16_t port = 0;
    std::string token;  ///< sent as Authorization: Bearer when not empty

    reply send(const std::string& method, const std::string& target, const std::string& body = {},
               std::map<std::string, std::string> headers = {}, const std::string& content_type = "application/json")
    {
        asio::io_context ioc;
        beast::tcp_stream stream(ioc);
        stream.expires_after(std::chrono::seconds(10));
        reply out;
        stream.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), out.ec);
        if (out.ec) return out;
        http::request<http::string_body> req(http::string_to_verb(method), target, 11);
        req.set(http::field::host, "127.0.0.1");
        if (!token.empty() && !headers.count("Authorization")) req.set(http::field::authorization, "Bearer " + token);
        for (const auto& [k, v] : headers) req.set(k, v);
        if (!body.empty() || method == "POST") {
            req.body() = body;
            if (!content_type.empty()) req.set(http::field::content_type, content_type);
        }
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

    reply get(const std::string& target, std::map<std::string, std::string> headers = {})
    {
        return send("GET", target, {}, std::move(headers));
    }
    reply post(const std::string& target, const json::value& body, std::map<std::string, std::string> headers = {})
    {
        return send("POST", target, json::serialize(body), std::move(headers));
    }
};

// ---- fixtures --------------------------------------------------------------------------

json::object task(std::int64_t id, const std::string& name, const std::string& action = "Email")
{
    return json::object{{"id", id}, {"name", name}, {"action_type", action},
                        {"parameters", json::object{{"subject", name}}}, {"css", json::object{{"top", "10px"}}}};
}

json::object linkage(const std::string& type, json::value wf, json::value src, json::value dst)
{
    return json::object{{"linkage_type", type}, {"source_workflow_id", wf}, {"source_task_id", src},
                        {"target_task_id", dst}};
}

/// An export document with tasks `ids` chained by linkages.
json::object doc(const std::string& name, const std::string& version, std::vector<std::int64_t> ids,
                 std::int64_t wf_id = 7)
{
    json::array tasks, links;
    for (std::size_t i = 0; i < ids.size(); ++i) {
        tasks.push_back(task(ids[i], name + " step " + std::to_string(i + 1)));
        links.push_back(i == 0 ? linkage("Start", wf_id, nullptr, ids[0])
                               : linkage("Success", nullptr, ids[i - 1], ids[i]));
    }
    return json::object{{"workflow", json::object{{"id", wf_id}, {"name", name}, {"version", version},
                                                  {"ondemand_trigger", true}, {"priority", "Medium"}}},
                        {"tasks", std::move(tasks)},
                        {"linkages", std::move(links)}};
}

json::object seed_workflow(std::int64_t id, const std::string& name,
                           std::vector<std::pair<std::string, std::string>> versions, std::int64_t first_task)
{
    json::array vs;
    for (const auto& [label, status] : versions) {
        auto d = doc(name, label, {first_task, first_task + 1}, id);
        first_task += 2;
        vs.push_back(json::object{{"version", label}, {"status", status}, {"tasks", d["tasks"]},
                                  {"linkages", d["linkages"]}, {"workflow", json::object{{"priority", "High"}}}});
    }
    return json::object{{"id", id}, {"name", name}, {"description", name + " description"}, {"versions", vs}};
}

std::string test_seed()
{
    json::array t1_wfs;
    t1_wfs.push_back(seed_workflow(11, "Alpha", {{"0.0.1", "Inactive"}, {"0.0.9", "Active"}, {"0.0.10", "Inactive"}}, 100));
    t1_wfs.push_back(seed_workflow(12, "Beta", {{"0.0.1", "Active"}}, 200));
    t1_wfs.push_back(seed_workflow(13, "Gamma", {{"0.0.1", "Inactive"}}, 300));
    t1_wfs.push_back(seed_workflow(14, "Delta", {{"1.0.0", "Active"}}, 400));
    t1_wfs.push_back(seed_workflow(15, "Epsilon", {{"0.1.0", "Active"}}, 500));
    json::object seed{{"tenants",
                       json::object{{"t1", json::object{{"client_id", "id-1"},
                                                        {"client_secret", "secret-1"},
                                                        {"bearer_token", "static-token-1"},
                                                        {"page_length_max", 3},
                                                        {"workflows", t1_wfs}}},
                                    {"t2", json::object{{"client_id", "id-2"},
                                                        {"client_secret", "secret-2"},
                                                        {"list_shape", "bare"},
                                                        {"workflows", json::array{seed_workflow(
                                                                          11, "Alpha", {{"0.0.1", "Active"}}, 100)}}}}}}};
    return json::serialize(seed);
}

struct emulator_fixture {
    asio::io_context ioc;
    asio::executor_work_guard<asio::io_context::executor_type> guard{ioc.get_executor()};
    emulator::emulator emu{ioc.get_executor(), {}};
    std::thread runner;
    client c;

    emulator_fixture()
    {
        auto seeded = emu.load_seed(test_seed());
        BOOST_TEST_REQUIRE(!seeded.has_error(), (seeded.has_error() ? seeded.error().message : ""));
        auto started = emu.start();
        BOOST_TEST_REQUIRE(!started.has_error(), (started.has_error() ? started.error().message : ""));
        auto url = emu.base_url();
        c.port = static_cast<std::uint16_t>(std::stoi(url.substr(url.rfind(':') + 1)));
        runner = std::thread([this] { ioc.run(); });
    }
    ~emulator_fixture()
    {
        asio::post(ioc, [this] { emu.stop(); });
        guard.reset();
        ioc.stop();
        runner.join();
    }

    /// Logs in to `tenant` and keeps the token on the client.
    void login(const std::string& tenant = "t1")
    {
        auto n = tenant.substr(1);
        auto r = c.send("POST", "/t/" + tenant + "/oauth/token",
                        "client_id=id-" + n + "&client_secret=secret-" + n + "&grant_type=client_credentials", {},
                        "application/x-www-form-urlencoded");
        BOOST_TEST_REQUIRE(r.status == 200, r.body);
        c.token = std::string(r.json().at("access_token").as_string());
    }

    json::array versions(const std::string& tenant, std::int64_t id)
    {
        auto state = emu.state(tenant);
        for (const auto& w : state.at("workflows").as_array())
            if (w.at("id").as_int64() == id) return w.at("versions").as_array();
        return {};
    }
};

std::set<std::int64_t> task_ids(const json::value& export_doc)
{
    std::set<std::int64_t> out;
    for (const auto& t : export_doc.at("tasks").as_array()) out.insert(t.at("id").as_int64());
    return out;
}

}  // namespace

// ---- pure helpers ----------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(version_labels_compare_numerically_per_part)
{
    using emulator::detail::compare_versions;
    using emulator::detail::next_patch;
    using emulator::detail::parse_version;
    BOOST_TEST(compare_versions(*parse_version("0.0.10"), *parse_version("0.0.9")) > 0);
    BOOST_TEST(compare_versions(*parse_version("0.1"), *parse_version("0.0.99")) > 0);
    BOOST_TEST(compare_versions(*parse_version("1.0"), *parse_version("1.0.0")) == 0);
    BOOST_TEST(!parse_version("1..2"));
    BOOST_TEST(!parse_version("v1"));
    BOOST_TEST(!parse_version(""));
    BOOST_TEST(!parse_version("1.2.x"));
    BOOST_TEST(next_patch("0.0.9") == "0.0.10");
    BOOST_TEST(next_patch("2.3") == "2.4");
}

BOOST_AUTO_TEST_CASE(seed_errors_name_the_place)
{
    asio::io_context ioc;
    emulator::emulator emu(ioc.get_executor(), {});
    auto bad = [&](const std::string& text, const std::string& expected) {
        auto r = emu.load_seed(text);
        BOOST_TEST_REQUIRE(r.has_error(), text);
        BOOST_TEST(r.error().message.find(expected) != std::string::npos, r.error().message);
    };
    bad("{", "invalid JSON");
    bad(R"({"tenants": []})", "'tenants' must be an object");
    bad(R"({"tenants": {"a": {"client_id": "x"}}})", "tenants.a: needs client_id and client_secret");
    bad(R"({"tenants": {"a": {"bearer_token": "tok", "colour": 1}}})", "tenants.a: unknown key 'colour'");
    bad(R"({"tenants": {"a": {"bearer_token": "tok", "workflows": [{"id": 1, "name": "W",
         "versions": [{"version": "0.0.1"}, {"version": "zero"}]}]}}})",
        "tenants.a.workflows[0].versions[1].version: 'zero' is not a version number");
    bad(R"({"tenants": {"a": {"bearer_token": "tok", "list_shape": "flat"}}})", "tenants.a.list_shape");
    bad(R"({"tenants": {"a": {"bearer_token": "tok", "workflows": [{"id": 1, "name": "W",
         "versions": [{"version": "0.0.1", "status": "Active"}, {"version": "0.0.2", "status": "Active"}]}]}}})",
        "more than one version is Active");
    // A failed load changes nothing.
    BOOST_TEST(emu.state("a").at("workflows").as_array().empty());
}

BOOST_AUTO_TEST_CASE(demo_seed_is_valid_and_realistic)
{
    asio::io_context ioc;
    emulator::emulator emu(ioc.get_executor(), {});
    auto text = test::read_file(WFSYNC_EMULATOR_DEMO_SEED);
    BOOST_TEST_REQUIRE(!text.empty());
    auto r = emu.load_seed(text);
    BOOST_TEST_REQUIRE(!r.has_error(), (r.has_error() ? r.error().message : ""));
    auto sandbox = emu.state("sandbox").at("workflows").as_array();
    BOOST_TEST_REQUIRE(sandbox.size() == 4u);
    std::set<std::string> names;
    for (const auto& w : sandbox) {
        names.insert(std::string(w.at("name").as_string()));
        auto n = w.at("versions").as_array().size();
        BOOST_TEST((n >= 1 && n <= 3));
    }
    BOOST_TEST(names.count("Usage Upload (draft)") == 1u);
    auto prod = emu.state("prod").at("workflows").as_array();
    BOOST_TEST_REQUIRE(prod.size() == 1u);
    BOOST_TEST(prod[0].at("name").as_string() == "Invoice Sync");
    BOOST_TEST(prod[0].at("versions").as_array().size() == 1u);
}

// ---- over loopback ---------------------------------------------------------------------

BOOST_FIXTURE_TEST_CASE(token_flow_and_authentication, emulator_fixture)
{
    auto bad = c.send("POST", "/t/t1/oauth/token", "client_id=id-1&client_secret=wrong&grant_type=client_credentials",
                      {}, "application/x-www-form-urlencoded");
    BOOST_TEST(bad.status == 401);
    BOOST_TEST(bad.json().at("success") == false);
    BOOST_TEST(bad.json().at("reasons").at(0).at("code") == 90000011);
    BOOST_TEST(bad.message() == "invalid credentials");

    BOOST_TEST(c.get("/t/t1/workflows").status == 401);
    auto none = c.get("/t/t1/workflows");
    BOOST_TEST(none.message() == "Authentication error");

    auto tok = c.send("POST", "/t/t1/oauth/token", "client_id=id-1&client_secret=secret-1&grant_type=client_credentials",
                      {}, "application/x-www-form-urlencoded");
    BOOST_TEST_REQUIRE(tok.status == 200);
    auto tj = tok.json().as_object();
    BOOST_TEST(tj.at("token_type") == "bearer");
    BOOST_TEST(tj.at("expires_in") == 3600);
    BOOST_TEST(tj.contains("scope"));
    BOOST_TEST(tj.contains("jti"));
    c.token = std::string(tj.at("access_token").as_string());
    BOOST_TEST(c.get("/t/t1/workflows").status == 200);
    // A token is only good for its own tenant.
    BOOST_TEST(c.get("/t/t2/workflows").status == 401);

    // The static bearer token of the seed works too.
    BOOST_TEST(c.get("/t/t1/workflows", {{"Authorization", "Bearer static-token-1"}}).status == 200);

    BOOST_TEST_REQUIRE(!emu.expire_tokens("t1").has_error());
    BOOST_TEST(c.get("/t/t1/workflows").status == 401);
    BOOST_TEST(c.get("/t/t1/workflows", {{"Authorization", "Bearer static-token-1"}}).status == 401);
    login();
    BOOST_TEST(c.get("/t/t1/workflows").status == 200);

    // Over the control API as well.
    BOOST_TEST(c.send("POST", "/_emulator/tenants/t1/expire-tokens").status == 200);
    BOOST_TEST(c.get("/t/t1/workflows").status == 401);

    BOOST_TEST(c.get("/t/nope/workflows").status == 404);
}

BOOST_FIXTURE_TEST_CASE(token_expires_after_its_ttl, emulator_fixture)
{
    auto seed = R"({"tenants": {"short": {"client_id": "a", "client_secret": "b", "token_ttl_seconds": 1}}})";
    BOOST_TEST_REQUIRE(!emu.load_seed(seed).has_error());
    auto tok = c.send("POST", "/t/short/oauth/token", "client_id=a&client_secret=b&grant_type=client_credentials", {},
                      "application/x-www-form-urlencoded");
    BOOST_TEST_REQUIRE(tok.status == 200);
    BOOST_TEST(tok.json().at("expires_in") == 1);
    c.token = std::string(tok.json().at("access_token").as_string());
    BOOST_TEST(c.get("/t/short/workflows").status == 200);
    int status = 200;
    for (int i = 0; i < 60 && status == 200; ++i) {  // bounded poll: the token lives 1 s
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        status = c.get("/t/short/workflows").status;
    }
    BOOST_TEST(status == 401);
}

BOOST_FIXTURE_TEST_CASE(list_pages_through_next_page, emulator_fixture)
{
    login();
    std::vector<std::int64_t> ids;
    std::string target = "/t/t1/workflows?page=1&page_length=2";
    int pages = 0;
    while (!target.empty() && pages < 10) {
        auto r = c.get(target);
        BOOST_TEST_REQUIRE(r.status == 200, r.body);
        auto body = r.json().as_object();
        ++pages;
        BOOST_TEST(body.at("pagination").at("page") == pages);
        BOOST_TEST(body.at("pagination").at("page_length") == 2);
        for (const auto& w : body.at("data").as_array()) {
            ids.push_back(w.at("id").as_int64());
            BOOST_TEST(w.at("latest_version").is_string());
        }
        const auto& next = body.at("pagination").at("next_page");
        if (next.is_null()) break;
        std::string url(next.as_string());
        BOOST_TEST_REQUIRE(url.rfind(emu.tenant_url("t1"), 0) == 0u, url);
        target = url.substr(emu.base_url().size());
    }
    BOOST_TEST(pages == 3);
    BOOST_TEST(ids == (std::vector<std::int64_t>{11, 12, 13, 14, 15}), boost::test_tools::per_element());

    // The first item in full.
    auto first = c.get("/t/t1/workflows?page=1&page_length=1").json().at("data").at(0).as_object();
    BOOST_TEST(first.at("name") == "Alpha");
    BOOST_TEST(first.at("status") == "Active");
    BOOST_TEST(first.at("active_version").at("version") == "0.0.9");
    BOOST_TEST(first.at("latest_version") == "0.0.10");  // numeric, not text, order

    // page_length is capped at the tenant's page_length_max (3).
    auto capped = c.get("/t/t1/workflows?page_length=50").json();
    BOOST_TEST(capped.at("data").as_array().size() == 3u);
    BOOST_TEST(capped.at("pagination").at("page_length") == 3);
    auto bad = c.get("/t/t1/workflows?page=0");
    BOOST_TEST(bad.status == 400);
    BOOST_TEST(bad.message().find("page must be a positive integer") != std::string::npos);
}

BOOST_FIXTURE_TEST_CASE(bare_list_shape, emulator_fixture)
{
    login("t2");
    auto r = c.get("/t/t2/workflows");
    BOOST_TEST_REQUIRE(r.status == 200);
    BOOST_TEST_REQUIRE(r.json().is_array());
    BOOST_TEST(r.json().as_array().size() == 1u);
    BOOST_TEST(r.json().at(0).at("name") == "Alpha");
}

BOOST_FIXTURE_TEST_CASE(versions_and_export, emulator_fixture)
{
    login();
    auto vs = c.get("/t/t1/workflows/11/versions");
    BOOST_TEST_REQUIRE(vs.status == 200);
    auto data = vs.json().at("data").as_array();
    BOOST_TEST_REQUIRE(data.size() == 3u);
    BOOST_TEST(data[2].at("version") == "0.0.10");
    BOOST_TEST(data[1].at("status") == "Active");
    BOOST_TEST(data[0].at("type") == "Workflow::Setup");

    auto active = c.get("/t/t1/workflows/11/export");
    BOOST_TEST_REQUIRE(active.status == 200);
    auto a = active.json();
    BOOST_TEST(a.at("workflow").at("version") == "0.0.9");
    BOOST_TEST(a.at("workflow").at("id") == 11);
    BOOST_TEST(a.at("workflow").at("name") == "Alpha");
    BOOST_TEST(a.at("workflow").at("type") == "Workflow::Setup");
    BOOST_TEST(a.at("workflow").at("priority") == "High");  // extra fields kept
    BOOST_TEST(a.at("tasks").as_array().size() == 2u);
    BOOST_TEST(a.at("linkages").at(0).at("source_workflow_id") == 11);

    BOOST_TEST(c.get("/t/t1/workflows/11/export?version=active").json().at("workflow").at("version") == "0.0.9");
    BOOST_TEST(c.get("/t/t1/workflows/11/export?version=latest").json().at("workflow").at("version") == "0.0.10");
    auto exact = c.get("/t/t1/workflows/11/export?version=0.0.1").json();
    BOOST_TEST(exact.at("workflow").at("version") == "0.0.1");
    BOOST_TEST(exact.at("workflow").at("status") == "Inactive");
    BOOST_TEST(task_ids(exact) == (std::set<std::int64_t>{100, 101}), boost::test_tools::per_element());

    auto missing_version = c.get("/t/t1/workflows/11/export?version=0.0.5");
    BOOST_TEST(missing_version.status == 404);
    BOOST_TEST(missing_version.json().at("success") == false);
    BOOST_TEST(c.get("/t/t1/workflows/999/export").status == 404);
    auto bad = c.get("/t/t1/workflows/11/export?version=newest");
    BOOST_TEST(bad.status == 400);
    BOOST_TEST(bad.message().find("invalid version 'newest'") != std::string::npos);
    // Gamma has no active version.
    BOOST_TEST(c.get("/t/t1/workflows/13/export").status == 404);
    BOOST_TEST(c.get("/t/t1/workflows/13/export?version=latest").status == 200);
}

BOOST_FIXTURE_TEST_CASE(import_version_checks_and_renumbers, emulator_fixture)
{
    login();
    const std::string path = "/t/t1/workflows/12/versions/import";
    auto lower = c.post(path + "?version=0.0.1", doc("Beta", "0.0.1", {5, 6}));
    BOOST_TEST(lower.status == 400);
    BOOST_TEST(lower.message().find("version must be greater") != std::string::npos, lower.body);
    BOOST_TEST(c.post(path, doc("Beta", "0.0.2", {5, 6})).status == 400);  // ?version= is required
    BOOST_TEST(c.post(path + "?version=two", doc("Beta", "0.0.2", {5, 6})).status == 400);
    auto malformed = c.send("POST", path + "?version=0.0.2", "{\"workflow\": ");
    BOOST_TEST(malformed.status == 400);
    BOOST_TEST(malformed.message().find("invalid JSON") != std::string::npos, malformed.body);
    auto dangling = doc("Beta", "0.0.2", {5, 6});
    dangling["linkages"].as_array().push_back(linkage("Success", nullptr, 6, 77));
    auto dr = c.post(path + "?version=0.0.2", dangling);
    BOOST_TEST(dr.status == 400);
    BOOST_TEST(dr.message().find("target_task_id 77") != std::string::npos, dr.body);
    BOOST_TEST(versions("t1", 12).size() == 1u);  // nothing was added by the refused imports

    auto ok = c.post(path + "?version=0.0.2&activate=true", doc("Beta renamed", "0.0.2", {5, 6, 7}, 4242));
    BOOST_TEST_REQUIRE(ok.status == 200, ok.body);
    auto body = ok.json();
    BOOST_TEST(body.at("id") == 12);
    BOOST_TEST(body.at("name") == "Beta renamed");
    BOOST_TEST(body.at("status") == "Active");
    BOOST_TEST(body.at("active_version").at("version") == "0.0.2");
    BOOST_TEST(body.as_object().contains("createdAt"));
    BOOST_TEST(body.as_object().contains("updatedAt"));

    auto vs = versions("t1", 12);
    BOOST_TEST_REQUIRE(vs.size() == 2u);
    BOOST_TEST(vs[0].at("status") == "Inactive");
    BOOST_TEST(vs[1].at("status") == "Active");
    BOOST_TEST(vs[1].at("tasks_count") == 3);

    auto exported = c.get("/t/t1/workflows/12/export?version=latest").json();
    auto ids = task_ids(exported);
    BOOST_TEST(ids.size() == 3u);
    for (auto id : ids) BOOST_TEST(id >= 100000);  // t1's own range, not the document's 5, 6, 7
    const auto& links = exported.at("linkages").as_array();
    BOOST_TEST_REQUIRE(links.size() == 3u);
    BOOST_TEST(links[0].at("source_workflow_id") == 12);  // rewritten from 4242
    BOOST_TEST(links[0].at("target_task_id") == exported.at("tasks").at(0).at("id"));
    BOOST_TEST(links[1].at("source_task_id") == exported.at("tasks").at(0).at("id"));
    BOOST_TEST(links[1].at("target_task_id") == exported.at("tasks").at(1).at("id"));
    BOOST_TEST(links[2].at("target_task_id") == exported.at("tasks").at(2).at("id"));
    BOOST_TEST(exported.at("tasks").at(2).at("name") == "Beta renamed step 3");

    // activate=false adds an inactive version and keeps the active one.
    auto next = c.post(path + "?version=0.0.10&activate=false", doc("Beta renamed", "x", {1}));
    BOOST_TEST_REQUIRE(next.status == 200, next.body);
    BOOST_TEST(next.json().at("active_version").at("version") == "0.0.2");
    BOOST_TEST(c.post(path + "?version=0.0.9", doc("Beta renamed", "x", {1})).status == 400);  // 0.0.9 < 0.0.10
}

BOOST_FIXTURE_TEST_CASE(import_creates_definitions_with_tenant_ids, emulator_fixture)
{
    login();
    auto r = c.post("/t/t1/workflows/import?version=0.0.3&activate=true", doc("Brand New", "0.0.1", {849, 850}));
    BOOST_TEST_REQUIRE(r.status == 200, r.body);
    auto body = r.json();
    BOOST_TEST(body.at("workflow").at("name") == "Brand New");
    BOOST_TEST(body.at("workflow").at("version") == "0.0.3");
    auto new_id = body.at("workflow").at("id").as_int64();
    BOOST_TEST(new_id >= 100000);
    BOOST_TEST(body.at("tasks").as_array().size() == 2u);
    BOOST_TEST(task_ids(body).count(849) == 0u);
    BOOST_TEST(body.at("linkages").at(0).at("source_workflow_id") == new_id);

    auto list = c.get("/t/t1/workflows?page_length=3&page=2").json().at("data").as_array();
    BOOST_TEST_REQUIRE(list.size() == 3u);
    BOOST_TEST(list[2].at("id") == new_id);
    BOOST_TEST(list[2].at("active_version").at("version") == "0.0.3");

    // Version from the body when ?version= is absent; tenants allocate from different ranges.
    login("t2");
    auto r2 = c.post("/t/t2/workflows/import", doc("Brand New", "0.0.7", {849, 850}));
    BOOST_TEST_REQUIRE(r2.status == 200, r2.body);
    BOOST_TEST(r2.json().at("workflow").at("version") == "0.0.7");
    BOOST_TEST(r2.json().at("workflow").at("id").as_int64() >= 200000);
    auto nameless = doc("", "0.0.1", {1});
    BOOST_TEST(c.post("/t/t2/workflows/import", nameless).status == 400);
}

BOOST_FIXTURE_TEST_CASE(idempotency_keys_replay_conflict_and_mismatch, emulator_fixture)
{
    login();
    const std::string path = "/t/t1/workflows/12/versions/import?version=0.0.2";
    auto first = c.post(path, doc("Beta", "0.0.2", {1, 2}), {{"Idempotency-Key", "key-1"}});
    BOOST_TEST_REQUIRE(first.status == 200, first.body);
    BOOST_TEST(first.header("idempotent-replayed").empty());
    auto second = c.post(path, doc("Beta", "0.0.2", {1, 2}), {{"Idempotency-Key", "key-1"}});
    BOOST_TEST(second.status == 200);
    BOOST_TEST(second.header("idempotent-replayed") == "true");
    BOOST_TEST(second.body == first.body);
    BOOST_TEST(versions("t1", 12).size() == 2u);  // one version created, not two

    // Another path with the same key.
    auto other = c.post("/t/t1/workflows/13/versions/import?version=0.0.2", doc("Gamma", "0.0.2", {1}),
                        {{"Idempotency-Key", "key-1"}});
    BOOST_TEST(other.status == 422);
    BOOST_TEST(other.json().at("success") == false);
    BOOST_TEST(versions("t1", 13).size() == 1u);

    // A failed first answer is stored too.
    auto refused = c.post("/t/t1/workflows/12/versions/import?version=0.0.1", doc("Beta", "0.0.1", {1}),
                          {{"Idempotency-Key", "key-2"}});
    BOOST_TEST(refused.status == 400);
    auto refused_again = c.post("/t/t1/workflows/12/versions/import?version=0.0.1", doc("Beta", "0.0.1", {1}),
                                {{"Idempotency-Key", "key-2"}});
    BOOST_TEST(refused_again.status == 400);
    BOOST_TEST(refused_again.header("idempotent-replayed") == "true");

    // Keys are per tenant: t2 has never seen key-1.
    login("t2");
    auto t2 = c.post("/t/t2/workflows/11/versions/import?version=0.0.2", doc("Alpha", "0.0.2", {1}),
                     {{"Idempotency-Key", "key-1"}});
    BOOST_TEST(t2.status == 200);
    BOOST_TEST(t2.header("idempotent-replayed").empty());

    // The log says which answer was replayed.
    auto log = emu.requests("t1");
    int replayed = 0;
    for (const auto& e : log)
        if (e.at("replayed").as_bool()) ++replayed;
    BOOST_TEST(replayed == 2);
}

BOOST_FIXTURE_TEST_CASE(idempotency_conflict_while_first_in_progress, emulator_fixture)
{
    login();
    BOOST_TEST_REQUIRE(!emu.add_fault(json::object{{"kind", "latency"}, {"delay_ms", 1500},
                                                   {"path_contains", "/versions/import"}})
                            .has_error());
    const std::string path = "/t/t1/workflows/12/versions/import?version=0.0.2";
    client slow = c;
    auto first = std::async(std::launch::async, [&] {
        return slow.post(path, doc("Beta", "0.0.2", {1, 2}), {{"Idempotency-Key", "slow-key"}});
    });
    bool seen = false;  // bounded poll until the first request is being served
    for (int i = 0; i < 400 && !seen; ++i) {
        for (const auto& e : emu.requests("t1"))
            if (e.at("idempotency_key") == "slow-key") seen = true;
        if (!seen) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    BOOST_TEST_REQUIRE(seen);
    auto during = c.post(path, doc("Beta", "0.0.2", {1, 2}), {{"Idempotency-Key", "slow-key"}});
    BOOST_TEST(during.status == 409, during.body);
    auto done = first.get();
    BOOST_TEST(done.status == 200, done.body);
    auto after = c.post(path, doc("Beta", "0.0.2", {1, 2}), {{"Idempotency-Key", "slow-key"}});
    BOOST_TEST(after.status == 200);
    BOOST_TEST(after.header("idempotent-replayed") == "true");
    BOOST_TEST(versions("t1", 12).size() == 2u);
    auto log = emu.requests("t1");
    BOOST_TEST(log.back().at("replayed") == true);
    bool latency_logged = false;
    for (const auto& e : log)
        if (e.at("fault") == "latency") latency_logged = true;
    BOOST_TEST(latency_logged);
}

BOOST_FIXTURE_TEST_CASE(status_faults_fire_count_times_after_skip, emulator_fixture)
{
    login();
    auto added = c.post("/_emulator/faults", json::object{{"tenant", "t1"}, {"method", "GET"},
                                                          {"path_contains", "/workflows"}, {"kind", "status"},
                                                          {"status", 503}, {"retry_after", "1"},
                                                          {"rate_limit_reset", 2}, {"count", 2}, {"skip", 1}});
    BOOST_TEST_REQUIRE(added.status == 200, added.body);
    BOOST_TEST(c.get("/t/t1/workflows").status == 200);  // skipped
    auto f1 = c.get("/t/t1/workflows");
    BOOST_TEST(f1.status == 503);
    BOOST_TEST(f1.header("retry-after") == "1");
    BOOST_TEST(f1.header("ratelimit-reset") == "2");
    BOOST_TEST(f1.json().at("success") == false);
    BOOST_TEST(c.get("/t/t1/workflows").status == 503);
    BOOST_TEST(c.get("/t/t1/workflows").status == 200);  // count used up
    BOOST_TEST(c.get("/_emulator/faults").json().as_array().empty());

    // Other tenants and methods are untouched; faults are matched in insertion order.
    BOOST_TEST_REQUIRE(!emu.add_fault(json::object{{"kind", "status"}, {"status", 429}, {"tenant", "t1"}}).has_error());
    BOOST_TEST_REQUIRE(!emu.add_fault(json::object{{"kind", "status"}, {"status", 500}, {"tenant", "t1"}}).has_error());
    BOOST_TEST(c.get("/t/t1/workflows").status == 429);
    BOOST_TEST(c.get("/t/t1/workflows").status == 500);
    BOOST_TEST(c.get("/t/t1/workflows").status == 200);

    auto bad = c.post("/_emulator/faults", json::object{{"kind", "explode"}});
    BOOST_TEST(bad.status == 400);
    BOOST_TEST(bad.message().find("'explode'") != std::string::npos);
    BOOST_TEST(emu.add_fault(json::object{{"kind", "status"}, {"cout", 2}}).has_error());
    BOOST_TEST(c.send("DELETE", "/_emulator/faults").status == 200);
}

BOOST_FIXTURE_TEST_CASE(probability_faults_fire_about_as_often_as_said_and_replay_by_seed, emulator_fixture)
{
    login();
    auto storm = [&](std::uint64_t seed) {
        emu.clear_faults();
        BOOST_TEST_REQUIRE(!emu.add_fault(json::object{{"tenant", "t1"}, {"kind", "status"}, {"status", 503},
                                                       {"probability", 0.3}, {"seed", seed}, {"count", 1000}})
                                .has_error());
        std::string fired;
        for (int i = 0; i < 400; ++i) fired += c.get("/t/t1/workflows").status == 503 ? '1' : '0';
        return fired;
    };
    auto before = emu.request_count();
    auto a = storm(7);
    BOOST_TEST(emu.request_count() == before + 400);
    auto n = std::count(a.begin(), a.end(), '1');
    BOOST_TEST(n > 80);   // 400 * 0.3 = 120
    BOOST_TEST(n < 160);
    BOOST_TEST(storm(7) == a);  // the same seed, the same firings
    BOOST_TEST(storm(8) != a);
    BOOST_TEST(emu.add_fault(json::object{{"kind", "status"}, {"probability", 0}}).has_error());
    BOOST_TEST(emu.add_fault(json::object{{"kind", "status"}, {"probability", 1.5}}).has_error());
    BOOST_TEST(emu.add_fault(json::object{{"kind", "status"}, {"seed", "x"}}).has_error());
    emu.clear_faults();
}

BOOST_FIXTURE_TEST_CASE(reset_after_commit_commits_and_key_replays, emulator_fixture)
{
    login();
    BOOST_TEST_REQUIRE(!emu.add_fault(json::object{{"kind", "reset_after_commit"}, {"method", "POST"},
                                                   {"path_contains", "/versions/import"}})
                            .has_error());
    const std::string path = "/t/t1/workflows/12/versions/import?version=0.0.2";
    auto lost = c.post(path, doc("Beta", "0.0.2", {1, 2}), {{"Idempotency-Key", "k"}});
    BOOST_TEST(lost.ec.failed());
    BOOST_TEST(versions("t1", 12).size() == 2u);  // committed although no answer came
    auto retry = c.post(path, doc("Beta", "0.0.2", {1, 2}), {{"Idempotency-Key", "k"}});
    BOOST_TEST(retry.status == 200);
    BOOST_TEST(retry.header("idempotent-replayed") == "true");
    BOOST_TEST(versions("t1", 12).size() == 2u);
    auto log = emu.requests("t1");
    BOOST_TEST(log[log.size() - 2].at("fault") == "reset_after_commit");
    BOOST_TEST(log[log.size() - 2].at("status") == 200);

    // reset_before: nothing is done.
    BOOST_TEST_REQUIRE(!emu.add_fault(json::object{{"kind", "reset_before"}, {"method", "POST"}}).has_error());
    auto reset = c.post("/t/t1/workflows/12/versions/import?version=0.0.3", doc("Beta", "0.0.3", {1}));
    BOOST_TEST(reset.ec.failed());
    BOOST_TEST(versions("t1", 12).size() == 2u);

    // close: no answer either.
    BOOST_TEST_REQUIRE(!emu.add_fault(json::object{{"kind", "close"}, {"method", "GET"}}).has_error());
    BOOST_TEST(c.get("/t/t1/workflows").ec.failed());

    // truncate: the real answer, cut in half.
    BOOST_TEST_REQUIRE(!emu.add_fault(json::object{{"kind", "truncate"}, {"method", "GET"}}).has_error());
    auto cut = c.get("/t/t1/workflows/11/export");
    BOOST_TEST(cut.ec.failed());
    BOOST_TEST(c.get("/t/t1/workflows/11/export").status == 200);
}

BOOST_FIXTURE_TEST_CASE(request_log_records_every_request, emulator_fixture)
{
    login();
    emu.clear_requests();
    login();
    auto token = c.token;
    c.get("/t/t1/workflows?page=1&page_length=2", {{"Zuora-Track-Id", "run-42"}, {"X-Custom", "Mixed Case"}});
    c.post("/t/t1/workflows/12/versions/import?version=0.0.2", doc("Beta", "0.0.2", {1}), {{"Idempotency-Key", "abc"}});
    login("t2");
    c.get("/t/t2/workflows");

    auto all = emu.requests();
    BOOST_TEST_REQUIRE(all.size() == 5u);
    BOOST_TEST(all[0].at("path") == "/t/t1/oauth/token");
    BOOST_TEST(all[0].at("method") == "POST");
    BOOST_TEST(all[0].at("status") == 200);
    auto list = all[1].as_object();
    BOOST_TEST(list.at("tenant") == "t1");
    BOOST_TEST(list.at("path") == "/t/t1/workflows");
    BOOST_TEST(list.at("query") == "page=1&page_length=2");
    BOOST_TEST(list.at("headers").at("authorization").as_string() == "Bearer " + token);
    BOOST_TEST(list.at("headers").at("zuora-track-id") == "run-42");
    BOOST_TEST(list.at("headers").at("x-custom") == "Mixed Case");
    BOOST_TEST(list.at("idempotency_key") == "");
    BOOST_TEST(list.at("replayed") == false);
    BOOST_TEST(list.at("fault") == "");
    BOOST_TEST(all[2].at("idempotency_key") == "abc");
    BOOST_TEST(all[2].at("status") == 200);
    BOOST_TEST(all[1].at("seq").as_int64() < all[2].at("seq").as_int64());

    BOOST_TEST(emu.requests("t2").size() == 2u);
    auto over_http = c.get("/_emulator/requests?tenant=t2").json().as_array();
    BOOST_TEST(over_http.size() == 2u);
    BOOST_TEST(over_http[1].at("path") == "/t/t2/workflows");
    BOOST_TEST(c.send("DELETE", "/_emulator/requests").status == 200);
    BOOST_TEST(emu.requests().empty());
}

BOOST_FIXTURE_TEST_CASE(control_api_adds_versions_and_reports_state, emulator_fixture)
{
    login();
    auto exported = c.get("/t/t1/workflows/12/export").json().as_object();
    exported["tasks"].as_array().push_back(task(exported["tasks"].at(1).at("id").as_int64() + 1000, "Added in the UI"));
    // The document still says 0.0.1: the edit gets the next version.
    auto added = c.post("/_emulator/tenants/t1/workflows/12/versions", exported);
    BOOST_TEST_REQUIRE(added.status == 200, added.body);
    BOOST_TEST(added.json().at("version") == "0.0.2");
    auto state = c.get("/_emulator/tenants/t1/state").json();
    const auto& beta = state.at("workflows").at(1);
    BOOST_TEST(beta.at("name") == "Beta");
    BOOST_TEST_REQUIRE(beta.at("versions").as_array().size() == 2u);
    BOOST_TEST(beta.at("versions").at(1).at("version") == "0.0.2");
    BOOST_TEST(beta.at("versions").at(1).at("tasks_count") == 3);
    BOOST_TEST(beta.at("versions").at(1).at("status") == "Active");  // the document was the active one
    BOOST_TEST(beta.at("versions").at(1).at("tasks").at(2).at("name") == "Added in the UI");

    // Direct access, with a version named in the document.
    auto d = doc("Beta", "0.0.10", {1});
    d["workflow"].as_object()["status"] = "Inactive";
    auto label = emu.add_version("t1", "12", d);
    BOOST_TEST_REQUIRE(!label.has_error(), (label.has_error() ? label.error().message : ""));
    BOOST_TEST(*label == "0.0.10");
    BOOST_TEST(c.get("/t/t1/workflows/12/export?version=latest").json().at("workflow").at("version") == "0.0.10");
    BOOST_TEST(emu.add_version("t1", "999", d).has_error());
    BOOST_TEST(c.post("/_emulator/tenants/nope/workflows/12/versions", d).status == 404);
    BOOST_TEST(c.get("/_emulator/nothing").status == 404);
}

BOOST_FIXTURE_TEST_CASE(gzip_responses_track_id_and_gzip_requests, emulator_fixture)
{
    login();
    // Make a big workflow: > 1000 bytes of export.
    std::vector<std::int64_t> ids;
    for (int i = 1; i <= 30; ++i) ids.push_back(i);
    auto big = doc("Big", "0.0.1", ids);
    auto created = c.post("/t/t1/workflows/import?activate=true", big);
    BOOST_TEST_REQUIRE(created.status == 200);
    auto id = std::to_string(created.json().at("workflow").at("id").as_int64());

    auto plain = c.get("/t/t1/workflows/" + id + "/export");
    BOOST_TEST_REQUIRE(plain.status == 200);
    BOOST_TEST(plain.body.size() > 1000u);
    BOOST_TEST(plain.header("content-encoding").empty());

    auto zipped = c.get("/t/t1/workflows/" + id + "/export", {{"Accept-Encoding", "gzip"}, {"Zuora-Track-Id", "trk-1"}});
    BOOST_TEST_REQUIRE(zipped.status == 200);
    BOOST_TEST(zipped.header("content-encoding") == "gzip");
    BOOST_TEST(zipped.header("zuora-track-id") == "trk-1");
    auto inflated = gzip_decompress(zipped.body, 1u << 20);
    BOOST_TEST_REQUIRE(!inflated.has_error());
    BOOST_TEST(*inflated == plain.body);

    // Small answers stay plain.
    auto small = c.get("/t/t1/workflows/" + id + "/versions", {{"Accept-Encoding", "gzip"}});
    BOOST_TEST(small.body.size() < 1000u);
    BOOST_TEST(small.header("content-encoding").empty());

    // A gzip request body is inflated before the import reads it.
    auto gz = c.send("POST", "/t/t1/workflows/" + id + "/versions/import?version=0.0.2",
                     gzip_compress(json::serialize(doc("Big", "0.0.2", {1, 2}))), {{"Content-Encoding", "gzip"}});
    BOOST_TEST(gz.status == 200, gz.body);
}

// ---- HTTPS, with the project's own client ----------------------------------------------

BOOST_AUTO_TEST_CASE(serves_https_with_the_given_certificate)
{
    test::temp_dir dir;
    auto certs = test::make_test_certs(dir.path());
    asio::io_context ioc;
    emulator::options o;
    o.cert_file = certs.cert_file;
    o.key_file = certs.key_file;
    emulator::emulator emu(ioc.get_executor(), o);
    BOOST_TEST_REQUIRE(!emu.load_seed(test_seed()).has_error());
    auto started = emu.start();
    BOOST_TEST_REQUIRE(!started.has_error(), (started.has_error() ? started.error().message : ""));
    BOOST_TEST(emu.base_url().rfind("https://127.0.0.1:", 0) == 0u, emu.base_url());

    net::client_settings cs;
    cs.base_url = emu.tenant_url("t1");
    cs.ca_file = certs.ca_file;
    cs.max_attempts = 1;
    net::http_client http(ioc.get_executor(), cs);
    auto body = test::run_coro(ioc, [&]() -> awaitable<std::string> {
        net::http_request login;
        login.method = "POST";
        login.target = "/oauth/token";
        login.body = "client_id=id-1&client_secret=secret-1&grant_type=client_credentials";
        login.content_type = "application/x-www-form-urlencoded";
        auto tok = co_await http.send(login);
        if (!tok || tok->status != 200) co_return std::string("login failed");
        auto token = json::parse(tok->body).at("access_token").as_string();
        net::http_request list;
        list.target = "/workflows?page=1&page_length=2";
        list.headers.set("Authorization", "Bearer " + std::string(token));
        auto r = co_await http.send(list);
        co_return r ? r->body : r.error().what();
    }());
    auto v = json::parse(body);
    BOOST_TEST(v.at("data").as_array().size() == 2u);
    http.close();
    emu.stop();
}

// ---- the binary ------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(binary_serves_the_seed_until_sigterm)
{
    test::temp_dir dir;
    auto port_file = dir.file("port");
    test::process p(WFSYNC_EMULATOR_BINARY,
                    {"--seed", WFSYNC_EMULATOR_DEMO_SEED, "--listen", "127.0.0.1:0", "--port-file", port_file}, {},
                    dir.file("out"), dir.file("err"));
    std::string port;
    for (int i = 0; i < 500 && port.empty() && p.running(); ++i) {  // bounded poll for the port file
        port = test::read_file(port_file);
        if (port.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    BOOST_TEST_REQUIRE(!port.empty(), test::read_file(dir.file("err")));
    auto out = test::read_file(dir.file("out"));
    BOOST_TEST(out.rfind("wfsync-emulator listening on http://127.0.0.1:" + port.substr(0, port.size() - 1), 0) == 0u,
               out);
    // What it serves, in the seed's order (scripts/demo repeats this line).
    BOOST_TEST(out.find("\nwfsync-emulator serving 3 tenants: sandbox (zuora, 4 workflows), prod (zuora, 1 workflow), "
                        "staging (zuora, 0 workflows)\n") != std::string::npos,
               out);

    client c;
    c.port = static_cast<std::uint16_t>(std::stoi(port));
    auto tok = c.send("POST", "/t/sandbox/oauth/token",
                      "client_id=demo-sandbox-client&client_secret=demo-sandbox-secret&grant_type=client_credentials",
                      {}, "application/x-www-form-urlencoded");
    BOOST_TEST_REQUIRE(tok.status == 200, tok.body);
    c.token = std::string(tok.json().at("access_token").as_string());
    auto list = c.get("/t/sandbox/workflows");
    BOOST_TEST_REQUIRE(list.status == 200);
    BOOST_TEST(list.json().at("data").as_array().size() == 4u);

    // The same workflow has different task ids in the two tenants.
    auto sandbox_sync = c.get("/t/sandbox/workflows/102/export?version=0.0.1").json();
    auto ptok = c.send("POST", "/t/prod/oauth/token",
                       "client_id=demo-prod-client&client_secret=demo-prod-secret&grant_type=client_credentials", {},
                       "application/x-www-form-urlencoded");
    c.token = std::string(ptok.json().at("access_token").as_string());
    auto prod_list = c.get("/t/prod/workflows").json().at("data").as_array();
    BOOST_TEST_REQUIRE(prod_list.size() == 1u);
    auto prod_id = std::to_string(prod_list[0].at("id").as_int64());
    auto prod_sync = c.get("/t/prod/workflows/" + prod_id + "/export").json();
    BOOST_TEST(prod_sync.at("workflow").at("name") == "Invoice Sync");
    BOOST_TEST(prod_sync.at("workflow").at("version") == "0.0.1");
    BOOST_TEST(prod_sync.at("tasks").as_array().size() == sandbox_sync.at("tasks").as_array().size());
    for (auto id : task_ids(prod_sync)) BOOST_TEST(task_ids(sandbox_sync).count(id) == 0u);

    p.signal(SIGTERM);
    auto code = p.wait_for(std::chrono::seconds(10));
    BOOST_TEST_REQUIRE(code.has_value());
    BOOST_TEST(*code == 0);
}

BOOST_AUTO_TEST_CASE(binary_reports_usage_and_seed_errors)
{
    auto none = test::run_program(WFSYNC_EMULATOR_BINARY, {});
    BOOST_TEST(none.code == 2);
    BOOST_TEST(none.err.find("--seed FILE is required") != std::string::npos, none.err);
    auto unknown = test::run_program(WFSYNC_EMULATOR_BINARY, {"--seed", "x", "--port", "1"});
    BOOST_TEST(unknown.code == 2);
    BOOST_TEST(unknown.err.find("unknown argument '--port'") != std::string::npos, unknown.err);
    auto half = test::run_program(WFSYNC_EMULATOR_BINARY, {"--seed", "x", "--cert", "c.pem"});
    BOOST_TEST(half.code == 2);

    test::temp_dir dir;
    auto missing = test::run_program(WFSYNC_EMULATOR_BINARY, {"--seed", dir.file("nope.json")});
    BOOST_TEST(missing.code == 1);
    BOOST_TEST(missing.err.find(dir.file("nope.json")) != std::string::npos, missing.err);
    auto bad = dir.write("bad.json", R"({"tenants": {"x": {"bearer_token": "t", "page_length_max": 0}}})");
    auto invalid = test::run_program(WFSYNC_EMULATOR_BINARY, {"--seed", bad});
    BOOST_TEST(invalid.code == 1);
    BOOST_TEST(invalid.err.find(bad) != std::string::npos, invalid.err);
    BOOST_TEST(invalid.err.find("tenants.x.page_length_max") != std::string::npos, invalid.err);
}

BOOST_FIXTURE_TEST_CASE(seed_can_be_replaced_while_running, emulator_fixture)
{
    auto seed = R"({"tenants": {"t2": {"bearer_token": "fresh-token", "workflows": [
        {"id": 77, "name": "Only", "versions": [{"version": "0.0.1", "status": "Active",
         "tasks": [{"name": "no id given", "action_type": "Email"}]}]}]}}})";
    auto r = c.send("POST", "/_emulator/seed", seed);
    BOOST_TEST_REQUIRE(r.status == 200, r.body);
    auto list = c.get("/t/t2/workflows", {{"Authorization", "Bearer fresh-token"}});
    BOOST_TEST_REQUIRE(list.status == 200, list.body);
    BOOST_TEST(list.json().at("data").as_array().size() == 1u);  // t2 replaced (and now paged)
    auto exported = c.get("/t/t2/workflows/77/export", {{"Authorization", "Bearer fresh-token"}}).json();
    BOOST_TEST(exported.at("tasks").at(0).at("id").as_int64() >= 200000);  // t2's range is kept
    BOOST_TEST(emu.state("t1").at("workflows").as_array().size() == 5u);   // t1 untouched
    auto bad = c.send("POST", "/_emulator/seed", R"({"tenants": {"t3": {}}})");
    BOOST_TEST(bad.status == 400);
    BOOST_TEST(bad.message().find("tenants.t3") != std::string::npos, bad.body);
    BOOST_TEST(emu.add_version("t1", "abc", doc("x", "0.0.1", {1})).error().code == errc::not_found);
}

// ---- listing detail, update times, edits in place ----------------------------------------

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
    if (s.size() != 24) return false;
    const std::string shape = "dddd-dd-ddTdd:dd:dd.dddZ";
    for (std::size_t i = 0; i < s.size(); ++i)
        if (shape[i] == 'd' ? !std::isdigit(static_cast<unsigned char>(s[i])) : s[i] != shape[i]) return false;
    return true;
}

std::string updated_at(client& c, const std::string& target)
{
    auto r = c.get(target);
    BOOST_TEST_REQUIRE(r.status == 200, r.body);
    return std::string(r.json().at("updatedAt").as_string());
}

}  // namespace

BOOST_AUTO_TEST_CASE(update_stamps_have_milliseconds_and_never_repeat)
{
    using emulator::detail::iso8601_ms;
    using emulator::detail::next_stamp;
    BOOST_TEST(iso8601_ms(0) == "1970-01-01T00:00:00.000Z");
    BOOST_TEST(iso8601_ms(1'795'975'200'123) == "2026-11-29T18:00:00.123Z");
    // The clock has not moved past the last stamp (here: far in the future): last + 1 ms.
    std::int64_t last = 4'102'444'800'000;  // 2100-01-01
    BOOST_TEST(next_stamp(last) == "2100-01-01T00:00:00.001Z");
    BOOST_TEST(next_stamp(last) == "2100-01-01T00:00:00.002Z");
    BOOST_TEST(last == 4'102'444'800'002);
    // Otherwise the clock.
    std::int64_t none = 0;
    auto now = next_stamp(none);
    BOOST_TEST(none > 1'700'000'000'000);
    BOOST_TEST(now == iso8601_ms(none));
}

BOOST_FIXTURE_TEST_CASE(list_detail_full_labels_names_show_the_fields_said, emulator_fixture)
{
    auto seed = [](const std::string& detail) {
        json::object t{{"bearer_token", "tok"}, {"workflows", json::array{seed_workflow(11, "Alpha", {{"0.0.1", "Inactive"}, {"0.0.2", "Active"}}, 100)}}};
        if (!detail.empty()) t["list_detail"] = detail;
        return json::serialize(json::object{{"tenants", json::object{{"d", t}}}});
    };
    const std::set<std::string> names{"id", "name", "description", "status", "type"};
    std::set<std::string> labels = names;
    labels.insert({"active_version", "latest_version"});
    std::set<std::string> full = labels;
    full.insert({"createdAt", "updatedAt"});
    const std::pair<std::string, std::set<std::string>> cases[] = {
        {"", full}, {"full", full}, {"labels", labels}, {"names", names}};
    std::map<std::string, std::string> auth{{"Authorization", "Bearer tok"}};
    for (const auto& [detail, expected] : cases) {
        BOOST_TEST_CONTEXT("list_detail '" << detail << "'")
        {
            auto loaded = emu.load_seed(seed(detail));
            BOOST_TEST_REQUIRE(!loaded.has_error(), (loaded ? "" : loaded.error().message));
            auto list = c.get("/t/d/workflows", auth);
            BOOST_TEST_REQUIRE(list.status == 200, list.body);
            const auto body = list.json();
            const auto& item = body.at("data").at(0);
            BOOST_TEST(keys_of(item) == expected, boost::test_tools::per_element());
            auto one = c.get("/t/d/workflows/11", auth);
            BOOST_TEST_REQUIRE(one.status == 200, one.body);
            BOOST_TEST(keys_of(one.json()) == expected, boost::test_tools::per_element());
            BOOST_TEST(item.at("status") == "Active");
            if (expected.count("latest_version")) {
                BOOST_TEST(item.at("latest_version") == "0.0.2");
                BOOST_TEST(item.at("active_version").at("version") == "0.0.2");
            }
            if (expected.count("updatedAt")) {
                BOOST_TEST(is_ms_stamp(item.at("updatedAt")), item.at("updatedAt"));
                BOOST_TEST(is_ms_stamp(item.at("createdAt")), item.at("createdAt"));
            }
            // An import's answer is the documented definition, in full, whatever list_detail says.
            auto imported = c.post("/t/d/workflows/11/versions/import?version=0.0.3", doc("Alpha", "0.0.3", {1}), auth);
            BOOST_TEST_REQUIRE(imported.status == 200, imported.body);
            BOOST_TEST(keys_of(imported.json()) == full, boost::test_tools::per_element());
        }
    }
    auto bad = emu.load_seed(R"({"tenants": {"a": {"bearer_token": "tok", "list_detail": "all"}}})");
    BOOST_TEST_REQUIRE(bad.has_error());
    BOOST_TEST(bad.error().message.find("tenants.a.list_detail: 'all' must be 'full', 'labels' or 'names'") !=
                   std::string::npos,
               bad.error().message);
    auto not_string = emu.load_seed(R"({"tenants": {"a": {"bearer_token": "tok", "list_detail": 1}}})");
    BOOST_TEST_REQUIRE(not_string.has_error());
    BOOST_TEST(not_string.error().message.find("tenants.a.list_detail") != std::string::npos);
}

BOOST_FIXTURE_TEST_CASE(update_times_strictly_increase_with_every_change, emulator_fixture)
{
    login();
    const std::string beta = "/t/t1/workflows/12";
    auto seeded = updated_at(c, beta);
    BOOST_TEST(is_ms_stamp(json::value(seeded)), seeded);
    // Changes one right after the other, most of them within one millisecond: each moves the
    // time past the one before.
    std::vector<std::string> seen{seeded};
    for (int i = 0; i < 8; ++i) {
        auto d = doc("Beta", "0.0.1", {1, 2});
        BOOST_TEST_REQUIRE(!emu.add_version("t1", "12", d).has_error());
        auto r = emu.edit_version("t1", "12", "0.0.1", d);
        BOOST_TEST_REQUIRE(!r.has_error(), (r ? "" : r.error().message));
    }
    // The in-process calls are not observable one by one; the last one is after the first.
    auto after_burst = updated_at(c, beta);
    BOOST_TEST(after_burst > seeded);
    seen.push_back(after_burst);
    // Observed one change at a time: an import, an edit, an import that renames, an edit.
    BOOST_TEST_REQUIRE(c.post(beta + "/versions/import?version=0.1.0&activate=true", doc("Beta", "0.1.0", {1})).status == 200);
    seen.push_back(updated_at(c, beta));
    BOOST_TEST_REQUIRE(c.send("PUT", "/_emulator/tenants/t1/workflows/12/versions/0.1.0",
                              json::serialize(doc("Beta", "0.1.0", {1, 2, 3}))).status == 200);
    seen.push_back(updated_at(c, beta));
    BOOST_TEST_REQUIRE(c.post(beta + "/versions/import?version=0.1.1", doc("Beta renamed", "0.1.1", {1})).status == 200);
    seen.push_back(updated_at(c, beta));
    BOOST_TEST_REQUIRE(!emu.edit_version("t1", "12", "0.1.1", doc("Beta renamed", "x", {4})).has_error());
    seen.push_back(updated_at(c, beta));
    for (std::size_t i = 1; i < seen.size(); ++i) {
        BOOST_TEST(is_ms_stamp(json::value(seen[i])), seen[i]);
        BOOST_TEST(seen[i] > seen[i - 1], seen[i - 1] << " then " << seen[i]);
    }
    // createdAt stays; the listing shows the same time as the definition.
    auto listed = c.get("/t/t1/workflows?name=Beta%20renamed").json().at("data").at(0);
    BOOST_TEST(listed.at("updatedAt").as_string() == seen.back());
    BOOST_TEST(listed.at("createdAt").as_string() == seeded);
    // A new definition's createdAt is its first version's stamp, later than everything before.
    auto created = c.post("/t/t1/workflows/import", doc("Brand new", "0.0.1", {1}));
    BOOST_TEST_REQUIRE(created.status == 200, created.body);
    auto id = created.json().at("workflow").at("id").as_int64();
    auto def = c.get("/t/t1/workflows/" + std::to_string(id)).json();
    BOOST_TEST(def.at("createdAt") == def.at("updatedAt"));
    BOOST_TEST(std::string(def.at("createdAt").as_string()) > seen.back());
}

BOOST_FIXTURE_TEST_CASE(update_times_go_on_increasing_across_a_reload, emulator_fixture)
{
    // Push the tenant's last stamp ahead of the clock, then reload it: the seeded time is
    // still later than every stamp before.
    for (int i = 0; i < 30; ++i)
        BOOST_TEST_REQUIRE(!emu.edit_version("t1", "12", "0.0.1", doc("Beta", "0.0.1", {1})).has_error());
    login();
    auto before = updated_at(c, "/t/t1/workflows/12");
    BOOST_TEST_REQUIRE(!emu.load_seed(test_seed()).has_error());
    login();
    BOOST_TEST(updated_at(c, "/t/t1/workflows/12") > before);
}

BOOST_FIXTURE_TEST_CASE(edit_version_replaces_a_version_in_place, emulator_fixture)
{
    login();
    const std::string alpha = "/t/t1/workflows/11";
    auto before_def = c.get(alpha).json();
    auto before_state = versions("t1", 11);
    auto before_export = c.get(alpha + "/export?version=0.0.9").json();

    // The active version 0.0.9 gets three tasks with the document's own ids and a new
    // workflow field; the document's version and status are not taken.
    auto d = doc("Alpha", "7.7.7", {1, 2, 3});
    d["workflow"].as_object()["priority"] = "Low";
    d["workflow"].as_object()["status"] = "Inactive";
    auto r = emu.edit_version("t1", "11", "0.0.9", d);
    BOOST_TEST_REQUIRE(!r.has_error(), (r ? "" : r.error().message));

    auto after = c.get(alpha + "/export?version=0.0.9").json();
    BOOST_TEST(after != before_export);
    BOOST_TEST(after.at("workflow").at("version") == "0.0.9");
    BOOST_TEST(after.at("workflow").at("status") == "Active");
    BOOST_TEST(after.at("workflow").at("priority") == "Low");
    BOOST_TEST(after.at("workflow").at("id") == 11);
    BOOST_TEST_REQUIRE(after.at("tasks").as_array().size() == 3u);
    auto ids = task_ids(after);
    for (auto old : {1, 2, 3}) BOOST_TEST(ids.count(old) == 0u);  // renumbered as add_version does
    const auto& links = after.at("linkages").as_array();
    BOOST_TEST(links.at(0).at("source_workflow_id") == 11);
    BOOST_TEST(ids.count(links.at(0).at("target_task_id").as_int64()) == 1u);
    BOOST_TEST(ids.count(links.at(2).at("source_task_id").as_int64()) == 1u);
    BOOST_TEST(c.get(alpha + "/export").json() == after);  // still the active one

    // Labels, version ids and statuses are as before; only tasks_count shows the edit.
    auto after_state = versions("t1", 11);
    BOOST_TEST_REQUIRE(after_state.size() == before_state.size());
    for (std::size_t i = 0; i < after_state.size(); ++i) {
        BOOST_TEST(after_state[i].at("id") == before_state[i].at("id"));
        BOOST_TEST(after_state[i].at("version") == before_state[i].at("version"));
        BOOST_TEST(after_state[i].at("status") == before_state[i].at("status"));
    }
    BOOST_TEST(after_state[1].at("tasks_count") == 3);
    // The definition: same labels, same active version, a later update time.
    auto after_def = c.get(alpha).json();
    BOOST_TEST(after_def.at("active_version") == before_def.at("active_version"));
    BOOST_TEST(after_def.at("latest_version") == "0.0.10");
    BOOST_TEST(after_def.at("createdAt") == before_def.at("createdAt"));
    BOOST_TEST(std::string(after_def.at("updatedAt").as_string()) > std::string(before_def.at("updatedAt").as_string()));
    // Other versions are untouched.
    BOOST_TEST(task_ids(c.get(alpha + "/export?version=0.0.1").json()) == (std::set<std::int64_t>{100, 101}),
               boost::test_tools::per_element());

    // A label is found numerically, and the answer names the stored label.
    auto put = c.send("PUT", "/_emulator/tenants/t1/workflows/11/versions/0.0.010", json::serialize(doc("Alpha", "", {5})));
    BOOST_TEST_REQUIRE(put.status == 200, put.body);
    BOOST_TEST(put.json() == json::parse(R"({"success":true,"version":"0.0.10"})"));
    BOOST_TEST(c.get(alpha + "/export?version=latest").json().at("tasks").as_array().size() == 1u);
    BOOST_TEST(c.get(alpha).json().at("latest_version") == "0.0.10");

    // A name in the document renames the definition, as an import does.
    BOOST_TEST_REQUIRE(!emu.edit_version("t1", "11", "0.0.1", doc("Alpha 2", "0.0.1", {1})).has_error());
    BOOST_TEST(c.get(alpha).json().at("name") == "Alpha 2");

    // Errors: unknown tenant, workflow or version (404); a bad document (400) changes nothing.
    auto unchanged = c.get(alpha + "/export?version=0.0.9").json();
    auto code_of = [](const result<void>& x) { return x ? errc{} : x.error().code; };
    BOOST_TEST((code_of(emu.edit_version("t1", "11", "0.0.5", d)) == errc::not_found));
    BOOST_TEST((code_of(emu.edit_version("t1", "11", "newest", d)) == errc::not_found));
    BOOST_TEST((code_of(emu.edit_version("t1", "999", "0.0.1", d)) == errc::not_found));
    BOOST_TEST((code_of(emu.edit_version("t1", "abc", "0.0.1", d)) == errc::not_found));
    BOOST_TEST((code_of(emu.edit_version("nope", "11", "0.0.1", d)) == errc::not_found));
    auto no_tasks = d;
    no_tasks["tasks"] = "none";
    BOOST_TEST((code_of(emu.edit_version("t1", "11", "0.0.9", no_tasks)) == errc::invalid_argument));
    auto dangling = d;
    dangling["linkages"].as_array().push_back(linkage("Success", nullptr, 1, 42));
    BOOST_TEST((code_of(emu.edit_version("t1", "11", "0.0.9", dangling)) == errc::invalid_argument));
    BOOST_TEST(c.get(alpha + "/export?version=0.0.9").json() == unchanged);

    const std::string ctl = "/_emulator/tenants/t1/workflows/11/versions/";
    BOOST_TEST(c.send("PUT", ctl + "0.0.5", json::serialize(d)).status == 404);
    BOOST_TEST(c.send("PUT", "/_emulator/tenants/t1/workflows/999/versions/0.0.1", json::serialize(d)).status == 404);
    BOOST_TEST(c.send("PUT", "/_emulator/tenants/nope/workflows/11/versions/0.0.1", json::serialize(d)).status == 404);
    auto bad = c.send("PUT", ctl + "0.0.9", json::serialize(dangling));
    BOOST_TEST(bad.status == 400);
    BOOST_TEST(bad.message().find("is not the id of a task") != std::string::npos, bad.body);
    BOOST_TEST(c.send("PUT", ctl + "0.0.9", "not json").status == 400);
    BOOST_TEST(c.get(alpha + "/export?version=0.0.9").json() == unchanged);
}

BOOST_FIXTURE_TEST_CASE(an_edit_in_place_is_invisible_in_a_names_listing, emulator_fixture)
{
    // What list_detail "names" is for: the listing cannot tell an edited workflow apart.
    json::object t{{"bearer_token", "tok"},
                   {"list_detail", "names"},
                   {"workflows", json::array{seed_workflow(11, "Alpha", {{"0.0.1", "Active"}}, 100)}}};
    BOOST_TEST_REQUIRE(!emu.load_seed(json::serialize(json::object{{"tenants", json::object{{"n", t}}}})).has_error());
    std::map<std::string, std::string> auth{{"Authorization", "Bearer tok"}};
    auto before = c.get("/t/n/workflows", auth).json();
    auto export_before = c.get("/t/n/workflows/11/export", auth).json();
    BOOST_TEST_REQUIRE(!emu.edit_version("n", "11", "0.0.1", doc("Alpha", "0.0.1", {1, 2, 3})).has_error());
    BOOST_TEST(c.get("/t/n/workflows", auth).json() == before);
    BOOST_TEST(c.get("/t/n/workflows/11/export", auth).json() != export_before);
}
