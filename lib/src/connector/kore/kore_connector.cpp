// SPDX-License-Identifier: Apache-2.0
#include "kore_connector.hpp"

#include "../connector_detail.hpp"
#include "kore_mapping.hpp"

#include <wfsync/core/log.hpp>
#include <wfsync/core/zip.hpp>
#include <wfsync/net/multipart.hpp>


#include <fmt/format.h>

#include <algorithm>

namespace wfsync::connector::kore {
namespace asio = boost::asio;

namespace {


net::client_settings client_settings_for(const config::tenant& t)
{
    net::client_settings s = detail::client_settings_for(t);
    s.default_headers.set("Accept", "application/json");
    // The key is NOT a default header: it is added per request, only for the tenant's own
    // origin (see call()).
    return s;
}

bool is_2xx(int status) { return status >= 200 && status < 300; }

}  // namespace

result<std::unique_ptr<connector>> make_kore_connector(executor ex, const config::tenant& t)
{
    auto bad = [&](std::string_view why) { return fail(errc::config, fmt::format("tenant {}: {}", t.name, why)); };
    if (!t.base_url.starts_with("http://") && !t.base_url.starts_with("https://"))
        return bad(fmt::format("base_url '{}' is not an http:// or https:// URL", t.base_url));
    if (t.auth.type != config::auth_type::api_key) return bad("Kore.ai supports only api_key auth");
    if (t.auth.api_key.empty()) return bad("api_key auth needs a key");
    return std::unique_ptr<connector>(new kore_connector(std::move(ex), t));
}

kore_connector::kore_connector(executor ex, const config::tenant& t)
    : name_(t.name),
      base_url_(t.base_url),
      api_key_(t.auth.api_key.reveal()),
      paths_(t.kore),
      workflows_(t.workflows),
      client_(ex, client_settings_for(t))
{
    // The config loader registers it already; a tenant built in code gets the same masking.
    log::add_secret(api_key_);
    client_.on_attempt([name = name_](const net::attempt_record& rec) { detail::notify_attempt(name, rec); });
}

kore_connector::~kore_connector() = default;

std::string kore_connector::prefix(std::string_view what) const
{
    return fmt::format("tenant {}: {}", name_, what);
}

void kore_connector::set_run_id(const std::string&) {}

std::string kore_connector::flow_id_of(const std::string& workflow_id) const
{
    for (const auto& w : workflows_)
        if (w.id == workflow_id) return w.flow_id;
    return {};
}

// ---------------------------------------------------------------------------------------
// Calls

awaitable<result<net::http_response>> kore_connector::call(net::http_request req, const std::string& what)
{
    const bool own = req.absolute_url.empty() || same_origin(base_url_, req.absolute_url);
    if (own) req.headers.set("x-api-key", api_key_);
    const bool foreign = !own;
    auto r = co_await client_.send(std::move(req));
    if (!r) {
        auto e = r.error();
        e.message = log::redact(e.message);
        co_return std::move(e).context(prefix(what));
    }
    if (!is_2xx(r->status)) {
        auto e = status_error(prefix(what), r->status, r->body);
        if (foreign && (r->status == 401 || r->status == 403))
            e.message += " (the API key is not sent to a host other than the tenant's)";
        co_return e;
    }
    co_return std::move(*r);
}

awaitable<result<net::http_response>> kore_connector::dock_status(const std::string& job_id, const std::string& what)
{
    net::http_request req;
    req.target = expand_path(paths_.dock_status_path, job_id);
    co_return co_await call(std::move(req), what);
}

awaitable<result<void>> kore_connector::check_login()
{
    // No API only reads who the key belongs to; the dock status of a job that cannot exist
    // is the smallest call: 404 = the key was accepted, 401/403 = refused.
    const std::string what = "check login";
    const std::string probe = "wfsync-login-check";  // named: see the GCC 12 note in common.md
    auto r = co_await dock_status(probe, what);
    if (!r && r.error().code != errc::not_found) co_return r.error();
    co_return result<void>{};
}

awaitable<result<std::vector<workflow_summary>>> kore_connector::list_workflows()
{
    // [K-OVR]: no list API; the config names the workflows.
    std::vector<workflow_summary> out;
    for (const auto& w : workflows_) {
        workflow_summary s;
        s.id = w.id;
        s.name = w.name.empty() ? w.id : w.name;
        s.active_version = std::string(deployed_version);
        s.latest_version = std::string(deployed_version);
        out.push_back(std::move(s));
    }
    co_return out;
}

awaitable<result<std::vector<version_summary>>> kore_connector::list_versions(const std::string&)
{
    // No API lists versions, and the export API exports the deployed call flow (flowId), so
    // the one version that can be read is "deployed" [K-OVR], [SEED 002], [SEED 004].
    version_summary v;
    v.id = std::string(deployed_version);
    v.version = std::string(deployed_version);
    v.status = "deployed";
    v.active = true;
    co_return std::vector<version_summary>{std::move(v)};
}

awaitable<result<export_job>> kore_connector::start_export(const workflow_summary& wf, const version_ref&)
{
    // Every version_ref reads the deployed call flow: it is the only version there is an
    // API for (see list_versions).
    const std::string what = fmt::format("export of workflow {}", wf.id);
    net::http_request req;
    req.method = "POST";
    req.target = expand_path(paths_.export_path, wf.id);
    // [SEED 002] lists flowId as required, its sample omits it: sent when configured.
    if (auto flow = flow_id_of(wf.id); !flow.empty())
        req.target += (req.target.find('?') == std::string::npos ? "?flowId=" : "&flowId=") + net::url_encode(flow);
    req.content_type = "application/json";  // no body, but the docs ask for the header
    req.headers.set("Content-Type", "application/json");
    req.repeatable = true;  // a second export job is harmless; a lost one is not
    auto r = co_await call(std::move(req), what);
    if (!r) co_return r.error();
    auto job = parse_export_start(r->body, prefix(what));
    if (!job) co_return job.error();
    log::info({.tenant = name_}, "{}: job {} started", what, job->job_id);
    co_return std::move(*job);
}

awaitable<result<std::string>> kore_connector::download(const std::string& url, const std::string& what)
{
    net::http_request req;
    req.absolute_url = url;
    req.headers.set("Accept", "application/zip, application/octet-stream, */*");
    auto r = co_await call(std::move(req), what);
    if (!r) co_return r.error();
    co_return std::move(r->body);
}

awaitable<result<export_job>> kore_connector::poll_export(const workflow_summary& wf, const export_job& job)
{
    const std::string what = fmt::format("export job {} of workflow {}", job.job_id, wf.id);
    if (job.job_id.empty()) co_return fail(errc::invalid_argument, prefix(what + ": no job id"));
    auto r = co_await dock_status(job.job_id, what);
    if (!r) co_return r.error();
    auto st = parse_job(r->body, false, prefix(what));
    if (!st) co_return st.error();
    export_job out = job;
    if (out.download_url.empty()) out.download_url = st->download_url;
    switch (st->status) {
    case job_status::in_progress:
        co_return out;
    case job_status::failed:
        // The dock status gives no reason [K-DOCK].
        co_return fail(errc::conflict, prefix(fmt::format("{}: the platform reports the job FAILED", what)));
    case job_status::success:
        break;
    }
    auto url = resolve_download_url(base_url_, out.download_url, prefix(what));
    if (!url) co_return url.error();
    const std::string dl_what = fmt::format("download of export job {} of workflow {}", job.job_id, wf.id);
    auto bytes = co_await download(*url, dl_what);
    if (!bytes) co_return bytes.error();
    auto files = unzip(*bytes, package_limits());
    if (!files) {
        auto e = files.error();
        co_return std::move(e).context(prefix(dl_what));
    }
    auto pkg = package_from_files(*files, wf, prefix(dl_what));
    if (!pkg) co_return pkg.error();
    log::info({.tenant = name_}, "{}: package of {} bytes, version {}", what, bytes->size(), pkg->version);
    out.done = true;
    out.result = std::move(*pkg);
    co_return out;
}

awaitable<result<std::string>> kore_connector::upload(const std::string& member, const std::string& data,
                                                      const std::string& what)
{
    std::vector<net::multipart_part> parts(2);
    parts[0].name = "file";
    parts[0].filename = member;
    parts[0].content_type = "application/json";
    parts[0].data = data;
    parts[1].name = "fileContext";
    parts[1].data = "bulkImport";
    auto mp = net::make_multipart(parts);
    net::http_request req;
    req.method = "POST";
    req.target = paths_.files_path;
    req.content_type = std::move(mp.content_type);
    req.body = std::move(mp.body);
    req.repeatable = true;  // an uploaded file is only used once an import names it
    auto r = co_await call(std::move(req), what);
    if (!r) co_return r.error();
    co_return parse_upload(r->body, prefix(what));
}

awaitable<result<import_result>> kore_connector::import_package(const import_request& r)
{
    const bool create = r.target_workflow.empty();
    std::string new_name;
    if (create) new_name = !r.target_name.empty() ? r.target_name : r.content ? r.content->workflow_name : std::string();
    const std::string what = create ? fmt::format("import of new workflow '{}'", new_name)
                                    : fmt::format("import into workflow {}", r.target_workflow);
    if (!r.content) co_return fail(errc::invalid_argument, prefix(what + ": no package given"));
    if (r.content->format != "kore-zip") {
        co_return fail(errc::invalid_argument,
                       prefix(fmt::format("{}: a '{}' package cannot be imported into Kore.ai", what, r.content->format)));
    }
    if (create && new_name.empty()) co_return fail(errc::invalid_argument, prefix(what + ": a new workflow needs a name"));
    // No idempotency keys exist here [K-IMPN]: r.idempotency_key is deliberately not sent;
    // the engine's write-ahead intent guards against a second import.

    file_ids ids;
    const std::pair<std::string_view, std::string*> members[] = {
        {app_file, &ids.workflow_data}, {flow_file, &ids.flow_data}, {env_file, &ids.env_variables}};
    for (const auto& [member, out] : members) {
        auto it = r.content->files.find(std::string(member));
        if (it == r.content->files.end())
            co_return fail(errc::invalid_argument, prefix(fmt::format("{}: the package has no {}", what, member)));
        const std::string up_what = fmt::format("{}: upload of {}", what, member);
        auto id = co_await upload(it->first, it->second, up_what);
        if (!id) co_return id.error();
        *out = std::move(*id);
    }

    net::http_request req;
    req.method = "POST";
    req.target = create ? paths_.import_new_path : expand_path(paths_.import_path, r.target_workflow);
    req.content_type = "application/json";
    req.body = import_body(ids, new_name);
    auto resp = co_await call(std::move(req), what);
    if (!resp) co_return resp.error();
    auto out = parse_import_start(resp->body, r.target_workflow, prefix(what));
    if (!out) {
        if (out.error().code == errc::conflict) co_return out.error();
        // 2xx: the import has most likely started; what it is cannot be read from the answer.
        auto e = out.error();
        e.code = errc::unknown_outcome;
        e.http_status = resp->status;
        co_return e;
    }
    out->version = !r.version.empty() ? r.version : r.content->version;
    log::info({.tenant = name_}, "{}: job {} ({})", what, out->job_id, out->done ? "done" : "running");
    co_return std::move(*out);
}

awaitable<result<import_result>> kore_connector::poll_import(const import_result& job)
{
    if (job.done || job.job_id.empty()) co_return job;
    const std::string what = fmt::format("import job {} into workflow {}", job.job_id,
                                         job.target_workflow.empty() ? std::string("(new)") : job.target_workflow);
    auto r = co_await dock_status(job.job_id, what);
    if (!r) co_return r.error();
    auto st = parse_job(r->body, false, prefix(what));
    if (!st) co_return st.error();
    import_result out = job;
    switch (st->status) {
    case job_status::in_progress:
        co_return out;
    case job_status::failed:
        co_return fail(errc::conflict, prefix(fmt::format("{}: the platform reports the job FAILED", what)));
    case job_status::success:
        break;
    }
    out.done = true;
    if (!st->workflow_id.empty()) out.target_workflow = st->workflow_id;
    co_return out;
}

}  // namespace wfsync::connector::kore
