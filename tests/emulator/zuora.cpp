// SPDX-License-Identifier: Apache-2.0
// The Zuora tenants' data and the Zuora Workflow API routes. Written from api-reference.md
// section 1 and tests/emulator/README.md only -- never from the connector's code.
#include "zuora_model.hpp"

#include <wfsync/core/hash.hpp>
#include <wfsync/core/json.hpp>

#include <boost/json/serialize.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <ctime>
#include <set>

namespace wfsync::emulator::detail {
namespace json = boost::json;

// ---- version labels ------------------------------------------------------------------

std::optional<std::vector<std::uint64_t>> parse_version(std::string_view label)
{
    if (label.empty() || label.size() > 64) return std::nullopt;
    std::vector<std::uint64_t> parts;
    std::size_t pos = 0;
    while (true) {
        auto dot = label.find('.', pos);
        auto part = label.substr(pos, dot == std::string_view::npos ? std::string_view::npos : dot - pos);
        if (part.empty() || part.size() > 18) return std::nullopt;
        std::uint64_t n = 0;
        auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), n);
        if (ec != std::errc{} || end != part.data() + part.size()) return std::nullopt;
        parts.push_back(n);
        if (dot == std::string_view::npos) break;
        pos = dot + 1;
    }
    return parts;
}

int compare_versions(const std::vector<std::uint64_t>& a, const std::vector<std::uint64_t>& b)
{
    auto n = std::max(a.size(), b.size());
    for (std::size_t i = 0; i < n; ++i) {
        auto x = i < a.size() ? a[i] : 0;
        auto y = i < b.size() ? b[i] : 0;
        if (x != y) return x < y ? -1 : 1;
    }
    return 0;
}

std::string next_patch(std::string_view label)
{
    auto parts = parse_version(label);
    if (!parts) return "0.0.1";
    parts->back() += 1;
    std::string out;
    for (std::size_t i = 0; i < parts->size(); ++i) {
        if (i) out += '.';
        out += std::to_string((*parts)[i]);
    }
    return out;
}

// ---- small HTTP helpers ----------------------------------------------------------------

namespace {

int hex_value(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

std::string form_decode(std::string_view s)
{
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '+') {
            out += ' ';
        } else if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 &&
                   hex_value(s[i + 2]) >= 0) {
            out += static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
            i += 2;
        } else {
            out += s[i];
        }
    }
    return out;
}

bool iequals_prefix(std::string_view s, std::string_view prefix)
{
    if (s.size() < prefix.size()) return false;
    for (std::size_t i = 0; i < prefix.size(); ++i) {
        auto a = static_cast<unsigned char>(s[i]);
        auto b = static_cast<unsigned char>(prefix[i]);
        if (std::tolower(a) != std::tolower(b)) return false;
    }
    return true;
}

/// An integral JSON number (ids); nullopt for anything else.
std::optional<std::int64_t> as_int(const json::value& v)
{
    if (v.is_int64()) return v.get_int64();
    if (v.is_uint64() && v.get_uint64() <= static_cast<std::uint64_t>(INT64_MAX))
        return static_cast<std::int64_t>(v.get_uint64());
    if (v.is_double()) {
        double d = v.get_double();
        if (d == static_cast<double>(static_cast<std::int64_t>(d))) return static_cast<std::int64_t>(d);
    }
    return std::nullopt;
}

std::optional<std::int64_t> parse_int(std::string_view s)
{
    std::int64_t n = 0;
    if (s.empty()) return std::nullopt;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
    return n;
}

}  // namespace

std::map<std::string, std::string> parse_form(std::string_view text)
{
    std::map<std::string, std::string> out;
    std::size_t pos = 0;
    while (pos <= text.size()) {
        auto amp = text.find('&', pos);
        auto item = text.substr(pos, amp == std::string_view::npos ? std::string_view::npos : amp - pos);
        if (!item.empty()) {
            auto eq = item.find('=');
            if (eq == std::string_view::npos)
                out.emplace(form_decode(item), std::string{});
            else
                out.emplace(form_decode(item.substr(0, eq)), form_decode(item.substr(eq + 1)));
        }
        if (amp == std::string_view::npos) break;
        pos = amp + 1;
    }
    return out;
}

