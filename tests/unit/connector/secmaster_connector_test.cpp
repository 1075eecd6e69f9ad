// SPDX-License-Identifier: Apache-2.0
// The SecMaster connector against the in-process emulator's SecMaster tenants
// (tests/emulator/README.md, section SecMaster) on a real loopback socket; what goes over the
// wire is read back from the emulator's request log.
#include <boost/test/unit_test.hpp>

#include <emulator.hpp>
#include <support/run_coro.hpp>

#include <wfsync/config/config.hpp>
#include <wfsync/connector/connector.hpp>
#include <wfsync/net/http_server.hpp>
#include <wfsync/net/multipart.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>

#include <fmt/format.h>

#include <set>
#include <thread>

using namespace wfsync;
using namespace wfsync::connector;
using namespace std::chrono_literals;
namespace json = boost::json;
namespace asio = boost::asio;
using wfsync::test::run_coro;

namespace {

constexpr const char* password = "pw-\"Sup3r\"-s3cret";
constexpr const char* static_token = "static-sm-token-98765";
constexpr const char* wf_a = "c19470f3-5eaf-4572-82e8-2ff094495919";
constexpr const char* wf_b = "0b4f6a8e-1111-4222-8333-944455556666";
constexpr const char* wf_draft = "d2a7e3c1-2222-4333-8444-a55566667777";  // "draft": v1 activated, v2 not
constexpr const char* wf_kept = "e3b8f4d2-3333-4444-8555-b66677778888";   // "leave": v1 activated

json::object doc(int n) { return json::object{{"steps", json::array{"triage", n}}, {"timeout", n}}; }

json::array many(int n)
{
    json::array out;
    for (int i = 0; i < n; ++i)
        out.push_back(json::object{{"name", fmt::format("WF {:03}", i)},
                                   {"versions", json::array{json::object{{"status", "activated"}, {"document", doc(i)}}}}});
    return out;
}

std::string seed()
{
    json::object iam{{"user", "ops"}, {"domain", "acme"}, {"password", password}, {"project", "ap-southeast-1"}};
    json::array sm_wfs{
        json::object{{"id", wf_a},
                     {"name", "Phishing triage"},
                     {"description", "mail"},
                     {"versions", json::array{json::object{{"version", "v1"}, {"status", "not_activated"}, {"document", doc(1)}},
                                              json::object{{"version", "v2"}, {"status", "activated"}, {"document", doc(2)}}}}},
        json::object{{"id", wf_b},
                     {"name", "Malware block"},
                     {"versions", json::array{json::object{{"version", "v1"}, {"status", "activated"}, {"document", doc(7)}}}}}};
    auto tenant = [&](json::array wfs) {
        return json::object{{"platform", "secmaster"}, {"project_id", "proj-1"}, {"workspace_id", "ws-1"},
                            {"iam", iam},               {"bearer_token", static_token}, {"workflows", std::move(wfs)}};
    };
    auto tgt = tenant({});
    auto big = tenant(many(205));
    auto capped = tenant(many(90));
    capped["limit_max"] = 40;
    auto short_lived = tenant(many(1));
    short_lived["token_ttl_seconds"] = 1;
    // A workflow whose newest version is not activated: the export gives v1, the detail any.
    auto draft = tenant(json::array{json::object{
        {"id", wf_draft},
        {"name", "Draft flow"},
        {"versions",
         json::array{json::object{{"version", "v1"}, {"status", "activated"}, {"document", doc(11)}},
                     json::object{{"version", "v2"}, {"status", "not_activated"}, {"document", doc(12)}}}}}});
    // Imports stored not_activated; "approval" also refuses PUT status=activated.
    auto leave = tenant(json::array{json::object{
        {"id", wf_kept},
        {"name", "Phishing triage"},
        {"versions", json::array{json::object{{"version", "v1"}, {"status", "activated"}, {"document", doc(5)}}}}}});
    leave["import_activation"] = "leave";
    auto approval = tenant({});
    approval["import_activation"] = "leave";
    approval["activation"] = "needs_approval";
    return json::serialize(json::object{{"tenants", {{"sm", tenant(sm_wfs)},
                                                     {"tgt", tgt},
                                                     {"big", big},
                                                     {"capped", capped},
                                                     {"short", short_lived},
                                                     {"draft", draft},
                                                     {"leave", leave},
                                                     {"approval", approval}}}});
}

bool contains(const std::string& s, std::string_view part) { return s.find(part) != std::string::npos; }

std::string header(const json::value& req, const std::string& name)
{
    auto* h = req.at("headers").as_object().if_contains(name);
    return h ? std::string(h->as_string()) : std::string();
}

struct fixture {
    asio::io_context ioc;
    emulator::emulator emu{ioc.get_executor(), {}};

    fixture()
    {
        auto s = emu.load_seed(seed());
        BOOST_TEST_REQUIRE(s.has_value(), (s ? "" : s.error().message));
        auto st = emu.start();
        BOOST_TEST_REQUIRE(st.has_value());
    }
    ~fixture() { emu.stop(); }

