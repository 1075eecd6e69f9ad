// SPDX-License-Identifier: Apache-2.0
// End to end: the real `wfsync serve` against the emulator, with a fake NOTIFY_SOCKET.
#define BOOST_TEST_MODULE wfsync serve end to end
#include "fixtures.hpp"
#include "support/run_coro.hpp"

#include <wfsync/net/http_client.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/test/unit_test.hpp>

#include <wfsync/core/duration.hpp>

#include <yaml-cpp/yaml.h>

#include <cmath>
#include <csignal>
#include <ctime>
#include <set>
#include <regex>
#include <sstream>
#include <map>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

using namespace wfsync::test;
namespace json = boost::json;

namespace {

/// The systemd side of sd_notify: a datagram socket the daemon writes to.
class notify_socket {
public:
    explicit notify_socket(std::string path) : path_(std::move(path))
    {
        fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path_.c_str());
        ::unlink(path_.c_str());  // a restarted daemon's systemd listens at the same path
        BOOST_REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    }
    ~notify_socket() { ::close(fd_); }
    const std::string& path() const { return path_; }

    /// Receives messages until one contains `wanted` (true) or `limit` passes (false).
    bool wait_for(std::string_view wanted, std::chrono::milliseconds limit = std::chrono::seconds(30))
    {
        for (std::size_t i = seen_; i < messages_.size(); ++i)
            if (messages_[i].find(wanted) != std::string::npos) {
                seen_ = i + 1;
                return true;
            }
        auto until = std::chrono::steady_clock::now() + limit;
        while (std::chrono::steady_clock::now() < until) {
            pollfd p{fd_, POLLIN, 0};
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
            if (::poll(&p, 1, static_cast<int>(std::max<long>(left.count(), 0))) <= 0) continue;
            char buf[4096];
            auto n = ::recv(fd_, buf, sizeof buf, 0);
            if (n <= 0) continue;
            messages_.emplace_back(buf, static_cast<std::size_t>(n));
            if (messages_.back().find(wanted) != std::string::npos) {
                seen_ = messages_.size();
                return true;
            }
        }
        return false;
    }
    const std::vector<std::string>& messages() const { return messages_; }

private:
    std::string path_;
    int fd_ = -1;
    std::vector<std::string> messages_;
    std::size_t seen_ = 0;
};

/// Sums a Prometheus counter over the series whose labels contain `labels`.
double metric_sum(const std::string& text, const std::string& name, const std::string& labels = {})
{
    double sum = 0;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#') continue;
        if (line.compare(0, name.size(), name) != 0) continue;
        auto rest = line.substr(name.size());
        if (!rest.empty() && rest[0] != '{' && rest[0] != ' ') continue;  // a longer name
        if (!labels.empty() && rest.find(labels) == std::string::npos) continue;
        sum += std::stod(line.substr(line.rfind(' ') + 1));
    }
    return sum;
}

/// `wfsync serve` as a child, with its notify socket and admin URL.
struct daemon_under_test {
    wfsync_env env;
    std::string admin;
    std::unique_ptr<notify_socket> notify;
    std::unique_ptr<process> proc;

    daemon_under_test(const std::string& base_url, config_options o, std::vector<std::string> extra_args = {},
                      std::map<std::string, std::string> extra_env = {})
    {
        auto port = free_port();
        o.admin_listen = "127.0.0.1:" + std::to_string(port);
        o.log_level = "info";
        env = make_env(base_url, o);
        admin = "http://127.0.0.1:" + std::to_string(port);
        for (auto& [k, v] : extra_env) env.env[k] = v;
        args_ = {"--config", env.config_file, "serve"};
        args_.insert(args_.end(), extra_args.begin(), extra_args.end());
        start();
    }

    /// Starts the daemon (again, after stop()) on the same state, config and admin port.
    void start()
    {
        proc.reset();
        notify.reset();
        notify = std::make_unique<notify_socket>(env.dir->file("notify.sock"));
        env.env["NOTIFY_SOCKET"] = notify->path();
        proc = std::make_unique<process>(WFSYNC_BIN, args_, env.env, env.dir->file("serve.out"),
                                         env.dir->file("serve.err"));
        BOOST_REQUIRE_MESSAGE(notify->wait_for("READY=1"), "no READY=1; stderr:\n" + log());
    }

    std::string log() const { return read_file(env.dir->file("serve.err")); }

