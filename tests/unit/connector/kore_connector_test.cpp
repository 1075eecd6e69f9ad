// SPDX-License-Identifier: Apache-2.0
// The Kore.ai connector against the emulator's Kore tenants (tests/emulator/README.md, section
// Kore.ai) on real loopback sockets: what goes over the wire is read back from the request log.
#include <boost/test/unit_test.hpp>

#include <emulator.hpp>
#include <support/run_coro.hpp>

#include <wfsync/config/config.hpp>
#include <wfsync/connector/connector.hpp>
#include <wfsync/core/json.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <fmt/format.h>

using namespace wfsync;
using namespace wfsync::connector;
using namespace std::chrono_literals;
namespace json = boost::json;
namespace asio = boost::asio;
using wfsync::test::run_coro;

namespace {

const std::string api_key = "kg-unit-key-5f3a9c";

struct seed_opts {
    int job_ms = 0;
    std::string host = "same";
    std::string spelling = "sample";
    std::string package = "normal";
};

std::string seed(const seed_opts& o)
{
    return fmt::format(R"({{"tenants":{{
      "src":{{"platform":"kore","api_key":"{}","job_duration_ms":{},"download_host":"{}","spelling":"{}",
        "workflows":[{{"id":"a-1","flow_id":"cf-1","name":"Banking Assistant","package":"{}",
          "versions":[{{"flow_definition":{{"nodes":[{{"id":"n1","prompt":"hello"}}]}},
                        "app_definition":{{"version":"v1","name":"Banking Assistant"}},
                        "env_variables":{{"API_TOKEN":"env-secret-value-77"}}}}]}}]}},
      "tgt":{{"platform":"kore","api_key":"{}","job_duration_ms":{},
        "workflows":[{{"id":"a-9","flow_id":"cf-9","name":"Banking Assistant",
          "versions":[{{"flow_definition":{{}},"app_definition":{{"version":"v1"}},"env_variables":{{}}}}]}}]}}}}}})",
                       api_key, o.job_ms, o.host, o.spelling, o.package, api_key, o.job_ms);
}

struct fixture {
    asio::io_context ioc;
    emulator::emulator emu{ioc.get_executor(), {}};

    void start(const seed_opts& o = {})
    {
        auto s = emu.load_seed(seed(o));
        BOOST_TEST_REQUIRE(s.has_value(), (s ? "" : s.error().message));
        auto st = emu.start();
        BOOST_TEST_REQUIRE(st.has_value(), (st ? "" : st.error().message));
    }
    ~fixture() { emu.stop(); }

    config::tenant tenant(const std::string& emu_tenant, const std::string& key = api_key)
    {
        config::tenant t;
        t.name = emu_tenant + "-k";
        t.kind = config::platform::kore;
        t.base_url = emu.tenant_url(emu_tenant);
        t.auth.type = config::auth_type::api_key;
        t.auth.api_key = config::secret(key);
        t.net.timeout = 5s;
        t.net.retry.max_attempts = 3;
        t.net.retry.initial_backoff = 1ms;
        t.net.retry.max_backoff = 5ms;
        t.net.rate.per_second = 0;
        if (emu_tenant == "src") t.workflows = {{"a-1", "cf-1", "Banking Assistant"}};
        if (emu_tenant == "tgt") t.workflows = {{"a-9", "cf-9", "Banking Assistant"}};
        return t;
    }

    std::unique_ptr<wfsync::connector::connector> make(const config::tenant& t)
    {
        auto c = make_connector(ioc.get_executor(), t);
        BOOST_TEST_REQUIRE(c.has_value(), (c ? "" : c.error().message));
        return std::move(*c);
    }

    void pause(std::chrono::milliseconds d)
    {
        run_coro(ioc, [](std::chrono::milliseconds d) -> awaitable<void> {
            asio::steady_timer t(co_await asio::this_coro::executor);
            t.expires_after(d);
            co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
        }(d));
    }

    /// Logged requests of `tenant` whose path contains `part`.
    std::vector<json::object> logged(const std::string& tenant, const std::string& part)
    {
        std::vector<json::object> out;
        for (const auto& e : emu.requests(tenant))
            if (e.at("path").as_string().find(part) != json::string::npos) out.push_back(e.as_object());
        return out;
    }

