// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace wfsync::connector {

/// A workflow definition as listed by a tenant.
struct workflow_summary {
    std::string id;    ///< the platform's id (Zuora: integer as text; Kore.ai: "a-..."; SecMaster: uuid)
    std::string name;
    std::string active_version;  ///< empty if unknown or none
    std::string latest_version;  ///< empty if unknown
    /// False when the listing shows no version members at all, so that an empty
    /// active_version means "not said", not "none" (the version list tells).
    bool versions_listed = true;
    /// A digest of everything the listing shows of the definition, when that includes
    /// something that changes with its content (a version label or id, an update time); empty
    /// when the listing shows nothing of the kind (Kore.ai has no listing), so that an equal
    /// mark proves nothing. Equal marks on two runs let the engine skip the export.
    std::string change_mark;
};

/// One version of a definition.
struct version_summary {
    std::string id;       ///< the platform's id of the version, if it has one
    std::string version;  ///< label, e.g. "0.0.3"
    std::string status;   ///< as the platform says ("Active", "activated", ...)
    bool active = false;
};

/// An exported workflow version in one model for every platform: named files plus metadata.
/// Zuora: one file "workflow.json". Kore.ai: flow_definition.json, app_definition.json,
/// env_variables.json. SecMaster: the exported file under its name.
struct package {
    std::string format;  ///< "zuora-json", "kore-zip", "secmaster-file"
    std::string workflow_id;
    std::string workflow_name;
    std::string version;
    std::map<std::string, std::string> files;  ///< name -> bytes
};

/// Which version to export.
struct version_ref {
    enum class kind { latest, active, exact } which = kind::latest;
    std::string version;  ///< for exact
};

/// An export in progress. Synchronous platforms answer with `done` and the package at once;
/// asynchronous ones (Kore.ai) hand back a job id to record and poll.
struct export_job {
    std::string job_id;        ///< empty for synchronous exports
    std::string download_url;  ///< where the package is once the job ends (Kore.ai)
    bool done = false;
    std::optional<package> result;
};

/// A request to import a package into a target definition.
struct import_request {
    std::string target_workflow;  ///< platform id; empty = create a new definition
    std::string target_name;      ///< name for a new definition
    std::string version;          ///< version label to create
    bool activate = false;
    std::string idempotency_key;  ///< sent where the platform supports it
    const package* content = nullptr;
};

struct import_result {
    std::string target_workflow;  ///< id of the definition imported into (or created)
    std::string version;          ///< version created
    std::string job_id;           ///< async platforms: the import's job
    bool done = true;
    std::string version_id;       ///< the platform's id of the version created, where it has one
    /// What the platform did beyond storing the version, as the connector verified it
    /// ("activated", or that it activated although not asked to); empty when nothing to say.
    std::string note;
    /// The import happened, but the activation the rule asks for did not (a workspace that
    /// wants an approval first): the item is an error, the version is not imported again.
    std::string activation_error;
};

/// How much of what was written a tenant's API shows.
enum class write_visibility {
    /// Every version can be listed and read: an import that is not among them did not happen.
    every_version,
    /// Only the exported version can be read and workflows cannot be listed (Kore.ai): an
    /// import whose answer was lost may exist unseen.
    exported_only,
};

}  // namespace wfsync::connector