    json::object status()
    {
        auto r = http(admin, "GET", "/status");
        BOOST_REQUIRE_MESSAGE(r.status == 200, "GET /status: " + std::to_string(r.status) + " " + r.body);
        return json::parse(r.body).as_object();
    }

    /// Polls /status until rule `name` has `runs` finished runs and is idle.
    void wait_runs(const std::string& name, std::int64_t runs)
    {
        for (int i = 0; i < 600; ++i) {
            auto st = status();
            for (const auto& r : st.at("rules").as_array()) {
                const auto& o = r.as_object();
                if (o.at("name").as_string() == name && !o.at("running").as_bool() &&
                    o.at("runs").to_number<std::int64_t>() >= runs)
                    return;
            }
            notify->wait_for("\x01never", std::chrono::milliseconds(50));  // a bounded pause between polls
        }
        BOOST_FAIL("rule " + name + " did not finish " + std::to_string(runs) + " runs; stderr:\n" + log());
    }

    int stop(int sig = SIGTERM, std::chrono::seconds limit = std::chrono::seconds(30))
    {
        proc->signal(sig);
        auto code = proc->wait_for(limit);
        BOOST_REQUIRE_MESSAGE(code.has_value(), "serve did not exit; stderr:\n" + log());
        return *code;
    }

private:
    std::vector<std::string> args_;
};

/// The value of the one sample of `name` whose labels contain `labels`; fails when there is none.
double metric_value(const std::string& text, const std::string& name, const std::string& labels = {})
{
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind(name, 0) != 0 || line.size() <= name.size()) continue;
        if (line[name.size()] != '{' && line[name.size()] != ' ') continue;
        if (!labels.empty() && line.find(labels) == std::string::npos) continue;
        return std::stod(line.substr(line.rfind(' ') + 1));
    }
    BOOST_FAIL("no sample " + name + "{" + labels + "} in:\n" + text);
    return 0;
}

}  // namespace

BOOST_AUTO_TEST_CASE(every_second_rule_replicates_and_notifies_in_order)
{
    emulator_thread emu(seed());
    daemon_under_test d(emu->base_url(), {.schedule = "@every 1s"});
    d.wait_runs("promote", 1);
    expect_replicated_once(emu);
    BOOST_TEST(http(d.admin, "GET", "/healthz").status == 200);
    BOOST_TEST(http(d.admin, "GET", "/readyz").status == 200);
    auto st = d.status();
    const auto& rule = st.at("rules").as_array().at(0).as_object();
    BOOST_TEST(rule.at("name").as_string() == "promote");
    BOOST_TEST(rule.at("last_outcome").as_string() == "ok");
    BOOST_TEST(rule.at("next_fire").is_string());

    // Later runs find everything in place.
    d.wait_runs("promote", 3);
    BOOST_TEST(imports(emu) == 3u);

    BOOST_TEST(d.stop() == 0, d.log());
    BOOST_TEST(d.notify->wait_for("STOPPING=1", std::chrono::seconds(1)));
    const auto& m = d.notify->messages();
    BOOST_TEST_REQUIRE(!m.empty());
    BOOST_TEST(m.front().find("READY=1") != std::string::npos);
    BOOST_TEST(m.back().find("STOPPING=1") != std::string::npos);
    int status_lines = 0;
    for (const auto& x : m) status_lines += x.find("STATUS=rule promote: ") != std::string::npos;
    BOOST_TEST(status_lines >= 3);
}

