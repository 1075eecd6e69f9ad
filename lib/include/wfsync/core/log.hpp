// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <fmt/format.h>

#include <chrono>
#include <string>
#include <string_view>

namespace wfsync::log {

enum class level { trace, debug, info, warn, error, off };
enum class format { text, json };

/// What a line is about, for machines: every field that is not empty is written, as a JSON
/// member (log.format json) or as `key=value` after the message (text). Callers name what
/// they know with designated initialisers:
///
///     log::info({.rule = r.name, .run = s.run_uid}, "listing {} again", r.source);
///
/// The views need to live only until the call returns: the line is formatted at once.
struct fields {
    std::string_view rule{};      ///< the rule's name
    std::string_view tenant{};    ///< the tenant the line is about (an item's target)
    std::string_view workflow{};  ///< the source workflow's id
    std::string_view version{};   ///< the source version label
    std::string_view run{};       ///< the run id (also sent as Zuora-Track-Id)
};

/// How lines are laid out on stderr.
enum class style {
    text,          ///< `2026-11-29T23:25:01.123Z info  message rule=r run=x`
    json,          ///< `{"time":"...","level":"info","message":"...","rule":"r",...}`
    journal_text,  ///< `<6>message rule=r run=x`: journald adds the time and reads the priority
    journal_json,  ///< `<6>{"time":...}`: journald strips the prefix and keeps the JSON as MESSAGE
};

/// Configures the process-wide logger: stderr, one line per event. When stderr is the journal
/// stream systemd gave the process (see journal_stream_matches), lines carry a `<N>` priority
/// prefix (sd-daemon(3)) instead of their own timestamp, so `journalctl -p err` filters them.
void init(level lvl, format fmt);

/// True when `journal_stream` (the value of $JOURNAL_STREAM, "<device>:<inode>") names the
/// file open on `fd`, as systemd.exec(5) says to check: a JOURNAL_STREAM inherited by a child
/// whose stderr went elsewhere (a pipe, a file) must not change its format.
bool journal_stream_matches(int fd, const char* journal_stream) noexcept;

/// The `<N>` syslog priority of a level: error 3, warn 4, info 6, debug and trace 7.
int syslog_priority(level l) noexcept;

/// One line as written in `s` (without the newline). The message and fields are not redacted
/// here; write() redacts before formatting.
std::string format_line(style s, level l, std::string_view message, const fields& f,
                        std::chrono::system_clock::time_point at);

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

/// Writes one line with the fields that are known; message and fields are redacted.
void write(level lvl, std::string_view message, const fields& f = {});

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

// The same with fields first: log::info({.rule = r.name}, "text {}", x).
template <class... Args>
void debug(const fields& at, fmt::format_string<Args...> f, Args&&... args)
{
    if (enabled(level::debug)) write(level::debug, fmt::format(f, std::forward<Args>(args)...), at);
}
template <class... Args>
void info(const fields& at, fmt::format_string<Args...> f, Args&&... args)
{
    if (enabled(level::info)) write(level::info, fmt::format(f, std::forward<Args>(args)...), at);
}
template <class... Args>
void warn(const fields& at, fmt::format_string<Args...> f, Args&&... args)
{
    if (enabled(level::warn)) write(level::warn, fmt::format(f, std::forward<Args>(args)...), at);
}
template <class... Args>
void error(const fields& at, fmt::format_string<Args...> f, Args&&... args)
{
    if (enabled(level::error)) write(level::error, fmt::format(f, std::forward<Args>(args)...), at);
}

}  // namespace wfsync::log
