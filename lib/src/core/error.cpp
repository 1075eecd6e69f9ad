// SPDX-License-Identifier: Apache-2.0
#include <wfsync/core/error.hpp>

#include <ostream>
#include <stdexcept>

namespace wfsync {

std::string_view to_string(errc e) noexcept
{
    switch (e) {
    case errc::internal: return "internal";
    case errc::invalid_argument: return "invalid_argument";
    case errc::config: return "config";
    case errc::io: return "io";
    case errc::store: return "store";
    case errc::transport: return "transport";
    case errc::timeout: return "timeout";
    case errc::http_status: return "http_status";
    case errc::bad_response: return "bad_response";
    case errc::body_too_large: return "body_too_large";
    case errc::auth: return "auth";
    case errc::not_found: return "not_found";
    case errc::conflict: return "conflict";
    case errc::rate_limited: return "rate_limited";
    case errc::drift: return "drift";
    case errc::cancelled: return "cancelled";
    case errc::unknown_outcome: return "unknown_outcome";
    case errc::tls: return "tls";
    case errc::permission: return "permission";
    case errc::busy: return "busy";
    }
    return "unknown";
}

std::ostream& operator<<(std::ostream& os, errc e)
{
    return os << to_string(e);
}

error& error::context(std::string_view what) &
{
    message = std::string(what) + ": " + message;
    return *this;
}

error&& error::context(std::string_view what) &&
{
    message = std::string(what) + ": " + message;
    return std::move(*this);
}

std::string error::what() const
{
    return std::string(to_string(code)) + ": " + message;
}

bool is_retryable(const error& e) noexcept
{
    switch (e.code) {
    case errc::transport:
    case errc::timeout:
    case errc::busy:
        return true;
    case errc::http_status:
    case errc::rate_limited:
        // 408 request timeout, 425 too early, 429 too many requests, 5xx server trouble.
        return e.http_status == 408 || e.http_status == 425 || e.http_status == 429 ||
               (e.http_status >= 500 && e.http_status <= 599);
    default:
        return false;
    }
}

void throw_exception_from_error(const error& e, const boost::source_location&)
{
    throw std::runtime_error(e.what());
}

}  // namespace wfsync
