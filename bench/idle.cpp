// SPDX-License-Identifier: Apache-2.0
// Idle cost of `wfsync serve` with many rules scheduled: CPU time and resident memory of the
// real daemon over a quiet window. Usage: wfsync_bench_idle [RULES=50] [SECONDS=20]
#include "support/process.hpp"
#include "support/temp_dir.hpp"

#include <chrono>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <unistd.h>

using namespace wfsync::test;

namespace {

/// utime + stime of a process, in seconds.
double cpu_seconds(pid_t pid)
{
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string all((std::istreambuf_iterator<char>(in)), {});
    auto close = all.rfind(')');
    std::istringstream rest(all.substr(close + 2));
    std::string field;
    unsigned long long utime = 0, stime = 0;
    for (int i = 3; i <= 15 && rest >> field; ++i) {
        if (i == 14) utime = std::stoull(field);
        if (i == 15) stime = std::stoull(field);
    }
    return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

/// A field of /proc/PID/status in kB (VmRSS, VmHWM).
long status_kb(pid_t pid, const std::string& key)
{
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind(key + ":", 0) == 0) return std::stol(line.substr(key.size() + 1));
    return -1;
}

}  // namespace

int main(int argc, char** argv)
{
    int rules = argc > 1 ? std::stoi(argv[1]) : 50;
    int seconds = argc > 2 ? std::stoi(argv[2]) : 20;
    temp_dir dir;
    std::ostringstream cfg;
    cfg << "state: {path: " << dir.file("state") << "}\n"
        << "log: {level: warn}\n"
        << "admin: {listen: \"127.0.0.1:" << free_port() << "\"}\n"
        << "tenants:\n"
        << "  a: {platform: zuora, base_url: \"http://127.0.0.1:9\", auth: {type: bearer, token_env: BENCH_TOKEN}}\n"
        << "  b: {platform: zuora, base_url: \"http://127.0.0.1:9\", auth: {type: bearer, token_env: BENCH_TOKEN}}\n"
        << "rules:\n";
    for (int i = 0; i < rules; ++i) {
        // Spread over the day so that none fires during the window (a fire would not be idle).
        cfg << "  - {name: rule-" << i << ", source: a, targets: [b], schedule: \"" << (i % 60) << " "
            << (3 + i % 12) << " * * *\", timezone: Europe/Berlin}\n";
    }
    auto file = dir.write("wfsync.yaml", cfg.str());
    process p(WFSYNC_BIN, {"--config", file, "serve"}, {{"BENCH_TOKEN", "bench-token-value"}}, dir.file("out"),
              dir.file("err"));
    // Let it start and settle: the first second includes loading, opening the store, binding.
    std::this_thread::sleep_for(std::chrono::seconds(2));
    if (!p.running()) {
        std::cerr << "wfsync serve exited early:\n" << read_file(dir.file("err"));
        return 1;
    }
    double cpu0 = cpu_seconds(p.pid());
    auto t0 = std::chrono::steady_clock::now();
    std::this_thread::sleep_for(std::chrono::seconds(seconds));
    double cpu1 = cpu_seconds(p.pid());
    double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    long rss = status_kb(p.pid(), "VmRSS");
    long hwm = status_kb(p.pid(), "VmHWM");
    p.signal(SIGTERM);
    auto code = p.wait_for(std::chrono::seconds(30));

    std::printf("wfsync serve idle, %d rules scheduled, %.1f s window\n", rules, wall);
    std::printf("  cpu: %.3f s in %.1f s = %.3f%% of one core\n", cpu1 - cpu0, wall, 100.0 * (cpu1 - cpu0) / wall);
    std::printf("  rss: %ld kB now, %ld kB peak\n", rss, hwm);
    std::printf("  exit after SIGTERM: %d\n", code ? *code : -1);
    return 0;
}
