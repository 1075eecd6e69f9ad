// SPDX-License-Identifier: Apache-2.0
#include "listing_check.hpp"

#include <wfsync/core/hash.hpp>
#include <wfsync/core/duration.hpp>

#include <fmt/format.h>

#include <algorithm>

namespace wfsync::sync::detail {

namespace {

/// Raised whenever what a content hash means changes (the normalization), so that marks
/// recorded by an older wfsync prove nothing.
constexpr std::string_view mark_scheme = "1";

std::string_view choice_name(config::version_choice c)
{
    switch (c) {
    case config::version_choice::latest: return "latest";
    case config::version_choice::active: return "active";
    case config::version_choice::all: return "all";
    }
    return "";
}

const connector::workflow_summary* find_listed(const std::vector<connector::workflow_summary>& listing,
                                               const std::string& id)
{
    auto it = std::find_if(listing.begin(), listing.end(), [&](const auto& w) { return w.id == id; });
    return it == listing.end() ? nullptr : &*it;
}

}  // namespace

listing_check::listing_check(const config::rule& r, bool full, const std::vector<store::listing_mark>& marks,
                             const std::vector<store::import_intent>& open, std::int64_t now)
    : rule_(r), full_(full), now_(now)
{
    for (const auto& m : marks)
        if (m.source_tenant == r.source) marks_.emplace(std::pair{m.source_workflow, m.target_tenant}, m);
    for (const auto& i : open)
        if (i.rule == r.name && i.source_tenant == r.source) open_.emplace(i.source_workflow, i.target_tenant);
}

std::string listing_check::source_mark(const connector::workflow_summary& src) const
{
    if (src.change_mark.empty()) return {};
    return sha256_hex(fmt::format("{}\n{}\n{}", mark_scheme, choice_name(rule_.version), src.change_mark));
}

std::string listing_check::why_full(const connector::workflow_summary& src, const std::string& target,
                                    const std::vector<connector::workflow_summary>* listing) const
{
    if (full_) return "--full";
    if (rule_.verify_every.count() <= 0) return "verify_every: 0";
    auto smark = source_mark(src);
    if (smark.empty()) return "the source's listing shows no version or update time";
    if (open_.contains({src.id, target})) return "an earlier import is still open";
    auto m = marks_.find({src.id, target});
    if (m == marks_.end()) return "not compared in full before";
    if (m->second.source_mark != smark) return "the source's listing changed";
    if (!is_archive(target)) {
        if (!listing) return "the target's listing is not known";
        const auto* listed = find_listed(*listing, m->second.target_workflow);
        if (!listed) return "the target's listing no longer shows its workflow";
        if (listed->change_mark.empty()) return "the target's listing shows no version or update time";
        if (listed->change_mark != m->second.target_mark) return "the target's listing changed";
    }
    const auto every = std::chrono::duration_cast<std::chrono::seconds>(rule_.verify_every).count();
    if (now_ - m->second.verified_at >= every)
        return fmt::format("verify_every: last compared in full at {}", format_iso_utc(m->second.verified_at));
    return {};
}

std::optional<store::listing_mark> listing_check::mark_after(const connector::workflow_summary& src,
                                                             const std::string& target,
                                                             const std::string& target_workflow,
                                                             const std::vector<connector::workflow_summary>* listing,
                                                             const std::string& content_hash) const
{
    store::listing_mark m;
    m.rule = rule_.name;
    m.source_tenant = rule_.source;
    m.source_workflow = src.id;
    m.target_tenant = target;
    m.source_mark = source_mark(src);
    m.content_hash = content_hash;
    m.verified_at = now_;
    if (m.source_mark.empty()) return std::nullopt;
    if (!is_archive(target)) {
        if (!listing || target_workflow.empty()) return std::nullopt;
        const auto* listed = find_listed(*listing, target_workflow);
        if (!listed || listed->change_mark.empty()) return std::nullopt;
        m.target_workflow = target_workflow;
        m.target_mark = listed->change_mark;
    }
    return m;
}

std::int64_t listing_check::verified_at(const std::string& source_workflow, const std::string& target) const
{
    auto m = marks_.find({source_workflow, target});
    return m == marks_.end() ? 0 : m->second.verified_at;
}

std::string listing_check::content_hash(const std::string& source_workflow, const std::string& target) const
{
    auto m = marks_.find({source_workflow, target});
    return m == marks_.end() ? std::string() : m->second.content_hash;
}

std::string listing_check::target_workflow(const std::string& source_workflow, const std::string& target) const
{
    auto m = marks_.find({source_workflow, target});
    return m == marks_.end() ? std::string() : m->second.target_workflow;
}

}  // namespace wfsync::sync::detail
