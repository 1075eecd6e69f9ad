// SPDX-License-Identifier: Apache-2.0
#include "output.hpp"

#include <wfsync/core/duration.hpp>

#include <boost/json/serialize.hpp>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <ostream>

namespace wfsync::app {

void table::print(std::ostream& out, std::string_view indent) const
{
    std::vector<std::size_t> width;
    for (const auto& r : rows_)
        for (std::size_t i = 0; i < r.size(); ++i) {
            if (width.size() <= i) width.push_back(0);
            width[i] = std::max(width[i], r[i].size());
        }
    for (const auto& r : rows_) {
        out << indent;
        for (std::size_t i = 0; i < r.size(); ++i) {
            out << r[i];
            if (i + 1 < r.size()) out << std::string(width[i] - r[i].size() + 2, ' ');
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
