// SPDX-License-Identifier: Apache-2.0
// Internal to the emulator: the Zuora tenants' data and the Zuora API routes.
#pragma once

#include <wfsync/core/async.hpp>
#include <wfsync/core/error.hpp>
#include <wfsync/net/http.hpp>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace wfsync::emulator::detail {

// ---- version labels ------------------------------------------------------------------

/// "0.0.10" -> {0,0,10}; nullopt unless every dot-separated part is a decimal number.
std::optional<std::vector<std::uint64_t>> parse_version(std::string_view label);
/// Numeric per part, missing parts count as 0: 0.0.10 > 0.0.9, 1.0 == 1.0.0.
int compare_versions(const std::vector<std::uint64_t>& a, const std::vector<std::uint64_t>& b);
/// The label after `label` with its last part incremented ("0.0.9" -> "0.0.10").
std::string next_patch(std::string_view label);

// ---- small HTTP helpers ----------------------------------------------------------------

/// Decodes a query string or form body: '&'-separated name=value, percent- and '+'-decoded.
std::map<std::string, std::string> parse_form(std::string_view text);
std::string now_iso8601();
/// ISO-8601 UTC with milliseconds for a count of milliseconds since the epoch:
/// "2026-11-29T18:00:00.123Z".
std::string iso8601_ms(std::int64_t ms_since_epoch);
/// A tenant's next update stamp, in iso8601_ms form: the clock in milliseconds, or
/// `last_ms` + 1 when the clock has not moved past `last_ms`; `last_ms` becomes the stamp.
/// So every stamp a tenant hands out is later than the one before, even within one
/// millisecond or when the clock steps back.
std::string next_stamp(std::int64_t& last_ms);

/// What a route answers, before the emulator adds common headers and faults.
struct reply {
    int status = 200;
    std::string body;
    std::string content_type = "application/json";
    net::header_list headers;
};
/// {"success":false,"reasons":[{"code":code,"message":message}]}
reply error_reply(int status, std::int64_t code, std::string_view message);
reply json_reply(int status, const boost::json::value& v);

// Zuora-style codes: resource 500000 + category (see api-reference.md "Error body shape").
inline constexpr std::int64_t code_auth = 90000011;
inline constexpr std::int64_t code_invalid_value = 50000020;
inline constexpr std::int64_t code_missing = 50000022;
inline constexpr std::int64_t code_business_rule = 50000030;
inline constexpr std::int64_t code_not_found = 50000040;

// ---- tenant data -----------------------------------------------------------------------

struct version_rec {
    std::int64_t id = 0;
    std::string label;
    std::vector<std::uint64_t> parts;
    std::string status = "Inactive";   ///< "Active" | "Inactive"
    boost::json::object workflow;      ///< the workflow object as imported (ids rewritten on export)
    boost::json::array tasks;          ///< tenant-local task ids
    boost::json::array linkages;
    std::string created_at;  ///< a next_stamp() (not served)
};

struct workflow_rec {
    std::int64_t id = 0;
    std::string name, description;
    std::vector<version_rec> versions;  ///< ascending by version
    /// next_stamp() values: created_at when the workflow was seeded or imported, updated_at
    /// moved by every change to it (new version, activation, rename, edit in place).
    std::string created_at, updated_at;

    const version_rec* active() const;
    const version_rec* latest() const;
};

struct idempotency_entry {
    std::string method, path;
    bool done = false;
    reply stored;
};

struct tenant_state {
    std::string name;
    std::string platform = "zuora";
    std::string client_id, client_secret, bearer_token;
    int token_ttl_seconds = 3600;
    int page_length_max = 50;
    bool bare_list = false;
    /// What GET /workflows items (and GET /workflows/{id}) show: "full" | "labels" (no
    /// createdAt/updatedAt) | "names" (only id, name, description, status, type).
    std::string list_detail = "full";
    std::int64_t last_stamp_ms = 0;  ///< the last next_stamp() of this tenant
    std::map<std::int64_t, workflow_rec> workflows;
    std::map<std::string, steady_time> tokens;  ///< access token -> expiry
    bool static_token_expired = false;
    std::int64_t next_id = 1;  ///< workflows, versions and tasks share one counter per tenant
    std::map<std::string, idempotency_entry> idempotency;
};

/// Builds a tenant from its seed object; `range_base` is where its allocated ids start
/// (each tenant gets its own range so that copies of a workflow get different ids).
/// Errors name the seed path, e.g. "tenants.sandbox.workflows[0].versions[1].version".
/// `last_stamp_ms` is the last stamp of a tenant of that name this one replaces (0 if none),
/// so that update times keep increasing across a reload.
[[nodiscard]] result<tenant_state> tenant_from_seed(const std::string& name,
                                                    const boost::json::value& seed,
                                                    std::int64_t range_base,
                                                    std::int64_t last_stamp_ms = 0);

/// Adds a version to `wf` from an export document: task ids renumbered from the tenant's
/// counter, linkages rewritten to follow. `label` empty = body workflow.version, else next patch.
/// Fails (errc::conflict / invalid_argument) with a message for a 400 answer.
[[nodiscard]] result<const version_rec*> add_version_from_doc(tenant_state& t, workflow_rec& wf,
                                                              const boost::json::object& doc,
                                                              std::string label, bool activate);

/// Replaces version `label` of `wf` in place from an export document, as a person saving a
/// version in the UI without making a new one: its tasks (ids renumbered from the tenant's
/// counter, as add_version_from_doc does), linkages and workflow object. Its id, label and
/// status stay; the body's workflow.name/description rename the definition as an import
/// does; wf.updated_at moves. Returns the stored label. errc::not_found for an unknown
/// label, errc::invalid_argument (a 400 answer) for a bad document, which changes nothing.
[[nodiscard]] result<std::string> edit_version_from_doc(tenant_state& t, workflow_rec& wf,
                                                        std::string_view label,
                                                        const boost::json::object& doc);

/// The export document of one version, with the tenant's own ids.
boost::json::object export_doc(const workflow_rec& wf, const version_rec& v);

/// GET /_emulator/tenants/{T}/state body.
boost::json::object tenant_summary(const tenant_state& t);

// ---- the Zuora API ---------------------------------------------------------------------

struct zuora_request {
    std::string method;
    std::string sub_path;     ///< path after /t/{tenant}
    std::string query;
    const net::header_list* headers = nullptr;
    std::string body;
    std::string tenant_url;   ///< base of next_page links
};

/// nullopt when the request may go on; else the 401 answer. /oauth/token needs no token.
std::optional<reply> check_auth(tenant_state& t, const zuora_request& r);
/// Answers one Zuora call (after auth, idempotency and latency were dealt with).
reply handle_zuora(tenant_state& t, const zuora_request& r);

}  // namespace wfsync::emulator::detail
