// SPDX-License-Identifier: Apache-2.0
// Zuora JSON mapping on JSON texts: no network.
#include <boost/test/unit_test.hpp>

#include "zuora/zuora_mapping.hpp"

#include <wfsync/core/json.hpp>
#include <wfsync/core/log.hpp>

#include <boost/json/parse.hpp>

using namespace wfsync;
using namespace wfsync::connector;
using namespace wfsync::connector::zuora;
using namespace std::chrono_literals;

namespace {
bool contains(const std::string& s, std::string_view part) { return s.find(part) != std::string::npos; }
}  // namespace

BOOST_AUTO_TEST_SUITE(zuora_mapping)

BOOST_AUTO_TEST_CASE(workflow_page_paged_shape)
{
    auto p = parse_workflow_page(R"({"data":[
        {"id":101,"name":"Billing Reminder","status":"Active",
         "active_version":{"id":9001,"version":"0.0.2","status":"Active"},"latest_version":"0.0.3"},
        {"id":"102","name":"Dunning","active_version":null}],
        "pagination":{"next_page":"https://x/workflows?page=2&page_length=2","page":1,"page_length":2}})",
                                 "list");
    BOOST_TEST_REQUIRE(p.has_value());
    BOOST_TEST(p->has_pagination);
    BOOST_TEST(p->has_next);
    BOOST_TEST_REQUIRE(p->items.size() == 2u);
    BOOST_TEST(p->items[0].id == "101");
    BOOST_TEST(p->items[0].name == "Billing Reminder");
    BOOST_TEST(p->items[0].active_version == "0.0.2");
    BOOST_TEST(p->items[0].latest_version == "0.0.3");
    BOOST_TEST(p->items[1].id == "102");
    BOOST_TEST(p->items[1].active_version.empty());
    BOOST_TEST(p->items[1].latest_version.empty());
}

BOOST_AUTO_TEST_CASE(workflow_page_last_page_and_absent_next)
{
    auto last = parse_workflow_page(R"({"data":[{"id":1}],"pagination":{"next_page":null}})", "list");
    BOOST_TEST_REQUIRE(last.has_value());
    BOOST_TEST(last->has_pagination);
    BOOST_TEST(!last->has_next);
    auto absent = parse_workflow_page(R"({"data":[{"id":1}],"pagination":{"page":3}})", "list");
    BOOST_TEST_REQUIRE(absent.has_value());
    BOOST_TEST(!absent->has_next);
    auto empty_text = parse_workflow_page(R"({"data":[],"pagination":{"next_page":""}})", "list");
    BOOST_TEST_REQUIRE(empty_text.has_value());
    BOOST_TEST(!empty_text->has_next);
    BOOST_TEST(empty_text->items.empty());
    auto no_pagination = parse_workflow_page(R"({"data":[{"id":1}]})", "list");
    BOOST_TEST_REQUIRE(no_pagination.has_value());
    BOOST_TEST(!no_pagination->has_pagination);
}

BOOST_AUTO_TEST_CASE(workflow_page_bare_array_and_odd_ids)
{
    auto p = parse_workflow_page(
        R"([{"id":18446744073709551615,"name":"big"},{"id":-7},{"id":205.0,"latest_version":{"version":"1.2.3"}},
            {"id":"a-x1","name":"text id","active_version":"0.0.9"}])",
        "list");
    BOOST_TEST_REQUIRE(p.has_value());
    BOOST_TEST(!p->has_pagination);
    BOOST_TEST_REQUIRE(p->items.size() == 4u);
    BOOST_TEST(p->items[0].id == "18446744073709551615");
    BOOST_TEST(p->items[1].id == "-7");
    BOOST_TEST(p->items[1].name.empty());
    BOOST_TEST(p->items[2].id == "205");
    BOOST_TEST(p->items[2].latest_version == "1.2.3");
    BOOST_TEST(p->items[3].id == "a-x1");
    BOOST_TEST(p->items[3].active_version == "0.0.9");
}

