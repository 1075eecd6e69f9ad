// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "output.hpp"

#include <wfsync/app/cli.hpp>
#include <wfsync/sync/engine.hpp>

#include <chrono>
#include <functional>
#include <iosfwd>
#include <string>
#include <string_view>

namespace wfsync::app {

/// What a one-shot command may print beyond plain text, decided once from the command line,
/// the environment and where stdout and stderr go: colour only on a terminal, never with
/// --no-color, NO_COLOR (https://no-color.org) or TERM=dumb; a progress line only on a
/// terminal stderr, never with --quiet or --json.
struct terminal {
    bool color_out = false;  ///< colour in stdout's tables
    bool color_err = false;  ///< colour in stderr's progress line
    bool progress = false;   ///< a live progress line on stderr
    bool interactive = false;  ///< stderr is a terminal: log lines below warning only with -v

    static terminal detect(const command_line& cl);
};


/// One line on a terminal, rewritten in place as a run goes: "promote 3/12  Billing Reminder
/// 0:04". At most every 100 ms (the last state is always shown), and erased by clear()
/// before the result is printed, so nothing of it is left in the scrollback.
class progress_line {
public:
    using clock_fn = std::function<std::chrono::steady_clock::time_point()>;

    /// `columns` 0: the width of the terminal on stderr (80 when it says none).
    progress_line(std::ostream& err, bool enabled, clock_fn now = std::chrono::steady_clock::now,
                  std::size_t columns = 0);
    ~progress_line();
    progress_line(const progress_line&) = delete;
    progress_line& operator=(const progress_line&) = delete;

    void update(const sync::progress& p);
    /// Erases the line (if one is shown).
    void clear();
    /// A callback for run_options::on_progress, or an empty one when disabled.
    std::function<void(const sync::progress&)> callback();

private:
    std::ostream& err_;
    bool enabled_;
    clock_fn now_;
    std::chrono::steady_clock::time_point started_, last_;
    bool shown_ = false;
    std::size_t width_ = 80;
};

}  // namespace wfsync::app
