// SPDX-License-Identifier: Apache-2.0
// The emulator's Huawei Cloud SecMaster tenants: an IAM token endpoint and the SOC workflow
// API (list, versions, export, import). One documented variant of what api-reference.md
// section 3 leaves open, chosen per tenant by seed switches (secmaster_from_seed); see
// tests/emulator/README.md, section SecMaster. Also the version detail GET/PUT that [H-SHOWV]
// and [H-UPDV] suggest, in the shape api-reference.md guesses.
#include "restamp.hpp"
#include "secmaster_model.hpp"

#include <wfsync/core/hash.hpp>
#include <wfsync/core/json.hpp>
#include <wfsync/net/multipart.hpp>

#include <boost/json/serialize.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <ctime>

namespace wfsync::emulator::detail {
namespace json = boost::json;

namespace {

// SecMaster's code table is [UNKNOWN]; these are the emulator's own.
constexpr std::string_view ok_code = "00000000";
constexpr std::string_view sm_bad_request = "SecMaster.10000400";
constexpr std::string_view sm_not_found = "SecMaster.10000404";
constexpr std::string_view sm_method = "SecMaster.10000405";
constexpr std::string_view sm_bad_file = "SecMaster.10000422";
constexpr std::string_view sm_needs_approval = "SecMaster.20010001";

constexpr std::string_view statuses[] = {"pending_submit", "pending_approval", "publishing", "publish_failed",
                                         "not_activated", "activated", "rejected"};

std::string uuid_like()
{
    auto h = random_hex(16);
    return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) + "-" +
           h.substr(20, 12);
}

std::string request_id() { return random_hex(16); }

/// Standard base64 (RFC 4648, with padding): the encoding of a version's `taskflow`.
std::string base64_encode(std::string_view in)
{
    static constexpr char digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    out.reserve((in.size() + 2) / 3 * 4);
    auto byte = [&](std::size_t i) -> std::uint32_t {
        return i < in.size() ? static_cast<unsigned char>(in[i]) : 0u;
    };
    for (std::size_t i = 0; i < in.size(); i += 3) {
        std::uint32_t n = byte(i) << 16 | byte(i + 1) << 8 | byte(i + 2);
        out += digits[(n >> 18) & 63];
        out += digits[(n >> 12) & 63];
        out += i + 1 < in.size() ? digits[(n >> 6) & 63] : '=';
        out += i + 2 < in.size() ? digits[n & 63] : '=';
    }
    return out;
}

/// "2025-01-02T03:04:05.123000Z" for a system time.
std::string iso_utc(std::chrono::system_clock::time_point tp)
{
    auto secs = std::chrono::time_point_cast<std::chrono::seconds>(tp);
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(tp - secs).count();
    std::time_t t = std::chrono::system_clock::to_time_t(secs);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[40];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    return fmt::format("{}.{:03}000Z", buf, ms);
}

bool iequals_prefix(std::string_view s, std::string_view prefix)
{
    return s.size() >= prefix.size() &&
           std::equal(prefix.begin(), prefix.end(), s.begin(), [](char a, char b) {
               return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
           });
}

result<void> check_keys(const json::object& o, std::initializer_list<std::string_view> allowed,
                        const std::string& where)
{
    for (const auto& kv : o)
        if (std::find(allowed.begin(), allowed.end(), kv.key()) == allowed.end())
            return fail(errc::config, fmt::format("{}: unknown key '{}'", where, std::string_view(kv.key())));
    return {};
}

result<std::string> want_string(const json::object& o, std::string_view key, const std::string& where,
                                bool required)
{
    auto* v = o.if_contains(key);
    if (!v || v->is_null()) {
        if (required) return fail(errc::config, fmt::format("{}.{}: is required", where, key));
        return std::string();
    }
    if (!v->is_string()) return fail(errc::config, fmt::format("{}.{}: must be a string", where, key));
    return std::string(v->get_string());
}

/// "v3" -> "v4", "1.0.9" -> "1.0.10", "draft" -> "draft2".
std::string next_label(std::string_view label)
{
    std::size_t end = label.size();
    std::size_t start = end;
    while (start > 0 && std::isdigit(static_cast<unsigned char>(label[start - 1]))) --start;
    if (start == end) return std::string(label) + "2";
    std::string digits(label.substr(start));
    // Increment the decimal text (no overflow on long labels).
    int i = static_cast<int>(digits.size()) - 1;
    while (i >= 0 && digits[i] == '9') digits[i--] = '0';
    if (i < 0) digits.insert(digits.begin(), '1');
    else ++digits[i];
    return std::string(label.substr(0, start)) + digits;
}

sm_workflow* find_workflow(secmaster_tenant& t, std::string_view id)
{
    for (auto& w : t.workflows)
        if (w.id == id) return &w;
    return nullptr;
}

void activate(sm_workflow& wf, std::size_t index)
{
    for (std::size_t i = 0; i < wf.versions.size(); ++i) {
        auto& s = wf.versions[i].status;
        if (i == index) s = "activated";
        else if (s == "activated") s = "not_activated";
    }
}

/// The label of a workflow's first version in this tenant.
std::string_view first_label(const secmaster_tenant& t) { return t.labels == "dotted" ? "0.0.1" : "v1"; }

/// Appends a version with the next label: activated (the one activated before becomes
/// not_activated), or else not_activated (the activated one stays).
const sm_version& append_version(secmaster_tenant& t, sm_workflow& wf, json::object document, bool activated)
{
    sm_version v;
    v.id = uuid_like();
    v.label = wf.versions.empty() ? std::string(first_label(t)) : next_label(wf.versions.back().label);
    v.status = activated ? "activated" : "not_activated";
    v.document = std::move(document);
    v.created_at = v.updated_at = next_stamp(t.last_stamp_ms);
    wf.versions.push_back(std::move(v));
    wf.updated_at = wf.versions.back().created_at;
    if (activated) activate(wf, wf.versions.size() - 1);
    return wf.versions.back();
}

reply ok_reply(json::object body)
{
    json::object out{{"code", ok_code}, {"message", ""}, {"success", true}, {"request_id", request_id()}};
    for (auto& kv : body) out[kv.key()] = kv.value();
    return json_reply(200, out);
}

/// {"error": {"code", "message", "title"}}: how IAM (Keystone) refuses.
reply iam_error(int status, std::string_view message)
{
    json::object body{{"error", {{"code", status}, {"message", message},
                                 {"title", status == 401 ? "Unauthorized" : "Bad Request"}}}};
    return json_reply(status, body);
}

std::optional<std::int64_t> query_int(const std::map<std::string, std::string>& q, const std::string& key)
{
    auto it = q.find(key);
    if (it == q.end()) return std::nullopt;
    const auto& s = it->second;
    if (s.empty() || s.size() > 9 || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return std::int64_t{-1};
    return std::stoll(s);
}

const json::value* path(const json::value& v, std::initializer_list<std::string_view> keys)
{
    const json::value* cur = &v;
    for (auto k : keys) {
        cur = find_member(*cur, k);
        if (!cur) return nullptr;
    }
    return cur;
}

// ---- routes ------------------------------------------------------------------------------

reply iam_token(secmaster_tenant& t, const zuora_request& r)
{
    if (r.method != "POST") return iam_error(400, "use POST");
    if (t.iam_user.empty()) return iam_error(400, "this tenant has no IAM user (static token only)");
    auto v = parse_json(r.body, "request body");
    if (!v || !v->is_object()) return iam_error(400, "The request body is not a JSON object.");
    auto* methods = path(*v, {"auth", "identity", "methods"});
    bool password_method = false;
    if (methods && methods->is_array())
        for (const auto& m : methods->get_array())
            if (m.is_string() && m.get_string() == "password") password_method = true;
    if (!password_method) return iam_error(400, "auth.identity.methods must contain \"password\".");
    auto str = [&](std::initializer_list<std::string_view> keys) -> std::string {
        auto* p = path(*v, keys);
        return p && p->is_string() ? std::string(p->get_string()) : std::string();
    };
    auto user = str({"auth", "identity", "password", "user", "name"});
    auto pass = str({"auth", "identity", "password", "user", "password"});
    auto domain = str({"auth", "identity", "password", "user", "domain", "name"});
    auto project = str({"auth", "scope", "project", "name"});
    auto project_id = str({"auth", "scope", "project", "id"});
    if (project.empty() && project_id.empty())
        return iam_error(400, "auth.scope.project (name or id) is required for a project-scoped token.");
    if (user != t.iam_user || pass != t.iam_password || domain != t.iam_domain)
        return iam_error(401, "The username or password is wrong.");
    if (project.empty() ? project_id != t.project_id : project != t.iam_project)
        return iam_error(401, "The project does not exist or the user has no access to it.");

    std::string token = "MIIsm" + random_hex(24);
    auto ttl = std::chrono::seconds(t.token_ttl_seconds);
    t.tokens[token] = std::chrono::steady_clock::now() + ttl;
    auto now = std::chrono::system_clock::now();
    json::object body{
        {"token",
         {{"expires_at", iso_utc(now + ttl)},
          {"issued_at", iso_utc(now)},
          {"methods", json::array{"password"}},
          {"project", {{"id", t.project_id}, {"name", t.iam_project}}},
          {"user", {{"name", t.iam_user}, {"domain", {{"name", t.iam_domain}}}}}}}};
    reply out = json_reply(201, body);
    out.headers.set("X-Subject-Token", token);
    return out;
}

std::optional<reply> check_token(secmaster_tenant& t, const zuora_request& r)
{
    const std::string* tok = r.headers ? r.headers->find("X-Auth-Token") : nullptr;
    if (tok && !tok->empty()) {
        auto it = t.tokens.find(*tok);
        if (it != t.tokens.end() && it->second > std::chrono::steady_clock::now()) return std::nullopt;
        if (!t.bearer_token.empty() && *tok == t.bearer_token && !t.static_token_expired) return std::nullopt;
    }
    // The API gateway refuses before SecMaster sees the call [H-APIG].
    json::object body{{"error_code", "APIG.1002"}, {"error_msg", "Incorrect token or token resolution failed"},
                      {"request_id", request_id()}};
    return json_reply(401, body);
}

/// One item of the list, per the tenant's list_detail: "full" (everything below), "labels"
/// (no create_time/update_time) or "names" (no version, version_id, create_time, update_time).
json::object list_item(const secmaster_tenant& t, const sm_workflow& wf)
{
    const sm_version* a = wf.active();
    json::object out{{"id", wf.id},
                     {"name", wf.name},
                     {"description", wf.description},
                     {"project_id", t.project_id},
                     {"workspace_id", t.workspace_id},
                     {"enabled", a != nullptr},
                     {"aop_type", "NORMAL"}};
    if (t.list_detail == "names") return out;
    out["version"] = a ? json::value(a->label) : json::value(nullptr);
    out["version_id"] = a ? json::value(a->id) : json::value(nullptr);
    if (t.list_detail == "full") {
        out["create_time"] = wf.created_at;
        out["update_time"] = wf.updated_at;
    }
    return out;
}

reply list_workflows(secmaster_tenant& t, const zuora_request& r)
{
    auto q = parse_form(r.query);
    auto offset = query_int(q, "offset").value_or(0);
    auto limit = query_int(q, "limit").value_or(10);
    if (offset < 0 || offset > 10000)
        return secmaster_error(400, sm_bad_request, "offset must be an integer from 0 to 10000");
    if (limit < 1 || limit > 100)
        return secmaster_error(400, sm_bad_request, "limit must be an integer from 1 to 100");
    limit = std::min<std::int64_t>(limit, t.limit_max);
    std::vector<const sm_workflow*> match;
    auto name = q.find("name");
    for (const auto& w : t.workflows)
        if (name == q.end() || w.name == name->second) match.push_back(&w);
    json::array data;
    for (std::int64_t i = offset; i < offset + limit && i < static_cast<std::int64_t>(match.size()); ++i)
        data.push_back(list_item(t, *match[static_cast<std::size_t>(i)]));
    return ok_reply(json::object{{"total", match.size()}, {"offset", offset}, {"limit", limit},
                                 {"data", std::move(data)}});
}

reply list_versions(const sm_workflow& wf, const zuora_request& r)
{
    auto q = parse_form(r.query);
    auto status = q.find("status");
    json::array data;
    for (const auto& v : wf.versions) {
        if (status != q.end() && v.status != status->second) continue;
        data.push_back(json::object{{"id", v.id},
                                    {"workflow_id", wf.id},
                                    {"name", wf.name},  // the workflow's name, not the label
                                    {"version", v.label},
                                    {"status", v.status},
                                    {"enabled", v.status == "activated"},
                                    {"create_time", v.created_at}});
    }
    auto n = data.size();
    return ok_reply(json::object{{"total", n}, {"offset", 0}, {"limit", n}, {"size", n}, {"page", 1},
                                 {"data", std::move(data)}});
}

std::string quote_header(std::string_view s)
{
    std::string out;
    for (char c : s) {
        if (c == '"' || c == '\\') out += '\\';
        if (c == '\r' || c == '\n') continue;
        out += c;
    }
    return out;
}

reply export_workflow(secmaster_tenant& t, const zuora_request& r)
{
    const std::string* ct = r.headers ? r.headers->find("Content-Type") : nullptr;
    if (!ct || !iequals_prefix(*ct, "application/json"))
        return secmaster_error(400, sm_bad_request, "content-type must be application/json;charset=UTF-8");
    auto v = parse_json(r.body, "request body");
    if (!v) return secmaster_error(400, sm_bad_request, v.error().message);
    auto* ids = find_member(*v, "id");
    if (!ids || !ids->is_array() || ids->get_array().empty())
        return secmaster_error(400, sm_bad_request, "id must be a non-empty array of workflow ids");
    if (ids->get_array().size() != 1 || !ids->get_array()[0].is_string())
        return secmaster_error(400, sm_bad_request, "this emulator exports exactly one workflow id per request");
    std::string id(ids->get_array()[0].get_string());
    auto* wf = find_workflow(t, id);
    if (!wf) return secmaster_error(400, sm_not_found, fmt::format("workflow {} does not exist", id));
    // export_version: "active" = the activated version, else the last; "latest" = the last.
    const sm_version* ver = t.export_version == "active" && wf->active() ? wf->active() : &wf->versions.back();
    json::object file{{"workflow", {{"name", wf->name}, {"description", wf->description}, {"aop_type", "NORMAL"}}},
                      {"version", ver->document}};
    reply out;
    out.status = 200;
    out.body = json::serialize(file);
    out.content_type = "application/octet-stream";
    // export_file_name: "workflow" = "<name>.json"; "version" = "<name>_<label>.json" with
    // spaces turned into '_' ("SOC_Alpha_06_v3.json").
    std::string file_name = wf->name;
    if (t.export_file_name == "version") {
        file_name += "_" + ver->label;
        std::replace(file_name.begin(), file_name.end(), ' ', '_');
    }
    out.headers.set("Content-Disposition", fmt::format("attachment; filename=\"{}.json\"", quote_header(file_name)));
    return out;
}

reply import_workflow(secmaster_tenant& t, const zuora_request& r)
{
    const std::string* ct = r.headers ? r.headers->find("Content-Type") : nullptr;
    if (!ct) return secmaster_error(400, sm_bad_request, "content-type must be multipart/form-data");
    auto parts = net::parse_multipart(*ct, r.body, 8);
    if (!parts) return secmaster_error(400, sm_bad_request, "invalid upload: " + parts.error().message);
    const net::multipart_part* file = nullptr;
    for (const auto& p : *parts) {
        if (p.name != "uploadFile")
            return secmaster_error(400, sm_bad_request, fmt::format("unexpected form field '{}'", p.name));
        if (file) return secmaster_error(400, sm_bad_request, "uploadFile given more than once");
        file = &p;
    }
    if (!file) return secmaster_error(400, sm_bad_request, "uploadFile is required");
    auto doc = parse_json(file->data, "uploadFile");
    if (!doc || !doc->is_object())
        return secmaster_error(400, sm_bad_file, "uploadFile is not a workflow export file (not a JSON object)");
    auto* w = find_member(*doc, "workflow");
    auto* name = w ? find_member(*w, "name") : nullptr;
    if (!name || !name->is_string() || name->get_string().empty())
        return secmaster_error(400, sm_bad_file, "uploadFile has no workflow.name");
    auto* ver = find_member(*doc, "version");
    if (!ver || !ver->is_object()) {
        // The emulator's example of the documented 200 {success:false} answer [H-IMP].
        return json_reply(200, json::object{{"code", sm_bad_file},
                                            {"message", "uploadFile has no version object"},
                                            {"success", false},
                                            {"request_id", request_id()}});
    }
    std::string wf_name(name->get_string());
    std::string description;
    if (auto* d = find_member(*w, "description"); d && d->is_string()) description = std::string(d->get_string());
    sm_workflow* target = nullptr;
    for (auto& x : t.workflows)
        if (x.name == wf_name) target = &x;
    const bool created = target == nullptr;
    if (created) {
        sm_workflow nw;
        nw.id = uuid_like();
        nw.name = wf_name;
        t.workflows.push_back(std::move(nw));
        target = &t.workflows.back();
    }
    target->description = description;
    json::value document = ver->get_object();
    // import_ids "restamp": the tenant gives the version its own ids (references follow).
    if (t.import_ids == "restamp") restamp_ids({&document}, uuid_like);
    append_version(t, *target, std::move(document.get_object()), t.import_activation == "activate");
    if (created) target->created_at = target->updated_at;  // the stamp of its first version
    return json_reply(200, json::object{{"code", ok_code}, {"message", "success"}, {"success", true},
                                        {"request_id", request_id()}});
}

/// The version `id` names: its workflow and index, or {nullptr, 0}.
std::pair<sm_workflow*, std::size_t> find_version(secmaster_tenant& t, std::string_view id)
{
    for (auto& w : t.workflows)
        for (std::size_t i = 0; i < w.versions.size(); ++i)
            if (w.versions[i].id == id) return {&w, i};
    return {nullptr, 0};
}

/// GET .../soc/workflows/versions/{version_id} [H-SHOWV], in the shape api-reference.md
/// guesses: the version with its document as `taskflow` (BASE64 of the JSON text).
reply show_version(const secmaster_tenant& t, const sm_workflow& wf, const sm_version& v)
{
    if (t.version_detail == "metadata") {
        // The other plausible answer: the detail describes the version, not its content.
        return ok_reply(json::object{{"data", {{"id", v.id}, {"workflow_id", wf.id}, {"version", v.label},
                                               {"status", v.status}, {"name", wf.name},
                                               {"create_time", v.created_at}, {"update_time", v.updated_at}}}});
    }
    json::object data{{"id", v.id},
                      {"workflow_id", wf.id},
                      {"version", v.label},
                      {"status", v.status},
                      {"name", wf.name},
                      {"description", wf.description},
                      {"taskflow", base64_encode(json::serialize(v.document))},
                      {"taskconfig", ""},
                      {"taskflow_type", "JSON"},
                      {"create_time", v.created_at},
                      {"update_time", v.updated_at}};
    return ok_reply(json::object{{"data", std::move(data)}});
}

/// PUT .../soc/workflows/versions/{version_id} [H-UPDV]: only `status` is acted on (required
/// here): activated (the one activated before becomes not_activated; refused when the
/// tenant's activation is "needs_approval"), not_activated, pending_submit, pending_approval.
reply update_version(secmaster_tenant& t, sm_workflow& wf, std::size_t index, const zuora_request& r)
{
    const std::string* ct = r.headers ? r.headers->find("Content-Type") : nullptr;
    if (!ct || !iequals_prefix(*ct, "application/json"))
        return secmaster_error(400, sm_bad_request, "content-type must be application/json;charset=UTF-8");
    auto body = parse_json(r.body, "request body");
    if (!body || !body->is_object()) return secmaster_error(400, sm_bad_request, "the body must be a JSON object");
    const auto* st = find_member(*body, "status");
    constexpr std::string_view settable[] = {"activated", "not_activated", "pending_submit", "pending_approval"};
    if (!st || !st->is_string() ||
        std::find(std::begin(settable), std::end(settable), std::string_view(st->get_string())) == std::end(settable))
        return secmaster_error(400, sm_bad_request,
                               "status must be one of activated, not_activated, pending_submit, pending_approval");
    std::string status(st->get_string());
    if (status == "activated") {
        if (t.activation == "needs_approval")
            return secmaster_error(400, sm_needs_approval, "the version must be approved before it is activated");
        activate(wf, index);
    } else {
        wf.versions[index].status = status;
    }
    wf.versions[index].updated_at = wf.updated_at = next_stamp(t.last_stamp_ms);
    return ok_reply(json::object{});
}

reply method_not_allowed(const zuora_request& r)
{
    return secmaster_error(405, sm_method, fmt::format("method {} not allowed on {}", r.method, r.sub_path));
}

}  // namespace

const sm_version* sm_workflow::active() const
{
    for (const auto& v : versions)
        if (v.status == "activated") return &v;
    return nullptr;
}

bool is_secmaster_seed(const json::value& seed)
{
    auto* p = find_member(seed, "platform");
    return p && p->is_string() && p->get_string() == "secmaster";
}

reply secmaster_error(int status, std::string_view code, std::string_view message)
{
    return json_reply(status, json::object{{"code", code}, {"message", message}});
}

// A SecMaster tenant's seed object:
//   "platform": "secmaster", "project_id", "workspace_id", "iam": {user, domain, password,
//   project} and/or "bearer_token", "token_ttl_seconds", "limit_max", "description",
//   "workflows": [{"id", "name", "description", "versions": [{"version", "status", "document"}]}]
// and switches for what the docs leave open (first value = default):
//   "import_ids": "keep" | "restamp". restamp: an imported version's document gets this
//       tenant's own ids (members named id, _id, *Id, *_id with string values get fresh
//       uuid-like values; every other string equal to an old id follows).
//   "export_file_name": "workflow" | "version". The export's Content-Disposition filename:
//       "<name>.json", or "<name>_<label>.json" with spaces turned into '_'.
//   "export_version": "active" | "latest". Which version an export returns: the activated
//       one (else the last), or the last whatever its status.
//   "import_activation": "activate" | "leave". An imported version is activated (the one
//       activated before is deactivated), or stored not_activated (the activated one stays;
//       a workflow created by import then has none).
//   "activation": "direct" | "needs_approval". Whether PUT .../versions/{id} status=activated
//       activates, or is refused 400 SecMaster.20010001 (approval needed first).
//   "labels": "v" | "dotted". A new workflow's first version is labelled "v1" or "0.0.1"
//       (the next ones count up the last number either way).
//   "version_detail": "taskflow" | "metadata". Whether GET .../versions/{id} carries the
//       version's content (taskflow, BASE64) or only what describes it.
//   "list_detail": "full" | "labels" | "names". What the list's items show: everything,
//       no create_time/update_time, or neither those nor version/version_id.
result<secmaster_tenant> secmaster_from_seed(const std::string& name, const json::value& seed,
                                             std::int64_t last_stamp_ms)
{
    const std::string where = "tenants." + name;
    if (!seed.is_object()) return fail(errc::config, where + ": must be an object");
    const auto& o = seed.get_object();
    if (auto r = check_keys(o, {"platform", "project_id", "workspace_id", "iam", "bearer_token", "token_ttl_seconds",
                                "limit_max", "workflows", "description", "import_ids", "export_file_name",
                                "export_version", "import_activation", "activation", "version_detail", "labels",
                                "list_detail"},
                            where);
        !r)
        return r.error();
    secmaster_tenant t;
    t.name = name;
    struct two_way {
        std::string_view key;
        std::string* dest;
        std::string_view first, second;
    };
    for (const auto& sw : {two_way{"import_ids", &t.import_ids, "keep", "restamp"},
                           two_way{"export_file_name", &t.export_file_name, "workflow", "version"},
                           two_way{"export_version", &t.export_version, "active", "latest"},
                           two_way{"import_activation", &t.import_activation, "activate", "leave"},
                           two_way{"activation", &t.activation, "direct", "needs_approval"},
                           two_way{"version_detail", &t.version_detail, "taskflow", "metadata"},
                           two_way{"labels", &t.labels, "v", "dotted"}}) {
        const auto* v = o.if_contains(sw.key);
        if (!v) continue;
        if (!v->is_string() || (v->get_string() != sw.first && v->get_string() != sw.second))
            return fail(errc::config,
                        fmt::format("{}.{}: must be \"{}\" or \"{}\"", where, sw.key, sw.first, sw.second));
        *sw.dest = std::string(v->get_string());
    }
    if (const auto* v = o.if_contains("list_detail")) {
        if (!v->is_string() ||
            (v->get_string() != "full" && v->get_string() != "labels" && v->get_string() != "names"))
            return fail(errc::config, fmt::format("{}.list_detail: must be \"full\", \"labels\" or \"names\"", where));
        t.list_detail = std::string(v->get_string());
    }
    // Every seeded workflow carries the load time; later changes get later stamps.
    t.last_stamp_ms = last_stamp_ms;
    const std::string loaded_at = next_stamp(t.last_stamp_ms);
    auto pid = want_string(o, "project_id", where, true);
    if (!pid) return pid.error();
    auto wid = want_string(o, "workspace_id", where, true);
    if (!wid) return wid.error();
    auto bt = want_string(o, "bearer_token", where, false);
    if (!bt) return bt.error();
    t.project_id = *pid;
    t.workspace_id = *wid;
    t.bearer_token = *bt;
    if (auto* iam = o.if_contains("iam")) {
        const std::string iw = where + ".iam";
        if (!iam->is_object()) return fail(errc::config, iw + ": must be an object");
        const auto& io = iam->get_object();
        if (auto r = check_keys(io, {"user", "domain", "password", "project"}, iw); !r) return r.error();
        std::string* dest[] = {&t.iam_user, &t.iam_domain, &t.iam_password, &t.iam_project};
        std::string_view keys[] = {"user", "domain", "password", "project"};
        for (int i = 0; i < 4; ++i) {
            auto s = want_string(io, keys[i], iw, true);
            if (!s) return s.error();
            *dest[i] = *s;
        }
    }
    if (t.iam_user.empty() && t.bearer_token.empty())
        return fail(errc::config, where + ": needs iam {user, domain, password, project} or a bearer_token");
    for (auto [key, dest] : {std::pair{"token_ttl_seconds", &t.token_ttl_seconds}, std::pair{"limit_max", &t.limit_max}}) {
        auto* v = o.if_contains(key);
        if (!v) continue;
        if (!v->is_int64() || v->get_int64() <= 0 || v->get_int64() > 1'000'000'000)
            return fail(errc::config, fmt::format("{}.{}: must be a positive integer", where, key));
        *dest = static_cast<int>(v->get_int64());
    }
    if (auto* ws = o.if_contains("workflows")) {
        if (!ws->is_array()) return fail(errc::config, where + ".workflows: must be an array");
        std::size_t i = 0;
        for (const auto& wv : ws->get_array()) {
            const std::string ww = fmt::format("{}.workflows[{}]", where, i++);
            if (!wv.is_object()) return fail(errc::config, ww + ": must be an object");
            const auto& wo = wv.get_object();
            if (auto r = check_keys(wo, {"id", "name", "description", "versions"}, ww); !r) return r.error();
            sm_workflow wf;
            auto id = want_string(wo, "id", ww, false);
            if (!id) return id.error();
            wf.id = id->empty() ? uuid_like() : *id;
            if (wf.id.find_first_of("/?#% ") != std::string::npos)
                return fail(errc::config, ww + ".id: must be a plain id");
            if (std::any_of(t.workflows.begin(), t.workflows.end(), [&](const sm_workflow& x) { return x.id == wf.id; }))
                return fail(errc::config, fmt::format("{}.id: '{}' is used twice", ww, wf.id));
            auto n = want_string(wo, "name", ww, true);
            if (!n) return n.error();
            auto d = want_string(wo, "description", ww, false);
            if (!d) return d.error();
            wf.name = *n;
            wf.description = *d;
            wf.created_at = wf.updated_at = loaded_at;
            auto* vs = wo.if_contains("versions");
            if (!vs || !vs->is_array() || vs->get_array().empty())
                return fail(errc::config, ww + ".versions: must be a non-empty array");
            std::size_t j = 0;
            int activated = 0;
            for (const auto& vv : vs->get_array()) {
                const std::string vw = fmt::format("{}.versions[{}]", ww, j++);
                if (!vv.is_object()) return fail(errc::config, vw + ": must be an object");
                const auto& vo = vv.get_object();
                if (auto r = check_keys(vo, {"version", "status", "document"}, vw); !r) return r.error();
                sm_version v;
                v.id = uuid_like();
                auto label = want_string(vo, "version", vw, false);
                if (!label) return label.error();
                v.label = !label->empty()       ? *label
                          : wf.versions.empty() ? first_label(t)
                                                : next_label(wf.versions.back().label);
                auto st = want_string(vo, "status", vw, false);
                if (!st) return st.error();
                v.status = st->empty() ? "not_activated" : *st;
                if (std::find(std::begin(statuses), std::end(statuses), v.status) == std::end(statuses))
                    return fail(errc::config, fmt::format("{}.status: '{}' is not a SecMaster version status", vw, v.status));
                if (v.status == "activated") ++activated;
                if (auto* doc = vo.if_contains("document")) {
                    if (!doc->is_object()) return fail(errc::config, vw + ".document: must be an object");
                    v.document = doc->get_object();
                }
                v.created_at = v.updated_at = wf.created_at;
                wf.versions.push_back(std::move(v));
            }
            if (activated > 1) return fail(errc::config, ww + ".versions: at most one may be activated");
            t.workflows.push_back(std::move(wf));
        }
    }
    return t;
}

reply handle_secmaster(secmaster_tenant& t, const zuora_request& r)
{
    if (r.sub_path == "/iam/v3/auth/tokens") return iam_token(t, r);
    if (auto denied = check_token(t, r)) return *denied;

    std::vector<std::string> seg;
    std::string_view p = r.sub_path;
    while (!p.empty()) {
        auto slash = p.find('/');
        if (slash != 0) seg.emplace_back(p.substr(0, slash));
        if (slash == std::string_view::npos) break;
        p.remove_prefix(slash + 1);
    }
    // v1 {project} workspaces {workspace} soc workflows ...
    if (seg.size() < 6 || seg[0] != "v1" || seg[2] != "workspaces" || seg[4] != "soc" || seg[5] != "workflows")
        return secmaster_error(404, sm_not_found, fmt::format("no such endpoint: {}", r.sub_path));
    if (seg[1] != t.project_id)
        return secmaster_error(404, sm_not_found, fmt::format("project {} not found", seg[1]));
    if (seg[3] != t.workspace_id)
        return secmaster_error(404, sm_not_found, fmt::format("workspace {} not found", seg[3]));
    if (seg.size() == 6) {
        if (r.method != "GET") return method_not_allowed(r);
        return list_workflows(t, r);
    }
    if (seg.size() == 7 && seg[6] == "export") {
        if (r.method != "POST") return method_not_allowed(r);
        return export_workflow(t, r);
    }
    if (seg.size() == 7 && seg[6] == "import") {
        if (r.method != "POST") return method_not_allowed(r);
        return import_workflow(t, r);
    }
    if (seg.size() == 8 && seg[6] == "versions") {
        auto [wf, index] = find_version(t, seg[7]);
        if (!wf) return secmaster_error(404, sm_not_found, fmt::format("version {} does not exist", seg[7]));
        if (r.method == "GET") return show_version(t, *wf, wf->versions[index]);
        if (r.method == "PUT") return update_version(t, *wf, index, r);
        return method_not_allowed(r);
    }
    if (seg.size() == 8 && seg[7] == "versions") {
        if (r.method != "GET") return method_not_allowed(r);
        auto* wf = find_workflow(t, seg[6]);
        if (!wf) return secmaster_error(404, sm_not_found, fmt::format("workflow {} does not exist", seg[6]));
        return list_versions(*wf, r);
    }
    return secmaster_error(404, sm_not_found, fmt::format("no such endpoint: {}", r.sub_path));
}

namespace {

/// What add_version and edit_version take: the version's document, or an export file
/// {workflow, version} whose "version" object is used.
json::object version_document(const json::object& doc)
{
    auto* w = doc.if_contains("workflow");
    auto* v = doc.if_contains("version");
    if (w && w->is_object() && v && v->is_object()) return v->get_object();
    return doc;
}

}  // namespace

result<std::string> secmaster_add_version(secmaster_tenant& t, const std::string& workflow_id,
                                          const json::object& doc)
{
    auto* wf = find_workflow(t, workflow_id);
    if (!wf) return fail(errc::not_found, fmt::format("workflow {} not found in tenant '{}'", workflow_id, t.name));
    return append_version(t, *wf, version_document(doc), true).label;
}

result<std::string> secmaster_edit_version(secmaster_tenant& t, const std::string& workflow_id,
                                           const std::string& label, const json::object& doc)
{
    auto* wf = find_workflow(t, workflow_id);
    if (!wf) return fail(errc::not_found, fmt::format("workflow {} not found in tenant '{}'", workflow_id, t.name));
    auto v = std::find_if(wf->versions.begin(), wf->versions.end(), [&](const sm_version& x) { return x.label == label; });
    if (v == wf->versions.end())
        return fail(errc::not_found, fmt::format("workflow {} has no version '{}'", workflow_id, label));
    v->document = version_document(doc);
    v->updated_at = wf->updated_at = next_stamp(t.last_stamp_ms);
    return v->label;
}

json::object secmaster_summary(const secmaster_tenant& t)
{
    json::array wfs;
    for (const auto& w : t.workflows) {
        json::array vs;
        for (const auto& v : w.versions)
            vs.push_back(json::object{{"id", v.id}, {"version", v.label}, {"status", v.status}, {"document", v.document}});
        wfs.push_back(json::object{{"id", w.id}, {"name", w.name}, {"versions", std::move(vs)}});
    }
    return json::object{{"workflows", std::move(wfs)}};
}

void secmaster_expire_tokens(secmaster_tenant& t)
{
    t.tokens.clear();
    t.static_token_expired = true;
}

}  // namespace wfsync::emulator::detail
