// SPDX-License-Identifier: Apache-2.0
#include "id_references.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/string.hpp>

#include <algorithm>
#include <cctype>
#include <unordered_map>
#include <vector>

namespace wfsync::sync::detail {
namespace json = boost::json;

namespace {

bool contains(const std::vector<std::string_view>& list, std::string_view s)
{
    return std::find(list.begin(), list.end(), s) != list.end();
}

bool is_scalar(const json::value& v) { return v.is_string() || v.is_number() || v.is_bool() || v.is_null(); }

/// An identifier as text (849 and "849" name the same thing); empty for anything else.
std::string id_text(const json::value& v)
{
    if (v.is_string()) return std::string(v.get_string());
    if (v.is_int64()) return std::to_string(v.get_int64());
    if (v.is_uint64()) return std::to_string(v.get_uint64());
    return {};
}

/// Long enough, or letters and digits mixed: not a word a person would write as content.
bool looks_like_id(std::string_view s)
{
    if (s.size() >= 8) return true;
    bool alpha = false, digit = false;
    for (char c : s) {
        alpha = alpha || std::isalpha(static_cast<unsigned char>(c));
        digit = digit || std::isdigit(static_cast<unsigned char>(c));
    }
    return alpha && digit;
}

/// JSON Pointer escaping (RFC 6901), so that member names cannot fake a path.
void append_segment(std::string& path, std::string_view name)
{
    path += '/';
    for (char c : name) {
        if (c == '~') path += "~0";
        else if (c == '/') path += "~1";
        else path += c;
    }
}

class rewriter {
public:
    explicit rewriter(const connector::tenant_local_fields& f) : f_(f) {}

    /// `level`: 0 for a file's own members, 1 inside one of its top-level containers, 2 deeper.
    void collect(const json::value& v, std::string& path, int level)
    {
        if (v.is_array()) {
            std::size_t i = 0;
            for (const auto& e : v.get_array()) {
                auto len = path.size();
                append_segment(path, std::to_string(i++));
                collect(e, path, 2);
                path.resize(len);
            }
            return;
        }
        if (!v.is_object()) return;
        std::vector<const json::key_value_pair*> members;
        for (const auto& kv : v.get_object()) members.push_back(&kv);
        std::sort(members.begin(), members.end(),
                  [](const auto* a, const auto* b) { return a->key() < b->key(); });
        for (const auto* kv : members) {
            std::string_view key = kv->key();
            if (dropped(key, level, kv->value())) continue;
            auto len = path.size();
            append_segment(path, key);
            if (is_id_key(key)) name_ids(kv->value(), path);
            collect(kv->value(), path, next_level(level, key));
            path.resize(len);
        }
    }

    void finish_names()
    {
        if (f_.embedded_id_min == 0) return;
        for (const auto& [id, ref] : names_)
            if (id.size() >= f_.embedded_id_min) embedded_.emplace_back(id, ref);
        // Longest first, so that an id containing another is replaced whole.
        std::sort(embedded_.begin(), embedded_.end(), [](const auto& a, const auto& b) {
            return a.first.size() != b.first.size() ? a.first.size() > b.first.size() : a.first < b.first;
        });
        // Indexed by their first embedded_id_min characters: one look-up per position of a
        // string, not one search per identifier.
        for (const auto& e : embedded_) by_prefix_[std::string_view(e.first).substr(0, f_.embedded_id_min)].push_back(&e);
    }

    /// `s` with every long identifier inside it replaced by its reference.
    std::string replace_embedded(const std::string& s) const
    {
        const std::size_t k = f_.embedded_id_min;
        std::string out;
        std::size_t copied = 0;
        for (std::size_t pos = 0; pos + k <= s.size();) {
            const std::pair<std::string, std::string>* hit = nullptr;
            if (auto it = by_prefix_.find(std::string_view(s).substr(pos, k)); it != by_prefix_.end())
                for (const auto* e : it->second)
                    if (s.compare(pos, e->first.size(), e->first) == 0) {
                        hit = e;
                        break;
                    }
            if (!hit) {
                ++pos;
                continue;
            }
            out.append(s, copied, pos - copied);
            out += hit->second;
            pos += hit->first.size();
            copied = pos;
        }
        if (copied == 0) return s;
        out.append(s, copied, std::string::npos);
        return out;
    }

