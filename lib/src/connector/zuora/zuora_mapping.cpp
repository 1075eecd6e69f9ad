// SPDX-License-Identifier: Apache-2.0
#include "zuora_mapping.hpp"

#include "../mapping_detail.hpp"
#include "../token_cache.hpp"

#include <wfsync/core/json.hpp>
#include <wfsync/core/log.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/stream_parser.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>

namespace wfsync::connector::zuora {
namespace json = boost::json;
using detail::iequals;

namespace {

/// A string member, or a number printed; empty otherwise.
std::string text_of(const json::value* v)
{
    if (!v) return {};
    if (v->is_string()) return std::string(v->get_string());
    return id_text(v);
}

/// A version label that may be given as "0.0.3", as {version: "0.0.3"} or as null.
std::string version_of(const json::value* v)
{
    if (!v || v->is_null()) return {};
    if (v->is_object()) return text_of(v->get_object().if_contains("version"));
    return text_of(v);
}

/// Percent-encoding for application/x-www-form-urlencoded (RFC 3986 unreserved kept).
std::string form_encode(std::string_view s)
{
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    for (char c : s) {
        auto u = static_cast<unsigned char>(c);
        if (std::isalnum(u) || c == '-' || c == '_' || c == '.' || c == '~') {
            out += c;
        } else {
            out += '%';
            out += hex[u >> 4];
            out += hex[u & 15];
        }
    }
    return out;
}

/// The item list of a list answer: a bare array, or {data: [...]}.
/// [GUESS] api-reference.md: the list shapes are not documented; "data" is the guess, and a
/// bare array is accepted in case the endpoint answers with one.
const json::array* list_items(const json::value& v)
{
    if (v.is_array()) return &v.get_array();
    if (auto* d = find_member(v, "data"); d && d->is_array()) return &d->get_array();
    return nullptr;
}

}  // namespace

result<json::value> parse_body(std::string_view body, std::string_view what)
{
    return detail::parse_body(body, what);
}

std::string id_text(const json::value* v)
{
    if (!v) return {};
    switch (v->kind()) {
    case json::kind::string:
        return std::string(v->get_string());
    case json::kind::int64:
        return std::to_string(v->get_int64());
    case json::kind::uint64:
        return std::to_string(v->get_uint64());
    case json::kind::double_: {
        // An id sent as 101.0 still names workflow 101; one beyond 2^53 (or 2^64, where JSON
        // parsers give up on integers) or with a fraction names nothing exactly: no id.
        double d = v->get_double();
        if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9.0e15) {
            return std::to_string(static_cast<std::int64_t>(d));
        }
        return {};
    }
    default:
        return {};
    }
}

std::string platform_message(std::string_view body)
{
    boost::system::error_code ec;
    json::value v = json::parse(body, ec);
    if (ec || !v.is_object()) return {};
    const auto& o = v.get_object();

    // Zuora v1's generic shape {success:false, reasons:[{code, message}]} ([Z-ERR]); whether
    // the Workflow service uses it is [UNKNOWN], so the other usual shapes are read too.
    for (auto key : {"reasons", "errors", "Errors"}) {
        auto* list = o.if_contains(key);
        if (!list || !list->is_array()) continue;
        std::string joined;
        for (const auto& r : list->get_array()) {
            std::string m;
            if (r.is_string()) {
                m = std::string(r.get_string());
            } else {
                m = text_of(find_member(r, "message"));
                if (m.empty()) m = text_of(find_member(r, "Message"));
            }
            if (m.empty()) continue;
            if (!joined.empty()) joined += "; ";
            joined += m;
        }
        if (!joined.empty()) return joined;
    }
    for (auto key : {"message", "error_description"}) {
        if (auto* m = o.if_contains(key); m && m->is_string() && !m->get_string().empty()) {
            return std::string(m->get_string());
        }
    }
    if (auto* e = o.if_contains("error")) {
        if (e->is_string()) return std::string(e->get_string());
        auto m = text_of(find_member(*e, "message"));
        if (!m.empty()) return m;
    }
    return {};
}

bool is_failure_body(const json::value& v)
{
    return detail::is_failure_body(v);
}

errc errc_for_status(int status, bool write)
{
    switch (status) {
    case 401:
    case 403:
        return errc::auth;
    case 404:
    case 410:
        return errc::not_found;
    case 409:
        // Writes carry an idempotency key, and Zuora answers 409 while the first request
        // with that key is still running [Z-IDEM]: it may yet land, so the outcome is unknown.
        return write ? errc::unknown_outcome : errc::conflict;
    case 400:
    case 422:
        // Imports: the platform refused because of the target's state (a version not above
        // the highest, an idempotency key reused for another call). Reads: our request was
        // wrong (e.g. a version label the platform does not accept).
        return write ? errc::conflict : errc::invalid_argument;
    case 429:
        return errc::rate_limited;
    default:
        return errc::http_status;
    }
}

