// SPDX-License-Identifier: Apache-2.0
// `wfsync status`: asks the running daemon's admin endpoint for /status.
#include <wfsync/app/admin.hpp>
#include <wfsync/app/cli.hpp>

#include <wfsync/config/config.hpp>
#include <wfsync/core/log.hpp>
#include <wfsync/net/http_client.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <exception>
#include <optional>
#include <ostream>
#include <vector>

namespace wfsync::app {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;

/// Where to connect for a listen address: a wildcard bind is reached over loopback.
std::string connect_address(const std::string& listen)
{
    auto colon = listen.rfind(':');
    if (colon == std::string::npos) return listen;
    std::string host = listen.substr(0, colon);
    std::string port = listen.substr(colon + 1);
    if (host == "0.0.0.0" || host.empty()) host = "127.0.0.1";
    else if (host == "[::]" || host == "[0:0:0:0:0:0:0:0]") host = "[::1]";
    return host + ":" + port;
}

awaitable<void> fetch(net::http_client& client, net::http_request req, std::optional<result<net::http_response>>& out)
{
    auto r = co_await client.send(std::move(req));
    out.emplace(std::move(r));
}

std::string str_of(const json::object& o, std::string_view key, std::string_view missing = "-")
{
    auto* v = o.if_contains(key);
    if (!v) return std::string(missing);
    if (v->is_string()) {
        auto s = std::string(v->get_string());
        return s.empty() ? std::string(missing) : s;
    }
    if (v->is_bool()) return v->get_bool() ? "yes" : "no";
    if (v->is_int64()) return std::to_string(v->get_int64());
    if (v->is_uint64()) return std::to_string(v->get_uint64());
    if (v->is_double()) return fmt::format("{}", v->get_double());
    return std::string(missing);  // null, arrays, objects
}

/// Seconds since the epoch of "YYYY-MM-DDTHH:MM:SS[.fff]Z", or nullopt.
std::optional<std::time_t> parse_iso_utc(const std::string& s)
{
    std::tm tm{};
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, se = 0;
    if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d", &y, &mo, &d, &h, &mi, &se) != 6) return std::nullopt;
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = se;
    return timegm(&tm);
}

std::string format_uptime(long long secs)
{
    if (secs < 0) secs = 0;
    long long d = secs / 86400, h = secs % 86400 / 3600, m = secs % 3600 / 60, s = secs % 60;
    if (d > 0) return fmt::format("{}d {}h {}m", d, h, m);
    if (h > 0) return fmt::format("{}h {}m", h, m);
    if (m > 0) return fmt::format("{}m {}s", m, s);
    return fmt::format("{}s", s);
}

/// Columns padded to their widest cell.
void print_table(std::ostream& out, const std::vector<std::vector<std::string>>& rows)
{
    std::vector<std::size_t> width;
    for (const auto& r : rows)
        for (std::size_t i = 0; i < r.size(); ++i) {
            if (width.size() <= i) width.push_back(0);
            width[i] = std::max(width[i], r[i].size());
        }
    for (const auto& r : rows) {
        std::string line;
        for (std::size_t i = 0; i < r.size(); ++i) {
            line += r[i];
            if (i + 1 < r.size()) line += std::string(width[i] - r[i].size() + 2, ' ');
        }
        out << "  " << line << '\n';
    }
}

void print_human(const json::object& st, std::ostream& out)
{
    std::string started = str_of(st, "started_at");
    std::string up;
    if (auto t = parse_iso_utc(started))
        up = ", up " + format_uptime(static_cast<long long>(std::time(nullptr) - *t));
    out << "wfsync serve " << str_of(st, "version") << up << " (since " << started << ")\n";
    out << "config: " << str_of(st, "config_file") << '\n';
    auto* ready = st.if_contains("ready");
    out << "ready: " << (ready && ready->is_bool() && ready->get_bool() ? "yes" : "no") << '\n';

    std::vector<std::vector<std::string>> rows;
    rows.push_back({"RULE", "SCHEDULE", "NEXT FIRE", "RUNNING", "LAST OUTCOME", "LAST SUCCESS", "RUNS"});
    if (auto* rules = st.if_contains("rules"); rules && rules->is_array()) {
        for (const auto& v : rules->get_array()) {
            if (!v.is_object()) continue;
            const auto& r = v.get_object();
            std::string schedule = str_of(r, "schedule", "(by hand)");
            std::string tz = str_of(r, "timezone", "");
            if (!tz.empty() && tz != "UTC" && schedule != "(by hand)") schedule += " (" + tz + ")";
            rows.push_back({str_of(r, "name"), schedule, str_of(r, "next_fire"), str_of(r, "running", "no"),
                            str_of(r, "last_outcome"), str_of(r, "last_success"), str_of(r, "runs", "0")});
        }
    }
    out << "rules:\n";
    if (rows.size() == 1) out << "  (none)\n";
    else print_table(out, rows);
    out << "pending async jobs: " << str_of(st, "pending_jobs", "0") << '\n';
    if (auto* held = st.if_contains("held_imports"); held && held->is_array() && !held->get_array().empty()) {
        out << "held imports (outcome unknown; settle with wfsync resolve --intent N --imported|--not-imported):\n";
        std::vector<std::vector<std::string>> hr{{"INTENT", "RULE", "WORKFLOW", "VERSION", "TARGET", "CHECK"}};
        for (const auto& v : held->get_array()) {
            if (!v.is_object()) continue;
            const auto& h = v.get_object();
            hr.push_back({str_of(h, "intent"), str_of(h, "rule"), str_of(h, "workflow"), str_of(h, "version"),
                          str_of(h, "target_tenant"), str_of(h, "check")});
        }
        print_table(out, hr);
    }
}

}  // namespace

