// SPDX-License-Identifier: Apache-2.0
// `wfsync serve`: the rules on their schedules, the admin endpoint, systemd notify, reload
// on SIGHUP and a graceful stop on SIGTERM, all on one io_context.
#include "serve.hpp"

#include "load_config.hpp"

#include <wfsync/app/admin.hpp>
#include <wfsync/app/metrics.hpp>
#include <wfsync/app/notifications.hpp>
#include <wfsync/config/config.hpp>
#include <wfsync/connector/connector.hpp>
#include <wfsync/core/build_info.hpp>
#include <wfsync/core/log.hpp>
#include <wfsync/net/http_client.hpp>
#include <wfsync/schedule/clock.hpp>
#include <wfsync/schedule/cron.hpp>
#include <wfsync/schedule/scheduler.hpp>
#include <wfsync/shell/notify.hpp>
#include <wfsync/shell/signals.hpp>
#include <wfsync/store/store.hpp>
#include <wfsync/store/state_lock.hpp>
#include <wfsync/sync/engine.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <ctime>
#include <filesystem>
#include <map>
#include <set>
#include <ostream>

namespace wfsync::app {

namespace {

/// Secrets are read when a tenant is contacted; saying at start-up and reload which cannot
/// be read now spares waiting for the first run of their rules to find out.
void warn_unreadable_secrets(const config::config& cfg)
{
    for (const auto& i : config::unreadable_secrets(cfg))
        log::warn("{} (runs contacting this tenant will fail until it can be read)", i.str());
}

using wall_time = std::chrono::system_clock::time_point;

/// What the daemon remembers about each rule between runs, for /status.
struct rule_state {
    std::string last_outcome;
    std::optional<wall_time> last_run;
    std::optional<wall_time> last_success;
};

/// One loaded config with the engine built for it. Runs keep the generation they started
/// with, so a reload never changes a run half-way.
struct generation {
    std::shared_ptr<const config::config> cfg;
    std::shared_ptr<sync::engine> engine;
};

/// The gap between a rule's next two fires after `now`; nullopt without a schedule.
std::optional<std::chrono::seconds> schedule_interval(const config::rule& r, std::chrono::system_clock::time_point now)
{
    if (r.schedule.empty()) return std::nullopt;
    auto parsed = wfsync::schedule::schedule::parse(r.schedule, r.timezone);
    if (!parsed) return std::nullopt;
    auto first = parsed->next_after(std::chrono::floor<std::chrono::seconds>(now));
    if (first == wfsync::schedule::schedule::never) return std::nullopt;
    auto second = parsed->next_after(first);
    if (second == wfsync::schedule::schedule::never) return std::nullopt;
    return second - first;
}

std::string fingerprint(const config::rule& r)
{
    // Everything that changes when or how the rule fires; the rest is read at run time.
    return r.schedule + "\n" + r.timezone + "\n" + std::to_string(r.jitter.count()) + "\n" +
           (r.catch_up ? "1" : "0");
}

class daemon final : public admin_provider {
public:
    daemon(boost::asio::io_context& ioc, std::string config_file, std::shared_ptr<const config::config> cfg,
           std::unique_ptr<store::store> st, serve_options opts)
        : ioc_(ioc),
          config_file_(std::move(config_file)),
          store_(std::move(st)),
          opts_(opts),
          clock_(schedule::make_system_clock(ioc.get_executor())),
          scheduler_(ioc.get_executor(), clock_, [this](const std::string& name) { return run_scheduled(name); }),
          notifier_(shell::notifier::from_environment()),
          watchdog_(ioc.get_executor(), notifier_),
          signals_(ioc.get_executor()),
          notices_(ioc.get_executor(), *store_),
          started_at_(std::chrono::system_clock::now())
    {
        current_ = make_generation(std::move(cfg));
        notices_.on_outcome([this](const std::string& target, const std::string& event, std::string_view outcome) {
            metrics_.record_notification(target, event, outcome);
        });
        connector::set_attempt_observer([this](const std::string& tenant, const net::attempt_record& a) {
            metrics_.record_attempt(tenant, a);
        });
    }

    ~daemon() override { connector::set_attempt_observer({}); }

