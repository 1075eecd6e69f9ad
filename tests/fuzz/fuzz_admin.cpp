// SPDX-License-Identifier: Apache-2.0
// The admin endpoint's routing (app::admin_answer) on any method, path and Authorization
// header: no crash, only the documented statuses, nothing but /healthz without the token,
// and a run started only by POST /rules/{name}/run.
#include <wfsync/app/admin.hpp>
#include <wfsync/net/http_server.hpp>

#include "fuzz_input.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

namespace {

struct provider final : wfsync::app::admin_provider {
    unsigned mode = 0;
    int runs = 0;
    bool ready() const override { return mode & 1; }
    std::string metrics_text() override { return "wfsync_up 1\n"; }
    boost::json::object status() override { return wfsync::app::to_json(wfsync::app::daemon_status{}); }
    wfsync::result<std::string> run_rule(const std::string& name) override
    {
        ++runs;
        switch ((mode >> 1) & 3) {
        case 0: return std::string("started");
        case 1: return wfsync::fail(wfsync::errc::not_found, "no rule '" + name + "'");
        case 2: return wfsync::fail(wfsync::errc::conflict, "a run of '" + name + "' is in flight");
        default: return wfsync::fail(wfsync::errc::store, "store gone");
        }
    }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    auto in = wfsync::fuzz::split_pick(data, size, 16);
    auto texts = wfsync::fuzz::parts(in.rest, 4);  // method, path, Authorization, token
    provider p;
    p.mode = in.pick;
    wfsync::app::admin_server_settings settings;
    if (in.pick & 8) settings.token = std::string(texts[3]);
    wfsync::net::server_request req;
    req.method = std::string(texts[0]);
    req.path = std::string(texts[1]);
    req.target = req.path;
    if (!texts[2].empty()) req.headers.set("Authorization", std::string(texts[2]));

    auto res = wfsync::app::admin_answer(req, settings, p);
    switch (res.status) {
    case 200: case 202: case 401: case 404: case 405: case 409: case 503: break;
    default: std::abort();
    }
    const std::string* auth = req.headers.find("Authorization");
    bool has_token = !settings.token.empty() && auth && auth->find(settings.token) != std::string::npos;
    bool open = settings.token.empty() || has_token;
    if (res.status != 401 && !open && req.path != "/healthz") std::abort();  // token bypassed
    const std::string& t = settings.token;
    bool exact = t.empty() || (auth && *auth == "Bearer " + t && t.front() != ' ' && t.back() != ' ' &&
                               t.back() != '\t');
    if (res.status == 401 && (exact || req.path == "/healthz")) std::abort();  // a right token refused
    if (p.runs > 0 && (req.method != "POST" || !req.path.starts_with("/rules/") || !req.path.ends_with("/run")))
        std::abort();
    if (res.status == 405 && !res.headers.find("Allow")) std::abort();
    return 0;
}
