// SPDX-License-Identifier: Apache-2.0
#include <wfsync/core/log.hpp>
#include <wfsync/core/log_interrupt.hpp>

#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cstdlib>
#include <ctime>
#include <functional>
#include <mutex>
#include <vector>

#include <sys/stat.h>
#include <unistd.h>

namespace wfsync::log {
namespace {

std::atomic<level> current_level{level::info};
std::atomic<style> current_style{style::text};
std::mutex secrets_mutex;
std::vector<std::string> secrets;

style style_for(format f)
{
    bool journal = journal_stream_matches(STDERR_FILENO, std::getenv("JOURNAL_STREAM"));
    if (f == format::json) return journal ? style::journal_json : style::json;
    return journal ? style::journal_text : style::text;
}

// spdlog is the sink (one locked write per line); the line itself is made by format_line.
std::shared_ptr<spdlog::logger> make_logger()
{
    auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    auto logger = std::make_shared<spdlog::logger>("wfsync", sink);
    logger->set_pattern("%v");
    logger->set_level(spdlog::level::trace);
    logger->flush_on(spdlog::level::trace);
    return logger;
}

spdlog::logger& logger()
{
    static std::shared_ptr<spdlog::logger> instance = make_logger();
    static std::once_flag once;
    std::call_once(once, [] {
        current_style = style_for(format::text);
        spdlog::set_default_logger(instance);
    });
    return *spdlog::default_logger_raw();
}

std::string_view level_name(level l)
{
    switch (l) {
    case level::trace: return "trace";
    case level::debug: return "debug";
    case level::info: return "info";
    case level::warn: return "warn";
    case level::error: return "error";
    case level::off: return "off";
    }
    return "info";
}

spdlog::level::level_enum to_spdlog(level l)
{
    switch (l) {
    case level::trace: return spdlog::level::trace;
    case level::debug: return spdlog::level::debug;
    case level::info: return spdlog::level::info;
    case level::warn: return spdlog::level::warn;
    case level::error: return spdlog::level::err;
    case level::off: return spdlog::level::off;
    }
    return spdlog::level::info;
}

/// ISO 8601 UTC with milliseconds: 2026-11-29T23:25:01.123Z.
std::string iso_utc_ms(std::chrono::system_clock::time_point at)
{
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(at.time_since_epoch()).count();
    auto secs = static_cast<std::time_t>(ms / 1000 - (ms % 1000 < 0 ? 1 : 0));
    auto frac = ((ms % 1000) + 1000) % 1000;
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[40];
    auto n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    return fmt::format("{}.{:03}Z", std::string_view(buf, n), frac);
}

/// The fields in a fixed order, with their key names (the JSON member names too).
template <class F>
void for_each_field(const fields& f, F&& fn)
{
    if (!f.rule.empty()) fn("rule", f.rule);
    if (!f.tenant.empty()) fn("tenant", f.tenant);
    if (!f.workflow.empty()) fn("workflow", f.workflow);
    if (!f.version.empty()) fn("version", f.version);
    if (!f.run.empty()) fn("run", f.run);
}

/// logfmt: a value with a space, a quote, an equals sign or nothing in it is quoted.
void append_text_value(std::string& out, std::string_view v)
{
    bool plain = !v.empty() && v.find_first_of(" \t\"=\\") == std::string_view::npos;
    if (plain) {
        out += v;
        return;
    }
    out += boost::json::serialize(boost::json::string(v));
}

std::string json_string(std::string_view v)
{
    return boost::json::serialize(boost::json::string(v));
}

}  // namespace

bool journal_stream_matches(int fd, const char* journal_stream) noexcept
{
    if (!journal_stream || !*journal_stream) return false;
    std::string_view v(journal_stream);
    auto colon = v.find(':');
    if (colon == std::string_view::npos) return false;
    unsigned long long dev = 0, ino = 0;
    auto d = std::from_chars(v.data(), v.data() + colon, dev);
    auto i = std::from_chars(v.data() + colon + 1, v.data() + v.size(), ino);
    if (d.ec != std::errc{} || d.ptr != v.data() + colon || i.ec != std::errc{} || i.ptr != v.data() + v.size())
        return false;
    struct stat st{};
    if (::fstat(fd, &st) != 0) return false;
    return static_cast<unsigned long long>(st.st_dev) == dev && static_cast<unsigned long long>(st.st_ino) == ino;
}

int syslog_priority(level l) noexcept
{
    switch (l) {
    case level::error: return 3;  // SD_ERR
    case level::warn: return 4;   // SD_WARNING
    case level::info: return 6;   // SD_INFO
    case level::trace:
    case level::debug:
    case level::off: return 7;    // SD_DEBUG
    }
    return 6;
}

std::string format_line(style s, level l, std::string_view message, const fields& f,
                        std::chrono::system_clock::time_point at)
{
    std::string out;
    if (s == style::journal_text || s == style::journal_json) out = fmt::format("<{}>", syslog_priority(l));
    if (s == style::json || s == style::journal_json) {
        // The time stays in JSON under journald: it belongs to the record, which outlives the journal.
        out += "{\"time\":\"";
        out += iso_utc_ms(at);
        out += "\",\"level\":\"";
        out += level_name(l);
        out += "\",\"message\":";
        out += json_string(message);
        for_each_field(f, [&](std::string_view key, std::string_view value) {
            out += ",\"";
            out += key;
            out += "\":";
            out += json_string(value);
        });
        out += '}';
        return out;
    }
    if (s == style::text) out += fmt::format("{} {:<5} ", iso_utc_ms(at), level_name(l));
    out += message;
    for_each_field(f, [&](std::string_view key, std::string_view value) {
        out += ' ';
        out += key;
        out += '=';
        append_text_value(out, value);
    });
    return out;
}

void init(level lvl, format fmt)
{
    current_level = lvl;
    logger();
    current_style = style_for(fmt);
}

bool parse_level(std::string_view text, level& out) noexcept
{
    static constexpr std::pair<std::string_view, level> names[] = {
        {"trace", level::trace}, {"debug", level::debug}, {"info", level::info},
        {"warn", level::warn},   {"error", level::error}, {"off", level::off}};
    for (auto [name, value] : names) {
        if (name == text) {
            out = value;
            return true;
        }
    }
    return false;
}

void add_secret(std::string_view secret)
{
    if (secret.size() < 4) return;
    std::lock_guard lock(secrets_mutex);
    if (std::find(secrets.begin(), secrets.end(), secret) == secrets.end())
        secrets.emplace_back(secret);
    // Longest first, so a secret that contains another is masked whole.
    std::sort(secrets.begin(), secrets.end(),
              [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
}

void remove_secret(std::string_view secret)
{
    std::lock_guard lock(secrets_mutex);
    std::erase(secrets, secret);
}

std::string redact(std::string_view text)
{
    std::string out(text);
    std::lock_guard lock(secrets_mutex);
    for (const auto& s : secrets) {
        for (auto pos = out.find(s); pos != std::string::npos; pos = out.find(s, pos + 3))
            out.replace(pos, s.size(), "***");
    }
    return out;
}

bool enabled(level lvl) noexcept
{
    return lvl >= current_level.load() && lvl != level::off;
}

namespace {
std::mutex hook_mutex;
std::function<void()> before_each_line;
}  // namespace

void set_before_each_line(std::function<void()> f)
{
    std::lock_guard lock(hook_mutex);
    before_each_line = std::move(f);
}

void write(level lvl, std::string_view message, const fields& f)
{
    auto& sink = logger();  // first: it settles the style of a process that never called init
    {
        std::lock_guard lock(hook_mutex);
        if (before_each_line) before_each_line();
    }
    // A secret may turn up in a field too (a workflow named after a token, a run id from a header).
    std::string rule = redact(f.rule), tenant = redact(f.tenant), workflow = redact(f.workflow),
                version = redact(f.version), run = redact(f.run);
    fields clean{rule, tenant, workflow, version, run};
    sink.log(to_spdlog(lvl), "{}",
             format_line(current_style.load(), lvl, redact(message), clean, std::chrono::system_clock::now()));
}

}  // namespace wfsync::log