BOOST_AUTO_TEST_CASE(metrics_match_the_emulator_log_and_run_now_works)
{
    emulator_thread emu(seed());
    daemon_under_test d(emu->base_url(), {});
    BOOST_TEST(imports(emu) == 0u);  // no schedule: nothing runs by itself

    auto accepted = http(d.admin, "POST", "/rules/promote/run");
    BOOST_TEST(accepted.status == 202, accepted.body);
    d.wait_runs("promote", 1);
    expect_replicated_once(emu);
    BOOST_TEST(http(d.admin, "POST", "/rules/nope/run").status == 404);

    auto metrics = http(d.admin, "GET", "/metrics");
    BOOST_TEST_REQUIRE(metrics.status == 200);
    const auto& text = metrics.body;
    BOOST_TEST(metric_sum(text, "wfsync_imports_total") == 3.0, text);
    BOOST_TEST(metric_sum(text, "wfsync_runs_total", "outcome=\"ok\"") == 1.0, text);
    for (const std::string tenant : {"sandbox", "prod"}) {
        auto seen = static_cast<double>(emu->requests(tenant).size());
        BOOST_TEST(metric_sum(text, "wfsync_http_requests_total", "tenant=\"" + tenant + "\"") == seen, tenant);
    }
    BOOST_TEST(metric_sum(text, "wfsync_last_success_timestamp_seconds", "rule=\"promote\"") > 1.7e9);

    // The daemon owns the state: a sync beside it is refused, naming it; reads go on.
    auto beside = d.env.run({"sync"});
    BOOST_TEST(beside.code == 75, describe(beside));
    BOOST_TEST(beside.err.find("is in use by pid") != std::string::npos, beside.err);
    BOOST_TEST(beside.err.find("(wfsync serve) since") != std::string::npos, beside.err);
    auto waited = d.env.run({"sync", "--wait=200ms"});
    BOOST_TEST(waited.code == 75, describe(waited));
    BOOST_TEST(waited.err.find("(waited 200ms)") != std::string::npos, waited.err);
    BOOST_TEST(d.env.run({"history"}).code == 0);
    BOOST_TEST(d.env.run({"sync", "--dry-run"}).code == 0);
    BOOST_TEST(d.env.run({"plan"}).code == 0);
    // An operator settles held imports beside the daemon: resolve takes no lock.
    auto resolve = d.env.run({"resolve", "--intent", "999", "--not-imported"});
    BOOST_TEST(resolve.err.find("no import intent 999") != std::string::npos, describe(resolve));
    BOOST_TEST(imports(emu) == 3u);
    BOOST_TEST(d.stop() == 0, d.log());
    // Stopped, it lets go.
    BOOST_TEST(d.env.run({"sync"}).code == 0);
}

BOOST_AUTO_TEST_CASE(a_slow_tenant_holds_up_only_its_own_rule)
{
    // Rule to-slow writes into a tenant that answers every request after 300 ms; rule promote,
    // started after it, runs alongside and ends while to-slow is still at work.
    auto seed_doc = json::parse(seed()).as_object();
    auto slow = seed_doc["tenants"].as_object()["prod"].as_object();
    slow["workflows"] = json::array{};
    seed_doc["tenants"].as_object()["slow"] = slow;
    emulator_thread emu(json::serialize(seed_doc));
    BOOST_TEST_REQUIRE(emu->add_fault({{"tenant", "slow"}, {"kind", "latency"}, {"delay_ms", 300}, {"count", 100000}})
                           .has_value());
    config_options o;
    o.extra_tenants = "  slow:\n"
                      "    platform: zuora\n"
                      "    base_url: " + emu->base_url() + "/t/slow\n"
                      "    auth: {type: oauth2, client_id: prod-client, client_secret_env: WFSYNC_TEST_PROD_SECRET}\n";
    o.extra_rules = "  - {name: to-slow, source: sandbox, targets: [slow], create_missing: true}\n";
    daemon_under_test d(emu->base_url(), o);

    BOOST_TEST(http(d.admin, "POST", "/rules/to-slow/run").status == 202);
    BOOST_TEST(http(d.admin, "POST", "/rules/promote/run").status == 202);
    d.wait_runs("promote", 1);
    expect_replicated_once(emu);
    bool slow_running = false;
    auto status = d.status();  // named: a temporary would die before the loop body
    for (const auto& r : status.at("rules").as_array())
        if (r.at("name").as_string() == "to-slow") slow_running = r.at("running").as_bool();
    BOOST_TEST(slow_running, "to-slow ended before promote: nothing shows they ran side by side");
    d.wait_runs("to-slow", 1);
    BOOST_TEST(emu.versions("slow").size() == 4u);  // no select: the draft too
    BOOST_TEST(d.stop() == 0, d.log());
}