BOOST_AUTO_TEST_CASE(ids_are_kept_exactly_or_refused)
{
    // Above 2^53 but within 64 bits: exact, as text.
    auto big = parse_workflow_page(R"({"data":[{"id":9007199254740993,"name":"A"},{"id":18446744073709551615,"name":"B"}]})",
                                   "list");
    BOOST_TEST_REQUIRE(big.has_value());
    BOOST_TEST(big->items[0].id == "9007199254740993");
    BOOST_TEST(big->items[1].id == "18446744073709551615");
    // Beyond 64 bits, or a fraction: no exact id, a clear error rather than "1E23".
    for (const char* id : {"100000000000000000000000", "1e400", "286.5"}) {
        auto bad = parse_workflow_page(std::string(R"({"data":[{"id":)") + id + R"(,"name":"A"}]})", "tenant z: list");
        BOOST_TEST_REQUIRE(bad.has_error(), id);
        BOOST_TEST(bad.error().message.find("tenant z: list: item 1 has an id that is not an exact integer") == 0u,
                   bad.error().message);
    }
}

BOOST_AUTO_TEST_CASE(change_mark_only_where_the_listing_shows_what_changes)
{
    auto mark = [](const char* item) {
        auto p = parse_workflow_page(std::string(R"({"data":[)") + item + "]}", "list");
        BOOST_TEST_REQUIRE(p.has_value());
        return p->items.at(0).change_mark;
    };
    auto full = mark(R"({"id":7,"name":"A","updatedAt":"2026-11-29T10:00:00.001Z","active_version":{"id":9,"version":"0.0.2"},"latest_version":"0.0.2"})");
    BOOST_TEST(full.size() == 64u);
    BOOST_TEST(mark(R"({"id":7,"name":"A","updatedAt":"2026-11-29T10:00:00.002Z","active_version":{"id":9,"version":"0.0.2"},"latest_version":"0.0.2"})") != full);
    BOOST_TEST(mark(R"({"id":7,"name":"A","updatedAt":"2026-11-29T10:00:00.001Z","active_version":{"id":9,"version":"0.0.2"},"latest_version":"0.0.3"})") != full);
    BOOST_TEST(!mark(R"({"id":7,"name":"A","active_version":null,"latest_version":"0.0.1"})").empty());  // labels only
    BOOST_TEST(mark(R"({"id":7,"name":"A","status":"Active","type":"Workflow::Setup"})").empty());
    BOOST_TEST(mark(R"({"id":7,"name":"A","active_version":null,"latest_version":""})").empty());
}

BOOST_AUTO_TEST_CASE(workflow_page_rejects_bad_items_naming_them)
{
    auto no_id = parse_workflow_page(R"({"data":[{"id":1},{"name":"x"}]})", "tenant t: list page 4");
    BOOST_TEST_REQUIRE(no_id.has_error());
    BOOST_TEST(no_id.error().code == errc::bad_response);
    BOOST_TEST(no_id.error().message == "tenant t: list page 4: item 2 has no id");

    auto null_id = parse_workflow_page(R"([{"id":null}])", "l");
    BOOST_TEST_REQUIRE(null_id.has_error());
    auto not_obj = parse_workflow_page(R"([1])", "l");
    BOOST_TEST_REQUIRE(not_obj.has_error());
    BOOST_TEST(contains(not_obj.error().message, "item 1 is not an object"));
    auto wrong = parse_workflow_page(R"({"workflows":{}})", "l");
    BOOST_TEST_REQUIRE(wrong.has_error());
    BOOST_TEST(contains(wrong.error().message, "\"data\" array"));
}

BOOST_AUTO_TEST_CASE(bad_json_names_position)
{
    auto r = parse_workflow_page(R"({"data":[{"id":1},)", "tenant t: list page 1");
    BOOST_TEST_REQUIRE(r.has_error());
    BOOST_TEST(r.error().code == errc::bad_response);
    BOOST_TEST(contains(r.error().message, "tenant t: list page 1: invalid JSON at byte 18 of 18"),
               r.error().message);
    auto garbage = parse_body("{\"a\":1} x", "w");
    BOOST_TEST_REQUIRE(garbage.has_error());
    BOOST_TEST(contains(garbage.error().message, "at byte 8 of 9"), garbage.error().message);
    auto html = parse_body("<html>", "w");
    BOOST_TEST_REQUIRE(html.has_error());
    BOOST_TEST(contains(html.error().message, "at byte 0 of 6"), html.error().message);
    auto empty = parse_body("", "w");
    BOOST_TEST_REQUIRE(empty.has_error());
    BOOST_TEST(empty.error().message == "w: empty response body");
}

