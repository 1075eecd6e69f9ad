// SPDX-License-Identifier: Apache-2.0
// Internal to the emulator: Kore.ai AI for Process tenants (tests/emulator/README.md,
// section Kore.ai).
#pragma once

#include "zuora_model.hpp"  // reply

#include <wfsync/core/async.hpp>
#include <wfsync/core/error.hpp>
#include <wfsync/net/http.hpp>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace wfsync::emulator::detail {

/// One stored version: the three documents of a package.
struct kore_version {
    boost::json::value flow, app, env;
    std::string label;  ///< app_definition.version if a string, else "v{n}"; restamped: "v{n}"
};

struct kore_workflow {
    std::string id, flow_id, name;
    /// What the export zip looks like: "normal", or a broken one for tests: "bomb" (a
    /// 40 MiB flow_definition.json), "dotdot" ("../flow_definition.json"), "missing_env"
    /// (no env_variables.json), "not_zip" (an HTML page answered with 200).
    std::string package = "normal";
    std::vector<kore_version> versions;  ///< oldest first
    /// Index of the deployed version (what an export returns); none while `versions` is
    /// empty. Seeded: the last seeded one. An import deploys its version when it creates the
    /// workflow, or when the tenant's import_deploys is true; add_version always deploys.
    std::optional<std::size_t> deployed;
};

struct kore_job {
    std::string id;
    std::string action;  ///< "EXPORT" | "IMPORT"
    std::string workflow_id;
    steady_time ready_at{};
    bool fail = false;     ///< ends FAILED instead of SUCCESS (fault "job_failed")
    bool settled = false;  ///< an import's version was stored
    // export
    std::string token, sig;             ///< download path token, and the foreign host's signature
    std::optional<kore_version> snapshot;
    std::string package = "normal";
    // import
    std::optional<kore_version> incoming;
    bool create = false;
    std::string new_name;
};

struct kore_file {
    std::string name;
    std::string data;
};

struct kore_tenant {
    std::string name;
    std::string api_key;
    int job_duration_ms = 0;
    std::string download_host = "same";  ///< "same" | "foreign"
    std::string spelling = "sample";     ///< "sample" | "table": which field names answers use
    std::string import_ids = "keep";     ///< "keep" | "restamp": see kore_tenant_from_seed
    bool import_deploys = true;          ///< an import into an existing workflow deploys its version
    std::vector<kore_workflow> workflows;
    std::map<std::string, kore_job> jobs;
    std::map<std::string, kore_file> files;
    std::int64_t next_id = 1;
};

/// True if a seed tenant object says "platform": "kore".
bool is_kore_seed(const boost::json::value& seed);

/// Builds a Kore tenant from its seed object; errors name the seed path.
[[nodiscard]] result<kore_tenant> kore_tenant_from_seed(const std::string& name, const boost::json::value& seed);

struct kore_request {
    std::string method;
    std::string sub_path;  ///< path after /t/{tenant}
    std::string query;
    const net::header_list* headers = nullptr;
    std::string body;
    std::string own_base;      ///< http://127.0.0.1:PORT/t/{tenant}
    std::string foreign_base;  ///< the second listener's http://127.0.0.1:PORT2/t/{tenant}
    bool on_foreign = false;   ///< arrived on the second listener
    bool fail_job = false;     ///< a "job_failed" fault fired on this request
};

/// Adds a version as if a person edited the workflow in the UI; it becomes the deployed one.
/// `doc` is {flow_definition, app_definition, env_variables} (as a seeded version, each
/// optional). Returns the version's label.
[[nodiscard]] result<std::string> kore_add_version(kore_tenant& t, const std::string& workflow_id,
                                                   const boost::json::object& doc);

/// Replaces documents of version `label` (the newest of that label) in place, as a person
/// saving a version in the UI without making a new one: each of flow_definition,
/// app_definition, env_variables given in `doc` replaces that document; the others stay.
/// The label and which version is deployed do not change (even when app_definition.version
/// says otherwise). Returns the label; errc::not_found for an unknown workflow or label,
/// errc::invalid_argument for another key.
[[nodiscard]] result<std::string> kore_edit_version(kore_tenant& t, const std::string& workflow_id,
                                                    const std::string& label, const boost::json::object& doc);

/// Answers one Kore.ai call (auth included; faults other than job_failed are handled before).
reply handle_kore(kore_tenant& t, const kore_request& r);

/// {"platform":"kore","workflows":[{"id","flow_id","name","deployed":index|null,
///  "versions":[{"version","deployed":bool,"app","flow","env"}]}],
///  "jobs":[{"id","action","status","workflow_id"}],"files":N}. Settles due jobs first.
boost::json::object kore_summary(kore_tenant& t);

/// Error body of Kore tenants: {"errors":[{"msg":message,"code":status}]} [UNKNOWN] shape.
reply kore_error(int status, std::string_view message);

}  // namespace wfsync::emulator::detail
