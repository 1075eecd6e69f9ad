// SPDX-License-Identifier: Apache-2.0
// Private to the connector layer: the access-token cache the token-based connectors share
// (Zuora oauth2, SecMaster IAM).
#pragma once

#include <wfsync/core/async.hpp>
#include <wfsync/core/error.hpp>

#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>

namespace wfsync::connector::detail {

/// A token just fetched, and how long to use it before fetching the next one.
struct fetched_token {
    std::string token;
    std::chrono::milliseconds usable_for{0};
};

/// How long a token of `lifetime` is used: the lifetime minus `max_margin`, or minus 10% of
/// it when that is shorter. A lifetime <= 0 (clock skew) -> 0.
std::chrono::milliseconds token_usable_for(std::chrono::milliseconds lifetime,
                                           std::chrono::milliseconds max_margin);

/// One cached token, fetched again when it is due. Single flight: while one fetch runs,
/// other callers wait for it rather than fetch a second token, and a failed fetch's error
/// is given to its waiters too (no hammering of the token endpoint).
///
/// Thread safety: use from the executor's one thread only (plain members suffice).
class token_cache {
public:
    using fetch_fn = std::function<awaitable<result<fetched_token>>()>;

    /// `what` names the login in errors ("login", "IAM login").
    token_cache(executor ex, std::string what);

    /// The cached token, or a new one from `fetch` if there is none or it is due. A waiter
    /// cancelled while another caller fetches gets errc::cancelled.
    /// A token that is already due (usable_for 0) is still returned once to its fetcher.
    awaitable<result<std::string>> get(fetch_fn fetch);

    /// Forgets `used` if it is still the cached token (a 401 said it is no longer valid).
    void invalidate(const std::string& used);

    /// Fetches finished so far (failed ones included).
    std::uint64_t fetches() const noexcept { return fetch_seq_; }

private:
    std::string what_;
    std::string token_;
    /// Tokens handed out, newest last; the oldest leave the log's redaction list once several
    /// newer ones exist (they expired long ago).
    std::deque<std::string> issued_;
    steady_time refresh_at_{};
    bool fetching_ = false;
    std::uint64_t fetch_seq_ = 0;           ///< counts finished fetches
    std::optional<error> last_fetch_error_;  ///< of fetch number fetch_seq_
    /// Waiters for a fetch in flight wait on this timer; the fetch cancels it to wake them.
    boost::asio::steady_timer fetch_done_;
};

}  // namespace wfsync::connector::detail
