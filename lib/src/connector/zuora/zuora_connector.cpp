// SPDX-License-Identifier: Apache-2.0
#include "zuora_connector.hpp"

#include "../connector_detail.hpp"
#include "zuora_mapping.hpp"

#include <wfsync/core/json.hpp>
#include <wfsync/core/log.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <set>

namespace wfsync::connector::zuora {
namespace asio = boost::asio;

namespace {

net::client_settings client_settings_for(const config::tenant& t)
{
    net::client_settings s = detail::client_settings_for(t);
    s.default_headers.set("Accept", "application/json");
    // Only needed with Multi-entity when the token is valid for several entities [Z-LIST].
    if (!t.entity_id.empty()) s.default_headers.set("Zuora-Entity-Ids", t.entity_id);
    return s;
}

std::string_view label_of(const version_ref& v)
{
    switch (v.which) {
    case version_ref::kind::latest:
        return "latest";
    case version_ref::kind::active:
        return "active";
    case version_ref::kind::exact:
        break;
    }
    return v.version;
}

bool is_2xx(int status) { return status >= 200 && status < 300; }

}  // namespace

result<std::unique_ptr<connector>> make_zuora_connector(executor ex, const config::tenant& t)
{
    auto bad = [&](std::string_view why) {
        return fail(errc::config, fmt::format("tenant {}: {}", t.name, why));
    };
    if (!t.base_url.starts_with("http://") && !t.base_url.starts_with("https://")) {
        return bad(fmt::format("base_url '{}' is not an http:// or https:// URL", t.base_url));
    }
    switch (t.auth.type) {
    case config::auth_type::oauth2:
        if (t.auth.client_id.empty()) return bad("oauth2 needs a client_id");
        if (t.auth.client_secret.empty()) return bad("oauth2 needs a client secret");
        break;
    case config::auth_type::bearer:
        if (t.auth.token.empty()) return bad("bearer auth needs a token");
        break;
    default:
        return bad("Zuora supports only oauth2 and bearer auth");
    }
    return std::unique_ptr<connector>(new zuora_connector(std::move(ex), t));
}

zuora_connector::zuora_connector(executor ex, const config::tenant& t)
    : name_(t.name),
      auth_(t.auth),
      base_url_(t.base_url),
      client_(ex, client_settings_for(t)),
      tokens_(ex, "login")
{
    // The config loader registers these already; a tenant built in code (tests, restore)
    // gets the same protection.
    log::add_secret(auth_.client_secret.reveal());
    log::add_secret(auth_.token.reveal());
    client_.on_attempt([name = name_](const net::attempt_record& rec) { detail::notify_attempt(name, rec); });
}

zuora_connector::~zuora_connector() = default;

std::string zuora_connector::prefix(std::string_view what) const
{
    return fmt::format("tenant {}: {}", name_, what);
}

void zuora_connector::set_run_id(const std::string& run_id)
{
    auto v = sanitize_track_id(run_id);
    if (!v.empty()) client_.set_default_header("Zuora-Track-Id", std::move(v));
}

// ---------------------------------------------------------------------------------------
// Token

awaitable<result<detail::fetched_token>> zuora_connector::fetch_token()
{
    net::http_request req;
    req.method = "POST";
    req.target = "/oauth/token";
    if (!auth_.token_url.empty()) req.absolute_url = auth_.token_url;
    // [Z-TOKEN]: form fields only, and no Authorization header.
    req.content_type = "application/x-www-form-urlencoded";
    req.body = token_request_body(auth_.client_id, auth_.client_secret.reveal());

    // Zuora's token endpoint is rate-limited per IP [Z-TOKEN]: retried in
    // send_token_request, honouring a Retry-After ([UNKNOWN] whether Zuora sends one).
    const std::string what = "login";
    auto r = co_await detail::send_token_request(client_, std::move(req), name_, what, true);
    if (!r) co_return r.error();
    if (!is_2xx(r->status)) {
        auto e = status_error("login", r->status, r->body, false);
        // 400 is how OAuth servers refuse an unknown client (RFC 6749 invalid_client).
        if (r->status == 400) e.code = errc::auth;
        co_return e;
    }
    auto tok = parse_token(r->body, "login");
    if (!tok) co_return tok.error();
    log::add_secret(tok->access_token);
    log::debug({.tenant = name_}, "got an access token valid for {}s", tok->expires_in.count());
    co_return detail::fetched_token{std::move(tok->access_token), token_usable_for(tok->expires_in)};
}

awaitable<result<std::string>> zuora_connector::access_token()
{
    if (auth_.type != config::auth_type::oauth2) co_return auth_.token.reveal();
    detail::token_cache::fetch_fn fetch = [this] { return fetch_token(); };
    co_return co_await tokens_.get(std::move(fetch));
}

awaitable<result<void>> zuora_connector::check_login()
{
    if (auth_.type == config::auth_type::oauth2) {
        auto t = co_await access_token();
        if (!t) co_return std::move(t.error()).context(prefix("check login"));
        co_return result<void>{};
    }
    // A static token is checked with the smallest real call.
    net::http_request req;
    req.target = "/workflows?page=1&page_length=1";
    // A named string: GCC 12 destroys temporaries bound to a reference parameter inside a
    // co_await expression twice (double free; see the connector report).
    const std::string what = "check login";
    auto r = co_await call(std::move(req), what, false);
    if (!r) co_return r.error();
    co_return result<void>{};
}

// ---------------------------------------------------------------------------------------
// Calls

awaitable<result<net::http_response>> zuora_connector::call(net::http_request req,
                                                            const std::string& what, bool write)
{
    for (int round = 0;; ++round) {
        auto tok = co_await access_token();
        if (!tok) co_return std::move(tok.error()).context(prefix(what));
        auto attempt = req;
        attempt.headers.set("Authorization", "Bearer " + *tok);
        auto r = co_await client_.send(std::move(attempt));
        if (!r) {
            auto e = r.error();
            e.message = log::redact(e.message);
            co_return std::move(e).context(prefix(what));
        }
        // [Z-ERRH]: on a 401 fetch a new token and retry, once.
        if (r->status == 401 && auth_.type == config::auth_type::oauth2 && round == 0) {
            log::info({.tenant = name_}, "{}: HTTP 401, fetching a new access token", what);
            tokens_.invalidate(*tok);
            continue;
        }
        if (!is_2xx(r->status)) {
            auto e = status_error(prefix(what), r->status, r->body, write);
            if (r->status == 401 && round > 0) e.message += " (again after a new access token)";
            co_return e;
        }
        // [Z-ERR]: an HTTP 200 can still carry an error, flagged by "success": false.
        if (r->body.find("\"success\"") != std::string::npos) {
            boost::system::error_code ec;
            auto v = boost::json::parse(r->body, ec);
            if (!ec && is_failure_body(v)) {
                auto msg = platform_message(r->body);
                co_return fail(errc_for_failure_body(v, write),
                               log::redact(fmt::format("{}: HTTP {} with success=false: {}",
                                                       prefix(what), r->status,
                                                       msg.empty() ? "no reason given" : msg)),
                               r->status);
            }
        }
        co_return std::move(*r);
    }
}

awaitable<result<std::vector<workflow_summary>>> zuora_connector::list_workflows()
{
    std::vector<workflow_summary> all;
    std::set<std::string> seen;
    std::size_t largest = 0;  // the longest page so far: a bare array's page size, whatever the cap
    bool short_page = false;  // the last page held fewer than asked for
    for (int page = 1;; ++page) {
        if (page > max_pages) {
            co_return fail(errc::bad_response,
                           prefix(fmt::format("list of workflows: more than {} pages; the "
                                              "server does not stop paging",
                                              max_pages)));
        }
        auto what = fmt::format("list of workflows page {}", page);
        net::http_request req;
        req.target = fmt::format("/workflows?page={}&page_length={}", page, page_length);
        auto r = co_await call(std::move(req), what, false);
        if (!r) co_return r.error();
        auto p = parse_workflow_page(r->body, prefix(what));
        if (!p) co_return p.error();
        if (p->items.empty()) break;
        std::size_t fresh = 0;
        for (auto& w : p->items) {
            // A workflow created while paging can shift an item onto the next page: skip
            // the duplicate.
            if (seen.insert(w.id).second) {
                all.push_back(std::move(w));
                ++fresh;
            }
        }
        // A server that ignores `page` under a bare array showed everything on a short page.
        if (fresh == 0 && !p->has_pagination && short_page) break;
        if (fresh == 0) {
            co_return fail(errc::bad_response,
                           prefix(fmt::format("{}: the page only repeats workflows already "
                                              "listed (first id {}); the server seems to ignore "
                                              "the page parameter",
                                              what, p->items.front().id)));
        }
        if (p->has_pagination) {
            // [GUESS] pagination.next_page is null/absent on the last page. It is only used as
            // a flag: the next page is asked for by number, never by following the URL.
            if (!p->has_next) break;
        } else if (p->items.size() < static_cast<std::size_t>(page_length)) {
            // A bare array has no end marker, and [UNKNOWN] the server's maximum page_length:
            // below what was asked, a full page at that cap looks short (the crash matrix lost
            // workflows that way). A page shorter than an earlier one is the last; the first
            // short one is followed by one more request, which ends on an empty page.
            if (p->items.size() < largest) break;
            short_page = true;
        }
        largest = std::max(largest, p->items.size());
    }
    co_return all;
}

awaitable<result<std::vector<version_summary>>> zuora_connector::list_versions(
    const std::string& workflow_id)
{
    auto what = fmt::format("list of versions of workflow {}", workflow_id);
    net::http_request req;
    // [Z-VERS]: no paging parameters are documented.
    req.target = "/workflows/" + net::url_encode(workflow_id) + "/versions";
    auto r = co_await call(std::move(req), what, false);
    if (!r) co_return r.error();
    co_return parse_versions(r->body, prefix(what));
}

awaitable<result<export_job>> zuora_connector::start_export(const workflow_summary& wf,
                                                            const version_ref& v)
{
    auto what = fmt::format("export of workflow {} version {}", wf.id, label_of(v));
    net::http_request req;
    req.target = "/workflows/" + net::url_encode(wf.id) + "/export";
    switch (v.which) {
    case version_ref::kind::latest:
        req.target += "?version=latest";
        break;
    case version_ref::kind::active:
        break;  // no version parameter = the active version [SEED 000]
    case version_ref::kind::exact:
        if (v.version.empty()) {
            co_return fail(errc::invalid_argument, prefix(what + ": no version label given"));
        }
        req.target += "?version=" + net::url_encode(v.version);
        break;
    }
    auto r = co_await call(std::move(req), what, false);
    if (!r) co_return r.error();
    auto pkg = parse_export(r->body, wf, prefix(what));
    if (!pkg) co_return pkg.error();
    if (pkg->version.empty() && v.which == version_ref::kind::exact) pkg->version = v.version;
    export_job job;
    job.done = true;  // Zuora exports are synchronous
    job.result = std::move(*pkg);
    co_return job;
}

awaitable<result<export_job>> zuora_connector::poll_export(const workflow_summary&, const export_job& job)
{
    co_return job;
}

awaitable<result<import_result>> zuora_connector::import_package(const import_request& r)
{
    const bool new_definition = r.target_workflow.empty();
    std::string what;
    if (new_definition) {
        auto name = !r.target_name.empty() ? r.target_name
                    : r.content             ? r.content->workflow_name
                                            : std::string();
        what = fmt::format("import of new workflow '{}' version {}", name, r.version);
    } else {
        what = fmt::format("import of workflow {} version {}", r.target_workflow, r.version);
    }
    if (!r.content) co_return fail(errc::invalid_argument, prefix(what + ": no package given"));
    if (r.content->format != "zuora-json") {
        co_return fail(errc::invalid_argument,
                       prefix(fmt::format("{}: a '{}' package cannot be imported into Zuora", what,
                                          r.content->format)));
    }
    if (r.idempotency_key.size() > 255) {
        co_return fail(errc::invalid_argument,
                       prefix(what + ": idempotency key longer than 255 characters"));
    }
    auto body = import_body(*r.content, new_definition ? r.target_name : std::string(), prefix(what));
    if (!body) co_return body.error();

    std::string query;
    if (!r.version.empty()) query = "version=" + net::url_encode(r.version) + "&";
    query += r.activate ? "activate=true" : "activate=false";

    net::http_request req;
    req.method = "POST";
    req.target = new_definition
                     ? "/workflows/import?" + query
                     : "/workflows/" + net::url_encode(r.target_workflow) + "/versions/import?" + query;
    req.body = std::move(*body);
    req.content_type = "application/json";
    req.idempotency_key = r.idempotency_key;
    // Zuora takes gzip request bodies (Content-Encoding: gzip) [SEED 000/001]; below a
    // kilobyte the saving is not worth the work.
    req.gzip_body = req.body.size() > 1024;

    auto resp = co_await call(std::move(req), what, true);
    if (!resp) co_return resp.error();
    auto out = parse_import_result(resp->body, r.target_workflow, r.version, prefix(what));
    if (!out) {
        // The platform said 2xx, so the import has most likely happened; what it created
        // cannot be read from the answer.
        auto e = out.error();
        e.code = errc::unknown_outcome;
        e.http_status = resp->status;
        co_return e;
    }
    if (const auto* replayed = resp->headers.find("Idempotent-Replayed")) {
        log::info({.tenant = name_}, "{}: answer replayed for idempotency key (Idempotent-Replayed: {})", what,
                  *replayed);
    }
    co_return std::move(*out);
}

}  // namespace wfsync::connector::zuora
