// SPDX-License-Identifier: Apache-2.0
// The Zuora connector against the in-process emulator (tests/emulator/README.md) on a real
// loopback socket: what goes over the wire is read back from the emulator's request log.
#include <boost/test/unit_test.hpp>

#include <emulator.hpp>
#include <support/run_coro.hpp>

#include <wfsync/config/config.hpp>
#include <wfsync/connector/connector.hpp>
#include <wfsync/core/json.hpp>
#include <wfsync/net/http_client.hpp>
#include <wfsync/net/http_server.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <fmt/format.h>

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using namespace wfsync;
using namespace wfsync::connector;
using namespace std::chrono_literals;
namespace json = boost::json;
namespace asio = boost::asio;
using wfsync::test::run_coro;

namespace {

std::string version_json(const std::string& label, bool active, const std::string& task_name)
{
    return fmt::format(
        R"({{"version":"{}","status":"{}","tasks":[{{"id":{},"name":"{}","action_type":"Query","parameters":{{}}}},
            {{"id":{},"name":"{} mail","action_type":"Email","parameters":{{}}}}],
           "linkages":[{{"linkage_type":"Success","source_task_id":null,"target_task_id":{}}}]}})",
        label, active ? "Active" : "Inactive", 0, task_name, 0, task_name, 0);
}

/// Seed: "src" (oauth2, 5 workflows, at most 2 per page), "tgt" (oauth2, workflow 205 at
/// 0.0.4), "bare" (static bearer token, bare-array listing).
std::string seed()
{
    std::string src_wfs;
    for (int i = 1; i <= 5; ++i) {
        std::string versions;
        if (i == 1) {
            versions = version_json("0.0.1", false, "one-v1") + "," + version_json("0.0.2", true, "one-v2") + "," +
                       version_json("0.0.3", false, "one-v3");
        } else {
            versions = version_json("0.0.1", true, fmt::format("wf{}", i));
        }
        if (i > 1) src_wfs += ",";
        src_wfs += fmt::format(R"({{"id":{},"name":"WF {}","versions":[{}]}})", 100 + i, i, versions);
    }
    std::string s = fmt::format(
        R"({{"tenants":{{
      "src":{{"platform":"zuora","client_id":"src-client","client_secret":"src-secret-123456",
              "page_length_max":2,"workflows":[{}]}},
      "tgt":{{"platform":"zuora","client_id":"tgt-client","client_secret":"tgt-secret-abcdef",
              "workflows":[{{"id":205,"name":"WF 1","versions":[{},{}]}}]}},
      "bare":{{"platform":"zuora","bearer_token":"static-bearer-token-1","list_shape":"bare",
               "workflows":[{{"id":301,"name":"B1","versions":[{}]}},{{"id":302,"name":"B2","versions":[{}]}},
                            {{"id":303,"name":"B3","versions":[{}]}}]}}}}}})",
        src_wfs, version_json("0.0.1", false, "t1"), version_json("0.0.4", true, "t4"),
        version_json("0.0.1", true, "b1"), version_json("0.0.1", true, "b2"), version_json("0.0.1", true, "b3"));
    // Task ids must be positive and distinct: number them here.
    std::string out;
    int next = 1000;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s.compare(i, 7, "\"id\":0,") == 0) {
            out += fmt::format("\"id\":{},", next++);
            i += 6;
        } else if (s.compare(i, 18, "\"target_task_id\":0") == 0) {
            out += fmt::format("\"target_task_id\":{}", next - 1);
            i += 17;
        } else {
            out += s[i];
        }
    }
    return out;
}

struct fixture {
    asio::io_context ioc;
    emulator::emulator emu{ioc.get_executor(), {}};

    fixture()
    {
        auto s = emu.load_seed(seed());
        BOOST_TEST_REQUIRE(s.has_value(), (s ? "" : s.error().message));
        auto st = emu.start();
        BOOST_TEST_REQUIRE(st.has_value(), (st ? "" : st.error().message));
    }
    ~fixture()
    {
        set_attempt_observer(nullptr);
        emu.stop();
    }

    config::tenant oauth_tenant(const std::string& emu_tenant, const std::string& secret)
    {
        config::tenant t;
        t.name = emu_tenant + "-t";
        t.kind = config::platform::zuora;
        t.base_url = emu.tenant_url(emu_tenant);
        t.auth.type = config::auth_type::oauth2;
        t.auth.client_id = emu_tenant + "-client";
        t.auth.client_secret = config::secret(secret);
        t.net.timeout = 5s;
        t.net.retry.max_attempts = 4;
        t.net.retry.initial_backoff = 1ms;
        t.net.retry.max_backoff = 5ms;
        t.net.rate.per_second = 0;  // unlimited
        return t;
    }
    config::tenant src() { return oauth_tenant("src", "src-secret-123456"); }
    config::tenant tgt() { return oauth_tenant("tgt", "tgt-secret-abcdef"); }

    /// The emulator's "bare" tenant (listings as a bare array) with a static bearer token.
    config::tenant bare_tenant()
    {
        config::tenant t = src();
        t.name = "bare-t";
        t.base_url = emu.tenant_url("bare");
        t.auth.type = config::auth_type::bearer;
        t.auth.token = config::secret("static-bearer-token-1");
        return t;
    }

