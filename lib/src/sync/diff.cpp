// SPDX-License-Identifier: Apache-2.0
#include <wfsync/sync/diff.hpp>

#include <wfsync/core/json.hpp>

#include <boost/json/serialize.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <map>
#include <set>

namespace wfsync::sync {
namespace json = boost::json;

namespace {

// Values under keys that contain one of these (case-insensitive) never reach a plan:
// a plan is printed, logged and pasted into tickets.
constexpr std::array secret_words = {
    std::string_view{"password"}, std::string_view{"passwd"},      std::string_view{"secret"},
    std::string_view{"token"},    std::string_view{"api_key"},     std::string_view{"apikey"},
    std::string_view{"api-key"},  std::string_view{"authorization"}, std::string_view{"credential"},
    std::string_view{"private_key"},
};
constexpr std::string_view masked = "(changed)";
constexpr std::string_view absent = "(none)";
constexpr std::size_t max_value_chars = 60;

bool looks_secret(std::string_view key)
{
    std::string lower(key);
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (auto w : secret_words)
        if (lower.find(w) != std::string::npos) return true;
    return false;
}

// Header lists are arrays of {"key": "Authorization", "value": "Bearer ..."}: the secret
// is in the name of a sibling.
bool names_secret_pair(const json::object& o)
{
    for (auto k : {"key", "name"}) {
        const auto* v = o.if_contains(k);
        if (v && v->is_string() && looks_secret(v->get_string())) return true;
    }
    return false;
}

bool contains_secret(const json::value& v)
{
    if (v.is_object()) {
        const auto& o = v.get_object();
        if (names_secret_pair(o) && o.contains("value")) return true;
        for (const auto& kv : o)
            if (looks_secret(kv.key()) || contains_secret(kv.value())) return true;
    } else if (v.is_array()) {
        for (const auto& e : v.get_array())
            if (contains_secret(e)) return true;
    }
    return false;
}

// Canonical JSON of a value, cut to about 60 characters (on a UTF-8 boundary).
std::string shorten(const json::value* v)
{
    if (!v) return std::string(absent);
    std::string s = canonical_json(*v);
    if (s.size() <= max_value_chars) return s;
    std::size_t cut = max_value_chars - 3;
    while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
    s.resize(cut);
    return s + "...";
}

std::string join_path(const std::string& path, std::string_view key)
{
    return path.empty() ? std::string(key) : path + "." + std::string(key);
}

// "path: old -> new" for every leaf that differs between `a` and `b` (either may be absent),
// in key order. Arrays of equal length are compared element by element, others whole.
void diff_values(const json::value* a, const json::value* b, const std::string& path, bool secret,
                 std::vector<std::string>& out)
{
    if (a && b && *a == *b) return;
    if (!a && !b) return;
    auto line = [&](std::string text) { out.push_back(path.empty() ? text : path + ": " + text); };
    if (secret) return line(std::string(masked));
    if (a && b && a->is_object() && b->is_object()) {
        const auto& oa = a->get_object();
        const auto& ob = b->get_object();
        std::set<std::string_view> keys;
        for (const auto& kv : oa) keys.insert(kv.key());
        for (const auto& kv : ob) keys.insert(kv.key());
        bool pair_secret = names_secret_pair(oa) || names_secret_pair(ob);
        for (auto k : keys) {
            bool s = looks_secret(k) || (pair_secret && k == "value");
            diff_values(oa.if_contains(k), ob.if_contains(k), join_path(path, k), s, out);
        }
        return;
    }
    if (a && b && a->is_array() && b->is_array() && a->get_array().size() == b->get_array().size()) {
        const auto& xa = a->get_array();
        const auto& xb = b->get_array();
        for (std::size_t i = 0; i < xa.size(); ++i)
            diff_values(&xa[i], &xb[i], fmt::format("{}[{}]", path, i), false, out);
        return;
    }
    if ((a && contains_secret(*a)) || (b && contains_secret(*b))) return line(std::string(masked));
    line(shorten(a) + " -> " + shorten(b));
}

// ---------------------------------------------------------------------------------------
// Zuora exports, as `normalize_zuora_export` writes them.

bool is_zuora_doc(const json::value& v)
{
    const auto* w = find_member(v, "workflow");
    const auto* t = find_member(v, "tasks");
    return w && w->is_object() && t && t->is_array();
}

struct task_view {
    const json::object* obj = nullptr;
    std::string ref;
    std::string label;  // "Name" (Type)
    std::string key;    // name + type, for matching; empty when unnamed
    std::string type;
    int match = -1;     // index into the match list
};

std::vector<task_view> task_views(const json::value& doc)
{
    std::vector<task_view> out;
    for (const auto& t : find_member(doc, "tasks")->get_array()) {
        if (!t.is_object()) continue;
        task_view v;
        v.obj = &t.get_object();
        v.ref = member_string(t, "ref");
        const auto* name = find_member(t, "name");
        const auto* type = find_member(t, "action_type");
        v.type = type ? canonical_json(*type) : std::string{};
        std::string shown_type = type && type->is_string() ? std::string(type->get_string()) : v.type;
        v.label = (name && name->is_string()) ? json::serialize(*name) : (v.ref.empty() ? "(unnamed)" : v.ref);
        if (!shown_type.empty()) v.label += " (" + shown_type + ")";
        if (name) v.key = canonical_json(*name) + '\0' + v.type;
        out.push_back(std::move(v));
    }
    return out;
}

// A task for comparison: without its ref, and with references to other tasks (task_id)
// written as the other task's label, since refs move when content changes.
json::value comparable(const task_view& t, const std::map<std::string, const task_view*>& by_ref)
{
    json::object o = *t.obj;
    o.erase("ref");
    if (auto* p = o.if_contains("task_id"); p && p->is_string()) {
        auto it = by_ref.find(std::string(p->get_string()));
        if (it != by_ref.end()) *p = it->second->label;
    }
    return o;
}

void diff_zuora(const json::value& from, const json::value& to, std::vector<std::string>& out)
{
    // Top-level members other than the three parts.
    {
        std::vector<std::string> changes;
        auto others = [](const json::value& doc) {
            json::object o;
            for (const auto& kv : doc.get_object())
                if (kv.key() != "workflow" && kv.key() != "tasks" && kv.key() != "linkages") o.emplace(kv.key(), kv.value());
            return json::value(std::move(o));
        };
        json::value va = others(from), vb = others(to);
        diff_values(&va, &vb, "", false, changes);
        for (auto& c : changes) out.push_back("~ " + c);
    }
    {
        std::vector<std::string> changes;
        diff_values(find_member(from, "workflow"), find_member(to, "workflow"), "", false, changes);
        for (auto& c : changes) out.push_back("~ workflow: " + c);
    }

    auto ft = task_views(from);
    auto tt = task_views(to);
    std::map<std::string, const task_view*> f_by_ref, t_by_ref;
    for (const auto& t : ft) f_by_ref[t.ref] = &t;
    for (const auto& t : tt) t_by_ref[t.ref] = &t;

    // Match by (name, action_type); several tasks with one key pair up by ref first, then
    // in ref order. Left-overs of the same action type and ref are matched last (a rename).
    std::vector<std::pair<std::size_t, std::size_t>> matches;
    auto pair_up = [&](std::size_t i, std::size_t j) {
        ft[i].match = tt[j].match = static_cast<int>(matches.size());
        matches.emplace_back(i, j);
    };
    std::map<std::string, std::pair<std::vector<std::size_t>, std::vector<std::size_t>>> by_key;
    for (std::size_t i = 0; i < ft.size(); ++i)
        if (!ft[i].key.empty()) by_key[ft[i].key].first.push_back(i);
    for (std::size_t j = 0; j < tt.size(); ++j)
        if (!tt[j].key.empty()) by_key[tt[j].key].second.push_back(j);
    for (auto& [key, sides] : by_key) {
        auto& [fs, ts] = sides;
        for (auto i : fs)
            for (auto j : ts)
                if (ft[i].match < 0 && tt[j].match < 0 && ft[i].ref == tt[j].ref) pair_up(i, j);
        std::size_t j = 0;
        for (auto i : fs) {
            if (ft[i].match >= 0) continue;
            while (j < ts.size() && tt[ts[j]].match >= 0) ++j;
            if (j == ts.size()) break;
            pair_up(i, ts[j]);
        }
    }
    for (std::size_t i = 0; i < ft.size(); ++i) {
        if (ft[i].match >= 0) continue;
        auto it = t_by_ref.find(ft[i].ref);
        if (it == t_by_ref.end()) continue;
        auto j = static_cast<std::size_t>(it->second - tt.data());
        if (tt[j].match < 0 && tt[j].type == ft[i].type) pair_up(i, j);
    }

    std::vector<std::string> removed, added;
    for (const auto& t : ft)
        if (t.match < 0) removed.push_back("- task " + t.label);
    for (const auto& t : tt)
        if (t.match < 0) added.push_back("+ task " + t.label);
    std::sort(removed.begin(), removed.end());
    std::sort(added.begin(), added.end());
    out.insert(out.end(), removed.begin(), removed.end());
    out.insert(out.end(), added.begin(), added.end());

    std::vector<std::pair<std::string, std::vector<std::string>>> changed;
    for (auto [i, j] : matches) {
        auto a = comparable(ft[i], f_by_ref);
        auto b = comparable(tt[j], t_by_ref);
        std::vector<std::string> changes;
        diff_values(&a, &b, "", false, changes);
        if (!changes.empty()) changed.emplace_back(tt[j].label, std::move(changes));
    }
    std::stable_sort(changed.begin(), changed.end(), [](const auto& x, const auto& y) { return x.first < y.first; });
    for (const auto& [label, changes] : changed)
        for (const auto& c : changes) out.push_back("~ task " + label + ": " + c);

    // Linkages, compared by the identity of the tasks they join (matched tasks share one)
    // and described by task names.
    auto linkage_lines = [](const json::value& doc, const std::map<std::string, const task_view*>& by_ref, char side) {
        std::multimap<std::string, std::string> keyed;  // identity -> description
        const auto* links = find_member(doc, "linkages");
        if (!links || !links->is_array()) return keyed;
        auto end = [&](const json::value* v, std::string& id, std::string& shown) {
            if (!v || v->is_null()) {
                id = "start";
                shown = "start";
                return;
            }
            auto it = v->is_string() ? by_ref.find(std::string(v->get_string())) : by_ref.end();
            if (it == by_ref.end()) {
                id = shown = canonical_json(*v);
                return;
            }
            const task_view& t = *it->second;
            id = t.match >= 0 ? fmt::format("m{}", t.match) : fmt::format("{}{}", side, t.ref);
            auto* name = t.obj->if_contains("name");
            shown = (name && name->is_string()) ? json::serialize(*name) : t.ref;
        };
        for (const auto& l : links->get_array()) {
            if (!l.is_object()) continue;
            json::object rest = l.get_object();
            std::string sid, sshow, tid, tshow;
            end(rest.if_contains("source_task_id"), sid, sshow);
            end(rest.if_contains("target_task_id"), tid, tshow);
            rest.erase("source_task_id");
            rest.erase("target_task_id");
            std::string type = member_string(l, "linkage_type");
            rest.erase("linkage_type");
            std::string desc = sshow + " -> " + tshow;
            if (!type.empty()) desc += " (" + type + ")";
            if (!rest.empty()) {
                json::value r = rest;
                desc += " " + (contains_secret(r) ? std::string(masked) : shorten(&r));
            }
            keyed.emplace(sid + '\0' + tid + '\0' + type + '\0' + canonical_json(rest), desc);
        }
        return keyed;
    };
    auto fl = linkage_lines(from, f_by_ref, 'f');
    auto tl = linkage_lines(to, t_by_ref, 't');
    std::vector<std::string> lr, la;
    for (auto it = fl.begin(); it != fl.end(); it = fl.upper_bound(it->first)) {
        auto nf = fl.count(it->first), nt = tl.count(it->first);
        auto d = it;
        for (std::size_t k = 0; k < nf; ++k, ++d)
            if (k >= nt) lr.push_back("~ linkage removed: " + d->second);
    }
    for (auto it = tl.begin(); it != tl.end(); it = tl.upper_bound(it->first)) {
        auto nt = tl.count(it->first), nf = fl.count(it->first);
        auto d = it;
        for (std::size_t k = 0; k < nt; ++k, ++d)
            if (k >= nf) la.push_back("~ linkage added: " + d->second);
    }
    std::sort(lr.begin(), lr.end());
    std::sort(la.begin(), la.end());
    out.insert(out.end(), lr.begin(), lr.end());
    out.insert(out.end(), la.begin(), la.end());
}

}  // namespace

std::vector<std::string> diff_packages(const normalized_package& from, const normalized_package& to)
{
    std::vector<std::string> out;
    std::map<std::string_view, const normalized_file*> fa, fb;
    for (const auto& f : from.files) fa[f.name] = &f;
    for (const auto& f : to.files) fb[f.name] = &f;
    std::set<std::string_view> names;
    for (auto& [n, f] : fa) names.insert(n);
    for (auto& [n, f] : fb) names.insert(n);

    for (auto name : names) {
        auto ia = fa.find(name);
        auto ib = fb.find(name);
        if (ib == fb.end()) {
            out.push_back(fmt::format("- file {}", name));
            continue;
        }
        if (ia == fa.end()) {
            out.push_back(fmt::format("+ file {}", name));
            continue;
        }
        const auto& a = *ia->second;
        const auto& b = *ib->second;
        if (a.canonical == b.canonical) continue;
        if (a.json && b.json) {
            auto va = parse_json_at(a.canonical, name);
            auto vb = parse_json_at(b.canonical, name);
            if (va && vb) {
                if (is_zuora_doc(*va) && is_zuora_doc(*vb)) {
                    diff_zuora(*va, *vb, out);
                } else {
                    std::vector<std::string> changes;
                    // Environment variables are where packages carry credentials under
                    // any name: their values are never shown.
                    bool all_secret = name == "env_variables.json" || name.ends_with("/env_variables.json");
                    diff_values(&*va, &*vb, "", all_secret, changes);
                    for (auto& c : changes) out.push_back(fmt::format("~ {}: {}", name, c));
                }
                continue;
            }
        }
        // Not JSON: never print the bytes (they may hold anything), only that they changed.
        out.push_back(fmt::format("~ file {}: content changed ({} -> {} bytes)", name, a.canonical.size(),
                                  b.canonical.size()));
    }
    return out;
}

}  // namespace wfsync::sync
