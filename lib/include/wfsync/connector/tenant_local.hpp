// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

namespace wfsync::connector {

/// What in a platform's exported JSON files belongs to one tenant rather than to the
/// workflow. The content hash leaves it out, so that the same workflow in two tenants, or
/// a workflow the target re-stamped with its own ids on import, hashes equal. Each
/// platform documents its list, with the reasons, beside its connector.
struct tenant_local_fields {
    /// Members holding an identifier the tenant assigns: exact names...
    std::vector<std::string_view> id_names;
    /// ...and name endings ("Id", "_id"). Such a value (a string or an integer, or an array
    /// of them), and every string in the package equal to it (a node's "next", a start node),
    /// is replaced by a reference to the place where it first appears, so that only the
    /// pattern of references counts, never the identifiers themselves.
    std::vector<std::string_view> id_suffixes;
    /// Members that refer to an identifier by value (a node's "next"): a value equal to an
    /// identifier is replaced there whatever it looks like. Elsewhere only identifiers that
    /// look like one (eight characters or more, or letters and digits mixed: "n1", a uuid)
    /// are, so that a word like "start" in a prompt stays a word.
    std::vector<std::string_view> reference_names;
    /// Members dropped at any depth: timestamps, authors, run state.
    std::vector<std::string_view> dropped;
    /// Members dropped at the top of a file only: its own members, and those of the objects
    /// it holds under `top_level_containers` ({"workflow": {...}, "version": {...}}), since a
    /// node's own "status" or "enabled" is content.
    std::vector<std::string_view> dropped_top_level;
    std::vector<std::string_view> top_level_containers;
    /// Members carrying a version label or number: dropped when their value is a string or a
    /// number; an object value loses its members named in `version_object_members`.
    std::vector<std::string_view> version_members;
    std::vector<std::string_view> version_object_members;
    /// Identifiers at least this long are also replaced inside longer strings (a template
    /// naming a node); shorter ones ("n1") only as whole values, so that text stays text.
    std::size_t embedded_id_min = 12;
    /// The name of a lone exported file is the tenant's choice (SecMaster names it after the
    /// version): hashed as "export" plus its extension.
    bool file_name_local = false;
};

/// Zuora's export ({workflow, tasks[], linkages[]}) has a structure of its own, which
/// sync::normalize_zuora_export walks: what of it is tenant-local, and how tasks refer to each
/// other (the references become stable refs).
struct zuora_export_fields {
    /// Dropped from the workflow object, each task, each linkage and the top level (not from
    /// inside parameters, which are the user's content).
    std::vector<std::string_view> tenant_local;
    std::string_view tenant_local_prefix;  ///< members starting with it are dropped too
    std::vector<std::string_view> task_references;  ///< task members naming another task
    std::string_view linkage_source, linkage_target;  ///< the two tasks a linkage joins
};

/// Zuora's list, with the reasons, in zuora/zuora_tenant_local.cpp.
[[nodiscard]] const zuora_export_fields& zuora_tenant_local() noexcept;

/// The fields of packages of `format` ("kore-zip", "secmaster-file", "secmaster-version"); nullptr for a format
/// normalized otherwise ("zuora-json": sync::normalize_zuora_export) or unknown.
[[nodiscard]] const tenant_local_fields* tenant_local_fields_for(std::string_view format) noexcept;

}  // namespace wfsync::connector
