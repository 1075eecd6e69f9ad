// SPDX-License-Identifier: Apache-2.0
#include "secmaster_mapping.hpp"

#include "../mapping_detail.hpp"
#include "../token_cache.hpp"

#include <wfsync/core/base64.hpp>
#include <wfsync/core/json.hpp>
#include <wfsync/core/log.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/stream_parser.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>

namespace wfsync::connector::secmaster {
namespace json = boost::json;
using detail::iequals;
using detail::printable_prefix;
using namespace std::chrono;

namespace {

/// A string member, or an integer printed; empty otherwise.
std::string text_of(const json::value* v)
{
    if (!v) return {};
    switch (v->kind()) {
    case json::kind::string:
        return std::string(v->get_string());
    case json::kind::int64:
        return std::to_string(v->get_int64());
    case json::kind::uint64:
        return std::to_string(v->get_uint64());
    default:
        return {};
    }
}

/// A version label given as "v3", as {version: "v3"} or {name: "v3"}, or null.
std::string version_of(const json::value* v)
{
    if (!v || v->is_null()) return {};
    if (v->is_object()) {
        auto s = text_of(v->get_object().if_contains("version"));
        return s.empty() ? text_of(v->get_object().if_contains("name")) : s;
    }
    return text_of(v);
}

const json::array* list_items(const json::value& v)
{
    if (v.is_array()) return &v.get_array();
    if (auto* d = find_member(v, "data"); d && d->is_array()) return &d->get_array();
    return nullptr;
}

/// Days since 1970-01-01 of a civil date (H. Hinnant's algorithm).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
    const auto yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

bool digits(std::string_view s, std::size_t at, std::size_t n, int& out)
{
    if (at + n > s.size()) return false;
    out = 0;
    for (std::size_t i = at; i < at + n; ++i) {
        if (s[i] < '0' || s[i] > '9') return false;
        out = out * 10 + (s[i] - '0');
    }
    return true;
}

}  // namespace

result<json::value> parse_body(std::string_view body, std::string_view what)
{
    return detail::parse_body(body, what);
}

// ---------------------------------------------------------------------------------------
// IAM

std::string token_request_body(std::string_view user, std::string_view password,
                               std::string_view domain, std::string_view project)
{
    json::object body{
        {"auth",
         {{"identity",
           {{"methods", json::array{"password"}},
            {"password",
             {{"user", {{"name", user}, {"password", password}, {"domain", {{"name", domain}}}}}}}}},
          {"scope", {{"project", {{"name", project}}}}}}}};
    return json::serialize(body);
}

std::optional<system_clock::time_point> parse_iso8601(std::string_view s)
{
    int y, mo, d, h, mi, sec;
    if (!digits(s, 0, 4, y) || s.size() < 19 || s[4] != '-' || !digits(s, 5, 2, mo) || s[7] != '-' ||
        !digits(s, 8, 2, d) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || !digits(s, 11, 2, h) ||
        s[13] != ':' || !digits(s, 14, 2, mi) || s[16] != ':' || !digits(s, 17, 2, sec)) {
        return std::nullopt;
    }
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) return std::nullopt;
    std::size_t i = 19;
    microseconds frac{0};
    if (i < s.size() && s[i] == '.') {
        ++i;
        std::size_t start = i;
        std::int64_t us = 0;
        int kept = 0;
        while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
            if (kept < 6) {
                us = us * 10 + (s[i] - '0');
                ++kept;
            }
            ++i;
        }
        if (i == start) return std::nullopt;
        while (kept < 6) {
            us *= 10;
            ++kept;
        }
        frac = microseconds(us);
    }
    seconds offset{0};
    if (i < s.size()) {
        if (s[i] == 'Z' || s[i] == 'z') {
            ++i;
        } else if (s[i] == '+' || s[i] == '-') {
            int sign = s[i] == '-' ? -1 : 1;
            int oh, om;
            ++i;
            if (!digits(s, i, 2, oh)) return std::nullopt;
            i += 2;
            if (i < s.size() && s[i] == ':') ++i;
            if (!digits(s, i, 2, om)) return std::nullopt;
            i += 2;
            offset = seconds(sign * (oh * 3600 + om * 60));
        } else {
            return std::nullopt;
        }
    }
    // No zone at all is read as UTC (Keystone always sends Z).
    if (i != s.size()) return std::nullopt;
    auto dn = days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
    auto t = sys_days(std::chrono::days(dn)) + hours(h) + minutes(mi) + seconds(sec) + frac - offset;
    return time_point_cast<system_clock::duration>(t);
}

