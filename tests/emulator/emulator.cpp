// SPDX-License-Identifier: Apache-2.0
// The emulator's request pipeline (request log, faults, auth, idempotency, latency) and its
// control API under /_emulator. The Zuora routes themselves are in zuora.cpp.
#include "emulator.hpp"

#include "kore_model.hpp"
#include "secmaster_model.hpp"
#include "zuora_model.hpp"

#include <wfsync/core/json.hpp>
#include <wfsync/net/http_server.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/serialize.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <mutex>

namespace wfsync::emulator {
namespace json = boost::json;
namespace asio = boost::asio;
using detail::error_reply;
using detail::json_reply;
using detail::reply;

namespace {

struct fault_rec {
    std::int64_t id = 0;
    std::string tenant, method, path_contains, kind;
    int status = 503;
    std::string retry_after, rate_limit_reset;
    int delay_ms = 0;
    int count = 1;
    int skip = 0;
    double probability = 1.0;   ///< chance that a due, matching request fires it
    std::uint64_t draws = 0;    ///< splitmix64 state, from the fault's `seed`
};

/// The fault's next draw in [0, 1): splitmix64, so a seed replays the same firings for the
/// same order of requests.
double draw(std::uint64_t& state)
{
    std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return static_cast<double>(z >> 11) * 0x1.0p-53;
}

constexpr std::string_view fault_kinds[] = {"status", "latency", "reset_before", "reset_after_commit",
                                            "truncate", "close", "job_failed"};

/// A JSON string or number as text (retry_after may be given either way).
std::string text_of(const json::value& v)
{
    if (v.is_string()) return std::string(v.get_string());
    if (v.is_null()) return {};
    return json::serialize(v);
}

result<fault_rec> parse_fault(const json::object& o)
{
    fault_rec f;
    for (const auto& kv : o) {
        std::string_view key = kv.key();
        const auto& v = kv.value();
        auto want_int = [&](int& out, int min) -> result<void> {
            if (!v.is_int64() && !v.is_uint64())
                return fail(errc::invalid_argument, fmt::format("fault.{}: must be an integer", key));
            auto n = v.is_int64() ? v.get_int64() : static_cast<std::int64_t>(v.get_uint64());
            if (n < min || n > 1'000'000'000)
                return fail(errc::invalid_argument, fmt::format("fault.{}: must be at least {}", key, min));
            out = static_cast<int>(n);
            return {};
        };
        auto want_string = [&](std::string& out) -> result<void> {
            if (!v.is_string()) return fail(errc::invalid_argument, fmt::format("fault.{}: must be a string", key));
            out = std::string(v.get_string());
            return {};
        };
        result<void> r;
        if (key == "tenant") r = want_string(f.tenant);
        else if (key == "method") r = want_string(f.method);
        else if (key == "path_contains") r = want_string(f.path_contains);
        else if (key == "kind") r = want_string(f.kind);
        else if (key == "status") r = want_int(f.status, 100);
        else if (key == "delay_ms") r = want_int(f.delay_ms, 0);
        else if (key == "count") r = want_int(f.count, 1);
        else if (key == "skip") r = want_int(f.skip, 0);
        else if (key == "probability") {
            if (!v.is_number() || v.to_number<double>() <= 0 || v.to_number<double>() > 1)
                return fail(errc::invalid_argument, "fault.probability: must be a number above 0, at most 1");
            f.probability = v.to_number<double>();
        } else if (key == "seed") {
            if (!v.is_int64() && !v.is_uint64()) return fail(errc::invalid_argument, "fault.seed: must be an integer");
            f.draws = v.is_int64() ? static_cast<std::uint64_t>(v.get_int64()) : v.get_uint64();
        } else if (key == "retry_after") f.retry_after = text_of(v);
        else if (key == "rate_limit_reset") f.rate_limit_reset = text_of(v);
        else return fail(errc::invalid_argument, fmt::format("fault: unknown key '{}'", key));
        if (!r) return r.error();
    }
    if (f.kind.empty()) return fail(errc::invalid_argument, "fault.kind: is required");
    if (std::find(std::begin(fault_kinds), std::end(fault_kinds), f.kind) == std::end(fault_kinds))
        return fail(errc::invalid_argument,
                    fmt::format("fault.kind: '{}' is not one of status, latency, reset_before, "
                                "reset_after_commit, truncate, close, job_failed",
                                f.kind));
    if (f.status > 599) return fail(errc::invalid_argument, "fault.status: must be an HTTP status (100-599)");
    return f;
}

/// Splits "/t/{tenant}/rest" into tenant and rest ("" and "" if the path is not a tenant's).
std::pair<std::string, std::string> split_tenant(const std::string& path)
{
    if (path.rfind("/t/", 0) != 0) return {};
    auto slash = path.find('/', 3);
    if (slash == std::string::npos) return {path.substr(3), ""};
    return {path.substr(3, slash - 3), path.substr(slash)};
}

std::vector<std::string> segments(std::string_view p)
{
    std::vector<std::string> out;
    while (!p.empty()) {
        auto slash = p.find('/');
        if (slash != 0) out.emplace_back(p.substr(0, slash));
        if (slash == std::string_view::npos) break;
        p.remove_prefix(slash + 1);
    }
    return out;
}

}  // namespace

struct emulator::impl {
    executor ex;
    options opts;
    std::unique_ptr<net::http_server> server;

