// SPDX-License-Identifier: Apache-2.0
#include "kore_mapping.hpp"

#include "../mapping_detail.hpp"

#include <wfsync/core/json.hpp>
#include <wfsync/core/log.hpp>
#include <wfsync/net/http.hpp>

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <optional>

namespace wfsync::connector::kore {
namespace json = boost::json;
using detail::printable_prefix;

namespace {

std::string lower(std::string_view s)
{
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
    return out;
}

/// The first of `keys` that `v` has as a non-empty string (or number).
std::string first_of(const json::value& v, std::initializer_list<std::string_view> keys)
{
    for (auto k : keys) {
        auto s = member_string(v, k);
        if (!s.empty()) return s;
    }
    return {};
}

/// The platform's error text in a JSON body, if any. [UNKNOWN] for AI for Process
/// (api-reference.md section 2): `message`, `error` (text or {message}), `errors[0].msg` or
/// `errors[0].message` are tried.
std::string platform_message(std::string_view body)
{
    boost::system::error_code ec;
    auto v = json::parse(body, ec);
    if (ec || !v.is_object()) return {};
    if (auto m = member_string(v, "message"); !m.empty()) return m;
    if (const auto* e = find_member(v, "error")) {
        if (e->is_string()) return std::string(e->get_string());
        if (auto m = member_string(*e, "message"); !m.empty()) return m;
    }
    if (const auto* es = find_member(v, "errors"); es && es->is_array() && !es->get_array().empty()) {
        const auto& first = es->get_array().front();
        return first_of(first, {"msg", "message"});
    }
    return {};
}

/// The component of `url` after "scheme://", up to the path.
struct url_parts {
    std::string scheme, host, port;
};

std::optional<url_parts> split_url(std::string_view url)
{
    auto sep = url.find("://");
    if (sep == std::string_view::npos) return std::nullopt;
    url_parts p;
    p.scheme = lower(url.substr(0, sep));
    if (p.scheme != "http" && p.scheme != "https") return std::nullopt;
    auto rest = url.substr(sep + 3);
    auto end = rest.find_first_of("/?#");
    auto authority = rest.substr(0, end);
    // user:password@ is no part of the origin (and has no business in these URLs).
    if (auto at = authority.rfind('@'); at != std::string_view::npos) authority.remove_prefix(at + 1);
    if (authority.empty()) return std::nullopt;
    std::string_view host = authority, port;
    if (authority.front() == '[') {  // IPv6 literal
        auto close = authority.find(']');
        if (close == std::string_view::npos) return std::nullopt;
        host = authority.substr(0, close + 1);
        auto after = authority.substr(close + 1);
        if (!after.empty()) {
            if (after.front() != ':') return std::nullopt;
            port = after.substr(1);
        }
    } else if (auto colon = authority.rfind(':'); colon != std::string_view::npos) {
        host = authority.substr(0, colon);
        port = authority.substr(colon + 1);
    }
    if (host.empty()) return std::nullopt;
    if (!std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; })) return std::nullopt;
    while (port.size() > 1 && port.front() == '0') port.remove_prefix(1);
    p.host = lower(host);
    if (!p.host.empty() && p.host.back() == '.') p.host.pop_back();  // "example.com." is example.com
    p.port = port.empty() ? (p.scheme == "https" ? "443" : "80") : std::string(port);
    return p;
}

job_status status_of(const std::string& s, bool& known)
{
    auto u = s;
    std::transform(u.begin(), u.end(), u.begin(), [](unsigned char c) { return std::toupper(c); });
    known = true;
    if (u == "IN_PROGRESS" || u == "INPROGRESS" || u == "PENDING" || u == "QUEUED") return job_status::in_progress;
    if (u == "SUCCESS" || u == "SUCCEEDED" || u == "COMPLETED") return job_status::success;
    if (u == "FAILED" || u == "FAILURE" || u == "ERROR") return job_status::failed;
    known = false;
    return job_status::in_progress;
}

}  // namespace

zip_limits package_limits()
{
    zip_limits l;
    l.max_entries = 16;
    l.max_entry_size = 16u << 20;
    l.max_total = 32u << 20;
    return l;
}

std::string expand_path(std::string_view path_template, std::string_view id)
{
    std::string out;
    auto enc = net::url_encode(id);
    for (std::size_t i = 0; i < path_template.size();) {
        if (path_template.substr(i, 4) == "{id}") {
            out += enc;
            i += 4;
        } else {
            out += path_template[i++];
        }
    }
    return out;
}

std::string trim(std::string_view s)
{
    auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
    while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
    return std::string(s);
}

std::string origin_of(std::string_view url)
{
    auto p = split_url(url);
    if (!p) return {};
    return p->scheme + "://" + p->host + ":" + p->port;
}

bool same_origin(std::string_view base_url, std::string_view url)
{
    auto a = origin_of(base_url);
    return !a.empty() && a == origin_of(url);
}

result<std::string> resolve_download_url(std::string_view base_url, std::string_view url, std::string_view what)
{
    auto u = trim(url);
    if (u.empty()) return fail(errc::bad_response, fmt::format("{}: no download URL was given", what));
    if (u.front() == '/' && (u.size() < 2 || u[1] != '/')) {
        auto o = origin_of(base_url);
        if (o.empty()) return fail(errc::config, fmt::format("{}: base URL is not an http(s) URL", what));
        return o + u;
    }
    if (origin_of(u).empty()) {
        // The URL is the platform's, not a secret; still cut it short in the message.
        return fail(errc::bad_response,
                    fmt::format("{}: download URL '{}' is not an http(s) URL", what, printable_prefix(u, 120)));
    }
    if (u.find_first_of(" \t\r\n") != std::string::npos)
        return fail(errc::bad_response, fmt::format("{}: download URL contains white space", what));
    return u;
}