    json::value rewrite(const json::value& v, int level, bool id_member, bool reference_member) const
    {
        if (v.is_array()) {
            json::array out;
            out.reserve(v.get_array().size());
            for (const auto& e : v.get_array()) out.push_back(rewrite(e, 2, id_member, reference_member));
            return out;
        }
        if (v.is_object()) {
            json::object out;
            for (const auto& kv : v.get_object()) {
                std::string_view key = kv.key();
                if (dropped(key, level, kv.value())) continue;
                json::value inner;
                if (contains(f_.version_members, key) && kv.value().is_object()) {
                    json::object kept;
                    for (const auto& m : kv.value().get_object())
                        if (!contains(f_.version_object_members, m.key())) kept.emplace(m.key(), m.value());
                    inner = rewrite(kept, next_level(level, key), false, false);
                } else {
                    inner = rewrite(kv.value(), next_level(level, key), is_id_key(key), contains(f_.reference_names, key));
                }
                // An object keyed by identifiers (a map of nodes) gets the references as keys.
                auto named = names_.find(std::string(key));
                if (named != names_.end() && looks_like_id(key)) out[named->second] = std::move(inner);
                else out[key] = std::move(inner);
            }
            return out;
        }
        if (v.is_string()) {
            std::string s(v.get_string());
            if (auto it = names_.find(s); it != names_.end()) {
                if (id_member || reference_member || looks_like_id(s)) return json::string(it->second);
            }
            if (!by_prefix_.empty() && s.size() > f_.embedded_id_min) return json::string(replace_embedded(s));
            return json::string(s);
        }
        if ((id_member || reference_member) && (v.is_int64() || v.is_uint64())) {
            if (auto it = names_.find(id_text(v)); it != names_.end()) return json::string(it->second);
        }
        return v;
    }

private:
    bool is_id_key(std::string_view k) const
    {
        if (contains(f_.id_names, k)) return true;
        for (auto suffix : f_.id_suffixes)
            if (k.size() > suffix.size() && k.ends_with(suffix)) return true;
        return false;
    }

    int next_level(int level, std::string_view key) const
    {
        return level == 0 && contains(f_.top_level_containers, key) ? 1 : 2;
    }

    bool dropped(std::string_view key, int level, const json::value& v) const
    {
        if (contains(f_.dropped, key)) return true;
        if (level <= 1 && contains(f_.dropped_top_level, key)) return true;
        return contains(f_.version_members, key) && is_scalar(v);
    }

    void name_ids(const json::value& v, const std::string& path)
    {
        if (v.is_array()) {
            std::size_t i = 0;
            for (const auto& e : v.get_array()) {
                std::string at = path;
                append_segment(at, std::to_string(i++));
                if (is_scalar(e)) name_ids(e, at);
            }
            return;
        }
        auto text = id_text(v);
        if (!text.empty()) names_.emplace(std::move(text), "@" + path);
    }

    const connector::tenant_local_fields& f_;
    std::unordered_map<std::string, std::string> names_;           // identifier -> reference
    std::vector<std::pair<std::string, std::string>> embedded_;   // long identifiers
    std::unordered_map<std::string_view, std::vector<const std::pair<std::string, std::string>*>> by_prefix_;
};

}  // namespace

std::map<std::string, json::value> replace_tenant_local(const std::map<std::string, json::value>& docs,
                                                         const connector::tenant_local_fields& fields)
{
    rewriter r(fields);
    for (const auto& [name, doc] : docs) {
        std::string path;
        append_segment(path, name);
        r.collect(doc, path, 0);
    }
    r.finish_names();
    std::map<std::string, json::value> out;
    for (const auto& [name, doc] : docs) out.emplace(name, r.rewrite(doc, 0, false, false));
    return out;
}

}  // namespace wfsync::sync::detail
