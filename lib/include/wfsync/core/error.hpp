// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <boost/system/result.hpp>

#include <iosfwd>
#include <string>
#include <string_view>

namespace wfsync {

/// What kind of failure an error is. The sync engine and the retry loop branch on it,
/// so "what is transient" is decided here, in `is_retryable`, and nowhere else.
enum class errc {
    internal = 1,      ///< a bug or an impossible state
    invalid_argument,  ///< bad input from the caller (command line, config value)
    config,            ///< configuration problem
    io,                ///< local file or OS error
    store,             ///< SQLite error
    transport,         ///< connect, TLS, read or write failed, connection reset
    timeout,           ///< a request or the overall deadline expired
    http_status,       ///< the server answered with a non-success status
    bad_response,      ///< the server's answer could not be understood
    body_too_large,    ///< a body exceeded its size cap (before or after inflating)
    auth,              ///< credentials refused
    not_found,         ///< the platform does not have the object
    conflict,          ///< the platform refused because of the object's state (409, version)
    rate_limited,      ///< 429 after all retries
    drift,             ///< the target was changed outside wfsync and the rule says fail
    cancelled,         ///< the operation was cancelled (shutdown)
    unknown_outcome,   ///< a write whose result is not known (lost response, poll timeout)
    tls,               ///< the peer's TLS certificate was refused: permanent until someone acts
    permission,        ///< the OS refused access to a local file or directory (EACCES, EPERM)
    busy,              ///< a local resource is held by another process for now (SQLITE_BUSY)
};

/// Short stable name of an error kind, for logs, metrics labels and history.
std::string_view to_string(errc e) noexcept;
std::ostream& operator<<(std::ostream& os, errc e);

/// An expected failure: its kind, a message naming what failed and where, and for HTTP
/// failures the status code. Messages never contain secrets.
struct error {
    errc code = errc::internal;
    std::string message;
    int http_status = 0;

    /// Prefixes the message with the step that failed: `error{...}.context("export 458")`.
    error& context(std::string_view what) &;
    error&& context(std::string_view what) &&;

    /// "kind: message" for display.
    std::string what() const;
};

/// Builds an error from its kind and message.
inline error make_error(errc code, std::string message, int http_status = 0)
{
    return error{code, std::move(message), http_status};
}

/// Transient failures worth retrying: transport errors, timeouts, a busy store, and HTTP
/// 408/425/429/5xx.
bool is_retryable(const error& e) noexcept;

/// Lets `result<T>::value()` throw for an error (a bug path: callers check first).
[[noreturn]] void throw_exception_from_error(const error& e, const boost::source_location& loc);

/// The return type of every operation that can fail for reasons outside the program.
template <class T>
using result = boost::system::result<T, error>;

/// Shorthand for a failed result: `return fail(errc::io, "cannot open " + path);`
inline error fail(errc code, std::string message, int http_status = 0)
{
    return error{code, std::move(message), http_status};
}

}  // namespace wfsync
