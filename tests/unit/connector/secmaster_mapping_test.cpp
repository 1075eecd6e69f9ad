// SPDX-License-Identifier: Apache-2.0
// SecMaster mapping on JSON texts: no network.
#include <boost/test/unit_test.hpp>

#include "secmaster/secmaster_mapping.hpp"

#include <wfsync/core/base64.hpp>
#include <wfsync/core/log.hpp>

#include <boost/json/parse.hpp>

using namespace wfsync;
using namespace wfsync::connector;
using namespace wfsync::connector::secmaster;
using namespace std::chrono;
namespace json = boost::json;

namespace {
bool contains(const std::string& s, std::string_view part) { return s.find(part) != std::string::npos; }
}  // namespace

BOOST_AUTO_TEST_SUITE(secmaster_mapping)

BOOST_AUTO_TEST_CASE(token_body_is_the_password_method_scoped_to_the_project)
{
    auto body = token_request_body("ops", "p\"w\\1", "acme", "ap-southeast-1");
    auto v = json::parse(body);
    BOOST_TEST(v.at("auth").at("identity").at("methods").at(0).as_string() == "password");
    auto& user = v.at("auth").at("identity").at("password").at("user");
    BOOST_TEST(user.at("name").as_string() == "ops");
    BOOST_TEST(user.at("password").as_string() == "p\"w\\1");  // escaped, survives the round trip
    BOOST_TEST(user.at("domain").at("name").as_string() == "acme");
    BOOST_TEST(v.at("auth").at("scope").at("project").at("name").as_string() == "ap-southeast-1");
}

BOOST_AUTO_TEST_CASE(iso8601_forms)
{
    auto epoch = [](std::string_view s) {
        auto t = parse_iso8601(s);
        BOOST_TEST_REQUIRE(t.has_value(), s);
        return duration_cast<milliseconds>(t->time_since_epoch()).count();
    };
    BOOST_TEST(epoch("1970-01-01T00:00:00Z") == 0);
    BOOST_TEST(epoch("2024-02-29T12:00:00.500000Z") == 1709208000500);
    BOOST_TEST(epoch("2024-02-29T20:00:00.5+08:00") == 1709208000500);
    BOOST_TEST(epoch("2024-02-29T11:30:00-0030") == 1709208000000);
    BOOST_TEST(epoch("2024-02-29T12:00:00") == 1709208000000);  // no zone = UTC
    for (auto bad : {"", "2024-02-29", "2024-13-01T00:00:00Z", "2024-02-29T12:00:00.Z", "2024-02-29T12:00:00Q",
                     "2024-02-29T12:00:00Z junk", "yesterday"})
        BOOST_TEST(!parse_iso8601(bad).has_value(), bad);
}

BOOST_AUTO_TEST_CASE(token_from_header_expiry_from_body)
{
    std::string tok = "MIIabc";
    auto t = parse_token(&tok, R"({"token":{"expires_at":"2030-01-01T00:00:00.000000Z","methods":["password"]}})", "login");
    BOOST_TEST_REQUIRE(t.has_value());
    BOOST_TEST(t->token == "MIIabc");
    BOOST_TEST_REQUIRE(t->expires_at.has_value());
    BOOST_TEST(duration_cast<seconds>(t->expires_at->time_since_epoch()).count() == 1893456000);
    // No expiry (or not JSON): unknown, the token is still taken.
    auto u = parse_token(&tok, "not json", "login");
    BOOST_TEST_REQUIRE(u.has_value());
    BOOST_TEST(!u->expires_at.has_value());
    // No header: an error that never quotes the body.
    auto n = parse_token(nullptr, R"({"token":{"secret-ish":"XYZ"}})", "IAM login");
    BOOST_TEST_REQUIRE(n.has_error());
    BOOST_TEST(n.error().code == errc::bad_response);
    BOOST_TEST(n.error().message == "IAM login: the token answer has no X-Subject-Token header");
    std::string empty;
    BOOST_TEST(parse_token(&empty, "{}", "x").has_error());
}

