// SPDX-License-Identifier: Apache-2.0
// Kore.ai mapping on JSON texts: both field spellings, URLs and origins, packages.
#define BOOST_TEST_MODULE wfsync_kore
#include <boost/test/unit_test.hpp>

#include "kore/kore_mapping.hpp"

#include <wfsync/core/log.hpp>

#include <boost/json/parse.hpp>

using namespace wfsync;
using namespace wfsync::connector;
using namespace wfsync::connector::kore;
namespace json = boost::json;

BOOST_AUTO_TEST_SUITE(kore_mapping)

BOOST_AUTO_TEST_CASE(export_answer_with_sample_spellings)
{
    // [SEED 002] sample (with the missing comma put back): dock-statusId, response.downloadUrl
    // with a leading space.
    auto j = parse_export_start(R"({"dock-statusId":"ds-1","workflowId":"a-4","jobType":"WORKFLOWS","action":"EXPORT",
        "status":"IN_PROGRESS","exportJobId":"workflow-ej-25",
        "response":{"downloadUrl":" https://kore.example/api/v1/account/xx "}})",
                                "export");
    BOOST_TEST_REQUIRE(j.has_value(), j.error().what());
    BOOST_TEST(j->job_id == "ds-1");
    BOOST_TEST(j->download_url == "https://kore.example/api/v1/account/xx");
    BOOST_TEST(!j->done);
    BOOST_TEST(!j->result.has_value());
}

BOOST_AUTO_TEST_CASE(export_answer_with_table_spellings)
{
    // The table's names: dockStatusId and a top-level downloadURL.
    auto j = parse_export_start(
        R"({"dockStatusId":"ds-2","toolId":"a-5","status":"IN_PROGRESS","downloadURL":"https://files.example/x?sig=1"})",
        "export");
    BOOST_TEST_REQUIRE(j.has_value(), j.error().what());
    BOOST_TEST(j->job_id == "ds-2");
    BOOST_TEST(j->download_url == "https://files.example/x?sig=1");
    // No download URL at all is fine at this point (the dock status may bring it).
    auto none = parse_export_start(R"({"dockStatusId":"ds-3","status":"IN_PROGRESS"})", "export");
    BOOST_TEST_REQUIRE(none.has_value());
    BOOST_TEST(none->download_url.empty());
}

BOOST_AUTO_TEST_CASE(export_answer_problems_are_named)
{
    auto no_id = parse_export_start(R"({"status":"IN_PROGRESS"})", "tenant k: export of workflow a-1");
    BOOST_TEST_REQUIRE(no_id.has_error());
    BOOST_TEST((no_id.error().code == errc::bad_response));
    BOOST_TEST(no_id.error().message == "tenant k: export of workflow a-1: the answer has no dockStatusId (nor dock-statusId)");

    auto failed = parse_export_start(R"({"dockStatusId":"ds-9","status":"FAILED"})", "export");
    BOOST_TEST_REQUIRE(failed.has_error());
    BOOST_TEST((failed.error().code == errc::conflict));
    BOOST_TEST(failed.error().message.find("ds-9") != std::string::npos);

    auto odd = parse_export_start(R"({"dockStatusId":"ds-9","status":"EXPLODED"})", "export");
    BOOST_TEST_REQUIRE(odd.has_error());
    BOOST_TEST(odd.error().message == "export: unknown job status 'EXPLODED' (expected IN_PROGRESS, SUCCESS or FAILED)");

    auto malformed = parse_export_start(R"({"dock-statusId":"ds-1" "response":{}})", "export");
    BOOST_TEST_REQUIRE(malformed.has_error());
    BOOST_TEST((malformed.error().code == errc::bad_response));

    auto array = parse_export_start("[]", "export");
    BOOST_TEST_REQUIRE(array.has_error());
    BOOST_TEST(array.error().message == "export: the answer is not a JSON object");
}

BOOST_AUTO_TEST_CASE(dock_status_both_id_spellings)
{
    auto a = parse_job(R"({"_id":"ds-1","workflowId":"a-1","jobType":"WORKFLOWS","action":"EXPORT","status":"SUCCESS"})",
                       false, "dock");
    BOOST_TEST_REQUIRE(a.has_value());
    BOOST_TEST(a->dock_status_id == "ds-1");
    BOOST_TEST(a->workflow_id == "a-1");
    BOOST_TEST((a->status == job_status::success));
    BOOST_TEST(a->action == "EXPORT");

    auto b = parse_job(R"({"_id":"ds-2","toolId":"a-2","jobType":"TOOLS","status":"in_progress"})", false, "dock");
    BOOST_TEST_REQUIRE(b.has_value());
    BOOST_TEST(b->workflow_id == "a-2");
    BOOST_TEST((b->status == job_status::in_progress));

    auto c = parse_job(R"({"status":"FAILED"})", false, "dock");
    BOOST_TEST_REQUIRE(c.has_value());
    BOOST_TEST((c->status == job_status::failed));

    auto d = parse_job(R"({"_id":"ds-3"})", false, "dock ds-3");
    BOOST_TEST_REQUIRE(d.has_error());
    BOOST_TEST(d.error().message == "dock ds-3: the answer has no status");
}

