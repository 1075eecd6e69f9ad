// SPDX-License-Identifier: Apache-2.0
#include "token_cache.hpp"

#include <wfsync/core/log.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>

namespace wfsync::connector::detail {
namespace asio = boost::asio;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

namespace {
constexpr auto use_awaitable = asio::use_awaitable_t<executor>{};
}

milliseconds token_usable_for(milliseconds lifetime, milliseconds max_margin)
{
    if (lifetime <= milliseconds(0)) return milliseconds(0);
    return lifetime - std::min(max_margin, lifetime / 10);
}

token_cache::token_cache(executor ex, std::string what) : what_(std::move(what)), fetch_done_(std::move(ex))
{
    fetch_done_.expires_at(steady_time::max());
}

awaitable<result<std::string>> token_cache::get(fetch_fn fetch)
{
    for (;;) {
        if (!token_.empty() && steady_clock::now() < refresh_at_) co_return token_;
        if (fetching_) {
            // Another caller is fetching: wait for it rather than fetch a second token.
            auto seq = fetch_seq_;
            while (fetching_ && fetch_seq_ == seq) {
                auto cs = co_await asio::this_coro::cancellation_state;
                if (cs.cancelled() != asio::cancellation_type::none) {
                    co_return fail(errc::cancelled, what_ + ": cancelled while waiting for a token");
                }
                co_await fetch_done_.async_wait(asio::as_tuple(use_awaitable));
            }
            // That fetch failed: report its error instead of hammering the token endpoint.
            if (fetch_seq_ == seq + 1 && last_fetch_error_) co_return *last_fetch_error_;
            continue;
        }
        fetching_ = true;
        token_.clear();
        result<fetched_token> r = fail(errc::internal, what_ + ": token fetch did not finish");
        try {
            r = co_await fetch();
        } catch (...) {
            fetching_ = false;
            ++fetch_seq_;
            last_fetch_error_ = r.error();
            fetch_done_.cancel();
            throw;
        }
        fetching_ = false;
        ++fetch_seq_;
        last_fetch_error_.reset();
        if (r) {
            token_ = std::move(r->token);
            refresh_at_ = steady_clock::now() + r->usable_for;
            if (issued_.empty() || issued_.back() != token_) issued_.push_back(token_);
            while (issued_.size() > 4) {
                log::remove_secret(issued_.front());
                issued_.pop_front();
            }
        } else {
            last_fetch_error_ = r.error();
        }
        fetch_done_.cancel();  // wakes every waiter
        if (!r) co_return r.error();
        co_return token_;
    }
}

void token_cache::invalidate(const std::string& used)
{
    // Only if nobody refreshed it meanwhile: concurrent 401s cause one fetch, not one each.
    if (token_ == used) token_.clear();
}

}  // namespace wfsync::connector::detail
