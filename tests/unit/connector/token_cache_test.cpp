// SPDX-License-Identifier: Apache-2.0
// The shared access-token cache (lib/src/connector/token_cache.hpp) on its own: single flight,
// shared failures, invalidation, cancellation of a waiter and the refresh margin.
#include <boost/test/unit_test.hpp>

#include <support/run_coro.hpp>

#include <token_cache.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/as_tuple.hpp>

#include <stdexcept>
#include <string>
#include <vector>

#include <wfsync/core/log.hpp>

using namespace wfsync;
using namespace std::chrono_literals;
namespace asio = boost::asio;
using wfsync::connector::detail::fetched_token;
using wfsync::connector::detail::token_cache;
using wfsync::test::run_coro;

namespace {

/// A token endpoint stand-in: counts fetches; each fetch waits for `gate` to open (so that
/// other callers pile up meanwhile), then answers tok-N or `failure`.
struct fake_endpoint {
    explicit fake_endpoint(asio::io_context& ioc) : gate(ioc) { gate.expires_at(steady_time::max()); }

    int fetches = 0;
    bool gated = false;
    std::optional<error> failure;
    std::chrono::milliseconds usable = 1h;
    asio::steady_timer gate;

    token_cache::fetch_fn fn()
    {
        return [this]() -> awaitable<result<fetched_token>> {
            int n = ++fetches;
            if (gated) co_await gate.async_wait(asio::as_tuple(asio::use_awaitable_t<executor>{}));
            if (failure) co_return *failure;
            co_return fetched_token{"tok-" + std::to_string(n), usable};
        };
    }
};

/// Starts `n` concurrent get() calls; their results land in `out` (in finishing order).
void spawn_callers(asio::io_context& ioc, token_cache& cache, fake_endpoint& ep, int n,
                   std::vector<result<std::string>>& out)
{
    for (int i = 0; i < n; ++i) {
        asio::co_spawn(ioc, cache.get(ep.fn()), [&out](std::exception_ptr e, result<std::string> r) {
            BOOST_REQUIRE(!e);
            out.push_back(std::move(r));
        });
    }
}

/// Runs handlers until `done()` or a bounded number of rounds (no sleeping).
template <class F>
void run_until(asio::io_context& ioc, F done)
{
    for (int i = 0; i < 10000 && !done(); ++i) {
        ioc.restart();
        ioc.poll();
    }
    BOOST_REQUIRE(done());
}

}  // namespace

BOOST_AUTO_TEST_SUITE(token_cache_tests)

BOOST_AUTO_TEST_CASE(five_concurrent_callers_share_one_fetch)
{
    asio::io_context ioc;
    token_cache cache(ioc.get_executor(), "login");
    fake_endpoint ep(ioc);
    ep.gated = true;
    std::vector<result<std::string>> out;
    spawn_callers(ioc, cache, ep, 5, out);
    ioc.poll();
    BOOST_TEST(ep.fetches == 1);  // the other four wait for the one in flight
    BOOST_TEST(out.empty());
    ep.gate.cancel();
    run_until(ioc, [&] { return out.size() == 5; });
    for (const auto& r : out) {
        BOOST_REQUIRE(r.has_value());
        BOOST_TEST(*r == "tok-1");
    }
    BOOST_TEST(ep.fetches == 1);
    BOOST_TEST(cache.fetches() == 1u);
    // Still valid: a later caller gets it from the cache.
    ep.gated = false;
    auto again = run_coro(ioc, cache.get(ep.fn()));
    BOOST_REQUIRE(again.has_value());
    BOOST_TEST(*again == "tok-1");
    BOOST_TEST(ep.fetches == 1);
}

