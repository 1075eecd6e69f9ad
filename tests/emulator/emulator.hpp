// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <wfsync/core/async.hpp>
#include <wfsync/core/error.hpp>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <memory>
#include <string>
#include <string_view>

/// A fake Zuora (Workflow API), Kore.ai (AI for Process) and Huawei SecMaster that serves
/// any number of tenants on loopback, for tests, the demo and the benchmark. Where the
/// platforms' docs leave a behaviour open, per-tenant seed switches choose it (kore.cpp
/// kore_tenant_from_seed, secmaster.cpp secmaster_from_seed). The contract it follows is
/// tests/emulator/README.md. It shares no code with the connectors it imitates, so the two
/// cannot agree on a mistake.
namespace wfsync::emulator {

struct options {
    std::string listen = "127.0.0.1:0";  ///< host:port; port 0 = any free port
    std::string cert_file, key_file;     ///< both set = HTTPS
};

/// Thread safety: the server runs on `ex`; the direct-access members (requests, add_fault,
/// add_version, state, ...) lock the shared state and may be called from any thread.
class emulator {
public:
    emulator(executor ex, options o);
    ~emulator();
    emulator(const emulator&) = delete;
    emulator& operator=(const emulator&) = delete;

    /// Loads tenants from seed JSON (see tests/emulator/README.md). A tenant already loaded
    /// under the same name is replaced. May be called before or after start().
    [[nodiscard]] result<void> load_seed(std::string_view json_text);
    [[nodiscard]] result<void> start();
    std::string base_url() const;                             ///< "http://127.0.0.1:PORT"
    std::string tenant_url(const std::string& tenant) const;  ///< base_url() + "/t/" + tenant
    void stop();

    // Direct access for in-process tests (the same data the control API serves).
    /// The request log, oldest first; only `tenant`'s requests when given.
    boost::json::array requests(const std::string& tenant = {}) const;
    void clear_requests();
    /// How many requests arrived since start: the last `seq` logged. Cheap, for polling.
    std::int64_t request_count() const;
    /// Adds a fault (fields as POST /_emulator/faults).
    [[nodiscard]] result<void> add_fault(const boost::json::object& fault);
    void clear_faults();
    /// Adds a version as if a person edited the workflow in the UI; returns its label.
    /// Zuora and SecMaster take an export document; Kore.ai takes {flow_definition,
    /// app_definition, env_variables}, and the new version becomes the deployed one.
    [[nodiscard]] result<std::string> add_version(const std::string& tenant,
                                                  const std::string& workflow_id,
                                                  const boost::json::object& export_doc);
    /// Changes version `label` of a workflow in place, as if a person saved it in the UI
    /// without making a new version. `doc` takes the shapes add_version takes. Zuora: that
    /// version's tasks (renumbered), linkages and workflow object are replaced; SecMaster: its
    /// document; Kore.ai: the documents given. Labels, version ids and which version is
    /// active/deployed stay; the workflow's update time moves (Zuora, SecMaster).
    /// errc::not_found for an unknown tenant, workflow or label; invalid_argument for a bad
    /// document (which changes nothing).
    [[nodiscard]] result<void> edit_version(const std::string& tenant, const std::string& workflow_id,
                                            const std::string& label, const boost::json::object& doc);
    /// Makes every token of `tenant` answer 401.
    [[nodiscard]] result<void> expire_tokens(const std::string& tenant);
    /// The tenant's workflows and versions: {"workflows":[{"id","name","versions":[...]}]}.
    /// Zuora versions carry {"id","version","status","tasks_count","tasks"}; SecMaster {"id",
    /// "version","status","document"}; Kore.ai workflows a "deployed" index and versions
    /// {"version","deployed","app","flow","env"} (see kore_summary, secmaster_summary).
    boost::json::object state(const std::string& tenant) const;

    struct impl;

private:
    std::shared_ptr<impl> impl_;
};

}  // namespace wfsync::emulator
