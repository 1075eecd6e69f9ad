// SPDX-License-Identifier: Apache-2.0
// Private header: the Zuora Workflow connector (api-reference.md section 1).
#pragma once

#include "../token_cache.hpp"

#include <wfsync/config/config.hpp>
#include <wfsync/connector/connector.hpp>
#include <wfsync/net/http_client.hpp>

#include <cstdint>
#include <memory>
#include <string>

namespace wfsync::connector::zuora {

/// Zuora Workflow over its v1 REST API, with one http_client per tenant.
///
/// Auth: oauth2 client credentials (token cached until shortly before it expires, one fetch
/// shared by concurrent callers, one refresh and retry on a 401) or a static bearer token.
///
/// Thread safety: use from the executor's one thread only.
class zuora_connector final : public connector {
public:
    zuora_connector(executor ex, const config::tenant& t);
    ~zuora_connector() override;

    const std::string& tenant() const noexcept override { return name_; }
    awaitable<result<void>> check_login() override;
    awaitable<result<std::vector<workflow_summary>>> list_workflows() override;
    awaitable<result<std::vector<version_summary>>> list_versions(const std::string& workflow_id) override;
    awaitable<result<export_job>> start_export(const workflow_summary& wf, const version_ref& v) override;
    awaitable<result<export_job>> poll_export(const workflow_summary& wf, const export_job& job) override;
    awaitable<result<import_result>> import_package(const import_request& r) override;
    void set_run_id(const std::string& run_id) override;

    /// Workflows asked for per page of GET /workflows.
    static constexpr int page_length = 50;
    /// Upper bound on pages of one listing (guards against a server that never ends).
    static constexpr int max_pages = 10000;

private:
    /// The current access token, fetching one if there is none or it is due for refresh.
    awaitable<result<std::string>> access_token();
    /// POST /oauth/token once.
    awaitable<result<detail::fetched_token>> fetch_token();

    /// Sends an API call with the bearer token; a 401 refreshes the token and retries once.
    /// Non-2xx answers and 200s with "success": false become errors named by `what`.
    awaitable<result<net::http_response>> call(net::http_request req, const std::string& what,
                                               bool write);

    /// "tenant NAME: " + what.
    std::string prefix(std::string_view what) const;

    std::string name_;
    config::auth_settings auth_;
    std::string base_url_;
    net::http_client client_;

    detail::token_cache tokens_;  ///< oauth2 tokens
};

/// Checks the tenant's Zuora settings (base URL, auth type and credentials present) and
/// builds the connector; problems are errc::config naming the tenant.
[[nodiscard]] result<std::unique_ptr<connector>> make_zuora_connector(executor ex,
                                                                      const config::tenant& t);

}  // namespace wfsync::connector::zuora
