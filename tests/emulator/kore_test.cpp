// SPDX-License-Identifier: Apache-2.0
// The emulator's Kore.ai tenants over real loopback HTTP (tests/emulator/README.md, section
// Kore.ai), driven with the generic http_client, never with connector code.
#define BOOST_TEST_MODULE wfsync_emulator_kore
#include <boost/test/unit_test.hpp>

#include "emulator.hpp"

#include <support/run_coro.hpp>

#include <wfsync/core/json.hpp>
#include <wfsync/core/zip.hpp>
#include <wfsync/net/http_client.hpp>
#include <wfsync/net/multipart.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <fmt/format.h>

#include <set>

using namespace wfsync;
using namespace std::chrono_literals;
namespace json = boost::json;
namespace asio = boost::asio;
using wfsync::test::run_coro;

namespace {

const std::string key = "kg-test-key-000111";

std::string seed(int job_ms, const std::string& host, const std::string& spelling = "sample",
                 const std::string& package = "normal", const std::string& switches = "")
{
    return fmt::format(R"({{"tenants":{{"k":{{"platform":"kore","api_key":"{}","job_duration_ms":{},
        "download_host":"{}","spelling":"{}",{}
        "workflows":[{{"id":"a-1","flow_id":"cf-1","name":"Banking Assistant","package":"{}",
          "versions":[{{"flow_definition":{{"nodes":[{{"id":"n1","type":"ai"}}]}},
                        "app_definition":{{"version":"v1","name":"Banking Assistant"}},
                        "env_variables":{{"REGION":"eu"}}}}]}}]}}}}}})",
                       key, job_ms, host, spelling, switches, package);
}

/// A seed with the default job/host/spelling/package and the given switches ("k": v, ...).
std::string seed_with(const std::string& switches)
{
    return seed(0, "same", "sample", "normal", switches + ",");
}

struct raw_reply {
    int status = 0;
    std::string retry_after;
    std::string body;
};

/// One request over a fresh connection, read as it comes (the http_client would retry a 429
/// and hide its headers).
awaitable<raw_reply> raw_send(std::uint16_t port, std::string method, std::string target, std::string body)
{
    namespace beast = boost::beast;
    namespace http = boost::beast::http;
    beast::tcp_stream stream(co_await asio::this_coro::executor);
    stream.expires_after(std::chrono::seconds(10));
    co_await stream.async_connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port),
                                  asio::use_awaitable);
    http::request<http::string_body> req(http::string_to_verb(method), target, 11);
    req.set(http::field::host, "127.0.0.1");
    req.set("x-api-key", key);
    req.set(http::field::content_type, "application/json");
    req.body() = std::move(body);
    req.prepare_payload();
    co_await http::async_write(stream, req, asio::use_awaitable);
    beast::flat_buffer buf;
    http::response<http::string_body> res;
    co_await http::async_read(stream, buf, res, asio::use_awaitable);
    raw_reply out;
    out.status = static_cast<int>(res.result_int());
    if (auto it = res.find(http::field::retry_after); it != res.end()) out.retry_after = std::string(it->value());
    out.body = res.body();
    co_return out;
}

struct fixture {
    asio::io_context ioc;
    emulator::emulator emu{ioc.get_executor(), {}};
    std::unique_ptr<net::http_client> client;

    void start(const std::string& seed_text)
    {
        auto s = emu.load_seed(seed_text);
        BOOST_TEST_REQUIRE(s.has_value(), (s ? "" : s.error().message));
        auto st = emu.start();
        BOOST_TEST_REQUIRE(st.has_value(), (st ? "" : st.error().message));
        net::client_settings cs;
        cs.base_url = emu.tenant_url("k");
        cs.max_attempts = 1;
        cs.rate_per_second = 0;
        client = std::make_unique<net::http_client>(ioc.get_executor(), cs);
    }
    ~fixture() { emu.stop(); }

    net::http_response send(std::string method, std::string target, std::string body = {},
                            std::string content_type = "application/json", bool with_key = true,
                            std::string absolute = {})
    {
        net::http_request req;
        req.method = std::move(method);
        req.target = std::move(target);
        req.body = std::move(body);
        req.content_type = std::move(content_type);
        req.absolute_url = std::move(absolute);
        if (with_key) req.headers.set("x-api-key", key);
        auto r = try_send(std::move(req));
        BOOST_TEST_REQUIRE(r.has_value(), (r ? "" : r.error().message));
        return std::move(*r);
    }

    result<net::http_response> try_send(net::http_request req)
    {
        return run_coro(ioc, client->send(std::move(req)));
    }

    json::value send_json(std::string method, std::string target, std::string body = {}, int want = 200)
    {
        auto r = send(std::move(method), std::move(target), std::move(body));
        BOOST_TEST_REQUIRE(r.status == want, r.body);
        return json::parse(r.body);
    }