BOOST_AUTO_TEST_CASE(token_margin_is_5_minutes_or_10_percent)
{
    BOOST_TEST(token_usable_for(hours(24)).count() == duration_cast<milliseconds>(hours(24) - minutes(5)).count());
    BOOST_TEST(token_usable_for(std::nullopt).count() == duration_cast<milliseconds>(hours(24) - minutes(5)).count());
    BOOST_TEST(token_usable_for(seconds(60)).count() == 54000);   // 10% of a minute is shorter
    BOOST_TEST(token_usable_for(seconds(1)).count() == 900);
    BOOST_TEST(token_usable_for(minutes(50)).count() == duration_cast<milliseconds>(minutes(45)).count());
    BOOST_TEST(token_usable_for(seconds(-5)).count() == 0);  // already expired (clock skew)
}

BOOST_AUTO_TEST_CASE(error_shapes_are_all_read)
{
    BOOST_TEST(platform_message(R"({"code":"SecMaster.20010001","message":"workflow not found"})") ==
               "SecMaster.20010001: workflow not found");
    BOOST_TEST(platform_message(R"({"error_code":"APIG.1002","error_msg":"Incorrect token"})") ==
               "APIG.1002: Incorrect token");
    BOOST_TEST(platform_message(R"({"error":{"code":401,"message":"The username or password is wrong.","title":"x"}})") ==
               "401: The username or password is wrong.");
    BOOST_TEST(platform_message(R"({"message":"only text"})") == "only text");
    BOOST_TEST(platform_message(R"({"other":1})") == "");
    BOOST_TEST(platform_message("<html>") == "");

    auto e = status_error("tenant s: export of workflow w1", 400, R"({"code":"X.1","message":"bad id"})", false);
    BOOST_TEST(e.message == "tenant s: export of workflow w1: HTTP 400: X.1: bad id");
    BOOST_TEST(e.code == errc::invalid_argument);
    BOOST_TEST(e.http_status == 400);
    auto g = status_error("p", 401, R"({"error_code":"APIG.1002","error_msg":"Incorrect token"})", false);
    BOOST_TEST(g.code == errc::auth);
    BOOST_TEST(g.message == "p: HTTP 401: APIG.1002: Incorrect token");
    auto html = status_error("p", 502, "<html>Bad\ngateway</html>", false);
    BOOST_TEST(html.message == "p: HTTP 502: <html>Bad gateway</html>");
    BOOST_TEST(html.code == errc::http_status);
    BOOST_TEST(status_error("p", 400, "{}", true).code == errc::conflict);
    BOOST_TEST(status_error("p", 404, "", false).code == errc::not_found);
    BOOST_TEST(status_error("p", 429, "", false).code == errc::rate_limited);

    // A secret the platform echoes is masked.
    log::add_secret("echoed-secret-value-42");
    auto s = status_error("p", 400, R"({"code":"c","message":"bad token echoed-secret-value-42"})", false);
    BOOST_TEST(!contains(s.message, "echoed-secret-value-42"), s.message);
}

BOOST_AUTO_TEST_CASE(workflow_page_with_total_and_tolerant_version_fields)
{
    auto p = parse_workflow_page(R"({"code":"00000000","success":true,"total":205,"offset":0,"limit":100,"data":[
        {"id":"a-1","name":"A","version":"v2"},
        {"id":"b-2","name":"B","version":null,"last_version":{"version":"v7"}},
        {"id":"c-3","name":"C","current_version":{"name":"v4"}}]})",
                                 "list");
    BOOST_TEST_REQUIRE(p.has_value(), (p ? "" : p.error().message));
    BOOST_TEST(p->total.value_or(-1) == 205);
    BOOST_TEST_REQUIRE(p->items.size() == 3u);
    BOOST_TEST(p->items[0].active_version == "v2");
    BOOST_TEST(p->items[1].active_version == "");
    BOOST_TEST(p->items[1].latest_version == "v7");
    BOOST_TEST(p->items[2].active_version == "v4");
    auto bare = parse_workflow_page(R"([{"id":"x"}])", "list");
    BOOST_TEST_REQUIRE(bare.has_value());
    BOOST_TEST(!bare->total.has_value());

    auto noid = parse_workflow_page(R"({"data":[{"id":"a"},{"name":"no id"}]})", "tenant s: list");
    BOOST_TEST_REQUIRE(noid.has_error());
    BOOST_TEST(noid.error().message == "tenant s: list: item 2 has no id");
    auto cut = parse_workflow_page(R"({"data":[{"id":"a"})", "tenant s: list");
    BOOST_TEST_REQUIRE(cut.has_error());
    BOOST_TEST(contains(cut.error().message, "tenant s: list: invalid JSON at byte"));
    BOOST_TEST(parse_workflow_page(R"({"items":[]})", "l").has_error());
}

