// SPDX-License-Identifier: Apache-2.0
#include "terminal.hpp"

#include <wfsync/core/log_interrupt.hpp>

#include <fmt/format.h>

#include <cstdlib>
#include <ostream>

#include <sys/ioctl.h>
#include <unistd.h>

namespace wfsync::app {

namespace {

bool colour_allowed(const command_line& cl)
{
    if (cl.no_color) return false;
    if (const char* v = std::getenv("NO_COLOR"); v && *v) return false;
    const char* term = std::getenv("TERM");
    return !(term && std::string_view(term) == "dumb");
}

std::size_t columns_of(int fd)
{
    winsize ws{};
    if (::ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 20) return ws.ws_col;
    return 80;
}

}  // namespace

terminal terminal::detect(const command_line& cl)
{
    terminal t;
    const bool out_tty = ::isatty(STDOUT_FILENO) == 1;
    const bool err_tty = ::isatty(STDERR_FILENO) == 1;
    const bool colour = colour_allowed(cl);
    t.color_out = out_tty && colour && !cl.json;
    t.color_err = err_tty && colour;
    // A dumb terminal cannot rewrite a line in place.
    const char* term = std::getenv("TERM");
    t.progress = err_tty && !cl.quiet && !cl.json && !(term && std::string_view(term) == "dumb");
    t.interactive = err_tty;
    return t;
}

progress_line::progress_line(std::ostream& err, bool enabled, clock_fn now, std::size_t columns)
    : err_(err), enabled_(enabled), now_(std::move(now)), started_(now_())
{
    if (!enabled_) return;
    width_ = columns != 0 ? columns : columns_of(STDERR_FILENO);
    // A warning in the middle of a run starts on a line of its own.
    log::set_before_each_line([this] { clear(); });
}

progress_line::~progress_line()
{
    if (enabled_) log::set_before_each_line({});
    clear();
}

void progress_line::update(const sync::progress& p)
{
    if (!enabled_) return;
    const auto t = now_();
    // The last workflow done is always shown; the others at most 10 times a second.
    if (shown_ && p.done != p.total && t - last_ < std::chrono::milliseconds(100)) return;
    last_ = t;
    const auto secs = std::chrono::duration_cast<std::chrono::seconds>(t - started_).count();
    auto line = fmt::format("{} {}/{}  {}", p.rule, p.done, p.total, p.workflow);
    const auto clock = fmt::format("  {}:{:02}", secs / 60, secs % 60);
    // One line, never wrapped: a wrapped line cannot be rewritten in place.
    if (line.size() + clock.size() + 1 > width_) {
        auto n = width_ > clock.size() + 2 ? width_ - clock.size() - 2 : 0;
        while (n > 0 && (static_cast<unsigned char>(line[n]) & 0xC0) == 0x80) --n;  // not inside a UTF-8 character
        line.resize(n);
    }
    err_ << "\r\x1b[K" << line << clock << std::flush;
    shown_ = true;
}

void progress_line::clear()
{
    if (!shown_) return;
    err_ << "\r\x1b[K" << std::flush;
    shown_ = false;
}

std::function<void(const sync::progress&)> progress_line::callback()
{
    if (!enabled_) return {};
    return [this](const sync::progress& p) { update(p); };
}

}  // namespace wfsync::app
