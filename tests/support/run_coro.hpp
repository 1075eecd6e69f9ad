// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <wfsync/core/async.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <exception>
#include <optional>

namespace wfsync::test {

/// Runs `aw` on `ioc` until it finishes or `limit` passes; fails the test on a time-out
/// and rethrows what the coroutine threw. Returns its value.
template <class T>
T run_coro(boost::asio::io_context& ioc, awaitable<T> aw,
           std::chrono::milliseconds limit = std::chrono::seconds(20))
{
    std::optional<T> out;
    std::exception_ptr error;
    bool done = false;
    boost::asio::co_spawn(ioc, std::move(aw), [&](std::exception_ptr e, T v) {
        done = true;
        error = e;
        if (!e) out.emplace(std::move(v));
    });
    ioc.restart();
    auto until = std::chrono::steady_clock::now() + limit;
    while (!done && std::chrono::steady_clock::now() < until) ioc.run_one_until(until);
    BOOST_REQUIRE_MESSAGE(done, "coroutine did not finish within the limit");
    if (error) std::rethrow_exception(error);
    return std::move(*out);
}

inline void run_coro(boost::asio::io_context& ioc, awaitable<void> aw,
                     std::chrono::milliseconds limit = std::chrono::seconds(20))
{
    auto wrapped = [](awaitable<void> a) -> awaitable<int> {
        co_await std::move(a);
        co_return 0;
    };
    run_coro<int>(ioc, wrapped(std::move(aw)), limit);
}

}  // namespace wfsync::test
