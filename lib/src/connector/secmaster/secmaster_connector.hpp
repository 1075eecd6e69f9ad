// SPDX-License-Identifier: Apache-2.0
// Private header: the Huawei Cloud SecMaster connector (api-reference.md section 3).
#pragma once

#include "../token_cache.hpp"

#include <wfsync/config/config.hpp>
#include <wfsync/connector/connector.hpp>
#include <wfsync/net/http_client.hpp>

#include <cstdint>
#include <memory>
#include <string>

namespace wfsync::connector::secmaster {

/// SecMaster's SOC workflow API (/v1/{project_id}/workspaces/{workspace_id}/soc/workflows),
/// with one http_client per tenant.
///
/// Auth: an IAM user token from POST {iam_url}/v3/auth/tokens (X-Subject-Token header,
/// cached until 5 minutes before token.expires_at, one fetch shared by concurrent callers,
/// one refresh and retry on a 401), or a static token (`bearer`), both sent as X-Auth-Token.
///
/// Exports are synchronous: one workflow per request, the answer's bytes kept as the
/// package's one file. Imports upload that file (multipart field `uploadFile`). The import
/// answer names nothing ([UNKNOWN] whether it creates a workflow or a version, and which), so
/// the connector finds the target afterwards by listing and matching the workflow's name; the
/// file's workflow.name is set to the target's name first when the file is JSON. There is no
/// idempotency key: the engine's write-ahead intent guards against double imports. After an
/// import the version is activated when the rule asks for it (PUT .../versions/{id} with
/// status "activated", then its status read back); an import the platform activated by itself
/// against `activate: false` is reported, not undone. Any version is read back through the
/// version detail API (read_version), the export giving only the activated one.
///
/// Thread safety: use from the executor's one thread only.
class secmaster_connector final : public connector {
public:
    secmaster_connector(executor ex, const config::tenant& t);
    ~secmaster_connector() override;

    const std::string& tenant() const noexcept override { return name_; }
    awaitable<result<void>> check_login() override;
    awaitable<result<std::vector<workflow_summary>>> list_workflows() override;
    awaitable<result<std::vector<version_summary>>> list_versions(const std::string& workflow_id) override;
    awaitable<result<export_job>> start_export(const workflow_summary& wf, const version_ref& v) override;
    awaitable<result<export_job>> poll_export(const workflow_summary& wf, const export_job& job) override;
    awaitable<result<import_result>> import_package(const import_request& r) override;
    /// The version detail API [H-SHOWV]: any version, not only the activated one the export gives.
    awaitable<result<std::optional<package>>> read_version(const workflow_summary& wf,
                                                           const version_summary& v) override;
    void set_run_id(const std::string& run_id) override;

    /// Workflows asked for per page (the documented maximum [H-LIST]).
    static constexpr int page_limit = 100;
    /// Upper bound on pages of one listing (offset's documented range is 0-10,000).
    static constexpr int max_pages = 1000;

    /// IAM tokens fetched so far (tests check that many calls share one).
    std::uint64_t token_fetches() const noexcept { return tokens_.fetches(); }

private:
    awaitable<result<std::string>> auth_token();
    awaitable<result<detail::fetched_token>> fetch_token();

    /// Sends a SecMaster call with X-Auth-Token; a 401 refreshes an IAM token and retries
    /// once. Non-2xx answers and "success": false bodies become errors named by `what`.
    awaitable<result<net::http_response>> call(net::http_request req, const std::string& what,
                                               bool write);

    /// Activates an imported version as the rule asks [H-UPDV] and reads its status back;
    /// fills the result's note, or its activation_error when the platform refuses.
    awaitable<void> settle_activation(const import_request& r, import_result& out, const std::string& what);

    /// "/v1/{project_id}/workspaces/{workspace_id}/soc/workflows" + rest.
    std::string api(std::string_view rest) const;
    /// "tenant NAME: " + what.
    std::string prefix(std::string_view what) const;

    std::string name_;
    config::auth_settings auth_;
    std::string project_id_;
    std::string workspace_id_;
    net::http_client client_;

    detail::token_cache tokens_;  ///< IAM tokens
    bool detail_without_content_logged_ = false;
};

/// Checks the tenant's SecMaster settings (base URL, project and workspace ids, auth type and
/// credentials) and builds the connector; problems are errc::config naming the tenant.
[[nodiscard]] result<std::unique_ptr<connector>> make_secmaster_connector(executor ex,
                                                                          const config::tenant& t);

}  // namespace wfsync::connector::secmaster
