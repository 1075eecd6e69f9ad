// SPDX-License-Identifier: Apache-2.0
// The crash and fault matrix (issue 11 item 8): on Zuora, Kore.ai and SecMaster, kill -9 of
// `sync`, of `serve` with a run (and on Kore.ai its async jobs) in flight, of a backup and of
// a restore, each once the emulator has seen a drawn number of requests, and fault storms
// (5xx/429, lost answers after commit, resets); then normal reruns until a run succeeds, and
// the checks: every version the rules select is in the target, the archive and the restored
// tenant exactly once, the archive verifies and the state passes PRAGMA integrity_check.
//
// WFSYNC_CRASH_SEED (default: from the clock) draws every point's parameters, so a seed
// replays the same kills, switches and storms; the interleaving of concurrent requests is the
// machine's. WFSYNC_CRASH_POINTS (default 30) is how many points; WFSYNC_CRASH_ONLY=I runs
// only point I of the seed's sequence.
#define BOOST_TEST_MODULE wfsync crash and fault matrix
#include "fixtures.hpp"

#include <boost/test/unit_test.hpp>

#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <iostream>
#include <map>
#include <random>
#include <sstream>

using namespace wfsync::test;
namespace json = boost::json;

namespace {

enum class platform { zuora, kore, secmaster };
enum class scenario { kill_sync, kill_serve, kill_backup, kill_restore, storm };
constexpr std::array platforms{platform::zuora, platform::kore, platform::secmaster};
constexpr std::array scenarios{scenario::kill_sync, scenario::kill_serve, scenario::kill_backup, scenario::kill_restore,
                               scenario::storm};

const char* name_of(platform p)
{
    switch (p) {
        case platform::zuora: return "zuora";
        case platform::kore: return "kore";
        case platform::secmaster: return "secmaster";
    }
    return "?";
}

const char* name_of(scenario s)
{
    switch (s) {
        case scenario::kill_sync: return "kill -9 sync";
        case scenario::kill_serve: return "kill -9 serve";
        case scenario::kill_backup: return "kill -9 backup";
        case scenario::kill_restore: return "kill -9 restore";
        case scenario::storm: return "fault storm";
    }
    return "?";
}

/// Requests a clean run makes (measured with the default switches): kills are drawn below
/// them, so most points cut a run in the middle.
int requests_of_a_run(platform p, scenario s)
{
    if (s == scenario::kill_restore) return p == platform::kore ? 12 : 8;
    if (s == scenario::kill_serve && p == platform::kore) return 6;  // counts job polls there
    switch (p) {
        case platform::zuora: return s == scenario::kill_backup ? 18 : 60;
        case platform::kore: return s == scenario::kill_backup ? 24 : 70;
        case platform::secmaster: return s == scenario::kill_backup ? 20 : 55;
    }
    return 20;
}

// ---- the world: a source, a target holding Alpha's first version, an empty restore tenant ---

/// Each version holds a marker "mk-<workflow>-<n>" in a text no platform re-stamps: what the
/// checks count, whatever ids and labels the target gave it.
struct workflow_spec {
    const char* key;
    const char* name;
    std::vector<std::string> zuora_labels;  ///< Kore.ai and SecMaster: v1, v2, ...
};

const std::vector<workflow_spec> workflows{{"alpha", "Alpha", {"0.0.1", "0.0.2"}},
                                           {"beta", "Beta", {"0.1.0", "0.1.1"}},
                                           {"gamma", "Gamma", {"0.0.3"}},
                                           {"delta", "Delta", {"1.0.0", "1.0.1", "1.0.2"}}};

std::string marker(const workflow_spec& w, std::size_t n) { return std::string("mk-") + w.key + "-" + std::to_string(n); }

/// The source's label of version `n`: SecMaster's with `labels: dotted` are 0.0.n.
std::string label(platform p, bool dotted, const workflow_spec& w, std::size_t n)
{
    if (p == platform::zuora) return w.zuora_labels.at(n - 1);
    return (dotted ? "0.0." : "v") + std::to_string(n);
}

std::string source_id(platform p, std::size_t i)
{
    switch (p) {
        case platform::zuora: return std::to_string(201 + i);
        case platform::kore: return "a-" + std::to_string(1 + i);
        case platform::secmaster: return std::string("wf-") + workflows[i].key;
    }
    return {};
}

json::value version_of(platform p, bool dotted, const workflow_spec& w, std::size_t n, std::size_t count, int id_base)
{
    const auto m = marker(w, n);
    const bool last = n == count;
    switch (p) {
        case platform::zuora:
            return json::object{{"version", label(p, dotted, w, n)},
                                {"status", last ? "Active" : "Inactive"},
                                {"tasks", json::array{task(id_base + 1, "Query", "Query", {{"query", "select Id from Invoice"}}),
                                                      task(id_base + 2, "Notify", "Email", {{"subject", m}})}},
                                {"linkages", json::array{link(id_base + 1, id_base + 2)}}};
        case platform::kore:
            return json::object{
                {"flow_definition",
                 {{"nodes", json::array{json::object{{"id", "node-start"}, {"type", "trigger"}, {"next", "node-ask"}},
                                        json::object{{"id", "node-ask"}, {"type", "ai"}, {"prompt", m}, {"next", nullptr}}}}}},
                {"app_definition", {{"version", label(p, dotted, w, n)}, {"guardrails", json::array{"pii"}}}},
                {"env_variables", {{"REGION", "eu"}}}};
        case platform::secmaster:
            return json::object{
                {"version", label(p, dotted, w, n)},
                {"status", last ? "activated" : "not_activated"},
                {"document", {{"actions", json::array{json::object{{"id", "act-" + std::to_string(id_base)}, {"name", m}, {"next", nullptr}}}}}}};
    }
    return nullptr;
}

/// What a point draws: the emulator's open-question switches, a job duration, latency.
struct draws {
    json::object switches;
    int job_ms = 0;
    bool activate = false;  ///< SecMaster rule's activate
    int latency_ms = 0;
    bool dotted = false;  ///< SecMaster `labels: dotted`
    std::string text;  ///< for messages
};

json::object tenant_seed(platform p, const draws& d, json::array wfs)
{
    json::object t;
    switch (p) {
        case platform::zuora:
            t = {{"platform", "zuora"}, {"client_id", "client"}, {"client_secret", sandbox_secret}, {"token_ttl_seconds", 3600}};
            break;
        case platform::kore:
            t = {{"platform", "kore"}, {"api_key", sandbox_secret}, {"job_duration_ms", d.job_ms}};
            break;
        case platform::secmaster:
            t = {{"platform", "secmaster"},
                 {"project_id", "proj-1"},
                 {"workspace_id", "ws-1"},
                 {"iam", {{"user", "ops"}, {"domain", "acme"}, {"password", sandbox_secret}, {"project", "eu-west-101"}}},
                 {"token_ttl_seconds", 86400}};
            break;
    }
    for (const auto& kv : d.switches) t[kv.key()] = kv.value();
    t["workflows"] = std::move(wfs);
    return t;
}

std::string seed_of(platform p, const draws& d)
{
    json::array source;
    for (std::size_t i = 0; i < workflows.size(); ++i) {
        const auto& w = workflows[i];
        const auto count = w.zuora_labels.size();
        json::array versions;
        for (std::size_t n = 1; n <= count; ++n) versions.push_back(version_of(p, d.dotted, w, n, count, int(1000 + 100 * i + 10 * n)));
        json::object wf{{"id", source_id(p, i)}, {"name", w.name}, {"versions", std::move(versions)}};
        if (p == platform::zuora) wf["id"] = 201 + int(i);
        if (p == platform::kore) wf["flow_id"] = "cf-" + std::to_string(1 + i);
        source.push_back(std::move(wf));
    }
    // The target already holds Alpha's first version, under ids of its own.
    json::object alpha{{"name", "Alpha"}, {"versions", json::array{version_of(p, d.dotted, workflows[0], 1, 1, 7000)}}};
    if (p == platform::zuora) alpha["id"] = 501;
    if (p == platform::kore) {
        alpha["id"] = "a-90";
        alpha["flow_id"] = "cf-90";
    }
    if (p == platform::secmaster) alpha["id"] = "wf-t-alpha";
    return json::serialize(json::object{{"tenants",
                                         {{"src", tenant_seed(p, d, std::move(source))},
                                          {"dst", tenant_seed(p, d, json::array{std::move(alpha)})},
                                          {"rst", tenant_seed(p, d, {})}}}});
}

std::string tenant_config(platform p, const std::string& base_url, const std::string& name)
{
    std::string t = "  " + name + ":\n    platform: " + name_of(p) + "\n    base_url: " + base_url + "/t/" + name + "\n";
    switch (p) {
        case platform::zuora:
            return t + "    auth: {type: oauth2, client_id: client, client_secret_env: CRASH_SECRET}\n";
        case platform::kore: {
            std::string listed = " []\n";
            if (name == "src") {
                listed = "\n";
                for (std::size_t i = 0; i < workflows.size(); ++i)
                    listed += "      - {id: a-" + std::to_string(1 + i) + ", flow_id: cf-" + std::to_string(1 + i) +
                              ", name: " + workflows[i].name + "}\n";
            }
            if (name == "dst") listed = "\n      - {id: a-90, flow_id: cf-90, name: Alpha}\n";
            return t + "    auth: {type: api_key, key_env: CRASH_SECRET}\n    workflows:" + listed;
        }
        case platform::secmaster:
            return t + "    project_id: proj-1\n    workspace_id: ws-1\n"
                       "    auth: {type: iam_password, iam_url: \"" + base_url + "/t/" + name +
                   "/iam\", user: ops, domain: acme, project: eu-west-101, password_env: CRASH_SECRET}\n";
    }
    return t;
}

/// Two rules: `replicate` (source to target) and `backup` (source to the archive).
wfsync_env world_env(platform p, const draws& d, const std::string& base_url, int admin_port)
{
    wfsync_env e;
    const std::string versions = p == platform::zuora ? "    version: all\n" : "";
    std::string text = "state: {path: " + e.dir->file("state") + "}\n"
                       "log: {level: debug}\n" +
                       (admin_port ? "admin: {listen: \"127.0.0.1:" + std::to_string(admin_port) + "\"}\n" : "") +
                       "defaults:\n"
                       "  timeout: 5s\n"
                       "  retry: {max_attempts: 4, initial_backoff: 5ms, max_backoff: 50ms}\n"
                       "  poll: {interval: 10ms, max_interval: 40ms, timeout: 30s}\n"
                       "tenants:\n" +
                       tenant_config(p, base_url, "src") + tenant_config(p, base_url, "dst") + tenant_config(p, base_url, "rst") +
                       "archives:\n  local: {path: " + e.dir->file("archive") + "}\n"
                       "rules:\n"
                       "  - name: replicate\n"
                       "    source: src\n"
                       "    targets: [dst]\n"
                       "    create_missing: true\n" + versions +
                       (p == platform::secmaster ? std::string("    activate: ") + (d.activate ? "true" : "false") + "\n" : "") +
                       "  - name: backup\n"
                       "    source: src\n"
                       "    targets: [\"archive:local\"]\n" + versions;
    e.config_file = e.dir->write("wfsync.yaml", text);
    e.env = {{"CRASH_SECRET", sandbox_secret}};
    return e;
}

/// Each point's switches, from the values the emulator serves for the platform's open
/// questions (tests/integration/open_questions_test.cpp runs each story under them).
draws draw(platform p, scenario s, std::mt19937_64& rng)
{
    auto pick = [&](std::initializer_list<const char*> values) {
        auto i = std::uniform_int_distribution<std::size_t>(0, values.size() - 1)(rng);
        return *(values.begin() + i);
    };
    draws d;
    switch (p) {
        case platform::zuora:
            d.switches = {{"list_detail", pick({"full", "labels", "names"})}, {"list_shape", pick({"paged", "bare"})},
                          {"page_length_max", std::string(pick({"2", "50"})) == "2" ? 2 : 50}};
            break;
        case platform::kore:
            d.switches = {{"import_ids", pick({"keep", "restamp"})},
                          {"import_deploys", std::string(pick({"true", "false"})) == "true"},
                          {"spelling", pick({"sample", "table"})},
                          {"download_host", pick({"same", "foreign"})}};
            d.job_ms = std::uniform_int_distribution<int>(0, 2)(rng) * 25;
            if (s == scenario::kill_serve) d.job_ms = 40;  // jobs that last: the kill finds them pending
            break;
        case platform::secmaster: {
            std::string activation = pick({"activate", "leave"});
            d.activate = std::string(pick({"true", "false"})) == "true";
            d.switches = {{"import_ids", pick({"keep", "restamp"})},
                          {"export_file_name", pick({"workflow", "version"})},
                          {"import_activation", activation},
                          {"labels", pick({"v", "dotted"})},
                          {"list_detail", pick({"full", "labels", "names"})}};
            // Without content in the version detail, versions are read by export, which shows
            // only the activated one: the combinations open_questions_test runs.
            d.dotted = d.switches["labels"] == "dotted";
            if (activation == "activate" || d.activate) d.switches["version_detail"] = pick({"taskflow", "metadata"});
            if (activation == "leave") d.switches["export_version"] = pick({"active", "latest"});
            break;
        }
    }
    if (s != scenario::storm) d.latency_ms = std::uniform_int_distribution<int>(0, 2)(rng) * 3;
    d.text = json::serialize(d.switches) + (p == platform::kore ? ", jobs " + std::to_string(d.job_ms) + " ms" : "") +
             (p == platform::secmaster ? std::string(", activate: ") + (d.activate ? "true" : "false") : "") +
             ", latency " + std::to_string(d.latency_ms) + " ms";
    return d;
}

// ---- what the point found ---------------------------------------------------------------

struct findings {
    int duplicates = 0;
    int missing = 0;
    int integrity = 0;
    int reruns = 0;
    int held = 0;
    bool killed = false;  ///< the kill found the process still running
    std::vector<std::string> problems;