BOOST_AUTO_TEST_CASE(change_mark_only_where_the_listing_shows_what_changes)
{
    auto mark = [](const char* item) {
        auto p = parse_workflow_page(std::string(R"({"data":[)") + item + "]}", "list");
        BOOST_TEST_REQUIRE(p.has_value());
        return p->items.at(0).change_mark;
    };
    auto full = mark(R"({"id":"a","name":"A","version":"v2","version_id":"x1","update_time":"2026-11-29T10:00:00.001Z"})");
    BOOST_TEST(full.size() == 64u);
    BOOST_TEST(mark(R"({"id":"a","name":"A","version":"v2","version_id":"x1","update_time":"2026-11-29T10:00:00.002Z"})") != full);
    BOOST_TEST(mark(R"({"id":"a","name":"A","version":"v3","version_id":"x2","update_time":"2026-11-29T10:00:00.001Z"})") != full);
    BOOST_TEST(mark(R"({"name":"A","id":"a","update_time":"2026-11-29T10:00:00.001Z","version_id":"x1","version":"v2"})") == full);
    BOOST_TEST(!mark(R"({"id":"a","name":"A","version":"v2"})").empty());           // labels only
    BOOST_TEST(mark(R"({"id":"a","name":"A","enabled":true})").empty());            // nothing that changes
    BOOST_TEST(mark(R"({"id":"a","name":"A","version":null,"update_time":""})").empty());
}

BOOST_AUTO_TEST_CASE(versions_label_from_version_name_or_version_id)
{
    auto v = parse_versions(R"({"data":[
        {"id":"id-1","name":"Workflow name","version":"v1","status":"not_activated"},
        {"version_id":"vid-2","name":"v2","status":"activated"},
        {"version_id":"vid-3","enabled":true}]})",
                            "versions");
    BOOST_TEST_REQUIRE(v.has_value(), (v ? "" : v.error().message));
    BOOST_TEST_REQUIRE(v->size() == 3u);
    BOOST_TEST((*v)[0].version == "v1");  // "version" wins over "name"
    BOOST_TEST((*v)[0].id == "id-1");
    BOOST_TEST(!(*v)[0].active);
    BOOST_TEST((*v)[1].version == "v2");
    BOOST_TEST((*v)[1].id == "vid-2");
    BOOST_TEST((*v)[1].active);
    BOOST_TEST((*v)[1].status == "activated");
    BOOST_TEST((*v)[2].version == "vid-3");
    BOOST_TEST((*v)[2].active);  // no status: the enabled flag
    auto none = parse_versions(R"({"data":[{"status":"activated"}]})", "tenant s: versions of w");
    BOOST_TEST_REQUIRE(none.has_error());
    BOOST_TEST(none.error().message == "tenant s: versions of w: item 1 has no version, name or version_id");
}

BOOST_AUTO_TEST_CASE(export_file_names)
{
    auto name = [](const char* cd) {
        std::string s = cd;
        return export_file_name(&s, "wf-1");
    };
    BOOST_TEST(export_file_name(nullptr, "wf-1") == "wf-1.json");
    BOOST_TEST(name(R"(attachment; filename="Phishing triage.json")") == "Phishing triage.json");
    BOOST_TEST(name(R"(attachment; filename=plain.zip)") == "plain.zip");
    BOOST_TEST(name(R"(attachment; filename="a \"q\".json")") == "a \"q\".json");
    BOOST_TEST(name(R"(attachment; filename="x.json"; filename*=UTF-8''%E6%B5%81%E7%A8%8B.json)") ==
               "\xE6\xB5\x81\xE7\xA8\x8B.json");
    BOOST_TEST(name(R"(attachment; filename="../../etc/passwd")") == "passwd");
    BOOST_TEST(name(R"(attachment; filename=..\..\win.ini)") == "win.ini");
    BOOST_TEST(name(R"(attachment; filename="..\\..\\win.ini")") == "win.ini");  // quoted: \\ is one backslash
    BOOST_TEST(name(R"(attachment; filename="..")") == "wf-1.json");
    BOOST_TEST(name(R"(attachment; filename="")") == "wf-1.json");
    BOOST_TEST(name("attachment") == "wf-1.json");
    BOOST_TEST(name("attachment; filename=\"a\x01\x7f" "b.json\"") == "ab.json");
}

