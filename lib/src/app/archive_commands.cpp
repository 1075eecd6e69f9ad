// SPDX-License-Identifier: Apache-2.0
// `wfsync archive list|verify|prune` and `wfsync restore`.
#include "archive_commands.hpp"

#include "output.hpp"
#include "run_report.hpp"
#include "terminal.hpp"
#include "run_to_end.hpp"

#include <wfsync/app/admin.hpp>
#include <wfsync/archive/archive.hpp>
#include <wfsync/config/config.hpp>
#include <wfsync/connector/connector.hpp>
#include <wfsync/core/duration.hpp>
#include <wfsync/core/log.hpp>
#include <wfsync/store/store.hpp>
#include <wfsync/sync/engine.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>

#include <ctime>
#include <iomanip>
#include <map>
#include <ostream>
#include <set>
#include <sstream>

namespace wfsync::app {

namespace {

namespace wc = wfsync::connector;

boost::json::object entry_json(const archive::entry& e)
{
    return boost::json::object{{"tenant", e.tenant},
                               {"workflow_id", e.workflow_id},
                               {"workflow_name", e.workflow_name},
                               {"version", e.version},
                               {"stored_at", iso_json(e.stored_at)},
                               {"size", e.size},
                               {"content_hash", e.content_hash},
                               {"path", e.path}};
}

/// Which platform a package format comes from, for restore's same-platform check.
std::optional<config::platform> platform_of(std::string_view format)
{
    if (format == "zuora-json") return config::platform::zuora;
    if (format == "kore-zip") return config::platform::kore;
    if (format == "secmaster-file") return config::platform::secmaster;
    return std::nullopt;
}

std::vector<std::string> archive_names(const config::config& cfg, const std::string& only, std::ostream& err,
                                       bool& ok)
{
    std::vector<std::string> out;
    ok = true;
    if (!only.empty()) {
        if (!cfg.archives.contains(only)) {
            err << "wfsync: no archive named '" << only << "' in the config\n";
            ok = false;
        } else {
            out.push_back(only);
        }
        return out;
    }
    for (const auto& [name, _] : cfg.archives) out.push_back(name);
    return out;
}

/// The retention that applies to an archive: the first rule writing to it that has one,
/// else the archive's own.
std::pair<archive::retention_policy, std::string> retention_for(const config::config& cfg, const std::string& name)
{
    for (const auto& r : cfg.rules)
        for (const auto& t : r.targets)
            if (t == "archive:" + name && !r.retention.empty()) return {archive::retention_from(r.retention), r.timezone};
    return {archive::retention_from(cfg.archives.at(name).retention), "UTC"};
}

/// An archive seen through the connector interface, so that a restore is a sync from it.
class archive_source final : public wc::connector {
public:
    archive_source(std::string name, archive::archive& a, std::vector<archive::entry> entries,
                   std::string version, std::optional<std::chrono::system_clock::time_point> at)
        : name_("archive:" + std::move(name)),
          archive_(a),
          entries_(std::move(entries)),
          version_(std::move(version)),
          at_(at)
    {
    }
    const std::string& tenant() const noexcept override { return name_; }
    awaitable<result<void>> check_login() override { co_return result<void>{}; }
    awaitable<result<std::vector<wc::workflow_summary>>> list_workflows() override
    {
        std::map<std::string, wc::workflow_summary> out;
        for (const auto& e : entries_) {
            auto& w = out[e.workflow_id];
            w.id = e.workflow_id;
            w.name = e.workflow_name;
            w.latest_version = e.version;
            w.active_version = e.version;
        }
        std::vector<wc::workflow_summary> list;
        for (auto& [_, w] : out) list.push_back(std::move(w));
        co_return list;
    }
    awaitable<result<std::vector<wc::version_summary>>> list_versions(const std::string& id) override
    {
        std::vector<wc::version_summary> out;
        for (const auto& e : entries_)
            if (e.workflow_id == id) out.push_back({e.version, e.version, "archived", false});
        co_return out;
    }
    awaitable<result<wc::export_job>> start_export(const wc::workflow_summary& wf,
                                                          const wc::version_ref& v) override
    {
        std::vector<archive::entry> mine;
        for (const auto& e : entries_)
            if (e.workflow_id == wf.id) mine.push_back(e);
        std::string version = v.which == wc::version_ref::kind::exact ? v.version : version_;
        auto chosen = archive::select_entry(mine, version, at_);
        if (!chosen)
            co_return fail(errc::not_found, "no archived version of '" + wf.name + "'" +
                                                (version.empty() ? std::string() : " labelled " + version) +
                                                (at_ ? " at or before the given time" : std::string()));
        auto pkg = archive_.load(*chosen);
        if (!pkg) co_return pkg.error();
        wc::export_job job;
        job.done = true;
        job.result = std::move(*pkg);
        if (job.result->version.empty()) job.result->version = chosen->version;
        co_return job;
    }
    awaitable<result<wc::export_job>> poll_export(const wc::workflow_summary&,
                                                         const wc::export_job& job) override
    {
        co_return job;
    }
    awaitable<result<wc::import_result>> import_package(const wc::import_request&) override
    {
        co_return fail(errc::invalid_argument, "an archive is restored from, not into");
    }
    void set_run_id(const std::string&) override {}

private:
    std::string name_;
    archive::archive& archive_;
    std::vector<archive::entry> entries_;
    std::string version_;  ///< --version: the label to restore; empty = by time or newest
    std::optional<std::chrono::system_clock::time_point> at_;
};

}  // namespace

int run_archive(const config::config& cfg, store::store& st, const command_line& cl, std::ostream& out,
                std::ostream& err)
{
    bool ok = true;
    auto names = archive_names(cfg, cl.archive, err, ok);
    if (!ok) return exit_usage;
    if (names.empty()) {
        err << "wfsync: the config names no archives\n";
        return exit_config;
    }
    const auto& sub = cl.positional.at(0);
    int code = exit_ok;
    boost::json::array json_out;
    for (const auto& name : names) {
        auto a = archive::archive::open(name, cfg.archives.at(name).path, st);
        if (!a) {
            // The archive's directory itself: access refused is 77, a read-only or broken file
            // system 74, whatever the other archives do.
            err << "wfsync: archive " << name << ": " << a.error().what() << '\n';
            code = exit_code_for(a.error());
            continue;
        }
        if (sub == "list") {
            auto entries = a->list({}, cl.workflow);
            if (!entries) {
                err << "wfsync: archive " << name << ": " << entries.error().what() << '\n';
                code = exit_partial;
                continue;
            }
            if (cl.json) {
                boost::json::array versions;
                for (const auto& e : *entries) versions.push_back(entry_json(e));
                json_out.push_back(boost::json::object{{"name", name}, {"root", a->root()}, {"versions", std::move(versions)}});
                continue;
            }
            out << "archive " << name << " (" << a->root() << "): " << entries->size() << " versions\n";
            std::map<std::pair<std::string, std::string>, std::vector<const archive::entry*>> grouped;
            for (const auto& e : *entries) grouped[{e.tenant, e.workflow_name + " (" + e.workflow_id + ")"}].push_back(&e);
            for (const auto& [key, list] : grouped) {
                out << "  " << key.first << " / " << key.second << "\n";
                for (const auto* e : list)
                    out << "    " << std::left << std::setw(12) << e->version << "  " << iso_time(e->stored_at) << "  "
                        << std::right << std::setw(9) << e->size << " B  " << e->content_hash.substr(0, 12) << "  "
                        << e->path << "\n";
            }
        } else if (sub == "verify") {
            const auto term = terminal::detect(cl);
            progress_line line(err, term.progress);
            auto report = a->verify([&](std::size_t done, std::size_t total, std::string_view path) {
                line.update({"verify " + name, done, total, path});
            });
            line.clear();
            if (!report) {
                err << "wfsync: archive " << name << ": " << report.error().what() << '\n';
                code = exit_partial;
                continue;
            }
            // Damage found is 1; files this user may not read, and nothing worse, are 77.
            if (!report->missing.empty() || !report->corrupt.empty() || !report->unknown.empty())
                code = exit_partial;
            else if (!report->unreadable.empty() && code == exit_ok)
                code = exit_noperm;
            if (cl.json) {
                auto problems = [](const auto& list) {
                    boost::json::array a;
                    for (const auto& p : list) a.push_back(boost::json::object{{"path", p.path}, {"detail", p.detail}});
                    return a;
                };
                json_out.push_back(boost::json::object{{"name", name},
                                                       {"verified", report->verified.size()},
                                                       {"missing", problems(report->missing)},
                                                       {"corrupt", problems(report->corrupt)},
                                                       {"unknown", problems(report->unknown)},
                                                       {"unreadable", problems(report->unreadable)}});
                continue;
            }
            out << "archive " << name << ": " << report->verified.size() << " files verified, "
                << report->missing.size() << " missing, " << report->corrupt.size() << " corrupt, "
                << report->unknown.size() << " unknown";
            if (!report->unreadable.empty()) out << ", " << report->unreadable.size() << " unreadable";
            out << '\n';
            for (const auto& p : report->missing) out << "  missing  " << p.path << ": " << p.detail << '\n';
            for (const auto& p : report->corrupt) out << "  corrupt  " << p.path << ": " << p.detail << '\n';
            for (const auto& p : report->unknown) out << "  unknown  " << p.path << ": " << p.detail << '\n';
            for (const auto& p : report->unreadable)
                out << "  unreadable  " << p.path << ": " << p.detail << '\n';
        } else {  // prune
            auto [policy, tz] = retention_for(cfg, name);
            if (policy.empty()) {
                if (cl.json)
                    json_out.push_back(boost::json::object{{"name", name}, {"retention", false}, {"dry_run", cl.dry_run}});
                else
                    out << "archive " << name << ": no retention configured; everything is kept\n";
                continue;
            }
            auto report = a->prune(policy, tz, cl.dry_run, std::chrono::system_clock::now());
            if (!report) {
                err << "wfsync: archive " << name << ": prune: " << report.error().what() << '\n';
                code = exit_partial;
                continue;
            }
            if (!report->ok()) code = exit_partial;
            if (cl.json) {
                boost::json::array kept, removed, errors;
                for (const auto& k : report->kept) {
                    auto o = entry_json(k.e);
                    boost::json::array reasons;
                    for (const auto& r : k.reasons) reasons.emplace_back(r);
                    o["reasons"] = std::move(reasons);
                    kept.push_back(std::move(o));
                }
                for (const auto& e : report->removed) removed.push_back(entry_json(e));
                for (const auto& e : report->errors)
                    errors.push_back(boost::json::object{{"path", e.path}, {"detail", e.detail}});
                json_out.push_back(boost::json::object{{"name", name},     {"retention", true},
                                                       {"dry_run", cl.dry_run}, {"kept", std::move(kept)},
                                                       {"removed", std::move(removed)}, {"errors", std::move(errors)}});
                continue;
            }
            out << "archive " << name << (cl.dry_run ? " (dry run)" : "") << ": keeps " << report->kept.size()
                << ", " << (cl.dry_run ? "would remove " : "removed ") << report->removed.size() << " versions\n";
            for (const auto& k : report->kept) {
                std::string why;
                for (const auto& r : k.reasons) why += (why.empty() ? "" : ", ") + r;
                out << "  keep    " << k.e.tenant << " / " << k.e.workflow_name << " " << k.e.version << " ("
                    << iso_time(k.e.stored_at) << "): " << why << '\n';
            }
            for (const auto& e : report->removed)
                out << "  remove  " << e.tenant << " / " << e.workflow_name << " " << e.version << " ("
                    << iso_time(e.stored_at) << ")\n";
            for (const auto& e : report->errors) out << "  error   " << e.path << ": " << e.detail << '\n';
        }
    }
    if (cl.json) print_json(out, boost::json::object{{"archives", std::move(json_out)}});
    return code;
}

int run_restore(std::shared_ptr<const config::config> cfg, store::store& st, const command_line& cl,
                std::ostream& out, std::ostream& err)
{
    auto name = cl.from.substr(std::string_view("archive:").size());
    auto conf = cfg->archives.find(name);
    if (conf == cfg->archives.end()) {
        err << "wfsync: no archive named '" << name << "' in the config\n";
        return exit_usage;
    }
    const auto* target = cfg->find_tenant(cl.to);
    if (!target) {
        err << "wfsync: no tenant named '" << cl.to << "' in the config\n";
        return exit_usage;
    }
    std::optional<std::chrono::system_clock::time_point> at;
    if (!cl.at.empty()) {
        at = parse_iso_utc(cl.at);
        if (!at) {
            err << "wfsync: --at needs a time like 2026-11-20T10:00:00Z or 2026-11-20, not '" << cl.at << "'\n";
            return exit_usage;
        }
    }
    auto a = archive::archive::open(name, conf->second.path, st);
    if (!a) {
        err << "wfsync: archive " << name << ": " << a.error().what() << '\n';
        return exit_code_for(a.error());
    }
    auto entries = a->list({}, cl.workflow);
    if (!entries) {
        err << "wfsync: archive " << name << ": " << entries.error().what() << '\n';
        return exit_code_for(entries.error());
    }
    std::set<std::pair<std::string, std::string>> found;
    for (const auto& e : *entries) found.insert({e.tenant, e.workflow_id});
    if (found.empty()) {
        err << "wfsync: archive " << name << " holds no workflow '" << cl.workflow << "'\n";
        return exit_partial;
    }
    if (found.size() > 1) {
        err << "wfsync: '" << cl.workflow << "' names several archived workflows:";
        for (const auto& [t, w] : found) err << " " << t << "/" << w;
        err << "; give the workflow id\n";
        return exit_usage;
    }
    auto platform = platform_of(entries->front().format);
    if (!platform || *platform != target->kind) {
        err << "wfsync: '" << cl.workflow << "' was archived from a " << entries->front().format
            << " platform; tenant " << cl.to << " is " << config::to_string(target->kind) << '\n';
        return exit_usage;
    }

    // A restore is a sync from the archive, under the same version, key and drift rules.
    config::rule r;
    r.name = "restore-" + name;
    r.source = cl.from;
    r.targets = {cl.to};
    r.select.include = {found.begin()->second};
    r.create_missing = true;
    r.on_drift = config::drift_policy::skip;

    boost::asio::io_context ioc;
    sync::engine eng(ioc.get_executor(), cfg, st);
    eng.add_connector(cl.from, std::make_unique<archive_source>(name, *a, std::move(*entries), cl.version, at));
    sync::run_options o;
    o.command = "restore";
    o.dry_run = cl.dry_run;
    o.with_diff = cl.dry_run;
    const auto term = terminal::detect(cl);
    progress_line line(err, term.progress);
    o.on_progress = line.callback();
    auto s = run_to_end(ioc, eng.run(r, o));
    line.clear();
    if (!s) {
        err << "wfsync: restore: " << log::redact(s.error().what()) << '\n';
        return exit_code_for(s.error());
    }
    const auto mode = cl.dry_run ? run_mode::dry_run : run_mode::done;
    if (cl.json) {
        auto o = run_json(*s, mode);
        o["from"] = cl.from;
        o["to"] = cl.to;
        print_json(out, boost::json::object{{"runs", boost::json::array{std::move(o)}}});
    } else {
        print_run(out, *s, mode, (cl.dry_run ? "dry run of restore from " : "restore from ") + cl.from + " to " + cl.to,
                  term.color_out);
    }
    return s->errors == 0 ? exit_ok : (s->only_transient_errors() ? exit_tempfail : exit_partial);
}

}  // namespace wfsync::app