BOOST_AUTO_TEST_CASE(sighup_applies_a_new_rule_set_and_refuses_a_broken_one)
{
    emulator_thread emu(seed());
    daemon_under_test d(emu->base_url(), {});
    BOOST_TEST(d.status().at("rules").as_array().size() == 1u);

    // A second rule: same source and target, by hand only.
    auto text = config_text(d.env.dir->file("state"), emu->base_url(),
                            {.admin_listen = d.admin.substr(7), .extra_rules = "  - name: again\n"
                                                                                 "    source: sandbox\n"
                                                                                 "    targets: [prod]\n"
                                                                                 "    select: {exclude: [\"* (draft)\"]}\n"
                                                                                 "    create_missing: true\n"});
    d.env.dir->write("wfsync.yaml", text);
    d.proc->signal(SIGHUP);
    BOOST_TEST_REQUIRE(d.notify->wait_for("RELOADING=1"));
    BOOST_TEST(d.notify->messages().back().find("MONOTONIC_USEC=") != std::string::npos);
    BOOST_TEST_REQUIRE(d.notify->wait_for("READY=1"));
    BOOST_TEST(d.status().at("rules").as_array().size() == 2u);
    BOOST_TEST(http(d.admin, "POST", "/rules/again/run").status == 202);
    d.wait_runs("again", 1);
    expect_replicated_once(emu);

    d.env.dir->write("wfsync.yaml", "rules: [\n  - name: {unclosed\n");
    d.proc->signal(SIGHUP);
    BOOST_TEST_REQUIRE(d.notify->wait_for("RELOADING=1"));
    BOOST_TEST_REQUIRE(d.notify->wait_for("READY=1"));
    BOOST_TEST(d.status().at("rules").as_array().size() == 2u);
    BOOST_TEST(http(d.admin, "GET", "/healthz").status == 200);
    auto metrics = http(d.admin, "GET", "/metrics").body;
    BOOST_TEST(metric_sum(metrics, "wfsync_config_reloads_total", "result=\"failed\"") == 1.0, metrics);
    BOOST_TEST(metric_sum(metrics, "wfsync_config_reloads_total", "result=\"ok\"") == 1.0, metrics);
    BOOST_TEST(d.log().find("reload refused") != std::string::npos);
    BOOST_TEST(d.stop() == 0, d.log());
}

BOOST_AUTO_TEST_CASE(a_secret_is_read_when_its_tenant_is_contacted_and_again_after_sighup)
{
    emulator_thread emu(seed());
    temp_dir secrets;
    const auto file = secrets.file("sandbox-secret");
    config_options o;
    o.sandbox_secret_file = file;
    // The file does not exist yet: the daemon starts anyway and says which secret it lacks.
    daemon_under_test d(emu->base_url(), o);
    BOOST_TEST(d.log().find("tenants.sandbox.auth.client_secret_file: cannot read secret file '" + file + "'") !=
                   std::string::npos,
               d.log());
    BOOST_TEST(http(d.admin, "POST", "/rules/promote/run").status == 202);
    d.wait_runs("promote", 1);
    BOOST_TEST(d.status().at("rules").as_array().at(0).as_object().at("last_outcome").as_string() != "ok");
    BOOST_TEST(emu->requests("sandbox").empty());

    // Written later: the next run reads it, without a reload.
    secrets.write("sandbox-secret", sandbox_secret + "\n");
    BOOST_TEST(http(d.admin, "POST", "/rules/promote/run").status == 202);
    d.wait_runs("promote", 2);
    expect_replicated_once(emu);

    // Rotated (here to a value the tenant refuses) and reloaded: the next run uses the new one.
    secrets.write("sandbox-secret", "rotated-but-wrong\n");
    d.proc->signal(SIGHUP);
    BOOST_TEST_REQUIRE(d.notify->wait_for("RELOADING=1"));
    BOOST_TEST_REQUIRE(d.notify->wait_for("READY=1"));
    auto logins = emu.find("sandbox", "oauth/token").size();
    BOOST_TEST(http(d.admin, "POST", "/rules/promote/run").status == 202);
    d.wait_runs("promote", 3);
    BOOST_TEST(emu.find("sandbox", "oauth/token").size() > logins);
    BOOST_TEST(d.status().at("rules").as_array().at(0).as_object().at("last_outcome").as_string() != "ok");
    BOOST_TEST(d.log().find("rotated-but-wrong") == std::string::npos);
    BOOST_TEST(d.stop() == 0, d.log());
}