    static bool has_key(const json::object& entry)
    {
        const auto* h = entry.at("headers").as_object().if_contains("x-api-key");
        return h && h->as_string() == api_key;
    }

    /// start_export, then poll_export every 20 ms until done or an error; `polls` counts.
    result<export_job> export_all(wfsync::connector::connector& c, const workflow_summary& wf, int* polls = nullptr)
    {
        version_ref v;
        auto job = run_coro(ioc, c.start_export(wf, v));
        if (!job) return job;
        int n = 0;
        while (!job->done && n < 250) {
            if (n > 0) pause(20ms);
            ++n;
            job = run_coro(ioc, c.poll_export(wf, *job));
            if (!job) break;
        }
        if (polls) *polls = n;
        return job;
    }

    package exported(wfsync::connector::connector& c, const workflow_summary& wf)
    {
        auto j = export_all(c, wf);
        BOOST_TEST_REQUIRE(j.has_value(), (j ? "" : j.error().message));
        BOOST_TEST_REQUIRE(j->done);
        BOOST_TEST_REQUIRE(j->result.has_value());
        return *j->result;
    }
};

const workflow_summary src_wf{"a-1", "Banking Assistant", "deployed", "deployed"};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(kore_connector, fixture)

BOOST_AUTO_TEST_CASE(workflows_come_from_the_config_with_one_deployed_version)
{
    start();
    auto c = make(tenant("src"));
    auto wfs = run_coro(ioc, c->list_workflows());
    BOOST_TEST_REQUIRE(wfs.has_value());
    BOOST_TEST_REQUIRE(wfs->size() == 1u);
    BOOST_TEST(wfs->at(0).id == "a-1");
    BOOST_TEST(wfs->at(0).name == "Banking Assistant");
    BOOST_TEST(wfs->at(0).active_version == "deployed");
    const std::string id = "a-1";
    auto vs = run_coro(ioc, c->list_versions(id));
    BOOST_TEST_REQUIRE(vs.has_value());
    BOOST_TEST_REQUIRE(vs->size() == 1u);
    BOOST_TEST(vs->at(0).version == "deployed");
    BOOST_TEST(vs->at(0).active);
    BOOST_TEST(emu.requests("src").empty());  // no API call for either
}

BOOST_AUTO_TEST_CASE(login_check_accepts_the_key_and_reports_a_wrong_one)
{
    start();
    auto good = make(tenant("src"));
    auto ok = run_coro(ioc, good->check_login());
    BOOST_TEST(ok.has_value(), (ok ? "" : ok.error().message));
    auto bad = make(tenant("src", "kg-wrong-key-424242"));
    auto r = run_coro(ioc, bad->check_login());
    BOOST_TEST_REQUIRE(r.has_error());
    BOOST_TEST((r.error().code == errc::auth));
    BOOST_TEST(r.error().http_status == 401);
    BOOST_TEST(r.error().message.find("kg-wrong-key-424242") == std::string::npos, r.error().message);

    config::tenant t = tenant("src");
    t.auth.type = config::auth_type::bearer;
    auto refused = make_connector(ioc.get_executor(), t);
    BOOST_TEST_REQUIRE(refused.has_error());
    BOOST_TEST(refused.error().message == "tenant src-k: Kore.ai supports only api_key auth");
}

BOOST_AUTO_TEST_CASE(export_job_is_polled_until_success)
{
    start({.job_ms = 300});
    auto c = make(tenant("src"));
    int polls = 0;
    auto j = export_all(*c, src_wf, &polls);
    BOOST_TEST_REQUIRE(j.has_value(), (j ? "" : j.error().message));
    BOOST_TEST_REQUIRE(j->done);
    BOOST_TEST(polls >= 4);  // 300 ms of IN_PROGRESS at 20 ms per poll, at least
    BOOST_TEST(logged("src", "/dock-status/").size() == std::size_t(polls));
    BOOST_TEST(j->job_id.starts_with("ds-"));

    const auto& p = *j->result;
    BOOST_TEST(p.format == "kore-zip");
    BOOST_TEST(p.workflow_id == "a-1");
    BOOST_TEST(p.version == "v1");
    BOOST_TEST(p.files.size() == 3u);
    BOOST_TEST(json::parse(p.files.at("flow_definition.json")).at("nodes").at(0).at("prompt").as_string() == "hello");

    auto exports = logged("src", "/a-1/export");
    BOOST_TEST_REQUIRE(exports.size() == 1u);
    BOOST_TEST(exports[0].at("method").as_string() == "POST");
    BOOST_TEST(exports[0].at("path").as_string() == "/t/src/api/public/workflows/a-1/export");
    BOOST_TEST(exports[0].at("query").as_string() == "flowId=cf-1");
    BOOST_TEST(exports[0].at("headers").at("content-type").as_string() == "application/json");
    for (const auto& e : emu.requests("src")) {
        BOOST_TEST(has_key(e.as_object()), e.at("path").as_string());  // own host: key on every call
        BOOST_TEST(!e.at("headers").as_object().contains("idempotency-key"));
    }
    BOOST_TEST(logged("src", "/api/v1/account/exports/").size() == 1u);
}

