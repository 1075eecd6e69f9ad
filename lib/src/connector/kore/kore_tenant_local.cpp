// SPDX-License-Identifier: Apache-2.0
// Kore.ai AI for Process: what in an exported package (flow_definition.json,
// app_definition.json, env_variables.json) is the tenant's, not the workflow's.
// The package format is not documented beyond its three file names [SEED 004]; these lists
// name what a platform that stamps its own records on an import changes, as seen against a
// server written from the public pages alone.
#include "kore_mapping.hpp"

namespace wfsync::connector::kore {

const tenant_local_fields tenant_local{
    // Identifiers: the app's and the flow's (appId, flowId, workflowId and the older toolId),
    // every node's id and what refers to one (startNodeId; a node's "next" holds a node id
    // as a plain string and is caught by value), the account's (accountId, orgId, streamId),
    // job ids, and Mongo-style "_id". A target assigns all of them anew on import. A reference
    // to an account-level object (a model or a connection configured per account) is
    // tenant-local too; a change of it is seen only where the package names the object.
    .id_names = {"id", "_id"},
    .id_suffixes = {"Id", "_id", "ID", "Ids", "_ids"},
    // Where a node names the node that follows it, or a branch its destination.
    .reference_names = {"next", "nextNode", "target", "source", "from", "to", "goto", "onSuccess", "onFailure",
                        "onError", "default", "start"},
    // Who touched the definition when: set by whichever tenant stored it.
    .dropped = {"createdBy", "modifiedBy", "createdOn", "modifiedOn", "createdAt", "updatedAt",
                "lastModifiedOn", "lastModifiedBy", "updatedBy", "deployedOn", "deployedBy",
                "publishedOn", "publishedBy"},
    // A definition's deployment state ("deployed", "draft") is the target's, not content.
    .dropped_top_level = {"status", "state"},
    .top_level_containers = {},
    // The version a tenant gave the definition: app_definition.json's "version", a label
    // or {"label", "number"}; the engine compares versions itself.
    .version_members = {"version", "versionLabel", "versionNumber", "version_label", "version_number",
                        "versionName"},
    .version_object_members = {"label", "number", "name", "versionLabel", "versionNumber"},
    .embedded_id_min = 12,
    .file_name_local = false,  // the three names are fixed
};

}  // namespace wfsync::connector::kore