BOOST_AUTO_TEST_CASE(a_failed_fetch_is_given_to_its_waiters)
{
    asio::io_context ioc;
    token_cache cache(ioc.get_executor(), "IAM login");
    fake_endpoint ep(ioc);
    ep.gated = true;
    ep.failure = error{errc::auth, "IAM login: HTTP 401: wrong password", 401};
    std::vector<result<std::string>> out;
    spawn_callers(ioc, cache, ep, 5, out);
    ioc.poll();
    ep.gate.cancel();
    run_until(ioc, [&] { return out.size() == 5; });
    for (const auto& r : out) {
        BOOST_REQUIRE(!r.has_value());
        BOOST_TEST(r.error().code == errc::auth);
        BOOST_TEST(r.error().message == "IAM login: HTTP 401: wrong password");
    }
    BOOST_TEST(ep.fetches == 1);  // the waiters did not each ask again
    BOOST_TEST(cache.fetches() == 1u);

    // The next caller tries again, and a success is cached.
    ep.gated = false;
    ep.failure.reset();
    auto r = run_coro(ioc, cache.get(ep.fn()));
    BOOST_REQUIRE(r.has_value());
    BOOST_TEST(*r == "tok-2");
    BOOST_TEST(cache.fetches() == 2u);
}

BOOST_AUTO_TEST_CASE(invalidate_forgets_only_the_token_still_cached)
{
    asio::io_context ioc;
    token_cache cache(ioc.get_executor(), "login");
    fake_endpoint ep(ioc);
    auto first = run_coro(ioc, cache.get(ep.fn()));
    BOOST_REQUIRE(first.has_value());
    BOOST_TEST(*first == "tok-1");

    // A 401 for an older token: the current one stays.
    cache.invalidate("tok-0");
    auto same = run_coro(ioc, cache.get(ep.fn()));
    BOOST_REQUIRE(same.has_value());
    BOOST_TEST(*same == "tok-1");
    BOOST_TEST(ep.fetches == 1);

    // A 401 for the current token: the next caller fetches a new one.
    cache.invalidate("tok-1");
    auto fresh = run_coro(ioc, cache.get(ep.fn()));
    BOOST_REQUIRE(fresh.has_value());
    BOOST_TEST(*fresh == "tok-2");
    BOOST_TEST(ep.fetches == 2);

    // Two concurrent 401s with the same old token cause one fetch, not two.
    cache.invalidate("tok-1");
    auto kept = run_coro(ioc, cache.get(ep.fn()));
    BOOST_REQUIRE(kept.has_value());
    BOOST_TEST(*kept == "tok-2");
    BOOST_TEST(ep.fetches == 2);
}

BOOST_AUTO_TEST_CASE(long_replaced_tokens_leave_the_redaction_list)
{
    asio::io_context ioc;
    token_cache cache(ioc.get_executor(), "login");
    fake_endpoint ep(ioc);
    for (int i = 1; i <= 6; ++i) {
        auto t = run_coro(ioc, cache.get(ep.fn()));
        BOOST_REQUIRE(t.has_value());
        log::add_secret(*t);  // as the connectors do with each new token
        cache.invalidate(*t);
    }
    // The four newest are still masked; the two oldest expired long ago and are not.
    BOOST_TEST(log::redact("tok-1 tok-2") == "tok-1 tok-2");
    BOOST_TEST(log::redact("tok-3 tok-6") == "*** ***");
}

BOOST_AUTO_TEST_CASE(a_due_token_is_used_once_then_fetched_again)
{
    asio::io_context ioc;
    token_cache cache(ioc.get_executor(), "login");
    fake_endpoint ep(ioc);
    ep.usable = 0ms;  // expiry already past (clock skew)
    auto a = run_coro(ioc, cache.get(ep.fn()));
    BOOST_REQUIRE(a.has_value());
    BOOST_TEST(*a == "tok-1");
    auto b = run_coro(ioc, cache.get(ep.fn()));
    BOOST_REQUIRE(b.has_value());
    BOOST_TEST(*b == "tok-2");
    BOOST_TEST(ep.fetches == 2);
}