errc errc_for_failure_body(const json::value& v, bool write)
{
    std::string code;
    if (auto* reasons = find_member(v, "reasons"); reasons && reasons->is_array() &&
                                                   !reasons->get_array().empty()) {
        code = text_of(find_member(reasons->get_array().front(), "code"));
    }
    if (code.empty() || !std::all_of(code.begin(), code.end(),
                                     [](char c) { return c >= '0' && c <= '9'; })) {
        return write ? errc::conflict : errc::http_status;
    }
    // [Z-ERR]: 8 digits = 6-digit resource + 2-digit category; codes starting with 9 are
    // mostly authentication problems (90000011 = invalid credentials).
    if (code.size() == 8 && code.front() == '9') return errc::auth;
    int category = std::stoi(code.substr(code.size() >= 2 ? code.size() - 2 : 0));
    switch (category) {
    case 10:
    case 11:
        return errc::auth;
    case 40:
        return errc::not_found;
    case 30:
        return errc::conflict;
    case 20:
    case 21:
    case 22:
    case 23:
        return write ? errc::conflict : errc::invalid_argument;
    default:
        return write ? errc::conflict : errc::http_status;
    }
}

error status_error(std::string_view prefix, int status, std::string_view body, bool write)
{
    return detail::status_error(prefix, status, body, platform_message(body),
                                errc_for_status(status, write));
}

std::string sanitize_track_id(std::string_view value)
{
    std::string out;
    for (char c : value.substr(0, 64)) {
        auto u = static_cast<unsigned char>(c);
        bool ok = u >= 0x20 && u < 0x7f && c != ':' && c != ';' && c != '"' && c != '\'';
        out += ok ? c : '_';
    }
    return out;
}

std::string token_request_body(std::string_view client_id, std::string_view client_secret)
{
    return "client_id=" + form_encode(client_id) + "&client_secret=" + form_encode(client_secret) +
           "&grant_type=client_credentials";
}

result<token_info> parse_token(std::string_view body, std::string_view what)
{
    boost::system::error_code ec;
    json::value v = json::parse(body, ec);
    // The body may hold a token: never quote it.
    if (ec) {
        return fail(errc::bad_response,
                    fmt::format("{}: the token answer is not JSON ({} bytes)", what, body.size()));
    }
    auto* t = find_member(v, "access_token");
    if (!t || !t->is_string() || t->get_string().empty()) {
        return fail(errc::bad_response, fmt::format("{}: the token answer has no access_token", what));
    }
    token_info out;
    out.access_token = std::string(t->get_string());
    auto exp = text_of(find_member(v, "expires_in"));
    if (!exp.empty() && std::all_of(exp.begin(), exp.end(), [](char c) { return c >= '0' && c <= '9'; }) &&
        exp.size() < 10) {
        out.expires_in = std::chrono::seconds(std::stol(exp));
    }
    return out;
}

std::chrono::milliseconds token_usable_for(std::chrono::seconds expires_in)
{
    using namespace std::chrono;
    if (expires_in <= seconds(0)) expires_in = seconds(3600);
    return detail::token_usable_for(expires_in, seconds(60));
}

result<workflow_page> parse_workflow_page(std::string_view body, std::string_view what)
{
    auto parsed = parse_body(body, what);
    if (!parsed) return parsed.error();
    json::value v = std::move(*parsed);
    workflow_page page;
    const json::array* items = list_items(v);
    if (!items) {
        return fail(errc::bad_response,
                    fmt::format("{}: expected a JSON array or an object with a \"data\" array", what));
    }
    if (auto* p = find_member(v, "pagination"); p && p->is_object()) {
        page.has_pagination = true;
        // [GUESS] pagination.next_page is a URL, or null on the last page.
        auto* next = p->get_object().if_contains("next_page");
        if (next) {
            if (next->is_string()) page.has_next = !next->get_string().empty();
            else if (next->is_bool()) page.has_next = next->get_bool();
            else if (!next->is_null()) page.has_next = true;
        }
    }
    std::size_t i = 0;
    for (const auto& item : *items) {
        ++i;
        if (!item.is_object()) {
            return fail(errc::bad_response, fmt::format("{}: item {} is not an object", what, i));
        }
        const auto& o = item.get_object();
        workflow_summary w;
        w.id = id_text(o.if_contains("id"));
        if (w.id.empty()) {
            if (const auto* raw = o.if_contains("id"); raw && raw->is_double())
                return fail(errc::bad_response, fmt::format("{}: item {} has an id that is not an exact integer ({}); "
                                                            "wfsync keeps ids exactly or not at all",
                                                            what, i, json::serialize(*raw)));
            return fail(errc::bad_response, fmt::format("{}: item {} has no id", what, i));
        }
        w.name = text_of(o.if_contains("name"));
        w.active_version = version_of(o.if_contains("active_version"));
        w.latest_version = version_of(o.if_contains("latest_version"));
        w.versions_listed = o.contains("active_version") || o.contains("latest_version");
        // [GUESS] the listing's version and time members; whichever are there make the mark.
        w.change_mark = detail::change_mark(o, {"active_version", "latest_version", "updatedAt", "updated_at",
                                                "updatedOn", "updated_on"});
        page.items.push_back(std::move(w));
    }
    return page;
}