    void pause(std::chrono::milliseconds d)
    {
        // A bounded wait on the io_context (the emulator keeps serving meanwhile).
        run_coro(ioc, [](std::chrono::milliseconds d) -> awaitable<void> {
            asio::steady_timer t(co_await asio::this_coro::executor);
            t.expires_after(d);
            co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
        }(d));
    }

    std::string upload(const std::string& filename, const std::string& data, const std::string& context = "bulkImport")
    {
        auto mp = net::make_multipart({{"file", filename, "application/json", data}, {"fileContext", "", "", context}});
        auto r = send("POST", "/api/public/files", mp.body, mp.content_type);
        BOOST_TEST_REQUIRE(r.status == 200, r.body);
        return std::string(json::parse(r.body).at("fileId").as_string());
    }

    /// Uploads the three documents and imports them: into `workflow_id`, or as a new
    /// workflow `new_name` when workflow_id is empty. Returns the job answer.
    json::value import_docs(const std::string& workflow_id, const json::value& app, const json::value& flow,
                            const json::value& env, const std::string& new_name = "Imported")
    {
        json::object body{{"workflowDataFileId", upload("app_definition.json", json::serialize(app))},
                          {"flowDataFileId", upload("flow_definition.json", json::serialize(flow))},
                          {"envVariablesFileId", upload("env_variables.json", json::serialize(env))}};
        if (workflow_id.empty()) body["workflowName"] = new_name;
        auto target = workflow_id.empty() ? std::string("/api/public/workflows/import")
                                          : "/api/public/workflows/" + workflow_id + "/import";
        return send_json("POST", target, json::serialize(body));
    }

    /// Exports `workflow_id` (jobs of duration 0) and returns the package's files as JSON.
    std::map<std::string, json::value> export_docs(const std::string& workflow_id)
    {
        auto started = send_json("POST", "/api/public/workflows/" + workflow_id + "/export");
        std::string url(started.at("response").at("downloadUrl").as_string());
        auto dl = send("GET", {}, {}, {}, true, url.substr(1));
        BOOST_TEST_REQUIRE(dl.status == 200, dl.body);
        auto files = unzip(dl.body);
        BOOST_TEST_REQUIRE(files.has_value());
        std::map<std::string, json::value> out;
        for (const auto& [name, data] : *files) out[name] = json::parse(data);
        return out;
    }

    std::uint16_t port() const
    {
        auto url = emu.base_url();
        return static_cast<std::uint16_t>(std::stoi(url.substr(url.rfind(':') + 1)));
    }

    std::vector<json::object> logged(const std::string& path_part)
    {
        std::vector<json::object> out;
        for (const auto& e : emu.requests("k"))
            if (e.at("path").as_string().find(path_part) != json::string::npos) out.push_back(e.as_object());
        return out;
    }
};

std::string status_of(const json::value& v) { return std::string(v.at("status").as_string()); }

}  // namespace

BOOST_FIXTURE_TEST_SUITE(kore_emulator, fixture)

BOOST_AUTO_TEST_CASE(api_key_is_required)
{
    start(seed(0, "same"));
    auto none = send("GET", "/api/public/dock-status/x", {}, {}, false);
    BOOST_TEST(none.status == 401);
    BOOST_TEST(json::parse(none.body).at("errors").at(0).at("msg").as_string() == "invalid or missing x-api-key");
    auto unknown = send("GET", "/api/public/dock-status/x");
    BOOST_TEST(unknown.status == 404);
}

