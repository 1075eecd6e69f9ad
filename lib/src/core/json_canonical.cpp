// SPDX-License-Identifier: Apache-2.0
#include <wfsync/core/json.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <vector>

namespace wfsync {
namespace json = boost::json;

result<json::value> parse_json(std::string_view text, std::string_view what)
{
    boost::system::error_code ec;
    json::parse_options opts;
    opts.max_depth = 64;
    auto v = json::parse(text, ec, {}, opts);
    if (ec) {
        return fail(errc::bad_response,
                    fmt::format("{}: invalid JSON ({}) in {} bytes", what, ec.message(), text.size()));
    }
    return v;
}

namespace {

void write_canonical(const json::value& v, std::string& out)
{
    switch (v.kind()) {
    case json::kind::object: {
        const auto& obj = v.get_object();
        std::vector<const json::key_value_pair*> members;
        members.reserve(obj.size());
        for (const auto& kv : obj) members.push_back(&kv);
        std::sort(members.begin(), members.end(),
                  [](auto* a, auto* b) { return a->key() < b->key(); });
        out += '{';
        bool first = true;
        for (auto* kv : members) {
            if (!first) out += ',';
            first = false;
            out += json::serialize(json::string(kv->key()));
            out += ':';
            write_canonical(kv->value(), out);
        }
        out += '}';
        break;
    }
    case json::kind::array: {
        out += '[';
        bool first = true;
        for (const auto& e : v.get_array()) {
            if (!first) out += ',';
            first = false;
            write_canonical(e, out);
        }
        out += ']';
        break;
    }
    default:
        out += json::serialize(v);
    }
}

}  // namespace

std::string canonical_json(const json::value& v)
{
    std::string out;
    write_canonical(v, out);
    return out;
}

const json::value* find_member(const json::value& v, std::string_view key)
{
    if (!v.is_object()) return nullptr;
    return v.get_object().if_contains(key);
}

std::string member_string(const json::value& v, std::string_view key)
{
    auto* m = find_member(v, key);
    if (!m) return {};
    if (m->is_string()) return std::string(m->get_string());
    if (m->is_int64()) return std::to_string(m->get_int64());
    if (m->is_uint64()) return std::to_string(m->get_uint64());
    if (m->is_double()) return json::serialize(*m);
    return {};
}

}  // namespace wfsync
