// SPDX-License-Identifier: Apache-2.0
#include "terminal.hpp"

#include <wfsync/core/log.hpp>

#include <boost/test/unit_test.hpp>

#include <sstream>

using namespace wfsync;
using namespace std::chrono_literals;

BOOST_AUTO_TEST_SUITE(terminal_output)

BOOST_AUTO_TEST_CASE(progress_is_throttled_but_the_last_state_always_shows)
{
    std::ostringstream err;
    auto t = std::chrono::steady_clock::time_point{};
    app::progress_line line(err, true, [&] { return t; });
    line.update({"promote", 0, 3, "Billing Reminder"});
    BOOST_TEST(err.str() == "\r\x1b[Kpromote 0/3  Billing Reminder  0:00");
    t += 50ms;  // too soon: not shown
    line.update({"promote", 1, 3, "Billing Reminder"});
    BOOST_TEST(err.str().find("1/3") == std::string::npos);
    t += 10ms;  // too soon, but the last one: shown
    line.update({"promote", 3, 3, "Invoice Sync"});
    BOOST_TEST(err.str().ends_with("\r\x1b[Kpromote 3/3  Invoice Sync  0:00"), err.str());
    t += 75s;
    line.update({"promote", 3, 3, "Invoice Sync"});
    BOOST_TEST(err.str().ends_with("  1:15"), err.str());
    line.clear();
    BOOST_TEST(err.str().ends_with("1:15\r\x1b[K"), err.str());
    const auto size = err.str().size();
    line.clear();  // nothing shown: nothing to erase
    BOOST_TEST(err.str().size() == size);
}

BOOST_AUTO_TEST_CASE(progress_never_wraps_nor_splits_a_character)
{
    std::ostringstream err;
    app::progress_line line(err, true, [] { return std::chrono::steady_clock::time_point{}; }, 80);
    std::string name;
    for (int i = 0; i < 60; ++i) name += "\xc3\xa9";  // é, two bytes each
    line.update({"r", 0, 1, name});
    auto shown = err.str().substr(4);  // after \r\x1b[K
    BOOST_TEST(shown.size() <= 79u, shown.size());
    BOOST_TEST(shown.ends_with("  0:00"));
    const auto text = shown.substr(0, shown.size() - 6);
    BOOST_TEST((static_cast<unsigned char>(text.back()) & 0xC0) == 0x80);  // ends after a whole é
    BOOST_TEST((text.size() - 7) % 2 == 0u, text.size());  // "r 0/1  " is 7 bytes, then whole é pairs
}

BOOST_AUTO_TEST_CASE(a_log_line_erases_the_progress_line_first)
{
    std::ostringstream err;
    {
        app::progress_line line(err, true, [] { return std::chrono::steady_clock::time_point{}; });
        line.update({"r", 0, 2, "w"});
        log::warn("a warning in the middle of a run");
        BOOST_TEST(err.str() == "\r\x1b[Kr 0/2  w  0:00\r\x1b[K");
    }
    // Gone with the line: a later log line touches nothing.
    const auto size = err.str().size();
    log::warn("after the run");
    BOOST_TEST(err.str().size() == size);
}

BOOST_AUTO_TEST_CASE(disabled_progress_writes_nothing_and_gives_no_callback)
{
    std::ostringstream err;
    app::progress_line line(err, false);
    line.update({"r", 0, 1, "w"});
    line.clear();
    BOOST_TEST(err.str().empty());
    BOOST_TEST(!line.callback());
}

BOOST_AUTO_TEST_CASE(colour_does_not_count_in_column_widths)
{
    std::ostringstream plain, painted;
    app::table t({"A", "B"});
    t.add({"import", "x"}, {app::colour::green});
    t.add({"skip", "y"});
    t.print(plain);
    t.print(painted, "  ", true);
    BOOST_TEST(plain.str() == "  A       B\n  import  x\n  skip    y\n");
    BOOST_TEST(painted.str() == "  \x1b[1mA\x1b[0m       \x1b[1mB\x1b[0m\n  \x1b[32mimport\x1b[0m  x\n  skip    y\n");
}

BOOST_AUTO_TEST_SUITE_END()