BOOST_AUTO_TEST_CASE(versions_both_shapes)
{
    auto d = parse_versions(R"({"data":[{"id":9001,"version":"0.0.1","status":"Inactive","type":"Workflow::Setup"},
                                        {"id":9002,"version":"0.0.2","status":"active"}]})",
                            "v");
    BOOST_TEST_REQUIRE(d.has_value());
    BOOST_TEST_REQUIRE(d->size() == 2u);
    BOOST_TEST((*d)[0].id == "9001");
    BOOST_TEST((*d)[0].version == "0.0.1");
    BOOST_TEST(!(*d)[0].active);
    BOOST_TEST((*d)[1].active);  // case-insensitive
    BOOST_TEST((*d)[1].status == "active");

    auto bare = parse_versions(R"([{"version":"1.0.0","status":"ACTIVE"},{"id":"x","version":"1.0.1"}])", "v");
    BOOST_TEST_REQUIRE(bare.has_value());
    BOOST_TEST_REQUIRE(bare->size() == 2u);
    BOOST_TEST((*bare)[0].id.empty());
    BOOST_TEST((*bare)[0].active);
    BOOST_TEST((*bare)[1].status.empty());
    BOOST_TEST(!(*bare)[1].active);

    auto missing = parse_versions(R"({"data":[{"id":1,"status":"Active"}]})", "versions of 5");
    BOOST_TEST_REQUIRE(missing.has_error());
    BOOST_TEST(missing.error().message == "versions of 5: item 1 has no version");
}

BOOST_AUTO_TEST_CASE(export_document_validated)
{
    workflow_summary wf{"205", "Billing", "", "", true, {}};
    std::string body =
        R"({"workflow":{"id":205,"name":"Billing Reminder","version":"0.0.3"},"tasks":[{"id":1}],"linkages":[]})";
    auto p = parse_export(body, wf, "export");
    BOOST_TEST_REQUIRE(p.has_value());
    BOOST_TEST(p->format == "zuora-json");
    BOOST_TEST(p->workflow_id == "205");
    BOOST_TEST(p->workflow_name == "Billing Reminder");
    BOOST_TEST(p->version == "0.0.3");
    BOOST_TEST_REQUIRE(p->files.size() == 1u);
    BOOST_TEST(p->files.at("workflow.json") == body);  // bytes kept as they came

    auto no_linkages = parse_export(R"({"workflow":{},"tasks":[]})", wf, "export");
    BOOST_TEST_REQUIRE(no_linkages.has_value());
    BOOST_TEST(no_linkages->workflow_name == "Billing");  // falls back to the listed name
    BOOST_TEST(no_linkages->version.empty());

    for (auto bad : {R"({"tasks":[],"linkages":[]})", R"({"workflow":[],"tasks":[]})",
                     R"({"workflow":{},"tasks":{}})", R"({"workflow":{}})",
                     R"({"workflow":{},"tasks":[],"linkages":{}})", R"([])"}) {
        auto r = parse_export(bad, wf, "tenant t: export of workflow 205 version latest");
        BOOST_TEST_REQUIRE(r.has_error(), bad);
        BOOST_TEST(r.error().code == errc::bad_response);
        BOOST_TEST(contains(r.error().message, "not a workflow export of workflow 205"), r.error().message);
    }
}

BOOST_AUTO_TEST_CASE(import_body_renames_only_new_definitions)
{
    package p;
    p.format = "zuora-json";
    p.files["workflow.json"] = R"({"workflow":{"id":1,"name":"Old"},"tasks":[],"linkages":[]})";
    auto same = import_body(p, "", "w");
    BOOST_TEST_REQUIRE(same.has_value());
    BOOST_TEST(*same == p.files["workflow.json"]);
    auto renamed = import_body(p, "New \"Name\"", "w");
    BOOST_TEST_REQUIRE(renamed.has_value());
    auto v = boost::json::parse(*renamed);
    BOOST_TEST(v.at("workflow").at("name").as_string() == "New \"Name\"");
    BOOST_TEST(v.at("workflow").at("id").as_int64() == 1);

    package empty;
    auto r = import_body(empty, "", "w");
    BOOST_TEST_REQUIRE(r.has_error());
    BOOST_TEST(r.error().code == errc::invalid_argument);
}

