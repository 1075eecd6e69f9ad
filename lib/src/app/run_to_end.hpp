// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <wfsync/core/async.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <exception>
#include <optional>

namespace wfsync::app {

/// Runs a coroutine to completion on `ioc` (the one-shot commands), rethrowing what it threw.
template <class T>
T run_to_end(boost::asio::io_context& ioc, awaitable<T> aw)
{
    std::optional<T> out;
    std::exception_ptr ex;
    boost::asio::co_spawn(ioc, std::move(aw), [&](std::exception_ptr e, T v) {
        ex = e;
        if (!e) out.emplace(std::move(v));
    });
    ioc.run();
    if (ex) std::rethrow_exception(ex);
    return std::move(*out);
}

}  // namespace wfsync::app
