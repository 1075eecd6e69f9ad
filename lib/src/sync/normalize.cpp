// SPDX-License-Identifier: Apache-2.0
#include <wfsync/sync/normalize.hpp>

#include "id_references.hpp"

#include <wfsync/connector/tenant_local.hpp>
#include <wfsync/core/hash.hpp>
#include <wfsync/core/json.hpp>

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/stream_parser.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <array>
#include <cstdint>
#include <numeric>
#include <unordered_map>

namespace wfsync::sync {
namespace json = boost::json;

namespace {

// What is tenant-local in a Zuora export, and how tasks refer to each other: the
// connector's list (connector/zuora/zuora_tenant_local.cpp).
const connector::zuora_export_fields& zuora = connector::zuora_tenant_local();
const std::vector<std::string_view>& task_ref_members = zuora.task_references;
const std::string_view linkage_source = zuora.linkage_source;
const std::string_view linkage_target = zuora.linkage_target;

// The member each normalized task gets with its stable reference. Zuora tasks have no
// member of this name; one there would be replaced.
constexpr std::string_view ref_member = "ref";

// Bigger exports are refused instead of exhausting memory or time.
constexpr std::size_t max_tasks = 100000;
constexpr std::size_t max_linkages = 1000000;
constexpr int max_json_depth = 64;

// Work budget for the tie-breaking refinement below, in tasks plus linkage ends visited;
// beyond it the remaining ties (pathological documents only) are broken by input order.
constexpr std::size_t refine_budget = 10'000'000;

bool is_tenant_local(std::string_view key)
{
    if (key.starts_with(zuora.tenant_local_prefix)) return true;
    return std::find(zuora.tenant_local.begin(), zuora.tenant_local.end(), key) != zuora.tenant_local.end();
}

// A copy of `obj` without tenant-local members and without the listed `also` members.
json::object strip(const json::object& obj, std::initializer_list<std::string_view> also = {})
{
    json::object out;
    for (const auto& kv : obj) {
        if (is_tenant_local(kv.key())) continue;
        if (std::find(also.begin(), also.end(), kv.key()) != also.end()) continue;
        out.emplace(kv.key(), kv.value());
    }
    return out;
}

// An id as text, so that 849 and "849" name the same task; empty for null or absent.
std::string id_text(const json::value* v)
{
    if (!v) return {};
    if (v->is_string()) return std::string(v->get_string());
    if (v->is_int64()) return std::to_string(v->get_int64());
    if (v->is_uint64()) return std::to_string(v->get_uint64());
    if (v->is_double()) return json::serialize(*v);
    return {};
}

// Dense ranks of `keys` in sorted order: equal keys get equal ranks.
template <class Key>
std::vector<std::int64_t> dense_ranks(const std::vector<Key>& keys, std::size_t& classes)
{
    std::vector<std::size_t> idx(keys.size());
    std::iota(idx.begin(), idx.end(), std::size_t{0});
    std::sort(idx.begin(), idx.end(), [&](std::size_t a, std::size_t b) { return keys[a] < keys[b]; });
    std::vector<std::int64_t> rank(keys.size());
    std::int64_t r = -1;
    for (std::size_t i = 0; i < idx.size(); ++i) {
        if (i == 0 || keys[idx[i - 1]] < keys[idx[i]]) ++r;
        rank[idx[i]] = r;
    }
    classes = static_cast<std::size_t>(r + 1);
    return rank;
}

// splitmix64's finalizer: a fixed, platform-independent 64-bit mix.
std::uint64_t mix64(std::uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

// One end of a linkage (or task reference) seen from a task.
struct edge {
    std::int64_t kind;      // 0 linkage out, 1 linkage in, 2 ref member out, 3 ref member in
    std::int64_t label;     // rank of the linkage's content without its ends, or ref member
    std::int64_t neighbor;  // task index, -1 for none (a Start linkage's source)
};

// Orders tasks by content and, where contents are equal, by their place in the linkage
// graph: colour refinement (1-dimensional Weisfeiler-Lehman) seeded with the rank of each
// task's canonical content, refined with the colours of its neighbours until the number
// of classes stops growing. Tasks still tied are then individualized one at a time (the
// smallest tied class first) and refined again. Ties left are symmetric in practice
// (swapping them gives the same document), so which one goes first does not change the
// normalized output. Returns the task indices in reference order.
std::vector<std::size_t> canonical_order(const std::vector<std::string>& contents,
                                         const std::vector<std::vector<edge>>& edges)
{
    const std::size_t n = contents.size();
    std::size_t classes = 0;
    std::vector<std::int64_t> color = dense_ranks(contents, classes);
    std::size_t work = 0;

    // One round: a task's new colour is (its colour, a 64-bit hash of the sorted multiset of
    // its ends' (kind, label, neighbour colour)). A hash collision can only merge classes,
    // never make the result depend on input order.
    std::vector<std::array<std::int64_t, 3>> ends;
    std::vector<std::pair<std::int64_t, std::uint64_t>> sig(n);
    auto refine = [&] {
        for (;;) {
            for (std::size_t i = 0; i < n; ++i) {
                ends.clear();
                for (const auto& e : edges[i])
                    ends.push_back({e.kind, e.label, e.neighbor < 0 ? -1 : color[static_cast<std::size_t>(e.neighbor)]});
                std::sort(ends.begin(), ends.end());
                std::uint64_t h = 0x9e3779b97f4a7c15ULL;
                for (const auto& t : ends)
                    for (auto x : t) h = mix64(h ^ static_cast<std::uint64_t>(x));
                sig[i] = {color[i], h};
                work += 1 + edges[i].size();
            }
            std::size_t next_classes = 0;
            auto next = dense_ranks(sig, next_classes);
            bool grew = next_classes > classes;
            color = std::move(next);
            classes = next_classes;
            if (!grew || classes == n || work > refine_budget) return;
        }
    };

    if (classes < n) refine();
    while (classes < n && work <= refine_budget) {
        // The smallest colour held by more than one task.
        std::vector<std::size_t> count(classes, 0);
        for (auto c : color) ++count[static_cast<std::size_t>(c)];
        std::int64_t tied = 0;
        while (count[static_cast<std::size_t>(tied)] < 2) ++tied;
        std::vector<std::size_t> members;
        for (std::size_t i = 0; i < n; ++i)
            if (color[i] == tied) members.push_back(i);
        // Tasks of one class share their neighbourhood; without linkages they are plain
        // duplicates and any order of them gives the same output, so split them at once.
        bool isolated = edges[members.front()].empty();
        std::vector<std::pair<std::int64_t, std::int64_t>> key(n);
        for (std::size_t i = 0; i < n; ++i) key[i] = {color[i], 0};
        if (isolated) {
            for (std::size_t k = 0; k < members.size(); ++k) key[members[k]].second = static_cast<std::int64_t>(k);
        } else {
            key[members.front()].second = 1;
        }
        color = dense_ranks(key, classes);
        work += n;
        refine();
    }
    if (classes < n) {
        // Over budget: break what is left by input order.
        std::vector<std::pair<std::int64_t, std::size_t>> key(n);
        for (std::size_t i = 0; i < n; ++i) key[i] = {color[i], i};
        color = dense_ranks(key, classes);
    }
    std::vector<std::size_t> order(n);
    for (std::size_t i = 0; i < n; ++i) order[static_cast<std::size_t>(color[i])] = i;
    return order;
}

}  // namespace

result<json::value> parse_json_at(std::string_view text, std::string_view what, json::storage_ptr sp)
{
    json::parse_options opts;
    opts.max_depth = max_json_depth;
    json::stream_parser p({}, opts);
    p.reset(std::move(sp));
    boost::system::error_code ec;
    std::size_t used = p.write_some(text.data(), text.size(), ec);
    if (!ec && used < text.size()) ec = json::error::extra_data;
    if (!ec) p.finish(ec);
    if (ec) {
        // Line and column (1-based) of the byte where parsing stopped.
        std::size_t line = 1, col = 1;
        for (std::size_t i = 0; i < used && i < text.size(); ++i) {
            if (text[i] == '\n') {
                ++line;
                col = 1;
            } else {
                ++col;
            }
        }
        return fail(errc::bad_response, fmt::format("{}: invalid JSON at line {}, column {} (byte {} of {}): {}",
                                                    what, line, col, used, text.size(), ec.message()));
    }
    return p.release();
}

result<json::value> normalize_zuora_export(std::string_view json_text, std::string_view what)
{
    auto parsed = parse_json_at(json_text, what);
    if (!parsed) return parsed.error();
    const json::value& doc = *parsed;
    if (!doc.is_object()) return fail(errc::bad_response, fmt::format("{}: a Zuora export must be a JSON object", what));
    const auto* workflow = find_member(doc, "workflow");
    if (!workflow || !workflow->is_object())
        return fail(errc::bad_response, fmt::format("{}: Zuora export has no \"workflow\" object", what));
    const auto* tasks_v = find_member(doc, "tasks");
    if (!tasks_v || !tasks_v->is_array())
        return fail(errc::bad_response, fmt::format("{}: Zuora export has no \"tasks\" array", what));
    const auto* linkages_v = find_member(doc, "linkages");
    if (linkages_v && !linkages_v->is_array() && !linkages_v->is_null())
        return fail(errc::bad_response, fmt::format("{}: \"linkages\" of the Zuora export is not an array", what));

    const auto& tasks = tasks_v->get_array();
    static const json::array no_linkages;
    const auto& linkages = (linkages_v && linkages_v->is_array()) ? linkages_v->get_array() : no_linkages;
    if (tasks.size() > max_tasks)
        return fail(errc::bad_response,
                    fmt::format("{}: {} tasks, more than the {} a Zuora export may have here", what, tasks.size(), max_tasks));
    if (linkages.size() > max_linkages)
        return fail(errc::bad_response, fmt::format("{}: {} linkages, more than the {} a Zuora export may have here",
                                                    what, linkages.size(), max_linkages));

    // Tasks: their ids, and their content without anything tenant-local or id-like.
    const std::size_t n = tasks.size();
    std::unordered_map<std::string, std::size_t> index_of;
    std::vector<json::object> stripped(n);
    std::vector<std::string> contents(n);
    for (std::size_t i = 0; i < n; ++i) {
        if (!tasks[i].is_object())
            return fail(errc::bad_response, fmt::format("{}: tasks[{}] is not an object", what, i));
        const auto& task = tasks[i].get_object();
        std::string id = id_text(task.if_contains("id"));
        if (!id.empty() && !index_of.emplace(id, i).second)
            return fail(errc::bad_response, fmt::format("{}: tasks[{}] repeats task id {}", what, i, id));
        json::object s = strip(task);
        for (auto m : task_ref_members) s.erase(m);
        s.erase(ref_member);
        contents[i] = canonical_json(s);
        stripped[i] = std::move(s);
    }

    auto resolve = [&](const json::value* v, std::size_t link, std::string_view member) -> result<std::int64_t> {
        std::string id = id_text(v);
        if (id.empty()) {
            if (v && !v->is_null())
                return fail(errc::bad_response,
                            fmt::format("{}: linkages[{}].{} is not a task id", what, link, member));
            return std::int64_t{-1};
        }
        auto it = index_of.find(id);
        if (it == index_of.end())
            return fail(errc::bad_response, fmt::format("{}: linkages[{}].{} names task {}, which is not among the "
                                                        "export's tasks",
                                                        what, link, member, id));
        return static_cast<std::int64_t>(it->second);
    };

    // Linkages: their ends as task indices, their other content as a label.
    struct link {
        std::int64_t source = -1, target = -1;
        bool has_source = false, has_target = false;
        json::object rest;
        std::string label;
    };
    std::vector<link> links(linkages.size());
    for (std::size_t k = 0; k < linkages.size(); ++k) {
        if (!linkages[k].is_object())
            return fail(errc::bad_response, fmt::format("{}: linkages[{}] is not an object", what, k));
        const auto& l = linkages[k].get_object();
        auto& out = links[k];
        const auto* src = l.if_contains(linkage_source);
        const auto* tgt = l.if_contains(linkage_target);
        auto s = resolve(src, k, linkage_source);
        if (!s) return s.error();
        auto t = resolve(tgt, k, linkage_target);
        if (!t) return t.error();
        out.source = *s;
        out.target = *t;
        out.has_source = src != nullptr;
        out.has_target = tgt != nullptr;
        out.rest = strip(l, {linkage_source, linkage_target});
        out.label = canonical_json(out.rest);
    }

    // Task reference members (task_id) that name a task of the document.
    std::vector<std::vector<std::pair<std::size_t, std::size_t>>> ref_links(n);  // (member, task)
    for (std::size_t i = 0; i < n; ++i) {
        const auto& task = tasks[i].get_object();
        for (std::size_t m = 0; m < task_ref_members.size(); ++m) {
            auto it = index_of.find(id_text(task.if_contains(task_ref_members[m])));
            if (it != index_of.end()) ref_links[i].emplace_back(m, it->second);
        }
    }

    // The graph the refinement runs on.
    std::vector<std::string> labels;
    labels.reserve(links.size());
    for (const auto& l : links) labels.push_back(l.label);
    std::size_t label_classes = 0;
    auto label_rank = dense_ranks(labels, label_classes);
    std::vector<std::vector<edge>> edges(n);
    for (std::size_t k = 0; k < links.size(); ++k) {
        const auto& l = links[k];
        if (l.source >= 0) edges[static_cast<std::size_t>(l.source)].push_back({0, label_rank[k], l.target});
        if (l.target >= 0) edges[static_cast<std::size_t>(l.target)].push_back({1, label_rank[k], l.source});
    }
    for (std::size_t i = 0; i < n; ++i) {
        for (auto [m, j] : ref_links[i]) {
            edges[i].push_back({2, static_cast<std::int64_t>(m), static_cast<std::int64_t>(j)});
            edges[j].push_back({3, static_cast<std::int64_t>(m), static_cast<std::int64_t>(i)});
        }
    }

    auto order = canonical_order(contents, edges);
    std::vector<std::string> ref(n);
    for (std::size_t r = 0; r < n; ++r) ref[order[r]] = "t" + std::to_string(r + 1);
    auto ref_value = [&](std::int64_t i) -> json::value {
        if (i < 0) return nullptr;
        return json::string(ref[static_cast<std::size_t>(i)]);
    };

    json::array out_tasks;
    out_tasks.reserve(n);
    for (std::size_t r = 0; r < n; ++r) {
        std::size_t i = order[r];
        json::object t = std::move(stripped[i]);
        t[ref_member] = ref[i];
        for (auto [m, j] : ref_links[i]) t[task_ref_members[m]] = ref[j];
        out_tasks.emplace_back(std::move(t));
    }

    std::vector<std::pair<std::string, json::object>> out_links;
    out_links.reserve(links.size());
    for (auto& l : links) {
        json::object o = std::move(l.rest);
        if (l.has_source) o[linkage_source] = ref_value(l.source);
        if (l.has_target) o[linkage_target] = ref_value(l.target);
        std::string key = canonical_json(o);
        out_links.emplace_back(std::move(key), std::move(o));
    }
    std::sort(out_links.begin(), out_links.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    json::array linkage_array;
    linkage_array.reserve(out_links.size());
    for (auto& [key, o] : out_links) linkage_array.emplace_back(std::move(o));

    // Other top-level members are kept (minus tenant-local ones), so nothing unknown is lost.
    json::object out = strip(doc.get_object(), {"workflow", "tasks", "linkages"});
    out["workflow"] = strip(workflow->get_object());
    out["tasks"] = std::move(out_tasks);
    out["linkages"] = std::move(linkage_array);
    return json::value(std::move(out));
}

namespace {

/// "export" plus the extension of `name` (".json" of "SOC_Alpha_v3.json").
std::string local_file_name(const std::string& name)
{
    auto dot = name.rfind('.');
    return dot == std::string::npos ? std::string("export") : "export" + name.substr(dot);
}

}  // namespace

result<normalized_package> normalize(const connector::package& p)
{
    const bool zuora = p.format == "zuora-json";
    const auto* local = connector::tenant_local_fields_for(p.format);
    if (zuora && !p.files.contains("workflow.json"))
        return fail(errc::bad_response, fmt::format("zuora-json package of workflow {} has no workflow.json",
                                                    p.workflow_id.empty() ? "(unknown)" : p.workflow_id));
    auto what_of = [&](const std::string& name) {
        return p.workflow_id.empty() ? fmt::format("file {}", name)
                                     : fmt::format("file {} of workflow {}", name, p.workflow_id);
    };
    // The names the files are hashed under: a lone file named by the tenant loses its name.
    std::map<std::string, const std::string*> named;
    for (const auto& [name, bytes] : p.files) {
        bool rename = local && local->file_name_local && p.files.size() == 1;
        named.emplace(rename ? local_file_name(name) : name, &bytes);
    }

    // Every document parsed here lives until the end of this call: one arena for all of them,
    // released at once, instead of one heap allocation (and free) per string, array and object.
    json::monotonic_resource arena;
    json::storage_ptr sp(&arena);

    std::map<std::string, json::value> docs;  // JSON files of Kore.ai and SecMaster packages
    if (local) {
        for (const auto& [name, bytes] : named) {
            if (!name.ends_with(".json")) continue;
            auto v = parse_json_at(*bytes, what_of(name), sp);
            if (!v) return v.error();
            docs.emplace(name, std::move(*v));
        }
        detail::replace_tenant_local(docs, *local);
    }

    normalized_package out;
    sha256 hash;
    for (const auto& [name, bytes] : named) {  // std::map: already in name order
        normalized_file f{name, {}, false};
        if (zuora && name == "workflow.json") {
            auto v = normalize_zuora_export(*bytes, what_of(name));
            if (!v) return v.error();
            f.canonical = canonical_json(*v);
            f.json = true;
        } else if (auto d = docs.find(name); d != docs.end()) {
            f.canonical.reserve(bytes->size());
            append_canonical_json(f.canonical, d->second);
            f.json = true;
        } else if (zuora && name.ends_with(".json")) {
            auto v = parse_json_at(*bytes, what_of(name), sp);
            if (!v) return v.error();
            f.canonical.reserve(bytes->size());
            append_canonical_json(f.canonical, *v);
            f.json = true;
        } else {
            f.canonical = *bytes;
        }
        hash.update(f.name);
        hash.update(std::string_view("\0", 1));
        hash.update(f.canonical);
        hash.update(std::string_view("\0", 1));
        out.files.push_back(std::move(f));
    }
    out.hash = hash.hex_digest();
    return out;
}

}  // namespace wfsync::sync
