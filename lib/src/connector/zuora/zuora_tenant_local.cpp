// SPDX-License-Identifier: Apache-2.0
// Zuora Workflow: what in an export ({workflow, tasks[], linkages[]} [SEED 000]) is the
// tenant's, not the workflow's. These members say where and when a definition lives in one
// tenant, not what it does, so two tenants holding the same workflow differ in them.
#include <wfsync/connector/tenant_local.hpp>

namespace wfsync::connector {

const zuora_export_fields& zuora_tenant_local() noexcept
{
    static const zuora_export_fields fields{
        .tenant_local =
            {
                // ids: the workflow's, the tasks' (replaced by refs), the linkages', the source workflow;
                "id", "workflow_id", "source_workflow_id",
                // status: definition/version status, and run state of a task;
                "status",
                // timestamps and authors: created/updated (both spellings), last run start/finish;
                "created_at", "updated_at", "createdAt", "updatedAt", "created_by", "updated_by", "createdBy",
                "updatedBy", "started_at", "finished_at",
                // version labels: the version is compared separately by the engine;
                "version", "active_version", "latest_version",
                // run-time counters and the run that last touched a task.
                "task_summary", "process_id",
            },
        // where a copied workflow or task came from (original_workflow_id, ...)
        .tenant_local_prefix = "original_",
        // A task member holding the id of another task of the same export; an id that names no
        // task of the document is tenant-local noise and is dropped.
        .task_references = {"task_id"},
        .linkage_source = "source_task_id",
        .linkage_target = "target_task_id",
    };
    return fields;
}

}  // namespace wfsync::connector