    mutable std::mutex mu;  // guards everything below (tests read from another thread)
    std::map<std::string, std::shared_ptr<detail::tenant_state>> tenants;
    std::map<std::string, std::shared_ptr<detail::secmaster_tenant>> secmaster_tenants;
    std::map<std::string, std::int64_t> tenant_ranges;  // name -> id range base, stable on reload
    std::map<std::string, std::shared_ptr<detail::kore_tenant>> kore_tenants;
    /// Kore.ai downloads from "another host": a second listener (same address, own port).
    std::unique_ptr<net::http_server> foreign_server;
    std::vector<std::shared_ptr<json::object>> log;
    std::int64_t next_seq = 1;
    std::vector<fault_rec> faults;
    std::int64_t next_fault_id = 1;

    impl(executor e, options o) : ex(std::move(e)), opts(std::move(o)) {}

    std::string base_url() const { return server ? server->base_url() : std::string{}; }

    result<void> load_seed(std::string_view text)
    {
        auto v = parse_json(text, "emulator seed");
        if (!v) return fail(errc::config, v.error().message);
        const auto* ts = find_member(*v, "tenants");
        if (!ts || !ts->is_object()) return fail(errc::config, "emulator seed: 'tenants' must be an object");
        if (v->get_object().size() != 1)
            return fail(errc::config, "emulator seed: only the key 'tenants' is allowed at the top level");
        std::map<std::string, std::shared_ptr<detail::tenant_state>> loaded;
        std::map<std::string, std::shared_ptr<detail::secmaster_tenant>> sm_loaded;
        std::map<std::string, std::shared_ptr<detail::kore_tenant>> kore_loaded;
        std::lock_guard lock(mu);
        // A reloaded tenant's update times go on from the last one it handed out.
        auto last_stamp = [&](const std::string& name) -> std::int64_t {
            if (auto t = tenant(name)) return t->last_stamp_ms;
            if (auto sm = secmaster_tenant(name)) return sm->last_stamp_ms;
            return 0;
        };
        for (const auto& kv : ts->get_object()) {
            std::string name(kv.key());
            if (name.empty() || name.find_first_of("/?#% ") != std::string::npos)
                return fail(errc::config, fmt::format("emulator seed: tenant name '{}' must be a plain word", name));
            if (detail::is_kore_seed(kv.value())) {
                auto k = detail::kore_tenant_from_seed(name, kv.value());
                if (!k) return fail(errc::config, "emulator seed: " + k.error().message);
                kore_loaded[name] = std::make_shared<detail::kore_tenant>(std::move(*k));
                continue;
            }
            if (detail::is_secmaster_seed(kv.value())) {
                auto s = detail::secmaster_from_seed(name, kv.value(), last_stamp(name));
                if (!s) return fail(errc::config, "emulator seed: " + s.error().message);
                sm_loaded[name] = std::make_shared<detail::secmaster_tenant>(std::move(*s));
                continue;
            }
            auto range = tenant_ranges.try_emplace(name, (std::int64_t(tenant_ranges.size()) + 1) * 100'000).first;
            auto t = detail::tenant_from_seed(name, kv.value(), range->second, last_stamp(name));
            if (!t) return fail(errc::config, "emulator seed: " + t.error().message);
            loaded[name] = std::make_shared<detail::tenant_state>(std::move(*t));
        }
        for (auto& [name, t] : loaded) kore_tenants.erase(name);
        for (auto& [name, t] : kore_loaded) {
            tenants.erase(name);
            secmaster_tenants.erase(name);
            kore_tenants[name] = std::move(t);
        }
        for (auto& [name, t] : loaded) {  // all or nothing
            secmaster_tenants.erase(name);
            tenants[name] = std::move(t);
        }
        for (auto& [name, t] : sm_loaded) {
            tenants.erase(name);
            kore_tenants.erase(name);
            secmaster_tenants[name] = std::move(t);
        }
        return {};
    }

    std::shared_ptr<detail::secmaster_tenant> secmaster_tenant(const std::string& name) const
    {
        auto it = secmaster_tenants.find(name);
        return it == secmaster_tenants.end() ? nullptr : it->second;
    }

    std::shared_ptr<detail::kore_tenant> kore_tenant(const std::string& name) const
    {
        auto it = kore_tenants.find(name);
        return it == kore_tenants.end() ? nullptr : it->second;
    }

    std::shared_ptr<detail::tenant_state> tenant(const std::string& name) const
    {
        auto it = tenants.find(name);
        return it == tenants.end() ? nullptr : it->second;
    }

    /// Finds the first fault that matches and is due to fire; consumes one firing.
    std::optional<fault_rec> take_fault(const std::string& tenant, const net::server_request& req)
    {
        for (auto it = faults.begin(); it != faults.end(); ++it) {
            if (!it->tenant.empty() && it->tenant != tenant) continue;
            if (!it->method.empty() && it->method != req.method) continue;
            if (!it->path_contains.empty() && req.path.find(it->path_contains) == std::string::npos) continue;
            if (it->skip > 0) {
                --it->skip;
                continue;
            }
            // A request the draw spares goes on to the next fault.
            if (it->probability < 1.0 && draw(it->draws) >= it->probability) continue;
            fault_rec fired = *it;
            if (--it->count == 0) faults.erase(it);
            return fired;
        }
        return std::nullopt;
    }

    result<std::string> add_version(const std::string& tenant_name, const std::string& workflow_id,
                                    const json::object& doc)
    {
        std::lock_guard lock(mu);
        if (auto sm = secmaster_tenant(tenant_name)) return detail::secmaster_add_version(*sm, workflow_id, doc);
        if (auto kt = kore_tenant(tenant_name)) return detail::kore_add_version(*kt, workflow_id, doc);
        auto t = tenant(tenant_name);
        if (!t) return fail(errc::not_found, fmt::format("tenant '{}' not found", tenant_name));
        std::int64_t id = 0;
        auto [end, ec] = std::from_chars(workflow_id.data(), workflow_id.data() + workflow_id.size(), id);
        bool numeric = ec == std::errc{} && end == workflow_id.data() + workflow_id.size();
        auto wit = numeric ? t->workflows.find(id) : t->workflows.end();
        if (wit == t->workflows.end())
            return fail(errc::not_found, fmt::format("workflow {} not found in tenant '{}'", workflow_id, tenant_name));
        auto& wf = wit->second;
        // A person editing in the UI gets the next version unless the document names a newer one.
        std::string label = detail::next_patch(wf.latest() ? wf.latest()->label : "0.0.0");
        const auto* w = doc.if_contains("workflow");
        if (w && w->is_object()) {
            if (auto* v = w->get_object().if_contains("version"); v && v->is_string()) {
                auto parts = detail::parse_version(v->get_string());
                if (parts && (!wf.latest() || detail::compare_versions(*parts, wf.latest()->parts) > 0))
                    label = std::string(v->get_string());
            }
        }
        bool activate = false;
        if (w && w->is_object()) {
            if (auto* s = w->get_object().if_contains("status"); s && s->is_string() && s->get_string() == "Active")
                activate = true;
        }
        auto v = detail::add_version_from_doc(*t, wf, doc, label, activate);
        if (!v) return v.error();
        return (*v)->label;
    }

    result<std::string> edit_version(const std::string& tenant_name, const std::string& workflow_id,
                                     const std::string& label, const json::object& doc)
    {
        std::lock_guard lock(mu);
        if (auto sm = secmaster_tenant(tenant_name))
            return detail::secmaster_edit_version(*sm, workflow_id, label, doc);
        if (auto kt = kore_tenant(tenant_name)) return detail::kore_edit_version(*kt, workflow_id, label, doc);
        auto t = tenant(tenant_name);
        if (!t) return fail(errc::not_found, fmt::format("tenant '{}' not found", tenant_name));
        std::int64_t id = 0;
        auto [end, ec] = std::from_chars(workflow_id.data(), workflow_id.data() + workflow_id.size(), id);
        bool numeric = ec == std::errc{} && end == workflow_id.data() + workflow_id.size();
        auto wit = numeric ? t->workflows.find(id) : t->workflows.end();
        if (wit == t->workflows.end())
            return fail(errc::not_found, fmt::format("workflow {} not found in tenant '{}'", workflow_id, tenant_name));
        return detail::edit_version_from_doc(*t, wit->second, label, doc);
    }

    json::array requests(const std::string& tenant_name) const
    {
        std::lock_guard lock(mu);
        json::array out;
        for (const auto& e : log)
            if (tenant_name.empty() || e->at("tenant").as_string() == tenant_name) out.push_back(*e);
        return out;
    }

    reply control(const net::server_request& req);
};

namespace {

net::server_response to_response(const reply& r, const net::server_request& req)
{
    net::server_response resp;
    resp.status = r.status;
    resp.headers = r.headers;
    resp.body = r.body;
    resp.content_type = r.content_type;
    if (const auto* track = req.headers.find("Zuora-Track-Id")) resp.headers.set("Zuora-Track-Id", *track);
    // Zuora compresses answers over 1000 bytes when the client accepts gzip; the server
    // checks Accept-Encoding.
    resp.gzip = resp.body.size() > 1000;
    return resp;
}

json::object headers_object(const net::header_list& h)
{
    json::object out;
    for (const auto& [name, value] : h.fields) {
        std::string key = name;
        std::transform(key.begin(), key.end(), key.begin(), [](unsigned char c) { return std::tolower(c); });
        if (auto* prev = out.if_contains(key))
            *prev = std::string(prev->as_string()) + ", " + value;
        else
            out[key] = value;
    }
    return out;
}

awaitable<net::server_response> handle(std::shared_ptr<emulator::impl> self, net::server_request req,
                                       bool foreign = false)
{
    if (req.path == "/_emulator" || req.path.rfind("/_emulator/", 0) == 0)
        co_return to_response(self->control(req), req);

    auto split = split_tenant(req.path);
    const std::string tenant_name = split.first;
    const std::string sub_path = split.second;
    const std::string* key_header = req.headers.find("Idempotency-Key");
    std::string idem_key = key_header ? *key_header : std::string{};
    bool idempotent = !idem_key.empty() && (req.method == "POST" || req.method == "PATCH") &&
                      sub_path != "/oauth/token";

    std::shared_ptr<json::object> entry;
    std::optional<fault_rec> fault;
    std::shared_ptr<detail::tenant_state> tenant;
    std::shared_ptr<detail::kore_tenant> kt;
    std::shared_ptr<detail::secmaster_tenant> sm;
    {
        std::lock_guard lock(self->mu);
        entry = std::make_shared<json::object>(json::object{{"seq", self->next_seq++},
                                                            {"tenant", tenant_name},
                                                            {"method", req.method},
                                                            {"path", req.path},
                                                            {"query", req.query},
                                                            {"headers", headers_object(req.headers)},
                                                            {"status", 0},
                                                            {"idempotency_key", idem_key},
                                                            {"replayed", false},
                                                            {"fault", ""},
                                                            {"body", req.body}});
        self->log.push_back(entry);
        (*entry)["listener"] = foreign ? "foreign" : "main";
        if (!tenant_name.empty()) fault = self->take_fault(tenant_name, req);
        tenant = self->tenant(tenant_name);
        kt = self->kore_tenant(tenant_name);
        sm = self->secmaster_tenant(tenant_name);
        if (fault) (*entry)["fault"] = fault->kind;
    }
    auto finish = [&](net::server_response resp, int logged_status) {
        std::lock_guard lock(self->mu);
        (*entry)["status"] = logged_status;
        return resp;
    };

    // Faults that stop the request before it reaches the tenant.
    if (fault && fault->kind == "status") {
        // Each platform's own error shape.
        const auto text = fmt::format("injected fault: status {}", fault->status);
        auto r = sm   ? detail::secmaster_error(fault->status, "SecMaster.50000000", text)
                 : kt ? detail::kore_error(fault->status, text)
                      : error_reply(fault->status, fault->status == 429 ? 90000030 : 50000000, text);
        if (!fault->retry_after.empty()) r.headers.set("Retry-After", fault->retry_after);
        if (!fault->rate_limit_reset.empty()) r.headers.set("RateLimit-Reset", fault->rate_limit_reset);
        co_return finish(to_response(r, req), r.status);
    }
    if (fault && (fault->kind == "reset_before" || fault->kind == "close")) {
        net::server_response resp;
        resp.fail = fault->kind == "close" ? net::server_response::fault::close_before_response
                                           : net::server_response::fault::reset;
        co_return finish(std::move(resp), 0);
    }

    if (sm) {
        // SecMaster tenants: own auth (X-Auth-Token, IAM) and routes; faults as above.
        if (fault && fault->kind == "latency" && fault->delay_ms > 0) {
            asio::steady_timer timer(co_await asio::this_coro::executor);
            timer.expires_after(std::chrono::milliseconds(fault->delay_ms));
            co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
        }
        detail::zuora_request sr{req.method, sub_path.empty() ? "/" : sub_path, req.query, &req.headers, req.body,
                                 self->base_url() + "/t/" + tenant_name};
        reply r;
        {
            std::lock_guard lock(self->mu);
            r = detail::handle_secmaster(*sm, sr);
        }
        auto resp = to_response(r, req);
        if (fault && fault->kind == "reset_after_commit") resp.fail = net::server_response::fault::reset;
        if (fault && fault->kind == "truncate") {
            resp.fail = net::server_response::fault::truncate_body;
            resp.gzip = false;
        }
        co_return finish(std::move(resp), r.status);
    }

    if (kt) {
        // Kore.ai tenants: own auth (x-api-key) and routes (kore.cpp); faults as above.
        if (fault && fault->kind == "latency" && fault->delay_ms > 0) {
            asio::steady_timer timer(co_await asio::this_coro::executor);
            timer.expires_after(std::chrono::milliseconds(fault->delay_ms));
            co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
        }
        reply r;
        {
            std::lock_guard lock(self->mu);
            std::string foreign_base = self->foreign_server ? self->foreign_server->base_url() : std::string{};
            detail::kore_request kr{req.method, sub_path.empty() ? "/" : sub_path, req.query, &req.headers, req.body,
                                    self->base_url() + "/t/" + tenant_name, foreign_base + "/t/" + tenant_name,
                                    foreign, fault && fault->kind == "job_failed"};
            r = detail::handle_kore(*kt, kr);
        }
        auto resp = to_response(r, req);
        if (fault && fault->kind == "reset_after_commit") resp.fail = net::server_response::fault::reset;
        if (fault && fault->kind == "truncate") {
            resp.fail = net::server_response::fault::truncate_body;
            resp.gzip = false;
        }
        co_return finish(std::move(resp), r.status);
    }
    if (foreign) {
        auto r = detail::kore_error(404, "the download listener serves only Kore.ai tenants");
        co_return finish(to_response(r, req), r.status);
    }

    if (!tenant) {
        auto r = tenant_name.empty()
                     ? error_reply(404, detail::code_not_found,
                                   fmt::format("no such endpoint: {} (tenants are served under /t/{{tenant}})", req.path))
                     : error_reply(404, detail::code_not_found, fmt::format("tenant '{}' not found", tenant_name));
        co_return finish(to_response(r, req), r.status);
    }

    detail::zuora_request zr{req.method, sub_path.empty() ? "/" : sub_path, req.query, &req.headers, req.body,
                             self->base_url() + "/t/" + tenant_name};
    {
        std::lock_guard lock(self->mu);
        if (auto denied = detail::check_auth(*tenant, zr)) {
            (*entry)["status"] = denied->status;
            co_return to_response(*denied, req);
        }
        if (idempotent) {
            auto it = tenant->idempotency.find(idem_key);
            std::optional<reply> early;
            if (it == tenant->idempotency.end()) {
                tenant->idempotency.emplace(idem_key, detail::idempotency_entry{req.method, req.path, false, {}});
            } else if (it->second.method != req.method || it->second.path != req.path) {
                early = error_reply(422, detail::code_invalid_value,
                                    fmt::format("Idempotency-Key '{}' was first used with {} {}, not {} {}", idem_key,
                                                it->second.method, it->second.path, req.method, req.path));
            } else if (!it->second.done) {
                early = error_reply(409, detail::code_business_rule,
                                    fmt::format("a request with Idempotency-Key '{}' is still in progress", idem_key));
            } else {
                early = it->second.stored;
                early->headers.set("Idempotent-Replayed", "true");
                (*entry)["replayed"] = true;
            }
            if (early) {
                (*entry)["status"] = early->status;
                co_return to_response(*early, req);
            }
        }
    }

    if (fault && fault->kind == "latency" && fault->delay_ms > 0) {
        asio::steady_timer timer(co_await asio::this_coro::executor);
        timer.expires_after(std::chrono::milliseconds(fault->delay_ms));
        co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    }

    reply r;
    {
        std::lock_guard lock(self->mu);
        r = detail::handle_zuora(*tenant, zr);
        if (idempotent) {
            // Zuora keeps the first answer, successful or not.
            auto& stored = tenant->idempotency[idem_key];
            stored.done = true;
            stored.stored = r;
        }
    }
    auto resp = to_response(r, req);
    if (fault && fault->kind == "reset_after_commit") resp.fail = net::server_response::fault::reset;
    if (fault && fault->kind == "truncate") {
        resp.fail = net::server_response::fault::truncate_body;
        resp.gzip = false;  // cut the body the client would read, not a compressed stream
    }
    co_return finish(std::move(resp), r.status);
}

awaitable<net::server_response> serve(std::weak_ptr<emulator::impl> weak, net::server_request req,
                                      bool foreign = false)
{
    auto self = weak.lock();
    if (!self) {
        net::server_response resp;
        resp.fail = net::server_response::fault::close_before_response;
        co_return resp;
    }
    co_return co_await handle(std::move(self), std::move(req), foreign);
}

}  // namespace

reply emulator::impl::control(const net::server_request& req)
{
    auto seg = segments(req.path);  // "_emulator", ...
    auto q = detail::parse_form(req.query);
    auto bad = [](const error& e) {
        int status = e.code == errc::not_found ? 404 : 400;
        return error_reply(status, status == 404 ? detail::code_not_found : detail::code_invalid_value, e.message);
    };
    auto body_object = [&]() -> result<json::object> {
        auto v = parse_json(req.body, "request body");
        if (!v) return fail(errc::invalid_argument, v.error().message);
        if (!v->is_object()) return fail(errc::invalid_argument, "request body must be a JSON object");
        return std::move(v->get_object());
    };

    if (seg.size() == 2 && seg[1] == "requests") {
        if (req.method == "GET") return json_reply(200, requests(q["tenant"]));
        if (req.method == "DELETE") {
            std::lock_guard lock(mu);
            log.clear();
            return json_reply(200, json::object{{"success", true}});
        }
    }
    if (seg.size() == 2 && seg[1] == "faults") {
        if (req.method == "POST") {
            auto o = body_object();
            if (!o) return bad(o.error());
            auto f = parse_fault(*o);
            if (!f) return bad(f.error());
            std::lock_guard lock(mu);
            f->id = next_fault_id++;
            faults.push_back(*f);
            return json_reply(200, json::object{{"success", true}, {"id", f->id}});
        }
        if (req.method == "DELETE") {
            std::lock_guard lock(mu);
            faults.clear();
            return json_reply(200, json::object{{"success", true}});
        }
        if (req.method == "GET") {
            std::lock_guard lock(mu);
            json::array out;
            for (const auto& f : faults)
                out.push_back(json::object{{"id", f.id}, {"tenant", f.tenant}, {"method", f.method},
                                           {"path_contains", f.path_contains}, {"kind", f.kind},
                                           {"status", f.status}, {"delay_ms", f.delay_ms},
                                           {"count", f.count}, {"skip", f.skip}});
            return json_reply(200, out);
        }
    }
    if (seg.size() == 2 && seg[1] == "seed" && req.method == "POST") {
        if (auto r = load_seed(req.body); !r) return bad(r.error());
        return json_reply(200, json::object{{"success", true}});
    }
    if (seg.size() >= 4 && seg[1] == "tenants") {
        const auto& name = seg[2];
        if (seg.size() == 4 && seg[3] == "state" && req.method == "GET") {
            std::lock_guard lock(mu);
            if (auto sm = secmaster_tenant(name)) return json_reply(200, detail::secmaster_summary(*sm));
            if (auto kt = kore_tenant(name)) return json_reply(200, detail::kore_summary(*kt));
            auto t = tenant(name);
            if (!t) return error_reply(404, detail::code_not_found, fmt::format("tenant '{}' not found", name));
            return json_reply(200, detail::tenant_summary(*t));
        }
        if (seg.size() == 4 && seg[3] == "expire-tokens" && req.method == "POST") {
            std::lock_guard lock(mu);
            if (auto sm = secmaster_tenant(name)) {
                detail::secmaster_expire_tokens(*sm);
                return json_reply(200, json::object{{"success", true}});
            }
            auto t = tenant(name);
            if (!t) return error_reply(404, detail::code_not_found, fmt::format("tenant '{}' not found", name));
            t->tokens.clear();
            t->static_token_expired = true;
            return json_reply(200, json::object{{"success", true}});
        }
        if (seg.size() == 6 && seg[3] == "workflows" && seg[5] == "versions" && req.method == "POST") {
            auto o = body_object();
            if (!o) return bad(o.error());
            auto label = add_version(name, seg[4], *o);
            if (!label) return bad(label.error());
            return json_reply(200, json::object{{"success", true}, {"version", *label}});
        }
        if (seg.size() == 7 && seg[3] == "workflows" && seg[5] == "versions" && req.method == "PUT") {
            auto o = body_object();
            if (!o) return bad(o.error());
            auto label = edit_version(name, seg[4], seg[6], *o);
            if (!label) return bad(label.error());
            return json_reply(200, json::object{{"success", true}, {"version", *label}});
        }
    }
    return error_reply(404, detail::code_not_found, fmt::format("no such control endpoint: {} {}", req.method, req.path));
}

// ---- public API ------------------------------------------------------------------------

emulator::emulator(executor ex, options o) : impl_(std::make_shared<impl>(std::move(ex), std::move(o))) {}

emulator::~emulator()
{
    stop();
}

result<void> emulator::load_seed(std::string_view json_text)
{
    return impl_->load_seed(json_text);
}

result<void> emulator::start()
{
    if (impl_->server) return fail(errc::internal, "emulator already started");
    net::server_settings s;
    s.listen = impl_->opts.listen;
    s.cert_file = impl_->opts.cert_file;
    s.key_file = impl_->opts.key_file;
    // The handler holds the state weakly: the server belongs to the state, and a request
    // still waiting out a latency fault keeps the state alive by itself.
    std::weak_ptr<impl> weak = impl_;
    auto handler = [weak](net::server_request req) { return serve(weak, std::move(req)); };
    impl_->server = std::make_unique<net::http_server>(impl_->ex, std::move(s), std::move(handler));
    if (auto r = impl_->server->start(); !r) {
        impl_->server.reset();
        return fail(r.error().code, "emulator: " + r.error().message);
    }
    // The second listener: same address, its own port, so that a download URL pointing there
    // is another origin (scheme://host:port) than the tenant's.
    net::server_settings fs;
    auto colon = impl_->opts.listen.rfind(':');
    fs.listen = (colon == std::string::npos ? impl_->opts.listen : impl_->opts.listen.substr(0, colon)) + ":0";
    fs.cert_file = impl_->opts.cert_file;
    fs.key_file = impl_->opts.key_file;
    auto foreign_handler = [weak](net::server_request req) { return serve(weak, std::move(req), true); };
    impl_->foreign_server = std::make_unique<net::http_server>(impl_->ex, std::move(fs), std::move(foreign_handler));
    if (auto r = impl_->foreign_server->start(); !r) {
        impl_->foreign_server.reset();
        impl_->server->stop();
        impl_->server.reset();
        return fail(r.error().code, "emulator (download listener): " + r.error().message);
    }
    return {};
}

std::string emulator::base_url() const
{
    return impl_->base_url();
}

std::string emulator::tenant_url(const std::string& tenant) const
{
    return base_url() + "/t/" + tenant;
}

void emulator::stop()
{
    if (impl_->server) impl_->server->stop();
    if (impl_->foreign_server) impl_->foreign_server->stop();
}

json::array emulator::requests(const std::string& tenant) const
{
    return impl_->requests(tenant);
}

std::int64_t emulator::request_count() const
{
    std::lock_guard lock(impl_->mu);
    return impl_->next_seq - 1;
}

void emulator::clear_requests()
{
    std::lock_guard lock(impl_->mu);
    impl_->log.clear();
}

result<void> emulator::add_fault(const json::object& fault)
{
    auto f = parse_fault(fault);
    if (!f) return f.error();
    std::lock_guard lock(impl_->mu);
    f->id = impl_->next_fault_id++;
    impl_->faults.push_back(*f);
    return {};
}

void emulator::clear_faults()
{
    std::lock_guard lock(impl_->mu);
    impl_->faults.clear();
}

result<std::string> emulator::add_version(const std::string& tenant, const std::string& workflow_id,
                                          const json::object& export_doc)
{
    return impl_->add_version(tenant, workflow_id, export_doc);
}

result<void> emulator::edit_version(const std::string& tenant, const std::string& workflow_id,
                                    const std::string& label, const json::object& doc)
{
    auto r = impl_->edit_version(tenant, workflow_id, label, doc);
    if (!r) return r.error();
    return {};
}

result<void> emulator::expire_tokens(const std::string& tenant)
{
    std::lock_guard lock(impl_->mu);
    if (auto sm = impl_->secmaster_tenant(tenant)) {
        detail::secmaster_expire_tokens(*sm);
        return {};
    }
    auto t = impl_->tenant(tenant);
    if (!t) return fail(errc::not_found, fmt::format("tenant '{}' not found", tenant));
    t->tokens.clear();
    t->static_token_expired = true;
    return {};
}

json::object emulator::state(const std::string& tenant) const
{
    std::lock_guard lock(impl_->mu);
    if (auto sm = impl_->secmaster_tenant(tenant)) return detail::secmaster_summary(*sm);
    if (auto kt = impl_->kore_tenant(tenant)) return detail::kore_summary(*kt);
    auto t = impl_->tenant(tenant);
    return t ? detail::tenant_summary(*t) : json::object{{"workflows", json::array{}}};
}

}  // namespace wfsync::emulator
