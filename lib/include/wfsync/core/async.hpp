// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>

namespace wfsync {

using executor = boost::asio::any_io_executor;
template <class T>
using awaitable = boost::asio::awaitable<T, executor>;

/// Deadlines are steady-clock instants.
using steady_time = std::chrono::steady_clock::time_point;

}  // namespace wfsync