BOOST_AUTO_TEST_CASE(export_package_keeps_bytes_and_finds_the_version)
{
    workflow_summary wf{"wf-1", "Triage", "v2", "v3"};
    std::string body = R"({"workflow":{"name":"Triage"},"version":{"steps":[1]}})";
    auto p = make_export_package(body, "Triage.json", wf, "", "export");
    BOOST_TEST_REQUIRE(p.has_value());
    BOOST_TEST(p->format == "secmaster-file");
    BOOST_TEST(p->workflow_id == "wf-1");
    BOOST_TEST(p->workflow_name == "Triage");
    BOOST_TEST(p->version == "v2");  // the file has no label: the summary's active one
    BOOST_TEST_REQUIRE(p->files.size() == 1u);
    BOOST_TEST(p->files.at("Triage.json") == body);

    auto labelled = make_export_package(R"({"workflow":{"name":"T","version":"v9"}})", "f", wf, "", "e");
    BOOST_TEST(labelled->version == "v9");
    auto nested = make_export_package(R"({"version":{"version":"v8"}})", "f", wf, "", "e");
    BOOST_TEST(nested->version == "v8");
    workflow_summary bare{"wf-2", "", "", ""};
    auto binary = make_export_package(std::string("PK\x03\x04\0\x01", 6), "f.zip", bare, "v5", "e");
    BOOST_TEST_REQUIRE(binary.has_value());
    BOOST_TEST(binary->files.at("f.zip").size() == 6u);
    BOOST_TEST(binary->version == "v5");
    auto named = make_export_package(body, "f", bare, "", "e");
    BOOST_TEST(named->workflow_name == "Triage");  // from the file when the summary has none
    auto empty = make_export_package("", "f", wf, "", "tenant s: export of workflow wf-1");
    BOOST_TEST_REQUIRE(empty.has_error());
    BOOST_TEST(empty.error().message == "tenant s: export of workflow wf-1: the export answer is empty");
}

BOOST_AUTO_TEST_CASE(import_file_renames_json_files_only_when_needed)
{
    package p;
    p.format = "secmaster-file";
    p.files["T.json"] = R"({"workflow":{"name":"Triage","description":"d"},"version":{"a":1}})";
    auto same = import_file(p, "Triage", "imp");
    BOOST_TEST_REQUIRE(same.has_value());
    BOOST_TEST(same->bytes == p.files["T.json"]);  // untouched
    BOOST_TEST(same->name == "T.json");
    auto renamed = import_file(p, "Copy \"1\"", "imp");
    BOOST_TEST_REQUIRE(renamed.has_value());
    auto v = json::parse(renamed->bytes);
    BOOST_TEST(v.at("workflow").at("name").as_string() == "Copy \"1\"");
    BOOST_TEST(v.at("workflow").at("description").as_string() == "d");
    BOOST_TEST(file_workflow_name(renamed->bytes) == "Copy \"1\"");

    package bin;
    bin.format = "secmaster-file";
    bin.files["x.zip"] = "PK\x03\x04";
    BOOST_TEST(import_file(bin, "Other", "imp")->bytes == "PK\x03\x04");

    package zuora;
    zuora.format = "zuora-json";
    zuora.files["workflow.json"] = "{}";
    auto z = import_file(zuora, "", "tenant s: import");
    BOOST_TEST_REQUIRE(z.has_error());
    BOOST_TEST(z.error().code == errc::invalid_argument);
    BOOST_TEST(z.error().message == "tenant s: import: a 'zuora-json' package cannot be imported into SecMaster");
    package two = p;
    two.files["b.json"] = "{}";
    BOOST_TEST(contains(import_file(two, "", "i").error().message, "exactly one file, this one 2"));
}

BOOST_AUTO_TEST_CASE(import_answers)
{
    BOOST_TEST(check_import_answer(R"({"code":"00000000","message":"success","success":true,"request_id":"r"})", 200, "i")
                   .has_value());
    auto f = check_import_answer(R"({"code":"SecMaster.1","message":"bad file","success":false})", 200,
                                 "tenant s: import of new workflow 'X'");
    BOOST_TEST_REQUIRE(f.has_error());
    BOOST_TEST(f.error().code == errc::conflict);
    BOOST_TEST(f.error().http_status == 200);
    BOOST_TEST(f.error().message == "tenant s: import of new workflow 'X': HTTP 200 with success=false: SecMaster.1: bad file");
    auto odd = check_import_answer("OK", 200, "i");
    BOOST_TEST_REQUIRE(odd.has_error());
    BOOST_TEST(odd.error().code == errc::bad_response);
}