result<token_info> parse_token(const std::string* header, std::string_view body, std::string_view what)
{
    if (!header || header->empty()) {
        return fail(errc::bad_response,
                    fmt::format("{}: the token answer has no X-Subject-Token header", what));
    }
    token_info out;
    out.token = *header;
    boost::system::error_code ec;
    auto v = json::parse(body, ec);
    if (!ec) {
        if (auto* t = find_member(v, "token")) {
            if (auto* e = find_member(*t, "expires_at"); e && e->is_string()) {
                out.expires_at = parse_iso8601(e->get_string());
            }
        }
    }
    return out;
}

milliseconds token_usable_for(std::optional<milliseconds> lifetime)
{
    return detail::token_usable_for(lifetime ? *lifetime : milliseconds(hours(24)), minutes(5));
}

// ---------------------------------------------------------------------------------------
// Errors

std::string platform_message(std::string_view body)
{
    boost::system::error_code ec;
    json::value v = json::parse(body, ec);
    if (ec || !v.is_object()) return {};
    const auto& o = v.get_object();
    auto join = [](std::string code, std::string msg) {
        if (code.empty()) return msg;
        if (msg.empty()) return code;
        return code + ": " + msg;
    };
    // SecMaster's own shape [SEED 003]: {code, message}.
    if (o.contains("message") || (o.contains("code") && !o.at("code").is_object())) {
        auto m = join(text_of(o.if_contains("code")), text_of(o.if_contains("message")));
        if (!m.empty()) return m;
    }
    // The API gateway's shape [H-APIG]: {error_code, error_msg}.
    if (o.contains("error_code") || o.contains("error_msg")) {
        auto m = join(text_of(o.if_contains("error_code")), text_of(o.if_contains("error_msg")));
        if (!m.empty()) return m;
    }
    // IAM (Keystone): {error: {code, message, title}}.
    if (auto* e = o.if_contains("error")) {
        if (e->is_string()) return std::string(e->get_string());
        if (e->is_object()) {
            auto m = join(text_of(e->get_object().if_contains("code")),
                          text_of(e->get_object().if_contains("message")));
            if (!m.empty()) return m;
        }
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
        return errc::conflict;
    case 400:
    case 422:
        // Imports: the platform refused the file or the target's state; reads: our request.
        return write ? errc::conflict : errc::invalid_argument;
    case 429:
        return errc::rate_limited;
    default:
        return errc::http_status;
    }
}

error status_error(std::string_view prefix, int status, std::string_view body, bool write)
{
    return detail::status_error(prefix, status, body, platform_message(body),
                                errc_for_status(status, write));
}

// ---------------------------------------------------------------------------------------
// Lists

result<workflow_page> parse_workflow_page(std::string_view body, std::string_view what)
{
    auto parsed = parse_body(body, what);
    if (!parsed) return parsed.error();
    json::value v = std::move(*parsed);
    const json::array* items = list_items(v);
    if (!items) {
        return fail(errc::bad_response,
                    fmt::format("{}: expected an object with a \"data\" array", what));
    }
    workflow_page page;
    if (auto* t = find_member(v, "total")) {
        if (t->is_int64() && t->get_int64() >= 0) page.total = t->get_int64();
        else if (t->is_uint64()) page.total = static_cast<std::int64_t>(std::min<std::uint64_t>(t->get_uint64(), INT64_MAX));
    }
    std::size_t i = 0;
    for (const auto& item : *items) {
        ++i;
        if (!item.is_object()) {
            return fail(errc::bad_response, fmt::format("{}: item {} is not an object", what, i));
        }
        const auto& o = item.get_object();
        workflow_summary w;
        w.id = text_of(o.if_contains("id"));
        if (w.id.empty()) return fail(errc::bad_response, fmt::format("{}: item {} has no id", what, i));
        w.name = text_of(o.if_contains("name"));
        // [UNKNOWN] AopWorkflowInfo's version fields (the page is truncated there).
        for (auto key : {"active_version", "current_version", "version"}) {
            w.active_version = version_of(o.if_contains(key));
            if (!w.active_version.empty()) break;
        }
        for (auto key : {"latest_version", "last_version"}) {
            w.latest_version = version_of(o.if_contains(key));
            if (!w.latest_version.empty()) break;
        }
        w.versions_listed = false;
        for (auto key : {"active_version", "current_version", "version", "latest_version", "last_version"})
            w.versions_listed = w.versions_listed || o.contains(key);
        // [UNKNOWN] which of these AopWorkflowInfo has; whichever are there make the mark.
        w.change_mark = detail::change_mark(o, {"active_version", "current_version", "version", "version_id",
                                                "latest_version", "last_version", "update_time", "updated_at"});
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
                    fmt::format("{}: expected an object with a \"data\" array", what));
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
        s.id = text_of(o.if_contains("id"));
        if (s.id.empty()) s.id = text_of(o.if_contains("version_id"));
        // [H-SHOWV] lists id, version_id and name without saying which is the label.
        for (auto key : {"version", "name", "version_id"}) {
            s.version = text_of(o.if_contains(key));
            if (!s.version.empty()) break;
        }
        if (s.version.empty()) {
            return fail(errc::bad_response,
                        fmt::format("{}: item {} has no version, name or version_id", what, i));
        }
        s.status = text_of(o.if_contains("status"));
        s.active = iequals(s.status, "activated");
        if (s.status.empty()) {
            for (auto key : {"active", "enabled"}) {
                if (auto* a = o.if_contains(key); a && a->is_bool()) {
                    s.active = a->get_bool();
                    break;
                }
            }
        }
        out.push_back(std::move(s));
    }
    return out;
}

