// SPDX-License-Identifier: Apache-2.0
#include <wfsync/app/cli.hpp>

#include "load_config.hpp"
#include "output.hpp"
#include "run_report.hpp"
#include "terminal.hpp"
#include "run_to_end.hpp"
#include "archive_commands.hpp"
#include "diff_command.hpp"
#include "version_command.hpp"
#include "resolve_command.hpp"
#include "serve.hpp"
#include "state_command.hpp"

#include <wfsync/app/admin.hpp>
#include <wfsync/app/notifications.hpp>
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

std::string short_hash(const std::string& h)
{
    return h.size() > 12 ? h.substr(0, 12) : h;
}

/// The log level of a one-shot command: -v info, -vv debug; -q warnings and errors; on a
/// terminal, warnings and errors unless -v (the command's own output says what was done);
/// elsewhere (cron, a pipe, journald) the config's level.
log::level level_for(const command_line& cl, log::level configured)
{
    if (cl.verbose >= 2) return log::level::debug;
    if (cl.verbose == 1) return std::min(configured, log::level::info);
    if (cl.quiet || terminal::detect(cl).interactive) return std::max(configured, log::level::warn);
    return configured;
}

/// Loads the config; on failure prints every issue and returns nullptr.
std::shared_ptr<const config::config> load_config(const command_line& cl, std::ostream& err)
{
    auto loaded = load_checked(cl.config_file);
    if (auto* issues = std::get_if<std::vector<config::config_issue>>(&loaded)) {
        print_issues(*issues, err);
        return nullptr;
    }
    auto cfg = std::get<std::shared_ptr<const config::config>>(loaded);
    log::level lvl = log::level::info;
    log::parse_level(cfg->log.level, lvl);
    log::init(level_for(cl, lvl), cfg->log.format == "json" ? log::format::json : log::format::text);
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

int run_sync(const command_line& cl, bool planning, std::ostream& out, std::ostream& err)
{
    auto cfg = load_config(cl, err);
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
    notifications notices(ioc.get_executor(), **st);
    sync::run_options opts;
    opts.command = planning ? "plan" : "sync";
    opts.dry_run = planning || cl.dry_run;
    opts.with_diff = planning;
    opts.full = cl.full;
    const auto term = terminal::detect(cl);
    progress_line line(err, term.progress);
    opts.on_progress = line.callback();

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
        line.clear();
        if (!opts.dry_run) notices.queue(*cfg, r->name, s);
        if (!s) {
            any_failure = true;
            if (!is_retryable(s.error())) all_transient = false;
            if (auto c = exit_code_for(s.error()); c == exit_ioerr || c == exit_noperm) local_failure = c;
            if (s.error().code == errc::config) config_failure = true;
            // On a terminal a plain line; elsewhere a log line, so that journald files it as an
            // error and log.format: json stays JSON on every line.
            if (term.interactive) err << "wfsync: rule " << r->name << ": " << log::redact(s.error().what()) << '\n';
            else log::error({.rule = r->name}, "run failed: {}", s.error().what());
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
        const auto mode = planning ? run_mode::plan : cl.dry_run ? run_mode::dry_run : run_mode::done;
        if (cl.json) {
            runs.push_back(run_json(*s, mode));
        } else {
            print_run(out, *s, mode, (planning ? "plan for rule " : cl.dry_run ? "dry run of rule " : "rule ") + s->rule,
                      term.color_out);
        }
    }
    // Delivered once after every rule ran: a receiver that is down costs one timeout, not one per rule.
    if (!opts.dry_run && !cfg->notify.empty()) {
        run_to_end(ioc, notices.deliver_pending(cfg));
        ioc.restart();
    }
    if (cl.json) out << boost::json::serialize(boost::json::object{{"runs", std::move(runs)}}) << '\n';
    if (any_failure) code = (all_transient && !any_done) ? exit_tempfail : exit_partial;
    if (config_failure) code = exit_config;
    if (local_failure != exit_ok) code = local_failure;
    return code;
}

/// Config issues (load problems, unreadable secrets) as JSON: file, line, column, key, message.
boost::json::array issues_json(const std::vector<config::config_issue>& issues)
{
    boost::json::array list;
    for (const auto& i : issues)
        list.push_back(boost::json::object{{"file", i.where.file},
                                           {"line", i.where.line},
                                           {"column", i.where.column},
                                           {"key", i.path},
                                           {"message", log::redact(i.message)}});
    return list;
}

int run_check(const command_line& cl, std::ostream& out, std::ostream& err)
{
    std::shared_ptr<const config::config> cfg;
    if (cl.json) {
        // The problems as JSON too: a CI job checking a config change reads them.
        auto loaded = load_checked(cl.config_file);
        if (auto* issues = std::get_if<std::vector<config::config_issue>>(&loaded)) {
            print_json(out, boost::json::object{{"config", cl.config_file}, {"valid", false}, {"issues", issues_json(*issues)}});
            print_issues(*issues, err);
            return exit_config;
        }
        cfg = std::get<std::shared_ptr<const config::config>>(loaded);
        log::level lvl = log::level::info;
        log::parse_level(cfg->log.level, lvl);
        log::init(level_for(cl, lvl), cfg->log.format == "json" ? log::format::json : log::format::text);
    } else {
        cfg = load_config(cl, err);
        if (!cfg) return exit_config;
    }
    // Secrets are read only when a tenant is contacted; offline, one that cannot be read now
    // is a warning (the shell may lack the daemon's credentials), an error with --strict.
    auto unreadable = config::unreadable_secrets(*cfg);
    for (const auto& i : unreadable)
        err << "wfsync: " << (cl.strict ? "error" : "warning") << ": " << log::redact(i.str()) << '\n';
    if (cl.strict && !unreadable.empty()) {
        if (cl.json)
            print_json(out, boost::json::object{{"config", cl.config_file}, {"valid", false}, {"issues", issues_json(unreadable)}});
        return exit_config;
    }
    if (!cl.json)
        out << "config " << cl.config_file << " is valid: " << cfg->tenants.size() << " tenants, "
            << cfg->rules.size() << " rules\n";
    boost::json::object report{{"config", cl.config_file},
                               {"valid", true},
                               {"tenants", cfg->tenants.size()},
                               {"rules", cfg->rules.size()},
                               {"unreadable_secrets", issues_json(unreadable)}};
    if (cl.offline) {
        if (cl.json) print_json(out, report);
        return exit_ok;
    }

    boost::asio::io_context ioc;
    // As sync: 75 when every failure may pass by itself and no tenant answered, else 1.
    bool any_ok = false, any_failure = false, all_transient = true;
    table t({"TENANT", "PLATFORM", "LOGIN"});
    boost::json::array logins;
    for (const auto& [name, tenant] : cfg->tenants) {
        auto c = connector::make_connector(ioc.get_executor(), tenant);
        auto ok = c ? run_to_end(ioc, (*c)->check_login()) : result<void>(c.error());
        ioc.restart();
        const auto platform = std::string(config::to_string(tenant.kind));
        boost::json::object login{{"tenant", name}, {"platform", platform}, {"ok", ok.has_value()}};
        if (ok) {
            any_ok = true;
            t.add({name, platform, "ok"}, {colour::none, colour::none, colour::green});
        } else {
            any_failure = true;
            if (!is_retryable(ok.error())) all_transient = false;
            const auto why = log::redact(ok.error().what());
            t.add({name, platform, "failed: " + why}, {colour::none, colour::none, colour::red});
            login["error"] = why;
        }
        logins.push_back(std::move(login));
    }
    if (cl.json) {
        report["logins"] = std::move(logins);
        print_json(out, report);
    } else {
        t.print(out, "  ", terminal::detect(cl).color_out);
    }
    if (!any_failure) return exit_ok;
    return all_transient && !any_ok ? exit_tempfail : exit_partial;
}

int run_history(const command_line& cl, std::ostream& out, std::ostream& err)
{
    auto cfg = load_config(cl, err);
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
    // A rule the config no longer has may still have a history (renamed, removed, restores);
    // a name neither knows is a typo, as for sync.
    if (!f.rule.empty() && runs->empty()) {
        if (auto rules = chosen_rules(*cfg, cl); !rules) {
            err << "wfsync: " << rules.error().message << " and no runs of it in the history\n";
            return exit_usage;
        }
    }
    if (cl.json) {
        boost::json::array rj, ej;
        for (const auto& r : *runs) {
            rj.push_back(boost::json::object{{"run", r.uid},           {"rule", r.rule},
                                             {"command", r.command},   {"started_at", iso_json(r.started_at)},
                                             {"finished_at", iso_json(r.finished_at)}, {"outcome", r.outcome},
                                             {"imported", r.imported}, {"unchanged", r.unchanged},
                                             {"drift", r.drift},       {"errors", r.errors}});
        }
        for (const auto& e : *events) {
            ej.push_back(boost::json::object{{"run", e.run_uid},
                                             {"at", iso_json(e.at)},
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
        rt.add({r.uid, r.rule, r.command, iso_time(r.started_at), r.outcome.empty() ? "(unfinished)" : r.outcome,
                std::to_string(r.imported), std::to_string(r.unchanged), std::to_string(r.drift),
                std::to_string(r.errors)});
    if (rt.empty()) out << "  (none)\n";
    else rt.print(out, "  ", terminal::detect(cl).color_out);
    out << "events (newest first):\n";
    table et({"TIME", "RUN", "KIND", "WORKFLOW", "TARGET", "VERSION", "HASH", "MESSAGE"});
    for (const auto& e : *events) {
        std::string target = e.target_tenant;
        if (!e.target_workflow.empty()) target += "/" + e.target_workflow;
        et.add({iso_time(e.at), e.run_uid, e.kind, e.workflow_name + " (" + e.source_tenant + "/" + e.source_workflow + ")",
                target, e.version, short_hash(e.content_hash), log::redact(e.message)});
    }
    if (et.empty()) out << "  (none)\n";
    else et.print(out, "  ", terminal::detect(cl).color_out);
    return exit_ok;
}

}  // namespace

int run_command(const command_line& cl, std::ostream& out, std::ostream& err)
{
    try {
        if (cl.command == "version") return run_version(cl, out);
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
            auto cfg = load_config(cl, err);
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
        if (cl.command == "diff") {
            auto cfg = load_config(cl, err);
            if (!cfg) return exit_config;
            auto st = open_state(*cfg);
            if (!st) {
                err << "wfsync: " << st.error().what() << '\n';
                return exit_code_for(st.error());
            }
            return run_diff(*cfg, **st, cl, out, err);
        }
        if (cl.command == "state") {
            // Read-only: no lock, and the store is not opened (a damaged one could not be).
            auto cfg = load_config(cl, err);
            if (!cfg) return exit_config;
            return run_state(*cfg, cl, out, err);
        }
        if (cl.command == "status") {
            auto cfg = load_config(cl, err);
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
