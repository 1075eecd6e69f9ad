// SPDX-License-Identifier: Apache-2.0
// Sync throughput of the real wfsync binary against the emulator, every request delayed by a
// fixed round trip, beside two baselines measured in the same run: the script a user would
// write instead (script_baseline.hpp: one request at a time, exports every workflow, imports
// what its own state file says changed), against the same emulator and its own target tenant,
// and wfsync itself at concurrency 1 (optional). Runs: first sync into one target, a no-change
// sync, a sync after 1% of the source changed, and (wfsync only) a first sync into two targets.
// For each: wall time, requests by kind, the latency-bound ideal (requests x latency /
// concurrency), wall / ideal, CPU per workflow (wfsync: the child process; the script: its
// thread), peak RSS of wfsync, and the emulator thread's own CPU (it must not be the
// bottleneck).
// Usage: wfsync_bench_sync [WORKFLOWS=200] [LATENCY_MS=20] [CONCURRENCY=8] [SEQUENTIAL=1]
// (SEQUENTIAL=0 skips the wfsync concurrency-1 baseline, which takes minutes at 1,000 workflows.)
#include "emulator.hpp"
#include "script_baseline.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/json.hpp>

#include <fmt/format.h>

#include <pthread.h>
#include <sys/resource.h>
#include <time.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>
#include <thread>
#include <vector>

namespace json = boost::json;
using namespace wfsync;

namespace {

const std::string secret = "bench-Secret-0c4a91f2";

json::object zuora_tenant(json::array workflows)
{
    return json::object{{"platform", "zuora"},
                        {"client_id", "bench-client"},
                        {"client_secret", secret},
                        {"token_ttl_seconds", 3600},
                        {"workflows", std::move(workflows)}};
}

json::object version(const std::string& label, int base, const std::string& subject)
{
    return json::object{
        {"version", label},
        {"status", "Active"},
        {"tasks", json::array{json::object{{"id", base + 1}, {"name", "Query"}, {"action_type", "Query"},
                                           {"parameters", {{"query", "select Id from Invoice where Balance > 0"}}}},
                              json::object{{"id", base + 2}, {"name", "Mail"}, {"action_type", "Email"},
                                           {"parameters", {{"subject", subject}}}}}},
        {"linkages", json::array{json::object{{"source_task_id", base + 1}, {"target_task_id", base + 2},
                                              {"linkage_type", "Success"}}}}};
}

/// The emulator on a thread of its own, as the tests run it.
class emulator_thread {
public:
    explicit emulator_thread(const std::string& seed) : emu_(ioc_.get_executor(), {})
    {
        if (auto r = emu_.load_seed(seed); !r) fail("seed: " + r.error().what());
        if (auto r = emu_.start(); !r) fail("start: " + r.error().what());
        thread_ = std::thread([this] { ioc_.run(); });
    }
    ~emulator_thread()
    {
        boost::asio::post(ioc_, [this] { emu_.stop(); });
        ioc_.stop();
        thread_.join();
    }
    emulator::emulator* operator->() { return &emu_; }

    /// CPU seconds used so far by the emulator's thread (the server runs on it alone).
    double cpu_seconds()
    {
        clockid_t id{};
        if (pthread_getcpuclockid(thread_.native_handle(), &id) != 0) fail("pthread_getcpuclockid failed");
        timespec ts{};
        clock_gettime(id, &ts);
        return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
    }