BOOST_AUTO_TEST_CASE(flow_id_omitted_when_the_config_has_none_and_path_configurable)
{
    start();
    auto t = tenant("src");
    t.workflows.clear();
    t.kore.export_path = "/api/public/workflows/{id}/export?format=zip";
    auto c = make(t);
    auto p = exported(*c, src_wf);
    BOOST_TEST(p.files.size() == 3u);
    auto exports = logged("src", "/a-1/export");
    BOOST_TEST_REQUIRE(exports.size() == 1u);
    BOOST_TEST(exports[0].at("query").as_string() == "format=zip");
}

BOOST_AUTO_TEST_CASE(table_spelling_works_too)
{
    start({.spelling = "table"});
    auto c = make(tenant("src"));
    auto p = exported(*c, src_wf);
    BOOST_TEST(p.version == "v1");
}

BOOST_AUTO_TEST_CASE(failed_export_job_is_an_error_naming_the_job)
{
    start({.job_ms = 50});
    BOOST_TEST_REQUIRE(emu.add_fault(json::object{{"tenant", "src"}, {"path_contains", "/export"}, {"kind", "job_failed"}})
                           .has_value());
    auto c = make(tenant("src"));
    auto j = export_all(*c, src_wf);
    BOOST_TEST_REQUIRE(j.has_error());
    BOOST_TEST((j.error().code == errc::conflict));
    BOOST_TEST(j.error().message.find("FAILED") != std::string::npos, j.error().message);
    BOOST_TEST(j.error().message.find("export job ds-") != std::string::npos, j.error().message);
    BOOST_TEST(!is_retryable(j.error()));
    BOOST_TEST(logged("src", "/exports/").empty());  // nothing downloaded
}

BOOST_AUTO_TEST_CASE(key_not_sent_to_a_foreign_download_host)
{
    start({.host = "foreign"});
    auto c = make(tenant("src"));
    auto p = exported(*c, src_wf);
    BOOST_TEST(p.files.size() == 3u);
    auto downloads = logged("src", "/download/");
    BOOST_TEST_REQUIRE(downloads.size() == 1u);
    BOOST_TEST(downloads[0].at("listener").as_string() == "foreign");
    BOOST_TEST(!downloads[0].at("headers").as_object().contains("x-api-key"));
    // Nor is the key anywhere else in that request.
    BOOST_TEST(json::serialize(downloads[0]).find(api_key) == std::string::npos);
    for (const auto& e : emu.requests("src"))
        if (e.at("listener").as_string() == "main") BOOST_TEST(has_key(e.as_object()));
}

BOOST_AUTO_TEST_CASE(broken_packages_each_fail_with_a_clear_error)
{
    struct want {
        std::string package;
        errc code;
        std::string text;
    };
    for (const auto& w : {want{"bomb", errc::body_too_large, "zip entry 'flow_definition.json': declares 41943042 bytes"},
                          want{"dotdot", errc::bad_response, "zip entry '../flow_definition.json': refused: a '..' component"},
                          want{"missing_env", errc::bad_response, "the package has no env_variables.json"},
                          want{"not_zip", errc::bad_response, "not a zip archive"}}) {
        BOOST_TEST_MESSAGE("package " << w.package);
        if (emu.base_url().empty()) start({.package = w.package});
        else
            BOOST_TEST_REQUIRE(emu.load_seed(seed({.package = w.package})).has_value());
        auto c = make(tenant("src"));
        auto j = export_all(*c, src_wf);
        BOOST_TEST_REQUIRE(j.has_error(), w.package);
        BOOST_TEST((j.error().code == w.code), w.package << ": " << j.error().what());
        BOOST_TEST(j.error().message.find(w.text) != std::string::npos, j.error().message);
        BOOST_TEST(j.error().message.find("tenant src-k: download of export job ds-") == 0, j.error().message);
    }
}