    std::unique_ptr<wfsync::connector::connector> make(const config::tenant& t)
    {
        auto c = make_connector(ioc.get_executor(), t);
        BOOST_TEST_REQUIRE(c.has_value(), (c ? "" : c.error().message));
        return std::move(*c);
    }

    /// Logged requests of `tenant` whose path ends with `suffix` (and method, if given).
    std::vector<json::object> logged(const std::string& tenant, const std::string& suffix,
                                     const std::string& method = {})
    {
        std::vector<json::object> out;
        for (const auto& r : emu.requests(tenant)) {
            const auto& o = r.as_object();
            std::string path(o.at("path").as_string());
            if (path.size() < suffix.size() || path.compare(path.size() - suffix.size(), suffix.size(), suffix) != 0)
                continue;
            if (!method.empty() && o.at("method").as_string() != method) continue;
            out.push_back(o);
        }
        return out;
    }
    std::size_t token_requests(const std::string& tenant) { return logged(tenant, "/oauth/token", "POST").size(); }

    template <class T>
    T run(awaitable<T> aw)
    {
        return run_coro(ioc, std::move(aw));
    }
};

std::string header(const json::object& req, const std::string& name)
{
    const auto& h = req.at("headers").as_object();
    auto* v = h.if_contains(name);
    return v ? std::string(v->as_string()) : std::string();
}

bool contains(const std::string& s, std::string_view part) { return s.find(part) != std::string::npos; }

const json::object* state_workflow(const json::object& state, const std::string& id)
{
    for (const auto& w : state.at("workflows").as_array()) {
        if (member_string(w, "id") == id) return &w.as_object();
    }
    return nullptr;
}

std::vector<std::string> state_versions(const json::object& state, const std::string& id)
{
    std::vector<std::string> out;
    if (auto* w = state_workflow(state, id)) {
        for (const auto& v : w->at("versions").as_array()) out.push_back(member_string(v, "version"));
    }
    return out;
}