std::string now_iso8601()
{
    std::time_t t = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

std::string iso8601_ms(std::int64_t ms_since_epoch)
{
    auto secs = ms_since_epoch / 1000;
    auto ms = ms_since_epoch % 1000;
    if (ms < 0) {
        ms += 1000;
        --secs;
    }
    std::time_t t = static_cast<std::time_t>(secs);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    return fmt::format("{}.{:03}Z", buf, ms);
}

std::string next_stamp(std::int64_t& last_ms)
{
    auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count();
    last_ms = now > last_ms ? static_cast<std::int64_t>(now) : last_ms + 1;
    return iso8601_ms(last_ms);
}

reply error_reply(int status, std::int64_t code, std::string_view message)
{
    json::object reason{{"code", code}, {"message", message}};
    json::object body{{"success", false}, {"reasons", json::array{reason}}};
    reply r;
    r.status = status;
    r.body = json::serialize(body);
    return r;
}

reply json_reply(int status, const json::value& v)
{
    reply r;
    r.status = status;
    r.body = json::serialize(v);
    return r;
}

// ---- tenant data -----------------------------------------------------------------------

const version_rec* workflow_rec::active() const
{
    for (const auto& v : versions)
        if (v.status == "Active") return &v;
    return nullptr;
}

const version_rec* workflow_rec::latest() const
{
    return versions.empty() ? nullptr : &versions.back();
}

namespace {

result<void> check_keys(const json::object& o, std::initializer_list<std::string_view> allowed,
                        const std::string& where)
{
    for (const auto& kv : o) {
        if (std::find(allowed.begin(), allowed.end(), kv.key()) == allowed.end())
            return fail(errc::config, fmt::format("{}: unknown key '{}'", where, std::string_view(kv.key())));
    }
    return {};
}

result<std::string> opt_string(const json::object& o, std::string_view key, const std::string& where,
                               std::string fallback = {})
{
    auto* v = o.if_contains(key);
    if (!v || v->is_null()) return fallback;
    if (!v->is_string()) return fail(errc::config, fmt::format("{}.{}: must be a string", where, key));
    return std::string(v->get_string());
}

result<int> opt_positive(const json::object& o, std::string_view key, const std::string& where, int fallback)
{
    auto* v = o.if_contains(key);
    if (!v) return fallback;
    auto n = as_int(*v);
    if (!n || *n <= 0 || *n > 1'000'000'000)
        return fail(errc::config, fmt::format("{}.{}: must be a positive integer", where, key));
    return static_cast<int>(*n);
}

void rewrite_workflow_ids(json::array& linkages, std::int64_t workflow_id)
{
    for (auto& l : linkages) {
        if (!l.is_object()) continue;
        auto* swf = l.get_object().if_contains("source_workflow_id");
        if (swf && !swf->is_null()) *swf = workflow_id;
    }
}

/// The label of a new version must be above every existing one.
result<void> check_greater(const workflow_rec& wf, const std::vector<std::uint64_t>& parts,
                           const std::string& label)
{
    if (const auto* last = wf.latest(); last && compare_versions(parts, last->parts) <= 0) {
        return fail(errc::conflict,
                    fmt::format("version must be greater than every existing version: '{}' is not "
                                "greater than '{}' of workflow {}",
                                label, last->label, wf.id));
    }
    return {};
}

void set_active(workflow_rec& wf, std::int64_t version_id)
{
    for (auto& v : wf.versions) v.status = v.id == version_id ? "Active" : "Inactive";
}

}  // namespace

result<tenant_state> tenant_from_seed(const std::string& name, const json::value& seed,
                                      std::int64_t range_base, std::int64_t last_stamp_ms)
{
    const std::string where = "tenants." + name;
    if (!seed.is_object()) return fail(errc::config, where + ": must be an object");
    const auto& o = seed.get_object();
    if (auto r = check_keys(o, {"platform", "client_id", "client_secret", "bearer_token", "token_ttl_seconds",
                                "page_length_max", "list_shape", "list_detail", "workflows", "description"},
                            where);
        !r)
        return r.error();

    tenant_state t;
    t.name = name;
    auto platform = opt_string(o, "platform", where, "zuora");
    if (!platform) return platform.error();
    if (*platform != "zuora")
        return fail(errc::config, fmt::format("{}.platform: '{}' is not served by this emulator (only zuora)",
                                              where, *platform));
    t.platform = *platform;
    auto id = opt_string(o, "client_id", where);
    auto secret = opt_string(o, "client_secret", where);
    auto bearer = opt_string(o, "bearer_token", where);
    if (!id) return id.error();
    if (!secret) return secret.error();
    if (!bearer) return bearer.error();
    t.client_id = *id;
    t.client_secret = *secret;
    t.bearer_token = *bearer;
    if (t.bearer_token.empty() && (t.client_id.empty() || t.client_secret.empty()))
        return fail(errc::config, where + ": needs client_id and client_secret, or bearer_token");
    auto ttl = opt_positive(o, "token_ttl_seconds", where, 3600);
    auto plm = opt_positive(o, "page_length_max", where, 50);
    if (!ttl) return ttl.error();
    if (!plm) return plm.error();
    t.token_ttl_seconds = *ttl;
    t.page_length_max = *plm;
    auto shape = opt_string(o, "list_shape", where, "paged");
    if (!shape) return shape.error();
    if (*shape != "paged" && *shape != "bare")
        return fail(errc::config, fmt::format("{}.list_shape: '{}' must be 'paged' or 'bare'", where, *shape));
    t.bare_list = *shape == "bare";
    auto detail = opt_string(o, "list_detail", where, "full");
    if (!detail) return detail.error();
    if (*detail != "full" && *detail != "labels" && *detail != "names")
        return fail(errc::config,
                    fmt::format("{}.list_detail: '{}' must be 'full', 'labels' or 'names'", where, *detail));
    t.list_detail = *detail;
    // Every seeded workflow carries the load time; later changes get later stamps.
    t.last_stamp_ms = last_stamp_ms;
    const std::string loaded_at = next_stamp(t.last_stamp_ms);

    std::int64_t max_id = 0;
    auto note_id = [&](std::int64_t n) { max_id = std::max(max_id, n); };
    std::vector<workflow_rec> wfs;
    if (auto* w = o.if_contains("workflows")) {
        if (!w->is_array()) return fail(errc::config, where + ".workflows: must be an array");
        std::size_t wi = 0;
        for (const auto& wv : w->get_array()) {
            auto wwhere = fmt::format("{}.workflows[{}]", where, wi++);
            if (!wv.is_object()) return fail(errc::config, wwhere + ": must be an object");
            const auto& wo = wv.get_object();
            if (auto r = check_keys(wo, {"id", "name", "description", "versions", "created_at"}, wwhere); !r)
                return r.error();
            workflow_rec wf;
            if (auto* idv = wo.if_contains("id")) {
                auto n = as_int(*idv);
                if (!n || *n <= 0) return fail(errc::config, wwhere + ".id: must be a positive integer");
                wf.id = *n;
                note_id(*n);
            }
            auto nm = opt_string(wo, "name", wwhere);
            auto ds = opt_string(wo, "description", wwhere);
            if (!nm) return nm.error();
            if (!ds) return ds.error();
            if (nm->empty()) return fail(errc::config, wwhere + ".name: is required");
            wf.name = *nm;
            wf.description = *ds;
            wf.created_at = wf.updated_at = loaded_at;
            auto* vs = wo.if_contains("versions");
            if (!vs || !vs->is_array() || vs->get_array().empty())
                return fail(errc::config, wwhere + ".versions: must be a non-empty array");
            std::size_t vi = 0;
            for (const auto& vv : vs->get_array()) {
                auto vwhere = fmt::format("{}.versions[{}]", wwhere, vi++);
                if (!vv.is_object()) return fail(errc::config, vwhere + ": must be an object");
                const auto& vo = vv.get_object();
                if (auto r = check_keys(vo, {"id", "version", "status", "tasks", "linkages", "workflow"}, vwhere); !r)
                    return r.error();
                version_rec v;
                if (auto* idv = vo.if_contains("id")) {
                    auto n = as_int(*idv);
                    if (!n || *n <= 0) return fail(errc::config, vwhere + ".id: must be a positive integer");
                    v.id = *n;
                    note_id(*n);
                }
                auto label = opt_string(vo, "version", vwhere);
                if (!label) return label.error();
                auto parts = parse_version(*label);
                if (!parts)
                    return fail(errc::config, fmt::format("{}.version: '{}' is not a version number like 0.0.1",
                                                          vwhere, *label));
                v.label = *label;
                v.parts = *parts;
                auto status = opt_string(vo, "status", vwhere, "Inactive");
                if (!status) return status.error();
                if (*status != "Active" && *status != "Inactive")
                    return fail(errc::config, fmt::format("{}.status: '{}' must be Active or Inactive", vwhere, *status));
                v.status = *status;
                for (auto key : {"tasks", "linkages"}) {
                    auto* a = vo.if_contains(key);
                    if (!a) continue;
                    if (!a->is_array()) return fail(errc::config, fmt::format("{}.{}: must be an array", vwhere, key));
                    (std::string_view(key) == "tasks" ? v.tasks : v.linkages) = a->get_array();
                }
                std::size_t ti = 0;
                for (const auto& task : v.tasks) {
                    if (!task.is_object())
                        return fail(errc::config, fmt::format("{}.tasks[{}]: must be an object", vwhere, ti));
                    if (auto* tid = task.get_object().if_contains("id")) {
                        auto n = as_int(*tid);
                        if (!n || *n <= 0)
                            return fail(errc::config, fmt::format("{}.tasks[{}].id: must be a positive integer", vwhere, ti));
                        note_id(*n);
                    }
                    ++ti;
                }
                if (auto* wobj = vo.if_contains("workflow")) {
                    if (!wobj->is_object()) return fail(errc::config, vwhere + ".workflow: must be an object");
                    v.workflow = wobj->get_object();
                }
                v.created_at = wf.created_at;
                wf.versions.push_back(std::move(v));
            }
            std::sort(wf.versions.begin(), wf.versions.end(),
                      [](const auto& a, const auto& b) { return compare_versions(a.parts, b.parts) < 0; });
            int active = 0;
            for (std::size_t i = 0; i < wf.versions.size(); ++i) {
                if (wf.versions[i].status == "Active") ++active;
                if (i && compare_versions(wf.versions[i - 1].parts, wf.versions[i].parts) == 0)
                    return fail(errc::config, fmt::format("{}: version '{}' appears twice", wwhere, wf.versions[i].label));
            }
            if (active > 1) return fail(errc::config, wwhere + ": more than one version is Active");
            wfs.push_back(std::move(wf));
        }
    }

    // Ids the seed leaves out come from the tenant's own range, above every seeded id.
    t.next_id = std::max(range_base, max_id + 1);
    for (auto& wf : wfs) {
        if (wf.id == 0) wf.id = t.next_id++;
        if (t.workflows.count(wf.id))
            return fail(errc::config, fmt::format("{}: workflow id {} appears twice", where, wf.id));
        for (auto& v : wf.versions) {
            if (v.id == 0) v.id = t.next_id++;
            for (auto& task : v.tasks) {
                auto& to = task.get_object();
                if (!to.if_contains("id")) to["id"] = t.next_id++;
            }
            rewrite_workflow_ids(v.linkages, wf.id);
        }
        auto wid = wf.id;
        t.workflows.emplace(wid, std::move(wf));
    }
    return t;
}

namespace {

/// The parts of an export document, checked but not yet renumbered.
struct doc_parts {
    const json::object* workflow = nullptr;
    const json::array* tasks = nullptr;
    json::array linkages;
};

/// The shape of an export document: `workflow` an object, `tasks` an array, `linkages` an
/// array if present.
result<doc_parts> doc_shape(const json::object& doc)
{
    const auto* wobj = doc.if_contains("workflow");
    if (!wobj || !wobj->is_object())
        return fail(errc::invalid_argument, "body: 'workflow' must be an object");
    const auto* tasks = doc.if_contains("tasks");
    if (!tasks || !tasks->is_array()) return fail(errc::invalid_argument, "body: 'tasks' must be an array");
    const auto* links = doc.if_contains("linkages");
    if (links && !links->is_null() && !links->is_array())
        return fail(errc::invalid_argument, "body: 'linkages' must be an array");
    doc_parts p;
    p.workflow = &wobj->get_object();
    p.tasks = &tasks->get_array();
    p.linkages = links && links->is_array() ? links->get_array() : json::array{};
    return p;
}

/// Tasks are objects with unique integer ids (or none); linkages refer only to those ids.
/// Checked before any id is allocated, so that a refused document changes nothing.
result<void> check_tasks_and_linkages(const doc_parts& p)
{
    std::set<std::int64_t> old_ids;
    std::size_t ti = 0;
    for (const auto& task : *p.tasks) {
        if (!task.is_object())
            return fail(errc::invalid_argument, fmt::format("body: tasks[{}] must be an object", ti));
        if (auto* id = task.get_object().if_contains("id"); id && !id->is_null()) {
            auto n = as_int(*id);
            if (!n) return fail(errc::invalid_argument, fmt::format("body: tasks[{}].id must be an integer", ti));
            if (!old_ids.insert(*n).second)
                return fail(errc::invalid_argument, fmt::format("body: task id {} appears twice", *n));
        }
        ++ti;
    }
    std::size_t li = 0;
    for (const auto& l : p.linkages) {
        if (!l.is_object())
            return fail(errc::invalid_argument, fmt::format("body: linkages[{}] must be an object", li));
        for (auto key : {"source_task_id", "target_task_id"}) {
            auto* ref = l.get_object().if_contains(key);
            if (!ref || ref->is_null()) continue;
            auto n = as_int(*ref);
            if (!n || !old_ids.count(*n))
                return fail(errc::invalid_argument,
                            fmt::format("body: linkages[{}].{} {} is not the id of a task in this document", li,
                                        key, json::serialize(*ref)));
        }
        ++li;
    }
    return {};
}

/// Gives the (checked) tasks fresh ids from the tenant's counter and makes the linkages
/// follow; linkages' non-null source_workflow_id become `workflow_id`.
void renumber(tenant_state& t, const doc_parts& p, std::int64_t workflow_id, json::array& tasks_out,
              json::array& linkages_out)
{
    std::map<std::int64_t, std::int64_t> fresh_of;
    tasks_out = *p.tasks;
    for (auto& task : tasks_out) {
        auto& to = task.get_object();
        auto fresh = t.next_id++;
        if (auto* id = to.if_contains("id"); id && !id->is_null()) fresh_of[*as_int(*id)] = fresh;
        to["id"] = fresh;
    }
    linkages_out = p.linkages;
    for (auto& l : linkages_out) {
        auto& lo = l.get_object();
        for (auto key : {"source_task_id", "target_task_id"}) {
            auto* ref = lo.if_contains(key);
            if (ref && !ref->is_null()) *ref = fresh_of.at(*as_int(*ref));
        }
    }
    rewrite_workflow_ids(linkages_out, workflow_id);
}

/// The body's workflow.name (non-empty) and description rename the definition.
void take_name(workflow_rec& wf, const json::object& wo)
{
    if (auto* n = wo.if_contains("name"); n && n->is_string() && !n->get_string().empty())
        wf.name = std::string(n->get_string());
    if (auto* d = wo.if_contains("description"); d && d->is_string())
        wf.description = std::string(d->get_string());
}

}  // namespace

result<const version_rec*> add_version_from_doc(tenant_state& t, workflow_rec& wf, const json::object& doc,
                                                std::string label, bool activate)
{
    auto p = doc_shape(doc);
    if (!p) return p.error();
    const auto& wo = *p->workflow;

    if (label.empty()) {
        if (auto* bv = wo.if_contains("version"); bv && bv->is_string() && !bv->get_string().empty())
            label = std::string(bv->get_string());
        else
            label = wf.latest() ? next_patch(wf.latest()->label) : "0.0.1";
    }
    auto parts = parse_version(label);
    if (!parts)
        return fail(errc::invalid_argument,
                    fmt::format("version '{}' is not a version number like 0.0.1", label));
    if (auto r = check_greater(wf, *parts, label); !r) return r.error();
    if (auto r = check_tasks_and_linkages(*p); !r) return r.error();

    version_rec v;
    v.id = t.next_id++;
    v.label = label;
    v.parts = *parts;
    v.workflow = wo;
    v.created_at = next_stamp(t.last_stamp_ms);
    renumber(t, *p, wf.id, v.tasks, v.linkages);

    take_name(wf, wo);
    wf.updated_at = v.created_at;
    auto vid = v.id;
    wf.versions.push_back(std::move(v));
    if (activate) set_active(wf, vid);
    return &wf.versions.back();
}

result<std::string> edit_version_from_doc(tenant_state& t, workflow_rec& wf, std::string_view label,
                                          const json::object& doc)
{
    auto parts = parse_version(label);
    version_rec* v = nullptr;
    if (parts)
        for (auto& c : wf.versions)
            if (compare_versions(c.parts, *parts) == 0) v = &c;
    if (!v)
        return fail(errc::not_found, fmt::format("workflow {} has no version '{}'", wf.id, label));
    auto p = doc_shape(doc);
    if (!p) return p.error();
    if (auto r = check_tasks_and_linkages(*p); !r) return r.error();

    // The version keeps its id, label and status; what it holds is replaced.
    v->workflow = *p->workflow;
    renumber(t, *p, wf.id, v->tasks, v->linkages);
    take_name(wf, *p->workflow);
    wf.updated_at = next_stamp(t.last_stamp_ms);
    return v->label;
}

json::object export_doc(const workflow_rec& wf, const version_rec& v)
{
    json::object w = v.workflow;
    w["id"] = wf.id;
    w["name"] = wf.name;
    w["description"] = wf.description;
    w["version"] = v.label;
    w["status"] = v.status;
    w["type"] = "Workflow::Setup";
    return json::object{{"linkages", v.linkages}, {"tasks", v.tasks}, {"workflow", std::move(w)}};
}

json::object tenant_summary(const tenant_state& t)
{
    json::array wfs;
    for (const auto& [id, wf] : t.workflows) {
        json::array vs;
        for (const auto& v : wf.versions)
            vs.push_back(json::object{{"id", v.id},
                                      {"version", v.label},
                                      {"status", v.status},
                                      {"tasks_count", v.tasks.size()},
                                      {"tasks", v.tasks}});
        wfs.push_back(json::object{{"id", wf.id}, {"name", wf.name}, {"versions", std::move(vs)}});
    }
    return json::object{{"workflows", std::move(wfs)}};
}

// ---- the Zuora API ---------------------------------------------------------------------

namespace {

reply method_not_allowed(const zuora_request& r)
{
    return error_reply(405, code_invalid_value, fmt::format("method {} is not allowed on {}", r.method, r.sub_path));
}

json::value version_ref(const version_rec* v)
{
    if (!v) return nullptr;
    return json::object{{"id", v->id}, {"version", v->label}, {"status", v->status}, {"type", "Workflow::Setup"}};
}

/// A workflow definition as GET /workflows and GET /workflows/{id} show it, per the tenant's
/// list_detail: "full" (everything below), "labels" (no createdAt/updatedAt) or "names" (only
/// id, name, description, status, type: no version, no time). An import's answer is "full".
json::object definition(const workflow_rec& wf, std::string_view detail = "full")
{
    const auto* active = wf.active();
    json::object out{{"id", wf.id},
                     {"name", wf.name},
                     {"description", wf.description},
                     {"status", active ? "Active" : "Inactive"},
                     {"type", "Workflow::Setup"}};
    if (detail == "names") return out;
    if (detail == "full") {
        out["createdAt"] = wf.created_at;
        out["updatedAt"] = wf.updated_at;
    }
    out["active_version"] = version_ref(active);
    out["latest_version"] = wf.latest() ? wf.latest()->label : "";
    return out;
}

reply token(tenant_state& t, const zuora_request& r)
{
    if (r.method != "POST") return method_not_allowed(r);
    auto form = parse_form(r.body);
    if (form["grant_type"] != "client_credentials")
        return error_reply(400, 90000020, "grant_type must be client_credentials");
    if (t.client_id.empty() || form["client_id"] != t.client_id || form["client_secret"] != t.client_secret)
        return error_reply(401, code_auth, "invalid credentials");
    auto tok = random_hex(20);
    t.tokens[tok] = std::chrono::steady_clock::now() + std::chrono::seconds(t.token_ttl_seconds);
    json::object body{{"access_token", tok},
                      {"token_type", "bearer"},
                      {"expires_in", t.token_ttl_seconds},
                      {"scope", fmt::format("user.{} entity.{} tenant.{}", random_hex(8), random_hex(8), t.name)},
                      {"jti", random_hex(16)}};
    return json_reply(200, body);
}

reply list_workflows(tenant_state& t, const zuora_request& r)
{
    auto q = parse_form(r.query);
    std::int64_t page = 1, page_length = 20;
    for (auto [key, out] : {std::pair{"page", &page}, std::pair{"page_length", &page_length}}) {
        auto it = q.find(key);
        if (it == q.end()) continue;
        auto n = parse_int(it->second);
        if (!n || *n < 1)
            return error_reply(400, code_invalid_value,
                               fmt::format("{} must be a positive integer, got '{}'", key, it->second));
        *out = *n;
    }
    page_length = std::min<std::int64_t>(page_length, t.page_length_max);
    std::vector<const workflow_rec*> all;
    auto name = q.find("name");
    for (const auto& [id, wf] : t.workflows)
        if (name == q.end() || wf.name == name->second) all.push_back(&wf);

    json::array data;
    auto first = static_cast<std::size_t>((page - 1) * page_length);
    for (auto i = first; i < all.size() && i < first + page_length; ++i) data.push_back(definition(*all[i], t.list_detail));
    if (t.bare_list) return json_reply(200, data);
    json::value next = nullptr;
    if (first + page_length < all.size())
        next = fmt::format("{}/workflows?page={}&page_length={}", r.tenant_url, page + 1, page_length);
    json::object body{{"data", std::move(data)},
                      {"pagination", json::object{{"next_page", next}, {"page", page}, {"page_length", page_length}}}};
    return json_reply(200, body);
}

reply not_found_workflow(std::string_view id)
{
    return error_reply(404, code_not_found, fmt::format("workflow {} not found", id));
}

/// Body of an import: a JSON object, or the 400 answer.
result<json::object> import_body(const zuora_request& r)
{
    auto v = parse_json(r.body, "request body");
    if (!v) return fail(errc::invalid_argument, v.error().message);
    if (!v->is_object()) return fail(errc::invalid_argument, "request body must be a JSON object");
    return std::move(v->get_object());
}

/// activate=true|false (absent = false); nullopt for anything else.
std::optional<bool> activate_param(const std::map<std::string, std::string>& q)
{
    auto it = q.find("activate");
    if (it == q.end() || it->second == "false") return false;
    if (it->second == "true") return true;
    return std::nullopt;
}

reply import_error(const error& e)
{
    return error_reply(400, e.code == errc::conflict ? code_business_rule : code_invalid_value, e.message);
}

reply import_version(tenant_state& t, workflow_rec& wf, const zuora_request& r)
{
    auto q = parse_form(r.query);
    auto version = q.find("version");
    if (version == q.end() || version->second.empty())
        return error_reply(400, code_missing, "version is required");
    auto activate = activate_param(q);
    if (!activate) return error_reply(400, code_invalid_value, "activate must be true or false");
    auto body = import_body(r);
    if (!body) return import_error(body.error());
    auto v = add_version_from_doc(t, wf, *body, version->second, *activate);
    if (!v) return import_error(v.error());
    return json_reply(200, definition(wf));
}

reply import_definition(tenant_state& t, const zuora_request& r)
{
    auto q = parse_form(r.query);
    auto activate = activate_param(q);
    if (!activate) return error_reply(400, code_invalid_value, "activate must be true or false");
    auto body = import_body(r);
    if (!body) return import_error(body.error());
    const auto* w = body->if_contains("workflow");
    const auto* name = w && w->is_object() ? w->get_object().if_contains("name") : nullptr;
    if (!name || !name->is_string() || name->get_string().empty())
        return error_reply(400, code_missing, "body: workflow.name is required");

    workflow_rec wf;
    wf.id = t.next_id;  // taken for good only if the import succeeds
    wf.name = std::string(name->get_string());
    auto saved_next = t.next_id++;
    // Version: ?version=, else the body's workflow.version, else 0.0.1 (no versions yet).
    std::string label = q.count("version") ? q["version"] : std::string{};
    auto v = add_version_from_doc(t, wf, *body, label, *activate);
    if (!v) {
        t.next_id = saved_next;
        return import_error(v.error());
    }
    wf.created_at = wf.updated_at;  // the stamp of its first version
    auto doc = export_doc(wf, **v);
    auto id = wf.id;
    t.workflows.emplace(id, std::move(wf));
    return json_reply(200, doc);
}

reply export_workflow(const workflow_rec& wf, const zuora_request& r)
{
    auto q = parse_form(r.query);
    auto it = q.find("version");
    const version_rec* v = nullptr;
    std::string wanted = it == q.end() ? "active" : it->second;
    if (wanted == "active") {
        v = wf.active();
    } else if (wanted == "latest") {
        v = wf.latest();
    } else {
        auto parts = parse_version(wanted);
        if (!parts)
            return error_reply(400, code_invalid_value,
                               fmt::format("invalid version '{}': use latest, active or a version number", wanted));
        for (const auto& c : wf.versions)
            if (compare_versions(c.parts, *parts) == 0) v = &c;
    }
    if (!v)
        return error_reply(404, code_not_found,
                           fmt::format("workflow {} has no {} version", wf.id,
                                       wanted == "active" || wanted == "latest" ? wanted : "'" + wanted + "'"));
    return json_reply(200, export_doc(wf, *v));
}

}  // namespace

std::optional<reply> check_auth(tenant_state& t, const zuora_request& r)
{
    if (r.sub_path == "/oauth/token") return std::nullopt;
    const std::string* h = r.headers ? r.headers->find("Authorization") : nullptr;
    if (h && iequals_prefix(*h, "Bearer ")) {
        std::string tok = h->substr(7);
        while (!tok.empty() && tok.front() == ' ') tok.erase(0, 1);
        auto it = t.tokens.find(tok);
        if (it != t.tokens.end() && it->second > std::chrono::steady_clock::now()) return std::nullopt;
        if (!t.bearer_token.empty() && tok == t.bearer_token && !t.static_token_expired) return std::nullopt;
    }
    return error_reply(401, code_auth, "Authentication error");
}

reply handle_zuora(tenant_state& t, const zuora_request& r)
{
    if (r.sub_path == "/oauth/token") return token(t, r);

    std::vector<std::string_view> seg;
    std::string_view p = r.sub_path;
    while (!p.empty()) {
        if (p.front() == '/') {
            p.remove_prefix(1);
            continue;
        }
        auto slash = p.find('/');
        seg.push_back(p.substr(0, slash));
        if (slash == std::string_view::npos) break;
        p.remove_prefix(slash);
    }
    if (seg.empty() || seg[0] != "workflows")
        return error_reply(404, code_not_found, fmt::format("no such endpoint: {}", r.sub_path));
    if (seg.size() == 1) {
        if (r.method != "GET") return method_not_allowed(r);
        return list_workflows(t, r);
    }
    if (seg.size() == 2 && seg[1] == "import") {
        if (r.method != "POST") return method_not_allowed(r);
        return import_definition(t, r);
    }
    auto id = parse_int(seg[1]);
    auto it = id ? t.workflows.find(*id) : t.workflows.end();
    if (it == t.workflows.end()) return not_found_workflow(seg[1]);
    auto& wf = it->second;
    if (seg.size() == 2) {
        if (r.method != "GET") return method_not_allowed(r);
        return json_reply(200, definition(wf, t.list_detail));
    }
    if (seg.size() == 3 && seg[2] == "versions") {
        if (r.method != "GET") return method_not_allowed(r);
        json::array data;
        for (const auto& v : wf.versions) data.push_back(version_ref(&v));
        return json_reply(200, json::object{{"data", std::move(data)}});
    }
    if (seg.size() == 3 && seg[2] == "export") {
        if (r.method != "GET") return method_not_allowed(r);
        return export_workflow(wf, r);
    }
    if (seg.size() == 4 && seg[2] == "versions" && seg[3] == "import") {
        if (r.method != "POST") return method_not_allowed(r);
        return import_version(t, wf, r);
    }
    return error_reply(404, code_not_found, fmt::format("no such endpoint: {}", r.sub_path));
}

}  // namespace wfsync::emulator::detail
