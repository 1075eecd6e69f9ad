// SPDX-License-Identifier: Apache-2.0
// The list stage: what the listings prove, and the marks a run leaves for the next.
#include "engine_impl.hpp"

#include <wfsync/core/log.hpp>

#include <fmt/format.h>

#include <algorithm>

namespace wfsync::sync {
using namespace detail;

void engine::impl::note_compared(const config::rule& r, const run_options& o, run_listings& rl,
                   const connector::workflow_summary& src, const std::string& target,
                   const std::vector<connector::workflow_summary>* listing, const settled& how,
                   const std::string& content_hash)
{
    if (o.dry_run) return;
    // An adopted import may sit below a newer version (a person's): the next run looks again.
    const bool holds = how.done && (how.what == action::unchanged ||
                                    (detail::is_archive(target) && how.what == action::import));
    if (holds) {
        if (auto m = rl.check.mark_after(src, target, how.target_workflow, listing, content_hash))
            if (auto p = st.put_listing_mark(*m); !p) log::warn("cannot record a listing mark: {}", p.error().what());
        return;
    }
    if (how.done && (how.what == action::import || how.what == action::create)) {
        rl.after_import.push_back({src, target, how.target_workflow, content_hash});
        return;
    }
    if (rl.check.verified_at(src.id, target) != 0)
        if (auto f = st.forget_listing_mark(r.name, r.source, src.id, target); !f)
            log::warn("cannot forget a listing mark: {}", f.error().what());
}

awaitable<void> engine::impl::mark_imports(const config::rule& r, run_listings& rl)
{
    std::vector<std::string> targets;
    for (const auto& m : rl.after_import)
        if (std::find(targets.begin(), targets.end(), m.target) == targets.end()) targets.push_back(m.target);
    co_await for_each_at_once(targets.size(), [&](std::size_t k) -> awaitable<void> {
        auto c = connector_for(targets[k]);
        if (!c) co_return;
        auto listing = co_await (*c)->list_workflows();
        if (!listing) {
            log::warn({.rule = r.name, .tenant = targets[k]},
                      "listing {} again after its imports: {}; the next run compares them in full", targets[k],
                      listing.error().what());
            co_return;
        }
        for (const auto& m : rl.after_import) {
            if (m.target != targets[k]) continue;
            auto mark = rl.check.mark_after(m.source, m.target, m.target_workflow, &*listing, m.content_hash);
            if (!mark) continue;
            if (auto p = st.put_listing_mark(*mark); !p) log::warn("cannot record a listing mark: {}", p.error().what());
        }
    });
}

}  // namespace wfsync::sync