BOOST_AUTO_TEST_CASE(export_job_runs_for_its_duration_then_downloads)
{
    start(seed(300, "same"));
    auto started = send_json("POST", "/api/public/workflows/a-1/export?flowId=cf-1");
    BOOST_TEST(status_of(started) == "IN_PROGRESS");
    std::string id(started.at("dock-statusId").as_string());
    std::string url(started.at("response").at("downloadUrl").as_string());
    BOOST_TEST(url.starts_with(" " + emu.tenant_url("k") + "/api/v1/account/exports/"), url);
    url = url.substr(1);

    // Not ready yet: 409.
    BOOST_TEST(send("GET", {}, {}, {}, true, url).status == 409);

    int polls = 0, running = 0;
    std::string st;
    for (; polls < 200; ++polls) {
        auto d = send_json("GET", "/api/public/dock-status/" + id);
        BOOST_TEST(d.at("_id").as_string() == id);
        BOOST_TEST(d.at("workflowId").as_string() == "a-1");
        BOOST_TEST(d.at("action").as_string() == "EXPORT");
        st = status_of(d);
        if (st != "IN_PROGRESS") break;
        ++running;
        pause(30ms);
    }
    BOOST_TEST(st == "SUCCESS");
    BOOST_TEST(running >= 3);  // 300 ms at 30 ms per poll
    BOOST_TEST(logged("/dock-status/").size() == std::size_t(polls + 1));

    auto dl = send("GET", {}, {}, {}, true, url);
    BOOST_TEST_REQUIRE(dl.status == 200);
    auto files = unzip(dl.body);
    BOOST_TEST_REQUIRE(files.has_value(), (files ? "" : files.error().message));
    BOOST_TEST(files->size() == 3u);
    BOOST_TEST(json::parse(files->at("app_definition.json")).at("version").as_string() == "v1");
    BOOST_TEST(json::parse(files->at("env_variables.json")).at("REGION").as_string() == "eu");
    BOOST_TEST(json::parse(files->at("flow_definition.json")).at("nodes").at(0).at("id").as_string() == "n1");

    // The own-host download wants the key; a wrong flowId is refused.
    BOOST_TEST(send("GET", {}, {}, {}, false, url).status == 401);
    BOOST_TEST(send("POST", "/api/public/workflows/a-1/export?flowId=cf-9").status == 400);
    BOOST_TEST(send("POST", "/api/public/workflows/a-9/export").status == 404);
}

BOOST_AUTO_TEST_CASE(foreign_download_host_is_another_port_and_needs_no_key)
{
    start(seed(0, "foreign", "table"));
    auto started = send_json("POST", "/api/public/workflows/a-1/export");
    BOOST_TEST(started.at("dockStatusId").is_string());  // table spelling
    BOOST_TEST(started.at("toolId").as_string() == "a-1");
    std::string url(started.at("downloadURL").as_string());
    BOOST_TEST(!url.starts_with(emu.base_url()), url);
    BOOST_TEST(url.find("/t/k/download/") != std::string::npos, url);
    BOOST_TEST(url.find("?sig=") != std::string::npos, url);

    auto dl = send("GET", {}, {}, {}, false, url);
    BOOST_TEST_REQUIRE(dl.status == 200, dl.body);
    BOOST_TEST(unzip(dl.body).has_value());
    auto unsigned_url = url.substr(0, url.find('?'));
    BOOST_TEST(send("GET", {}, {}, {}, false, unsigned_url).status == 403);
    // The API is not served on the download listener.
    auto port_end = url.find("/t/k/");
    BOOST_TEST(send("GET", {}, {}, {}, true, url.substr(0, port_end) + "/t/k/api/public/dock-status/x").status == 404);

    auto downloads = logged("/download/");
    BOOST_TEST_REQUIRE(downloads.size() == 2u);
    for (const auto& e : downloads) {
        BOOST_TEST(e.at("listener").as_string() == "foreign");
        BOOST_TEST(!e.at("headers").as_object().contains("x-api-key"));
    }
    BOOST_TEST(logged("/export").at(0).at("listener").as_string() == "main");
}

BOOST_AUTO_TEST_CASE(upload_and_import_into_existing_and_new)
{
    start(seed(0, "same"));
    auto app = upload("app_definition.json", R"({"version":"v2","name":"BA"})");
    auto flow = upload("flow_definition.json", R"({"nodes":[]})");
    auto env = upload("env_variables.json", R"({"REGION":"us"})");
    auto body = json::serialize(json::object{{"workflowDataFileId", app}, {"flowDataFileId", flow}, {"envVariablesFileId", env}});
    auto done = send_json("POST", "/api/public/workflows/a-1/import", body);
    BOOST_TEST(status_of(done) == "SUCCESS");  // job_duration_ms 0
    BOOST_TEST(done.at("workflowId").as_string() == "a-1");
    BOOST_TEST(done.at("action").as_string() == "IMPORT");
    auto state = emu.state("k");
    const auto& versions = state.at("workflows").at(0).at("versions").as_array();
    BOOST_TEST_REQUIRE(versions.size() == 2u);
    BOOST_TEST(versions.at(1).at("version").as_string() == "v2");
    BOOST_TEST(versions.at(1).at("env").at("REGION").as_string() == "us");

    // The fields take this emulator's mapping: a flow file under workflowDataFileId is refused.
    auto swapped = json::serialize(json::object{{"workflowDataFileId", flow}, {"flowDataFileId", app}, {"envVariablesFileId", env}});
    auto bad = send("POST", "/api/public/workflows/a-1/import", swapped);
    BOOST_TEST(bad.status == 400);
    BOOST_TEST(bad.body.find("expected app_definition.json") != std::string::npos, bad.body);
    // Existing: env file required; new: workflowName required.
    auto no_env = json::serialize(json::object{{"workflowDataFileId", app}, {"flowDataFileId", flow}});
    BOOST_TEST(send("POST", "/api/public/workflows/a-1/import", no_env).status == 400);
    BOOST_TEST(send("POST", "/api/public/workflows/import", no_env).status == 400);

    auto created = send_json("POST", "/api/public/workflows/import",
                             json::serialize(json::object{{"workflowDataFileId", app}, {"flowDataFileId", flow},
                                                          {"workflowName", "Copy of BA"}}));
    std::string new_id(created.at("workflowId").as_string());
    BOOST_TEST(new_id != "a-1");
    auto after = emu.state("k");
    BOOST_TEST_REQUIRE(after.at("workflows").as_array().size() == 2u);
    BOOST_TEST(after.at("workflows").at(1).at("id").as_string() == new_id);
    BOOST_TEST(after.at("workflows").at(1).at("name").as_string() == "Copy of BA");

    // Uploads need fileContext=bulkImport.
    auto mp = net::make_multipart({{"file", "x.json", "", "{}"}, {"fileContext", "", "", "chat"}});
    BOOST_TEST(send("POST", "/api/public/files", mp.body, mp.content_type).status == 400);
}

