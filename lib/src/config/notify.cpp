// SPDX-License-Identifier: Apache-2.0
// The `notify:` targets' plain parts (their secrets are config::secret, read when sent).
#include <wfsync/config/config.hpp>

#include <fmt/format.h>

#include <algorithm>

namespace wfsync::config {

std::string_view to_string(notify_event e) noexcept
{
    switch (e) {
    case notify_event::failure: return "failure";
    case notify_event::recovered: return "recovered";
    case notify_event::drift: return "drift";
    case notify_event::unknown_outcome: return "unknown_outcome";
    case notify_event::promoted: return "promoted";
    }
    return "unknown";
}

bool notify_target::wants(notify_event e, std::string_view rule) const
{
    // A recovery is the end of a failure: it goes wherever the failure went.
    const auto asked = e == notify_event::recovered ? notify_event::failure : e;
    if (!on.empty() && std::find(on.begin(), on.end(), asked) == on.end()) return false;
    return rules.empty() || std::find(rules.begin(), rules.end(), rule) != rules.end();
}

std::string notify_target::shown() const
{
    return url_secret.empty() ? fmt::format("{} ({})", name, url) : name;
}

}  // namespace wfsync::config
