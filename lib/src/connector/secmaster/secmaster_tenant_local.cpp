// SPDX-License-Identifier: Apache-2.0
// Huawei Cloud SecMaster: what in an exported workflow file is the tenant's, not the
// workflow's. The export format is [UNKNOWN] (api-reference.md section 3); the names below
// are the API's own spellings of ids, owners and times (AopWorkflowInfo, AopWorkflowVersionInfo).
#include "secmaster_mapping.hpp"

namespace wfsync::connector::secmaster {

const tenant_local_fields tenant_local{
    // Identifiers: the workflow's, each version's and each action's ids, and references to
    // objects of the workspace (dataclass_id, playbook_id, the project, workspace and
    // domain): each tenant has its own. A person's change of the data class shows in
    // dataclass_name, which is content.
    .id_names = {"id"},
    .id_suffixes = {"_id", "Id", "_ids"},
    // Where an action names the action that follows it or a link its ends.
    .reference_names = {"next", "source", "target", "from", "to", "parent"},
    // Who touched it when, at any depth.
    .dropped = {"create_time", "update_time", "creator_name", "modifier_name", "approve_name", "approve_time"},
    // The workflow's switch and the version's state in one workspace ({"workflow": {"enabled"},
    // "version": {"status"}}, or a version detail's own "status"); an action's are content.
    .dropped_top_level = {"status", "enabled"},
    .top_level_containers = {"workflow", "version"},
    // Labels ("v3") are given by the target on import; the engine compares versions itself.
    .version_members = {"version", "version_name", "version_number", "current_version"},
    .version_object_members = {"label", "number"},
    .embedded_id_min = 12,
    // The file is named by Content-Disposition, which may carry the label (SOC_Alpha_v3.json).
    .file_name_local = true,
};

}  // namespace wfsync::connector::secmaster
