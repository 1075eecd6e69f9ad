// SPDX-License-Identifier: Apache-2.0
// Shared pieces of the end-to-end suites: an in-process emulator on its own thread, and the
// real wfsync binary run as a child process against it.
#pragma once

#include "support/process.hpp"
#include "support/run_coro.hpp"
#include "support/temp_dir.hpp"

#include <emulator.hpp>
#include <wfsync/net/http_client.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include <unistd.h>

namespace wfsync::test {

/// The emulator serving on a thread of its own; its direct-access members lock, so the test
/// thread may read the request log and add faults while wfsync talks to it.
class emulator_thread {
public:
    explicit emulator_thread(const std::string& seed, emulator::options o = {})
        : emu_(std::make_unique<emulator::emulator>(ioc_.get_executor(), std::move(o)))
    {
        auto loaded = emu_->load_seed(seed);
        BOOST_REQUIRE_MESSAGE(loaded, "seed: " + (loaded ? std::string() : loaded.error().what()));
        auto started = emu_->start();
        BOOST_REQUIRE_MESSAGE(started, "emulator start: " + (started ? std::string() : started.error().what()));
        thread_ = std::thread([this] { ioc_.run(); });
    }
    ~emulator_thread()
    {
        boost::asio::post(ioc_, [this] { emu_->stop(); });
        ioc_.stop();
        thread_.join();
    }

    emulator::emulator& operator*() { return *emu_; }
    emulator::emulator* operator->() { return emu_.get(); }

    /// Requests of `tenant` whose path contains `fragment` (and method, if given).
    std::vector<boost::json::object> find(const std::string& tenant, std::string_view fragment,
                                          std::string_view method = {})
    {
        std::vector<boost::json::object> out;
        for (const auto& r : emu_->requests(tenant)) {
            const auto& o = r.as_object();
            if (o.at("path").as_string().find(fragment) == boost::json::string::npos) continue;
            if (!method.empty() && o.at("method").as_string() != method) continue;
            out.push_back(o);
        }
        return out;
    }

    /// Version labels of each workflow of `tenant`, by name.
    std::map<std::string, std::vector<std::string>> versions(const std::string& tenant)
    {
        std::map<std::string, std::vector<std::string>> out;
        auto st = emu_->state(tenant);
        for (const auto& w : st.at("workflows").as_array()) {
            auto& list = out[std::string(w.at("name").as_string())];
            for (const auto& v : w.at("versions").as_array())
                list.emplace_back(v.at("version").as_string());
        }
        return out;
    }

private:
    boost::asio::io_context ioc_;
    std::unique_ptr<emulator::emulator> emu_;
    std::thread thread_;
};

struct http_answer {
    int status = 0;
    std::string body;
};

/// One request to a daemon's admin endpoint (`base` = "http://127.0.0.1:PORT"), no retries;
/// status 0 and the error in `body` when nothing answered.
inline http_answer http(const std::string& base, const std::string& method, const std::string& target)
{
    boost::asio::io_context ioc;
    wfsync::net::client_settings s;
    s.base_url = base;
    s.max_attempts = 1;
    wfsync::net::http_client c(ioc.get_executor(), s);
    wfsync::net::http_request req;
    req.method = method;
    req.target = target;
    auto r = run_coro(ioc, c.send(req));
    if (!r) return {0, r.error().what()};
    return {r->status, r->body};
}

/// A state directory, a config file and the environment wfsync runs with.
struct wfsync_env {
    std::unique_ptr<temp_dir> dir = std::make_unique<temp_dir>();
    std::string config_file;
    std::map<std::string, std::string> env;

    /// Runs `wfsync --config <config_file> args...`.
    run_output run(std::vector<std::string> args, std::chrono::milliseconds limit = std::chrono::seconds(120)) const
    {
        args.insert(args.begin(), {"--config", config_file});
        return run_program(WFSYNC_BIN, args, env, limit);
    }

    /// Runs wfsync as an unprivileged user: as nobody (through setpriv, with the test's files
    /// given to nobody) when the tests run as root, for whom no permission check fails.
    run_output run_unprivileged(std::vector<std::string> args) const
    {
        args.insert(args.begin(), {"--config", config_file});
        if (::geteuid() != 0) return run_program(WFSYNC_BIN, args, env);
        for (auto& e : std::filesystem::recursive_directory_iterator(dir->path()))
            (void)::lchown(e.path().c_str(), 65534, 65534);
        (void)::lchown(dir->path().c_str(), 65534, 65534);
        args.insert(args.begin(), {"--reuid=65534", "--regid=65534", "--clear-groups", WFSYNC_BIN});
        return run_program("/usr/bin/setpriv", args, env);
    }
};

}  // namespace wfsync::test
