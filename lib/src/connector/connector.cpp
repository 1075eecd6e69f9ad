// SPDX-License-Identifier: Apache-2.0
#include <wfsync/config/config.hpp>
#include <wfsync/connector/connector.hpp>
#include <wfsync/net/http_client.hpp>
#include <wfsync/net/retry_hint.hpp>

#include "connector_detail.hpp"
#include "kore/kore_connector.hpp"
#include "secmaster/secmaster_connector.hpp"
#include "zuora/zuora_connector.hpp"

#include <wfsync/core/log.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <memory>
#include <mutex>

namespace wfsync::connector {

namespace {

using observer_fn = std::function<void(const std::string&, const net::attempt_record&)>;

// Set rarely (start-up, tests), read after every attempt: a shared_ptr copied under a mutex
// lets an observer be replaced while another thread's executor reports.
std::mutex observer_mutex;
std::shared_ptr<const observer_fn> observer;

std::string_view platform_name(config::platform p)
{
    switch (p) {
    case config::platform::zuora:
        return "zuora";
    case config::platform::kore:
        return "kore";
    case config::platform::secmaster:
        return "secmaster";
    }
    return "unknown";
}

}  // namespace

net::client_settings detail::client_settings_for(const config::tenant& t)
{
    net::client_settings s;
    s.base_url = t.base_url;
    s.ca_file = t.tls.ca_file;
    s.verify_tls = t.tls.verify;
    s.request_timeout = t.net.timeout;
    s.connect_timeout = std::min(s.connect_timeout, t.net.timeout);
    s.max_attempts = t.net.retry.max_attempts;
    s.initial_backoff = t.net.retry.initial_backoff;
    s.max_backoff = t.net.retry.max_backoff;
    s.concurrency = t.net.concurrency;
    s.rate_per_second = t.net.rate.per_second;
    s.rate_burst = t.net.rate.burst;
    s.proxy = t.proxy;  // token requests go through the tenant's client, so the same proxy
    return s;
}

awaitable<result<net::http_response>> detail::send_token_request(net::http_client& client,
                                                                 net::http_request req,
                                                                 std::string_view tenant,
                                                                 std::string_view what,
                                                                 bool honor_retry_after)
{
    namespace asio = boost::asio;
    const auto& cs = client.settings();
    result<net::http_response> r = fail(errc::internal, fmt::format("{}: not sent", what));
    for (int attempt = 1;; ++attempt) {
        r = co_await client.send(req);
        bool again = r ? (r->status == 408 || r->status == 425 || r->status == 429 || r->status >= 500)
                       : is_retryable(r.error());
        if (!again || attempt >= std::max(1, cs.max_attempts)) break;
        milliseconds delay = std::min(cs.max_backoff, cs.initial_backoff * (1 << std::min(attempt - 1, 16)));
        if (r && honor_retry_after) {
            if (auto hint = net::server_wait_hint(r->headers, std::chrono::system_clock::now()))
                delay = std::min(cs.max_backoff, std::max(delay, *hint));
        }
        log::info({.tenant = tenant}, "{}: {}, asking again in {} ms", what,
                  r ? fmt::format("HTTP {}", r->status) : log::redact(r.error().message), delay.count());
        asio::steady_timer wait(co_await asio::this_coro::executor);
        wait.expires_after(delay);
        co_await wait.async_wait(asio::as_tuple(asio::use_awaitable_t<executor>{}));
    }
    if (!r) {
        auto e = r.error();
        e.message = log::redact(e.message);
        co_return std::move(e).context(what);
    }
    co_return r;
}

void detail::notify_attempt(const std::string& tenant, const net::attempt_record& rec)
{
    std::shared_ptr<const observer_fn> f;
    {
        std::lock_guard lock(observer_mutex);
        f = observer;
    }
    if (f) (*f)(tenant, rec);
}

void set_attempt_observer(std::function<void(const std::string& tenant, const net::attempt_record&)> f)
{
    auto p = f ? std::make_shared<const observer_fn>(std::move(f)) : nullptr;
    std::lock_guard lock(observer_mutex);
    observer = std::move(p);
}

result<std::unique_ptr<connector>> make_connector(executor ex, const config::tenant& config_tenant)
{
    // Secrets are read here, when a tenant is about to be contacted, and again for every
    // connector: a rotated file or variable is picked up by the next run.
    auto resolved = config::with_secrets(config_tenant);
    if (!resolved) return resolved.error();
    const config::tenant& t = *resolved;
    switch (t.kind) {
    case config::platform::zuora:
        return zuora::make_zuora_connector(std::move(ex), t);
    case config::platform::kore:
        return kore::make_kore_connector(std::move(ex), t);
    case config::platform::secmaster:
        return secmaster::make_secmaster_connector(std::move(ex), t);
    }
    return fail(errc::config, fmt::format("tenant {}: platform {} is not supported yet", t.name,
                                          platform_name(t.kind)));
}

}  // namespace wfsync::connector