BOOST_AUTO_TEST_CASE(import_job_stores_the_version_only_at_success)
{
    start(seed(200, "same"));
    auto app = upload("app_definition.json", R"({"version":"v5"})");
    auto flow = upload("flow_definition.json", "{}");
    auto env = upload("env_variables.json", "{}");
    auto body = json::serialize(json::object{{"workflowDataFileId", app}, {"flowDataFileId", flow}, {"envVariablesFileId", env}});
    auto started = send_json("POST", "/api/public/workflows/a-1/import", body);
    BOOST_TEST(status_of(started) == "IN_PROGRESS");
    BOOST_TEST(emu.state("k").at("workflows").at(0).at("versions").as_array().size() == 1u);
    std::string id(started.at("dockStatusId").as_string());
    std::string st = "IN_PROGRESS";
    for (int i = 0; i < 100 && st == "IN_PROGRESS"; ++i) {
        pause(20ms);
        st = status_of(send_json("GET", "/api/public/dock-status/" + id));
    }
    BOOST_TEST(st == "SUCCESS");
    BOOST_TEST(emu.state("k").at("workflows").at(0).at("versions").as_array().size() == 2u);
}

BOOST_AUTO_TEST_CASE(job_failed_fault_ends_the_job_failed)
{
    start(seed(0, "same"));
    auto f = emu.add_fault(json::object{{"tenant", "k"}, {"path_contains", "/export"}, {"kind", "job_failed"}});
    BOOST_TEST_REQUIRE(f.has_value());
    auto started = send_json("POST", "/api/public/workflows/a-1/export");
    std::string id(started.at("dock-statusId").as_string());
    BOOST_TEST(status_of(send_json("GET", "/api/public/dock-status/" + id)) == "FAILED");
    std::string url(started.at("response").at("downloadUrl").as_string());
    BOOST_TEST(send("GET", {}, {}, {}, true, url.substr(1)).status == 410);
    BOOST_TEST(logged("/export").at(0).at("fault").as_string() == "job_failed");
}

BOOST_AUTO_TEST_CASE(broken_packages_are_served_as_asked)
{
    start(seed(0, "same", "sample", "dotdot"));
    auto dl = [&] {
        auto started = send_json("POST", "/api/public/workflows/a-1/export");
        std::string url(started.at("response").at("downloadUrl").as_string());
        return send("GET", {}, {}, {}, true, url.substr(1));
    };
    auto dotdot = dl();
    BOOST_TEST(dotdot.body.find("../flow_definition.json") != std::string::npos);
    BOOST_TEST(unzip(dotdot.body).has_error());

    BOOST_TEST_REQUIRE(emu.load_seed(seed(0, "same", "sample", "missing_env")).has_value());
    auto missing = unzip(dl().body);
    BOOST_TEST_REQUIRE(missing.has_value());
    BOOST_TEST(missing->count("env_variables.json") == 0u);
    BOOST_TEST(missing->size() == 2u);

    BOOST_TEST_REQUIRE(emu.load_seed(seed(0, "same", "sample", "not_zip")).has_value());
    auto html = dl();
    BOOST_TEST(html.status == 200);
    BOOST_TEST(html.body.starts_with("<html>"));

    BOOST_TEST_REQUIRE(emu.load_seed(seed(0, "same", "sample", "bomb")).has_value());
    auto bomb = dl();
    BOOST_TEST(bomb.body.size() < (1u << 20));
    auto r = unzip(bomb.body);
    BOOST_TEST_REQUIRE(r.has_error());
    BOOST_TEST((r.error().code == errc::body_too_large));
}

