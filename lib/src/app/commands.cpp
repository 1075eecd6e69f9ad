// SPDX-License-Identifier: Apache-2.0
#include <wfsync/app/cli.hpp>

#include "load_config.hpp"
#include "run_to_end.hpp"
#include "archive_commands.hpp"
#include "resolve_command.hpp"
#include "serve.hpp"
#include "state_command.hpp"

#include <wfsync/app/admin.hpp>
#include <wfsync/core/duration.hpp>

#include <wfsync/config/config.hpp>
#include <wfsync/connector/connector.hpp>
#include <wfsync/core/log.hpp>
#include <wfsync/store/state_lock.hpp>
#include <wfsync/store/store.hpp>
#include <wfsync/sync/engine.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <fmt/format.h>

#include <ctime>
#include <exception>
#include <filesystem>
#include <optional>
#include <ostream>

namespace wfsync::app {

namespace {

/// A table printed with columns as wide as their widest cell.
class table {
public:
    explicit table(std::vector<std::string> header) { rows_.push_back(std::move(header)); }
    void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
    bool empty() const noexcept { return rows_.size() == 1; }

    void print(std::ostream& out, std::string_view indent = "  ") const
    {
        std::vector<std::size_t> width;
        for (const auto& r : rows_)
            for (std::size_t i = 0; i < r.size(); ++i) {
                if (width.size() <= i) width.push_back(0);
                width[i] = std::max(width[i], r[i].size());
            }
        for (const auto& r : rows_) {
            out << indent;
            for (std::size_t i = 0; i < r.size(); ++i) {
                out << r[i];
                if (i + 1 < r.size()) out << std::string(width[i] - r[i].size() + 2, ' ');
            }
            out << '\n';
        }
    }

private:
    std::vector<std::vector<std::string>> rows_;
};

std::string format_time(std::int64_t t)
{
    if (t == 0) return "-";
    std::time_t tt = static_cast<std::time_t>(t);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%SZ", &tm);
    return buf;
}

std::string short_hash(const std::string& h)
{
    return h.size() > 12 ? h.substr(0, 12) : h;
}

/// Loads the config; on failure prints every issue and returns nullptr.
std::shared_ptr<const config::config> load_config(const std::string& file, std::ostream& err)
{
    auto loaded = load_checked(file);
    if (auto* issues = std::get_if<std::vector<config::config_issue>>(&loaded)) {
        print_issues(*issues, err);
        return nullptr;
    }
    auto cfg = std::get<std::shared_ptr<const config::config>>(loaded);
    log::level lvl = log::level::info;
    log::parse_level(cfg->log.level, lvl);
    log::init(lvl, cfg->log.format == "json" ? log::format::json : log::format::text);
    return cfg;
}

result<std::unique_ptr<store::store>> open_state(const config::config& cfg)
{
    auto path = (std::filesystem::path(cfg.state.path) / "state.db").string();
    auto st = store::open_sqlite(path);
    // Most messages name the file already; the others say which file they are about.
    if (!st && st.error().message.find(path) == std::string::npos) return std::move(st.error()).context("state " + path);
    return st;
}

/// The state's lock for a command that changes the state; on failure, says why on `err` and
/// sets `code`: 75 when another command holds it (it will let go), else as the error says
/// (77 for access refused, 74 for a read-only file system).
std::optional<store::state_lock> lock_state(const config::config& cfg, const command_line& cl, std::ostream& err,
                                            int& code)
{
    auto what = cl.command + (cl.positional.empty() ? "" : " " + cl.positional.front());
    auto lock = store::state_lock::acquire(cfg.state.path, "wfsync " + what, cl.wait);
    if (!lock) {
        err << "wfsync: " << lock.error().what() << '\n';
        code = lock.error().code == errc::conflict ? exit_tempfail : exit_code_for(lock.error());
        return std::nullopt;
    }
    return std::move(*lock);
}

/// The rules named with --rule, or all; an unknown name is a usage error.
result<std::vector<const config::rule*>> chosen_rules(const config::config& cfg, const command_line& cl)
{
    std::vector<const config::rule*> out;
    if (cl.rules.empty()) {
        for (const auto& r : cfg.rules) out.push_back(&r);
        return out;
    }
    for (const auto& name : cl.rules) {
        const auto* r = cfg.find_rule(name);
        if (!r) {
            std::string known;
            for (const auto& k : cfg.rules) known += (known.empty() ? "" : ", ") + k.name;
            return fail(errc::invalid_argument, "no rule named '" + name + "' in the config (rules: " + known + ")");
        }
        out.push_back(r);
    }
    return out;
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

void print_summary(std::ostream& out, const sync::run_summary& s, bool planning)
{
    out << (planning ? "plan for rule " : "rule ") << s.rule << " (run " << s.run_uid << "): ";
    if (planning) {
        int to_import = 0;
        for (const auto& i : s.items)
            if (i.what == sync::action::import || i.what == sync::action::create) ++to_import;
        out << to_import << " to import, ";
    } else {
        out << s.imported << " imported, ";
    }
    out << s.unchanged << " unchanged, " << s.drift << " drift, " << s.skipped << " skipped, " << s.errors
        << " errors\n";
    out << "  " << reading_of(s) << '\n';
    table t({"ACTION", "WORKFLOW", "VERSION", "TARGET", "TARGET VERSION", "WHY"});
    for (const auto& i : s.items) {
        auto act = std::string(to_string(i.what));
        if (planning && (i.what == sync::action::import || i.what == sync::action::create)) act = "would " + act;
        std::string target = i.target_tenant;
        if (!i.target_workflow.empty()) target += "/" + i.target_workflow;
        t.add({act, i.workflow_name + " (" + i.source_tenant + "/" + i.source_workflow + ")", i.source_version,
               target, i.target_version, log::redact(i.reason)});
    }
    if (!t.empty()) t.print(out);
    if (planning) {
        for (const auto& i : s.items) {
            if (i.diff.empty()) continue;
            out << "  changes for " << i.workflow_name << " -> " << i.target_tenant << ":\n";
            for (const auto& d : i.diff) out << "    " << log::redact(d) << '\n';
        }
    }
}

int run_sync(const command_line& cl, bool planning, std::ostream& out, std::ostream& err)
{
    auto cfg = load_config(cl.config_file, err);
    if (!cfg) return exit_config;
    auto rules = chosen_rules(*cfg, cl);
    if (!rules) {
        err << "wfsync: " << rules.error().message << '\n';
        return exit_usage;
    }
    // A dry run changes nothing: it needs no lock.
    std::optional<store::state_lock> lock;
    if (!planning && !cl.dry_run) {
        int code = exit_ok;
        lock = lock_state(*cfg, cl, err, code);
        if (!lock) return code;
    }
    auto st = open_state(*cfg);
    if (!st) {
        err << "wfsync: " << st.error().what() << '\n';
        return exit_code_for(st.error());
    }

    boost::asio::io_context ioc;
    sync::engine eng(ioc.get_executor(), cfg, **st);
    sync::run_options opts;
    opts.command = planning ? "plan" : "sync";
    opts.dry_run = planning || cl.dry_run;
    opts.with_diff = planning;
    opts.full = cl.full;

    int code = exit_ok;
    bool any_done = false, all_transient = true, any_failure = false;
    // A rule that failed on the state or a local file: the next rule would too, and waiting
    // does not help (74, 77).
    int local_failure = exit_ok;
    // A tenant it contacts whose secret cannot be read: a config problem (78), as at load.
    bool config_failure = false;
    boost::json::array runs;
    for (const auto* r : *rules) {
        auto s = run_to_end(ioc, eng.run(*r, opts));
        ioc.restart();
        if (!s) {
            any_failure = true;
            if (!is_retryable(s.error())) all_transient = false;
            if (auto c = exit_code_for(s.error()); c == exit_ioerr || c == exit_noperm) local_failure = c;
            if (s.error().code == errc::config) config_failure = true;
            err << "wfsync: rule " << r->name << ": " << log::redact(s.error().what()) << '\n';
            if (cl.json) {
                boost::json::object o;
                o["rule"] = r->name;
                o["error"] = log::redact(s.error().what());
                runs.push_back(std::move(o));
            }
            continue;
        }
        if (s->errors > 0) {
            any_failure = true;
            if (!s->only_transient_errors()) all_transient = false;
            for (const auto& i : s->items)
                if (i.what == sync::action::error && i.error_kind == errc::config) config_failure = true;
        }
        if (s->imported + s->unchanged > 0) any_done = true;
        if (cl.json) {
            boost::json::object o;
            o["rule"] = s->rule;
            o["run"] = s->run_uid;
            o["imported"] = s->imported;
            o["unchanged"] = s->unchanged;
            o["drift"] = s->drift;
            o["skipped"] = s->skipped;
            o["errors"] = s->errors;
            o["by_listing"] = s->by_listing;
            boost::json::object full;
            for (const auto& [why, n] : s->compared_in_full) full[why] = n;
            o["compared_in_full"] = std::move(full);
            boost::json::array items;
            for (const auto& i : s->items) items.push_back(item_json(i));
            o["items"] = std::move(items);
            runs.push_back(std::move(o));
        } else {
            print_summary(out, *s, planning);
        }
    }
    if (cl.json) out << boost::json::serialize(boost::json::object{{"runs", std::move(runs)}}) << '\n';
    if (any_failure) code = (all_transient && !any_done) ? exit_tempfail : exit_partial;
    if (config_failure) code = exit_config;
    if (local_failure != exit_ok) code = local_failure;
    return code;
}

int run_check(const command_line& cl, std::ostream& out, std::ostream& err)
{
    auto cfg = load_config(cl.config_file, err);
    if (!cfg) return exit_config;
    // Secrets are read only when a tenant is contacted; offline, one that cannot be read now
    // is a warning (the shell may lack the daemon's credentials), an error with --strict.
    auto unreadable = config::unreadable_secrets(*cfg);
    for (const auto& i : unreadable)
        err << "wfsync: " << (cl.strict ? "error" : "warning") << ": " << log::redact(i.str()) << '\n';
    if (cl.strict && !unreadable.empty()) return exit_config;
    out << "config " << cl.config_file << " is valid: " << cfg->tenants.size() << " tenants, "
        << cfg->rules.size() << " rules\n";
    if (cl.offline) return exit_ok;

    boost::asio::io_context ioc;
    int code = exit_ok;
    table t({"TENANT", "PLATFORM", "LOGIN"});
    for (const auto& [name, tenant] : cfg->tenants) {
        auto c = connector::make_connector(ioc.get_executor(), tenant);
        if (!c) {
            t.add({name, std::string(config::to_string(tenant.kind)), "failed: " + log::redact(c.error().what())});
            code = exit_partial;
            continue;
        }
        auto ok = run_to_end(ioc, (*c)->check_login());
        ioc.restart();
        if (ok) {
            t.add({name, std::string(config::to_string(tenant.kind)), "ok"});
        } else {
            t.add({name, std::string(config::to_string(tenant.kind)), "failed: " + log::redact(ok.error().what())});
            code = exit_partial;
        }
    }
    t.print(out);
    return code;
}

int run_history(const command_line& cl, std::ostream& out, std::ostream& err)
{
    auto cfg = load_config(cl.config_file, err);
    if (!cfg) return exit_config;
    auto st = open_state(*cfg);
    if (!st) {
        err << "wfsync: " << st.error().what() << '\n';
        return exit_code_for(st.error());
    }
    store::history_filter f;
    if (!cl.rules.empty()) f.rule = cl.rules.front();
    f.workflow = cl.workflow;
    f.limit = cl.limit;
    auto runs = (*st)->list_runs(f);
    auto events = (*st)->list_events(f);
    if (!runs || !events) {
        const auto& e = !runs ? runs.error() : events.error();
        err << "wfsync: reading history: " << e.what() << '\n';
        return exit_code_for(e);
    }
    if (cl.json) {
        boost::json::array rj, ej;
        for (const auto& r : *runs) {
            rj.push_back(boost::json::object{{"run", r.uid},           {"rule", r.rule},
                                             {"command", r.command},   {"started_at", r.started_at},
                                             {"finished_at", r.finished_at}, {"outcome", r.outcome},
                                             {"imported", r.imported}, {"unchanged", r.unchanged},
                                             {"drift", r.drift},       {"errors", r.errors}});
        }
        for (const auto& e : *events) {
            ej.push_back(boost::json::object{{"run", e.run_uid},
                                             {"at", e.at},
                                             {"rule", e.rule},
                                             {"kind", e.kind},
                                             {"source_tenant", e.source_tenant},
                                             {"source_workflow", e.source_workflow},
                                             {"workflow_name", e.workflow_name},
                                             {"target_tenant", e.target_tenant},
                                             {"target_workflow", e.target_workflow},
                                             {"version", e.version},
                                             {"content_hash", e.content_hash},
                                             {"message", log::redact(e.message)},
                                             {"duration_ms", e.duration_ms}});
        }
        out << boost::json::serialize(boost::json::object{{"runs", std::move(rj)}, {"events", std::move(ej)}})
            << '\n';
        return exit_ok;
    }
    out << "runs (newest first):\n";
    table rt({"RUN", "RULE", "COMMAND", "STARTED", "OUTCOME", "IMPORTED", "UNCHANGED", "DRIFT", "ERRORS"});
    for (const auto& r : *runs)
        rt.add({r.uid, r.rule, r.command, format_time(r.started_at), r.outcome.empty() ? "(unfinished)" : r.outcome,
                std::to_string(r.imported), std::to_string(r.unchanged), std::to_string(r.drift),
                std::to_string(r.errors)});
    if (rt.empty()) out << "  (none)\n";
    else rt.print(out);
    out << "events (newest first):\n";
    table et({"TIME", "RUN", "KIND", "WORKFLOW", "TARGET", "VERSION", "HASH", "MESSAGE"});
    for (const auto& e : *events) {
        std::string target = e.target_tenant;
        if (!e.target_workflow.empty()) target += "/" + e.target_workflow;
        et.add({format_time(e.at), e.run_uid, e.kind, e.workflow_name + " (" + e.source_tenant + "/" + e.source_workflow + ")",
                target, e.version, short_hash(e.content_hash), log::redact(e.message)});
    }
    if (et.empty()) out << "  (none)\n";
    else et.print(out);
    return exit_ok;
}

}  // namespace

int run_command(const command_line& cl, std::ostream& out, std::ostream& err)
{
    try {
        if (cl.command == "sync") return run_sync(cl, false, out, err);
        if (cl.command == "plan") return run_sync(cl, true, out, err);
        if (cl.command == "check") return run_check(cl, out, err);
        if (cl.command == "history") return run_history(cl, out, err);
        if (cl.command == "serve") {
            serve_options opts;
            if (!cl.grace.empty()) opts.grace = *parse_duration(cl.grace);  // checked by the parser
            opts.wait = cl.wait;
            return run_serve(cl.config_file, opts, err);
        }
        if (cl.command == "archive" || cl.command == "restore" || cl.command == "resolve") {
            auto cfg = load_config(cl.config_file, err);
            if (!cfg) return exit_config;
            // Commands that change the state hold its lock; those that only read do not. So
            // does resolve: it settles held intents, which no run touches, and an operator must
            // be able to do it while the daemon runs.
            const bool writes = (cl.command == "restore" && !cl.dry_run) ||
                                (cl.command == "archive" && cl.positional.front() == "prune" && !cl.dry_run);
            std::optional<store::state_lock> lock;
            if (writes) {
                int code = exit_ok;
                lock = lock_state(*cfg, cl, err, code);
                if (!lock) return code;
            }
            auto st = open_state(*cfg);
            if (!st) {
                err << "wfsync: " << st.error().what() << '\n';
                return exit_code_for(st.error());
            }
            if (cl.command == "resolve") return run_resolve(**st, cl, out, err);
            return cl.command == "archive" ? run_archive(*cfg, **st, cl, out, err)
                                           : run_restore(cfg, **st, cl, out, err);
        }
        if (cl.command == "state") {
            // Read-only: no lock, and the store is not opened (a damaged one could not be).
            auto cfg = load_config(cl.config_file, err);
            if (!cfg) return exit_config;
            return run_state(*cfg, cl, out, err);
        }
        if (cl.command == "status") {
            auto cfg = load_config(cl.config_file, err);
            if (!cfg) return exit_config;
            return run_status(*cfg, cl.json, out, err);
        }
        err << "wfsync: '" << cl.command << "' is not available in this version yet\n";
        return exit_usage;
    } catch (const std::exception& e) {
        // A bug, not an expected failure: say so plainly rather than abort.
        err << "wfsync: internal error: " << log::redact(e.what()) << '\n';
        return exit_partial;
    }
}

}  // namespace wfsync::app