    [[noreturn]] static void fail(const std::string& why)
    {
        std::fprintf(stderr, "wfsync_bench_sync: %s\n", why.c_str());
        std::exit(1);
    }

private:
    boost::asio::io_context ioc_;
    emulator::emulator emu_;
    std::thread thread_;
};

double seconds(const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; }

double cpu_of(int who)
{
    rusage u{};
    getrusage(who, &u);
    return seconds(u.ru_utime) + seconds(u.ru_stime);
}

/// CPU seconds of the calling thread.
double thread_cpu()
{
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

struct figures {
    double wall = 0, ideal = 0, client_cpu = 0, emulator_cpu = 0;  ///< client: wfsync or the script
    std::map<std::string, std::size_t> requests;
    std::size_t total = 0;
    long peak_rss_kb = -1;  ///< wfsync's; -1 for the script (it runs inside the bench)
    int code = 0;
    baseline::script_report script;  ///< the script's runs only
};

std::string kind_of(const json::object& r)
{
    std::string path(r.at("path").as_string());
    std::string method(r.at("method").as_string());
    if (path.find("/oauth/token") != std::string::npos) return "token";
    if (path.find("/export") != std::string::npos) return "export";
    if (path.find("/import") != std::string::npos) return "import";
    if (path.ends_with("/versions")) return "versions";
    if (path.ends_with("/workflows")) return "list";
    return method + " other";
}

class bench {
public:
    bench(int workflows, int latency_ms, int concurrency)
        : n_(workflows), latency_(latency_ms), concurrency_(concurrency), emu_(seed())
    {
        for (const char* t : {"src", "t1", "t2", "t3", "s1"})
            if (auto r = emu_->add_fault({{"tenant", t}, {"kind", "latency"}, {"delay_ms", latency_ms}, {"count", 1000000000}}); !r)
                emulator_thread::fail(r.error().what());
        std::string tenants;
        for (const char* t : {"src", "t1", "t2", "t3"})
            tenants += fmt::format("  {}:\n    platform: zuora\n    base_url: {}/t/{}\n"
                                   "    auth: {{type: oauth2, client_id: bench-client, client_secret_env: BENCH_SECRET}}\n",
                                   t, emu_->base_url(), t);
        config_ = dir_.write("wfsync.yaml",
                             fmt::format("state: {{path: {}}}\n"
                                         "log: {{level: warn}}\n"
                                         "defaults:\n"
                                         "  concurrency: {}\n"
                                         "  rate_limit: 100000/s\n"  // the round trip is the limit here
                                         "  retry: {{max_attempts: 3, initial_backoff: 10ms, max_backoff: 100ms}}\n"
                                         "tenants:\n{}"
                                         "rules:\n"
                                         "  - {{name: one, source: src, targets: [t1], create_missing: true}}\n"
                                         "  - {{name: two, source: src, targets: [t2, t3], create_missing: true}}\n",
                                         dir_.file("state"), concurrency, tenants));
    }

    /// wfsync syncs `rule` (targets t1, or t2 and t3).
    figures run(const std::string& rule)
    {
        emu_->clear_requests();
        figures f;
        double children = cpu_of(RUSAGE_CHILDREN), emulator = emu_.cpu_seconds();
        auto t0 = std::chrono::steady_clock::now();
        auto r = test::run_program(WFSYNC_BIN, {"--config", config_, "sync", "--rule", rule},
                                   {{"BENCH_SECRET", secret}}, std::chrono::minutes(30));
        f.wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        f.code = r.code;
        if (r.code != 0) std::fprintf(stderr, "wfsync exited %d:\n%s\n", r.code, r.err.substr(0, 2000).c_str());
        f.client_cpu = cpu_of(RUSAGE_CHILDREN) - children;
        f.emulator_cpu = emu_.cpu_seconds() - emulator;
        rusage u{};
        getrusage(RUSAGE_CHILDREN, &u);
        f.peak_rss_kb = u.ru_maxrss;
        count_requests(f, concurrency_);
        return f;
    }

    /// The naive script syncs src into s1, on this thread; exits on any failure.
    figures run_script()
    {
        emu_->clear_requests();
        figures f;
        double self = thread_cpu(), emulator = emu_.cpu_seconds();
        auto t0 = std::chrono::steady_clock::now();
        auto r = baseline::run_script({.source_url = emu_->tenant_url("src"),
                                    .target_url = emu_->tenant_url("s1"),
                                    .client_id = "bench-client",
                                    .client_secret = secret,
                                    .state_file = dir_.file("script-state.json")});
        f.wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        f.client_cpu = thread_cpu() - self;
        f.emulator_cpu = emu_.cpu_seconds() - emulator;
        if (!r) emulator_thread::fail("the script baseline failed: " + r.error().what());
        f.script = std::move(*r);
        count_requests(f, 1);
        return f;
    }

    /// A new, active version in 1% of the source workflows (at least one), as a person editing
    /// and activating them in the UI would make: wfsync (version: latest) and the script (the
    /// active version) both see it. Returns their names.
    std::vector<std::string> change_one_percent()
    {
        std::vector<std::string> names;
        int changed = std::max(1, n_ / 100);
        for (int i = 0; i < changed; ++i) {
            json::object doc = version("0.0.2", 50000 + 10 * i, "changed");
            doc.erase("version");
            doc.erase("status");
            names.push_back(fmt::format("Workflow {:04}", i));
            doc["workflow"] = json::object{{"name", names.back()}, {"version", "0.0.2"}, {"status", "Active"}};
            if (auto r = emu_->add_version("src", std::to_string(1000 + i), doc); !r)
                emulator_thread::fail("add_version: " + r.error().what());
        }
        return names;
    }

    int workflows() const { return n_; }

private:
    void count_requests(figures& f, int concurrency)
    {
        for (const auto& v : emu_->requests()) {
            ++f.requests[kind_of(v.as_object())];
            ++f.total;
        }
        f.ideal = static_cast<double>(f.total) * latency_ / 1000.0 / concurrency;
    }

    std::string seed() const
    {
        json::array source;
        for (int i = 0; i < n_; ++i)
            source.push_back(json::object{{"id", 1000 + i},
                                          {"name", fmt::format("Workflow {:04}", i)},
                                          {"versions", json::array{version("0.0.1", 10 * i, fmt::format("Reminder {}", i))}}});
        return json::serialize(json::object{{"tenants",
                                             {{"src", zuora_tenant(std::move(source))},
                                              {"t1", zuora_tenant({})},
                                              {"t2", zuora_tenant({})},
                                              {"t3", zuora_tenant({})},
                                              {"s1", zuora_tenant({})}}}});
    }

    int n_, latency_, concurrency_;
    emulator_thread emu_;
    test::temp_dir dir_;
    std::string config_;
};

void print(const char* what, const std::string& who, const figures& f, int workflows)
{
    std::string kinds;
    for (const auto& [k, n] : f.requests) kinds += fmt::format("{}{} {}", kinds.empty() ? "" : ", ", n, k);
    std::string rss = f.peak_rss_kb < 0 ? std::string()
                                        : fmt::format(", peak RSS {:.1f} MB", static_cast<double>(f.peak_rss_kb) / 1024.0);
    std::printf("  %-24s %-6s %8.2f s  ideal %7.2f s  wall/ideal %5.2f  %5zu requests (%s)  "
                "%s %.2f ms CPU/workflow%s  emulator CPU %.2f s%s\n",
                what, who.c_str(), f.wall, f.ideal, f.ideal > 0 ? f.wall / f.ideal : 0.0, f.total, kinds.c_str(),
                f.peak_rss_kb < 0 ? "script" : "wfsync", 1000.0 * f.client_cpu / workflows, rss.c_str(),
                f.emulator_cpu, f.code == 0 ? "" : "  (FAILED)");
}

/// The script's line, wfsync's line, and the ratio of their wall times.
void print_pair(const char* what, int concurrency, const figures& script, const figures& wfsync, int workflows)
{
    print(what, "script", script, workflows);
    print(what, fmt::format("c={}", concurrency), wfsync, workflows);
    std::printf("  %-24s script wall / wfsync wall = %.1fx\n", "", wfsync.wall > 0 ? script.wall / wfsync.wall : 0.0);
}

void warn(const std::string& what)
{
    std::printf("  WARNING: %s\n", what.c_str());
    std::fflush(stdout);
}

/// The script's imports as its report and the emulator's log saw them.
std::size_t imports(const figures& f)
{
    auto it = f.requests.find("import");
    return it == f.requests.end() ? 0 : it->second;
}

}  // namespace

int main(int argc, char** argv)
{
    int n = argc > 1 ? std::atoi(argv[1]) : 200;
    int latency = argc > 2 ? std::atoi(argv[2]) : 20;
    int concurrency = argc > 3 ? std::atoi(argv[3]) : 8;
    int sequential = argc > 4 ? std::atoi(argv[4]) : 1;
    if (n <= 0 || latency < 0 || concurrency <= 0 || argc > 5) {
        std::fprintf(stderr, "usage: wfsync_bench_sync [WORKFLOWS=200] [LATENCY_MS=20] [CONCURRENCY=8] [SEQUENTIAL=1]\n"
                             "  SEQUENTIAL=0 skips the wfsync concurrency-1 baseline\n");
        return 2;
    }
    setvbuf(stdout, nullptr, _IOLBF, 0);  // one line per run, as it finishes
    bool failed = false;
    auto check = [&](const figures& f) {
        failed = failed || f.code != 0;
        return f;
    };
    std::printf("wfsync sync, %d Zuora workflows, %d ms per request\n", n, latency);
    {
        std::printf("wfsync (concurrency %d) beside the script a user would write (one request at a time, exports every "
                    "workflow, imports what its own state file says changed); each into its own target:\n",
                    concurrency);
        bench b(n, latency, concurrency);
        auto s = b.run_script();
        auto w = check(b.run("one"));
        print_pair("first sync, 1 target", concurrency, s, w, n);
        if (s.script.created.size() != static_cast<std::size_t>(n) || imports(s) != static_cast<std::size_t>(n))
            warn(fmt::format("the script's first sync created {} workflows ({} imports logged), not {}",
                             s.script.created.size(), imports(s), n));

        s = b.run_script();
        w = check(b.run("one"));
        print_pair("no-change sync", concurrency, s, w, n);
        if (imports(s) != 0 || !s.script.created.empty() || !s.script.updated.empty())
            warn(fmt::format("the script's no-change run imported {} workflows ({} imports logged), not 0",
                             s.script.created.size() + s.script.updated.size(), imports(s)));

        auto changed = b.change_one_percent();
        s = b.run_script();
        w = check(b.run("one"));
        print_pair("1% changed", concurrency, s, w, n);
        std::set<std::string> expected(changed.begin(), changed.end());
        std::set<std::string> got(s.script.updated.begin(), s.script.updated.end());
        if (got != expected || !s.script.created.empty() || imports(s) != changed.size())
            warn(fmt::format("the script's 1%-changed run updated {} and created {} workflows ({} imports logged); "
                             "expected exactly the {} changed ones",
                             got.size(), s.script.created.size(), imports(s), changed.size()));

        print("first sync, 2 targets", fmt::format("c={}", concurrency), check(b.run("two")), n);
    }
    if (sequential != 0) {
        std::printf("sequential baseline (wfsync, concurrency 1):\n");
        bench b(n, latency, 1);
        print("first sync, 1 target", "c=1", check(b.run("one")), n);
        print("no-change sync", "c=1", check(b.run("one")), n);
        b.change_one_percent();
        print("1% changed", "c=1", check(b.run("one")), n);
        print("first sync, 2 targets", "c=1", check(b.run("two")), n);
    }
    if (failed) std::fprintf(stderr, "wfsync_bench_sync: a wfsync run failed (see above)\n");
    return failed ? 1 : 0;
}