BOOST_AUTO_TEST_CASE(sigterm_during_slow_imports_exits_in_grace_and_restart_imports_nothing_twice)
{
    emulator_thread emu(seed());
    BOOST_TEST_REQUIRE(emu->add_fault({{"tenant", "prod"}, {"path_contains", "import"}, {"kind", "latency"},
                                       {"delay_ms", 700}, {"count", 100}})
                           .has_value());
    daemon_under_test d(emu->base_url(), {}, {"--grace", "20s"});
    BOOST_TEST(http(d.admin, "POST", "/rules/promote/run").status == 202);
    // Stop once the run has reached the target.
    for (int i = 0; i < 400 && emu.find("prod", "/export").empty(); ++i)
        d.notify->wait_for("\x01never", std::chrono::milliseconds(25));
    BOOST_TEST_REQUIRE(!emu.find("prod", "/export").empty());
    BOOST_TEST(d.stop() == 0, d.log());
    BOOST_TEST(d.log().find("stopping") != std::string::npos, d.log());
    // The run was allowed to finish within the grace period.
    expect_replicated_once(emu);

    emu->clear_requests();
    auto again = d.env.run({"sync"});
    BOOST_TEST(again.code == 0, describe(again));
    BOOST_TEST(imports(emu) == 0u);
}

BOOST_AUTO_TEST_CASE(sigterm_past_grace_cancels_and_a_rerun_converges)
{
    emulator_thread emu(seed());
    BOOST_TEST_REQUIRE(emu->add_fault({{"tenant", "prod"}, {"path_contains", "import"}, {"kind", "latency"},
                                       {"delay_ms", 3000}, {"count", 1}})
                           .has_value());
    daemon_under_test d(emu->base_url(), {}, {"--grace", "200ms"});
    BOOST_TEST(http(d.admin, "POST", "/rules/promote/run").status == 202);
    for (int i = 0; i < 400 && emu.find("prod", "/export").empty(); ++i)
        d.notify->wait_for("\x01never", std::chrono::milliseconds(25));
    BOOST_TEST(d.stop(SIGTERM, std::chrono::seconds(10)) == 0, d.log());
    BOOST_TEST(d.log().find("grace period over") != std::string::npos, d.log());

    // The cut import is still sleeping in the emulator and lands later; reruns settle it
    // (a 409 for the key in flight is an unknown outcome, not a failure) without duplicates.
    emu->clear_faults();
    run_output again;
    for (int i = 0; i < 20; ++i) {
        again = d.env.run({"sync"});
        if (again.code == 0) break;
        d.notify->wait_for("\x01never", std::chrono::milliseconds(300));  // bounded pause between reruns
    }
    BOOST_TEST(again.code == 0, describe(again));
    expect_replicated_once(emu);
}

BOOST_AUTO_TEST_CASE(watchdog_status_command_and_a_tenant_down)
{
    emulator_thread emu(seed());
    // A second rule whose source is down: the daemon must keep serving the first.
    config_options o;
    o.extra_rules = "  - name: from-nowhere\n"
                    "    source: down\n"
                    "    targets: [prod]\n"
                    "    schedule: \"@every 1s\"\n";
    o.schedule = "@every 1s";
    o.max_attempts = 2;
    o.extra_tenants = "  down:\n"
                      "    platform: zuora\n"
                      "    base_url: http://127.0.0.1:" + std::to_string(free_port()) + "\n"
                      "    auth: {type: oauth2, client_id: x, client_secret_env: WFSYNC_TEST_SBX_SECRET}\n";
    daemon_under_test d(emu->base_url(), o, {}, {{"WATCHDOG_USEC", "200000"}});
    BOOST_TEST(d.notify->wait_for("WATCHDOG=1", std::chrono::seconds(10)));
    d.wait_runs("from-nowhere", 2);
    d.wait_runs("promote", 2);
    expect_replicated_once(emu);
    BOOST_TEST(http(d.admin, "GET", "/healthz").status == 200);

    auto human = d.env.run({"status"});
    BOOST_TEST(human.code == 0, describe(human));
    BOOST_TEST(human.out.find("promote") != std::string::npos, human.out);
    BOOST_TEST(human.out.find("from-nowhere") != std::string::npos, human.out);
    auto machine = d.env.run({"status", "--json"});
    BOOST_TEST_REQUIRE(machine.code == 0, describe(machine));
    auto st = json::parse(machine.out).as_object();
    for (const auto& r : st.at("rules").as_array()) {
        const auto& o = r.as_object();
        auto expected = o.at("name").as_string() == "promote" ? "ok" : "failed";
        BOOST_TEST(o.at("last_outcome").as_string() == expected);
    }

    // Every line of /metrics is Prometheus text: a comment or `name{labels} value`.
    auto text = http(d.admin, "GET", "/metrics").body;
    std::regex sample(R"(^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\})? -?[0-9.eE+-]+$|^[a-zA-Z_:][a-zA-Z0-9_:]*(\{.*\})? [+-]Inf$)");
    std::istringstream in(text);
    std::string line;
    int samples = 0;
    while (std::getline(in, line)) {
        if (line.empty() || line.rfind("# HELP ", 0) == 0 || line.rfind("# TYPE ", 0) == 0) continue;
        BOOST_TEST(std::regex_match(line, sample), line);
        ++samples;
    }
    BOOST_TEST(samples > 10);
    BOOST_TEST(metric_sum(text, "wfsync_runs_total", "rule=\"from-nowhere\"") >= 2.0, text);
    BOOST_TEST(metric_sum(text, "wfsync_http_requests_total", "tenant=\"down\",status=\"0\"") >= 2.0, text);
    BOOST_TEST(d.stop() == 0, d.log());

    auto gone = d.env.run({"status"});
    BOOST_TEST(gone.code == 75, describe(gone));
    BOOST_TEST(gone.err.find("not running") != std::string::npos, gone.err);
}

