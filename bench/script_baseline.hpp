// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <wfsync/core/error.hpp>

#include <cstddef>
#include <string>
#include <vector>

/// The script a user would write instead of wfsync (issue 10's baseline): one request at a
/// time, it lists the source, exports every workflow's active version, hashes the raw export
/// text (sha256, nothing normalized), and imports into the target every workflow whose hash
/// differs from the one its own state file (JSON: name -> hash, target id, last version it
/// imported) recorded last time: POST /workflows/import for a workflow it has not copied
/// before, POST /workflows/{target_id}/versions/import with the next patch label otherwise.
/// It is a plain Zuora client written for the benchmark from the emulator's contract
/// (tests/emulator/README.md), using only the generic net::http_client, never a connector.
namespace wfsync::baseline {

struct script_settings {
    std::string source_url, target_url;  ///< Zuora base URLs (emulator tenant_url)
    std::string client_id, client_secret;  ///< the same pair for both tenants
    std::string state_file;                 ///< the script's own state, created if absent
};

struct script_report {
    std::size_t listed = 0;    ///< source workflows seen
    std::size_t exported = 0;
    std::vector<std::string> created;  ///< names imported as new target workflows
    std::vector<std::string> updated;  ///< names imported as a new version of a known target
};

/// Runs the script once, on the calling thread (its own io_context). Any answer that is not
/// 2xx, or that it cannot read, is an error naming the request; the state file is then left
/// as it was.
result<script_report> run_script(const script_settings& s);

}  // namespace wfsync::baseline