    config::tenant iam_tenant(const std::string& emu_tenant)
    {
        config::tenant t;
        t.name = emu_tenant + "-t";
        t.kind = config::platform::secmaster;
        t.base_url = emu.tenant_url(emu_tenant);
        t.project_id = "proj-1";
        t.workspace_id = "ws-1";
        t.auth.type = config::auth_type::iam_password;
        t.auth.iam_url = emu.tenant_url(emu_tenant) + "/iam";
        t.auth.user = "ops";
        t.auth.domain = "acme";
        t.auth.project = "ap-southeast-1";
        t.auth.password = config::secret(password);
        t.net.timeout = 5s;
        t.net.retry.max_attempts = 3;
        t.net.retry.initial_backoff = 1ms;
        t.net.retry.max_backoff = 5ms;
        t.net.rate.per_second = 0;
        return t;
    }
    config::tenant bearer_tenant(const std::string& emu_tenant)
    {
        auto t = iam_tenant(emu_tenant);
        t.auth.type = config::auth_type::bearer;
        t.auth.token = config::secret(static_token);
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
    /// Logged requests of `tenant` whose path contains `part` (and method, if given).
    std::vector<json::value> logged(const std::string& tenant, const std::string& part, const std::string& method = {})
    {
        std::vector<json::value> out;
        for (const auto& r : emu.requests(tenant)) {
            if (!contains(std::string(r.at("path").as_string()), part)) continue;
            if (!method.empty() && r.at("method").as_string() != method) continue;
            out.push_back(r);
        }
        return out;
    }
    std::size_t iam_requests(const std::string& tenant) { return logged(tenant, "/iam/v3/auth/tokens", "POST").size(); }

    workflow_summary find(wfsync::connector::connector& c, const std::string& id)
    {
        auto all = run(c.list_workflows());
        BOOST_TEST_REQUIRE(all.has_value(), (all ? "" : all.error().message));
        for (auto& w : *all)
            if (w.id == id) return w;
        BOOST_FAIL("workflow " << id << " not listed");
        return {};
    }
    package export_of(wfsync::connector::connector& c, const std::string& id)
    {
        auto wf = find(c, id);
        const version_ref active{version_ref::kind::active, {}};
        auto job = run(c.start_export(wf, active));
        BOOST_TEST_REQUIRE(job.has_value(), (job ? "" : job.error().message));
        BOOST_TEST_REQUIRE(job->done);
        BOOST_TEST_REQUIRE(job->result.has_value());
        return *job->result;
    }
    /// The version labelled `label` as c lists it for workflow `wf_id`.
    version_summary listed(wfsync::connector::connector& c, const std::string& wf_id, const std::string& label)
    {
        auto vs = run(c.list_versions(wf_id));
        BOOST_TEST_REQUIRE(vs.has_value(), (vs ? "" : vs.error().message));
        for (auto& v : *vs)
            if (v.version == label) return v;
        BOOST_FAIL("version " << label << " of " << wf_id << " not listed");
        return {};
    }
    /// The version labelled `label` of workflow `wf_id` in the emulator's state of `tenant`.
    json::object state_version(const std::string& tenant, const std::string& wf_id, const std::string& label)
    {
        const auto st = emu.state(tenant);  // kept: a range-for over a temporary's member dangles
        for (const auto& w : st.at("workflows").as_array()) {
            if (w.at("id").as_string() != wf_id) continue;
            for (const auto& v : w.at("versions").as_array())
                if (v.at("version").as_string() == label) return v.as_object();
        }
        BOOST_FAIL("version " << label << " of " << wf_id << " not in the state of " << tenant);
        return {};
    }
    /// Version updates (activations) sent to `tenant`.
    std::vector<json::value> version_puts(const std::string& tenant)
    {
        return logged(tenant, "/soc/workflows/versions/", "PUT");
    }
};

/// Every secret of the fixture, for "never in an error" checks.
void no_secrets(const std::string& text, fixture& f)
{
    BOOST_TEST(!contains(text, "Sup3r"), text);
    BOOST_TEST(!contains(text, static_token), text);
    for (const auto& r : f.emu.requests()) {
        auto tok = header(r, "x-auth-token");
        if (tok.size() > 8) BOOST_TEST(!contains(text, tok), text);
    }
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(secmaster_connector, fixture)

BOOST_AUTO_TEST_CASE(iam_token_fetched_once_for_many_calls)
{
    auto c = make(iam_tenant("sm"));
    int done = 0, ok = 0;
    // Named strings: the coroutines keep a reference to their argument.
    const std::string ids[] = {wf_a, wf_b};
    for (int i = 0; i < 5; ++i) {
        asio::co_spawn(ioc, c->list_versions(ids[i % 2]), [&](std::exception_ptr e, auto r) {
            ++done;
            if (!e && r.has_value() && !r->empty()) ++ok;
        });
    }
    auto until = std::chrono::steady_clock::now() + 20s;
    while (done < 5 && std::chrono::steady_clock::now() < until) ioc.run_one_until(until);
    BOOST_TEST_REQUIRE(done == 5);
    BOOST_TEST(ok == 5);
    export_of(*c, wf_a);
    BOOST_TEST(iam_requests("sm") == 1u);

    auto iam = logged("sm", "/iam/v3/auth/tokens").at(0);
    auto body = json::parse(iam.at("body").as_string());
    BOOST_TEST(body.at("auth").at("identity").at("password").at("user").at("password").as_string() == password);
    BOOST_TEST(body.at("auth").at("scope").at("project").at("name").as_string() == "ap-southeast-1");
    BOOST_TEST(header(iam, "x-auth-token").empty());
    auto versions = logged("sm", "/versions");
    BOOST_TEST_REQUIRE(versions.size() == 5u);
    for (auto& v : versions) {
        BOOST_TEST(header(v, "x-auth-token").size() > 20u);
        BOOST_TEST(header(v, "content-type") == "application/json;charset=UTF-8");
        BOOST_TEST(v.at("status").as_int64() == 200);
    }
    BOOST_TEST(header(versions[0], "x-auth-token") == header(versions[4], "x-auth-token"));
    BOOST_TEST(run(c->check_login()).has_value());
    BOOST_TEST(iam_requests("sm") == 1u);
}

BOOST_AUTO_TEST_CASE(expired_token_refreshed_once)
{
    auto c = make(iam_tenant("sm"));
    BOOST_TEST_REQUIRE(run(c->list_versions(wf_a)).has_value());
    BOOST_TEST_REQUIRE(emu.expire_tokens("sm").has_value());
    auto v = run(c->list_versions(wf_a));
    BOOST_TEST_REQUIRE(v.has_value(), (v ? "" : v.error().message));
    BOOST_TEST(v->size() == 2u);
    BOOST_TEST(iam_requests("sm") == 2u);
    auto calls = logged("sm", "/versions");
    BOOST_TEST_REQUIRE(calls.size() == 3u);  // ok, 401, ok
    BOOST_TEST(calls[1].at("status").as_int64() == 401);
    BOOST_TEST(calls[2].at("status").as_int64() == 200);
    BOOST_TEST(header(calls[0], "x-auth-token") != header(calls[2], "x-auth-token"));
}

BOOST_AUTO_TEST_CASE(second_401_is_auth_error_with_gateway_text_and_no_secret)
{
    auto c = make(iam_tenant("sm"));
    BOOST_TEST_REQUIRE(emu.add_fault(json::object{{"path_contains", "/versions"}, {"kind", "status"}, {"status", 401},
                                                  {"count", 5}})
                           .has_value());
    auto r = run(c->list_versions(wf_a));
    BOOST_TEST_REQUIRE(r.has_error());
    BOOST_TEST(r.error().code == errc::auth);
    BOOST_TEST(r.error().http_status == 401);
    BOOST_TEST(contains(r.error().message, fmt::format("tenant sm-t: list of versions of workflow {}: HTTP 401", wf_a)),
               r.error().message);
    BOOST_TEST(contains(r.error().message, "again after a new IAM token"));
    BOOST_TEST(logged("sm", "/versions").size() == 2u);
    BOOST_TEST(iam_requests("sm") == 2u);
    no_secrets(r.error().message, *this);

    // The real gateway 401 body: {error_code, error_msg} reaches the message.
    auto s = make(bearer_tenant("sm"));
    BOOST_TEST_REQUIRE(emu.expire_tokens("sm").has_value());
    emu.clear_faults();
    auto g = run(s->list_workflows());
    BOOST_TEST_REQUIRE(g.has_error());
    BOOST_TEST(g.error().code == errc::auth);
    BOOST_TEST(contains(g.error().message, "HTTP 401: APIG.1002: Incorrect token or token resolution failed"),
               g.error().message);
    no_secrets(g.error().message, *this);
}

BOOST_AUTO_TEST_CASE(token_refreshed_before_it_expires)
{
    // token_ttl_seconds 1: used for 900 ms (10 % margin), then a new one is fetched before any
    // call is refused. Bounded poll: at most 5 s.
    auto c = make(iam_tenant("short"));
    BOOST_TEST_REQUIRE(run(c->list_workflows()).has_value());
    BOOST_TEST(iam_requests("short") == 1u);
    auto until = std::chrono::steady_clock::now() + 5s;
    while (iam_requests("short") < 2 && std::chrono::steady_clock::now() < until) {
        BOOST_TEST_REQUIRE(run(c->list_workflows()).has_value());
        if (iam_requests("short") < 2) std::this_thread::sleep_for(50ms);
    }
    BOOST_TEST(iam_requests("short") == 2u);
    for (auto& r : logged("short", "/soc/workflows")) BOOST_TEST(r.at("status").as_int64() == 200);
}

BOOST_AUTO_TEST_CASE(static_token_sent_as_x_auth_token_without_iam)
{
    auto c = make(bearer_tenant("sm"));
    BOOST_TEST_REQUIRE(run(c->check_login()).has_value());
    auto all = run(c->list_workflows());
    BOOST_TEST_REQUIRE(all.has_value());
    BOOST_TEST(all->size() == 2u);
    BOOST_TEST(iam_requests("sm") == 0u);
    auto calls = logged("sm", "/soc/workflows");
    BOOST_TEST_REQUIRE(calls.size() == 2u);
    BOOST_TEST(header(calls[0], "x-auth-token") == static_token);
    BOOST_TEST(calls[0].at("query").as_string() == "offset=0&limit=1");  // check_login's small call
    // A refused static token is not retried.
    BOOST_TEST_REQUIRE(emu.expire_tokens("sm").has_value());
    auto r = run(c->list_versions(wf_a));
    BOOST_TEST_REQUIRE(r.has_error());
    BOOST_TEST(r.error().code == errc::auth);
    BOOST_TEST(logged("sm", "/versions").size() == 1u);
    BOOST_TEST(!contains(r.error().message, "again after"));
}

BOOST_AUTO_TEST_CASE(bad_password_is_auth_error_without_the_password)
{
    auto t = iam_tenant("sm");
    t.auth.password = config::secret("wrong-Sup3r-password");
    auto c = make(t);
    auto r = run(c->check_login());
    BOOST_TEST_REQUIRE(r.has_error());
    BOOST_TEST(r.error().code == errc::auth);
    BOOST_TEST(r.error().http_status == 401);
    BOOST_TEST(r.error().message ==
                   "tenant sm-t: check login: IAM login: HTTP 401: 401: The username or password is wrong.",
               r.error().message);
    no_secrets(r.error().message, *this);
    // A call with a refused login fails the same way, naming the call.
    auto l = run(c->list_workflows());
    BOOST_TEST_REQUIRE(l.has_error());
    BOOST_TEST(contains(l.error().message, "tenant sm-t: list of workflows at offset 0: IAM login: HTTP 401"));
}

BOOST_AUTO_TEST_CASE(lists_three_pages_by_offset)
{
    auto c = make(bearer_tenant("big"));
    auto all = run(c->list_workflows());
    BOOST_TEST_REQUIRE(all.has_value(), (all ? "" : all.error().message));
    BOOST_TEST(all->size() == 205u);
    std::set<std::string> ids;
    for (auto& w : *all) ids.insert(w.id);
    BOOST_TEST(ids.size() == 205u);
    BOOST_TEST(all->front().name == "WF 000");
    BOOST_TEST(all->back().name == "WF 204");
    BOOST_TEST(all->front().active_version == "v1");
    auto pages = logged("big", "/soc/workflows", "GET");
    BOOST_TEST_REQUIRE(pages.size() == 3u);
    BOOST_TEST(pages[0].at("query").as_string() == "offset=0&limit=100");
    BOOST_TEST(pages[1].at("query").as_string() == "offset=100&limit=100");
    BOOST_TEST(pages[2].at("query").as_string() == "offset=200&limit=100");
}

BOOST_AUTO_TEST_CASE(server_capping_limit_loses_nothing)
{
    auto c = make(bearer_tenant("capped"));  // the server answers at most 40 per page
    auto all = run(c->list_workflows());
    BOOST_TEST_REQUIRE(all.has_value());
    BOOST_TEST(all->size() == 90u);
    auto pages = logged("capped", "/soc/workflows", "GET");
    BOOST_TEST_REQUIRE(pages.size() == 3u);
    BOOST_TEST(pages[1].at("query").as_string() == "offset=40&limit=100");
    BOOST_TEST(pages[2].at("query").as_string() == "offset=80&limit=100");
}

BOOST_AUTO_TEST_CASE(lists_versions_with_active_flag)
{
    auto c = make(iam_tenant("sm"));
    auto v = run(c->list_versions(wf_a));
    BOOST_TEST_REQUIRE(v.has_value());
    BOOST_TEST_REQUIRE(v->size() == 2u);
    BOOST_TEST((*v)[0].version == "v1");  // not the "name" field (the workflow's name)
    BOOST_TEST(!(*v)[0].active);
    BOOST_TEST((*v)[1].version == "v2");
    BOOST_TEST((*v)[1].active);
    BOOST_TEST((*v)[1].status == "activated");
    BOOST_TEST((*v)[1].id.size() == 36u);
    auto missing = run(c->list_versions("nope"));
    BOOST_TEST_REQUIRE(missing.has_error());
    BOOST_TEST(missing.error().code == errc::not_found);
    BOOST_TEST(missing.error().message ==
               "tenant sm-t: list of versions of workflow nope: HTTP 404: SecMaster.10000404: workflow nope does not exist");
}

BOOST_AUTO_TEST_CASE(export_keeps_bytes_and_file_name)
{
    auto c = make(iam_tenant("sm"));
    auto p = export_of(*c, wf_a);
    BOOST_TEST(p.format == "secmaster-file");
    BOOST_TEST(p.workflow_id == wf_a);
    BOOST_TEST(p.workflow_name == "Phishing triage");
    BOOST_TEST(p.version == "v2");
    BOOST_TEST_REQUIRE(p.files.size() == 1u);
    BOOST_TEST_REQUIRE(p.files.count("Phishing triage.json") == 1u);
    auto v = json::parse(p.files.at("Phishing triage.json"));
    BOOST_TEST(v.at("version") == json::value(doc(2)));
    auto req = logged("sm", "/soc/workflows/export").at(0);
    BOOST_TEST(req.at("method").as_string() == "POST");
    BOOST_TEST(json::parse(req.at("body").as_string()) == json::parse(fmt::format(R"({{"id":["{}"]}})", wf_a)));
    BOOST_TEST(header(req, "content-type") == "application/json;charset=UTF-8");
}

BOOST_AUTO_TEST_CASE(export_retried_on_503_and_errors_name_the_workflow)
{
    auto c = make(iam_tenant("sm"));
    BOOST_TEST_REQUIRE(emu.add_fault(json::object{{"path_contains", "/export"}, {"kind", "status"}, {"status", 503}}).has_value());
    auto p = export_of(*c, wf_b);
    BOOST_TEST(p.files.count("Malware block.json") == 1u);
    BOOST_TEST(logged("sm", "/export").size() == 2u);

    workflow_summary ghost{"00000000-dead-beef-0000-000000000000", "Ghost", "", ""};
    const version_ref latest{};
    auto r = run(c->start_export(ghost, latest));
    BOOST_TEST_REQUIRE(r.has_error());
    BOOST_TEST(r.error().http_status == 400);
    BOOST_TEST(r.error().code == errc::invalid_argument);
    BOOST_TEST(r.error().message ==
               "tenant sm-t: export of workflow 00000000-dead-beef-0000-000000000000 ('Ghost'): HTTP 400: "
               "SecMaster.10000404: workflow 00000000-dead-beef-0000-000000000000 does not exist",
               r.error().message);
}

BOOST_AUTO_TEST_CASE(import_creates_then_adds_a_version)
{
    auto src = make(iam_tenant("sm"));
    auto tgt = make(iam_tenant("tgt"));
    auto p = export_of(*src, wf_a);

    import_request create;
    create.target_name = "Phishing triage";
    create.version = "v2";
    create.content = &p;
    auto r1 = run(tgt->import_package(create));
    BOOST_TEST_REQUIRE(r1.has_value(), (r1 ? "" : r1.error().message));
    BOOST_TEST(r1->done);
    BOOST_TEST(r1->version == "v1");  // SecMaster labels it itself
    auto st = emu.state("tgt");
    BOOST_TEST_REQUIRE(st.at("workflows").as_array().size() == 1u);
    BOOST_TEST(r1->target_workflow == st.at("workflows").at(0).at("id").as_string());

    auto up = logged("tgt", "/soc/workflows/import");
    BOOST_TEST_REQUIRE(up.size() == 1u);
    auto ct = header(up[0], "content-type");
    BOOST_TEST(ct.rfind("multipart/form-data; boundary=", 0) == 0u);
    auto parts = net::parse_multipart(ct, up[0].at("body").as_string());
    BOOST_TEST_REQUIRE(parts.has_value());
    BOOST_TEST_REQUIRE(parts->size() == 1u);
    BOOST_TEST((*parts)[0].name == "uploadFile");
    BOOST_TEST((*parts)[0].filename == "Phishing triage.json");
    BOOST_TEST((*parts)[0].data == p.files.begin()->second);  // bytes unchanged: same name

    // The source moves on; the next import adds a version to the same workflow.
    BOOST_TEST_REQUIRE(emu.add_version("sm", wf_a, doc(3)).has_value());
    auto p2 = export_of(*src, wf_a);
    import_request again;
    again.target_workflow = r1->target_workflow;
    again.version = p2.version;
    again.content = &p2;
    auto r2 = run(tgt->import_package(again));
    BOOST_TEST_REQUIRE(r2.has_value(), (r2 ? "" : r2.error().message));
    BOOST_TEST(r2->target_workflow == r1->target_workflow);
    BOOST_TEST(r2->version == "v2");
    st = emu.state("tgt");
    BOOST_TEST(st.at("workflows").as_array().size() == 1u);
    BOOST_TEST(st.at("workflows").at(0).at("versions").as_array().size() == 2u);
    // What the target exports now is what the source exported.
    auto back = export_of(*tgt, r1->target_workflow);
    BOOST_TEST(back.files.begin()->second == p2.files.begin()->second);
    BOOST_TEST(logged("tgt", "/soc/workflows/import").size() == 2u);  // one POST per import
}

BOOST_AUTO_TEST_CASE(import_under_another_name_renames_the_file)
{
    auto src = make(iam_tenant("sm"));
    auto tgt = make(iam_tenant("sm"));
    auto p = export_of(*src, wf_a);
    // Into the existing "Malware block": the file's name is set to the target's.
    import_request into;
    into.target_workflow = wf_b;
    into.content = &p;
    auto r = run(tgt->import_package(into));
    BOOST_TEST_REQUIRE(r.has_value(), (r ? "" : r.error().message));
    BOOST_TEST(r->target_workflow == wf_b);
    BOOST_TEST(r->version == "v2");
    auto st = emu.state("sm");
    BOOST_TEST(st.at("workflows").as_array().size() == 2u);
    BOOST_TEST(st.at("workflows").at(1).at("versions").as_array().size() == 2u);
    // A new definition under a new name.
    import_request fresh;
    fresh.target_name = "Triage copy";
    fresh.content = &p;
    auto n = run(tgt->import_package(fresh));
    BOOST_TEST_REQUIRE(n.has_value(), (n ? "" : n.error().message));
    BOOST_TEST(n->target_workflow != wf_a);
    BOOST_TEST(n->version == "v1");
    st = emu.state("sm");
    BOOST_TEST_REQUIRE(st.at("workflows").as_array().size() == 3u);
    BOOST_TEST(st.at("workflows").at(2).at("name").as_string() == "Triage copy");
}

BOOST_AUTO_TEST_CASE(import_errors)
{
    auto c = make(iam_tenant("tgt"));
    // success false in a 200.
    package nover;
    nover.format = "secmaster-file";
    nover.files["x.json"] = R"({"workflow":{"name":"No version"}})";
    import_request r;
    r.target_name = "No version";
    r.content = &nover;
    auto e = run(c->import_package(r));
    BOOST_TEST_REQUIRE(e.has_error());
    BOOST_TEST(e.error().code == errc::conflict);
    BOOST_TEST(e.error().message ==
               "tenant tgt-t: import of new workflow 'No version': HTTP 200 with success=false: "
               "SecMaster.10000422: uploadFile has no version object",
               e.error().message);
    // 400 {code, message}.
    package bad;
    bad.format = "secmaster-file";
    bad.files["x.json"] = "not json at all";
    r.target_name = "Bad";
    r.content = &bad;
    auto b = run(c->import_package(r));
    BOOST_TEST_REQUIRE(b.has_error());
    BOOST_TEST(b.error().http_status == 400);
    BOOST_TEST(b.error().code == errc::conflict);
    BOOST_TEST(contains(b.error().message, "tenant tgt-t: import of new workflow 'Bad': HTTP 400: SecMaster.10000422"));
    // Unknown target.
    import_request missing;
    missing.target_workflow = "no-such-id";
    missing.content = &bad;
    auto m = run(c->import_package(missing));
    BOOST_TEST_REQUIRE(m.has_error());
    BOOST_TEST(m.error().code == errc::not_found);
    BOOST_TEST(m.error().message == "tenant tgt-t: import into workflow no-such-id: the target workflow does not exist");
    // A foreign package.
    package z;
    z.format = "zuora-json";
    z.files["workflow.json"] = "{}";
    r.content = &z;
    BOOST_TEST(run(c->import_package(r)).error().code == errc::invalid_argument);
    BOOST_TEST(emu.state("tgt").at("workflows").as_array().empty());
}

BOOST_AUTO_TEST_CASE(lost_import_answer_is_unknown_outcome_sent_once)
{
    auto src = make(iam_tenant("sm"));
    auto tgt = make(iam_tenant("tgt"));
    auto p = export_of(*src, wf_a);
    BOOST_TEST_REQUIRE(emu.add_fault(json::object{{"tenant", "tgt"}, {"path_contains", "/import"}, {"kind", "reset_after_commit"}})
                           .has_value());
    import_request r;
    r.target_name = "Phishing triage";
    r.content = &p;
    auto out = run(tgt->import_package(r));
    BOOST_TEST_REQUIRE(out.has_error());
    BOOST_TEST(out.error().code == errc::unknown_outcome, out.error().what());
    BOOST_TEST(logged("tgt", "/import").size() == 1u);  // never resent
    BOOST_TEST(emu.state("tgt").at("workflows").as_array().size() == 1u);  // it did happen
    no_secrets(out.error().message, *this);
}

BOOST_AUTO_TEST_CASE(read_version_reads_a_version_that_is_not_activated)
{
    auto c = make(iam_tenant("draft"));
    auto wf = find(*c, wf_draft);
    auto v2 = listed(*c, wf_draft, "v2");
    BOOST_TEST_REQUIRE(!v2.active);
    BOOST_TEST_REQUIRE(!v2.id.empty());

    auto r = run(c->read_version(wf, v2));
    BOOST_TEST_REQUIRE(r.has_value(), (r ? "" : r.error().message));
    BOOST_TEST_REQUIRE(r->has_value());  // SecMaster has a detail API: never "export it instead"
    const package& p = **r;
    BOOST_TEST(p.format == "secmaster-version");
    BOOST_TEST(p.workflow_id == wf_draft);
    BOOST_TEST(p.workflow_name == "Draft flow");
    BOOST_TEST(p.version == "v2");
    BOOST_TEST_REQUIRE(p.files.count("taskflow.json") == 1u);
    BOOST_TEST(json::parse(p.files.at("taskflow.json")) == json::value(doc(12)));
    BOOST_TEST(p.files.count("taskconfig.json") == 0u);  // the emulator's taskconfig is ""
    auto meta = json::parse(p.files.at("version.json"));
    BOOST_TEST(meta.at("id").as_string() == v2.id);
    BOOST_TEST(meta.at("status").as_string() == "not_activated");
    BOOST_TEST(!meta.as_object().contains("taskflow"));
    auto get = logged("draft", "/soc/workflows/versions/", "GET");
    BOOST_TEST_REQUIRE(get.size() == 1u);
    BOOST_TEST(get[0].at("path").as_string().ends_with("/v1/proj-1/workspaces/ws-1/soc/workflows/versions/" + v2.id),
               get[0].at("path").as_string());

    // The export gives the activated v1, not v2.
    auto exported = export_of(*c, wf_draft);
    BOOST_TEST(exported.version == "v1");
    BOOST_TEST(json::parse(exported.files.begin()->second).at("version") == json::value(doc(11)));
    // And the detail of v1 is v1's document.
    auto r1 = run(c->read_version(wf, listed(*c, wf_draft, "v1")));
    BOOST_TEST_REQUIRE(r1.has_value(), (r1 ? "" : r1.error().message));
    BOOST_TEST_REQUIRE(r1->has_value());
    BOOST_TEST(json::parse((*r1)->files.at("taskflow.json")) == json::value(doc(11)));
    BOOST_TEST((*r1)->version == "v1");
}

BOOST_AUTO_TEST_CASE(read_version_without_id_or_of_an_unknown_id_is_an_error)
{
    auto c = make(iam_tenant("draft"));
    auto wf = find(*c, wf_draft);
    version_summary no_id{"", "v7", "activated", true};
    auto r = run(c->read_version(wf, no_id));
    BOOST_TEST_REQUIRE(r.has_error());
    BOOST_TEST(r.error().code == errc::bad_response);
    BOOST_TEST(r.error().message == fmt::format("tenant draft-t: version v7 of workflow {} ('Draft flow'): the "
                                                "version list gave it no id",
                                                wf_draft),
               r.error().message);
    BOOST_TEST(logged("draft", "/soc/workflows/versions/").empty());  // nothing asked

    version_summary gone{"00000000-0000-4000-8000-000000000000", "v9", "", false};
    auto g = run(c->read_version(wf, gone));
    BOOST_TEST_REQUIRE(g.has_error());
    BOOST_TEST(g.error().code == errc::not_found);
    BOOST_TEST(g.error().http_status == 404);
    BOOST_TEST(contains(g.error().message,
                        fmt::format("tenant draft-t: version v9 of workflow {} ('Draft flow'): HTTP 404: "
                                    "SecMaster.10000404: version 00000000-0000-4000-8000-000000000000 does not exist",
                                    wf_draft)),
               g.error().message);
}

BOOST_AUTO_TEST_CASE(import_with_activate_puts_status_activated_when_the_platform_leaves_it)
{
    auto src = make(iam_tenant("sm"));
    auto tgt = make(iam_tenant("leave"));
    auto p = export_of(*src, wf_a);
    import_request r;
    r.target_workflow = wf_kept;
    r.version = p.version;
    r.activate = true;
    r.content = &p;
    auto out = run(tgt->import_package(r));
    BOOST_TEST_REQUIRE(out.has_value(), (out ? "" : out.error().message));
    BOOST_TEST(out->target_workflow == wf_kept);
    BOOST_TEST(out->version == "v2");
    BOOST_TEST(out->note == "activated");
    BOOST_TEST(out->activation_error == "", out->activation_error);
    // version_id: the id the version list gives for the version created.
    auto listed_v2 = listed(*tgt, wf_kept, "v2");
    BOOST_TEST(!out->version_id.empty());
    BOOST_TEST(out->version_id == listed_v2.id);
    BOOST_TEST(listed_v2.active);

    auto puts = version_puts("leave");
    BOOST_TEST_REQUIRE(puts.size() == 1u);
    BOOST_TEST(puts[0].at("path").as_string().ends_with("/soc/workflows/versions/" + out->version_id),
               puts[0].at("path").as_string());
    BOOST_TEST(json::parse(puts[0].at("body").as_string()) == json::parse(R"({"status":"activated"})"));
    BOOST_TEST(header(puts[0], "content-type") == "application/json;charset=UTF-8");
    BOOST_TEST(puts[0].at("status").as_int64() == 200);
    // The emulator's state: v2 activated, the v1 activated before no longer.
    BOOST_TEST(state_version("leave", wf_kept, "v2").at("status").as_string() == "activated");
    BOOST_TEST(state_version("leave", wf_kept, "v1").at("status").as_string() == "not_activated");
    BOOST_TEST(logged("leave", "/soc/workflows/import").size() == 1u);
}

BOOST_AUTO_TEST_CASE(platform_activating_on_import_is_reported_and_nothing_sent)
{
    auto src = make(iam_tenant("sm"));
    auto tgt = make(iam_tenant("tgt"));  // import_activation "activate" (the default)
    auto p = export_of(*src, wf_a);
    import_request r;
    r.target_name = "Phishing triage";
    r.activate = false;
    r.content = &p;
    auto out = run(tgt->import_package(r));
    BOOST_TEST_REQUIRE(out.has_value(), (out ? "" : out.error().message));
    BOOST_TEST(out->note == "SecMaster activated the imported version although the rule says activate: false");
    BOOST_TEST(out->activation_error == "");
    BOOST_TEST(version_puts("tgt").empty());  // reported, not undone
    BOOST_TEST(state_version("tgt", out->target_workflow, "v1").at("status").as_string() == "activated");
    BOOST_TEST(out->version_id == listed(*tgt, out->target_workflow, "v1").id);

    // Asked to activate, it is already: said so, still no PUT.
    BOOST_TEST_REQUIRE(emu.add_version("sm", wf_a, doc(3)).has_value());
    auto p2 = export_of(*src, wf_a);
    import_request again;
    again.target_workflow = out->target_workflow;
    again.activate = true;
    again.content = &p2;
    auto out2 = run(tgt->import_package(again));
    BOOST_TEST_REQUIRE(out2.has_value(), (out2 ? "" : out2.error().message));
    BOOST_TEST(out2->version == "v2");
    BOOST_TEST(out2->note == "activated (by the platform on import)");
    BOOST_TEST(out2->activation_error == "");
    BOOST_TEST(out2->version_id == listed(*tgt, out->target_workflow, "v2").id);
    BOOST_TEST(version_puts("tgt").empty());
}

BOOST_AUTO_TEST_CASE(refused_activation_is_an_activation_error_of_a_successful_import)
{
    auto src = make(iam_tenant("sm"));
    auto tgt = make(iam_tenant("approval"));  // leave on import, PUT activated needs an approval
    auto p = export_of(*src, wf_a);
    import_request r;
    r.target_name = "Phishing triage";
    r.activate = true;
    r.content = &p;
    auto out = run(tgt->import_package(r));
    // The import went through: the result names what it created.
    BOOST_TEST_REQUIRE(out.has_value(), (out ? "" : out.error().message));
    auto st = emu.state("approval");
    BOOST_TEST_REQUIRE(st.at("workflows").as_array().size() == 1u);
    BOOST_TEST(out->target_workflow == st.at("workflows").at(0).at("id").as_string());
    BOOST_TEST(out->version == "v1");
    BOOST_TEST(out->version_id == listed(*tgt, out->target_workflow, "v1").id);
    BOOST_TEST(!out->version_id.empty());
    // ... the activation did not, and the platform's refusal is named.
    BOOST_TEST(out->note == "");
    BOOST_TEST(contains(out->activation_error, "SecMaster.20010001"), out->activation_error);
    BOOST_TEST(contains(out->activation_error, "approved"), out->activation_error);
    BOOST_TEST(contains(out->activation_error,
                        fmt::format("tenant approval-t: activation of version v1 ({}): HTTP 400", out->version_id)),
               out->activation_error);
    no_secrets(out->activation_error, *this);
    auto puts = version_puts("approval");
    BOOST_TEST_REQUIRE(puts.size() == 1u);  // a 400 is not retried
    BOOST_TEST(puts[0].at("status").as_int64() == 400);
    BOOST_TEST(state_version("approval", out->target_workflow, "v1").at("status").as_string() == "not_activated");
    BOOST_TEST(logged("approval", "/soc/workflows/import").size() == 1u);
}

BOOST_AUTO_TEST_CASE(import_without_activate_leaves_the_version_not_activated)
{
    auto src = make(iam_tenant("sm"));
    auto tgt = make(iam_tenant("leave"));
    auto p = export_of(*src, wf_a);
    import_request r;
    r.target_workflow = wf_kept;
    r.activate = false;
    r.content = &p;
    auto out = run(tgt->import_package(r));
    BOOST_TEST_REQUIRE(out.has_value(), (out ? "" : out.error().message));
    BOOST_TEST(out->version == "v2");
    BOOST_TEST(out->version_id == listed(*tgt, wf_kept, "v2").id);
    BOOST_TEST(out->note == "");
    BOOST_TEST(out->activation_error == "");
    BOOST_TEST(version_puts("leave").empty());
    BOOST_TEST(state_version("leave", wf_kept, "v2").at("status").as_string() == "not_activated");
    BOOST_TEST(state_version("leave", wf_kept, "v1").at("status").as_string() == "activated");
}

BOOST_AUTO_TEST_CASE(unreadable_status_after_import_is_an_activation_error_only_when_asked)
{
    auto src = make(iam_tenant("sm"));
    auto tgt = make(iam_tenant("leave"));
    auto p = export_of(*src, wf_a);
    // Version listings of the target: before the import, after it, then the status read: refused.
    auto refuse_status_read = [&] {
        emu.clear_faults();
        emu.clear_requests();
        BOOST_TEST_REQUIRE(emu.add_fault(json::object{{"tenant", "leave"}, {"method", "GET"},
                                                      {"path_contains", fmt::format("/{}/versions", wf_kept)},
                                                      {"kind", "status"}, {"status", 404}, {"skip", 2}, {"count", 5}})
                               .has_value());
    };
    import_request r;
    r.target_workflow = wf_kept;
    r.content = &p;

    // activate: false: nothing was asked, so nothing failed; the note says what is unknown.
    refuse_status_read();
    r.activate = false;
    auto quiet = run(tgt->import_package(r));
    BOOST_TEST_REQUIRE(quiet.has_value(), (quiet ? "" : quiet.error().message));
    BOOST_TEST(quiet->version == "v2");
    BOOST_TEST(quiet->activation_error == "", quiet->activation_error);
    BOOST_TEST(contains(quiet->note, "status could not be read"), quiet->note);
    BOOST_TEST(version_puts("leave").empty());

    // activate: true: the activation the rule asks for is not known to have happened.
    refuse_status_read();
    r.activate = true;
    auto asked = run(tgt->import_package(r));
    BOOST_TEST_REQUIRE(asked.has_value(), (asked ? "" : asked.error().message));
    BOOST_TEST(asked->version == "v3");
    BOOST_TEST(contains(asked->activation_error, "its status could not be read: "), asked->activation_error);
    BOOST_TEST(asked->note == "");
    BOOST_TEST(version_puts("leave").empty());
}

BOOST_AUTO_TEST_CASE(config_is_checked)
{
    auto msg = [&](config::tenant t) {
        auto r = make_connector(ioc.get_executor(), t);
        BOOST_TEST_REQUIRE(r.has_error());
        BOOST_TEST(r.error().code == errc::config);
        return r.error().message;
    };
    auto t = iam_tenant("sm");
    t.project_id.clear();
    BOOST_TEST(msg(t) == "tenant sm-t: SecMaster needs a project_id");
    t = iam_tenant("sm");
    t.workspace_id = "a/b";
    BOOST_TEST(msg(t) == "tenant sm-t: 'a/b' is not a plain id (project_id, workspace_id)");
    t = iam_tenant("sm");
    t.auth.iam_url = "iam.example";
    BOOST_TEST(msg(t) == "tenant sm-t: iam_url 'iam.example' is not an http:// or https:// URL");
    t = iam_tenant("sm");
    t.auth.password = config::secret();
    BOOST_TEST(msg(t) == "tenant sm-t: iam_password needs a password");
    t = iam_tenant("sm");
    t.auth.type = config::auth_type::api_key;
    BOOST_TEST(msg(t) == "tenant sm-t: SecMaster supports only iam_password and bearer auth");
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------------------------------
// Answers the emulator never gives: scripted servers (the IAM one on its own port, as IAM is
// another host than SecMaster in production).

namespace {

struct scripted_sm {
    asio::io_context ioc;
    std::vector<net::server_request> api_seen, iam_seen;
    std::function<net::server_response(const net::server_request&)> api_answer, iam_answer;
    std::unique_ptr<net::http_server> api, iam;

    static awaitable<net::server_response> on_api(scripted_sm* self, net::server_request req)
    {
        self->api_seen.push_back(req);
        co_return self->api_answer(req);
    }
    static awaitable<net::server_response> on_iam(scripted_sm* self, net::server_request req)
    {
        self->iam_seen.push_back(req);
        co_return self->iam_answer(req);
    }

    scripted_sm()
    {
        api = std::make_unique<net::http_server>(ioc.get_executor(), net::server_settings{},
                                                 [this](net::server_request r) { return on_api(this, std::move(r)); });
        iam = std::make_unique<net::http_server>(ioc.get_executor(), net::server_settings{},
                                                 [this](net::server_request r) { return on_iam(this, std::move(r)); });
        BOOST_TEST_REQUIRE(api->start().has_value());
        BOOST_TEST_REQUIRE(iam->start().has_value());
        iam_answer = [](const net::server_request&) {
            net::server_response r;
            r.status = 201;
            r.body = R"({"token":{"methods":["password"]}})";  // no expires_at: 24 h assumed
            r.headers.set("X-Subject-Token", "scripted-iam-token-777");
            return r;
        };
    }
    ~scripted_sm()
    {
        api->stop();
        iam->stop();
    }

    config::tenant tenant()
    {
        config::tenant t;
        t.name = "odd-sm";
        t.kind = config::platform::secmaster;
        t.base_url = api->base_url();
        t.project_id = "p";
        t.workspace_id = "w";
        t.auth.type = config::auth_type::iam_password;
        t.auth.iam_url = iam->base_url() + "/";
        t.auth.user = "u";
        t.auth.domain = "d";
        t.auth.project = "r";
        t.auth.password = config::secret("odd-Sup3r-pass");
        t.net.timeout = 5s;
        t.net.retry.max_attempts = 2;
        t.net.retry.initial_backoff = 1ms;
        t.net.retry.max_backoff = 2ms;
        t.net.rate.per_second = 0;
        return t;
    }
    std::unique_ptr<wfsync::connector::connector> make()
    {
        auto c = make_connector(ioc.get_executor(), tenant());
        BOOST_TEST_REQUIRE(c.has_value(), (c ? "" : c.error().message));
        return std::move(*c);
    }
    template <class T>
    T run(awaitable<T> aw)
    {
        return run_coro(ioc, std::move(aw));
    }
};

net::server_response answer(int status, std::string body)
{
    net::server_response r;
    r.status = status;
    r.body = std::move(body);
    return r;
}

std::string items(int from, int n)
{
    std::string out;
    for (int i = from; i < from + n; ++i) out += fmt::format("{}{{\"id\":\"id-{}\",\"name\":\"n{}\"}}", i > from ? "," : "", i, i);
    return out;
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(secmaster_connector_odd_server, scripted_sm)

BOOST_AUTO_TEST_CASE(iam_on_another_host_token_without_expiry)
{
    api_answer = [](const net::server_request&) { return answer(200, R"({"total":1,"data":[{"id":"a","name":"A"}]})"); };
    auto c = make();
    for (int i = 0; i < 3; ++i) BOOST_TEST_REQUIRE(run(c->list_workflows()).has_value());
    BOOST_TEST_REQUIRE(iam_seen.size() == 1u);
    BOOST_TEST(iam_seen[0].path == "/v3/auth/tokens");  // trailing slash of iam_url dropped
    BOOST_TEST(iam_seen[0].headers.find("X-Auth-Token") == nullptr);
    BOOST_TEST(*iam_seen[0].headers.find("Content-Type") == "application/json;charset=utf8");
    BOOST_TEST_REQUIRE(api_seen.size() == 3u);
    BOOST_TEST(*api_seen[0].headers.find("X-Auth-Token") == "scripted-iam-token-777");
    BOOST_TEST(api_seen[0].path == "/v1/p/workspaces/w/soc/workflows");
}

BOOST_AUTO_TEST_CASE(iam_answer_without_subject_token_is_bad_response)
{
    iam_answer = [](const net::server_request&) { return answer(201, R"({"token":{"expires_at":"2030-01-01T00:00:00Z"}})"); };
    auto c = make();
    auto r = run(c->check_login());
    BOOST_TEST_REQUIRE(r.has_error());
    BOOST_TEST(r.error().code == errc::bad_response);
    BOOST_TEST(r.error().message == "tenant odd-sm: check login: IAM login: the token answer has no X-Subject-Token header");
}

BOOST_AUTO_TEST_CASE(page_ignoring_offset_stops_with_error)
{
    api_answer = [](const net::server_request&) { return answer(200, "{\"total\":500,\"data\":[" + items(0, 100) + "]}"); };
    auto c = make();
    auto r = run(c->list_workflows());
    BOOST_TEST_REQUIRE(r.has_error());
    BOOST_TEST(r.error().code == errc::bad_response);
    BOOST_TEST(contains(r.error().message, "tenant odd-sm: list of workflows at offset 100: the page only repeats"),
               r.error().message);
    BOOST_TEST(api_seen.size() == 2u);
}

BOOST_AUTO_TEST_CASE(without_total_a_short_page_is_the_last)
{
    api_answer = [](const net::server_request& req) {
        return req.query == "offset=0&limit=100" ? answer(200, "{\"data\":[" + items(0, 100) + "]}")
                                                 : answer(200, "{\"data\":[" + items(100, 3) + "]}");
    };
    auto c = make();
    auto r = run(c->list_workflows());
    BOOST_TEST_REQUIRE(r.has_value());
    BOOST_TEST(r->size() == 103u);
    BOOST_TEST(api_seen.size() == 2u);
}

BOOST_AUTO_TEST_CASE(success_false_in_a_200_list_is_an_error)
{
    api_answer = [](const net::server_request&) {
        return answer(200, R"({"code":"SecMaster.9","message":"workspace frozen","success":false,"data":[]})");
    };
    auto c = make();
    auto r = run(c->list_workflows());
    BOOST_TEST_REQUIRE(r.has_error());
    BOOST_TEST(r.error().message ==
               "tenant odd-sm: list of workflows at offset 0: HTTP 200 with success=false: SecMaster.9: workspace frozen");
}

BOOST_AUTO_TEST_CASE(binary_export_without_file_name_and_unreadable_import_answer)
{
    const std::string zip("PK\x03\x04\x00\xff\r\n", 8);
    api_answer = [&](const net::server_request& req) {
        if (req.path.ends_with("/export")) {
            net::server_response r = answer(200, zip);
            r.content_type = "application/zip";
            return r;
        }
        if (req.path.ends_with("/import")) return answer(200, "OK");
        if (req.path.ends_with("/versions")) return answer(200, R"({"data":[{"version":"v1"}]})");
        return answer(200, R"({"total":1,"data":[{"id":"z1","name":"Zipped"}]})");
    };
    auto c = make();
    workflow_summary wf{"z1", "Zipped", "", ""};
    const version_ref exact{version_ref::kind::exact, "v4"};
    auto job = run(c->start_export(wf, exact));
    BOOST_TEST_REQUIRE(job.has_value());
    BOOST_TEST(job->result->files.at("z1.json") == zip);  // bytes kept, default name
    BOOST_TEST(job->result->version == "v4");
    import_request r;
    r.target_workflow = "z1";
    r.content = &*job->result;
    auto out = run(c->import_package(r));
    BOOST_TEST_REQUIRE(out.has_error());
    BOOST_TEST(out.error().code == errc::unknown_outcome);
    BOOST_TEST(contains(out.error().message, "tenant odd-sm: import into workflow z1 ('Zipped'): HTTP 200 but the answer is not a JSON object: OK"),
               out.error().message);
    auto up = std::find_if(api_seen.begin(), api_seen.end(), [](auto& s) { return s.path.ends_with("/import"); });
    BOOST_TEST_REQUIRE((up != api_seen.end()));
    auto parts = net::parse_multipart(*up->headers.find("Content-Type"), up->body);
    BOOST_TEST_REQUIRE(parts.has_value());
    BOOST_TEST((*parts)[0].data == zip);  // not JSON: uploaded as it is
    BOOST_TEST((*parts)[0].content_type == "application/json");  // by its .json name
}

BOOST_AUTO_TEST_SUITE_END()
