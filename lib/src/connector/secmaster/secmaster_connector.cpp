// SPDX-License-Identifier: Apache-2.0
#include "secmaster_connector.hpp"

#include "../connector_detail.hpp"
#include "secmaster_mapping.hpp"

#include <wfsync/core/json.hpp>
#include <wfsync/core/log.hpp>
#include <wfsync/net/multipart.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <set>

namespace wfsync::connector::secmaster {
namespace asio = boost::asio;

namespace {

constexpr std::string_view json_type = "application/json;charset=UTF-8";  // [SEED 003]

bool is_2xx(int status) { return status >= 200 && status < 300; }

/// The post-import steps failed: the import itself went through, so what it created is not
/// known; the engine reconciles by reading the target next run.
error after_import(error e)
{
    e.code = errc::unknown_outcome;
    e.message += " (the import was accepted; its result could not be read back)";
    return e;
}

}  // namespace

result<std::unique_ptr<connector>> make_secmaster_connector(executor ex, const config::tenant& t)
{
    auto bad = [&](std::string_view why) {
        return fail(errc::config, fmt::format("tenant {}: {}", t.name, why));
    };
    if (!t.base_url.starts_with("http://") && !t.base_url.starts_with("https://")) {
        return bad(fmt::format("base_url '{}' is not an http:// or https:// URL", t.base_url));
    }
    if (t.project_id.empty()) return bad("SecMaster needs a project_id");
    if (t.workspace_id.empty()) return bad("SecMaster needs a workspace_id");
    for (const auto* id : {&t.project_id, &t.workspace_id}) {
        if (id->find_first_of("/?#% ") != std::string::npos) {
            return bad(fmt::format("'{}' is not a plain id (project_id, workspace_id)", *id));
        }
    }
    switch (t.auth.type) {
    case config::auth_type::iam_password:
        if (!t.auth.iam_url.starts_with("http://") && !t.auth.iam_url.starts_with("https://")) {
            return bad(fmt::format("iam_url '{}' is not an http:// or https:// URL", t.auth.iam_url));
        }
        if (t.auth.user.empty()) return bad("iam_password needs a user");
        if (t.auth.domain.empty()) return bad("iam_password needs a domain");
        if (t.auth.project.empty()) return bad("iam_password needs a project (the region's project name)");
        if (t.auth.password.empty()) return bad("iam_password needs a password");
        break;
    case config::auth_type::bearer:
        if (t.auth.token.empty()) return bad("bearer auth needs a token");
        break;
    default:
        return bad("SecMaster supports only iam_password and bearer auth");
    }
    return std::unique_ptr<connector>(new secmaster_connector(std::move(ex), t));
}

secmaster_connector::secmaster_connector(executor ex, const config::tenant& t)
    : name_(t.name),
      auth_(t.auth),
      project_id_(t.project_id),
      workspace_id_(t.workspace_id),
      client_(ex, detail::client_settings_for(t)),
      tokens_(ex, "IAM login")
{
    // The config loader registers these already; a tenant built in code gets the same.
    log::add_secret(auth_.password.reveal());
    log::add_secret(auth_.token.reveal());
    client_.on_attempt([name = name_](const net::attempt_record& rec) { detail::notify_attempt(name, rec); });
}

secmaster_connector::~secmaster_connector() = default;

std::string secmaster_connector::prefix(std::string_view what) const
{
    return fmt::format("tenant {}: {}", name_, what);
}

std::string secmaster_connector::api(std::string_view rest) const
{
    return fmt::format("/v1/{}/workspaces/{}/soc/workflows{}", net::url_encode(project_id_),
                       net::url_encode(workspace_id_), rest);
}

void secmaster_connector::set_run_id(const std::string&)
{
    // SecMaster documents no client trace header; the run id stays in wfsync's own logs.
}

// ---------------------------------------------------------------------------------------
// IAM token

awaitable<result<detail::fetched_token>> secmaster_connector::fetch_token()
{
    net::http_request req;
    req.method = "POST";
    std::string iam = auth_.iam_url;
    while (!iam.empty() && iam.back() == '/') iam.pop_back();
    req.absolute_url = iam + "/v3/auth/tokens";
    req.content_type = "application/json;charset=utf8";
    req.body = token_request_body(auth_.user, auth_.password.reveal(), auth_.domain, auth_.project);

    const std::string what = "IAM login";
    auto r = co_await detail::send_token_request(client_, std::move(req), name_, what, false);
    if (!r) co_return r.error();
    if (!is_2xx(r->status)) {
        auto e = status_error("IAM login", r->status, r->body, false);
        // IAM refuses a wrong user, password, domain or project with 400/401/403.
        if (r->status == 400 || r->status == 401 || r->status == 403) e.code = errc::auth;
        co_return e;
    }
    auto tok = parse_token(r->headers.find("X-Subject-Token"), r->body, "IAM login");
    if (!tok) co_return tok.error();
    log::add_secret(tok->token);
    std::optional<milliseconds> life;
    if (tok->expires_at) {
        life = std::chrono::duration_cast<milliseconds>(*tok->expires_at - std::chrono::system_clock::now());
    }
    auto usable = token_usable_for(life);
    log::debug({.tenant = name_}, "got an IAM token, used for {}s",
               std::chrono::duration_cast<std::chrono::seconds>(usable).count());
    // A token that is already due (expiry in the past: clock skew) is still used once.
    co_return detail::fetched_token{std::move(tok->token), usable};
}

awaitable<result<std::string>> secmaster_connector::auth_token()
{
    if (auth_.type != config::auth_type::iam_password) co_return auth_.token.reveal();
    detail::token_cache::fetch_fn fetch = [this] { return fetch_token(); };
    co_return co_await tokens_.get(std::move(fetch));
}

awaitable<result<void>> secmaster_connector::check_login()
{
    if (auth_.type == config::auth_type::iam_password) {
        auto t = co_await auth_token();
        if (!t) co_return std::move(t.error()).context(prefix("check login"));
        co_return result<void>{};
    }
    // A static token is checked with the smallest real call.
    net::http_request req;
    req.target = api("?offset=0&limit=1");
    const std::string what = "check login";
    auto r = co_await call(std::move(req), what, false);
    if (!r) co_return r.error();
    co_return result<void>{};
}

// ---------------------------------------------------------------------------------------
// Calls

awaitable<result<net::http_response>> secmaster_connector::call(net::http_request req,
                                                                const std::string& what, bool write)
{
    for (int round = 0;; ++round) {
        auto tok = co_await auth_token();
        if (!tok) co_return std::move(tok.error()).context(prefix(what));
        auto attempt = req;
        attempt.headers.set("X-Auth-Token", *tok);
        if (attempt.body.empty()) attempt.headers.set("Content-Type", std::string(json_type));
        auto r = co_await client_.send(std::move(attempt));
        if (!r) {
            auto e = r.error();
            e.message = log::redact(e.message);
            co_return std::move(e).context(prefix(what));
        }
        if (r->status == 401 && auth_.type == config::auth_type::iam_password && round == 0) {
            log::info({.tenant = name_}, "{}: HTTP 401, fetching a new IAM token", what);
            tokens_.invalidate(*tok);
            continue;
        }
        if (!is_2xx(r->status)) {
            auto e = status_error(prefix(what), r->status, r->body, write);
            if (r->status == 401 && round > 0) e.message += " (again after a new IAM token)";
            co_return e;
        }
        co_return std::move(*r);
    }
}

/// A 200 whose JSON body says "success": false is an error.
static result<void> check_success(const net::http_response& r, std::string_view what, bool write)
{
    if (r.body.find("\"success\"") == std::string::npos) return {};
    boost::system::error_code ec;
    auto v = boost::json::parse(r.body, ec);
    if (ec || !is_failure_body(v)) return {};
    auto msg = platform_message(r.body);
    return fail(write ? errc::conflict : errc::http_status,
                log::redact(fmt::format("{}: HTTP {} with success=false: {}", what, r.status,
                                        msg.empty() ? "no reason given" : msg)),
                r.status);
}

awaitable<result<std::vector<workflow_summary>>> secmaster_connector::list_workflows()
{
    std::vector<workflow_summary> all;
    std::set<std::string> seen;
    std::int64_t offset = 0;
    for (int page = 1;; ++page) {
        if (page > max_pages) {
            co_return fail(errc::bad_response,
                           prefix(fmt::format("list of workflows: more than {} pages; the server "
                                              "does not stop paging",
                                              max_pages)));
        }
        auto what = fmt::format("list of workflows at offset {}", offset);
        net::http_request req;
        req.target = api(fmt::format("?offset={}&limit={}", offset, page_limit));
        auto r = co_await call(std::move(req), what, false);
        if (!r) co_return r.error();
        if (auto ok = check_success(*r, prefix(what), false); !ok) co_return ok.error();
        auto p = parse_workflow_page(r->body, prefix(what));
        if (!p) co_return p.error();
        if (p->items.empty()) break;
        std::size_t fresh = 0;
        for (auto& w : p->items) {
            // A workflow created while paging shifts an item onto the next page: skip it.
            if (seen.insert(w.id).second) {
                all.push_back(std::move(w));
                ++fresh;
            }
        }
        if (fresh == 0) {
            co_return fail(errc::bad_response,
                           prefix(fmt::format("{}: the page only repeats workflows already listed "
                                              "(first id {}); the server seems to ignore offset",
                                              what, p->items.front().id)));
        }
        // [GUESS] offset counts records (the docs mix up offset and limit [H-LIST]). It moves by
        // what came back, so a server capping limit below 100 loses nothing.
        offset += static_cast<std::int64_t>(p->items.size());
        if (p->total) {
            if (offset >= *p->total) break;
        } else if (p->items.size() < static_cast<std::size_t>(page_limit)) {
            break;  // no total: a short page is the last one
        }
    }
    co_return all;
}

awaitable<result<std::vector<version_summary>>> secmaster_connector::list_versions(
    const std::string& workflow_id)
{
    auto what = fmt::format("list of versions of workflow {}", workflow_id);
    net::http_request req;
    // [H-VERS] documents offset/limit/total in the answer but no request paging parameters
    // beyond status; limit=100 asks for the most a page can hold.
    req.target = api("/" + net::url_encode(workflow_id) + "/versions?offset=0&limit=100");
    auto r = co_await call(std::move(req), what, false);
    if (!r) co_return r.error();
    if (auto ok = check_success(*r, prefix(what), false); !ok) co_return ok.error();
    co_return parse_versions(r->body, prefix(what));
}

awaitable<result<export_job>> secmaster_connector::start_export(const workflow_summary& wf,
                                                                const version_ref& v)
{
    const std::string what = fmt::format("export of workflow {} ('{}')", wf.id, wf.name);
    // [UNKNOWN] which version SecMaster exports: there is no version parameter [SEED 003].
    if (v.which == version_ref::kind::exact && !wf.active_version.empty() &&
        v.version != wf.active_version) {
        log::warn({.tenant = name_}, "{}: version {} asked for, but SecMaster exports the workflow as it "
                  "is (active version {})", what, v.version, wf.active_version);
    }
    net::http_request req;
    req.method = "POST";
    req.target = api("/export");
    req.content_type = std::string(json_type);
    // One workflow per request, so that each file maps to one workflow.
    req.body = boost::json::serialize(boost::json::object{{"id", boost::json::array{boost::json::string(wf.id)}}});

    req.repeatable = true;  // an export reads and changes nothing
    auto r = co_await call(req, what, false);
    if (!r) co_return r.error();
    // The body is the file; only a small JSON error object with "success": false is an error.
    if (r->body.size() < 4096) {
        boost::system::error_code ec;
        auto j = boost::json::parse(r->body, ec);
        if (!ec && is_failure_body(j) && (find_member(j, "code") || find_member(j, "message"))) {
            auto msg = platform_message(r->body);
            co_return fail(errc::http_status,
                           log::redact(fmt::format("{}: HTTP {} with success=false: {}", prefix(what),
                                                   r->status, msg)),
                           r->status);
        }
    }
    auto file_name = export_file_name(r->headers.find("Content-Disposition"), wf.id);
    auto pkg = make_export_package(r->body, std::move(file_name), wf,
                                   v.which == version_ref::kind::exact ? v.version : std::string(),
                                   prefix(what));
    if (!pkg) co_return pkg.error();
    export_job job;
    job.done = true;  // SecMaster exports are synchronous
    job.result = std::move(*pkg);
    co_return job;
}

awaitable<result<export_job>> secmaster_connector::poll_export(const workflow_summary&, const export_job& job)
{
    co_return job;
}

awaitable<result<import_result>> secmaster_connector::import_package(const import_request& r)
{
    const bool new_definition = r.target_workflow.empty();
    std::string name;
    if (new_definition) {
        name = !r.target_name.empty() ? r.target_name : r.content ? r.content->workflow_name : std::string();
        if (name.empty() && r.content && r.content->files.size() == 1)
            name = file_workflow_name(r.content->files.begin()->second);
    }
    std::string what = new_definition ? fmt::format("import of new workflow '{}'", name)
                                      : fmt::format("import into workflow {}", r.target_workflow);
    if (!r.content) co_return fail(errc::invalid_argument, prefix(what + ": no package given"));

    // The state before: the target's name and versions, and which workflows carry the name,
    // so that the import's effect can be told afterwards (the answer names nothing [H-IMP]).
    auto before = co_await list_workflows();
    if (!before) co_return std::move(before.error()).context(what);
    std::set<std::string> before_ids;
    for (const auto& w : *before) before_ids.insert(w.id);
    std::set<std::string> before_versions;
    if (!new_definition) {
        auto it = std::find_if(before->begin(), before->end(),
                               [&](const workflow_summary& w) { return w.id == r.target_workflow; });
        if (it == before->end()) {
            co_return fail(errc::not_found, prefix(what + ": the target workflow does not exist"));
        }
        name = it->name;
        what = fmt::format("import into workflow {} ('{}')", r.target_workflow, name);
        auto vs = co_await list_versions(r.target_workflow);
        if (!vs) co_return std::move(vs.error()).context(what);
        for (const auto& v : *vs) before_versions.insert(v.version);
    }
    if (name.empty()) {
        co_return fail(errc::invalid_argument,
                       prefix(what + ": no workflow name to find the imported workflow by"));
    }

    auto file = import_file(*r.content, name, prefix(what));
    if (!file) co_return file.error();
    bool is_json = file->name.size() >= 5 && file->name.substr(file->name.size() - 5) == ".json";
    std::vector<net::multipart_part> parts{
        {"uploadFile", file->name, is_json ? "application/json" : "application/octet-stream", std::move(file->bytes)}};
    auto mb = net::make_multipart(parts);

    net::http_request req;
    req.method = "POST";
    req.target = api("/import");
    req.content_type = std::move(mb.content_type);
    req.body = std::move(mb.body);
    // No idempotency key exists [H-IMP]: the request is sent once; a lost answer is an
    // unknown outcome for the engine's write-ahead intent to reconcile.
    auto resp = co_await call(std::move(req), what, true);
    if (!resp) {
        auto e = resp.error();
        if (e.code == errc::transport || e.code == errc::timeout) e.code = errc::unknown_outcome;
        co_return e;
    }
    if (auto ok = check_import_answer(resp->body, resp->status, prefix(what)); !ok) {
        auto e = ok.error();
        if (e.code == errc::bad_response) e.code = errc::unknown_outcome;  // 2xx, unreadable
        co_return e;
    }

    // [UNKNOWN]-driven: find the workflow by name after the import.
    auto after = co_await list_workflows();
    if (!after) co_return after_import(std::move(after.error()).context(what));
    std::vector<const workflow_summary*> named;
    for (const auto& w : *after)
        if (w.name == name) named.push_back(&w);
    const workflow_summary* target = nullptr;
    for (auto* w : named)
        if (!new_definition && w->id == r.target_workflow) target = w;
    if (!target && named.size() == 1) target = named.front();
    if (!target) {
        std::vector<const workflow_summary*> fresh;
        for (auto* w : named)
            if (!before_ids.contains(w->id)) fresh.push_back(w);
        if (fresh.size() == 1) target = fresh.front();
    }
    if (!target) {
        co_return fail(errc::unknown_outcome,
                       prefix(fmt::format("{}: accepted, but {} workflows are named '{}' afterwards; "
                                          "cannot tell which one it went to",
                                          what, named.size(), name)));
    }
    if (!new_definition && target->id != r.target_workflow) {
        log::warn({.tenant = name_}, "{}: the import created workflow {} instead of a version of {}", what,
                  target->id, r.target_workflow);
        before_versions.clear();
    }

    auto vs = co_await list_versions(target->id);
    if (!vs) co_return after_import(std::move(vs.error()).context(what));
    import_result out;
    out.target_workflow = target->id;
    out.done = true;
    std::vector<std::string> added;
    for (const auto& v : *vs)
        if (!before_versions.contains(v.version)) added.push_back(v.version);
    if (added.size() == 1) {
        out.version = added.front();
    } else {
        // Not told apart by the listing: the active version, else the last listed.
        for (const auto& v : *vs)
            if (v.active) out.version = v.version;
        if (out.version.empty() && !vs->empty()) out.version = vs->back().version;
        if (out.version.empty()) out.version = r.version;
    }
    if (!r.version.empty() && out.version != r.version) {
        log::info({.tenant = name_}, "{}: SecMaster labelled the imported version {} (asked for {})", what,
                  out.version, r.version);
    }
    for (const auto& v : *vs)
        if (v.version == out.version) out.version_id = v.id;
    co_await settle_activation(r, out, what);
    co_return out;
}

awaitable<void> secmaster_connector::settle_activation(const import_request& r, import_result& out,
                                                       const std::string& what)
{
    auto status_now = [&]() -> awaitable<result<version_summary>> {
        auto vs = co_await list_versions(out.target_workflow);
        if (!vs) co_return vs.error();
        for (auto& v : *vs)
            if (v.version == out.version) co_return std::move(v);
        co_return fail(errc::bad_response, prefix(fmt::format("{}: version {} is no longer listed", what, out.version)));
    };
    auto before = co_await status_now();
    if (!before) {
        // Without `activate` nothing was asked of the platform, so nothing failed: only said.
        (r.activate ? out.activation_error : out.note) = "its status could not be read: " + before.error().message;
        co_return;
    }
    if (!r.activate) {
        if (before->active)
            out.note = "SecMaster activated the imported version although the rule says activate: false";
        co_return;
    }
    if (before->active) {
        out.note = "activated (by the platform on import)";
        co_return;
    }
    if (out.version_id.empty()) {
        out.activation_error = fmt::format("version {} is {} and has no id to activate it by", out.version,
                                           before->status.empty() ? "not activated" : before->status);
        co_return;
    }
    const std::string act = fmt::format("activation of version {} ({})", out.version, out.version_id);
    net::http_request req;
    req.method = "PUT";
    req.target = api("/versions/" + net::url_encode(out.version_id));
    req.content_type = std::string(json_type);
    req.body = R"({"status":"activated"})";
    auto put = co_await call(std::move(req), act, true);
    if (put) {
        if (auto ok = check_success(*put, prefix(act), true); !ok) put = ok.error();
    }
    if (!put) {
        out.activation_error = put.error().message;
        co_return;
    }
    auto after = co_await status_now();
    if (!after) {
        out.activation_error = "activated, but its status could not be read back: " + after.error().message;
    } else if (!after->active) {
        out.activation_error = fmt::format("{}: accepted, but the version is {} afterwards", prefix(act),
                                           after->status.empty() ? "not activated" : after->status);
    } else {
        out.note = "activated";
    }
}

awaitable<result<std::optional<package>>> secmaster_connector::read_version(const workflow_summary& wf,
                                                                            const version_summary& v)
{
    const std::string what = fmt::format("version {} of workflow {} ('{}')", v.version, wf.id, wf.name);
    if (v.id.empty()) co_return fail(errc::bad_response, prefix(what + ": the version list gave it no id"));
    net::http_request req;
    req.target = api("/versions/" + net::url_encode(v.id));
    auto r = co_await call(std::move(req), what, false);
    if (!r) co_return r.error();
    if (auto ok = check_success(*r, prefix(what), false); !ok) co_return ok.error();
    auto pkg = parse_version_detail(r->body, wf, v, prefix(what));
    if (!pkg) {
        // [GUESS] that the detail carries the content: where it does not, versions are read
        // by export (the activated one only), as before there was a version API to read.
        if (pkg.error().message.find("neither taskflow nor taskconfig") != std::string::npos) {
            if (!detail_without_content_logged_) {
                log::warn("tenant {}: the version detail carries no content (taskflow, taskconfig); versions are "
                          "read by export, which gives the activated one only",
                          name_);
                detail_without_content_logged_ = true;
            }
            co_return std::optional<package>{};
        }
        co_return pkg.error();
    }
    co_return std::optional<package>(std::move(*pkg));
}

}  // namespace wfsync::connector::secmaster