// ---- version detail [H-SHOWV] ----------------------------------------------------------

namespace {
const workflow_summary detail_wf{"wf-1", "Triage", "v2", "v3"};
const version_summary detail_v{"vid-3", "v3", "not_activated", false};

/// A version detail answer {code, success, data:{...}} whose data holds `members` (JSON text
/// without braces) after the id.
std::string detail_answer(const std::string& members)
{
    return R"({"code":"00000000","message":"","success":true,"request_id":"r1","data":{"id":"vid-3",)" + members +
           "}}";
}
std::string taskflow_member(std::string_view flow) { return "\"taskflow\":\"" + base64_encode(flow) + "\""; }
}  // namespace

BOOST_AUTO_TEST_CASE(version_detail_decodes_taskflow_and_keeps_the_other_members)
{
    const std::string flow = R"({"nodes":[{"id":"n1","type":"start"}],"edges":[]})";
    auto body = detail_answer(taskflow_member(flow) + R"(,"taskconfig":"{\"timeout\":5}","version":"v3",)"
                                                      R"("status":"not_activated","taskflow_type":"JSON")");
    auto p = parse_version_detail(body, detail_wf, detail_v, "detail");
    BOOST_TEST_REQUIRE(p.has_value(), (p ? "" : p.error().message));
    BOOST_TEST(p->format == "secmaster-version");
    BOOST_TEST(p->workflow_id == "wf-1");
    BOOST_TEST(p->workflow_name == "Triage");
    BOOST_TEST(p->version == "v3");  // the summary's label, not the workflow's active one
    BOOST_TEST_REQUIRE(p->files.size() == 3u);
    BOOST_TEST(p->files.at("taskflow.json") == flow);  // decoded bytes, as they were
    BOOST_TEST(p->files.at("taskconfig.json") == R"({"timeout":5})");
    // version.json: the data members other than the content, not the answer's envelope.
    auto rest = json::parse(p->files.at("version.json"));
    BOOST_TEST(rest == json::parse(R"({"id":"vid-3","version":"v3","status":"not_activated","taskflow_type":"JSON"})"),
               p->files.at("version.json"));
}

BOOST_AUTO_TEST_CASE(version_detail_taskconfig_shapes)
{
    const std::string flow = R"({"nodes":[]})";
    auto parse = [&](const std::string& taskconfig) {
        auto p = parse_version_detail(detail_answer(taskflow_member(flow) + ",\"taskconfig\":" + taskconfig),
                                      detail_wf, detail_v, "detail");
        BOOST_TEST_REQUIRE(p.has_value(), (p ? "" : p.error().message));
        return *p;
    };
    // A JSON object (not a string): serialized into taskconfig.json; an array the same.
    auto obj = parse(R"({"timeout":5,"hosts":["a","b"]})");
    BOOST_TEST_REQUIRE(obj.files.count("taskconfig.json") == 1u);
    BOOST_TEST(json::parse(obj.files.at("taskconfig.json")) == json::parse(R"({"timeout":5,"hosts":["a","b"]})"));
    BOOST_TEST(!contains(obj.files.at("version.json"), "taskconfig"));
    auto arr = parse(R"([1,2])");
    BOOST_TEST(arr.files.at("taskconfig.json") == "[1,2]");
    // An empty string: no configuration, no file, and not carried into version.json either.
    auto empty = parse(R"("")");
    BOOST_TEST(empty.files.size() == 2u);
    BOOST_TEST(empty.files.count("taskflow.json") == 1u);
    BOOST_TEST(empty.files.count("version.json") == 1u);
    BOOST_TEST(json::parse(empty.files.at("version.json")) == json::parse(R"({"id":"vid-3"})"));
    // A string that is not JSON: kept raw under "taskconfig".
    auto raw = parse(R"("timeout=5; hosts=a,b")");
    BOOST_TEST(raw.files.count("taskconfig.json") == 0u);
    BOOST_TEST(raw.files.at("taskconfig") == "timeout=5; hosts=a,b");
}