BOOST_AUTO_TEST_CASE(import_uploads_three_files_then_polls_the_dock_status)
{
    start({.job_ms = 200});
    auto src = make(tenant("src"));
    auto pkg = exported(*src, src_wf);
    pkg.files["app_definition.json"] = R"({"version":"v2","name":"Banking Assistant"})";
    pkg.version = "v2";

    auto tgt = make(tenant("tgt"));
    import_request r;
    r.target_workflow = "a-9";
    r.version = "v2";
    r.idempotency_key = "must-not-be-sent";
    r.content = &pkg;
    auto started = run_coro(ioc, tgt->import_package(r));
    BOOST_TEST_REQUIRE(started.has_value(), (started ? "" : started.error().message));
    BOOST_TEST(!started->done);
    BOOST_TEST(started->target_workflow == "a-9");
    BOOST_TEST(started->job_id.starts_with("ds-"));
    BOOST_TEST(emu.state("tgt").at("workflows").at(0).at("versions").as_array().size() == 1u);

    auto job = started;
    int polls = 0;
    while (job && !job->done && polls < 250) {
        pause(20ms);
        ++polls;
        job = run_coro(ioc, tgt->poll_import(*job));
    }
    BOOST_TEST_REQUIRE(job.has_value(), (job ? "" : job.error().message));
    BOOST_TEST(job->done);
    BOOST_TEST(polls >= 3);
    BOOST_TEST(job->target_workflow == "a-9");
    auto versions = emu.state("tgt").at("workflows").at(0).at("versions").as_array();
    BOOST_TEST_REQUIRE(versions.size() == 2u);
    BOOST_TEST(versions.at(1).at("version").as_string() == "v2");
    BOOST_TEST(versions.at(1).at("env").at("API_TOKEN").as_string() == "env-secret-value-77");

    auto uploads = logged("tgt", "/api/public/files");
    BOOST_TEST_REQUIRE(uploads.size() == 3u);
    for (const auto& u : uploads) {
        BOOST_TEST(u.at("headers").at("content-type").as_string().starts_with("multipart/form-data; boundary="));
        BOOST_TEST(u.at("body").as_string().find("bulkImport") != json::string::npos);
    }
    auto imports = logged("tgt", "/import");
    BOOST_TEST_REQUIRE(imports.size() == 1u);
    BOOST_TEST(imports[0].at("path").as_string() == "/t/tgt/api/public/workflows/a-9/import");
    auto body = json::parse(imports[0].at("body").as_string());
    BOOST_TEST(body.as_object().size() == 3u);
    BOOST_TEST(logged("tgt", "/dock-status/").size() == std::size_t(polls));
    for (const auto& e : emu.requests("tgt")) {
        BOOST_TEST(!e.at("headers").as_object().contains("idempotency-key"));
        BOOST_TEST(has_key(e.as_object()));
    }
}

BOOST_AUTO_TEST_CASE(import_creates_a_new_workflow)
{
    start();
    auto src = make(tenant("src"));
    auto pkg = exported(*src, src_wf);
    auto tgt = make(tenant("tgt"));
    import_request r;
    r.target_name = "Banking Assistant (copy)";
    r.content = &pkg;
    auto done = run_coro(ioc, tgt->import_package(r));
    BOOST_TEST_REQUIRE(done.has_value(), (done ? "" : done.error().message));
    BOOST_TEST(done->done);  // job_duration_ms 0: SUCCESS in the answer
    BOOST_TEST(done->target_workflow.starts_with("a-tgt-"));
    BOOST_TEST(done->version == "v1");
    auto wfs = emu.state("tgt").at("workflows").as_array();
    BOOST_TEST_REQUIRE(wfs.size() == 2u);
    BOOST_TEST(wfs.at(1).at("id").as_string() == done->target_workflow);
    BOOST_TEST(wfs.at(1).at("name").as_string() == "Banking Assistant (copy)");
    auto imports = logged("tgt", "/import");
    BOOST_TEST_REQUIRE(imports.size() == 1u);
    BOOST_TEST(imports[0].at("path").as_string() == "/t/tgt/api/public/workflows/import");
    BOOST_TEST(json::parse(imports[0].at("body").as_string()).at("workflowName").as_string() == "Banking Assistant (copy)");
}