    int run()
    {
        const auto& cfg = *current_.cfg;
        auto as = admin_settings_from(cfg.admin);
        if (!as) {
            log::error("admin endpoint: {}", as.error().what());
            return exit_config;
        }
        admin_ = std::make_unique<admin_server>(ioc_.get_executor(), std::move(*as), *this);
        if (auto started = admin_->start(); !started) {
            log::error("cannot start the admin endpoint: {}", started.error().what());
            return exit_tempfail;
        }

        signals_.on_reload([this] { reload(); });
        signals_.on_stop([this](int signo) { stop(signo); });
        if (auto started = signals_.start(); !started) {
            log::error("cannot handle signals: {}", started.error().what());
            return exit_tempfail;
        }

        restore_rule_states(*current_.cfg);
        scheduler_.set_jobs(job_specs(*current_.cfg));
        scheduler_.start();
        resume_pending_jobs();
        watchdog_.start();
        ready_ = true;
        if (auto r = notifier_.ready(); !r) log::warn("systemd notify: {}", r.error().what());
        notifier_.status(fmt::format("serving {} rules", current_.cfg->rules.size()));
        log::info("wfsync serve: {} rules, admin endpoint {}", current_.cfg->rules.size(), admin_->base_url());

        ioc_.run();
        log::info("wfsync serve: stopped");
        return exit_ok;
    }

    // admin_provider
    bool ready() const override { return ready_ && !stopping_; }

    std::string metrics_text() override
    {
        if (auto jobs = store_->open_jobs(); jobs) metrics_.set_pending_jobs(static_cast<std::int64_t>(jobs->size()));
        if (auto held = store_->held_intents(); held) metrics_.set_held_imports(static_cast<std::int64_t>(held->size()));
        metrics_.set_rules(static_cast<std::int64_t>(current_.cfg->rules.size()));
        auto now = std::chrono::system_clock::now();
        metrics_.refresh_staleness(now);
        for (const auto& r : current_.cfg->rules) metrics_.set_schedule_interval(r.name, schedule_interval(r, now));
        // The scheduler counts skipped fires; the registry learns the increase since last time.
        for (const auto& j : scheduler_.status()) {
            auto& seen = overlap_seen_[j.name];
            for (; seen < j.skipped_overlap; ++seen) metrics_.record_overlap_skip(j.name);
        }
        return metrics_.render();
    }

    boost::json::object status() override
    {
        daemon_status d;
        d.version = std::string(build_info::version());
        d.started_at = started_at_;
        d.config_file = config_file_;
        d.ready = ready();
        std::map<std::string, schedule::job_status> jobs;
        for (auto& j : scheduler_.status()) jobs.emplace(j.name, j);
        for (const auto& r : current_.cfg->rules) {
            rule_status rs;
            rs.name = r.name;
            rs.source = r.source;
            rs.targets = r.targets;
            rs.schedule = r.schedule;
            rs.timezone = r.timezone;
            if (auto j = jobs.find(r.name); j != jobs.end()) {
                rs.next_fire = j->second.next_fire;
                rs.running = j->second.running;
                rs.runs = static_cast<std::int64_t>(j->second.runs);
                rs.skipped_overlap = static_cast<std::int64_t>(j->second.skipped_overlap);
            }
            if (auto st = states_.find(r.name); st != states_.end()) {
                rs.last_outcome = st->second.last_outcome;
                rs.last_run = st->second.last_run;
                rs.last_success = st->second.last_success;
            }
            d.rules.push_back(std::move(rs));
        }
        if (auto open = store_->open_jobs(); open) d.pending_jobs = static_cast<std::int64_t>(open->size());
        if (auto held = store_->held_intents(); held)
            for (const auto& i : *held)
                d.held_imports.push_back({i.id, i.rule, i.target_tenant, i.source_workflow, i.source_version, i.hold});
        return to_json(d);
    }

    result<std::string> run_rule(const std::string& name) override
    {
        if (!current_.cfg->find_rule(name)) return fail(errc::not_found, "no rule named " + name);
        if (stopping_) return fail(errc::conflict, "the daemon is stopping");
        if (!scheduler_.trigger(name)) return fail(errc::conflict, "rule " + name + " is running");
        return "rule " + name + " started";
    }

private:
    generation make_generation(std::shared_ptr<const config::config> cfg)
    {
        generation g;
        g.cfg = std::move(cfg);
        g.engine = std::make_shared<sync::engine>(ioc_.get_executor(), g.cfg, *store_);
        return g;
    }