package export_of(fixture& f, wfsync::connector::connector& c, const std::string& id, version_ref v)
{
    auto job = f.run(c.start_export(workflow_summary{id, "", "", ""}, v));
    BOOST_TEST_REQUIRE(job.has_value(), (job ? "" : job.error().message));
    BOOST_TEST_REQUIRE(job->done);
    BOOST_TEST_REQUIRE(job->result.has_value());
    return *job->result;
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(zuora_connector, fixture)

BOOST_AUTO_TEST_CASE(token_fetched_once_for_many_concurrent_calls)
{
    auto c = make(src());
    // Five calls in flight at once, before any token exists: one fetch serves them all.
    int done = 0, ok = 0;
    // The ids outlive the calls: a coroutine keeps its reference parameters, not copies.
    const std::vector<std::string> ids{"101", "102", "103", "104", "105"};
    for (const auto& id : ids) {
        asio::co_spawn(ioc, c->list_versions(id), [&](std::exception_ptr e, auto r) {
            ++done;
            if (!e && r.has_value() && !r->empty()) ++ok;
        });
    }
    auto until = std::chrono::steady_clock::now() + 20s;
    while (done < 5 && std::chrono::steady_clock::now() < until) ioc.run_one_until(until);
    BOOST_TEST_REQUIRE(done == 5);
    BOOST_TEST(ok == 5);
    // And later calls reuse it.
    BOOST_TEST_REQUIRE(run(c->list_workflows()).has_value());
    export_of(*this, *c, "101", {});
    BOOST_TEST(token_requests("src") == 1u);
    auto tok = logged("src", "/oauth/token").at(0);
    BOOST_TEST(header(tok, "authorization").empty());  // no Authorization on the token call
    BOOST_TEST(header(tok, "content-type") == "application/x-www-form-urlencoded");
    BOOST_TEST(contains(std::string(tok.at("body").as_string()), "grant_type=client_credentials"));
    auto api = logged("src", "/versions");
    BOOST_TEST_REQUIRE(api.size() == 5u);
    BOOST_TEST(header(api[0], "authorization").rfind("Bearer ", 0) == 0u);
    BOOST_TEST(header(api[0], "accept") == "application/json");
}

BOOST_AUTO_TEST_CASE(expired_token_refreshed_once_and_call_succeeds)
{
    auto c = make(src());
    BOOST_TEST_REQUIRE(run(c->list_versions("101")).has_value());
    BOOST_TEST_REQUIRE(emu.expire_tokens("src").has_value());
    auto v = run(c->list_versions("101"));
    BOOST_TEST_REQUIRE(v.has_value(), (v ? "" : v.error().message));
    BOOST_TEST(v->size() == 3u);
    BOOST_TEST(token_requests("src") == 2u);
    auto calls = logged("src", "/workflows/101/versions");
    BOOST_TEST_REQUIRE(calls.size() == 3u);  // ok, 401, ok
    BOOST_TEST(calls[1].at("status").as_int64() == 401);
    BOOST_TEST(calls[2].at("status").as_int64() == 200);
}

BOOST_AUTO_TEST_CASE(second_401_after_refresh_is_auth_error)
{
    auto c = make(src());
    BOOST_TEST_REQUIRE(emu.add_fault(json::object{{"tenant", "src"},
                                                  {"path_contains", "/workflows/102/versions"},
                                                  {"kind", "status"},
                                                  {"status", 401},
                                                  {"count", 5}})
                           .has_value());
    auto r = run(c->list_versions("102"));
    BOOST_TEST_REQUIRE(r.has_error());
    BOOST_TEST(r.error().code == errc::auth);
    BOOST_TEST(r.error().http_status == 401);
    BOOST_TEST(contains(r.error().message, "tenant src-t: list of versions of workflow 102: HTTP 401"),
               r.error().message);
    BOOST_TEST(logged("src", "/workflows/102/versions").size() == 2u);  // one retry, not more
    BOOST_TEST(token_requests("src") == 2u);
}

BOOST_AUTO_TEST_CASE(lists_every_page)
{
    auto c = make(src());
    auto all = run(c->list_workflows());
    BOOST_TEST_REQUIRE(all.has_value(), (all ? "" : all.error().message));
    BOOST_TEST_REQUIRE(all->size() == 5u);
    for (int i = 0; i < 5; ++i) {
        BOOST_TEST((*all)[i].id == std::to_string(101 + i));
        BOOST_TEST((*all)[i].name == fmt::format("WF {}", i + 1));
    }
    BOOST_TEST((*all)[0].active_version == "0.0.2");
    BOOST_TEST((*all)[0].latest_version == "0.0.3");
    auto pages = logged("src", "/workflows", "GET");
    BOOST_TEST_REQUIRE(pages.size() == 3u);  // 2 + 2 + 1, the last with next_page null
    BOOST_TEST(pages[0].at("query").as_string() == "page=1&page_length=50");
    BOOST_TEST(pages[2].at("query").as_string() == "page=3&page_length=50");
}

BOOST_AUTO_TEST_CASE(bare_list_with_static_bearer_token)
{
    auto c = make(bare_tenant());
    auto all = run(c->list_workflows());
    BOOST_TEST_REQUIRE(all.has_value(), (all ? "" : all.error().message));
    BOOST_TEST_REQUIRE(all->size() == 3u);
    BOOST_TEST((*all)[2].id == "303");
    auto pages = logged("bare", "/workflows", "GET");
    // A short bare page might be a full one at the server's cap: the next, empty, ends it.
    BOOST_TEST(pages.size() == 2u);
    BOOST_TEST(header(pages.at(0), "authorization") == "Bearer static-bearer-token-1");
    BOOST_TEST(token_requests("bare") == 0u);
    BOOST_TEST(run(c->check_login()).has_value());

    // A static token has nothing to refresh: a 401 is final at once.
    BOOST_TEST_REQUIRE(emu.expire_tokens("bare").has_value());
    auto r = run(c->list_workflows());
    BOOST_TEST_REQUIRE(r.has_error());
    BOOST_TEST(r.error().code == errc::auth);
    BOOST_TEST(!contains(r.error().message, "static-bearer-token-1"));
}

BOOST_AUTO_TEST_CASE(bare_list_capped_below_the_page_length_asked_for_loses_nothing)
{
    // Two workflows a page, whatever page_length says, and no paging hints: found by the crash
    // matrix, where every workflow after the first page went missing.
    auto capped = json::parse(seed()).as_object();
    capped["tenants"].as_object()["bare"].as_object()["page_length_max"] = 2;
    BOOST_TEST_REQUIRE(emu.load_seed(json::serialize(capped)).has_value());
    auto c = make(bare_tenant());
    auto all = run(c->list_workflows());
    BOOST_TEST_REQUIRE(all.has_value(), (all ? "" : all.error().message));
    BOOST_TEST_REQUIRE(all->size() == 3u);
    BOOST_TEST((*all)[2].id == "303");
    BOOST_TEST(logged("bare", "/workflows", "GET").size() == 2u);  // 2, then 1: shorter, the last
}

BOOST_AUTO_TEST_CASE(exports_latest_active_and_exact)
{
    auto c = make(src());
    auto latest = export_of(*this, *c, "101", {version_ref::kind::latest, ""});
    BOOST_TEST(latest.version == "0.0.3");
    BOOST_TEST(latest.format == "zuora-json");
    BOOST_TEST(latest.workflow_id == "101");
    BOOST_TEST(latest.workflow_name == "WF 1");
    auto doc = json::parse(latest.files.at("workflow.json"));
    BOOST_TEST(doc.at("tasks").as_array().at(0).at("name").as_string() == "one-v3");

    auto active = export_of(*this, *c, "101", {version_ref::kind::active, ""});
    BOOST_TEST(active.version == "0.0.2");
    auto exact = export_of(*this, *c, "101", {version_ref::kind::exact, "0.0.1"});
    BOOST_TEST(exact.version == "0.0.1");
    BOOST_TEST(json::parse(exact.files.at("workflow.json")).at("tasks").as_array().at(0).at("name").as_string() ==
               "one-v1");

    auto calls = logged("src", "/workflows/101/export", "GET");
    BOOST_TEST_REQUIRE(calls.size() == 3u);
    BOOST_TEST(calls[0].at("query").as_string() == "version=latest");
    BOOST_TEST(calls[1].at("query").as_string() == "");  // no parameter = the active version
    BOOST_TEST(calls[2].at("query").as_string() == "version=0.0.1");

    auto missing = run(c->start_export(workflow_summary{"101", "WF 1", "", ""}, {version_ref::kind::exact, "9.9.9"}));
    BOOST_TEST_REQUIRE(missing.has_error());
    BOOST_TEST(missing.error().code == errc::not_found);
    BOOST_TEST(missing.error().http_status == 404);
    BOOST_TEST(contains(missing.error().message, "tenant src-t: export of workflow 101 version 9.9.9: HTTP 404"),
               missing.error().message);

    auto job = run(c->start_export(workflow_summary{"101", "WF 1", "", ""}, {}));
    BOOST_TEST_REQUIRE(job.has_value());
    auto polled = run(c->poll_export(workflow_summary{"101", "WF 1", "", ""}, *job));
    BOOST_TEST_REQUIRE(polled.has_value());
    BOOST_TEST(polled->done);
    BOOST_TEST(polled->result->version == job->result->version);
}

BOOST_AUTO_TEST_CASE(lists_versions_with_active_flag)
{
    auto c = make(src());
    auto v = run(c->list_versions("101"));
    BOOST_TEST_REQUIRE(v.has_value());
    BOOST_TEST_REQUIRE(v->size() == 3u);
    int active = 0;
    for (const auto& s : *v) {
        BOOST_TEST(!s.id.empty());
        if (s.active) {
            ++active;
            BOOST_TEST(s.version == "0.0.2");
        }
    }
    BOOST_TEST(active == 1);
    auto missing = run(c->list_versions("999"));
    BOOST_TEST_REQUIRE(missing.has_error());
    BOOST_TEST(missing.error().code == errc::not_found);
}

BOOST_AUTO_TEST_CASE(imports_new_version_with_idempotency_key)
{
    auto s = make(src());
    auto t = make(tgt());
    auto pkg = export_of(*this, *s, "101", {});
    import_request req;
    req.target_workflow = "205";
    req.version = "0.0.5";
    req.activate = true;
    req.idempotency_key = "key-import-1";
    req.content = &pkg;
    auto r = run(t->import_package(req));
    BOOST_TEST_REQUIRE(r.has_value(), (r ? "" : r.error().message));
    BOOST_TEST(r->target_workflow == "205");
    BOOST_TEST(r->version == "0.0.5");
    BOOST_TEST(r->done);

    auto versions = state_versions(emu.state("tgt"), "205");
    BOOST_TEST(versions == (std::vector<std::string>{"0.0.1", "0.0.4", "0.0.5"}), boost::test_tools::per_element());
    auto calls = logged("tgt", "/workflows/205/versions/import", "POST");
    BOOST_TEST_REQUIRE(calls.size() == 1u);
    BOOST_TEST(header(calls[0], "idempotency-key") == "key-import-1");
    BOOST_TEST(contains(header(calls[0], "content-type"), "application/json"));
    BOOST_TEST(calls[0].at("query").as_string() == "version=0.0.5&activate=true");

    // The same key again: the stored answer comes back and nothing new is created.
    auto again = run(t->import_package(req));
    BOOST_TEST_REQUIRE(again.has_value(), (again ? "" : again.error().message));
    BOOST_TEST(again->version == "0.0.5");
    BOOST_TEST(state_versions(emu.state("tgt"), "205").size() == 3u);
    BOOST_TEST(logged("tgt", "/workflows/205/versions/import").at(1).at("replayed").as_bool());
}

BOOST_AUTO_TEST_CASE(large_import_body_is_sent_gzip_compressed)
{
    auto s = make(src());
    auto t = make(tgt());
    auto pkg = export_of(*this, *s, "101", {});
    auto doc = json::parse(pkg.files.at("workflow.json")).as_object();
    doc["tasks"].as_array().at(0).as_object()["parameters"].as_object()["note"] = std::string(8000, 'x');
    pkg.files["workflow.json"] = json::serialize(doc);
    import_request req;
    req.target_workflow = "205";
    req.version = "0.0.6";
    req.idempotency_key = "key-gzip-1";
    req.content = &pkg;
    auto r = run(t->import_package(req));
    BOOST_TEST_REQUIRE(r.has_value(), (r ? "" : r.error().message));
    auto calls = logged("tgt", "/workflows/205/versions/import", "POST");
    BOOST_TEST_REQUIRE(calls.size() == 1u);
    BOOST_TEST(header(calls[0], "content-encoding") == "gzip");
    BOOST_TEST(state_versions(emu.state("tgt"), "205").back() == "0.0.6");

    // A small body goes as it is.
    auto small = export_of(*this, *s, "101", {});
    req.version = "0.0.7";
    req.idempotency_key = "key-gzip-2";
    req.content = &small;
    BOOST_TEST_REQUIRE(run(t->import_package(req)).has_value());
    auto plain = logged("tgt", "/workflows/205/versions/import", "POST");
    BOOST_TEST_REQUIRE(plain.size() == 2u);
    BOOST_TEST(header(plain[1], "content-encoding").empty());
}

BOOST_AUTO_TEST_CASE(import_after_token_expiry_refreshes_and_imports_once)
{
    auto s = make(src());
    auto t = make(tgt());
    auto pkg = export_of(*this, *s, "102", {});
    BOOST_TEST_REQUIRE(run(t->list_versions("205")).has_value());
    BOOST_TEST_REQUIRE(emu.expire_tokens("tgt").has_value());
    import_request req{"205", "", "0.0.6", false, "key-after-expiry", &pkg};
    auto r = run(t->import_package(req));
    BOOST_TEST_REQUIRE(r.has_value(), (r ? "" : r.error().message));
    BOOST_TEST(token_requests("tgt") == 2u);
    BOOST_TEST(state_versions(emu.state("tgt"), "205").back() == "0.0.6");
    BOOST_TEST(logged("tgt", "/versions/import").at(0).at("query").as_string() == "version=0.0.6&activate=false");
}

BOOST_AUTO_TEST_CASE(creates_missing_definition_under_new_name)
{
    auto s = make(src());
    auto t = make(tgt());
    auto pkg = export_of(*this, *s, "103", {});
    import_request req;
    req.target_name = "Copied WF";
    req.version = "0.0.1";
    req.idempotency_key = "key-create-1";
    req.content = &pkg;
    auto r = run(t->import_package(req));
    BOOST_TEST_REQUIRE(r.has_value(), (r ? "" : r.error().message));
    BOOST_TEST(!r->target_workflow.empty());
    BOOST_TEST(r->target_workflow != "103");
    BOOST_TEST(r->target_workflow != "205");
    BOOST_TEST(r->version == "0.0.1");
    auto state = emu.state("tgt");
    auto* w = state_workflow(state, r->target_workflow);
    BOOST_TEST_REQUIRE(w != nullptr);
    BOOST_TEST(w->at("name").as_string() == "Copied WF");
    auto calls = logged("tgt", "/workflows/import", "POST");
    BOOST_TEST_REQUIRE(calls.size() == 1u);
    BOOST_TEST(header(calls[0], "idempotency-key") == "key-create-1");
    BOOST_TEST(calls[0].at("query").as_string() == "version=0.0.1&activate=false");
}

BOOST_AUTO_TEST_CASE(lower_version_import_is_conflict_with_platform_text)
{
    auto s = make(src());
    auto t = make(tgt());
    auto pkg = export_of(*this, *s, "101", {});
    import_request req{"205", "", "0.0.3", false, "key-low-1", &pkg};
    auto r = run(t->import_package(req));
    BOOST_TEST_REQUIRE(r.has_error());
    BOOST_TEST(r.error().code == errc::conflict);
    BOOST_TEST(r.error().http_status == 400);
    BOOST_TEST(r.error().message.rfind("tenant tgt-t: import of workflow 205 version 0.0.3: HTTP 400: "
                                       "version must be greater",
                                       0) == 0u,
               r.error().message);
    BOOST_TEST(contains(r.error().message, "'0.0.4'"), r.error().message);
    BOOST_TEST(state_versions(emu.state("tgt"), "205").size() == 2u);
}

BOOST_AUTO_TEST_CASE(track_id_sanitized_and_sent_on_every_call)
{
    auto c = make(src());
    c->set_run_id("run:2026-11-23;\"x\"");
    BOOST_TEST_REQUIRE(run(c->list_versions("101")).has_value());
    auto all = emu.requests("src");
    BOOST_TEST_REQUIRE(all.size() == 2u);  // token + call
    for (const auto& r : all) BOOST_TEST(header(r.as_object(), "zuora-track-id") == "run_2026-11-23__x_");
}

BOOST_AUTO_TEST_CASE(entity_id_header_sent_when_configured)
{
    auto t = src();
    t.entity_id = "9f3c0a52-1111-2222-3333-444455556666";
    auto c = make(t);
    BOOST_TEST_REQUIRE(run(c->list_versions("101")).has_value());
    BOOST_TEST(header(logged("src", "/versions").at(0), "zuora-entity-ids") == t.entity_id);
}

BOOST_AUTO_TEST_CASE(status_503_is_retried)
{
    std::mutex mu;
    std::vector<int> statuses;
    set_attempt_observer([&](const std::string& tenant, const net::attempt_record& a) {
        std::lock_guard lock(mu);
        if (tenant == "src-t" && a.target.find("/versions") != std::string::npos) statuses.push_back(a.status);
    });
    auto c = make(src());
    BOOST_TEST_REQUIRE(emu.add_fault(json::object{{"tenant", "src"},
                                                  {"path_contains", "/workflows/101/versions"},
                                                  {"kind", "status"},
                                                  {"status", 503},
                                                  {"count", 2}})
                           .has_value());
    auto v = run(c->list_versions("101"));
    BOOST_TEST_REQUIRE(v.has_value(), (v ? "" : v.error().message));
    auto calls = logged("src", "/workflows/101/versions");
    BOOST_TEST_REQUIRE(calls.size() == 3u);
    BOOST_TEST(calls[0].at("status").as_int64() == 503);
    BOOST_TEST(calls[1].at("status").as_int64() == 503);
    BOOST_TEST(calls[2].at("status").as_int64() == 200);
    BOOST_TEST(statuses == (std::vector<int>{503, 503, 200}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(concurrent_callers_share_a_failed_login)
{
    auto c = make(oauth_tenant("src", "wrong-secret-value-42"));
    int done = 0, auth_errors = 0;
    const std::vector<std::string> ids{"101", "102", "103"};  // outlive the calls
    for (const auto& id : ids) {
        asio::co_spawn(ioc, c->list_versions(id), [&](std::exception_ptr e, auto r) {
            ++done;
            if (!e && r.has_error() && r.error().code == errc::auth &&
                !contains(r.error().message, "wrong-secret-value-42"))
                ++auth_errors;
        });
    }
    auto until = std::chrono::steady_clock::now() + 20s;
    while (done < 3 && std::chrono::steady_clock::now() < until) ioc.run_one_until(until);
    BOOST_TEST_REQUIRE(done == 3);
    BOOST_TEST(auth_errors == 3);
    BOOST_TEST(token_requests("src") == 1u);  // the waiters got the one fetch's error
}

BOOST_AUTO_TEST_CASE(bad_credentials_are_auth_error_without_secret)
{
    auto c = make(oauth_tenant("src", "wrong-secret-value-42"));
    auto r = run(c->list_workflows());
    BOOST_TEST_REQUIRE(r.has_error());
    BOOST_TEST(r.error().code == errc::auth);
    BOOST_TEST(r.error().http_status == 401);
    BOOST_TEST(contains(r.error().message, "tenant src-t: list of workflows page 1: login: HTTP 401: invalid credentials"),
               r.error().message);
    BOOST_TEST(!contains(r.error().message, "wrong-secret-value-42"));
    BOOST_TEST(logged("src", "/workflows", "GET").empty());  // no API call without a token

    auto login = run(c->check_login());
    BOOST_TEST_REQUIRE(login.has_error());
    BOOST_TEST(login.error().code == errc::auth);
    BOOST_TEST(!contains(login.error().message, "wrong-secret-value-42"));
    BOOST_TEST(token_requests("src") == 2u);
}

BOOST_AUTO_TEST_CASE(other_platforms_check_their_own_settings)
{
    // A Zuora-shaped tenant (oauth2) marked as another platform goes to that platform's
    // connector, which refuses it.
    config::tenant t = src();
    t.kind = config::platform::kore;
    auto r = make_connector(ioc.get_executor(), t);
    BOOST_TEST_REQUIRE(r.has_error());
    BOOST_TEST(r.error().code == errc::config);
    BOOST_TEST(r.error().message == "tenant src-t: Kore.ai supports only api_key auth");
    t.kind = config::platform::secmaster;
    auto s = make_connector(ioc.get_executor(), t);
    BOOST_TEST_REQUIRE(s.has_error());
    BOOST_TEST(s.error().code == errc::config);
    BOOST_TEST(s.error().message.starts_with("tenant src-t: "), s.error().message);

    auto no_secret = src();
    no_secret.auth.client_secret = config::secret();
    BOOST_TEST(make_connector(ioc.get_executor(), no_secret).error().code == errc::config);
}

BOOST_AUTO_TEST_CASE(token_fetch_retried_on_503_and_429)
{
    auto c = make(src());
    BOOST_TEST_REQUIRE(emu.add_fault(json::object{{"tenant", "src"},
                                                  {"path_contains", "/oauth/token"},
                                                  {"kind", "status"},
                                                  {"status", 503},
                                                  {"count", 1}})
                           .has_value());
    BOOST_TEST_REQUIRE(emu.add_fault(json::object{{"tenant", "src"},
                                                  {"path_contains", "/oauth/token"},
                                                  {"kind", "status"},
                                                  {"status", 429},
                                                  {"count", 1}})
                           .has_value());
    auto ok = run(c->check_login());
    BOOST_TEST_REQUIRE(ok.has_value(), (ok ? "" : ok.error().message));
    auto tokens = logged("src", "/oauth/token");
    BOOST_TEST_REQUIRE(tokens.size() == 3u);
    BOOST_TEST(tokens[2].at("status").as_int64() == 200);
    BOOST_TEST(tokens[0].at("status").as_int64() + tokens[1].at("status").as_int64() == 503 + 429);

    // Failing every time: after max_attempts (4) the last status is reported.
    auto d = make(src());
    BOOST_TEST_REQUIRE(emu.add_fault(json::object{{"tenant", "src"},
                                                  {"path_contains", "/oauth/token"},
                                                  {"kind", "status"},
                                                  {"status", 503},
                                                  {"count", 10}})
                           .has_value());
    auto bad = run(d->check_login());
    BOOST_TEST_REQUIRE(bad.has_error());
    BOOST_TEST(bad.error().http_status == 503);
    BOOST_TEST(contains(bad.error().message, "tenant src-t: check login: login:"), bad.error().message);
    BOOST_TEST(logged("src", "/oauth/token").size() == 3u + 4u);
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------------------------------
// Answers the emulator never gives: a scripted server shows how the connector copes with
// odd or broken platforms.

namespace {

struct scripted {
    asio::io_context ioc;
    std::vector<net::server_request> seen;
    std::function<net::server_response(const net::server_request&)> answer;
    std::unique_ptr<net::http_server> server;

    static awaitable<net::server_response> handle(scripted* self, net::server_request req)
    {
        self->seen.push_back(req);
        co_return self->answer(req);
    }

    scripted()
    {
        server = std::make_unique<net::http_server>(
            ioc.get_executor(), net::server_settings{},
            [this](net::server_request req) { return handle(this, std::move(req)); });
        auto s = server->start();
        BOOST_TEST_REQUIRE(s.has_value(), (s ? "" : s.error().message));
    }
    ~scripted() { server->stop(); }

    config::tenant tenant()
    {
        config::tenant t;
        t.name = "odd-t";
        t.base_url = server->base_url() + "/api";
        t.auth.type = config::auth_type::bearer;
        t.auth.token = config::secret("odd-static-token");
        t.net.timeout = 5s;
        t.net.retry.max_attempts = 2;
        t.net.retry.initial_backoff = 1ms;
        t.net.retry.max_backoff = 2ms;
        t.net.rate.per_second = 0;
        return t;
    }
    std::unique_ptr<wfsync::connector::connector> make(const config::tenant& t)
    {
        auto c = make_connector(ioc.get_executor(), t);
        BOOST_TEST_REQUIRE(c.has_value(), (c ? "" : c.error().message));
        return std::move(*c);
    }
    template <class T>
    T run(awaitable<T> aw)
    {
        return run_coro(ioc, std::move(aw));
    }
};

net::server_response reply(int status, std::string body, std::string type = "application/json")
{
    net::server_response r;
    r.status = status;
    r.body = std::move(body);
    r.content_type = std::move(type);
    return r;
}

std::string query_value(const std::string& query, const std::string& key)
{
    auto pos = ("&" + query).find("&" + key + "=");
    if (pos == std::string::npos) return {};
    auto start = pos + key.size() + 1;
    auto end = query.find('&', start);
    return query.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(zuora_connector_odd_server, scripted)

BOOST_AUTO_TEST_CASE(http_200_with_success_false_is_an_error)
{
    answer = [](const net::server_request&) {
        return reply(200, R"({"success":false,"reasons":[{"code":50000040,"message":"workflow 7 is gone"}]})");
    };
    auto c = make(tenant());
    auto r = run(c->list_versions("7"));
    BOOST_TEST_REQUIRE(r.has_error());
    BOOST_TEST(r.error().code == errc::not_found);
    BOOST_TEST(r.error().message ==
               "tenant odd-t: list of versions of workflow 7: HTTP 200 with success=false: workflow 7 is gone");
    BOOST_TEST_REQUIRE(seen.size() == 1u);
    BOOST_TEST(seen[0].path == "/api/workflows/7/versions");
    BOOST_TEST(*seen[0].headers.find("Authorization") == "Bearer odd-static-token");
}

BOOST_AUTO_TEST_CASE(page_repeating_ids_stops_paging_with_error)
{
    // A server that ignores `page` and always claims there is more.
    answer = [](const net::server_request&) {
        return reply(200, R"({"data":[{"id":1,"name":"a"},{"id":2,"name":"b"}],"pagination":{"next_page":"more"}})");
    };
    auto c = make(tenant());
    auto r = run(c->list_workflows());
    BOOST_TEST_REQUIRE(r.has_error());
    BOOST_TEST(r.error().code == errc::bad_response);
    BOOST_TEST(contains(r.error().message, "tenant odd-t: list of workflows page 2: the page only repeats"),
               r.error().message);
    BOOST_TEST(seen.size() == 2u);
}

BOOST_AUTO_TEST_CASE(bare_pages_end_at_a_short_or_empty_page)
{
    // Full bare pages of 50, then 3: two requests, 53 workflows.
    answer = [](const net::server_request& req) {
        int page = std::stoi(query_value(req.query, "page"));
        int n = page == 1 ? 50 : page == 2 ? 3 : 0;
        json::array a;
        for (int i = 0; i < n; ++i) a.push_back(json::object{{"id", page * 1000 + i}, {"name", "w"}});
        return reply(200, json::serialize(a));
    };
    auto c = make(tenant());
    auto r = run(c->list_workflows());
    BOOST_TEST_REQUIRE(r.has_value(), (r ? "" : r.error().message));
    BOOST_TEST(r->size() == 53u);
    BOOST_TEST(seen.size() == 2u);

    // Exactly 50: the next page is empty and ends it.
    seen.clear();
    answer = [](const net::server_request& req) {
        int page = std::stoi(query_value(req.query, "page"));
        json::array a;
        for (int i = 0; page == 1 && i < 50; ++i) a.push_back(json::object{{"id", i + 1}});
        return reply(200, json::serialize(a));
    };
    auto exact = run(c->list_workflows());
    BOOST_TEST_REQUIRE(exact.has_value());
    BOOST_TEST(exact->size() == 50u);
    BOOST_TEST(seen.size() == 2u);
}

BOOST_AUTO_TEST_CASE(invalid_json_names_position)
{
    answer = [](const net::server_request&) { return reply(200, R"({"data":[{"id":1},)"); };
    auto c = make(tenant());
    auto r = run(c->list_workflows());
    BOOST_TEST_REQUIRE(r.has_error());
    BOOST_TEST(r.error().code == errc::bad_response);
    BOOST_TEST(contains(r.error().message, "tenant odd-t: list of workflows page 1: invalid JSON at byte 18 of 18"),
               r.error().message);
}

BOOST_AUTO_TEST_CASE(export_without_tasks_is_bad_response_naming_workflow)
{
    answer = [](const net::server_request&) { return reply(200, R"({"workflow":{"id":9,"name":"x"}})"); };
    auto c = make(tenant());
    auto r = run(c->start_export(workflow_summary{"9", "x", "", ""}, {}));
    BOOST_TEST_REQUIRE(r.has_error());
    BOOST_TEST(r.error().code == errc::bad_response);
    BOOST_TEST(contains(r.error().message, "tenant odd-t: export of workflow 9 version latest: not a workflow "
                                           "export of workflow 9: \"tasks\" is missing"),
               r.error().message);
}

BOOST_AUTO_TEST_CASE(non_json_error_page_quoted_in_part)
{
    answer = [](const net::server_request&) {
        return reply(418, "<html><body>teapot\nproxy</body></html>", "text/html");
    };
    auto c = make(tenant());
    auto r = run(c->list_versions("5"));
    BOOST_TEST_REQUIRE(r.has_error());
    BOOST_TEST(r.error().code == errc::http_status);
    BOOST_TEST(r.error().http_status == 418);
    BOOST_TEST(r.error().message ==
               "tenant odd-t: list of versions of workflow 5: HTTP 418: <html><body>teapot proxy</body></html>");
}

BOOST_AUTO_TEST_CASE(unreadable_import_answer_is_unknown_outcome)
{
    answer = [](const net::server_request&) { return reply(200, "OK"); };
    auto c = make(tenant());
    package p;
    p.format = "zuora-json";
    p.files["workflow.json"] = R"({"workflow":{"name":"n"},"tasks":[],"linkages":[]})";
    import_request req{"44", "", "1.0.0", true, "k-1", &p};
    auto r = run(c->import_package(req));
    BOOST_TEST_REQUIRE(r.has_error());
    BOOST_TEST(r.error().code == errc::unknown_outcome);
    BOOST_TEST_REQUIRE(seen.size() == 1u);
    BOOST_TEST(seen[0].body == p.files["workflow.json"]);  // bytes sent as exported
    BOOST_TEST(seen[0].path == "/api/workflows/44/versions/import");
    BOOST_TEST(seen[0].query == "version=1.0.0&activate=true");

    // A package of another platform is refused before anything is sent.
    package kore;
    kore.format = "kore-zip";
    import_request wrong{"44", "", "1.0.0", true, "k-2", &kore};
    auto w = run(c->import_package(wrong));
    BOOST_TEST_REQUIRE(w.has_error());
    BOOST_TEST(w.error().code == errc::invalid_argument);
    BOOST_TEST(seen.size() == 1u);
}

BOOST_AUTO_TEST_CASE(custom_token_url_and_expiry_margin)
{
    int tokens = 0;
    answer = [&](const net::server_request& req) {
        if (req.path == "/auth/custom-token") {
            ++tokens;
            return reply(200, fmt::format(R"({{"access_token":"tok-{}-abcdef","expires_in":3599}})", tokens));
        }
        return reply(200, R"({"data":[]})");
    };
    auto t = tenant();
    t.auth.type = config::auth_type::oauth2;
    t.auth.client_id = "cid";
    t.auth.client_secret = config::secret("custom-secret-xyz");
    t.auth.token_url = server->base_url() + "/auth/custom-token";
    auto c = make(t);
    BOOST_TEST_REQUIRE(run(c->list_versions("1")).has_value());
    BOOST_TEST_REQUIRE(run(c->list_versions("2")).has_value());
    BOOST_TEST(tokens == 1);
    BOOST_TEST_REQUIRE(seen.size() == 3u);
    BOOST_TEST(seen[0].path == "/auth/custom-token");
    BOOST_TEST(seen[0].body == "client_id=cid&client_secret=custom-secret-xyz&grant_type=client_credentials");
    BOOST_TEST(seen[0].headers.find("Authorization") == nullptr);
    BOOST_TEST(*seen[2].headers.find("Authorization") == "Bearer tok-1-abcdef");
}

BOOST_AUTO_TEST_CASE(unreachable_host_is_transport_error_naming_the_call)
{
    auto t = tenant();
    auto port = server->port();
    server->stop();  // nothing listens there any more
    t.base_url = fmt::format("http://127.0.0.1:{}/api", port);
    auto c = make(t);
    auto r = run(c->list_workflows());
    BOOST_TEST_REQUIRE(r.has_error());
    BOOST_TEST((r.error().code == errc::transport || r.error().code == errc::timeout), r.error().what());
    BOOST_TEST(r.error().message.rfind("tenant odd-t: list of workflows page 1: ", 0) == 0u, r.error().message);
    BOOST_TEST(!contains(r.error().message, "odd-static-token"));
}

BOOST_AUTO_TEST_CASE(token_refreshed_before_it_expires)
{
    // expires_in 1 s: used for 900 ms (10 % margin), then a new one is fetched before any
    // call is refused. Bounded poll: at most 5 s.
    int tokens = 0;
    answer = [&](const net::server_request& req) {
        if (req.path == "/api/oauth/token") {
            ++tokens;
            return reply(200, fmt::format(R"({{"access_token":"short-{}-token","expires_in":1}})", tokens));
        }
        return reply(200, R"([])");
    };
    auto t = tenant();
    t.auth.type = config::auth_type::oauth2;
    t.auth.client_id = "cid";
    t.auth.client_secret = config::secret("short-secret-xyz");
    auto c = make(t);
    BOOST_TEST_REQUIRE(run(c->list_versions("1")).has_value());
    BOOST_TEST(tokens == 1);
    auto until = std::chrono::steady_clock::now() + 5s;
    while (tokens < 2 && std::chrono::steady_clock::now() < until) {
        BOOST_TEST_REQUIRE(run(c->list_versions("1")).has_value());
        if (tokens < 2) std::this_thread::sleep_for(50ms);
    }
    BOOST_TEST_REQUIRE(tokens == 2);
    BOOST_TEST(*seen.back().headers.find("Authorization") == "Bearer short-2-token");
}

BOOST_AUTO_TEST_SUITE_END()