result<job_info> parse_job(std::string_view body, bool need_id, std::string_view what)
{
    auto v = parse_json(body, what);
    if (!v) {
        auto e = v.error();
        e.code = errc::bad_response;
        return e;
    }
    if (!v->is_object()) return fail(errc::bad_response, fmt::format("{}: the answer is not a JSON object", what));
    job_info j;
    j.dock_status_id = first_of(*v, {"dockStatusId", "dock-statusId", "dock_status_id", "_id"});
    j.workflow_id = first_of(*v, {"workflowId", "toolId"});
    j.job_type = member_string(*v, "jobType");
    j.action = member_string(*v, "action");
    j.export_job_id = member_string(*v, "exportJobId");
    std::string url;
    if (const auto* r = find_member(*v, "response")) url = first_of(*r, {"downloadUrl", "downloadURL"});
    if (url.empty()) url = first_of(*v, {"downloadURL", "downloadUrl"});
    j.download_url = trim(url);
    j.status_text = member_string(*v, "status");
    if (need_id && j.dock_status_id.empty()) {
        return fail(errc::bad_response,
                    fmt::format("{}: the answer has no dockStatusId (nor dock-statusId)", what));
    }
    if (j.status_text.empty()) return fail(errc::bad_response, fmt::format("{}: the answer has no status", what));
    bool known = false;
    j.status = status_of(j.status_text, known);
    if (!known) {
        return fail(errc::bad_response, fmt::format("{}: unknown job status '{}' (expected IN_PROGRESS, SUCCESS or FAILED)",
                                                    what, printable_prefix(j.status_text, 40)));
    }
    return j;
}

result<export_job> parse_export_start(std::string_view body, std::string_view what)
{
    auto j = parse_job(body, true, what);
    if (!j) return j.error();
    if (j->status == job_status::failed) {
        return fail(errc::conflict, fmt::format("{}: export job {} FAILED at once", what, j->dock_status_id));
    }
    export_job out;
    out.job_id = j->dock_status_id;
    out.download_url = j->download_url;
    out.done = false;
    return out;
}

result<std::string> parse_upload(std::string_view body, std::string_view what)
{
    auto v = parse_json(body, what);
    if (!v) {
        auto e = v.error();
        e.code = errc::bad_response;
        return e;
    }
    auto id = first_of(*v, {"fileId", "_id", "id"});
    if (id.empty()) return fail(errc::bad_response, fmt::format("{}: the answer has no fileId", what));
    return id;
}

std::string import_body(const file_ids& ids, std::string_view new_name)
{
    json::object o;
    o["workflowDataFileId"] = ids.workflow_data;
    o["flowDataFileId"] = ids.flow_data;
    o["envVariablesFileId"] = ids.env_variables;
    if (!new_name.empty()) o["workflowName"] = new_name;
    return json::serialize(o);
}

result<import_result> parse_import_start(std::string_view body, std::string_view fallback_workflow,
                                         std::string_view what)
{
    auto j = parse_job(body, true, what);
    if (!j) return j.error();
    if (j->status == job_status::failed) {
        return fail(errc::conflict, fmt::format("{}: import job {} FAILED", what, j->dock_status_id));
    }
    import_result out;
    out.target_workflow = j->workflow_id.empty() ? std::string(fallback_workflow) : j->workflow_id;
    out.job_id = j->dock_status_id;
    out.done = j->status == job_status::success;
    return out;
}

result<package> package_from_files(const std::map<std::string, std::string>& files, const workflow_summary& wf,
                                   std::string_view what)
{
    package p;
    p.format = "kore-zip";
    p.workflow_id = wf.id;
    p.workflow_name = wf.name;
    for (auto member : {flow_file, app_file, env_file}) {
        std::string key(member);
        const std::string* data = nullptr;
        if (auto it = files.find(key); it != files.end()) {
            data = &it->second;
        } else {
            // The UI's zip may hold the files in a folder named after the workflow.
            int found = 0;
            for (const auto& [name, bytes] : files) {
                auto slash = name.rfind('/');
                if (slash != std::string::npos && name.compare(slash + 1, std::string::npos, key) == 0) {
                    data = &bytes;
                    ++found;
                }
            }
            if (found > 1) {
                return fail(errc::bad_response,
                            fmt::format("{}: the package holds {} in {} folders; which one is meant is unclear",
                                        what, key, found));
            }
        }
        if (!data) {
            return fail(errc::bad_response, fmt::format("{}: the package has no {} ({} other entries)", what, key,
                                                        files.size()));
        }
        // Only the position is reported, never the text: env_variables.json may hold secrets.
        boost::system::error_code ec;
        auto v = json::parse(*data, ec);
        if (ec) {
            return fail(errc::bad_response,
                        fmt::format("{}: {} in the package is not valid JSON ({})", what, key, ec.message()));
        }
        if (member == app_file) {
            auto ver = member_string(v, "version");
            if (!ver.empty()) p.version = ver;
            auto name = member_string(v, "name");
            if (p.workflow_name.empty() && !name.empty()) p.workflow_name = name;
        }
        p.files.emplace(key, *data);
    }
    if (p.version.empty()) p.version = std::string(deployed_version);
    return p;
}

error status_error(std::string_view prefix, int status, std::string_view body)
{
    errc code = errc::http_status;
    if (status == 401 || status == 403) code = errc::auth;
    else if (status == 404) code = errc::not_found;
    else if (status == 409) code = errc::conflict;
    else if (status == 429) code = errc::rate_limited;
    return detail::status_error(prefix, status, body, platform_message(body), code);
}

}  // namespace wfsync::connector::kore
