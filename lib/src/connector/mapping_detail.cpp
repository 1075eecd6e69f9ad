// SPDX-License-Identifier: Apache-2.0
#include "mapping_detail.hpp"

#include <wfsync/core/hash.hpp>
#include <wfsync/core/json.hpp>
#include <wfsync/core/log.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/stream_parser.hpp>

#include <fmt/format.h>

#include <algorithm>

namespace wfsync::connector::detail {
namespace json = boost::json;

result<json::value> parse_body(std::string_view body, std::string_view what)
{
    if (body.empty()) return fail(errc::bad_response, fmt::format("{}: empty response body", what));
    json::parse_options opts;
    opts.max_depth = 256;
    json::stream_parser p({}, opts);
    boost::system::error_code ec;
    std::size_t used = p.write(body.data(), body.size(), ec);
    if (!ec) p.finish(ec);
    if (ec) {
        // write() stops where the syntax broke; for a cut-off body that is the end.
        return fail(errc::bad_response, fmt::format("{}: invalid JSON at byte {} of {}: {}", what,
                                                    std::min(used, body.size()), body.size(),
                                                    ec.message()));
    }
    return p.release();
}

std::string printable_prefix(std::string_view s, std::size_t max)
{
    std::string out;
    for (char c : s.substr(0, max)) {
        auto u = static_cast<unsigned char>(c);
        out += (u >= 0x20 && u < 0x7f) ? c : ' ';
    }
    if (s.size() > max) out += "...";
    return out;
}

bool is_failure_body(const json::value& v)
{
    auto* s = find_member(v, "success");
    if (!s) return false;
    if (s->is_bool()) return !s->get_bool();
    // Tolerance: some services send the flag as text.
    if (s->is_string()) return iequals(s->get_string(), "false");
    return false;
}

error status_error(std::string_view prefix, int status, std::string_view body, std::string message,
                   errc code)
{
    if (message.empty() && !body.empty()) {
        boost::system::error_code ec;
        (void)json::parse(body, ec);
        // A JSON body without a message says nothing readable; other text is shown in part.
        if (ec) message = printable_prefix(body, 200);
    }
    std::string text = message.empty() ? fmt::format("{}: HTTP {}", prefix, status)
                                       : fmt::format("{}: HTTP {}: {}", prefix, status, message);
    return fail(code, log::redact(text), status);
}

std::string change_mark(const json::object& item, std::initializer_list<std::string_view> changing)
{
    bool shows = false;
    for (auto key : changing) {
        const auto* v = item.if_contains(key);
        if (!v || v->is_null()) continue;
        if (v->is_string() && v->get_string().empty()) continue;
        if (v->is_object() && v->get_object().empty()) continue;
        shows = true;
        break;
    }
    return shows ? sha256_hex(canonical_json(item)) : std::string();
}

}  // namespace wfsync::connector::detail
