// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <fmt/format.h>

#include <string>
#include <string_view>

namespace wfsync::log {

enum class level { trace, debug, info, warn, error, off };
enum class format { text, json };

/// Configures the process-wide logger: stderr, one line per event (journald captures it).
void init(level lvl, format fmt);

/// Parses "trace|debug|info|warn|error|off".
bool parse_level(std::string_view text, level& out) noexcept;

/// Registers a secret: from now on every log line has each occurrence replaced by "***".
/// Secrets shorter than 4 characters are ignored (they would mask ordinary text).
void add_secret(std::string_view secret);

/// Stops masking a secret that can no longer be used (an access token long replaced), so that
/// a daemon refreshing tokens for months does not mask an ever longer list on every line.
void remove_secret(std::string_view secret);

/// Replaces every registered secret in `text` by "***". Also used for error texts that
/// leave the process (history, status output).
std::string redact(std::string_view text);

/// Writes one line; `fields` are appended as key=value (text) or members (json).
void write(level lvl, std::string_view message);

bool enabled(level lvl) noexcept;

template <class... Args>
void trace(fmt::format_string<Args...> f, Args&&... args)
{
    if (enabled(level::trace)) write(level::trace, fmt::format(f, std::forward<Args>(args)...));
}
template <class... Args>
void debug(fmt::format_string<Args...> f, Args&&... args)
{
    if (enabled(level::debug)) write(level::debug, fmt::format(f, std::forward<Args>(args)...));
}
template <class... Args>
void info(fmt::format_string<Args...> f, Args&&... args)
{
    if (enabled(level::info)) write(level::info, fmt::format(f, std::forward<Args>(args)...));
}
template <class... Args>
void warn(fmt::format_string<Args...> f, Args&&... args)
{
    if (enabled(level::warn)) write(level::warn, fmt::format(f, std::forward<Args>(args)...));
}
template <class... Args>
void error(fmt::format_string<Args...> f, Args&&... args)
{
    if (enabled(level::error)) write(level::error, fmt::format(f, std::forward<Args>(args)...));
}

}  // namespace wfsync::log