BOOST_AUTO_TEST_CASE(seed_errors_name_the_path)
{
    auto bad_key = emu.load_seed(R"({"tenants":{"k":{"platform":"kore","api_key":"x","colour":"red"}}})");
    BOOST_TEST_REQUIRE(bad_key.has_error());
    BOOST_TEST(bad_key.error().message.find("tenants.k: unknown key 'colour'") != std::string::npos, bad_key.error().message);
    auto no_key = emu.load_seed(R"({"tenants":{"k":{"platform":"kore"}}})");
    BOOST_TEST_REQUIRE(no_key.has_error());
    BOOST_TEST(no_key.error().message.find("tenants.k.api_key: is required") != std::string::npos);
    auto bad_pkg = emu.load_seed(R"({"tenants":{"k":{"platform":"kore","api_key":"x","workflows":[{"id":"a","package":"zip"}]}}})");
    BOOST_TEST_REQUIRE(bad_pkg.has_error());
    BOOST_TEST(bad_pkg.error().message.find("tenants.k.workflows[0].package") != std::string::npos);
}

// ---- seed switches ---------------------------------------------------------------------------

namespace {

// A package whose ids refer to each other within and across its three documents.
const json::value src_app = json::parse(
    R"({"appId":"app-src-1","name":"BA","version":{"label":"v7","number":7},"startNodeId":"n1",
        "guardrails":[{"_id":"g-1","kind":"pii"}]})");
const json::value src_flow = json::parse(
    R"({"flowId":"flow-src","nodes":[
          {"id":"n1","type":"start","next":"n2"},
          {"id":"n2","type":"ai","next":["n3","n4"],"config":{"model_id":"m-1","prompt":"n1 says hi"}},
          {"id":"n3","type":"condition","branches":[{"when":"x>1","target":"n4"}]},
          {"id":"n4","type":"end","nodeId":"n4"}],
        "edges":[{"from":"n1","to":"n2"},{"from":"n2","to":"n3"}]})");
const json::value src_env = json::parse(R"({"REGION":"us","env_id":"env-src","START":"n1"})");

std::string str(const json::value& v) { return std::string(v.as_string()); }

}  // namespace

BOOST_AUTO_TEST_CASE(import_ids_restamp_gives_own_ids_and_references_follow)
{
    start(seed_with(R"("import_ids":"restamp")"));
    auto done = import_docs("a-1", src_app, src_flow, src_env);
    BOOST_TEST_REQUIRE(status_of(done) == "SUCCESS");
    auto state = emu.state("k");
    const auto& versions = state.at("workflows").at(0).at("versions").as_array();
    BOOST_TEST_REQUIRE(versions.size() == 2u);
    const auto& v = versions.at(1);
    const auto& app = v.at("app");
    const auto& flow = v.at("flow");
    const auto& env = v.at("env");
    const auto& nodes = flow.at("nodes").as_array();
    BOOST_TEST_REQUIRE(nodes.size() == 4u);

    // Every id is new, tenant-made, and distinct.
    std::vector<std::string> ids{str(app.at("appId")),         str(app.at("guardrails").at(0).at("_id")),
                                 str(flow.at("flowId")),        str(nodes[0].at("id")),
                                 str(nodes[1].at("id")),        str(nodes[2].at("id")),
                                 str(nodes[3].at("id")),        str(nodes[1].at("config").at("model_id")),
                                 str(env.at("env_id"))};
    const std::set<std::string> old{"app-src-1", "g-1", "flow-src", "n1", "n2", "n3", "n4", "m-1", "env-src"};
    for (const auto& id : ids) {
        BOOST_TEST(!old.contains(id), id);
        BOOST_TEST(id.starts_with("n-k-"), id);
    }
    BOOST_TEST(std::set<std::string>(ids.begin(), ids.end()).size() == ids.size());

    // References by value follow, inside the flow and across documents.
    BOOST_TEST(nodes[0].at("next") == nodes[1].at("id"));
    BOOST_TEST(nodes[1].at("next").at(0) == nodes[2].at("id"));
    BOOST_TEST(nodes[1].at("next").at(1) == nodes[3].at("id"));
    BOOST_TEST(nodes[2].at("branches").at(0).at("target") == nodes[3].at("id"));
    BOOST_TEST(nodes[3].at("nodeId") == nodes[3].at("id"));
    BOOST_TEST(flow.at("edges").at(0).at("from") == nodes[0].at("id"));
    BOOST_TEST(flow.at("edges").at(1).at("to") == nodes[2].at("id"));
    BOOST_TEST(app.at("startNodeId") == nodes[0].at("id"));
    BOOST_TEST(env.at("START") == nodes[0].at("id"));
    // Anything else is left as it was (a string merely containing an id too).
    BOOST_TEST(nodes[1].at("config").at("prompt").as_string() == "n1 says hi");
    BOOST_TEST(env.at("REGION").as_string() == "us");
    BOOST_TEST(nodes[0].at("type").as_string() == "start");

    // The target's own label: second version of a-1.
    BOOST_TEST(v.at("version").as_string() == "v2");
    BOOST_TEST(app.at("version").at("label").as_string() == "v2");
    BOOST_TEST(app.at("version").at("number").as_int64() == 2);

    // A second import of the same package gets other ids again; a string version becomes "v1"
    // in a workflow created by the import.
    auto app2 = src_app;
    app2.as_object()["version"] = "7.0";
    auto created = import_docs("", app2, src_flow, src_env, "Copy of BA");
    auto after = emu.state("k");
    const auto& nw = after.at("workflows").at(1);
    BOOST_TEST(nw.at("id") == created.at("workflowId"));
    const auto& v1 = nw.at("versions").at(0);
    BOOST_TEST(v1.at("version").as_string() == "v1");
    BOOST_TEST(v1.at("app").at("version").as_string() == "v1");
    BOOST_TEST(v1.at("flow").at("nodes").at(0).at("id") != nodes[0].at("id"));
    BOOST_TEST(v1.at("flow").at("nodes").at(0).at("next") == v1.at("flow").at("nodes").at(1).at("id"));

    // The export serves the restamped documents.
    auto files = export_docs("a-1");
    BOOST_TEST(files.at("flow_definition.json") == flow);
    BOOST_TEST(files.at("app_definition.json").at("version").at("label").as_string() == "v2");
}