int run_status(const config::config& cfg, bool json_out, std::ostream& out, std::ostream& err)
{
    auto admin = admin_settings_from(cfg.admin);
    if (!admin) {
        err << "wfsync status: " << log::redact(admin.error().message) << '\n';
        return exit_config;
    }
    std::string where = connect_address(admin->listen);

    net::client_settings cs;
    cs.base_url = "http://" + where;
    cs.max_attempts = 1;  // a person is waiting; a dead daemon should be reported at once
    cs.connect_timeout = milliseconds{3000};
    cs.request_timeout = milliseconds{10'000};
    cs.rate_per_second = 0;
    cs.user_agent = "wfsync-status/0.1";
    cs.proxy = "";  // the admin endpoint is local: never through the environment's proxy

    asio::io_context ioc;
    std::optional<result<net::http_response>> got;
    std::exception_ptr crashed;
    {
        net::http_client client(ioc.get_executor(), cs);
        net::http_request req;
        req.method = "GET";
        req.target = "/status";
        req.headers.set("Accept", "application/json");
        if (!admin->token.empty()) req.headers.set("Authorization", "Bearer " + admin->token);
        asio::co_spawn(ioc, fetch(client, std::move(req), got), [&](std::exception_ptr e) { crashed = e; });
        ioc.run();
    }
    if (crashed) std::rethrow_exception(crashed);  // run_command reports it as an internal error
    if (!got) {
        err << "wfsync status: no result from the admin endpoint at " << where << '\n';
        return exit_partial;
    }
    if (!*got) {
        const auto& e = got->error();
        if (e.http_status == 0) {
            err << "wfsync serve is not running (no answer on " << where << ")\n";
            err << "wfsync status: " << log::redact(e.what()) << '\n';
            return exit_tempfail;
        }
        err << "wfsync status: the admin endpoint at " << where << " answered HTTP " << e.http_status << '\n';
        return exit_tempfail;
    }
    const auto& res = **got;
    if (res.status == 401) {
        err << "wfsync status: the admin endpoint at " << where << " refused the request (401): "
            << (admin->token.empty() ? "it requires a token; set admin.token_file to the daemon's token file"
                                     : "the token in admin.token_file does not match the daemon's")
            << '\n';
        return exit_config;
    }
    if (res.status != 200) {
        err << "wfsync status: the admin endpoint at " << where << " answered HTTP " << res.status << '\n';
        return res.status >= 500 ? exit_tempfail : exit_partial;
    }
    boost::system::error_code ec;
    auto doc = json::parse(res.body, ec);
    if (ec || !doc.is_object()) {
        err << "wfsync status: the admin endpoint at " << where << " answered with "
            << (ec ? "invalid JSON (" + ec.message() + ")" : std::string("JSON that is not an object")) << '\n';
        return exit_partial;
    }
    if (json_out) {
        out << res.body;
        if (res.body.empty() || res.body.back() != '\n') out << '\n';
        return exit_ok;
    }
    print_human(doc.get_object(), out);
    return exit_ok;
}

}  // namespace wfsync::app
