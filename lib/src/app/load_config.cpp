// SPDX-License-Identifier: Apache-2.0
#include "load_config.hpp"

#include <wfsync/core/duration.hpp>
#include <wfsync/core/log.hpp>
#include <wfsync/schedule/cron.hpp>

#include <fmt/format.h>

#include <chrono>
#include <optional>
#include <ostream>

namespace wfsync::app {

namespace {

/// The shortest time between two fires of `s` over the coming year (at most 2000 fires):
/// a cron schedule's gaps vary (`*/15 8-18 * * MON-FRI`: 15 minutes by day, a weekend at
/// night), and jitter must fit in the shortest. nullopt if it fires less than twice.
std::optional<std::chrono::seconds> shortest_gap(const schedule::schedule& s)
{
    if (s.interval().count() > 0) return s.interval();
    const auto start = std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
    const auto horizon = start + std::chrono::days(400);
    std::optional<std::chrono::seconds> best;
    auto prev = s.next_after(start);
    for (int i = 0; i < 2000 && prev < horizon; ++i) {
        auto next = s.next_after(prev);
        if (next == schedule::schedule::never) break;
        auto gap = next - prev;
        if (!best || gap < *best) best = gap;
        prev = next;
    }
    return best;
}

}  // namespace

config::load_result load_checked(const std::string& file)
{
    auto loaded = config::load_file(file);
    auto* cfg = std::get_if<std::shared_ptr<const config::config>>(&loaded);
    if (!cfg) return loaded;
    std::vector<config::config_issue> issues;
    for (std::size_t i = 0; i < (*cfg)->rules.size(); ++i) {
        const auto& r = (*cfg)->rules[i];
        if (r.schedule.empty()) continue;
        auto parsed = wfsync::schedule::schedule::parse(r.schedule, r.timezone);
        if (!parsed) {
            issues.push_back({r.where, "rules[" + std::to_string(i) + "].schedule",
                              "'" + r.schedule + "': " + parsed.error().message});
            continue;
        }
        // A jitter as long as the period would push a run past the next one, which the
        // scheduler then skips (no overlap): the rule would run less often than it says.
        if (r.jitter.count() > 0) {
            auto gap = shortest_gap(*parsed);
            if (gap && r.jitter >= *gap)
                issues.push_back({r.jitter_where, "rules[" + std::to_string(i) + "].jitter",
                                  fmt::format("rule '{}': jitter {} is not shorter than the {} between two runs of its "
                                              "schedule '{}'; make it shorter than that",
                                              r.name, format_duration(r.jitter),
                                              format_duration(std::chrono::duration_cast<milliseconds>(*gap)),
                                              r.schedule)});
        }
    }
    if (!issues.empty()) return issues;
    return loaded;
}

void print_issues(const std::vector<config::config_issue>& issues, std::ostream& err)
{
    err << "wfsync: the configuration has " << issues.size() << (issues.size() == 1 ? " error" : " errors")
        << ":\n";
    for (const auto& i : issues) err << "  " << log::redact(i.str()) << '\n';
}

}  // namespace wfsync::app
