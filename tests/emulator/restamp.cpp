// SPDX-License-Identifier: Apache-2.0
#include "restamp.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

namespace wfsync::emulator::detail {
namespace json = boost::json;

namespace {

void collect(const json::value& v, std::map<std::string, std::string>& ids, const std::function<std::string()>& fresh)
{
    if (v.is_object()) {
        for (const auto& kv : v.get_object()) {
            const auto& m = kv.value();
            if (is_id_key(kv.key()) && m.is_string() && !m.get_string().empty()) {
                std::string old(m.get_string());
                if (!ids.contains(old)) ids.emplace(old, fresh());
            }
            collect(m, ids, fresh);
        }
    } else if (v.is_array()) {
        for (const auto& e : v.get_array()) collect(e, ids, fresh);
    }
}

void replace(json::value& v, const std::map<std::string, std::string>& ids)
{
    if (v.is_string()) {
        auto it = ids.find(std::string(v.get_string()));
        if (it != ids.end()) v = it->second;
    } else if (v.is_object()) {
        for (auto& kv : v.get_object()) replace(kv.value(), ids);
    } else if (v.is_array()) {
        for (auto& e : v.get_array()) replace(e, ids);
    }
}

}  // namespace

bool is_id_key(std::string_view key)
{
    return key == "id" || key == "_id" || key.ends_with("Id") || key.ends_with("_id");
}

std::map<std::string, std::string> restamp_ids(const std::vector<json::value*>& docs,
                                               const std::function<std::string()>& fresh)
{
    std::map<std::string, std::string> ids;
    for (const auto* d : docs) collect(*d, ids, fresh);
    for (auto* d : docs) replace(*d, ids);
    return ids;
}

}  // namespace wfsync::emulator::detail