    std::vector<schedule::job_spec> job_specs(const config::config& cfg)
    {
        std::vector<schedule::job_spec> out;
        for (const auto& r : cfg.rules) {
            schedule::job_spec j;
            j.name = r.name;
            if (!r.schedule.empty()) {
                auto parsed = wfsync::schedule::schedule::parse(r.schedule, r.timezone);
                if (parsed) j.when = std::move(*parsed);  // load_checked refused the others
            }
            j.jitter = r.jitter;
            j.catch_up = r.catch_up;
            j.fingerprint = fingerprint(r);
            store::history_filter f;
            f.rule = r.name;
            f.limit = 1;
            if (auto runs = store_->list_runs(f); runs && !runs->empty())
                j.last_run = std::chrono::system_clock::from_time_t(runs->front().started_at);
            out.push_back(std::move(j));
        }
        return out;
    }

    /// What the state says about each rule's past runs (a restart, a rule added by a reload):
    /// /status and the last-success gauge are right before the rule runs again here.
    void restore_rule_states(const config::config& cfg)
    {
        auto ok = store_->last_successes();
        if (!ok) {
            log::warn("cannot read the rules' last successes: {}", ok.error().what());
            return;
        }
        for (const auto& r : cfg.rules) {
            auto& st = states_[r.name];
            auto found = std::find_if(ok->begin(), ok->end(), [&](const auto& x) { return x.rule == r.name; });
            if (found != ok->end()) {
                auto at = std::chrono::system_clock::from_time_t(found->finished_at);
                if (!st.last_success || *st.last_success < at) st.last_success = at;
                metrics_.restore_last_success(r.name, at);
            }
            if (st.last_run) continue;  // this daemon ran it already
            store::history_filter f;
            f.rule = r.name;
            f.limit = 1;
            if (auto runs = store_->list_runs(f); runs && !runs->empty() && !runs->front().outcome.empty()) {
                st.last_run = std::chrono::system_clock::from_time_t(runs->front().started_at);
                st.last_outcome = runs->front().outcome;
            }
        }
    }

    /// Jobs a previous daemon left running (a restart, a kill -9) are picked up now rather
    /// than at the rule's next fire: every rule touching such a tenant runs once.
    void resume_pending_jobs()
    {
        auto open = store_->open_jobs();
        if (!open || open->empty()) return;
        std::set<std::string> tenants;
        for (const auto& j : *open) tenants.insert(j.tenant);
        for (const auto& r : current_.cfg->rules) {
            bool touches = tenants.contains(r.source);
            for (const auto& t : r.targets) touches = touches || tenants.contains(t);
            if (touches && scheduler_.trigger(r.name))
                log::info({.rule = r.name}, "running now to resume {} pending jobs", open->size());
        }
    }

    awaitable<void> run_scheduled(std::string name)
    {
        // The generation is pinned for the whole run.
        auto gen = current_;
        const auto* r = gen.cfg->find_rule(name);
        if (!r) co_return;
        auto& st = states_[name];
        st.last_run = std::chrono::system_clock::now();
        sync::run_options o;
        o.command = "serve";
        auto began = std::chrono::steady_clock::now();
        auto s = co_await gen.engine->run(*r, o);
        std::chrono::duration<double> took = std::chrono::steady_clock::now() - began;
        auto finished = std::chrono::system_clock::now();
        if (!s) {
            st.last_outcome = "failed";
            metrics_.record_run_failure(name, s.error(), took);
            log::error({.rule = name}, "run failed: {}", s.error().what());
            notifier_.status(fmt::format("rule {}: failed: {}", name, log::redact(s.error().what())));
        } else {
            metrics_.record_run(*s, finished, took);
            st.last_outcome = std::string(daemon_metrics::outcome_of(*s));
            if (s->errors == 0) st.last_success = finished;
            notifier_.status(fmt::format("rule {}: {} imported, {} unchanged, {} drift, {} errors", name, s->imported,
                                         s->unchanged, s->drift, s->errors));
        }
        // After the run is recorded and reported: a slow receiver delays only this.
        co_await notices_.after_run(gen.cfg, name, s);
    }

