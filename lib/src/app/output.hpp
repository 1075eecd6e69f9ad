// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <boost/json/value.hpp>

#include <cstdint>
#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

namespace wfsync::app {

/// SGR colours for a terminal.
enum class colour { none, bold, green, yellow, red, cyan, dim };

/// `text` in colour `c` when `enabled`; otherwise (and for empty text) as it is.
std::string paint(std::string_view text, colour c, bool enabled);

/// A table printed with columns as wide as their widest cell; on a terminal the header is
/// bold and a cell may have a colour, which does not count in the widths.
class table {
public:
    explicit table(std::vector<std::string> header) { rows_.push_back({std::move(header), {}}); }
    void add(std::vector<std::string> row, std::vector<colour> colours = {})
    {
        rows_.push_back({std::move(row), std::move(colours)});
    }
    bool empty() const noexcept { return rows_.size() == 1; }
    void print(std::ostream& out, std::string_view indent = "  ", bool colour_on = false) const;

private:
    struct row {
        std::vector<std::string> cells;
        std::vector<colour> colours;
    };
    std::vector<row> rows_;
};

/// Seconds since the epoch as ISO 8601 UTC ("2026-11-29T23:10:00Z"); "-" for 0 (never).
std::string iso_time(std::int64_t unix_seconds);

/// The same for JSON output: null for 0.
boost::json::value iso_json(std::int64_t unix_seconds);

/// Prints `v` as one line of JSON (the shape of each command is in docs/json.md).
void print_json(std::ostream& out, const boost::json::value& v);

}  // namespace wfsync::app
