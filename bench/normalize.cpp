// SPDX-License-Identifier: Apache-2.0
// Normalize-and-hash throughput on large packages, one thread (so: per core), beside three
// baselines measured in the same run: sha256 alone over the same bytes, JSON parse alone (into
// an arena, as normalize parses), and
// JSON parse plus canonical serialization plus sha256 (what any normalization must at least
// do). Times are the thread's CPU time, best of the rounds: on a shared machine, wall time
// also counts the time other processes hold the core.
// Usage: wfsync_bench_normalize [MB=5] [ROUNDS=5]
#include <wfsync/connector/model.hpp>
#include <wfsync/core/hash.hpp>
#include <wfsync/core/json.hpp>
#include <wfsync/sync/normalize.hpp>

#include <boost/json.hpp>

#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>

namespace json = boost::json;
using namespace wfsync;

namespace {

std::string filler(std::size_t i, std::size_t n)
{
    std::string s = fmt::format("Step {} of the dunning run: ", i);
    while (s.size() < n) s += "remind the account owner politely, then wait and check the balance again; ";
    return s.substr(0, n);
}

/// A Zuora export of about `bytes`: tasks in a chain, each with a text parameter.
connector::package zuora(std::size_t bytes)
{
    json::array tasks, links;
    std::size_t size = 0;
    for (std::size_t i = 0; size < bytes; ++i) {
        json::object t{{"id", 100000 + i},
                       {"name", fmt::format("Task {}", i)},
                       {"action_type", i % 3 ? "Email" : "Query"},
                       {"parameters", {{"subject", filler(i, 300)}, {"to", "{{Data.Account.email}}"}}},
                       {"css", {{"left", fmt::format("{}px", i * 10)}, {"top", "40px"}}},
                       {"status", "Processing"},
                       {"created_at", "2026-01-01T00:00:00Z"}};
        size += json::serialize(t).size();
        tasks.push_back(std::move(t));
        if (i > 0)
            links.push_back(json::object{{"id", 900000 + i},
                                         {"linkage_type", "Success"},
                                         {"source_task_id", 100000 + i - 1},
                                         {"target_task_id", 100000 + i},
                                         {"source_workflow_id", 286}});
    }
    connector::package p;
    p.format = "zuora-json";
    p.files["workflow.json"] = json::serialize(
        json::object{{"workflow", {{"id", 286}, {"name", "Big"}}}, {"tasks", tasks}, {"linkages", links}});
    return p;
}

/// A Kore.ai package whose flow definition is about `bytes`: nodes with uuid-like ids, a
/// "next" reference each, and prompts naming other nodes.
connector::package kore(std::size_t bytes)
{
    auto id = [](std::size_t i) { return fmt::format("node-{:08x}-{:04x}-4c1e", i * 2654435761u, i & 0xffff); };
    json::array nodes;
    std::size_t size = 0;
    std::size_t n = 0;
    for (; size < bytes; ++n) {
        json::object node{{"id", id(n)},
                          {"type", n % 2 ? "ai" : "api"},
                          {"next", id(n + 1)},
                          {"prompt", "use {{" + id(n / 2) + ".output}}: " + filler(n, 300)},
                          {"config", {{"timeoutMs", 30000}, {"temperature", 0.2}}}};
        size += json::serialize(node).size();
        nodes.push_back(std::move(node));
    }
    connector::package p;
    p.format = "kore-zip";
    p.files["flow_definition.json"] =
        json::serialize(json::object{{"appId", "a-1234567890"}, {"startNodeId", id(0)}, {"nodes", nodes}});
    p.files["app_definition.json"] = R"({"appId":"a-1234567890","version":{"label":"v3","number":3}})";
    p.files["env_variables.json"] = R"({"REGION":"eu"})";
    return p;
}

std::size_t total_bytes(const connector::package& p)
{
    std::size_t n = 0;
    for (const auto& [name, bytes] : p.files) n += bytes.size();
    return n;
}

/// CPU time of this thread, in seconds.
double thread_seconds()
{
    timespec t{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

/// MB/s of `f` over `bytes` in this thread's CPU time, the best of `rounds` (the least
/// disturbed by the machine).
template <class F>
double best_mb_per_s(std::size_t bytes, int rounds, F&& f)
{
    double best = 0;
    for (int r = 0; r < rounds; ++r) {
        double t0 = thread_seconds();
        f();
        double s = thread_seconds() - t0;
        best = std::max(best, static_cast<double>(bytes) / (1024.0 * 1024.0) / s);
    }
    return best;
}

void measure(const char* what, const connector::package& p, int rounds)
{
    const auto bytes = total_bytes(p);
    std::string sink;
    double norm = best_mb_per_s(bytes, rounds, [&] {
        auto r = sync::normalize(p);
        if (!r) {
            std::fprintf(stderr, "%s: %s\n", what, r.error().what().c_str());
            std::exit(1);
        }
        sink = r->hash;
    });
    double sha = best_mb_per_s(bytes, rounds, [&] {
        for (const auto& [name, b] : p.files) sink = sha256_hex(b);
    });
    std::size_t kinds = 0;
    // Parsed into an arena, as normalize does.
    double parse = best_mb_per_s(bytes, rounds, [&] {
        json::monotonic_resource arena;
        for (const auto& [name, b] : p.files) kinds += static_cast<std::size_t>(json::parse(b, &arena).kind());
    });
    double canon = best_mb_per_s(bytes, rounds, [&] {
        for (const auto& [name, b] : p.files) sink = sha256_hex(canonical_json(json::parse(b)));
    });
    std::printf("%-30s %7.2f MB  normalize+hash %7.1f MB/s   baselines: sha256 %7.1f MB/s, parse (arena) %7.1f MB/s, "
                "parse+canonical+sha256 %7.1f MB/s (normalize at %.2fx of it)\n",
                what, static_cast<double>(bytes) / (1024.0 * 1024.0), norm, sha, parse, canon, norm / canon);
}

}  // namespace

int main(int argc, char** argv)
{
    std::size_t mb = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 5;
    int rounds = argc > 2 ? std::atoi(argv[2]) : 5;
    if (mb == 0 || rounds <= 0) {
        std::fprintf(stderr, "usage: wfsync_bench_normalize [MB=5] [ROUNDS=5]\n");
        return 2;
    }
    std::printf("normalize and hash, one thread, CPU time, best of %d rounds\n", rounds);
    measure("Zuora export", zuora(mb << 20), rounds);
    measure("Kore.ai package (large flow)", kore(mb << 20), rounds);
    return 0;
}
