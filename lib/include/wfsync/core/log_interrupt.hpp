// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <functional>

namespace wfsync::log {

/// Called before each log line is written, e.g. to erase a progress line on a terminal so
/// the log line starts at the left margin (the next update draws it again). One at a time;
/// an empty function removes it. It runs under the logger's hook lock: keep it short.
void set_before_each_line(std::function<void()> f);

}  // namespace wfsync::log