result<std::vector<version_summary>> parse_versions(std::string_view body, std::string_view what)
{
    auto parsed = parse_body(body, what);
    if (!parsed) return parsed.error();
    json::value v = std::move(*parsed);
    const json::array* items = list_items(v);
    if (!items) {
        return fail(errc::bad_response,
                    fmt::format("{}: expected a JSON array or an object with a \"data\" array", what));
    }
    std::vector<version_summary> out;
    std::size_t i = 0;
    for (const auto& item : *items) {
        ++i;
        if (!item.is_object()) {
            return fail(errc::bad_response, fmt::format("{}: item {} is not an object", what, i));
        }
        const auto& o = item.get_object();
        version_summary s;
        s.id = id_text(o.if_contains("id"));
        s.version = text_of(o.if_contains("version"));
        if (s.version.empty()) {
            return fail(errc::bad_response, fmt::format("{}: item {} has no version", what, i));
        }
        s.status = text_of(o.if_contains("status"));
        s.active = iequals(s.status, "Active");
        // [GUESS] tolerance: a boolean "active" flag where no status is given.
        if (s.status.empty()) {
            if (auto* a = o.if_contains("active"); a && a->is_bool()) s.active = a->get_bool();
        }
        out.push_back(std::move(s));
    }
    return out;
}

result<package> parse_export(std::string_view body, const workflow_summary& wf, std::string_view what)
{
    auto parsed = parse_body(body, what);
    if (!parsed) return parsed.error();
    json::value v = std::move(*parsed);
    auto bad = [&](std::string_view why) {
        return fail(errc::bad_response,
                    fmt::format("{}: not a workflow export of workflow {}: {}", what, wf.id, why));
    };
    if (!v.is_object()) return bad("the document is not a JSON object");
    const auto& o = v.get_object();
    auto* w = o.if_contains("workflow");
    if (!w || !w->is_object()) return bad("\"workflow\" is missing or not an object");
    auto* tasks = o.if_contains("tasks");
    if (!tasks || !tasks->is_array()) return bad("\"tasks\" is missing or not an array");
    // A workflow without linkages may leave the key out; anything else must be an array.
    if (auto* l = o.if_contains("linkages"); l && !l->is_null() && !l->is_array()) {
        return bad("\"linkages\" is not an array");
    }
    package p;
    p.format = "zuora-json";
    p.workflow_id = wf.id;
    p.workflow_name = text_of(w->get_object().if_contains("name"));
    if (p.workflow_name.empty()) p.workflow_name = wf.name;
    p.version = text_of(w->get_object().if_contains("version"));
    p.files.emplace("workflow.json", std::string(body));
    return p;
}

result<std::string> import_body(const package& p, std::string_view new_name, std::string_view what)
{
    auto it = p.files.find("workflow.json");
    if (it == p.files.end()) {
        return fail(errc::invalid_argument,
                    fmt::format("{}: the package (format '{}') has no workflow.json", what, p.format));
    }
    if (new_name.empty()) return it->second;
    auto v = parse_body(it->second, fmt::format("{}: workflow.json", what));
    if (!v) return fail(errc::invalid_argument, v.error().message);
    auto* w = find_member(*v, "workflow");
    if (!w || !w->is_object()) {
        return fail(errc::invalid_argument,
                    fmt::format("{}: workflow.json has no \"workflow\" object", what));
    }
    v->get_object()["workflow"].get_object()["name"] = json::string(new_name);
    return json::serialize(*v);
}

result<import_result> parse_import_result(std::string_view body, std::string_view fallback_id,
                                          std::string_view requested_version, std::string_view what)
{
    auto parsed = parse_body(body, what);
    if (!parsed) return parsed.error();
    json::value v = std::move(*parsed);
    if (!v.is_object()) {
        return fail(errc::bad_response, fmt::format("{}: the answer is not a JSON object", what));
    }
    const auto& o = v.get_object();
    import_result r;
    std::string id;
    std::string version;
    if (auto* w = o.if_contains("workflow"); w && w->is_object()) {
        // The export shape: [Z-IMPDEF]'s sample for POST /workflows/import. [UNKNOWN] whether
        // workflow.id there is the new definition's id; it is the only id the answer has.
        id = id_text(w->get_object().if_contains("id"));
        version = text_of(w->get_object().if_contains("version"));
    }
    if (id.empty()) {
        // The new-version shape [SEED 001]: {id, ..., active_version{version}}. The
        // active_version is the new one only when it was activated, so the requested label is
        // preferred over it.
        id = id_text(o.if_contains("id"));
        if (version.empty() && requested_version.empty()) {
            version = version_of(o.if_contains("active_version"));
        }
    }
    r.target_workflow = id.empty() ? std::string(fallback_id) : id;
    r.version = version.empty() ? std::string(requested_version) : version;
    if (r.target_workflow.empty()) {
        return fail(errc::bad_response, fmt::format("{}: the answer names no workflow id", what));
    }
    r.done = true;
    return r;
}

}  // namespace wfsync::connector::zuora