BOOST_AUTO_TEST_CASE(a_restarted_daemon_knows_the_last_success_from_the_state)
{
    emulator_thread emu(seed());
    // A schedule that does not fire during the test (Jan 1st): runs only by hand, yet an interval.
    daemon_under_test d(emu->base_url(), {.schedule = "0 3 1 1 *"});
    BOOST_TEST(http(d.admin, "POST", "/rules/promote/run").status == 202);
    d.wait_runs("promote", 1);
    auto first = http(d.admin, "GET", "/metrics").body;
    double before = metric_value(first, "wfsync_last_success_timestamp_seconds", "rule=\"promote\"");
    // Durations are seconds with sub-millisecond precision: real sums, none truncated to 0.
    BOOST_TEST(metric_value(first, "wfsync_run_duration_seconds_count", "rule=\"promote\"") == 1.0, first);
    BOOST_TEST(metric_value(first, "wfsync_run_duration_seconds_bucket", "rule=\"promote\",le=\"+Inf\"") == 1.0);
    BOOST_TEST(metric_value(first, "wfsync_run_duration_seconds_sum", "rule=\"promote\"") > 0.0, first);
    for (const std::string tenant : {"sandbox", "prod"}) {
        auto labels = "tenant=\"" + tenant + "\"";
        BOOST_TEST(metric_value(first, "wfsync_http_request_duration_seconds_count", labels) ==
                   static_cast<double>(emu->requests(tenant).size()));
        BOOST_TEST(metric_value(first, "wfsync_http_request_duration_seconds_sum", labels) > 0.0, first);
    }
    BOOST_TEST(d.stop() == 0, d.log());
    auto requests = emu->requests("sandbox").size() + emu->requests("prod").size();

    // The run as the state holds it.
    auto history = d.env.run({"history", "--json"});
    BOOST_TEST_REQUIRE(history.code == 0, describe(history));
    auto runs = json::parse(history.out).at("runs").as_array();
    BOOST_TEST_REQUIRE(runs.size() == 1u);
    BOOST_TEST(runs[0].at("outcome").as_string() == "ok");
    std::string finished_at(runs[0].at("finished_at").as_string());  // ISO 8601 UTC, whole seconds

    d.start();
    auto text = http(d.admin, "GET", "/metrics").body;
    auto st = d.status();
    // Nothing ran since: what follows comes from the state.
    BOOST_TEST(metric_sum(text, "wfsync_runs_total") == 0.0, text);
    BOOST_TEST(emu->requests("sandbox").size() + emu->requests("prod").size() == requests);

    auto restored = metric_value(text, "wfsync_last_success_timestamp_seconds", "rule=\"promote\"");
    BOOST_TEST(restored == std::floor(restored));  // the state keeps whole seconds
    BOOST_TEST(wfsync::format_iso_utc(static_cast<std::int64_t>(restored)) == finished_at);
    BOOST_TEST(std::abs(restored - before) < 2.0, "before the restart " << before << ", after " << restored);
    auto age = metric_value(text, "wfsync_rule_seconds_since_success", "rule=\"promote\"");
    auto now = static_cast<double>(std::time(nullptr));
    BOOST_TEST(age >= 0.0);
    BOOST_TEST(age <= now - restored + 1.0);
    auto interval = metric_value(text, "wfsync_rule_schedule_interval_seconds", "rule=\"promote\"");
    BOOST_TEST((interval == 365.0 * 86400 || interval == 366.0 * 86400), interval);

    const auto& rule = st.at("rules").as_array().at(0).as_object();
    BOOST_TEST_REQUIRE(rule.at("last_success").is_string(), json::serialize(rule));
    BOOST_TEST(rule.at("last_success").as_string() == finished_at);
    BOOST_TEST(rule.at("last_outcome").as_string() == "ok");

    std::regex build(R"(^wfsync_build_info\{version="[0-9]+\.[0-9]+\.[0-9]+",revision="[^"]+",build_type="[^"]+"\} 1$)");
    bool found = false;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) found = found || std::regex_match(line, build);
    BOOST_TEST(found, text);
    BOOST_TEST(st.at("version").as_string() == "0.1.0");
    BOOST_TEST(d.stop() == 0, d.log());
}

