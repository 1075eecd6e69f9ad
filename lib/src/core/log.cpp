// SPDX-License-Identifier: Apache-2.0
#include <wfsync/core/log.hpp>

#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <vector>

namespace wfsync::log {
namespace {

std::atomic<level> current_level{level::info};
std::atomic<format> current_format{format::text};
std::mutex secrets_mutex;
std::vector<std::string> secrets;

std::shared_ptr<spdlog::logger> make_logger(format f)
{
    auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    auto logger = std::make_shared<spdlog::logger>("wfsync", sink);
    if (f == format::json) {
        logger->set_pattern("%v");
    } else {
        logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %-5l %v", spdlog::pattern_time_type::utc);
    }
    logger->set_level(spdlog::level::trace);
    logger->flush_on(spdlog::level::trace);
    return logger;
}

spdlog::logger& logger()
{
    static std::shared_ptr<spdlog::logger> instance = make_logger(format::text);
    static std::once_flag once;
    std::call_once(once, [] { spdlog::set_default_logger(instance); });
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

}  // namespace

void init(level lvl, format fmt)
{
    current_level = lvl;
    current_format = fmt;
    logger();
    spdlog::set_default_logger(make_logger(fmt));
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

void write(level lvl, std::string_view message)
{
    auto clean = redact(message);
    if (current_format.load() == format::json) {
        std::string line = "{\"level\":\"";
        line += level_name(lvl);
        line += "\",\"msg\":";
        line += boost::json::serialize(boost::json::string(clean));
        line += "}";
        logger().log(to_spdlog(lvl), "{}", line);
    } else {
        logger().log(to_spdlog(lvl), "{}", clean);
    }
}

}  // namespace wfsync::log
