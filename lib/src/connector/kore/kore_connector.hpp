// SPDX-License-Identifier: Apache-2.0
// Private header: the Kore.ai AI for Process connector (api-reference.md section 2).
#pragma once

#include <wfsync/config/config.hpp>
#include <wfsync/connector/connector.hpp>
#include <wfsync/net/http_client.hpp>

#include <memory>
#include <string>
#include <vector>

namespace wfsync::connector::kore {

/// Kore.ai AI for Process over its public API, with one http_client per tenant.
///
/// - Auth: the `x-api-key` header. It goes to the tenant's own scheme://host:port only;
///   a download URL on any other origin gets no key.
/// - Workflows come from the tenant's config (there is no list API) and have one version,
///   "deployed": the export API exports the deployed call flow (flowId) and no API lists
///   versions [K-OVR], [SEED 004].
/// - Exports and imports are jobs tracked by dock status: start_export / import_package
///   return the job, poll_export / poll_import ask once. A job the platform reports FAILED
///   is errc::conflict (a definitive refusal by the platform, not a transient error: the
///   engine records the job as failed instead of polling it again, and the next run starts
///   a new one).
/// - Packages are zips of flow_definition.json, app_definition.json and env_variables.json,
///   read with the caps of package_limits(). Their contents are never logged or quoted in
///   errors (env_variables.json may hold secrets).
/// - No idempotency keys exist on this platform; none are sent.
///
/// Thread safety: use from the executor's one thread only.
class kore_connector final : public connector {
public:
    kore_connector(executor ex, const config::tenant& t);
    ~kore_connector() override;

    const std::string& tenant() const noexcept override { return name_; }
    awaitable<result<void>> check_login() override;
    awaitable<result<std::vector<workflow_summary>>> list_workflows() override;
    awaitable<result<std::vector<version_summary>>> list_versions(const std::string& workflow_id) override;
    awaitable<result<export_job>> start_export(const workflow_summary& wf, const version_ref& v) override;
    awaitable<result<export_job>> poll_export(const workflow_summary& wf, const export_job& job) override;
    awaitable<result<import_result>> import_package(const import_request& r) override;
    awaitable<result<import_result>> poll_import(const import_result& job) override;
    /// No API lists workflows or versions; the export gives the deployed version only.
    write_visibility visibility() const noexcept override { return write_visibility::exported_only; }
    /// Kore.ai documents no trace header: nothing to set.
    void set_run_id(const std::string& run_id) override;

private:
    /// Sends `req` (relative to the base URL, or to req.absolute_url) with the API key when
    /// the destination is the tenant's own origin. Non-2xx answers become errors named by
    /// `what`; transport errors are redacted.
    awaitable<result<net::http_response>> call(net::http_request req, const std::string& what);
    /// GET dock status of `job_id`.
    awaitable<result<net::http_response>> dock_status(const std::string& job_id, const std::string& what);
    /// POST files_path multipart; returns the fileId.
    awaitable<result<std::string>> upload(const std::string& member, const std::string& data,
                                          const std::string& what);
    /// GET the package zip; the key only for the tenant's own origin.
    awaitable<result<std::string>> download(const std::string& url, const std::string& what);

    /// The configured flow id of a workflow, empty if the config does not list it.
    std::string flow_id_of(const std::string& workflow_id) const;
    std::string prefix(std::string_view what) const;

    std::string name_;
    std::string base_url_;
    std::string api_key_;
    config::kore_paths paths_;
    std::vector<config::named_workflow> workflows_;
    net::http_client client_;
};

/// Checks the tenant's Kore.ai settings (base URL, api_key auth with a key) and builds the
/// connector; problems are errc::config naming the tenant.
[[nodiscard]] result<std::unique_ptr<connector>> make_kore_connector(executor ex, const config::tenant& t);

}  // namespace wfsync::connector::kore