    void problem(std::string what) { problems.push_back(std::move(what)); }
    void lost(std::string what)
    {
        ++missing;
        problem(std::move(what));
    }
    void duplicated(int n, std::string what)
    {
        duplicates += n;
        problem(std::move(what));
    }
    void damaged(std::string what)
    {
        ++integrity;
        problem(std::move(what));
    }
};

/// Every marker in a JSON value, in order.
std::vector<std::string> markers_in(const json::value& v)
{
    std::vector<std::string> out;
    auto text = json::serialize(v);
    for (auto at = text.find("mk-"); at != std::string::npos; at = text.find("mk-", at + 1)) {
        auto end = text.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-", at);
        out.push_back(text.substr(at, end - at));
    }
    return out;
}

/// The marker of each version of a workflow of emulator::state(), or what is there instead.
std::vector<std::string> markers_of(const json::object& workflow)
{
    std::vector<std::string> out;
    for (const auto& v : workflow.at("versions").as_array()) {
        const auto& o = v.as_object();
        // The content of the version: Zuora's tasks, SecMaster's document, Kore.ai's files.
        json::array content;
        for (const char* field : {"tasks", "document", "app", "flow", "env"})
            if (const auto* c = o.if_contains(field)) content.push_back(*c);
        auto found = markers_in(content);
        out.push_back(found.size() == 1 ? found[0] : "(no single marker: " + json::serialize(content) + ")");
    }
    return out;
}

/// Per workflow name of `tenant`: one entry per definition, each the markers of its versions.
std::map<std::string, std::vector<std::vector<std::string>>> holdings(emulator_thread& emu, const std::string& tenant)
{
    std::map<std::string, std::vector<std::vector<std::string>>> out;
    auto state = emu->state(tenant);
    for (const auto& w : state.at("workflows").as_array())
        out[std::string(w.at("name").as_string())].push_back(markers_of(w.as_object()));
    return out;
}

/// Compares `tenant`'s workflows with `expected` (name -> markers, each once).
void expect_holdings(emulator_thread& emu, const std::string& tenant, const std::map<std::string, std::vector<std::string>>& expected,
                     findings& f)
{
    auto held = holdings(emu, tenant);
    for (const auto& [name, definitions] : held) {
        if (!expected.contains(name)) {
            f.duplicates += int(definitions.size());
            f.problem(tenant + ": unexpected workflow " + name);
            continue;
        }
        if (definitions.size() > 1) {
            f.duplicates += int(definitions.size() - 1);
            f.problem(tenant + ": " + std::to_string(definitions.size()) + " definitions named " + name);
        }
    }
    for (const auto& [name, want] : expected) {
        std::map<std::string, int> count;
        if (auto it = held.find(name); it != held.end())
            for (const auto& d : it->second)
                for (const auto& m : d) ++count[m];
        for (const auto& m : want) {
            if (count[m] == 0) {
                ++f.missing;
                f.problem(tenant + ": " + name + " lacks " + m);
            }
        }
        for (const auto& [m, n] : count) {
            bool wanted = std::find(want.begin(), want.end(), m) != want.end();
            int extra = wanted ? n - 1 : n;
            if (extra > 0) {
                f.duplicates += extra;
                f.problem(tenant + ": " + name + " holds " + m + " " + std::to_string(n) + " times" +
                          (wanted ? "" : " (not expected at all)"));
            }
        }
    }
}

/// The first column of each row of `sql` on the state, one per line; "error: ..." if it fails.
std::string query_state(const wfsync_env& env, const std::string& sql)
{
    sqlite3* db = nullptr;
    std::string out;
    if (sqlite3_open_v2(env.dir->file("state/state.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
        out = std::string("error: ") + sqlite3_errmsg(db);
        sqlite3_close(db);
        return out;
    }
    sqlite3_busy_timeout(db, 5000);
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) {
        out = std::string("error: ") + sqlite3_errmsg(db);
    } else {
        int rc = 0;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            const auto* t = sqlite3_column_text(st, 0);
            out += std::string(t ? reinterpret_cast<const char*>(t) : "") + "\n";
        }
        if (rc != SQLITE_DONE) out += std::string("error: ") + sqlite3_errmsg(db);
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return out;
}

// ---- one point --------------------------------------------------------------------------

struct point {
    int index = 0;
    platform p{};
    scenario s{};
    std::uint64_t seed = 0;
    int k = 0;                 ///< kill after this many requests (Kore.ai serve: job polls)
    int storm_runs = 0;
    std::size_t restored = 0;  ///< which workflow a restore point restores
    draws d;

    std::string describe_point(std::uint64_t run_seed) const
    {
        std::ostringstream s_;
        s_ << "point " << index << " of seed " << run_seed << " (WFSYNC_CRASH_SEED=" << run_seed
           << " WFSYNC_CRASH_ONLY=" << index << "): " << name_of(p) << " x " << name_of(s);
        if (s != scenario::storm) s_ << ", kill after " << k << (p == platform::kore && s == scenario::kill_serve ? " job polls" : " requests");
        else s_ << ", " << storm_runs << " runs in the storm";
        if (s == scenario::kill_restore) s_ << ", restore " << workflows[restored].name;
        s_ << ", " << d.text;
        return s_.str();
    }
};

std::uint64_t mix(std::uint64_t x)
{
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

point make_point(std::uint64_t run_seed, int index)
{
    point pt;
    pt.index = index;
    pt.p = platforms[std::size_t(index) % platforms.size()];
    pt.s = scenarios[std::size_t(index / int(platforms.size())) % scenarios.size()];
    pt.seed = mix(run_seed ^ mix(std::uint64_t(index)));
    std::mt19937_64 rng(pt.seed);
    pt.k = std::uniform_int_distribution<int>(1, requests_of_a_run(pt.p, pt.s))(rng);
    pt.storm_runs = std::uniform_int_distribution<int>(1, 3)(rng);
    pt.restored = std::uniform_int_distribution<std::size_t>(0, workflows.size() - 1)(rng);
    pt.d = draw(pt.p, pt.s, rng);
    return pt;
}

class trial {
public:
    trial(const point& pt, findings& f)
        : pt_(pt), f_(f), emu_(seed_of(pt.p, pt.d)),
          port_(pt.s == scenario::kill_serve ? free_port() : 0), env_(world_env(pt.p, pt.d, emu_->base_url(), port_))
    {
    }

    void run()
    {
        if (pt_.d.latency_ms > 0)
            BOOST_TEST_REQUIRE(emu_->add_fault({{"kind", "latency"}, {"delay_ms", pt_.d.latency_ms}, {"count", 1'000'000'000}}).has_value());
        switch (pt_.s) {
            case scenario::kill_sync: f_.killed = kill_after({"sync"}, pt_.k); break;
            case scenario::kill_backup: f_.killed = kill_after({"sync", "--rule", "backup"}, pt_.k); break;
            case scenario::kill_serve: kill_serve(); break;
            case scenario::kill_restore: kill_restore(); break;
            case scenario::storm: storm(); break;
        }
        emu_->clear_faults();
        if (pt_.s == scenario::kill_restore) {
            converge({"restore", "--from", "archive:local", "--workflow", workflows[pt_.restored].name, "--to", "rst"});
            const auto& w = workflows[pt_.restored];
            expect_holdings(emu_, "rst", {{w.name, {marker(w, w.zuora_labels.size())}}}, f_);
        }
        converge({"sync"});
        check();
    }

    /// Copies the point's directory (state, archive, config, every run's output) to `where`.
    void keep(const std::string& where)
    {
        std::filesystem::remove_all(where);
        std::filesystem::copy(env_.dir->path(), where, std::filesystem::copy_options::recursive);
    }

private:
    run_output run(std::vector<std::string> args)
    {
        auto r = env_.run(args, std::chrono::seconds(60));
        std::string said = "$ wfsync";
        for (const auto& a : args) said += " " + a;
        env_.dir->write("runs-" + std::to_string(++runs_) + ".log", said + "\n" + describe(r));
        return r;
    }

    /// Runs wfsync with `args` and kills it (-9) once the emulator has seen `k` more requests,
    /// or lets it end. True if the kill found it running.
    bool kill_after(std::vector<std::string> args, int k)
    {
        args.insert(args.begin(), {"--config", env_.config_file});
        process p(WFSYNC_BIN, args, env_.env, env_.dir->file("killed.out"), env_.dir->file("killed.err"));
        return kill_when(p, [k](std::int64_t seen) { return seen >= k; });
    }

    /// Kills `p` (-9) once `due(requests seen since)` says so, or lets it end.
    bool kill_when(process& p, const std::function<bool(std::int64_t)>& due)
    {
        const auto before = emu_->request_count();
        // Bounded: 30 s of 1 ms polls of the child (each returns at once if it ended).
        for (int i = 0; i < 30'000 && p.running(); ++i) {
            if (due(emu_->request_count() - before)) break;
            p.wait_for(std::chrono::milliseconds(1));
        }
        bool running = p.running();
        p.signal(SIGKILL);
        BOOST_TEST_REQUIRE(p.wait_for(std::chrono::seconds(10)).has_value());
        return running;
    }

    std::string admin() const { return "http://127.0.0.1:" + std::to_string(port_); }

    bool wait_ready(process& daemon)
    {
        for (int i = 0; i < 2000 && daemon.running(); ++i) {
            if (http(admin(), "GET", "/healthz").status == 200) return true;
            daemon.wait_for(std::chrono::milliseconds(5));
        }
        return false;
    }

    int finished_serve_runs()
    {
        auto n = query_state(env_, "SELECT count(*) FROM runs WHERE command = 'serve' AND finished_at > 0");
        return n.rfind("error", 0) == 0 ? -1 : std::atoi(n.c_str());
    }

    /// serve, a run asked for over the admin endpoint, kill -9 in the middle (on Kore.ai after
    /// the K-th poll of a job: a job recorded and pending); then serve again, which resumes
    /// recorded jobs at once, a run, and SIGTERM, which must end it cleanly.
    void kill_serve()
    {
        {
            process daemon(WFSYNC_BIN, {"--config", env_.config_file, "serve"}, env_.env, env_.dir->file("serve1.out"),
                           env_.dir->file("serve1.err"));
            BOOST_TEST_REQUIRE(wait_ready(daemon), read_file(env_.dir->file("serve1.err")));
            BOOST_TEST_REQUIRE(http(admin(), "POST", "/rules/replicate/run").status == 202);
            // A K beyond what the run asks for must not wait for a kill that never comes: the
            // run's end (in the state, looked at every 20th poll) ends the wait too.
            const bool kore = pt_.p == platform::kore;
            std::int64_t seen = -1;
            std::size_t polls = 0;
            int calls = 0;
            f_.killed = kill_when(daemon, [&](std::int64_t requests) {
                if (++calls % 20 == 0 && finished_serve_runs() > 0) return true;
                if (!kore) return requests >= pt_.k;
                // Job polls are counted only when the log grew: copying it is not free.
                if (auto n = emu_->request_count(); n != seen) {
                    seen = n;
                    polls = emu_.find("src", "/dock-status/").size() + emu_.find("dst", "/dock-status/").size();
                }
                return polls >= std::size_t(pt_.k);
            });
            f_.killed = f_.killed && finished_serve_runs() <= 0;
        }
        emu_->clear_faults();
        const int finished = std::max(finished_serve_runs(), 0);
        process daemon(WFSYNC_BIN, {"--config", env_.config_file, "serve"}, env_.env, env_.dir->file("serve2.out"),
                       env_.dir->file("serve2.err"));
        BOOST_TEST_REQUIRE(wait_ready(daemon), read_file(env_.dir->file("serve2.err")));
        auto asked = http(admin(), "POST", "/rules/replicate/run").status;  // 409: the resumed run is on
        if (asked != 202 && asked != 409) f_.problem("POST /rules/replicate/run answered " + std::to_string(asked));
        for (int i = 0; i < 6000 && daemon.running() && finished_serve_runs() <= finished; ++i)
            daemon.wait_for(std::chrono::milliseconds(5));
        if (finished_serve_runs() <= finished) f_.problem("the restarted serve finished no run: " + read_file(env_.dir->file("serve2.err")));
        daemon.signal(SIGTERM);
        auto code = daemon.wait_for(std::chrono::seconds(30));
        if (code != 0)
            f_.problem("the restarted serve did not stop cleanly on SIGTERM (exit " + (code ? std::to_string(*code) : "none") +
                       "): " + read_file(env_.dir->file("serve2.err")));
    }

    /// A clean backup, then a restore of one workflow into the empty tenant, killed.
    void kill_restore()
    {
        auto backup = run({"sync", "--rule", "backup"});
        BOOST_TEST_REQUIRE(backup.code == 0, describe(backup));
        f_.killed = kill_after({"restore", "--from", "archive:local", "--workflow", workflows[pt_.restored].name, "--to", "rst"},
                               pt_.k);
    }

    /// 30% 5xx/429, 30% lost answers after commit, 10% resets and closes, on every request of
    /// every tenant, for a few runs.
    void storm()
    {
        std::mt19937_64 rng(pt_.seed ^ 0x5eed);
        const int status = std::array{500, 502, 503}[std::uniform_int_distribution<std::size_t>(0, 2)(rng)];
        // Faults are tried in order, each on what the ones before it spared: conditional shares.
        const std::pair<json::object, double> faults[] = {
            {{{"kind", "status"}, {"status", status}}, 0.20},
            {{{"kind", "status"}, {"status", 429}, {"retry_after", "0"}}, 0.10 / 0.80},
            {{{"kind", "reset_after_commit"}}, 0.30 / 0.70},
            {{{"kind", "reset_before"}}, 0.05 / 0.40},
            {{{"kind", "close"}}, 0.05 / 0.35}};
        for (auto [f, p] : faults) {
            f["probability"] = p;
            f["seed"] = rng();
            f["count"] = 1'000'000'000;
            BOOST_TEST_REQUIRE(emu_->add_fault(f).has_value());
        }
        for (int i = 0; i < pt_.storm_runs; ++i) {
            auto r = run({"sync"});
            if (r.code != 0 && r.code != 1 && r.code != 75) f_.problem("a run in the storm exited " + describe(r));
        }
    }

    /// Reruns `args` (at most 6 times) until one succeeds; an import held for an operator is
    /// settled as an operator would, by looking in the target.
    void converge(const std::vector<std::string>& args)
    {
        run_output last;
        for (int i = 0; i < 6; ++i) {
            ++f_.reruns;
            last = run(args);
            if (last.code == 0) return;
            if (last.code == 1) resolve_held();
        }
        f_.problem("no success after 6 runs of " + args[0] + ": " + describe(last));
    }

    void resolve_held()
    {
        auto listed = run({"resolve", "--json"});
        if (listed.code != 0) return f_.problem("resolve --json: " + describe(listed));
        auto held = json::parse(listed.out);  // named: a temporary would die before the loop body
        for (const auto& v : held.at("held").as_array()) {
            const auto& i = v.as_object();
            ++f_.held;
            std::string wanted, name;
            for (std::size_t w = 0; w < workflows.size(); ++w)
                if (i.at("source_workflow").as_string() == source_id(pt_.p, w))
                    for (std::size_t n = 1; n <= workflows[w].zuora_labels.size(); ++n)
                        if (i.at("source_version").as_string() == label(pt_.p, pt_.d.dotted, workflows[w], n))
                            wanted = marker(workflows[w], n), name = workflows[w].name;
            if (wanted.empty()) return f_.problem("a held intent names no version of the source: " + json::serialize(i));
            // The operator's look into the platform's UI: is the content there?
            std::string target(i.at("target_tenant").as_string());
            std::string found_in;
            auto state = emu_->state(target);
            for (const auto& w : state.at("workflows").as_array()) {
                auto ms = markers_of(w.as_object());
                if (w.at("name").as_string() == name && std::find(ms.begin(), ms.end(), wanted) != ms.end())
                    found_in = w.at("id").is_string() ? std::string(w.at("id").as_string()) : json::serialize(w.at("id"));
            }
            std::vector<std::string> args{"resolve", "--intent", std::to_string(i.at("intent").as_int64())};
            if (found_in.empty()) {
                args.push_back("--not-imported");
            } else {
                args.push_back("--imported");
                if (i.at("target_workflow").as_string().empty()) args.insert(args.end(), {"--target-workflow", found_in});
            }
            auto r = run(args);
            if (r.code != 0) f_.problem("operator's " + args.back() + ": " + describe(r));
        }
    }

    void check()
    {
        // The target: Alpha's first version (there before), and what the rule selects.
        std::map<std::string, std::vector<std::string>> target, archive;
        for (const auto& w : workflows) {
            auto& t = target[w.name];
            auto& a = archive[w.name];
            const auto count = w.zuora_labels.size();
            for (std::size_t n = pt_.p == platform::zuora ? 1 : count; n <= count; ++n) {
                t.push_back(marker(w, n));
                a.push_back(label(pt_.p, pt_.d.dotted, w, n));
            }
            if (std::string(w.key) == "alpha" && t.front() != marker(w, 1)) t.insert(t.begin(), marker(w, 1));
        }
        expect_holdings(emu_, "dst", target, f_);

        // The archive: each selected version once, every file as catalogued.
        auto listed = run({"archive", "list", "--json"});
        if (listed.code != 0) {
            f_.damaged("archive list: " + describe(listed));
        } else {
            std::map<std::string, std::map<std::string, int>> stored;
            auto entries = archived_versions(listed.out);
            for (const auto& e : entries)
                ++stored[std::string(e.at("workflow_name").as_string())][std::string(e.at("version").as_string())];
            for (const auto& [name, labels] : archive)
                for (const auto& l : labels)
                    if (stored[name][l] == 0) f_.lost("archive: " + name + " " + l + " missing");
            for (const auto& [name, labels] : stored)
                for (const auto& [l, n] : labels) {
                    bool wanted = std::find(archive[name].begin(), archive[name].end(), l) != archive[name].end();
                    if (n > (wanted ? 1 : 0))
                        f_.duplicated(n - (wanted ? 1 : 0), "archive: " + name + " " + l + " stored " + std::to_string(n) + " times");
                }
        }
        auto verify = run({"archive", "verify"});
        if (verify.code != 0) f_.damaged("archive verify: " + describe(verify));

        auto integrity = query_state(env_, "PRAGMA integrity_check");
        if (integrity != "ok\n") f_.damaged("PRAGMA integrity_check: " + integrity);
        auto keys = query_state(env_, "PRAGMA foreign_key_check");
        if (!keys.empty()) f_.damaged("PRAGMA foreign_key_check: " + keys);
    }

    const point& pt_;
    findings& f_;
    int runs_ = 0;
    emulator_thread emu_;
    int port_;
    wfsync_env env_;
};

struct cell_tally {
    int points = 0, killed = 0, duplicates = 0, missing = 0, integrity = 0, reruns = 0, held = 0, failed = 0;

    void add(const cell_tally& c)
    {
        points += c.points;
        killed += c.killed;
        duplicates += c.duplicates;
        missing += c.missing;
        integrity += c.integrity;
        reruns += c.reruns;
        held += c.held;
        failed += c.failed;
    }
};

std::uint64_t env_number(const char* name, std::uint64_t fallback)
{
    const char* v = std::getenv(name);
    return v && *v ? std::strtoull(v, nullptr, 10) : fallback;
}

}  // namespace

BOOST_AUTO_TEST_CASE(kills_and_fault_storms_leave_no_duplicate_no_loss_and_a_sound_state, *boost::unit_test::timeout(3600))
{
    const auto seed = env_number("WFSYNC_CRASH_SEED", std::uint64_t(std::chrono::system_clock::now().time_since_epoch().count()) % 1'000'000'000);
    const int points = int(env_number("WFSYNC_CRASH_POINTS", 30));
    const char* only = std::getenv("WFSYNC_CRASH_ONLY");
    std::cout << "crash matrix: seed " << seed << ", " << points << " points" << std::endl;

    std::map<std::pair<platform, scenario>, cell_tally> table;
    const auto started = std::chrono::steady_clock::now();
    for (int i = 0; i < points; ++i) {
        if (only && *only && std::atoi(only) != i) continue;
        auto pt = make_point(seed, i);
        findings f;
        {
            trial t(pt, f);
            t.run();
            if (!f.problems.empty()) {
                auto where = (std::filesystem::temp_directory_path() / ("wfsync-crash-" + std::to_string(seed) + "-" + std::to_string(i))).string();
                t.keep(where);
                f.problem("its state, archive and runs' output are kept in " + where);
            }
        }
        auto& c = table[{pt.p, pt.s}];
        ++c.points;
        c.killed += f.killed;
        c.duplicates += f.duplicates;
        c.missing += f.missing;
        c.integrity += f.integrity;
        c.reruns += f.reruns;
        c.held += f.held;
        if (!f.problems.empty()) {
            ++c.failed;
            std::string all;
            for (const auto& p : f.problems) all += "\n  " + p;
            BOOST_ERROR(pt.describe_point(seed) << ":" << all);
        }
    }
    const auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

    cell_tally total;
    std::printf("%-10s %-16s %6s %6s %10s %7s %9s %6s %5s %6s\n", "platform", "scenario", "points", "killed", "duplicates",
                "missing", "integrity", "reruns", "held", "failed");
    for (auto p : platforms)
        for (auto s : scenarios) {
            auto it = table.find({p, s});
            if (it == table.end()) continue;
            const auto& c = it->second;
            std::printf("%-10s %-16s %6d %6d %10d %7d %9d %6d %5d %6d\n", name_of(p), name_of(s), c.points, c.killed,
                        c.duplicates, c.missing, c.integrity, c.reruns, c.held, c.failed);
            total.add(c);
        }
    std::printf("%-27s %6d %6d %10d %7d %9d %6d %5d %6d\n", "all", total.points, total.killed, total.duplicates, total.missing,
                total.integrity, total.reruns, total.held, total.failed);
    std::printf("crash matrix: seed %llu, %d points tried in %.1f s: %d duplicates, %d missing, %d integrity failures\n",
                static_cast<unsigned long long>(seed), total.points, seconds, total.duplicates, total.missing, total.integrity);
    std::fflush(stdout);
    BOOST_TEST(total.points > 0);
}
