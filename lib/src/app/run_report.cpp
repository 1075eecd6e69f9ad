// SPDX-License-Identifier: Apache-2.0
#include "run_report.hpp"

#include "output.hpp"

#include <wfsync/core/log.hpp>

#include <boost/json/array.hpp>

#include <fmt/format.h>

#include <ostream>

namespace wfsync::app {

namespace {

bool imports(sync::action a)
{
    return a == sync::action::import || a == sync::action::create;
}

boost::json::object item_json(const sync::item& i)
{
    boost::json::object o;
    o["action"] = std::string(to_string(i.what));
    o["done"] = i.done;
    o["source_tenant"] = i.source_tenant;
    o["source_workflow"] = i.source_workflow;
    o["workflow_name"] = i.workflow_name;
    o["source_version"] = i.source_version;
    o["content_hash"] = i.content_hash;
    o["target_tenant"] = i.target_tenant;
    o["target_workflow"] = i.target_workflow;
    o["target_version"] = i.target_version;
    o["drifted"] = i.drifted;
    o["reason"] = log::redact(i.reason);
    o["by_listing"] = i.by_listing;
    if (i.what == sync::action::error) o["error_kind"] = std::string(to_string(i.error_kind));
    boost::json::array diff;
    for (const auto& d : i.diff) diff.emplace_back(log::redact(d));
    if (!diff.empty()) o["diff"] = std::move(diff);
    return o;
}

/// Which items were read how, and why: what makes a run fast or slow.
std::string reading_of(const sync::run_summary& s)
{
    int full = 0;
    std::string why;
    for (const auto& [reason, n] : s.compared_in_full) {
        full += n;
        why += fmt::format("{}{} {}", why.empty() ? "" : "; ", n, reason);
    }
    return fmt::format("read: {} proved unchanged by the listings (not exported), {} compared in full{}", s.by_listing,
                       full, why.empty() ? "" : " (" + why + ")");
}

colour colour_of(sync::action a)
{
    switch (a) {
    case sync::action::import:
    case sync::action::create: return colour::green;
    case sync::action::drift: return colour::yellow;
    case sync::action::error:
    case sync::action::held: return colour::red;
    case sync::action::unchanged:
    case sync::action::adopt:
    case sync::action::skip: return colour::dim;
    }
    return colour::none;
}

}  // namespace

boost::json::object run_json(const sync::run_summary& s, run_mode mode)
{
    boost::json::object o;
    o["rule"] = s.rule;
    o["run"] = s.run_uid;
    o["dry_run"] = mode != run_mode::done;
    int would = 0;
    for (const auto& i : s.items)
        if (imports(i.what) && !i.done) ++would;
    o["imported"] = s.imported;
    o["would_import"] = mode == run_mode::done ? 0 : would;
    o["unchanged"] = s.unchanged;
    o["drift"] = s.drift;
    o["skipped"] = s.skipped;
    o["errors"] = s.errors;
    o["held"] = s.held;
    o["by_listing"] = s.by_listing;
    boost::json::object full;
    for (const auto& [why, n] : s.compared_in_full) full[why] = n;
    o["compared_in_full"] = std::move(full);
    boost::json::array items;
    for (const auto& i : s.items) items.push_back(item_json(i));
    o["items"] = std::move(items);
    return o;
}

void print_run(std::ostream& out, const sync::run_summary& s, run_mode mode, std::string_view title, bool colour_on)
{
    const bool deciding = mode != run_mode::done;
    out << title << " (run " << s.run_uid << "): ";
    if (deciding) {
        int to_import = 0;
        for (const auto& i : s.items)
            if (imports(i.what)) ++to_import;
        out << to_import << " would be imported, ";
    } else {
        out << s.imported << " imported, ";
    }
    out << s.unchanged << " unchanged, " << paint(std::to_string(s.drift) + " drift", s.drift ? colour::yellow : colour::none, colour_on)
        << ", " << s.skipped << " skipped, "
        << paint(std::to_string(s.errors) + " errors", s.errors ? colour::red : colour::none, colour_on) << '\n';
    out << "  " << reading_of(s) << '\n';
    table t({"ACTION", "WORKFLOW", "VERSION", "TARGET", "TARGET VERSION", "WHY"});
    for (const auto& i : s.items) {
        auto act = std::string(to_string(i.what));
        if (deciding && imports(i.what)) act = "would " + act;
        std::string target = i.target_tenant;
        if (!i.target_workflow.empty()) target += "/" + i.target_workflow;
        t.add({act, i.workflow_name + " (" + i.source_tenant + "/" + i.source_workflow + ")", i.source_version,
               target, i.target_version, log::redact(i.reason)},
              {colour_of(i.what)});
    }
    if (!t.empty()) t.print(out, "  ", colour_on);
    for (const auto& i : s.items) {
        if (i.diff.empty()) continue;
        out << "  changes for " << i.workflow_name << " -> " << i.target_tenant << ":\n";
        for (const auto& d : i.diff) out << "    " << log::redact(d) << '\n';
    }
}

}  // namespace wfsync::app