BOOST_AUTO_TEST_CASE(import_answers)
{
    auto running = parse_import_start(
        R"({"dockStatusId":"ds-7","workflowId":"a-new","jobType":"WORKFLOWS","action":"IMPORT","status":"IN_PROGRESS"})", "",
        "import");
    BOOST_TEST_REQUIRE(running.has_value());
    BOOST_TEST(running->target_workflow == "a-new");
    BOOST_TEST(running->job_id == "ds-7");
    BOOST_TEST(!running->done);

    auto done = parse_import_start(R"({"dock-statusId":"ds-8","toolId":"a-old","status":"SUCCESS"})", "a-x", "import");
    BOOST_TEST_REQUIRE(done.has_value());
    BOOST_TEST(done->target_workflow == "a-old");
    BOOST_TEST(done->done);

    auto fallback = parse_import_start(R"({"dockStatusId":"ds-9","status":"IN_PROGRESS"})", "a-x", "import");
    BOOST_TEST_REQUIRE(fallback.has_value());
    BOOST_TEST(fallback->target_workflow == "a-x");

    auto failed = parse_import_start(R"({"dockStatusId":"ds-10","status":"FAILED"})", "a-x", "import");
    BOOST_TEST_REQUIRE(failed.has_error());
    BOOST_TEST((failed.error().code == errc::conflict));
}

BOOST_AUTO_TEST_CASE(import_body_fields)
{
    file_ids ids{"app-1", "flow-2", "env-3"};
    auto existing = json::parse(import_body(ids, ""));
    BOOST_TEST(existing.as_object().size() == 3u);
    BOOST_TEST(existing.at("workflowDataFileId").as_string() == "app-1");
    BOOST_TEST(existing.at("flowDataFileId").as_string() == "flow-2");
    BOOST_TEST(existing.at("envVariablesFileId").as_string() == "env-3");
    auto created = json::parse(import_body(ids, "Banking \"Assistant\""));
    BOOST_TEST(created.at("workflowName").as_string() == "Banking \"Assistant\"");
}