BOOST_AUTO_TEST_CASE(import_result_shapes)
{
    // New-version shape [SEED 001].
    auto nv = parse_import_result(
        R"({"id":205,"name":"B","createdAt":"x","active_version":{"id":9,"version":"0.0.2","status":"Active"}})",
        "205", "0.0.3", "w");
    BOOST_TEST_REQUIRE(nv.has_value());
    BOOST_TEST(nv->target_workflow == "205");
    BOOST_TEST(nv->version == "0.0.3");  // active_version is not the new one unless activated
    BOOST_TEST(nv->done);

    auto nv_no_label = parse_import_result(R"({"id":"205","active_version":{"version":"0.0.4"}})", "", "", "w");
    BOOST_TEST_REQUIRE(nv_no_label.has_value());
    BOOST_TEST(nv_no_label->version == "0.0.4");

    // Export shape [Z-IMPDEF].
    auto def = parse_import_result(R"({"workflow":{"id":3001,"name":"N","version":"0.0.1"},"tasks":[],"linkages":[]})",
                                   "", "0.0.1", "w");
    BOOST_TEST_REQUIRE(def.has_value());
    BOOST_TEST(def->target_workflow == "3001");
    BOOST_TEST(def->version == "0.0.1");

    auto fallback = parse_import_result(R"({"status":"ok"})", "77", "1.0.0", "w");
    BOOST_TEST_REQUIRE(fallback.has_value());
    BOOST_TEST(fallback->target_workflow == "77");

    auto none = parse_import_result(R"({"status":"ok"})", "", "1.0.0", "tenant t: import");
    BOOST_TEST_REQUIRE(none.has_error());
    BOOST_TEST(none.error().message == "tenant t: import: the answer names no workflow id");
    auto bad = parse_import_result("nope", "1", "1", "w");
    BOOST_TEST_REQUIRE(bad.has_error());
    BOOST_TEST(bad.error().code == errc::bad_response);
}

BOOST_AUTO_TEST_CASE(platform_messages_from_error_bodies)
{
    BOOST_TEST(platform_message(
                   R"({"success":false,"processId":"P","reasons":[{"code":53100320,"message":"version must be greater than 0.0.4"}]})") ==
               "version must be greater than 0.0.4");
    BOOST_TEST(platform_message(R"({"reasons":[{"message":"a"},{"code":1},{"message":"b"}]})") == "a; b");
    BOOST_TEST(platform_message(R"({"code":"REQUEST_EXCEEDED_LIMIT","message":"too many"})") == "too many");
    BOOST_TEST(platform_message(R"({"error":"invalid_client","error_description":"bad client"})") == "bad client");
    BOOST_TEST(platform_message(R"({"error":"invalid_client"})") == "invalid_client");
    BOOST_TEST(platform_message(R"({"error":{"message":"nested"}})") == "nested");
    BOOST_TEST(platform_message(R"({"Errors":[{"Code":"X","Message":"old style"}]})") == "old style");
    BOOST_TEST(platform_message(R"({"reasons":[]})").empty());
    BOOST_TEST(platform_message("<html>502</html>").empty());
    BOOST_TEST(platform_message("").empty());
}

BOOST_AUTO_TEST_CASE(status_errors_map_kind_and_text)
{
    auto e = status_error("tenant prod: import of workflow 205 version 0.0.3", 400,
                          R"({"success":false,"reasons":[{"code":50000020,"message":"version must be greater than 0.0.4"}]})",
                          true);
    BOOST_TEST(e.code == errc::conflict);
    BOOST_TEST(e.http_status == 400);
    BOOST_TEST(e.message ==
               "tenant prod: import of workflow 205 version 0.0.3: HTTP 400: version must be greater than 0.0.4");

    BOOST_TEST(status_error("p", 401, "{}", false).code == errc::auth);
    BOOST_TEST(status_error("p", 401, "{}", false).message == "p: HTTP 401");
    BOOST_TEST(status_error("p", 403, "", false).code == errc::auth);
    BOOST_TEST(status_error("p", 404, "", false).code == errc::not_found);
    BOOST_TEST(status_error("p", 409, "", true).code == errc::unknown_outcome);  // same key still running
    BOOST_TEST(status_error("p", 409, "", false).code == errc::conflict);
    BOOST_TEST(status_error("p", 422, "", true).code == errc::conflict);
    BOOST_TEST(status_error("p", 400, "", false).code == errc::invalid_argument);
    BOOST_TEST(status_error("p", 429, "", false).code == errc::rate_limited);
    BOOST_TEST(status_error("p", 503, "", false).code == errc::http_status);
    auto html = status_error("p", 502, "<html>\n<b>Bad gateway</b></html>", false);
    BOOST_TEST(html.message == "p: HTTP 502: <html> <b>Bad gateway</b></html>");
}

