// SPDX-License-Identifier: Apache-2.0
// Internal to the emulator: the Huawei Cloud SecMaster tenants (with their IAM endpoint) and
// their routes. The variant served is described in tests/emulator/README.md, section SecMaster.
#pragma once

#include "zuora_model.hpp"

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace wfsync::emulator::detail {

struct sm_version {
    std::string id;      ///< uuid-like
    std::string label;   ///< "v1", "v2", ... (or as seeded)
    std::string status;  ///< "activated", "not_activated", ... [H-VERS]
    boost::json::object document;
    std::string created_at, updated_at;  ///< next_stamp() values; updated_at moves on PUT and edit
};

struct sm_workflow {
    std::string id;  ///< uuid-like
    std::string name, description;
    std::vector<sm_version> versions;  ///< oldest first
    /// next_stamp() values: created_at when seeded or created by import, updated_at moved by
    /// every change (new version, activation or other status change, edit in place).
    std::string created_at, updated_at;

    const sm_version* active() const;  ///< the activated version, or nullptr
};

struct secmaster_tenant {
    std::string name;
    std::string project_id, workspace_id;
    std::string iam_user, iam_domain, iam_password, iam_project;  ///< empty user = no IAM
    std::string bearer_token;  ///< optional static X-Auth-Token
    bool static_token_expired = false;
    int token_ttl_seconds = 86400;
    int limit_max = 100;
    // Switches for what the docs leave open (see secmaster_from_seed in secmaster.cpp).
    std::string import_ids = "keep";               ///< "keep" | "restamp"
    std::string export_file_name = "workflow";     ///< "workflow" | "version"
    std::string export_version = "active";         ///< "active" | "latest"
    std::string import_activation = "activate";    ///< "activate" | "leave"
    std::string activation = "direct";             ///< "direct" | "needs_approval"
    std::string version_detail = "taskflow";       ///< "taskflow" | "metadata"
    std::string labels = "v";                      ///< "v" ("v1", "v2") | "dotted" ("0.0.1", ...)
    /// What the list's items show: "full" | "labels" (no create_time/update_time) | "names"
    /// (no version, version_id, create_time, update_time).
    std::string list_detail = "full";
    std::int64_t last_stamp_ms = 0;                ///< the last next_stamp() of this tenant
    std::vector<sm_workflow> workflows;          ///< creation order
    std::map<std::string, steady_time> tokens;   ///< IAM token -> expiry
};

/// True if a seed tenant says "platform": "secmaster".
bool is_secmaster_seed(const boost::json::value& seed);

/// Builds a tenant from its seed object (keys checked; errors name the seed path).
/// `last_stamp_ms`: the last stamp of the tenant this one replaces (0 if none).
[[nodiscard]] result<secmaster_tenant> secmaster_from_seed(const std::string& name,
                                                           const boost::json::value& seed,
                                                           std::int64_t last_stamp_ms = 0);

/// {"code": code, "message": message}
reply secmaster_error(int status, std::string_view code, std::string_view message);

/// Answers one request under /t/{tenant} (IAM token at /iam/v3/auth/tokens, the SOC workflow
/// API under /v1/...: list, versions, version detail GET/PUT, export, import), checking
/// X-Auth-Token itself.
reply handle_secmaster(secmaster_tenant& t, const zuora_request& r);

/// Adds a version as if a person edited the workflow (next label, activated); `doc` is the
/// version's document, or an export file {workflow, version} whose "version" is used.
[[nodiscard]] result<std::string> secmaster_add_version(secmaster_tenant& t,
                                                        const std::string& workflow_id,
                                                        const boost::json::object& doc);

/// Replaces the document of version `label` of the workflow in place, as a person saving a
/// version in the UI without making a new one. `doc` is taken as by secmaster_add_version.
/// The version's id, label and status stay; its and the workflow's update times move.
/// Returns the label; errc::not_found for an unknown workflow or label.
[[nodiscard]] result<std::string> secmaster_edit_version(secmaster_tenant& t, const std::string& workflow_id,
                                                         const std::string& label,
                                                         const boost::json::object& doc);

/// {"workflows":[{"id","name","versions":[{"id","version","status"}]}]}
boost::json::object secmaster_summary(const secmaster_tenant& t);

/// Every IAM token and the static token now answer 401.
void secmaster_expire_tokens(secmaster_tenant& t);

}  // namespace wfsync::emulator::detail