BOOST_AUTO_TEST_CASE(upload_answer)
{
    auto id = parse_upload(R"({"url":"https://x/y","fileId":"657abc"})", "upload");
    BOOST_TEST_REQUIRE(id.has_value());
    BOOST_TEST(*id == "657abc");
    auto none = parse_upload(R"({"url":"https://x/y"})", "upload of env_variables.json");
    BOOST_TEST_REQUIRE(none.has_error());
    BOOST_TEST(none.error().message == "upload of env_variables.json: the answer has no fileId");
}

BOOST_AUTO_TEST_CASE(paths_and_origins)
{
    BOOST_TEST(expand_path("/api/public/workflows/{id}/export", "a-1") == "/api/public/workflows/a-1/export");
    BOOST_TEST(expand_path("/x/{id}/{id}", "a b/c") == "/x/a%20b%2Fc/a%20b%2Fc");
    BOOST_TEST(trim(" \thttps://h/x\r\n") == "https://h/x");

    BOOST_TEST(origin_of("https://Kore.Example/api") == "https://kore.example:443");
    BOOST_TEST(origin_of("http://127.0.0.1:8080/t/k") == "http://127.0.0.1:8080");
    BOOST_TEST(origin_of("http://user:pw@h:81/") == "http://h:81");
    BOOST_TEST(origin_of("http://[::1]:9/x") == "http://[::1]:9");
    BOOST_TEST(origin_of("ftp://h/x").empty());
    BOOST_TEST(origin_of("/relative").empty());

    BOOST_TEST(same_origin("https://kore.example", "https://kore.example:443/api/v1/account/1"));
    BOOST_TEST(same_origin("http://127.0.0.1:8080/t/k", "http://127.0.0.1:8080/t/k/dl/1"));
    BOOST_TEST(!same_origin("http://127.0.0.1:8080/t/k", "http://127.0.0.1:8081/t/k/dl/1"));  // port
    BOOST_TEST(!same_origin("https://kore.example", "http://kore.example/x"));               // scheme
    BOOST_TEST(!same_origin("https://kore.example", "https://kore.example.evil.com/x"));     // host
    BOOST_TEST(!same_origin("https://kore.example", "https://evil.com/?https://kore.example"));
    BOOST_TEST(!same_origin("https://kore.example", "https://kore.example@evil.com/"));
    BOOST_TEST(!same_origin("https://kore.example", ""));

    auto rel = resolve_download_url("http://127.0.0.1:9/t/k", " /t/k/download/1", "dl");
    BOOST_TEST_REQUIRE(rel.has_value());
    BOOST_TEST(*rel == "http://127.0.0.1:9/t/k/download/1");
    auto empty = resolve_download_url("http://h", "  ", "tenant k: export job ds-1");
    BOOST_TEST_REQUIRE(empty.has_error());
    BOOST_TEST(empty.error().message == "tenant k: export job ds-1: no download URL was given");
    auto bad = resolve_download_url("http://h", "file:///etc/passwd", "dl");
    BOOST_TEST_REQUIRE(bad.has_error());
    BOOST_TEST(bad.error().message == "dl: download URL 'file:///etc/passwd' is not an http(s) URL");
}

BOOST_AUTO_TEST_CASE(package_from_the_three_files)
{
    workflow_summary wf{"a-1", "Banking Assistant", "", "", true, {}};
    std::map<std::string, std::string> files{{"flow_definition.json", R"({"nodes":[]})"},
                                             {"app_definition.json", R"({"version":"v7","name":"BA"})"},
                                             {"env_variables.json", R"({"API_TOKEN":"hunter2"})"}};
    auto p = package_from_files(files, wf, "pkg");
    BOOST_TEST_REQUIRE(p.has_value(), p.error().what());
    BOOST_TEST(p->format == "kore-zip");
    BOOST_TEST(p->workflow_id == "a-1");
    BOOST_TEST(p->workflow_name == "Banking Assistant");
    BOOST_TEST(p->version == "v7");
    BOOST_TEST(p->files.size() == 3u);
    BOOST_TEST(p->files.at("env_variables.json") == R"({"API_TOKEN":"hunter2"})");

    // A numeric version, and files in a folder named after the workflow (the UI's zip).
    std::map<std::string, std::string> nested{{"BA/flow_definition.json", "{}"},
                                              {"BA/app_definition.json", R"({"version":3})"},
                                              {"BA/env_variables.json", "[]"}};
    auto n = package_from_files(nested, wf, "pkg");
    BOOST_TEST_REQUIRE(n.has_value(), n.error().what());
    BOOST_TEST(n->version == "3");
    BOOST_TEST(n->files.count("flow_definition.json") == 1u);

    // No version field: "deployed".
    files["app_definition.json"] = R"({"name":"BA"})";
    auto d = package_from_files(files, wf, "pkg");
    BOOST_TEST_REQUIRE(d.has_value());
    BOOST_TEST(d->version == "deployed");
}

BOOST_AUTO_TEST_CASE(package_problems_name_the_member_not_its_contents)
{
    workflow_summary wf{"a-1", "BA", "", "", true, {}};
    std::map<std::string, std::string> files{{"flow_definition.json", "{}"}, {"app_definition.json", "{}"}};
    auto missing = package_from_files(files, wf, "tenant k: download of export job ds-1");
    BOOST_TEST_REQUIRE(missing.has_error());
    BOOST_TEST(missing.error().message ==
               "tenant k: download of export job ds-1: the package has no env_variables.json (2 other entries)");

    files["env_variables.json"] = R"({"PASSWORD":"s3cr3t-value" oops})";
    auto bad = package_from_files(files, wf, "pkg");
    BOOST_TEST_REQUIRE(bad.has_error());
    BOOST_TEST(bad.error().message.find("env_variables.json in the package is not valid JSON") != std::string::npos,
               bad.error().message);
    BOOST_TEST(bad.error().message.find("s3cr3t") == std::string::npos);

    std::map<std::string, std::string> twice{{"a/flow_definition.json", "{}"}, {"b/flow_definition.json", "{}"},
                                             {"app_definition.json", "{}"}, {"env_variables.json", "{}"}};
    auto amb = package_from_files(twice, wf, "pkg");
    BOOST_TEST_REQUIRE(amb.has_error());
    BOOST_TEST(amb.error().message.find("flow_definition.json in 2 folders") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(status_errors)
{
    auto e = status_error("tenant k: export", 401, R"({"message":"Invalid API key"})");
    BOOST_TEST((e.code == errc::auth));
    BOOST_TEST(e.message == "tenant k: export: HTTP 401: Invalid API key");
    BOOST_TEST(e.http_status == 401);
    BOOST_TEST((status_error("x", 404, "").code == errc::not_found));
    BOOST_TEST((status_error("x", 409, "").code == errc::conflict));
    BOOST_TEST((status_error("x", 503, "").code == errc::http_status));
    auto html = status_error("x", 502, "<html>Bad gateway</html>");
    BOOST_TEST(html.message == "x: HTTP 502: <html>Bad gateway</html>");
    auto nested = status_error("x", 400, R"({"errors":[{"msg":"flowId is required"}]})");
    BOOST_TEST(nested.message == "x: HTTP 400: flowId is required");
    // A key echoed by the server is masked.
    log::add_secret("kg-secret-key-0123456789");
    auto echoed = status_error("x", 401, R"({"message":"key kg-secret-key-0123456789 unknown"})");
    BOOST_TEST(echoed.message.find("kg-secret-key-0123456789") == std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