BOOST_AUTO_TEST_CASE(import_ids_keep_stores_documents_as_uploaded)
{
    start(seed_with(R"("import_ids":"keep")"));
    import_docs("a-1", src_app, src_flow, src_env);
    auto state = emu.state("k");
    const auto& v = state.at("workflows").at(0).at("versions").at(1);
    BOOST_TEST(v.at("app") == src_app);
    BOOST_TEST(v.at("flow") == src_flow);
    BOOST_TEST(v.at("env") == src_env);
    BOOST_TEST(v.at("version").as_string() == "v2");  // the app's version is an object: "v{n}"
}

BOOST_AUTO_TEST_CASE(import_deploys_false_keeps_exporting_the_deployed_version)
{
    start(seed_with(R"("import_deploys":false)"));
    auto env_of = [](const json::value& region) { return json::value(json::object{{"REGION", region}}); };
    auto done = import_docs("a-1", json::parse(R"({"version":"v2"})"), json::object{}, env_of("us"));
    BOOST_TEST(status_of(done) == "SUCCESS");
    auto state = emu.state("k");
    const auto& wf = state.at("workflows").at(0);
    BOOST_TEST_REQUIRE(wf.at("versions").as_array().size() == 2u);
    BOOST_TEST(wf.at("deployed").as_uint64() == 0u);
    BOOST_TEST(wf.at("versions").at(0).at("deployed").as_bool());
    BOOST_TEST(!wf.at("versions").at(1).at("deployed").as_bool());
    // The export still returns the seeded (deployed) version.
    BOOST_TEST(export_docs("a-1").at("env_variables.json").at("REGION").as_string() == "eu");

    // A person's edit is deployed.
    json::object edit{{"app_definition", {{"version", "v3"}}}, {"env_variables", env_of("ap")}};
    auto label = emu.add_version("k", "a-1", edit);
    BOOST_TEST_REQUIRE(label.has_value(), (label ? "" : label.error().message));
    BOOST_TEST(*label == "v3");
    BOOST_TEST(emu.state("k").at("workflows").at(0).at("deployed").as_uint64() == 2u);
    BOOST_TEST(export_docs("a-1").at("env_variables.json").at("REGION").as_string() == "ap");
    BOOST_TEST(emu.add_version("k", "a-9", json::object{}).has_error());
    BOOST_TEST(emu.add_version("k", "a-1", json::object{{"colour", "red"}}).has_error());

    // A workflow created by import deploys its first version.
    auto created = import_docs("", json::object{}, json::object{}, env_of("sa"), "New one");
    std::string id(created.at("workflowId").as_string());
    BOOST_TEST(emu.state("k").at("workflows").at(1).at("deployed").as_uint64() == 0u);
    BOOST_TEST(export_docs(id).at("env_variables.json").at("REGION").as_string() == "sa");
    // ... and a later import into it does not.
    import_docs(id, json::object{}, json::object{}, env_of("af"));
    BOOST_TEST(export_docs(id).at("env_variables.json").at("REGION").as_string() == "sa");
}