BOOST_AUTO_TEST_CASE(error_text_is_redacted)
{
    log::add_secret("s3cr3t-value-xyz");
    auto e = status_error("p", 401, R"({"message":"token s3cr3t-value-xyz is wrong"})", false);
    BOOST_TEST(!contains(e.message, "s3cr3t-value-xyz"));
    BOOST_TEST(contains(e.message, "***"));
}

BOOST_AUTO_TEST_CASE(success_false_bodies)
{
    auto v = boost::json::parse(R"({"success":false,"reasons":[{"code":90000011,"message":"invalid credentials"}]})");
    BOOST_TEST(is_failure_body(v));
    BOOST_TEST(errc_for_failure_body(v, false) == errc::auth);
    BOOST_TEST(!is_failure_body(boost::json::parse(R"({"success":true})")));
    BOOST_TEST(!is_failure_body(boost::json::parse(R"({"data":[]})")));
    BOOST_TEST(!is_failure_body(boost::json::parse(R"([{"success":false}])")));
    BOOST_TEST(is_failure_body(boost::json::parse(R"({"success":"false"})")));
    auto nf = boost::json::parse(R"({"success":false,"reasons":[{"code":50000040,"message":"x"}]})");
    BOOST_TEST(errc_for_failure_body(nf, false) == errc::not_found);
    auto inv = boost::json::parse(R"({"success":false,"reasons":[{"code":"50000020","message":"x"}]})");
    BOOST_TEST(errc_for_failure_body(inv, false) == errc::invalid_argument);
    BOOST_TEST(errc_for_failure_body(inv, true) == errc::conflict);
    auto rule = boost::json::parse(R"({"success":false,"reasons":[{"code":50000030}]})");
    BOOST_TEST(errc_for_failure_body(rule, false) == errc::conflict);
    auto none = boost::json::parse(R"({"success":false})");
    BOOST_TEST(errc_for_failure_body(none, true) == errc::conflict);
    BOOST_TEST(errc_for_failure_body(none, false) == errc::http_status);
}

BOOST_AUTO_TEST_CASE(track_id_sanitized)
{
    BOOST_TEST(sanitize_track_id("run-2026-11-23T10:00:00Z") == "run-2026-11-23T10_00_00Z");
    BOOST_TEST(sanitize_track_id("a;b\"c'd\xc3\xa9\n") == "a_b_c_d___");
    BOOST_TEST(sanitize_track_id(std::string(100, 'x')).size() == 64u);
    BOOST_TEST(sanitize_track_id("plain-id_01") == "plain-id_01");
}

BOOST_AUTO_TEST_CASE(token_request_and_answer)
{
    BOOST_TEST(token_request_body("id-1", "s e&c=r+t") ==
               "client_id=id-1&client_secret=s%20e%26c%3Dr%2Bt&grant_type=client_credentials");
    auto t = parse_token(R"({"access_token":"abc123","token_type":"bearer","expires_in":3599,"jti":"j"})", "login");
    BOOST_TEST_REQUIRE(t.has_value());
    BOOST_TEST(t->access_token == "abc123");
    BOOST_TEST(t->expires_in.count() == 3599);
    auto text_exp = parse_token(R"({"access_token":"abc","expires_in":"120"})", "login");
    BOOST_TEST_REQUIRE(text_exp.has_value());
    BOOST_TEST(text_exp->expires_in.count() == 120);
    auto none = parse_token(R"({"token_type":"bearer"})", "login");
    BOOST_TEST_REQUIRE(none.has_error());
    BOOST_TEST(none.error().code == errc::bad_response);
    auto not_json = parse_token("access_token=zzz-secret-zzz", "login");
    BOOST_TEST_REQUIRE(not_json.has_error());
    BOOST_TEST(!contains(not_json.error().message, "zzz-secret-zzz"));
}

BOOST_AUTO_TEST_CASE(token_lifetime_margin)
{
    BOOST_TEST(token_usable_for(3600s).count() == (3600s - 60s) / 1ms);  // 60 s < 10 %
    BOOST_TEST(token_usable_for(300s).count() == (300s - 30s) / 1ms);    // 10 % < 60 s
    BOOST_TEST(token_usable_for(1s).count() == 900);
    BOOST_TEST(token_usable_for(0s).count() == (3600s - 60s) / 1ms);     // unknown: an hour
}

BOOST_AUTO_TEST_SUITE_END()