BOOST_AUTO_TEST_CASE(version_detail_taskflow_that_is_not_json_is_kept_raw)
{
    const std::string xml = "<flow><node id=\"n1\"/></flow>\n\x01\xff";
    auto p = parse_version_detail(detail_answer(taskflow_member(xml)), detail_wf, detail_v, "detail");
    BOOST_TEST_REQUIRE(p.has_value(), (p ? "" : p.error().message));
    BOOST_TEST(p->files.count("taskflow.json") == 0u);
    BOOST_TEST(p->files.at("taskflow") == xml);
    BOOST_TEST(p->files.count("version.json") == 1u);
    // taskconfig alone is content enough.
    auto only_config = parse_version_detail(detail_answer(R"("taskconfig":{"a":1})"), detail_wf, detail_v, "d");
    BOOST_TEST_REQUIRE(only_config.has_value(), (only_config ? "" : only_config.error().message));
    BOOST_TEST(only_config->files.size() == 2u);
    BOOST_TEST(only_config->files.at("taskconfig.json") == R"({"a":1})");
}

BOOST_AUTO_TEST_CASE(version_detail_without_data_wrapper)
{
    const std::string flow = R"({"nodes":[1]})";
    auto body = R"({"id":"vid-3","version":"v3",)" + taskflow_member(flow) + "}";
    auto p = parse_version_detail(body, detail_wf, detail_v, "detail");
    BOOST_TEST_REQUIRE(p.has_value(), (p ? "" : p.error().message));
    BOOST_TEST(p->files.at("taskflow.json") == flow);
    BOOST_TEST(json::parse(p->files.at("version.json")) == json::parse(R"({"id":"vid-3","version":"v3"})"));
    // Line breaks inside the BASE64 (MIME style) are skipped.
    auto b64 = base64_encode(flow);
    auto wrapped = R"({"taskflow":")" + b64.substr(0, 8) + "\\r\\n" + b64.substr(8) + "\"}";
    auto w = parse_version_detail(wrapped, detail_wf, detail_v, "detail");
    BOOST_TEST_REQUIRE(w.has_value(), (w ? "" : w.error().message));
    BOOST_TEST(w->files.at("taskflow.json") == flow);
}

BOOST_AUTO_TEST_CASE(version_detail_bad_base64_is_bad_response_naming_taskflow)
{
    for (std::string bad : {"e30@", "e", "e30==="}) {
        auto p = parse_version_detail(detail_answer(R"("taskflow":")" + bad + "\""), detail_wf, detail_v,
                                      "tenant s: version v3 of workflow wf-1");
        BOOST_TEST_REQUIRE(p.has_error(), bad);
        BOOST_TEST(p.error().code == errc::bad_response);
        BOOST_TEST(p.error().message.rfind("tenant s: version v3 of workflow wf-1: taskflow: invalid base64", 0) == 0u,
                   p.error().message);
    }
}

BOOST_AUTO_TEST_CASE(version_detail_without_content_is_bad_response)
{
    const std::string what = "tenant s: version v3 of workflow wf-1";
    const std::string expected = what + ": the version detail has neither taskflow nor taskconfig, so its content "
                                        "cannot be read";
    for (std::string members : {R"("version":"v3","status":"activated")", R"("taskconfig":"")",
                                R"("taskflow":null,"taskconfig":null)", R"("taskflow":"","taskconfig":"")"}) {
        auto p = parse_version_detail(detail_answer(members), detail_wf, detail_v, what);
        BOOST_TEST_REQUIRE(p.has_error(), members);
        BOOST_TEST(p.error().code == errc::bad_response);
        BOOST_TEST(p.error().message == expected, p.error().message);
    }
    auto not_json = parse_version_detail("<html>", detail_wf, detail_v, what);
    BOOST_TEST_REQUIRE(not_json.has_error());
    BOOST_TEST(not_json.error().code == errc::bad_response);
    BOOST_TEST(contains(not_json.error().message, what + ": invalid JSON at byte"), not_json.error().message);
    auto not_object = parse_version_detail(R"(["taskflow"])", detail_wf, detail_v, what);
    BOOST_TEST_REQUIRE(not_object.has_error());
    BOOST_TEST(not_object.error().message == what + ": expected an object with a \"data\" object");
}

BOOST_AUTO_TEST_SUITE_END()