// ---------------------------------------------------------------------------------------
// Export / import

std::string export_file_name(const std::string* cd, std::string_view workflow_id)
{
    std::string fallback = std::string(workflow_id) + ".json";
    if (!cd) return fallback;
    std::string_view s = *cd;
    std::string plain, extended;
    // Walk the parameters: filename="..." (quoted, backslash escapes), filename=token,
    // filename*=charset'lang'percent-encoded.
    std::size_t i = s.find(';');
    while (i != std::string_view::npos && i < s.size()) {
        ++i;
        while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
        auto eq = s.find('=', i);
        if (eq == std::string_view::npos) break;
        std::string key;
        for (char c : s.substr(i, eq - i))
            if (c != ' ' && c != '\t') key += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        i = eq + 1;
        std::string value;
        if (i < s.size() && s[i] == '"') {
            ++i;
            while (i < s.size() && s[i] != '"') {
                if (s[i] == '\\' && i + 1 < s.size()) ++i;
                value += s[i++];
            }
            if (i < s.size()) ++i;  // closing quote
            i = s.find(';', i);
        } else {
            auto end = s.find(';', i);
            value = std::string(s.substr(i, end == std::string_view::npos ? std::string_view::npos : end - i));
            while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.pop_back();
            i = end;
        }
        if (key == "filename") plain = value;
        if (key == "filename*") {
            auto q = value.find("''");
            std::string_view enc = q == std::string::npos ? std::string_view(value) : std::string_view(value).substr(q + 2);
            std::string dec;
            for (std::size_t k = 0; k < enc.size(); ++k) {
                auto hex = [](char c) -> int {
                    if (c >= '0' && c <= '9') return c - '0';
                    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
                    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
                    return -1;
                };
                if (enc[k] == '%' && k + 2 < enc.size() && hex(enc[k + 1]) >= 0 && hex(enc[k + 2]) >= 0) {
                    dec += static_cast<char>(hex(enc[k + 1]) * 16 + hex(enc[k + 2]));
                    k += 2;
                } else {
                    dec += enc[k];
                }
            }
            extended = dec;
        }
    }
    std::string name = !extended.empty() ? extended : plain;
    // A file name from the server must never become a path: keep the last component only.
    if (auto slash = name.find_last_of("/\\"); slash != std::string::npos) name = name.substr(slash + 1);
    std::string clean;
    for (char c : name) {
        auto u = static_cast<unsigned char>(c);
        if (u >= 0x20 && u != 0x7f) clean += c;
    }
    if (clean.empty() || clean == "." || clean == ".." || clean.size() > 255) return fallback;
    return clean;
}

result<package> make_export_package(std::string_view body, std::string file_name,
                                    const workflow_summary& wf, std::string_view fallback_version,
                                    std::string_view what)
{
    if (body.empty()) {
        return fail(errc::bad_response, fmt::format("{}: the export answer is empty", what));
    }
    package p;
    p.format = "secmaster-file";
    p.workflow_id = wf.id;
    p.workflow_name = wf.name;
    boost::system::error_code ec;
    auto v = json::parse(body, ec);
    if (!ec && v.is_object()) {
        const auto& o = v.get_object();
        // [UNKNOWN] the export format; a JSON file may name its version in one of these.
        std::string label = text_of(o.if_contains("version"));
        if (label.empty()) {
            if (auto* ver = o.if_contains("version"); ver && ver->is_object())
                label = text_of(ver->get_object().if_contains("version"));
        }
        if (label.empty()) {
            if (auto* w = o.if_contains("workflow"); w && w->is_object())
                label = text_of(w->get_object().if_contains("version"));
        }
        p.version = label;
        auto name = file_workflow_name(body);
        if (p.workflow_name.empty()) p.workflow_name = name;
    }
    if (p.version.empty()) p.version = wf.active_version;
    if (p.version.empty()) p.version = wf.latest_version;
    if (p.version.empty()) p.version = std::string(fallback_version);
    p.files.emplace(std::move(file_name), std::string(body));
    return p;
}

