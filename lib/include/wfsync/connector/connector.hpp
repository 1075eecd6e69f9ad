// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <wfsync/connector/model.hpp>
#include <wfsync/core/async.hpp>
#include <wfsync/core/error.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace wfsync::config {
struct tenant;
}
namespace wfsync::net {
class http_client;
struct attempt_record;
}

namespace wfsync::connector {

/// One tenant of one platform. The engine only ever sees this interface.
/// Thread safety: use from the executor's one thread only.
class connector {
public:
    virtual ~connector() = default;

    /// The tenant's name in the config.
    virtual const std::string& tenant() const noexcept = 0;

    /// Logs in (or checks the static credential) so that `wfsync check` can report it.
    [[nodiscard]] virtual awaitable<result<void>> check_login() = 0;

    /// Every workflow definition in the tenant (all pages).
    [[nodiscard]] virtual awaitable<result<std::vector<workflow_summary>>> list_workflows() = 0;

    /// Every version of one definition.
    [[nodiscard]] virtual awaitable<result<std::vector<version_summary>>> list_versions(
        const std::string& workflow_id) = 0;

    /// Starts an export. Synchronous platforms return it finished.
    [[nodiscard]] virtual awaitable<result<export_job>> start_export(const workflow_summary& wf,
                                                                     const version_ref& v) = 0;

    /// Polls an export job once; returns it done (with its package) or still running.
    [[nodiscard]] virtual awaitable<result<export_job>> poll_export(const workflow_summary& wf,
                                                                    const export_job& job) = 0;

    /// Imports a package as a new version of a definition, or as a new definition.
    /// Asynchronous platforms return `done == false` with the job id to record and poll.
    [[nodiscard]] virtual awaitable<result<import_result>> import_package(const import_request& r) = 0;

    /// Polls an import job once; returns it done (with the target workflow) or still running.
    /// A job the platform reports FAILED is an error. Synchronous platforms never return a job.
    [[nodiscard]] virtual awaitable<result<import_result>> poll_import(const import_result& job)
    {
        co_return job;
    }

    /// Reads one version's content, any version (not only the active one), where the platform
    /// has an API for it other than the export (SecMaster's version detail). nullopt: the
    /// platform reads versions by export only; the engine exports the exact version.
    [[nodiscard]] virtual awaitable<result<std::optional<package>>> read_version(const workflow_summary& wf,
                                                                                const version_summary& v)
    {
        co_return std::nullopt;
    }

    /// How much of what was written the platform's API shows (see write_visibility).
    virtual write_visibility visibility() const noexcept { return write_visibility::every_version; }

    /// Sets the value the platform's trace header carries for this run (Zuora-Track-Id).
    virtual void set_run_id(const std::string& run_id) = 0;
};

/// Builds the connector for a tenant of the config. The client's settings come from the
/// tenant (base URL, TLS, timeouts, limits).
[[nodiscard]] result<std::unique_ptr<connector>> make_connector(executor ex, const config::tenant& t);

/// Called after each HTTP attempt of any connector made by make_connector (metrics, tests).
void set_attempt_observer(std::function<void(const std::string& tenant, const net::attempt_record&)> f);

}  // namespace wfsync::connector