BOOST_AUTO_TEST_CASE(every_metric_the_alert_rules_name_is_exported)
{
    emulator_thread emu(seed());
    daemon_under_test d(emu->base_url(), {.schedule = "0 3 1 1 *"});
    BOOST_TEST(http(d.admin, "POST", "/rules/promote/run").status == 202);
    d.wait_runs("promote", 1);
    auto text = http(d.admin, "GET", "/metrics").body;
    BOOST_TEST(d.stop() == 0, d.log());

    auto rules = YAML::LoadFile(WFSYNC_SOURCE_DIR "/etc/wfsync-alerts.yml");
    std::set<std::string> alerts, names;
    std::regex metric(R"(\bwfsync_[a-z_]+)");
    for (const auto& group : rules["groups"])
        for (const auto& r : group["rules"]) {
            BOOST_TEST_REQUIRE(r["alert"].IsScalar());
            BOOST_TEST_REQUIRE(r["expr"].IsScalar());
            alerts.insert(r["alert"].as<std::string>());
            auto expr = r["expr"].as<std::string>();
            for (std::sregex_iterator m(expr.begin(), expr.end(), metric), end; m != end; ++m) names.insert(m->str());
        }
    BOOST_TEST(alerts.size() >= 5u);
    for (const char* a : {"WfsyncDown", "WfsyncRuleStale", "WfsyncRuleFailing", "WfsyncHeldImports"})
        BOOST_TEST(alerts.contains(a), a);
    BOOST_TEST(names.size() >= 5u);
    for (const auto& n : names) {
        auto family = std::regex_replace(n, std::regex("_(bucket|sum|count)$"), "");
        bool typed = text.find("# TYPE " + n + " ") != std::string::npos ||
                     text.find("# TYPE " + family + " histogram") != std::string::npos;
        BOOST_TEST(typed, n << " is named in etc/wfsync-alerts.yml but not exported");
    }
}

namespace {

std::vector<std::string> lines_of(const std::string& text)
{
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
        if (!line.empty()) out.push_back(line);
    return out;
}

std::string dev_ino_of(const std::string& path)
{
    struct stat st{};
    BOOST_REQUIRE(::stat(path.c_str(), &st) == 0);
    return std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
}

/// A rule whose source refuses connections: every run fails, logged at error.
config_options with_a_failing_rule()
{
    config_options o;
    o.max_attempts = 1;
    o.extra_rules = "  - {name: from-nowhere, source: down, targets: [prod]}\n";
    o.extra_tenants = "  down:\n"
                      "    platform: zuora\n"
                      "    base_url: http://127.0.0.1:" + std::to_string(free_port()) + "\n"
                      "    auth: {type: oauth2, client_id: x, client_secret_env: WFSYNC_TEST_SBX_SECRET}\n";
    return o;
}

void run_both(daemon_under_test& d)
{
    BOOST_TEST(http(d.admin, "POST", "/rules/promote/run").status == 202);
    BOOST_TEST(http(d.admin, "POST", "/rules/from-nowhere/run").status == 202);
    d.wait_runs("promote", 1);
    d.wait_runs("from-nowhere", 1);
}

}  // namespace

