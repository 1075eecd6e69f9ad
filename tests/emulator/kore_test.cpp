// SPDX-License-Identifier: Apache-2.0
// The emulator's Kore.ai tenants over real loopback HTTP (notes/emulator.md, Kore section),
// driven with the generic http_client, never with connector code.
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
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <fmt/format.h>

using namespace wfsync;
using namespace std::chrono_literals;
namespace json = boost::json;
namespace asio = boost::asio;
using wfsync::test::run_coro;

namespace {

const std::string key = "kg-test-key-000111";

std::string seed(int job_ms, const std::string& host, const std::string& spelling = "sample",
                 const std::string& package = "normal")
{
    return fmt::format(R"({{"tenants":{{"k":{{"platform":"kore","api_key":"{}","job_duration_ms":{},
        "download_host":"{}","spelling":"{}",
        "workflows":[{{"id":"a-1","flow_id":"cf-1","name":"Banking Assistant","package":"{}",
          "versions":[{{"flow_definition":{{"nodes":[{{"id":"n1","type":"ai"}}]}},
                        "app_definition":{{"version":"v1","name":"Banking Assistant"}},
                        "env_variables":{{"REGION":"eu"}}}}]}}]}}}}}})",
                       key, job_ms, host, spelling, package);
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
        auto r = run_coro(ioc, client->send(std::move(req)));
        BOOST_TEST_REQUIRE(r.has_value(), (r ? "" : r.error().message));
        return std::move(*r);
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

BOOST_AUTO_TEST_SUITE_END()
