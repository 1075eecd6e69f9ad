// SPDX-License-Identifier: Apache-2.0
#include "script_baseline.hpp"

#include <wfsync/core/async.hpp>
#include <wfsync/core/hash.hpp>
#include <wfsync/net/http_client.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>

#include <fmt/format.h>

#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

namespace wfsync::baseline {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;

constexpr int page_length = 50;

/// One tenant, one request at a time: each call runs the io_context until its answer is in.
class sync_client {
public:
    sync_client(asio::io_context& ioc, const std::string& base_url) : ioc_(ioc), http_(ioc.get_executor(), settings(base_url))
    {
    }
    ~sync_client() { http_.close(); }

    /// Gets a token with the client-credentials grant; later calls send it.
    result<void> login(const std::string& id, const std::string& secret)
    {
        net::http_request req;
        req.method = "POST";
        req.target = "/oauth/token";
        req.body = fmt::format("grant_type=client_credentials&client_id={}&client_secret={}", net::url_encode(id),
                               net::url_encode(secret));
        req.content_type = "application/x-www-form-urlencoded";
        auto r = call(std::move(req));
        if (!r) return r.error();
        auto v = parse(*r, "POST /oauth/token");
        if (!v) return v.error();
        const auto* tok = v->is_object() ? v->get_object().if_contains("access_token") : nullptr;
        if (!tok || !tok->is_string()) return fail(errc::bad_response, "POST /oauth/token: no access_token in the answer");
        token_ = std::string(tok->get_string());
        return {};
    }

    result<std::string> get(const std::string& target)
    {
        net::http_request req;
        req.target = target;
        return call(std::move(req));
    }

    result<std::string> post_json(const std::string& target, std::string body)
    {
        net::http_request req;
        req.method = "POST";
        req.target = target;
        req.body = std::move(body);
        req.content_type = "application/json";
        return call(std::move(req));
    }

    static result<json::value> parse(const std::string& body, const std::string& what)
    {
        boost::system::error_code ec;
        auto v = json::parse(body, ec);
        if (ec) return fail(errc::bad_response, fmt::format("{}: the answer is not JSON: {}", what, body.substr(0, 200)));
        return v;
    }

private:
    static net::client_settings settings(const std::string& base_url)
    {
        net::client_settings s;
        s.base_url = base_url;
        s.max_attempts = 1;  // the script does not retry: any failure stops it
        s.concurrency = 1;
        s.rate_per_second = 0;
        s.user_agent = "naive-sync-script/1.0";
        return s;
    }

    /// The body of a 2xx answer, else an error naming the request and the answer.
    result<std::string> call(net::http_request req)
    {
        std::string what = req.method + " " + req.target;
        if (!token_.empty()) req.headers.set("Authorization", "Bearer " + token_);
        std::optional<result<net::http_response>> out;
        std::exception_ptr thrown;
        asio::co_spawn(ioc_, http_.send(std::move(req)), [&](std::exception_ptr e, result<net::http_response> r) {
            thrown = e;
            out.emplace(std::move(r));
        });
        ioc_.restart();
        while (!out && ioc_.run_one() > 0) {
        }
        if (thrown) std::rethrow_exception(thrown);
        if (!out) return fail(errc::internal, what + ": the request never finished");
        if (!*out) return fail(out->error().code, what + ": " + out->error().what());
        auto& res = out->value();
        if (res.status < 200 || res.status > 299)
            return fail(errc::http_status, fmt::format("{}: HTTP {}: {}", what, res.status, res.body.substr(0, 300)),
                        res.status);
        return std::move(res.body);
    }

    asio::io_context& ioc_;
    net::http_client http_;
    std::string token_;
};

std::string id_text(const json::value& v)
{
    if (v.is_string()) return std::string(v.get_string());
    if (v.is_int64()) return std::to_string(v.get_int64());
    if (v.is_uint64()) return std::to_string(v.get_uint64());
    return {};
}

/// "0.0.7" -> "0.0.8"; the script numbers its own versions.
std::string next_patch(const std::string& label)
{
    auto dot = label.rfind('.');
    int last = std::atoi(label.c_str() + (dot == std::string::npos ? 0 : dot + 1));
    return (dot == std::string::npos ? std::string() : label.substr(0, dot + 1)) + std::to_string(last + 1);
}

result<json::object> read_state(const std::string& path)
{
    std::ifstream in(path);
    if (!in) return json::object{};  // the first run
    std::stringstream ss;
    ss << in.rdbuf();
    boost::system::error_code ec;
    auto v = json::parse(ss.str(), ec);
    if (ec || !v.is_object()) return fail(errc::io, "state file " + path + " is not a JSON object");
    return std::move(v.get_object());
}

result<void> write_state(const std::string& path, const json::object& state)
{
    std::string tmp = path + ".tmp";
    {
        std::ofstream out(tmp, std::ios::trunc);
        out << json::serialize(state);
        if (!out) return fail(errc::io, "cannot write " + tmp);
    }
    std::error_code ec;
    std::filesystem::rename(tmp, path, ec);
    if (ec) return fail(errc::io, "cannot rename " + tmp + ": " + ec.message());
    return {};
}

}  // namespace

