// SPDX-License-Identifier: Apache-2.0
#include "diff_command.hpp"

#include "output.hpp"

#include <wfsync/config/config.hpp>
#include <wfsync/core/log.hpp>
#include <wfsync/store/store.hpp>
#include <wfsync/sync/diff.hpp>
#include <wfsync/sync/engine.hpp>
#include <wfsync/sync/stored_package.hpp>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <algorithm>
#include <ostream>

namespace wfsync::app {

namespace {

std::string list_of(const std::vector<std::string>& names)
{
    std::string s;
    for (const auto& n : names) s += (s.empty() ? "" : ", ") + n;
    return s.empty() ? "none" : s;
}

/// The workflow named by id, else by name; a name two workflows share is an error.
result<store::workflow_row> find(store::store& st, const std::string& tenant, const std::string& w)
{
    auto all = st.list_workflows(tenant);
    if (!all) return all.error();
    std::vector<store::workflow_row> by_name;
    for (const auto& row : *all) {
        if (row.remote_id == w) return row;
        if (row.name == w) by_name.push_back(row);
    }
    if (by_name.size() == 1) return by_name.front();
    if (by_name.size() > 1) {
        std::vector<std::string> ids;
        for (const auto& row : by_name) ids.push_back(row.remote_id);
        return fail(errc::not_found, "'" + w + "' names " + std::to_string(ids.size()) + " workflows of " + tenant +
                                         "; give one id: " + list_of(ids));
    }
    std::vector<std::string> known;
    for (const auto& row : *all) known.push_back(row.name + " (" + row.remote_id + ")");
    return fail(errc::not_found, "the state holds no workflow '" + w + "' of tenant " + tenant +
                                     " (it keeps the versions wfsync exported; recorded: " + list_of(known) + ")");
}

}  // namespace

int run_diff(const config::config& cfg, store::store& st, const command_line& cl, std::ostream& out,
             std::ostream& err)
{
    const auto& tenant = cl.positional.at(0);
    const auto& workflow = cl.positional.at(1);
    if (!cfg.tenants.contains(tenant)) {
        std::vector<std::string> names;
        for (const auto& [name, t] : cfg.tenants) names.push_back(name);
        err << "wfsync: diff: no tenant '" << tenant << "' in the config (tenants: " << list_of(names) << ")\n";
        return exit_usage;
    }
    auto wf = find(st, tenant, workflow);
    if (!wf) {
        err << "wfsync: diff: " << wf.error().message << '\n';
        return exit_code_for(wf.error()) == exit_usage ? exit_partial : exit_code_for(wf.error());
    }
    auto rows = st.list_versions(wf->id);
    if (!rows) {
        err << "wfsync: diff: " << rows.error().what() << '\n';
        return exit_code_for(rows.error());
    }
    // One row per label (the last recorded content), oldest to newest by label.
    std::vector<store::version_row> versions;
    for (const auto& v : *rows) {
        auto same = std::find_if(versions.begin(), versions.end(), [&](const auto& x) { return x.version == v.version; });
        if (same != versions.end()) *same = v;
        else versions.push_back(v);
    }
    std::stable_sort(versions.begin(), versions.end(),
                     [](const auto& a, const auto& b) { return sync::compare_versions(a.version, b.version) < 0; });
    std::vector<std::string> labels;
    for (const auto& v : versions) labels.push_back(v.version);

    auto pick = [&](const std::string& label) -> const store::version_row* {
        auto it = std::find_if(versions.begin(), versions.end(), [&](const auto& v) { return v.version == label; });
        return it == versions.end() ? nullptr : &*it;
    };
    const store::version_row* from = nullptr;
    const store::version_row* to = nullptr;
    if (cl.positional.size() >= 3) {
        from = pick(cl.positional[2]);
        to = cl.positional.size() == 4 ? pick(cl.positional[3]) : (versions.empty() ? nullptr : &versions.back());
        for (std::size_t i = 2; i < cl.positional.size(); ++i)
            if (!pick(cl.positional[i])) {
                err << "wfsync: diff: the state holds no version " << cl.positional[i] << " of " << wf->name << " ("
                    << tenant << "/" << wf->remote_id << "); recorded: " << list_of(labels) << '\n';
                return exit_partial;
            }
    } else if (versions.size() >= 2) {
        from = &versions[versions.size() - 2];
        to = &versions.back();
    } else {
        err << "wfsync: diff: " << wf->name << " (" << tenant << "/" << wf->remote_id
            << ") has fewer than two versions in the state (recorded: " << list_of(labels) << ")\n";
        return exit_partial;
    }

    std::vector<sync::normalized_package> norm;
    for (const auto* v : {from, to}) {
        auto bytes = st.load_package(v->id);
        auto pkg = bytes ? sync::stored_package(*wf, *v, *bytes) : result<connector::package>(bytes.error());
        auto n = pkg ? sync::normalize(*pkg) : result<sync::normalized_package>(pkg.error());
        if (!n) {
            err << "wfsync: diff: " << log::redact(n.error().what()) << '\n';
            return exit_code_for(n.error());
        }
        norm.push_back(std::move(*n));
    }
    const auto lines = sync::diff_packages(norm[0], norm[1]);

    if (cl.json) {
        auto side = [](const store::version_row& v) {
            return boost::json::object{{"version", v.version}, {"content_hash", v.content_hash},
                                       {"format", v.format}, {"seen_at", iso_json(v.seen_at)}};
        };
        boost::json::array changes;
        for (const auto& l : lines) changes.emplace_back(log::redact(l));
        print_json(out, boost::json::object{{"tenant", tenant},
                                            {"workflow_id", wf->remote_id},
                                            {"workflow_name", wf->name},
                                            {"from", side(*from)},
                                            {"to", side(*to)},
                                            {"identical", from->content_hash == to->content_hash},
                                            {"changes", std::move(changes)}});
        return exit_ok;
    }
    out << wf->name << " (" << tenant << "/" << wf->remote_id << "): " << from->version << " -> " << to->version;
    if (lines.empty()) {
        out << ": no changes" << (from->content_hash == to->content_hash ? " (same content)" : "") << '\n';
        return exit_ok;
    }
    out << ", " << lines.size() << (lines.size() == 1 ? " change" : " changes") << '\n';
    for (const auto& l : lines) out << "  " << log::redact(l) << '\n';
    return exit_ok;
}

}  // namespace wfsync::app
