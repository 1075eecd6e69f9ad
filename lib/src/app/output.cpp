// SPDX-License-Identifier: Apache-2.0
#include "output.hpp"

#include <wfsync/core/duration.hpp>

#include <boost/json/serialize.hpp>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <ostream>

namespace wfsync::app {

std::string paint(std::string_view text, colour c, bool enabled)
{
    if (!enabled || text.empty() || c == colour::none) return std::string(text);
    const char* sgr = c == colour::bold     ? "1"
                      : c == colour::green  ? "32"
                      : c == colour::yellow ? "33"
                      : c == colour::red    ? "31"
                      : c == colour::cyan   ? "36"
                                            : "2";
    return std::string("\x1b[") + sgr + "m" + std::string(text) + "\x1b[0m";
}

void table::print(std::ostream& out, std::string_view indent, bool colour_on) const
{
    std::vector<std::size_t> width;
    for (const auto& r : rows_)
        for (std::size_t i = 0; i < r.cells.size(); ++i) {
            if (width.size() <= i) width.push_back(0);
            width[i] = std::max(width[i], r.cells[i].size());
        }
    for (std::size_t k = 0; k < rows_.size(); ++k) {
        const auto& r = rows_[k];
        out << indent;
        for (std::size_t i = 0; i < r.cells.size(); ++i) {
            const auto c = k == 0 ? colour::bold : i < r.colours.size() ? r.colours[i] : colour::none;
            out << paint(r.cells[i], c, colour_on);
            if (i + 1 < r.cells.size()) out << std::string(width[i] - r.cells[i].size() + 2, ' ');
        }
        out << '\n';
    }
}

std::string iso_time(std::int64_t unix_seconds)
{
    if (unix_seconds == 0) return "-";
    return format_iso_utc(std::chrono::system_clock::from_time_t(static_cast<std::time_t>(unix_seconds)));
}

boost::json::value iso_json(std::int64_t unix_seconds)
{
    if (unix_seconds == 0) return nullptr;
    return boost::json::string(iso_time(unix_seconds));
}

void print_json(std::ostream& out, const boost::json::value& v)
{
    out << boost::json::serialize(v) << '\n';
}

}  // namespace wfsync::app