BOOST_AUTO_TEST_CASE(failed_import_job_and_bad_requests)
{
    start({.job_ms = 30});
    auto src = make(tenant("src"));
    auto pkg = exported(*src, src_wf);
    BOOST_TEST_REQUIRE(emu.add_fault(json::object{{"tenant", "tgt"}, {"path_contains", "/import"}, {"kind", "job_failed"}})
                           .has_value());
    auto tgt = make(tenant("tgt"));
    import_request r;
    r.target_workflow = "a-9";
    r.content = &pkg;
    auto job = run_coro(ioc, tgt->import_package(r));
    BOOST_TEST_REQUIRE(job.has_value());
    for (int i = 0; i < 100 && job && !job->done; ++i) {
        pause(20ms);
        job = run_coro(ioc, tgt->poll_import(*job));
    }
    BOOST_TEST_REQUIRE(job.has_error());
    BOOST_TEST((job.error().code == errc::conflict));
    BOOST_TEST(job.error().message.find("import job ds-") != std::string::npos, job.error().message);
    BOOST_TEST(emu.state("tgt").at("workflows").at(0).at("versions").as_array().size() == 1u);

    // A package of another platform, a missing member, an unknown target.
    package zuora_pkg{"zuora-json", "1", "x", "0.0.1", {{"workflow.json", "{}"}}};
    r.content = &zuora_pkg;
    auto wrong = run_coro(ioc, tgt->import_package(r));
    BOOST_TEST_REQUIRE(wrong.has_error());
    BOOST_TEST((wrong.error().code == errc::invalid_argument));
    auto partial = pkg;
    partial.files.erase("env_variables.json");
    r.content = &partial;
    auto missing = run_coro(ioc, tgt->import_package(r));
    BOOST_TEST_REQUIRE(missing.has_error());
    BOOST_TEST(missing.error().message.find("the package has no env_variables.json") != std::string::npos);
    r.content = &pkg;
    r.target_workflow = "a-404";
    auto unknown = run_coro(ioc, tgt->import_package(r));
    BOOST_TEST_REQUIRE(unknown.has_error());
    BOOST_TEST((unknown.error().code == errc::not_found));
    BOOST_TEST(unknown.error().message.find("HTTP 404: workflow a-404 not found") != std::string::npos,
               unknown.error().message);
}

BOOST_AUTO_TEST_CASE(uploads_are_retried_but_the_import_post_is_not)
{
    start();
    auto src = make(tenant("src"));
    auto pkg = exported(*src, src_wf);
    // An upload is harmless to repeat (an unused file at worst): a 503 is retried.
    BOOST_TEST_REQUIRE(emu.add_fault(json::object{{"tenant", "tgt"}, {"path_contains", "/files"}, {"kind", "status"},
                                                  {"status", 503}, {"skip", 1}})
                           .has_value());
    auto tgt = make(tenant("tgt"));
    import_request r;
    r.target_workflow = "a-9";
    r.content = &pkg;
    auto done = run_coro(ioc, tgt->import_package(r));
    BOOST_TEST_REQUIRE(done.has_value(), (done ? "" : done.error().message));
    BOOST_TEST(logged("tgt", "/api/public/files").size() == 4u);  // 3 files, the second one twice
    BOOST_TEST(emu.state("tgt").at("workflows").at(0).at("versions").as_array().size() == 2u);

    // The import itself has no idempotency key: a 503 there is reported, not repeated.
    emu.clear_requests();
    BOOST_TEST_REQUIRE(emu.add_fault(json::object{{"tenant", "tgt"}, {"path_contains", "/a-9/import"}, {"kind", "status"},
                                                  {"status", 503}})
                           .has_value());
    auto failed = run_coro(ioc, tgt->import_package(r));
    BOOST_TEST_REQUIRE(failed.has_error());
    BOOST_TEST(failed.error().http_status == 503);
    BOOST_TEST(logged("tgt", "/a-9/import").size() == 1u);
}

BOOST_AUTO_TEST_SUITE_END()