BOOST_AUTO_TEST_CASE(import_deploys_true_exports_the_imported_version)
{
    start(seed(0, "same"));  // the default
    import_docs("a-1", json::object{}, json::object{}, json::object{{"REGION", "us"}});
    auto state = emu.state("k");
    BOOST_TEST(state.at("workflows").at(0).at("deployed").as_uint64() == 1u);
    BOOST_TEST(state.at("workflows").at(0).at("versions").at(1).at("deployed").as_bool());
    BOOST_TEST(export_docs("a-1").at("env_variables.json").at("REGION").as_string() == "us");
}

BOOST_AUTO_TEST_CASE(seed_switch_values_are_checked)
{
    auto ids = emu.load_seed(seed_with(R"("import_ids":"renumber")"));
    BOOST_TEST_REQUIRE(ids.has_error());
    BOOST_TEST(ids.error().message.find("tenants.k.import_ids: must be \"keep\" or \"restamp\"") != std::string::npos,
               ids.error().message);
    auto deploys = emu.load_seed(seed_with(R"("import_deploys":"no")"));
    BOOST_TEST_REQUIRE(deploys.has_error());
    BOOST_TEST(deploys.error().message.find("tenants.k.import_deploys: must be true or false") != std::string::npos,
               deploys.error().message);
    BOOST_TEST(emu.load_seed(seed_with(R"("import_ids":"restamp","import_deploys":false)")).has_value());
}

// ---- faults aimed at one method -------------------------------------------------------------

BOOST_AUTO_TEST_CASE(fault_429_with_retry_after_on_every_post_only)
{
    start(seed(0, "same"));
    BOOST_TEST_REQUIRE(emu.add_fault(json::object{{"tenant", "k"}, {"method", "POST"}, {"kind", "status"},
                                                  {"status", 429}, {"retry_after", 7}, {"count", 100}})
                           .has_value());
    auto a = run_coro(ioc, raw_send(port(), "POST", "/t/k/api/public/workflows/a-1/export", {}));
    BOOST_TEST(a.status == 429);
    BOOST_TEST(a.retry_after == "7");
    auto b = run_coro(ioc, raw_send(port(), "POST", "/t/k/api/public/workflows/import", "{}"));
    BOOST_TEST(b.status == 429);
    BOOST_TEST(b.retry_after == "7");
    auto g = run_coro(ioc, raw_send(port(), "GET", "/t/k/api/public/dock-status/ds-x", {}));
    BOOST_TEST(g.status == 404);  // GETs reach the tenant
    BOOST_TEST(g.retry_after.empty());
    auto log = emu.requests("k");
    BOOST_TEST_REQUIRE(log.size() == 3u);
    BOOST_TEST(log[0].at("fault").as_string() == "status");
    BOOST_TEST(log[1].at("fault").as_string() == "status");
    BOOST_TEST(log[2].at("fault").as_string() == "");
    BOOST_TEST(emu.state("k").at("jobs").as_array().empty());  // no export job started
}

BOOST_AUTO_TEST_CASE(reset_after_commit_on_the_import_post_still_imports)
{
    start(seed(0, "same"));
    auto app = upload("app_definition.json", R"({"version":"v2"})");
    auto flow = upload("flow_definition.json", "{}");
    auto env = upload("env_variables.json", R"({"REGION":"us"})");
    BOOST_TEST_REQUIRE(emu.add_fault(json::object{{"tenant", "k"}, {"method", "POST"}, {"path_contains", "/import"},
                                                  {"kind", "reset_after_commit"}})
                           .has_value());
    net::http_request req;
    req.method = "POST";
    req.target = "/api/public/workflows/a-1/import";
    req.content_type = "application/json";
    req.body = json::serialize(json::object{{"workflowDataFileId", app}, {"flowDataFileId", flow},
                                            {"envVariablesFileId", env}});
    req.headers.set("x-api-key", key);
    auto lost = try_send(std::move(req));
    BOOST_TEST(lost.has_error());  // the client sees a reset ...
    auto state = emu.state("k");   // ... yet the version is stored
    const auto& versions = state.at("workflows").at(0).at("versions").as_array();
    BOOST_TEST_REQUIRE(versions.size() == 2u);
    BOOST_TEST(versions.at(1).at("env").at("REGION").as_string() == "us");
    BOOST_TEST(state.at("jobs").at(0).at("action").as_string() == "IMPORT");
    BOOST_TEST(state.at("jobs").at(0).at("status").as_string() == "SUCCESS");
    BOOST_TEST(logged("/import").at(0).at("fault").as_string() == "reset_after_commit");
}

