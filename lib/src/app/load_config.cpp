// SPDX-License-Identifier: Apache-2.0
#include "load_config.hpp"

#include <wfsync/core/log.hpp>
#include <wfsync/schedule/cron.hpp>

#include <ostream>

namespace wfsync::app {

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
