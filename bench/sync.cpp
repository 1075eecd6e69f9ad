// SPDX-License-Identifier: Apache-2.0
// Sync throughput of the real wfsync binary against the emulator, every request delayed by a
// fixed round trip, beside a sequential baseline (concurrency 1) measured in the same run:
// first sync into one target, a no-change sync, a sync after 1% of the source changed, and a
// first sync into two targets. For each: wall time, requests by kind, the latency-bound ideal
// (requests x latency / concurrency), wall / ideal, CPU per workflow, peak RSS of wfsync, and the
// emulator's own CPU (it must not be the bottleneck).
// Usage: wfsync_bench_sync [WORKFLOWS=200] [LATENCY_MS=20] [CONCURRENCY=8]
#include "emulator.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/json.hpp>

#include <fmt/format.h>

#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <thread>

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

struct figures {
    double wall = 0, ideal = 0, wfsync_cpu = 0, emulator_cpu = 0;
    std::map<std::string, std::size_t> requests;
    std::size_t total = 0;
    long peak_rss_kb = 0;
    int code = 0;
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
        for (const char* t : {"src", "t1", "t2", "t3"})
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

    figures run(const std::string& rule)
    {
        emu_->clear_requests();
        figures f;
        double children = cpu_of(RUSAGE_CHILDREN), self = cpu_of(RUSAGE_SELF);
        auto t0 = std::chrono::steady_clock::now();
        auto r = test::run_program(WFSYNC_BIN, {"--config", config_, "sync", "--rule", rule},
                                   {{"BENCH_SECRET", secret}}, std::chrono::minutes(30));
        f.wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        f.code = r.code;
        if (r.code != 0) std::fprintf(stderr, "wfsync exited %d:\n%s\n", r.code, r.err.substr(0, 2000).c_str());
        f.wfsync_cpu = cpu_of(RUSAGE_CHILDREN) - children;
        f.emulator_cpu = cpu_of(RUSAGE_SELF) - self;
        rusage u{};
        getrusage(RUSAGE_CHILDREN, &u);
        f.peak_rss_kb = u.ru_maxrss;
        for (const auto& v : emu_->requests()) {
            ++f.requests[kind_of(v.as_object())];
            ++f.total;
        }
        f.ideal = static_cast<double>(f.total) * latency_ / 1000.0 / concurrency_;
        return f;
    }

    /// A new version in 1% of the source workflows (at least one).
    void change_one_percent()
    {
        int changed = std::max(1, n_ / 100);
        for (int i = 0; i < changed; ++i) {
            json::object doc = version("0.0.2", 50000 + 10 * i, "changed");
            doc.erase("version");
            doc.erase("status");
            doc["workflow"] = json::object{{"name", fmt::format("Workflow {:04}", i)}, {"version", "0.0.2"}};
            if (auto r = emu_->add_version("src", std::to_string(1000 + i), doc); !r)
                emulator_thread::fail("add_version: " + r.error().what());
        }
    }

    int workflows() const { return n_; }

private:
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
                                              {"t3", zuora_tenant({})}}}});
    }

    int n_, latency_, concurrency_;
    emulator_thread emu_;
    test::temp_dir dir_;
    std::string config_;
};

void print(const char* what, int concurrency, const figures& f, int workflows)
{
    std::string kinds;
    for (const auto& [k, n] : f.requests) kinds += fmt::format("{}{} {}", kinds.empty() ? "" : ", ", n, k);
    std::printf("  %-28s c=%-2d %8.2f s  ideal %7.2f s  wall/ideal %5.2f  %5zu requests (%s)  "
                "wfsync %.2f ms CPU/workflow, peak RSS %.1f MB  emulator CPU %.2f s%s\n",
                what, concurrency, f.wall, f.ideal, f.ideal > 0 ? f.wall / f.ideal : 0.0, f.total, kinds.c_str(),
                1000.0 * f.wfsync_cpu / workflows, static_cast<double>(f.peak_rss_kb) / 1024.0, f.emulator_cpu,
                f.code == 0 ? "" : "  (FAILED)");
}

}  // namespace

int main(int argc, char** argv)
{
    int n = argc > 1 ? std::atoi(argv[1]) : 200;
    int latency = argc > 2 ? std::atoi(argv[2]) : 20;
    int concurrency = argc > 3 ? std::atoi(argv[3]) : 8;
    if (n <= 0 || latency < 0 || concurrency <= 0) {
        std::fprintf(stderr, "usage: wfsync_bench_sync [WORKFLOWS=200] [LATENCY_MS=20] [CONCURRENCY=8]\n");
        return 2;
    }
    std::printf("wfsync sync, %d Zuora workflows, %d ms per request\n", n, latency);
    for (int c : {concurrency, 1}) {
        std::printf("%s (concurrency %d):\n", c == 1 ? "sequential baseline" : "wfsync", c);
        bench b(n, latency, c);
        print("first sync, 1 target", c, b.run("one"), n);
        print("no-change sync", c, b.run("one"), n);
        b.change_one_percent();
        print("1% changed", c, b.run("one"), n);
        print("first sync, 2 targets", c, b.run("two"), n);
    }
    return 0;
}