BOOST_AUTO_TEST_CASE(edit_version_replaces_the_given_documents_in_place)
{
    start(seed(0, "same"));
    auto before = emu.state("k").at("workflows").at(0);
    // Only env_variables given: the other two documents stay.
    auto r = emu.edit_version("k", "a-1", "v1", json::object{{"env_variables", {{"REGION", "us"}}}});
    BOOST_TEST_REQUIRE(r.has_value(), (r ? "" : r.error().message));
    auto docs = export_docs("a-1");
    BOOST_TEST(docs.at("env_variables.json") == json::parse(R"({"REGION":"us"})"));
    BOOST_TEST(docs.at("flow_definition.json") == json::parse(R"({"nodes":[{"id":"n1","type":"ai"}]})"));
    BOOST_TEST(docs.at("app_definition.json").at("name").as_string() == "Banking Assistant");

    // app_definition given with another version string: replaced, but the label stays.
    auto flow = json::parse(R"({"nodes":[{"id":"n1","type":"ai"},{"id":"n2","type":"end"}]})");
    r = emu.edit_version("k", "a-1", "v1",
                         json::object{{"flow_definition", flow}, {"app_definition", {{"version", "v9"}, {"name", "Edited"}}}});
    BOOST_TEST_REQUIRE(r.has_value(), (r ? "" : r.error().message));
    docs = export_docs("a-1");
    BOOST_TEST(docs.at("flow_definition.json") == flow);
    BOOST_TEST(docs.at("app_definition.json").at("name").as_string() == "Edited");
    BOOST_TEST(docs.at("env_variables.json") == json::parse(R"({"REGION":"us"})"));
    auto after = emu.state("k").at("workflows").at(0);
    BOOST_TEST_REQUIRE(after.at("versions").as_array().size() == 1u);
    BOOST_TEST(after.at("versions").at(0).at("version").as_string() == "v1");
    BOOST_TEST(after.at("deployed") == before.at("deployed"));
    BOOST_TEST(after.at("flow_id") == before.at("flow_id"));

    // An undeployed version can be edited too, and stays undeployed.
    BOOST_TEST_REQUIRE(emu.add_version("k", "a-1", json::object{{"app_definition", {{"version", "v2"}}}}).has_value());
    BOOST_TEST_REQUIRE(emu.edit_version("k", "a-1", "v1", json::object{{"env_variables", {{"REGION", "ap"}}}}).has_value());
    auto state = emu.state("k").at("workflows").at(0);
    BOOST_TEST(state.at("deployed").as_uint64() == 1u);
    BOOST_TEST(state.at("versions").at(0).at("env") == json::parse(R"({"REGION":"ap"})"));
    BOOST_TEST(export_docs("a-1").at("env_variables.json") == json::object{});  // v2, deployed

    // Errors: unknown tenant, workflow or label (not found); an unknown key (invalid).
    auto code_of = [](const result<void>& x) { return x ? errc{} : x.error().code; };
    BOOST_TEST((code_of(emu.edit_version("k", "a-1", "v7", json::object{})) == errc::not_found));
    BOOST_TEST((code_of(emu.edit_version("k", "a-9", "v1", json::object{})) == errc::not_found));
    BOOST_TEST((code_of(emu.edit_version("nope", "a-1", "v1", json::object{})) == errc::not_found));
    BOOST_TEST((code_of(emu.edit_version("k", "a-1", "v1", json::object{{"colour", "red"}})) == errc::invalid_argument));
    BOOST_TEST(emu.state("k").at("workflows").at(0).at("versions").at(0).at("env") == json::parse(R"({"REGION":"ap"})"));
}

BOOST_AUTO_TEST_CASE(edit_version_over_the_control_api)
{
    start(seed(0, "same"));
    const std::string ctl = emu.base_url() + "/_emulator/tenants/k/workflows/";
    auto put = [&](const std::string& url, const std::string& body) { return send("PUT", {}, body, "application/json", false, url); };
    auto ok = put(ctl + "a-1/versions/v1", R"({"env_variables":{"REGION":"sa"}})");
    BOOST_TEST_REQUIRE(ok.status == 200, ok.body);
    BOOST_TEST(json::parse(ok.body) == json::parse(R"({"success":true,"version":"v1"})"));
    BOOST_TEST(export_docs("a-1").at("env_variables.json").at("REGION").as_string() == "sa");
    BOOST_TEST(put(ctl + "a-1/versions/v2", "{}").status == 404);
    BOOST_TEST(put(ctl + "a-9/versions/v1", "{}").status == 404);
    BOOST_TEST(put(emu.base_url() + "/_emulator/tenants/nope/workflows/a-1/versions/v1", "{}").status == 404);
    BOOST_TEST(put(ctl + "a-1/versions/v1", R"({"colour":"red"})").status == 400);
    BOOST_TEST(put(ctl + "a-1/versions/v1", "[]").status == 400);
    BOOST_TEST(export_docs("a-1").at("env_variables.json").at("REGION").as_string() == "sa");
}

BOOST_AUTO_TEST_SUITE_END()
