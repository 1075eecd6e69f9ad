// SPDX-License-Identifier: Apache-2.0
// The log line formats (text, JSON, journald) and the JOURNAL_STREAM check.
#define BOOST_TEST_MODULE wfsync log
#include <boost/test/unit_test.hpp>

#include "support/temp_dir.hpp"

#include <wfsync/core/log.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

using namespace wfsync;
using log::style;

namespace {

// 2025-11-23T13:20:00.123Z
const auto at = std::chrono::system_clock::time_point(std::chrono::milliseconds(1'763'904'000'123));

std::string dev_ino(int fd)
{
    struct stat st{};
    BOOST_REQUIRE(::fstat(fd, &st) == 0);
    return std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
}

/// Runs `body` with the process's stderr going to a file; returns what was written.
template <class F>
std::string capture_stderr(const std::string& path, F&& body)
{
    std::fflush(stderr);
    int saved = ::dup(STDERR_FILENO);
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    BOOST_REQUIRE(saved >= 0 && fd >= 0);
    ::dup2(fd, STDERR_FILENO);
    ::close(fd);
    body();
    std::fflush(stderr);
    ::dup2(saved, STDERR_FILENO);
    ::close(saved);
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

}  // namespace

BOOST_AUTO_TEST_CASE(text_lines_have_time_level_message_then_fields)
{
    auto line = log::format_line(style::text, log::level::info, "import sandbox 'Billing' -> prod 0.0.2: new",
                                 {.rule = "promote", .tenant = "prod", .workflow = "101", .version = "0.0.2",
                                  .run = "run-20251123T132000Z-ab12"},
                                 at);
    BOOST_TEST(line == "2025-11-23T13:20:00.123Z info  import sandbox 'Billing' -> prod 0.0.2: new rule=promote "
                       "tenant=prod workflow=101 version=0.0.2 run=run-20251123T132000Z-ab12");
    // Only the fields that are known; a value with a space or a quote is quoted.
    BOOST_TEST(log::format_line(style::text, log::level::warn, "x", {.workflow = "Billing \"v2\""}, at) ==
               R"(2025-11-23T13:20:00.123Z warn  x workflow="Billing \"v2\"")");
    BOOST_TEST(log::format_line(style::text, log::level::error, "plain", {}, at) ==
               "2025-11-23T13:20:00.123Z error plain");
}

BOOST_AUTO_TEST_CASE(journal_lines_carry_a_priority_and_no_time)
{
    BOOST_TEST(log::format_line(style::journal_text, log::level::error, "boom", {.rule = "r"}, at) == "<3>boom rule=r");
    BOOST_TEST(log::format_line(style::journal_text, log::level::warn, "w", {}, at) == "<4>w");
    BOOST_TEST(log::format_line(style::journal_text, log::level::info, "i", {}, at) == "<6>i");
    BOOST_TEST(log::format_line(style::journal_text, log::level::debug, "d", {}, at) == "<7>d");
    BOOST_TEST(log::format_line(style::journal_text, log::level::trace, "t", {}, at) == "<7>t");
    BOOST_TEST(log::syslog_priority(log::level::error) == 3);
    BOOST_TEST(log::syslog_priority(log::level::warn) == 4);
    BOOST_TEST(log::syslog_priority(log::level::info) == 6);
    BOOST_TEST(log::syslog_priority(log::level::debug) == 7);
}

BOOST_AUTO_TEST_CASE(json_lines_are_one_object_with_the_known_fields)
{
    auto line = log::format_line(style::json, log::level::error, "said \"no\"\nthen left",
                                 {.rule = "promote", .tenant = "prod", .run = "run-1"}, at);
    BOOST_TEST(line.find('\n') == std::string::npos);
    auto v = boost::json::parse(line).as_object();
    BOOST_TEST(v.at("time").as_string() == "2025-11-23T13:20:00.123Z");
    BOOST_TEST(v.at("level").as_string() == "error");
    BOOST_TEST(v.at("message").as_string() == "said \"no\"\nthen left");
    BOOST_TEST(v.at("rule").as_string() == "promote");
    BOOST_TEST(v.at("tenant").as_string() == "prod");
    BOOST_TEST(v.at("run").as_string() == "run-1");
    BOOST_TEST(!v.contains("workflow"));
    BOOST_TEST(!v.contains("version"));
    BOOST_TEST(v.size() == 6u);

    auto j = log::format_line(style::journal_json, log::level::warn, "m", {.version = "1.0"}, at);
    BOOST_TEST_REQUIRE(j.rfind("<4>{", 0) == 0u, j);
    auto o = boost::json::parse(j.substr(3)).as_object();
    BOOST_TEST(o.at("level").as_string() == "warn");
    BOOST_TEST(o.at("version").as_string() == "1.0");
}

BOOST_AUTO_TEST_CASE(journal_stream_must_name_the_very_file)
{
    test::temp_dir dir;
    auto path = dir.file("stream");
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    BOOST_REQUIRE(fd >= 0);
    auto mine = dev_ino(fd);
    BOOST_TEST(log::journal_stream_matches(fd, mine.c_str()));

    struct stat st{};
    ::fstat(fd, &st);
    auto other = std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino + 1);
    BOOST_TEST(!log::journal_stream_matches(fd, other.c_str()));
    for (const char* bad : {"", "garbage", "1:", ":1", "12:34x", "-1:2"})
        BOOST_TEST(!log::journal_stream_matches(fd, bad), bad);
    BOOST_TEST(!log::journal_stream_matches(fd, nullptr));
    BOOST_TEST(!log::journal_stream_matches(fd, (mine + "0").c_str()));
    ::close(fd);
}

BOOST_AUTO_TEST_CASE(write_redacts_message_and_fields_and_follows_journal_stream)
{
    test::temp_dir dir;
    ::unsetenv("JOURNAL_STREAM");
    log::add_secret("tok-12345678");
    auto json = capture_stderr(dir.file("json.err"), [] {
        log::init(log::level::info, log::format::json);
        log::info({.rule = "r1", .workflow = "wf-tok-12345678"}, "sent {}", "tok-12345678");
        log::debug({.rule = "r1"}, "below the level");
    });
    auto v = boost::json::parse(json).as_object();
    BOOST_TEST(v.at("message").as_string() == "sent ***");
    BOOST_TEST(v.at("workflow").as_string() == "wf-***");
    BOOST_TEST(json.find("below") == std::string::npos);

    // stderr is the stream JOURNAL_STREAM names: priorities, no timestamp.
    auto path = dir.file("journal.err");
    auto journal = capture_stderr(path, [&] {
        ::setenv("JOURNAL_STREAM", dev_ino(STDERR_FILENO).c_str(), 1);
        log::init(log::level::info, log::format::text);
        log::error({.rule = "r1"}, "failed");
        log::info("fine");
    });
    BOOST_TEST(journal == "<3>failed rule=r1\n<6>fine\n");

    // A JOURNAL_STREAM naming another file (inherited from a parent): the usual format.
    auto plain = capture_stderr(dir.file("plain.err"), [&] {
        log::init(log::level::info, log::format::text);  // JOURNAL_STREAM still names journal.err
        log::error({.rule = "r1"}, "failed");
    });
    BOOST_TEST(plain.find("<3>") == std::string::npos, plain);
    BOOST_TEST(plain.find("Z error failed rule=r1\n") != std::string::npos, plain);
    ::unsetenv("JOURNAL_STREAM");
    log::remove_secret("tok-12345678");
    log::init(log::level::info, log::format::text);
}