result<script_report> run_script(const script_settings& s)
{
    script_report rep;
    auto state = read_state(s.state_file);
    if (!state) return state.error();

    asio::io_context ioc;
    sync_client src(ioc, s.source_url), dst(ioc, s.target_url);
    if (auto r = src.login(s.client_id, s.client_secret); !r) return r.error().context("source");
    if (auto r = dst.login(s.client_id, s.client_secret); !r) return r.error().context("target");

    // List the source, page by page, until a short page or no next page.
    std::vector<std::pair<std::string, std::string>> workflows;  // id, name
    for (int page = 1;; ++page) {
        auto target = fmt::format("/workflows?page={}&page_length={}", page, page_length);
        auto body = src.get(target);
        if (!body) return body.error().context("source");
        auto v = sync_client::parse(*body, "GET " + target);
        if (!v) return v.error();
        const json::array* data = v->if_array();
        const json::value* next = nullptr;
        if (auto* o = v->if_object()) {
            if (auto* d = o->if_contains("data")) data = d->if_array();
            if (auto* p = o->if_contains("pagination"); p && p->is_object()) next = p->get_object().if_contains("next_page");
        }
        if (!data) return fail(errc::bad_response, "GET " + target + ": no list of workflows in the answer");
        for (const auto& w : *data) {
            const auto* o = w.if_object();
            const auto* id = o ? o->if_contains("id") : nullptr;
            const auto* name = o ? o->if_contains("name") : nullptr;
            if (!id || !name || !name->is_string() || id_text(*id).empty())
                return fail(errc::bad_response, "GET " + target + ": a workflow without id or name");
            workflows.emplace_back(id_text(*id), std::string(name->get_string()));
        }
        if (data->size() < static_cast<std::size_t>(page_length) || (next && next->is_null())) break;
    }
    rep.listed = workflows.size();

    // Export each one; import what changed since the last run, by the hash of the export text.
    for (const auto& [id, name] : workflows) {
        auto exported = src.get("/workflows/" + net::url_encode(id) + "/export");
        if (!exported) return exported.error().context("source");
        ++rep.exported;
        auto hash = sha256_hex(*exported);
        auto* seen = state->if_contains(name);
        if (seen && seen->is_object()) {
            auto& rec = seen->get_object();
            if (rec["hash"] == json::value(hash)) continue;
            std::string tid = id_text(rec["target_id"]);
            std::string label = next_patch(rec["version"].is_string() ? std::string(rec["version"].get_string()) : "0.0.0");
            auto r = dst.post_json(fmt::format("/workflows/{}/versions/import?version={}&activate=true",
                                               net::url_encode(tid), label),
                                   *exported);
            if (!r) return r.error().context("target");
            rec["hash"] = hash;
            rec["version"] = label;
            rep.updated.push_back(name);
        } else {
            auto r = dst.post_json("/workflows/import?version=0.0.1&activate=true", *exported);
            if (!r) return r.error().context("target");
            auto v = sync_client::parse(*r, "POST /workflows/import");
            if (!v) return v.error();
            const json::value* wf = v->is_object() ? v->get_object().if_contains("workflow") : nullptr;
            const json::value* tid = wf && wf->is_object() ? wf->get_object().if_contains("id") : nullptr;
            if (!tid || id_text(*tid).empty())
                return fail(errc::bad_response, "POST /workflows/import: no workflow.id in the answer");
            (*state)[name] = json::object{{"hash", hash}, {"target_id", id_text(*tid)}, {"version", "0.0.1"}};
            rep.created.push_back(name);
        }
    }
    if (auto r = write_state(s.state_file, *state); !r) return r.error();
    return rep;
}

}  // namespace wfsync::baseline