BOOST_AUTO_TEST_CASE(a_waiter_cancelled_gets_cancelled_and_the_fetch_goes_on)
{
    asio::io_context ioc;
    token_cache cache(ioc.get_executor(), "login");
    fake_endpoint ep(ioc);
    ep.gated = true;
    std::vector<result<std::string>> out;
    spawn_callers(ioc, cache, ep, 1, out);  // the fetcher
    ioc.poll();
    asio::cancellation_signal sig;
    std::optional<result<std::string>> waiter;
    asio::co_spawn(ioc, cache.get(ep.fn()),
                   asio::bind_cancellation_slot(sig.slot(), [&](std::exception_ptr e, result<std::string> r) {
                       BOOST_REQUIRE(!e);
                       waiter.emplace(std::move(r));
                   }));
    ioc.poll();
    BOOST_TEST(!waiter.has_value());
    sig.emit(asio::cancellation_type::terminal);
    run_until(ioc, [&] { return waiter.has_value(); });
    BOOST_REQUIRE(!waiter->has_value());
    BOOST_TEST(waiter->error().code == errc::cancelled);
    BOOST_TEST(waiter->error().message == "login: cancelled while waiting for a token");
    BOOST_TEST(out.empty());  // the fetcher still waits for its answer
    ep.gate.cancel();
    run_until(ioc, [&] { return out.size() == 1; });
    BOOST_REQUIRE(out[0].has_value());
    BOOST_TEST(*out[0] == "tok-1");
    BOOST_TEST(ep.fetches == 1);
}

BOOST_AUTO_TEST_CASE(a_fetch_that_throws_releases_its_waiters)
{
    asio::io_context ioc;
    token_cache cache(ioc.get_executor(), "login");
    asio::steady_timer gate(ioc);
    gate.expires_at(steady_time::max());
    int fetches = 0;
    token_cache::fetch_fn throwing = [&]() -> awaitable<result<fetched_token>> {
        ++fetches;
        co_await gate.async_wait(asio::as_tuple(asio::use_awaitable_t<executor>{}));
        throw std::runtime_error("boom");
    };
    std::exception_ptr thrown;
    asio::co_spawn(ioc, cache.get(throwing), [&](std::exception_ptr e, result<std::string>) { thrown = e; });
    std::optional<result<std::string>> waiter;
    asio::co_spawn(ioc, cache.get(throwing), [&](std::exception_ptr e, result<std::string> r) {
        BOOST_REQUIRE(!e);
        waiter.emplace(std::move(r));
    });
    ioc.poll();
    gate.cancel();
    run_until(ioc, [&] { return waiter.has_value() && thrown; });
    BOOST_REQUIRE(!waiter->has_value());
    BOOST_TEST(waiter->error().code == errc::internal);
    BOOST_TEST(waiter->error().message == "login: token fetch did not finish");
    BOOST_TEST(fetches == 1);
}

BOOST_AUTO_TEST_CASE(refresh_margin_is_the_smaller_of_the_cap_and_ten_percent)
{
    using wfsync::connector::detail::token_usable_for;
    using std::chrono::milliseconds;
    // Zuora's cap (60 s).
    BOOST_TEST(token_usable_for(3600s, 60s).count() == milliseconds(3540s).count());
    BOOST_TEST(token_usable_for(300s, 60s).count() == milliseconds(270s).count());
    // SecMaster's cap (5 min).
    BOOST_TEST(token_usable_for(24h, 5min).count() == milliseconds(24h - 5min).count());
    BOOST_TEST(token_usable_for(50min, 5min).count() == milliseconds(45min).count());
    BOOST_TEST(token_usable_for(1s, 5min).count() == 900);
    // Nothing left: used for no time at all.
    BOOST_TEST(token_usable_for(0ms, 60s).count() == 0);
    BOOST_TEST(token_usable_for(-5s, 5min).count() == 0);
}

BOOST_AUTO_TEST_SUITE_END()
