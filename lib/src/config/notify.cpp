// SPDX-License-Identifier: Apache-2.0
// The `notify:` targets' plain parts, and secrets read when they are needed rather than at load.
#include <wfsync/config/config.hpp>
#include <wfsync/core/log.hpp>
#include <wfsync/core/read_file.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>

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

namespace {

constexpr std::size_t max_secret_bytes = 64 * 1024;

result<std::string> from_env(const std::string& name, const source_location& where)
{
    const char* v = std::getenv(name.c_str());
    if (!v) return fail(errc::config, fmt::format("{}: variable {} is not set", where.str(), name));
    if (!*v) return fail(errc::config, fmt::format("{}: variable {} is empty", where.str(), name));
    return std::string(v);
}

/// ${VAR} substituted, $${ for a literal ${; the loader checked the form.
result<std::string> interpolate(std::string_view raw, const source_location& where)
{
    std::string out;
    for (std::size_t i = 0; i < raw.size();) {
        if (raw.compare(i, 3, "$${") == 0) {
            out += "${";
            i += 3;
        } else if (raw.compare(i, 2, "${") == 0) {
            auto end = raw.find('}', i + 2);
            if (end == std::string_view::npos) return fail(errc::config, where.str() + ": unterminated ${");
            auto v = from_env(std::string(raw.substr(i + 2, end - i - 2)), where);
            if (!v) return v.error();
            out += *v;
            i = end + 1;
        } else {
            out += raw[i++];
        }
    }
    return out;
}

}  // namespace

result<secret> read_secret(const secret_ref& ref)
{
    std::string value;
    switch (ref.how) {
    case secret_ref::from::none: return fail(errc::config, ref.where.str() + ": no secret configured");
    case secret_ref::from::env: {
        auto v = from_env(ref.name, ref.where);
        if (!v) return v.error();
        value = std::move(*v);
        break;
    }
    case secret_ref::from::text: {
        auto v = interpolate(ref.name, ref.where);
        if (!v) return v.error();
        value = std::move(*v);
        break;
    }
    case secret_ref::from::file: {
        auto body = read_regular_file(ref.name, max_secret_bytes);
        if (!body) return fail(body.error().code, fmt::format("{}: secret file: {}", ref.where.str(),
                                                              body.error().message));
        value = std::move(*body);
        // Files written with `echo` end in a newline that is not part of the secret.
        if (!value.empty() && value.back() == '\n') value.pop_back();
        if (!value.empty() && value.back() == '\r') value.pop_back();
        if (value.empty()) return fail(errc::config, fmt::format("{}: secret file {} is empty", ref.where.str(), ref.name));
        break;
    }
    }
    log::add_secret(value);
    return secret(std::move(value));
}

}  // namespace wfsync::config