BOOST_AUTO_TEST_CASE(on_the_journal_stream_lines_carry_a_priority_and_no_timestamp)
{
    emulator_thread emu(seed());
    const std::regex stamped(R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (trace|debug|info |warn |error) .*)");

    // Not under systemd: the usual format.
    daemon_under_test d(emu->base_url(), with_a_failing_rule());
    run_both(d);
    BOOST_TEST(d.stop() == 0, d.log());
    auto plain = lines_of(d.log());
    BOOST_TEST(plain.size() >= 5u);
    for (const auto& l : plain) BOOST_TEST(std::regex_match(l, stamped), l);
    BOOST_TEST(d.log().find(" error run failed: ") != std::string::npos, d.log());

    // stderr is the stream JOURNAL_STREAM names (as systemd sets it): `<N>` and no time.
    auto err_file = d.env.dir->file("serve.err");
    d.env.env["JOURNAL_STREAM"] = dev_ino_of(err_file);  // the file is reopened, not replaced
    d.start();
    run_both(d);
    BOOST_TEST(d.stop() == 0, d.log());
    auto journal = lines_of(d.log());
    const std::regex prefixed(R"(^<[3467]>.*)");
    const std::regex time_after_prefix(R"(^<\d>\d{4}-\d\d-\d\dT.*)");
    int errors = 0, infos = 0;
    for (const auto& l : journal) {
        BOOST_TEST(std::regex_match(l, prefixed), l);
        BOOST_TEST(!std::regex_match(l, time_after_prefix), l);
        if (l.rfind("<3>run failed: ", 0) == 0 && l.find(" rule=from-nowhere") != std::string::npos) ++errors;
        if (l.rfind("<6>", 0) == 0) ++infos;
    }
    BOOST_TEST(errors == 1, d.log());
    BOOST_TEST(infos >= 3, d.log());
    BOOST_TEST(d.log().find("<6>run ok: ") != std::string::npos, d.log());

    // A JOURNAL_STREAM inherited from a parent whose stderr was the journal, ours a file: plain.
    d.env.env["JOURNAL_STREAM"] = dev_ino_of(d.env.dir->file("serve.out"));
    d.start();
    BOOST_TEST(d.stop() == 0, d.log());
    auto inherited = lines_of(d.log());
    BOOST_TEST(!inherited.empty());
    for (const auto& l : inherited) BOOST_TEST(std::regex_match(l, stamped), l);
}

BOOST_AUTO_TEST_CASE(json_log_lines_name_rule_tenant_workflow_run_and_version)
{
    emulator_thread emu(seed());
    config_options o;
    o.log_format = "json";
    o.log_level = "info";
    auto env = make_env(emu->base_url(), o);
    auto r = env.run({"sync"});
    BOOST_TEST_REQUIRE(r.code == 0, describe(r));
    expect_replicated_once(emu);

    const std::regex iso(R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$)");
    const std::set<std::string> levels{"trace", "debug", "info", "warn", "error"};
    std::set<std::string> runs;
    int imports_logged = 0, summaries = 0;
    auto lines = lines_of(r.err);
    BOOST_TEST(lines.size() >= 4u, r.err);
    for (const auto& l : lines) {
        boost::system::error_code ec;
        auto v = json::parse(l, ec);
        BOOST_TEST_REQUIRE(!ec, "not JSON: " << l);
        const auto& o = v.as_object();
        BOOST_TEST(std::regex_match(std::string(o.at("time").as_string()), iso), l);
        BOOST_TEST(levels.contains(std::string(o.at("level").as_string())), l);
        std::string message(o.at("message").as_string());
        if (message.rfind("import ", 0) == 0 || message.rfind("create ", 0) == 0) {
            ++imports_logged;
            for (const char* key : {"rule", "tenant", "workflow", "run", "version"})
                BOOST_TEST((o.contains(key) && !o.at(key).as_string().empty()), key << " missing in " << l);
            BOOST_TEST(o.at("rule").as_string() == "promote");
            BOOST_TEST(o.at("tenant").as_string() == "prod");
            BOOST_TEST(o.at("run").as_string().starts_with("run-"));
            runs.insert(std::string(o.at("run").as_string()));
        }
        if (message.rfind("run ok: ", 0) == 0) {
            ++summaries;
            BOOST_TEST(o.at("rule").as_string() == "promote");
            runs.insert(std::string(o.at("run").as_string()));
        }
    }
    BOOST_TEST(imports_logged == static_cast<int>(imports(emu)), r.err);
    BOOST_TEST(summaries == 1);
    BOOST_TEST(runs.size() == 1u);  // one run id, on every line of the run
    BOOST_TEST(r.err.find(sandbox_secret) == std::string::npos);
    BOOST_TEST(r.err.find(prod_secret) == std::string::npos);
}
