// SPDX-License-Identifier: Apache-2.0
// The emulator's Kore.ai AI for Process tenants: export jobs tracked by dock status, zip
// downloads (from the tenant's own host or from a second listener standing in for a
// storage host), multipart file uploads and imports. Contract: tests/emulator/README.md,
// section Kore.ai.
#include "kore_model.hpp"
#include "restamp.hpp"

#include <wfsync/core/hash.hpp>
#include <wfsync/core/json.hpp>
#include <wfsync/core/zip.hpp>
#include <wfsync/net/multipart.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>

namespace wfsync::emulator::detail {
namespace json = boost::json;

namespace {

constexpr std::string_view api = "/api/public/";

std::vector<std::string> split_path(std::string_view p)
{
    std::vector<std::string> out;
    while (!p.empty()) {
        auto slash = p.find('/');
        if (slash != 0) out.emplace_back(p.substr(0, slash));
        if (slash == std::string_view::npos) break;
        p.remove_prefix(slash + 1);
    }
    return out;
}

std::string label_of(const json::value& app, std::size_t index)
{
    if (const auto* v = find_member(app, "version"); v && v->is_string() && !v->get_string().empty())
        return std::string(v->get_string());
    return fmt::format("v{}", index + 1);
}

result<kore_version> version_from_seed(const json::value& v, const std::string& where, std::size_t index)
{
    if (!v.is_object()) return fail(errc::config, where + ": must be an object");
    for (const auto& kv : v.get_object()) {
        auto k = kv.key();
        if (k != "flow_definition" && k != "app_definition" && k != "env_variables")
            return fail(errc::config, fmt::format("{}: unknown key '{}' (flow_definition, app_definition, "
                                                  "env_variables)",
                                                  where, std::string_view(k)));
    }
    kore_version out;
    auto get = [&](std::string_view k) -> json::value {
        const auto* m = v.get_object().if_contains(k);
        return m ? *m : json::value(json::object{});
    };
    out.flow = get("flow_definition");
    out.app = get("app_definition");
    out.env = get("env_variables");
    out.label = label_of(out.app, index);
    return out;
}

std::string job_status_text(const kore_job& j)
{
    if (std::chrono::steady_clock::now() < j.ready_at) return "IN_PROGRESS";
    return j.fail ? "FAILED" : "SUCCESS";
}

kore_workflow* find_workflow(kore_tenant& t, std::string_view id)
{
    for (auto& w : t.workflows)
        if (w.id == id) return &w;
    return nullptr;
}

/// import_ids "restamp": the three documents get this tenant's own ids ("n-{tenant}-{n}",
/// references by value following), and the version is labelled "v{k}" (k = 1-based index in
/// its workflow), in the app document's `version` too (a string, or an object's label/number).
void restamp(kore_tenant& t, kore_version& v, std::size_t index)
{
    restamp_ids({&v.flow, &v.app, &v.env}, [&t] { return fmt::format("n-{}-{}", t.name, t.next_id++); });
    const auto k = static_cast<std::int64_t>(index + 1);
    v.label = fmt::format("v{}", k);
    auto* ver = v.app.is_object() ? v.app.get_object().if_contains("version") : nullptr;
    if (!ver) return;
    if (ver->is_string()) {
        *ver = v.label;
    } else if (ver->is_object() && (ver->get_object().contains("label") || ver->get_object().contains("number"))) {
        ver->get_object()["label"] = v.label;
        ver->get_object()["number"] = k;
    }
}

/// Applies imports whose time has come: a new version (and for a create, the workflow).
void settle(kore_tenant& t)
{
    for (auto& [id, j] : t.jobs) {
        if (j.action != "IMPORT" || j.settled || j.fail || job_status_text(j) != "SUCCESS") continue;
        j.settled = true;
        kore_workflow* wf = find_workflow(t, j.workflow_id);
        const bool created = wf == nullptr;
        if (created) {
            t.workflows.push_back(kore_workflow{j.workflow_id, fmt::format("cf-{}-{}", t.name, t.next_id++),
                                                j.new_name, "normal", {}, std::nullopt});
            wf = &t.workflows.back();
        }
        auto v = *j.incoming;
        const std::size_t index = wf->versions.size();
        if (t.import_ids == "restamp")
            restamp(t, v, index);
        else
            v.label = label_of(v.app, index);
        wf->versions.push_back(std::move(v));
        // The first version of a new workflow is deployed; into an existing one, only if the
        // tenant's imports deploy (import_deploys).
        if (created || t.import_deploys) wf->deployed = index;
    }
}

json::object summary_of(const kore_job& j)
{
    return json::object{{"id", j.id}, {"action", j.action}, {"status", job_status_text(j)}, {"workflow_id", j.workflow_id}};
}

/// {dock-statusId|dockStatusId, workflowId|toolId, jobType, action, status}
json::object job_answer(const kore_tenant& t, const kore_job& j, std::string_view status)
{
    bool table = t.spelling == "table";
    json::object o;
    // The export sample writes dock-statusId [SEED 002]; the import pages dockStatusId [K-IMPN].
    o[(j.action == "EXPORT" && !table) ? "dock-statusId" : "dockStatusId"] = j.id;
    o[table ? "toolId" : "workflowId"] = j.workflow_id;
    o["jobType"] = table ? "TOOLS" : "WORKFLOWS";
    o["action"] = j.action;
    o["status"] = status;
    return o;
}

std::string download_url(const kore_tenant& t, const kore_job& j, const kore_request& r)
{
    if (t.download_host == "foreign") return fmt::format("{}/download/{}?sig={}", r.foreign_base, j.token, j.sig);
    return fmt::format("{}/api/v1/account/exports/{}", r.own_base, j.token);
}

std::string zip_of(const std::map<std::string, std::string>& files)
{
    auto z = make_zip(files);
    return z ? std::move(*z) : std::string();
}

reply package_reply(const kore_job& j)
{
    reply out;
    out.content_type = "application/zip";
    const auto& v = *j.snapshot;
    std::map<std::string, std::string> files{{"flow_definition.json", json::serialize(v.flow)},
                                             {"app_definition.json", json::serialize(v.app)},
                                             {"env_variables.json", json::serialize(v.env)}};
    if (j.package == "bomb") {
        // 40 MiB of spaces (over every default cap): valid JSON around it, ~40 KiB compressed.
        files["flow_definition.json"] = "{" + std::string(40u << 20, ' ') + "}";
    } else if (j.package == "missing_env") {
        files.erase("env_variables.json");
    } else if (j.package == "not_zip") {
        out.content_type = "text/html";
        out.body = "<html><body>Your export link has expired.</body></html>";
        return out;
    } else if (j.package == "dotdot") {
        // make_zip refuses "../": write a placeholder of the same length, then patch it.
        files["xx/flow_definition.json"] = std::move(files["flow_definition.json"]);
        files.erase("flow_definition.json");
        std::string z = zip_of(files);
        const std::string from = "xx/flow_definition.json", to = "../flow_definition.json";
        for (auto at = z.find(from); at != std::string::npos; at = z.find(from, at + 1)) z.replace(at, from.size(), to);
        out.body = std::move(z);
        return out;
    }
    out.body = zip_of(files);
    return out;
}

std::string new_id(kore_tenant& t, std::string_view kind)
{
    return fmt::format("{}-{}-{}", kind, t.name, t.next_id++);
}

reply start_export(kore_tenant& t, kore_workflow& wf, const kore_request& r)
{
    auto q = parse_form(r.query);
    if (auto it = q.find("flowId"); it != q.end() && it->second != wf.flow_id)
        return kore_error(400, fmt::format("flowId '{}' is not a call flow of workflow {}", it->second, wf.id));
    if (!wf.deployed) return kore_error(400, fmt::format("workflow {} has no deployed version", wf.id));
    kore_job j;
    j.id = new_id(t, "ds");
    j.action = "EXPORT";
    j.workflow_id = wf.id;
    j.ready_at = std::chrono::steady_clock::now() + std::chrono::milliseconds(t.job_duration_ms);
    j.fail = r.fail_job;
    j.token = new_id(t, "ex");
    j.sig = random_hex(16);
    j.snapshot = wf.versions.at(*wf.deployed);
    j.package = wf.package;
    auto o = job_answer(t, j, "IN_PROGRESS");
    o["exportJobId"] = "workflow-ej-" + j.token;
    auto url = download_url(t, j, r);
    if (t.spelling == "table")
        o["downloadURL"] = url;
    else
        o["response"] = json::object{{"downloadUrl", " " + url}};  // the leading space of [SEED 002]
    t.jobs.emplace(j.id, std::move(j));
    return json_reply(200, o);
}

reply upload(kore_tenant& t, const kore_request& r)
{
    const auto* ct = r.headers ? r.headers->find("Content-Type") : nullptr;
    if (!ct) return kore_error(400, "multipart/form-data body expected (no Content-Type)");
    auto parts = net::parse_multipart(*ct, r.body);
    if (!parts) return kore_error(400, parts.error().message);
    const net::multipart_part* file = nullptr;
    std::string context;
    for (const auto& p : *parts) {
        if (p.name == "file") file = &p;
        else if (p.name == "fileContext") context = p.data;
    }
    if (!file) return kore_error(400, "field 'file' is required");
    if (file->filename.empty()) return kore_error(400, "field 'file' needs a filename");
    if (context != "bulkImport") return kore_error(400, "fileContext must be bulkImport");
    kore_file f{file->filename, file->data};
    auto id = new_id(t, "f");
    t.files.emplace(id, std::move(f));
    return json_reply(200, json::object{{"url", r.own_base + "/files/" + id}, {"fileId", id}});
}

/// The uploaded file `field` names; it must have been uploaded under `expected` and be JSON.
result<json::value> file_json(const kore_tenant& t, const json::object& body, std::string_view field,
                              std::string_view expected, bool required)
{
    const auto* v = body.if_contains(field);
    if (!v || !v->is_string() || v->get_string().empty()) {
        if (!required) return json::value(json::object{});
        return fail(errc::invalid_argument, fmt::format("{} is required", field));
    }
    auto it = t.files.find(std::string(v->get_string()));
    if (it == t.files.end())
        return fail(errc::invalid_argument, fmt::format("{}: no uploaded file '{}'", field, std::string_view(v->get_string())));
    // This emulator's variant of the [GUESS] mapping: workflowDataFileId = app_definition.json,
    // flowDataFileId = flow_definition.json, envVariablesFileId = env_variables.json.
    if (it->second.name != expected)
        return fail(errc::invalid_argument,
                    fmt::format("{}: file '{}' is {}, expected {}", field, it->first, it->second.name, expected));
    boost::system::error_code ec;
    auto doc = json::parse(it->second.data, ec);
    if (ec) return fail(errc::invalid_argument, fmt::format("{}: {} is not JSON", field, expected));
    return doc;
}

reply start_import(kore_tenant& t, const std::string& target, const kore_request& r)
{
    const bool create = target.empty();
    if (!create && !find_workflow(t, target)) return kore_error(404, fmt::format("workflow {} not found", target));
    boost::system::error_code ec;
    auto body = json::parse(r.body, ec);
    if (ec || !body.is_object()) return kore_error(400, "body must be a JSON object");
    const auto& o = body.get_object();
    kore_version v;
    auto app = file_json(t, o, "workflowDataFileId", "app_definition.json", true);
    if (!app) return kore_error(400, app.error().message);
    auto flow = file_json(t, o, "flowDataFileId", "flow_definition.json", true);
    if (!flow) return kore_error(400, flow.error().message);
    // envVariablesFileId: optional for a new workflow [K-IMPN], required for an existing one [K-IMPE].
    auto env = file_json(t, o, "envVariablesFileId", "env_variables.json", !create);
    if (!env) return kore_error(400, env.error().message);
    v.app = std::move(*app);
    v.flow = std::move(*flow);
    v.env = std::move(*env);
    kore_job j;
    j.id = new_id(t, "ds");
    j.action = "IMPORT";
    j.create = create;
    if (create) {
        const auto* name = o.if_contains("workflowName");
        if (!name || !name->is_string() || name->get_string().empty()) return kore_error(400, "workflowName is required");
        j.new_name = std::string(name->get_string());
        j.workflow_id = new_id(t, "a");
    } else {
        j.workflow_id = target;
    }
    j.ready_at = std::chrono::steady_clock::now() + std::chrono::milliseconds(t.job_duration_ms);
    j.fail = r.fail_job;
    j.incoming = std::move(v);
    auto id = j.id;
    t.jobs.emplace(id, std::move(j));
    settle(t);  // a job of duration 0 is done at once
    const auto& stored = t.jobs.at(id);
    return json_reply(200, job_answer(t, stored, job_status_text(stored)));
}

reply dock_status(kore_tenant& t, const std::string& id)
{
    auto it = t.jobs.find(id);
    if (it == t.jobs.end()) return kore_error(404, fmt::format("dock status {} not found", id));
    const auto& j = it->second;
    json::object o;
    o["_id"] = j.id;
    o[t.spelling == "table" ? "toolId" : "workflowId"] = j.workflow_id;
    o["jobType"] = t.spelling == "table" ? "TOOLS" : "WORKFLOWS";
    o["action"] = j.action;
    o["status"] = job_status_text(j);
    return json_reply(200, o);
}

reply download(kore_tenant& t, const std::string& token, const kore_request& r, bool foreign_route)
{
    for (const auto& [id, j] : t.jobs) {
        if (j.action != "EXPORT" || j.token != token) continue;
        bool foreign_job = t.download_host == "foreign";
        if (foreign_job != foreign_route) break;  // served only where its URL points
        if (foreign_route) {
            auto q = parse_form(r.query);
            if (q["sig"] != j.sig) return kore_error(403, "signature does not match");
        }
        auto status = job_status_text(j);
        if (status == "IN_PROGRESS") return kore_error(409, "export is not ready");
        if (status == "FAILED") return kore_error(410, "export failed");
        return package_reply(j);
    }
    return kore_error(404, "no such export");
}

}  // namespace

bool is_kore_seed(const json::value& seed)
{
    const auto* p = find_member(seed, "platform");
    return p && p->is_string() && p->get_string() == "kore";
}

// A Kore tenant's seed object:
//   "platform": "kore", "api_key": "...", "job_duration_ms": 0..3600000,
//   "download_host": "same" | "foreign", "spelling": "sample" | "table",
//   "workflows": [{"id", "flow_id", "name", "package", "versions": [{flow_definition,
//                  app_definition, env_variables}]}]   (the last seeded version is deployed)
// and two switches for what the docs leave open [K-IMPE]:
//   "import_ids": "keep" (default) | "restamp". keep: an import stores the uploaded documents
//       as they are. restamp: when the import job settles, the three documents get this
//       tenant's own ids: every member named id, _id, *Id or *_id with a string value gets a
//       fresh "n-{tenant}-{n}" (one old value -> one new value across the three documents),
//       and every other string value equal to an old id follows (a node's "next"). The version
//       is labelled "v{k}" (k = its 1-based index in the workflow), and so is the app
//       document's `version` (a string; or an object's label, with number = k).
//   "import_deploys": true (default) | false. true: every import deploys its version.
//       false: an import into an existing workflow adds a version that is not deployed, and
//       exports keep returning the deployed one. (The first version of a workflow created by
//       import is deployed either way; add_version, "a person's edit", always deploys.)
result<kore_tenant> kore_tenant_from_seed(const std::string& name, const json::value& seed)
{
    const std::string where = "tenants." + name;
    if (!seed.is_object()) return fail(errc::config, where + ": must be an object");
    kore_tenant t;
    t.name = name;
    for (const auto& kv : seed.get_object()) {
        std::string_view key = kv.key();
        const auto& v = kv.value();
        const std::string at = where + "." + std::string(key);
        if (key == "platform") continue;
        if (key == "api_key" || key == "download_host" || key == "spelling" || key == "import_ids") {
            if (!v.is_string()) return fail(errc::config, at + ": must be a string");
            std::string s(v.get_string());
            if (key == "api_key") t.api_key = s;
            else if (key == "download_host") {
                if (s != "same" && s != "foreign") return fail(errc::config, at + ": must be \"same\" or \"foreign\"");
                t.download_host = s;
            } else if (key == "spelling") {
                if (s != "sample" && s != "table") return fail(errc::config, at + ": must be \"sample\" or \"table\"");
                t.spelling = s;
            } else {
                if (s != "keep" && s != "restamp") return fail(errc::config, at + ": must be \"keep\" or \"restamp\"");
                t.import_ids = s;
            }
        } else if (key == "import_deploys") {
            if (!v.is_bool()) return fail(errc::config, at + ": must be true or false");
            t.import_deploys = v.get_bool();
        } else if (key == "job_duration_ms") {
            if (!v.is_int64() || v.get_int64() < 0 || v.get_int64() > 3'600'000)
                return fail(errc::config, at + ": must be an integer from 0 to 3600000");
            t.job_duration_ms = static_cast<int>(v.get_int64());
        } else if (key == "workflows") {
            if (!v.is_array()) return fail(errc::config, at + ": must be an array");
            std::size_t i = 0;
            for (const auto& w : v.get_array()) {
                const std::string wat = fmt::format("{}[{}]", at, i++);
                if (!w.is_object()) return fail(errc::config, wat + ": must be an object");
                kore_workflow wf;
                for (const auto& wkv : w.get_object()) {
                    std::string_view wk = wkv.key();
                    const auto& wv = wkv.value();
                    if (wk == "id" || wk == "flow_id" || wk == "name" || wk == "package") {
                        if (!wv.is_string()) return fail(errc::config, fmt::format("{}.{}: must be a string", wat, wk));
                        std::string s(wv.get_string());
                        if (wk == "id") wf.id = s;
                        else if (wk == "flow_id") wf.flow_id = s;
                        else if (wk == "name") wf.name = s;
                        else {
                            if (s != "normal" && s != "bomb" && s != "dotdot" && s != "missing_env" && s != "not_zip")
                                return fail(errc::config, fmt::format("{}.package: '{}' is not one of normal, bomb, "
                                                                      "dotdot, missing_env, not_zip",
                                                                      wat, s));
                            wf.package = s;
                        }
                    } else if (wk == "versions") {
                        if (!wv.is_array()) return fail(errc::config, wat + ".versions: must be an array");
                        std::size_t k = 0;
                        for (const auto& ver : wv.get_array()) {
                            auto r = version_from_seed(ver, fmt::format("{}.versions[{}]", wat, k), k);
                            if (!r) return r.error();
                            wf.versions.push_back(std::move(*r));
                            ++k;
                        }
                    } else {
                        return fail(errc::config, fmt::format("{}: unknown key '{}'", wat, wk));
                    }
                }
                if (wf.id.empty()) return fail(errc::config, wat + ".id: is required");
                if (wf.flow_id.empty()) wf.flow_id = "cf-" + wf.id;
                if (wf.name.empty()) wf.name = wf.id;
                if (find_workflow(t, wf.id)) return fail(errc::config, fmt::format("{}.id: '{}' appears twice", wat, wf.id));
                if (!wf.versions.empty()) wf.deployed = wf.versions.size() - 1;
                t.workflows.push_back(std::move(wf));
            }
        } else {
            return fail(errc::config, fmt::format("{}: unknown key '{}' (kore tenants take platform, api_key, "
                                                  "job_duration_ms, download_host, spelling, import_ids, "
                                                  "import_deploys, workflows)",
                                                  where, key));
        }
    }
    if (t.api_key.empty()) return fail(errc::config, where + ".api_key: is required");
    return t;
}

result<std::string> kore_add_version(kore_tenant& t, const std::string& workflow_id, const json::object& doc)
{
    settle(t);
    auto* wf = find_workflow(t, workflow_id);
    if (!wf) return fail(errc::not_found, fmt::format("workflow {} not found in tenant '{}'", workflow_id, t.name));
    auto v = version_from_seed(doc, "version document", wf->versions.size());
    if (!v) return fail(errc::invalid_argument, v.error().message);
    wf->versions.push_back(std::move(*v));
    wf->deployed = wf->versions.size() - 1;
    return wf->versions.back().label;
}

result<std::string> kore_edit_version(kore_tenant& t, const std::string& workflow_id, const std::string& label,
                                      const json::object& doc)
{
    settle(t);
    auto* wf = find_workflow(t, workflow_id);
    if (!wf) return fail(errc::not_found, fmt::format("workflow {} not found in tenant '{}'", workflow_id, t.name));
    auto v = std::find_if(wf->versions.rbegin(), wf->versions.rend(),
                          [&](const kore_version& x) { return x.label == label; });
    if (v == wf->versions.rend())
        return fail(errc::not_found, fmt::format("workflow {} has no version '{}'", workflow_id, label));
    // The same keys as add_version; only the documents given are replaced.
    auto checked = version_from_seed(doc, "version document", 0);
    if (!checked) return fail(errc::invalid_argument, checked.error().message);
    if (doc.contains("flow_definition")) v->flow = checked->flow;
    if (doc.contains("app_definition")) v->app = checked->app;
    if (doc.contains("env_variables")) v->env = checked->env;
    return v->label;
}

reply kore_error(int status, std::string_view message)
{
    return json_reply(status, json::object{{"errors", json::array{json::object{{"msg", message}, {"code", status}}}}});
}

reply handle_kore(kore_tenant& t, const kore_request& r)
{
    settle(t);
    auto seg = split_path(r.sub_path);
    if (r.on_foreign) {
        // The "storage host": only signed downloads, no API key needed or checked.
        if (seg.size() == 2 && seg[0] == "download" && r.method == "GET") return download(t, seg[1], r, true);
        return kore_error(404, fmt::format("no such path on the download host: {}", r.sub_path));
    }
    const auto* key = r.headers ? r.headers->find("x-api-key") : nullptr;
    if (!key || *key != t.api_key) return kore_error(401, "invalid or missing x-api-key");

    auto method_is = [&](std::string_view m) { return r.method == m; };
    // /api/v1/account/exports/{token}: the own-host download.
    if (seg.size() == 5 && seg[0] == "api" && seg[1] == "v1" && seg[2] == "account" && seg[3] == "exports") {
        if (!method_is("GET")) return kore_error(405, "method not allowed");
        return download(t, seg[4], r, false);
    }
    if (!r.sub_path.starts_with(api)) return kore_error(404, fmt::format("no such endpoint: {}", r.sub_path));
    // seg: api public ...
    if (seg.size() == 4 && seg[2] == "dock-status") {
        if (!method_is("GET")) return kore_error(405, "method not allowed");
        return dock_status(t, seg[3]);
    }
    if (seg.size() == 3 && seg[2] == "files") {
        if (!method_is("POST")) return kore_error(405, "method not allowed");
        return upload(t, r);
    }
    if (seg.size() == 4 && seg[2] == "workflows" && seg[3] == "import") {
        if (!method_is("POST")) return kore_error(405, "method not allowed");
        return start_import(t, std::string(), r);
    }
    if (seg.size() == 5 && seg[2] == "workflows" && (seg[4] == "export" || seg[4] == "import")) {
        if (!method_is("POST")) return kore_error(405, "method not allowed");
        if (seg[4] == "import") return start_import(t, seg[3], r);
        auto* wf = find_workflow(t, seg[3]);
        if (!wf) return kore_error(404, fmt::format("workflow {} not found", seg[3]));
        return start_export(t, *wf, r);
    }
    return kore_error(404, fmt::format("no such endpoint: {} {}", r.method, r.sub_path));
}

json::object kore_summary(kore_tenant& t)
{
    settle(t);
    json::array wfs;
    for (const auto& w : t.workflows) {
        json::array versions;
        for (std::size_t i = 0; i < w.versions.size(); ++i) {
            const auto& v = w.versions[i];
            versions.push_back(json::object{{"version", v.label}, {"deployed", w.deployed == i}, {"app", v.app},
                                            {"flow", v.flow}, {"env", v.env}});
        }
        wfs.push_back(json::object{{"id", w.id},
                                   {"flow_id", w.flow_id},
                                   {"name", w.name},
                                   {"deployed", w.deployed ? json::value(*w.deployed) : json::value(nullptr)},
                                   {"versions", versions}});
    }
    json::array jobs;
    for (const auto& [id, j] : t.jobs) jobs.push_back(summary_of(j));
    return json::object{{"platform", "kore"}, {"workflows", wfs}, {"jobs", jobs}, {"files", t.files.size()}};
}

}  // namespace wfsync::emulator::detail