result<package> parse_version_detail(std::string_view body, const workflow_summary& wf, const version_summary& v,
                                     std::string_view what)
{
    auto parsed = parse_body(body, what);
    if (!parsed) return parsed.error();
    const json::value* data = &*parsed;
    if (const auto* d = find_member(*parsed, "data"); d && d->is_object()) data = d;
    if (!data->is_object()) return fail(errc::bad_response, fmt::format("{}: expected an object with a \"data\" object", what));
    const auto& o = data->get_object();

    package p;
    p.format = "secmaster-version";
    p.workflow_id = wf.id;
    p.workflow_name = wf.name;
    p.version = v.version;
    json::object rest;
    bool content = false;
    for (const auto& kv : o) {
        std::string_view key = kv.key();
        const auto& value = kv.value();
        if (key == "taskflow" && value.is_string()) {
            if (value.get_string().empty()) continue;  // no topology
            auto bytes = base64_decode(value.get_string());
            if (!bytes) return fail(errc::bad_response, fmt::format("{}: taskflow: {}", what, bytes.error().message));
            boost::system::error_code ec;
            (void)json::parse(*bytes, ec);
            p.files[ec ? "taskflow" : "taskflow.json"] = std::move(*bytes);
            content = true;
        } else if (key == "taskconfig" && value.is_string()) {
            if (value.get_string().empty()) continue;  // no configuration
            boost::system::error_code ec;
            (void)json::parse(value.get_string(), ec);
            p.files[ec ? "taskconfig" : "taskconfig.json"] = std::string(value.get_string());
            content = true;
        } else if (key == "taskconfig" && (value.is_object() || value.is_array())) {
            p.files["taskconfig.json"] = json::serialize(value);
            content = true;
        } else {
            rest.emplace(key, value);
        }
    }
    if (!content) {
        return fail(errc::bad_response,
                    fmt::format("{}: the version detail has neither taskflow nor taskconfig, so its content "
                                "cannot be read",
                                what));
    }
    p.files["version.json"] = json::serialize(rest);
    return p;
}

std::string file_workflow_name(std::string_view file)
{
    boost::system::error_code ec;
    auto v = json::parse(file, ec);
    if (ec || !v.is_object()) return {};
    if (auto* w = find_member(v, "workflow"); w && w->is_object()) {
        auto n = text_of(w->get_object().if_contains("name"));
        if (!n.empty()) return n;
    }
    return text_of(v.get_object().if_contains("name"));
}

result<upload_file> import_file(const package& p, std::string_view name, std::string_view what)
{
    if (p.format != "secmaster-file") {
        return fail(errc::invalid_argument,
                    fmt::format("{}: a '{}' package cannot be imported into SecMaster", what, p.format));
    }
    if (p.files.size() != 1) {
        return fail(errc::invalid_argument,
                    fmt::format("{}: a SecMaster package holds exactly one file, this one {}", what,
                                p.files.size()));
    }
    upload_file out{p.files.begin()->first, p.files.begin()->second};
    if (name.empty()) return out;
    boost::system::error_code ec;
    auto v = json::parse(out.bytes, ec);
    if (ec || !v.is_object()) return out;  // not JSON: uploaded as it is
    auto* w = v.get_object().if_contains("workflow");
    if (!w || !w->is_object()) return out;
    auto* n = w->get_object().if_contains("name");
    if (n && n->is_string() && n->get_string() == name) return out;  // bytes untouched
    w->get_object()["name"] = json::string(name);
    out.bytes = json::serialize(v);
    return out;
}

result<void> check_import_answer(std::string_view body, int status, std::string_view what)
{
    boost::system::error_code ec;
    auto v = json::parse(body, ec);
    if (ec || !v.is_object()) {
        return fail(errc::bad_response,
                    fmt::format("{}: HTTP {} but the answer is not a JSON object: {}", what, status,
                                printable_prefix(body, 200)),
                    status);
    }
    if (is_failure_body(v)) {
        auto msg = platform_message(body);
        return fail(errc::conflict,
                    log::redact(fmt::format("{}: HTTP {} with success=false: {}", what, status,
                                            msg.empty() ? "no reason given" : msg)),
                    status);
    }
    return {};
}

}  // namespace wfsync::connector::secmaster
