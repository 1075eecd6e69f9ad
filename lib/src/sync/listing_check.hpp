// SPDX-License-Identifier: Apache-2.0
// Private to the sync layer: what a run's listings prove about each item, against what they
// showed when the item's contents were last compared in full.
#pragma once

#include <wfsync/config/config.hpp>
#include <wfsync/connector/model.hpp>
#include <wfsync/store/store.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace wfsync::sync::detail {

/// Decides, per (source workflow, target), whether a run may skip the export: when both
/// listings show exactly what they showed at the item's last full comparison, which found the
/// target holding the source's content, and that comparison is younger than `verify_every`.
/// Anything else (a mark missing or different, a listing that shows nothing that changes with
/// the content, an import still open, `--full`) means comparing in full, for a reason the plan
/// shows.
class listing_check {
public:
    listing_check(const config::rule& r, bool full, const std::vector<store::listing_mark>& marks,
                  const std::vector<store::import_intent>& open, std::int64_t now);

    /// The mark of a source workflow as listed, under this rule's version choice; empty when
    /// its listing shows nothing that changes with the content.
    std::string source_mark(const connector::workflow_summary& src) const;

    /// Empty when the listings prove that `target` still holds what the last full comparison
    /// found; otherwise why the contents must be compared. `listing` is the target's listing
    /// (null for an archive).
    std::string why_full(const connector::workflow_summary& src, const std::string& target,
                         const std::vector<connector::workflow_summary>* listing) const;

    /// The mark to record once a full comparison found `target` holding `content_hash` in
    /// `target_workflow` as `listing` shows it now; nullopt when a listing proves nothing.
    std::optional<store::listing_mark> mark_after(const connector::workflow_summary& src, const std::string& target,
                                                  const std::string& target_workflow,
                                                  const std::vector<connector::workflow_summary>* listing,
                                                  const std::string& content_hash) const;

    /// When the item was last compared in full (0 if never).
    std::int64_t verified_at(const std::string& source_workflow, const std::string& target) const;
    /// The content the target was found holding then, and in which workflow (empty if never).
    std::string content_hash(const std::string& source_workflow, const std::string& target) const;
    std::string target_workflow(const std::string& source_workflow, const std::string& target) const;

private:
    const config::rule& rule_;
    bool full_;
    std::int64_t now_;
    std::map<std::pair<std::string, std::string>, store::listing_mark> marks_;  ///< (source wf, target)
    std::set<std::pair<std::string, std::string>> open_;                        ///< open intents
};

/// True for an archive target ("archive:NAME").
inline bool is_archive(const std::string& target) { return target.rfind("archive:", 0) == 0; }

}  // namespace wfsync::sync::detail
