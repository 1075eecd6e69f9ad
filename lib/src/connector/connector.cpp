// SPDX-License-Identifier: Apache-2.0
#include <wfsync/config/config.hpp>
#include <wfsync/connector/connector.hpp>
#include <wfsync/net/http_client.hpp>

#include "connector_detail.hpp"
#include "kore/kore_connector.hpp"
#include "secmaster/secmaster_connector.hpp"
#include "zuora/zuora_connector.hpp"

#include <fmt/format.h>

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

result<std::unique_ptr<connector>> make_connector(executor ex, const config::tenant& t)
{
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
