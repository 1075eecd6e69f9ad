// SPDX-License-Identifier: Apache-2.0
#include "stored_values.hpp"

#include <fmt/format.h>

#include <chrono>

namespace wfsync::store::detail {

unix_time now() noexcept
{
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

result<intent_state> parse_intent_state(std::string_view s)
{
    if (s == "pending") return intent_state::pending;
    if (s == "succeeded") return intent_state::succeeded;
    if (s == "failed") return intent_state::failed;
    if (s == "unknown") return intent_state::unknown;
    return fail(errc::store, fmt::format("stored intent state '{}' is not known", s));
}

result<job_state> parse_job_state(std::string_view s)
{
    if (s == "running") return job_state::running;
    if (s == "succeeded") return job_state::succeeded;
    if (s == "failed") return job_state::failed;
    if (s == "unknown") return job_state::unknown;
    return fail(errc::store, fmt::format("stored job state '{}' is not known", s));
}

}  // namespace wfsync::store::detail