    void reload()
    {
        if (stopping_) return;
        notifier_.reloading();
        log::info("SIGHUP: reloading {}", config_file_);
        auto loaded = load_checked(config_file_);
        if (auto* issues = std::get_if<std::vector<config::config_issue>>(&loaded)) {
            for (const auto& i : *issues) log::error("reload refused: {}", i.str());
            log::error("reload refused: {} errors; keeping the running configuration", issues->size());
            metrics_.record_reload(false);
            notifier_.ready();
            notifier_.status("reload refused; running on the previous configuration");
            return;
        }
        auto cfg = std::get<std::shared_ptr<const config::config>>(loaded);
        if (cfg->state.path != current_.cfg->state.path)
            log::warn("reload: state.path changed; it takes effect after a restart");
        if (cfg->admin.listen != current_.cfg->admin.listen)
            log::warn("reload: admin.listen changed; it takes effect after a restart");
        warn_unreadable_secrets(*cfg);
        for (const auto& r : current_.cfg->rules)
            if (!cfg->find_rule(r.name)) metrics_.forget_rule(r.name);
        current_ = make_generation(std::move(cfg));
        restore_rule_states(*current_.cfg);
        scheduler_.set_jobs(job_specs(*current_.cfg));
        metrics_.record_reload(true);
        notifier_.ready();
        notifier_.status(fmt::format("reloaded: serving {} rules", current_.cfg->rules.size()));
        log::info("reload: serving {} rules", current_.cfg->rules.size());
    }

    void stop(int signo)
    {
        if (stopping_) {
            log::warn("second stop signal: exiting now");
            ioc_.stop();
            return;
        }
        stopping_ = true;
        notifier_.stopping();
        log::info("signal {}: stopping; waiting up to {} ms for {} running rules", signo, opts_.grace.count(),
                  scheduler_.running());
        scheduler_.stop();
        boost::asio::co_spawn(
            ioc_,
            [this]() -> awaitable<void> {
                auto deadline = std::chrono::system_clock::now() + opts_.grace;
                bool idle = co_await scheduler_.wait_idle(deadline);
                if (!idle) {
                    log::warn("grace period over: cancelling {} running rules", scheduler_.running());
                    scheduler_.cancel_runs();
                    co_await scheduler_.wait_idle(std::chrono::system_clock::now() + std::chrono::seconds(2));
                }
                finish();
            },
            boost::asio::detached);
    }

    void finish()
    {
        watchdog_.stop();
        signals_.stop();
        if (admin_) admin_->stop();
        // Runs still in flight are abandoned here; their intents stay open in SQLite and the
        // next run settles them against the target before sending anything.
        ioc_.stop();
    }

    boost::asio::io_context& ioc_;
    std::string config_file_;
    std::unique_ptr<store::store> store_;
    serve_options opts_;
    daemon_metrics metrics_;
    std::map<std::string, std::uint64_t> overlap_seen_;
    std::shared_ptr<schedule::clock> clock_;
    schedule::scheduler scheduler_;
    shell::notifier notifier_;
    shell::watchdog watchdog_;
    shell::signal_handler signals_;
    notifications notices_;
    std::unique_ptr<admin_server> admin_;
    generation current_;
    std::map<std::string, rule_state> states_;
    wall_time started_at_;
    bool ready_ = false;
    bool stopping_ = false;
};

}  // namespace

int run_serve(const std::string& config_file, serve_options opts, std::ostream& err)
{
    (void)shell::ignore_sigpipe();  // a peer closing a socket must not kill the daemon
    auto loaded = load_checked(config_file);
    if (auto* issues = std::get_if<std::vector<config::config_issue>>(&loaded)) {
        print_issues(*issues, err);
        return exit_config;
    }
    auto cfg = std::get<std::shared_ptr<const config::config>>(loaded);
    log::level lvl = log::level::info;
    log::parse_level(cfg->log.level, lvl);
    log::init(lvl, cfg->log.format == "json" ? log::format::json : log::format::text);
    warn_unreadable_secrets(*cfg);

    // The daemon changes the state for its whole life: it holds the state's lock as long.
    auto lock = store::state_lock::acquire(cfg->state.path, "wfsync serve", opts.wait);
    if (!lock) {
        err << "wfsync: " << lock.error().what() << '\n';
        return lock.error().code == errc::conflict ? exit_tempfail : exit_code_for(lock.error());
    }
    auto path = (std::filesystem::path(cfg->state.path) / "state.db").string();
    auto st = store::open_sqlite(path);
    if (!st) {
        err << "wfsync: state " << path << ": " << st.error().what() << '\n';
        return exit_code_for(st.error());
    }
    boost::asio::io_context ioc(1);
    daemon d(ioc, config_file, std::move(cfg), std::move(*st), opts);
    return d.run();
}

}  // namespace wfsync::app
