// SPDX-License-Identifier: Apache-2.0
#include <wfsync/sync/normalize.hpp>

#include "id_references.hpp"
#include "text_hash.hpp"

#include <wfsync/connector/tenant_local.hpp>
#include <wfsync/core/hash.hpp>
#include <wfsync/core/json.hpp>

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/stream_parser.hpp>
#include <boost/unordered/unordered_flat_map.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <array>
#include <bit>
#include <charconv>
#include <deque>
#include <cstdint>
#include <cstring>
#include <numeric>
#include <span>
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

// The (length, first byte) pairs of the tenant-local names, as bits: most member names are
// ruled out by one bit test instead of a comparison with each name of the list.
const std::array<std::uint64_t, 64 * 4> tenant_local_shapes = [] {
    std::array<std::uint64_t, 64 * 4> bits{};
    for (auto name : zuora.tenant_local) {
        std::size_t i = std::min<std::size_t>(name.size(), 63) * 256 + static_cast<unsigned char>(name.empty() ? 0 : name[0]);
        bits[i >> 6] |= std::uint64_t{1} << (i & 63);
    }
    return bits;
}();

// Equal texts, compared without a call for the short ones member names are.
bool same_text(std::string_view a, std::string_view b)
{
    const std::size_t n = a.size();
    if (n != b.size()) return false;
    if (n > 16) return std::memcmp(a.data(), b.data(), n) == 0;
    for (std::size_t i = 0; i < n; ++i)
        if (a[i] != b[i]) return false;
    return true;
}

bool is_tenant_local(std::string_view key)
{
    const std::string_view prefix = zuora.tenant_local_prefix;
    // (An empty prefix starts every name.)
    if (prefix.empty() || (!key.empty() && key[0] == prefix[0] && key.starts_with(prefix))) return true;
    std::size_t i = std::min<std::size_t>(key.size(), 63) * 256 + static_cast<unsigned char>(key.empty() ? 0 : key[0]);
    if (!(tenant_local_shapes[i >> 6] & (std::uint64_t{1} << (i & 63)))) return false;
    for (auto name : zuora.tenant_local)
        if (same_text(name, key)) return true;
    return false;
}

/// What a member name is to a Zuora export, as bits (ref_member_shift: the index + 1 of the
/// task reference member it is).
enum name_class : std::uint32_t {
    tenant_local_name = 1,
    id_name = 2,
    ref_name = 4,
    source_name = 8,
    target_name = 16,
    ref_member_shift = 8,
};

std::uint32_t classify(std::string_view key)
{
    std::uint32_t c = 0;
    if (is_tenant_local(key)) c |= tenant_local_name;
    if (key == "id") c |= id_name;
    if (key == ref_member) c |= ref_name;
    if (key == linkage_source) c |= source_name;
    if (key == linkage_target) c |= target_name;
    for (std::size_t m = 0; m < task_ref_members.size(); ++m)
        if (key == task_ref_members[m]) {
            c |= static_cast<std::uint32_t>(m + 1) << ref_member_shift;
            break;
        }
    return c;
}

/// classify(), remembered for the names of one document (a few names, repeated by every task).
class name_classes {
public:
    std::uint32_t operator()(std::string_view key) { return cache_.get(key, classify); }

private:
    detail::short_text_cache<6> cache_;
};

using detail::text_equal;
using detail::text_hash;


// The first 8 bytes of `s` as a big-endian word, zeros past its end: names whose words differ
// are ordered as their words are (equal words tell nothing: "a" and "a\0").
std::uint64_t name_word(std::string_view s)
{
    std::uint64_t w = 0;
    if (s.size() >= 8) {
        std::memcpy(&w, s.data(), 8);
        if constexpr (std::endian::native == std::endian::little) w = __builtin_bswap64(w);
        return w;
    }
    for (std::size_t i = 0; i < s.size(); ++i) w |= std::uint64_t{static_cast<unsigned char>(s[i])} << (56 - 8 * i);
    return w;
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

// Bytes d .. d+7 of `s` as a big-endian word, zeros past its end.
std::uint64_t word_at(std::string_view s, std::size_t d)
{
    std::uint64_t w = 0;
    if (d + 8 <= s.size()) {
        std::memcpy(&w, s.data() + d, 8);
        if constexpr (std::endian::native == std::endian::little) w = __builtin_bswap64(w);
        return w;
    }
    for (std::size_t i = 0; i < 8; ++i) w = (w << 8) | (d + i < s.size() ? static_cast<unsigned char>(s[d + i]) : 0u);
    return w;
}

// Sorts the indices a[0, n) by their keys, which agree on their first d bytes: three-way
// radix quicksort (Bentley and Sedgewick) on 8-byte words, which looks at a long common
// prefix once per partition instead of once per comparison. The keys are canonical JSON,
// which holds no NUL byte (it escapes control characters), so a word padded with zeros
// orders as std::string_view does: bytes unsigned, a prefix first. Past `budget` levels of
// recursion: std::sort.
void sort_texts(std::size_t* a, std::size_t n, const std::vector<std::string_view>& keys, std::size_t d, int budget)
{
    while (n > 1) {
        if (n < 12 || budget <= 0) {
            std::sort(a, a + n, [&](std::size_t x, std::size_t y) { return keys[x].substr(d) < keys[y].substr(d); });
            return;
        }
        auto x = word_at(keys[a[0]], d), y = word_at(keys[a[n / 2]], d), z = word_at(keys[a[n - 1]], d);
        const auto pivot = std::max(std::min(x, y), std::min(std::max(x, y), z));
        std::size_t lt = 0, gt = n, i = 0;
        while (i < gt) {
            const auto c = word_at(keys[a[i]], d);
            if (c < pivot) std::swap(a[lt++], a[i++]);
            else if (c > pivot) std::swap(a[i], a[--gt]);
            else ++i;
        }
        sort_texts(a, lt, keys, d, budget - 1);
        sort_texts(a + gt, n - gt, keys, d, budget - 1);
        // The middle agrees on bytes d .. d+7; those of its keys that end there are equal.
        a += lt;
        n = gt - lt;
        bool any_longer = false;
        for (std::size_t k = 0; k < n && !any_longer; ++k) any_longer = keys[a[k]].size() > d + 8;
        if (!any_longer) return;
        d += 8;
        --budget;
    }
}

// dense_ranks of texts, sorted as above.
std::vector<std::int64_t> dense_ranks(const std::vector<std::string_view>& keys, std::size_t& classes)
{
    std::vector<std::size_t> idx(keys.size());
    std::iota(idx.begin(), idx.end(), std::size_t{0});
    sort_texts(idx.data(), idx.size(), keys, 0, 64);
    std::vector<std::int64_t> rank(keys.size());
    std::int64_t r = -1;
    for (std::size_t i = 0; i < idx.size(); ++i) {
        if (i == 0 || keys[idx[i - 1]] != keys[idx[i]]) ++r;  // sorted: unequal is less
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

// Each task's edges, all in one array (the order within a task's list does not matter).
struct edge_lists {
    std::vector<std::size_t> begin;  // n + 1 offsets into all
    std::vector<edge> all;
    std::span<const edge> operator[](std::size_t i) const { return {all.data() + begin[i], begin[i + 1] - begin[i]}; }
};

// Orders tasks by content and, where contents are equal, by their place in the linkage
// graph: colour refinement (1-dimensional Weisfeiler-Lehman) seeded with the rank of each
// task's canonical content, refined with the colours of its neighbours until the number
// of classes stops growing. Tasks still tied are then individualized one at a time (the
// smallest tied class first) and refined again. Ties left are symmetric in practice
// (swapping them gives the same document), so which one goes first does not change the
// normalized output. Returns the task indices in reference order.
std::vector<std::size_t> canonical_order(const std::vector<std::string_view>& contents,
                                         const edge_lists& edges)
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


/// Objects' members as canonical JSON, many objects in one buffer, with where each member's
/// "key":value sits, so that members can be added in their sorted places later without
/// writing the rest again.
struct canonical_store {
    struct member {
        std::string_view key;    ///< points into the parsed document
        std::uint64_t word;      ///< name_word(key), kept here: the document is far away in memory
        std::size_t begin, end;  ///< of "key":value in `text`
    };
    /// One object: its canonical JSON {"a":1,"b":2} in `text`, its members in key order.
    struct object {
        std::size_t begin = 0, end = 0;
        std::size_t first_member = 0, end_member = 0;
    };
    std::string text;
    std::vector<member> members;
    std::vector<std::pair<std::uint64_t, const json::key_value_pair*>> scratch;

    /// Adds the members of `obj` that `keep` (a predicate on key_value_pairs) keeps.
    template <class Keep>
    object add(const json::object& obj, Keep keep)
    {
        scratch.clear();
        for (const auto& kv : obj)
            if (keep(kv)) scratch.push_back({name_word(kv.key()), &kv});
        // By the names' first 8 bytes, kept beside them, and only on a tie by the names.
        std::sort(scratch.begin(), scratch.end(), [](const auto& a, const auto& b) {
            if (a.first != b.first) return a.first < b.first;
            return a.second->key() < b.second->key();
        });
        object o{text.size(), 0, members.size(), 0};
        text += '{';
        for (const auto& [word, kv] : scratch) {
            if (text.size() > o.begin + 1) text += ',';
            std::size_t begin = text.size();
            append_json_string(text, kv->key());
            text += ':';
            append_canonical_json(text, kv->value());
            members.push_back({kv->key(), word, begin, text.size()});
        }
        text += '}';
        o.end = text.size();
        o.end_member = members.size();
        return o;
    }

    std::string_view text_of(const object& o) const { return std::string_view(text).substr(o.begin, o.end - o.begin); }
};

/// A member added to a canonical_store::object: its name and its value as canonical JSON.
struct added_member {
    std::string_view key;
    std::string_view value;  ///< lives as long as the parts it is taken from
};

/// Whether added member `a` goes before member `m` (names in byte order), told by their
/// first 8 bytes where they can.
bool added_before(const added_member& a, const canonical_store::member& m)
{
    const std::uint64_t w = name_word(a.key);
    if (w != m.word) return w < m.word;
    return a.key < m.key;
}

/// Sets member `key` of `added` to `value` (replacing one of that name, as json::object's
/// operator[] would).
void put(std::vector<added_member>& added, std::string_view key, std::string_view value)
{
    for (auto& a : added)
        if (a.key == key) {
            a.value = value;
            return;
        }
    added.push_back({key, value});
}

/// Appends the canonical JSON of object `o` of `store` with the `added` members (none of
/// them among o's) in their sorted places.
void append_with(std::string& out, const canonical_store& store, const canonical_store::object& o,
                 std::vector<added_member>& added)
{
    std::sort(added.begin(), added.end(), [](const auto& a, const auto& b) { return a.key < b.key; });
    out += '{';
    bool first = true;
    auto separate = [&] {
        if (!first) out += ',';
        first = false;
    };
    // o's members lie in store.text one after the other, separated by commas: each run of
    // them between two added members is copied at once.
    std::size_t x = 0;
    std::size_t m = o.first_member;
    while (m < o.end_member) {
        while (x < added.size() && added_before(added[x], store.members[m])) {
            separate();
            append_json_string(out, added[x].key);
            out += ':';
            out += added[x].value;
            ++x;
        }
        std::size_t run_end = o.end_member;
        if (x < added.size()) {
            run_end = m + 1;
            while (run_end < o.end_member && !added_before(added[x], store.members[run_end])) ++run_end;
        }
        separate();
        const std::size_t begin = store.members[m].begin;
        out.append(store.text, begin, store.members[run_end - 1].end - begin);
        m = run_end;
    }
    for (; x < added.size(); ++x) {
        separate();
        append_json_string(out, added[x].key);
        out += ':';
        out += added[x].value;
    }
    out += '}';
}

/// A Zuora export taken apart: the order of its tasks, their references and each part's
/// content; what both the canonical text (normalize) and the document
/// (normalize_zuora_export) are written from.
struct zuora_parts {
    const json::object* doc = nullptr;
    const json::object* workflow = nullptr;
    const json::array* tasks = nullptr;
    const json::array* linkages = nullptr;
    canonical_store store;  ///< the contents below
    /// Each task without tenant-local members, its id, its reference members and "ref".
    std::vector<canonical_store::object> contents;
    std::vector<std::size_t> order;  ///< task indices in reference order
    std::vector<std::string> ref;    ///< each task's reference, "t1".."tN"
    std::vector<std::string> ref_json;  ///< ...as canonical JSON, "\"t1\"" (written once, not at each use)
    /// Task `i`'s reference as canonical JSON, or null for -1.
    std::string_view ref_text(std::int64_t i) const
    {
        return i < 0 ? std::string_view("null") : std::string_view(ref_json[static_cast<std::size_t>(i)]);
    }
    /// Each task's reference members that name a task of the document: (member, task).
    std::vector<std::vector<std::pair<std::size_t, std::size_t>>> ref_links;
    struct link {
        std::int64_t source = -1, target = -1;
        bool has_source = false, has_target = false;
        canonical_store::object rest;  ///< without tenant-local members and its ends
    };
    std::vector<link> links;
    /// Each linkage's canonical JSON with its ends as references (in link_text), with its
    /// index; sorted by that text.
    std::string link_text;
    std::vector<std::pair<std::string_view, std::size_t>> sorted_links;
};

/// `doc_size`: the size of the export's text, what the contents take at most.
result<zuora_parts> take_apart(const json::value& doc, std::size_t doc_size, std::string_view what)
{
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
    zuora_parts z;
    z.doc = &doc.get_object();
    z.workflow = &workflow->get_object();
    z.tasks = &tasks;
    z.linkages = &linkages;
    z.store.text.reserve(doc_size);
    std::size_t member_count = 0;
    for (const auto& t : tasks) member_count += t.is_object() ? t.get_object().size() : 0;
    for (const auto& l : linkages) member_count += l.is_object() ? l.get_object().size() : 0;
    z.store.members.reserve(member_count);

    // Tasks: their ids, and their content without anything tenant-local or id-like, taken in
    // one pass over each task's members (no look-up by name).
    const std::size_t n = tasks.size();
    const std::size_t refs = task_ref_members.size();
    // Ids as text (849 and "849" name the same task), as id_text gives them: a string as it
    // is, an integer's digits written into `buf`, a double's (rare) text kept in `doubles`.
    std::deque<std::string> doubles;
    auto id_of = [&](const json::value* v, std::array<char, 24>& buf) -> std::string_view {
        if (!v) return {};
        if (v->is_string()) return v->get_string();
        std::to_chars_result r{};
        if (v->is_int64()) r = std::to_chars(buf.data(), buf.data() + buf.size(), v->get_int64());
        else if (v->is_uint64()) r = std::to_chars(buf.data(), buf.data() + buf.size(), v->get_uint64());
        else if (v->is_double()) return doubles.emplace_back(json::serialize(*v));
        else return {};
        return {buf.data(), static_cast<std::size_t>(r.ptr - buf.data())};
    };
    // Integer task ids' digits, kept for index_of's keys: one buffer that never moves.
    std::vector<std::array<char, 24>> task_digits(n);
    boost::unordered_flat_map<std::string_view, std::size_t, text_hash, text_equal> index_of;
    index_of.reserve(n);
    z.contents.resize(n);
    std::vector<const json::value*> task_refs(n * refs, nullptr);  // each task's reference members' values
    name_classes classes;
    for (std::size_t i = 0; i < n; ++i) {
        if (!tasks[i].is_object())
            return fail(errc::bad_response, fmt::format("{}: tasks[{}] is not an object", what, i));
        const auto& task = tasks[i].get_object();
        const json::value* id_v = nullptr;
        const json::value** ref_v = task_refs.data() + i * refs;
        z.contents[i] = z.store.add(task, [&](const json::key_value_pair& kv) {
            const std::uint32_t c = classes(kv.key());
            if (c & id_name) id_v = &kv.value();
            if (const std::uint32_t m = c >> ref_member_shift) {
                ref_v[m - 1] = &kv.value();
                return false;
            }
            return !(c & (tenant_local_name | ref_name));
        });
        std::string_view id = id_of(id_v, task_digits[i]);
        if (!id.empty() && !index_of.emplace(id, i).second)
            return fail(errc::bad_response, fmt::format("{}: tasks[{}] repeats task id {}", what, i, id));
    }

    auto resolve = [&](const json::value* v, std::size_t link, std::string_view member) -> result<std::int64_t> {
        std::array<char, 24> buf;
        std::string_view id = id_of(v, buf);
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
    z.links.resize(linkages.size());
    for (std::size_t k = 0; k < linkages.size(); ++k) {
        if (!linkages[k].is_object())
            return fail(errc::bad_response, fmt::format("{}: linkages[{}] is not an object", what, k));
        const auto& l = linkages[k].get_object();
        auto& out = z.links[k];
        const json::value* src = nullptr;
        const json::value* tgt = nullptr;
        out.rest = z.store.add(l, [&](const json::key_value_pair& kv) {
            const std::uint32_t c = classes(kv.key());
            if (c & source_name) {
                src = &kv.value();
                return false;
            }
            if (c & target_name) {
                tgt = &kv.value();
                return false;
            }
            return !(c & tenant_local_name);
        });
        auto s = resolve(src, k, linkage_source);
        if (!s) return s.error();
        auto t = resolve(tgt, k, linkage_target);
        if (!t) return t.error();
        out.source = *s;
        out.target = *t;
        out.has_source = src != nullptr;
        out.has_target = tgt != nullptr;
    }

    // Task reference members (task_id) that name a task of the document.
    z.ref_links.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
        for (std::size_t m = 0; m < refs; ++m) {
            const json::value* v = task_refs[i * refs + m];
            if (!v) continue;
            std::array<char, 24> buf;
            std::string_view id = id_of(v, buf);
            if (id.empty()) continue;
            auto it = index_of.find(id);
            if (it != index_of.end()) z.ref_links[i].emplace_back(m, it->second);
        }
    }

    // The graph the refinement runs on.
    std::vector<std::string_view> labels;
    labels.reserve(z.links.size());
    for (const auto& l : z.links) labels.push_back(z.store.text_of(l.rest));
    std::size_t label_classes = 0;
    auto label_rank = dense_ranks(labels, label_classes);
    // Two passes over the same ends: count each task's, then place them.
    edge_lists edges;
    std::vector<std::size_t> fill(n + 1, 0);
    auto add_edges = [&](auto&& add) {
        for (std::size_t k = 0; k < z.links.size(); ++k) {
            const auto& l = z.links[k];
            if (l.source >= 0) add(static_cast<std::size_t>(l.source), edge{0, label_rank[k], l.target});
            if (l.target >= 0) add(static_cast<std::size_t>(l.target), edge{1, label_rank[k], l.source});
        }
        for (std::size_t i = 0; i < n; ++i) {
            for (auto [m, j] : z.ref_links[i]) {
                add(i, edge{2, static_cast<std::int64_t>(m), static_cast<std::int64_t>(j)});
                add(j, edge{3, static_cast<std::int64_t>(m), static_cast<std::int64_t>(i)});
            }
        }
    };
    add_edges([&](std::size_t task, const edge&) { ++fill[task + 1]; });
    for (std::size_t i = 0; i < n; ++i) fill[i + 1] += fill[i];
    edges.begin = fill;
    edges.all.resize(fill[n]);
    add_edges([&](std::size_t task, const edge& e) { edges.all[fill[task]++] = e; });

    std::vector<std::string_view> contents;
    contents.reserve(n);
    for (const auto& c : z.contents) contents.push_back(z.store.text_of(c));
    z.order = canonical_order(contents, edges);
    z.ref.resize(n);
    for (std::size_t r = 0; r < n; ++r) z.ref[z.order[r]] = "t" + std::to_string(r + 1);
    z.ref_json.resize(n);
    for (std::size_t i = 0; i < n; ++i) append_json_string(z.ref_json[i], z.ref[i]);

    // Linkages in the order of their normalized text.
    std::vector<std::pair<std::size_t, std::size_t>> spans;  // of link_text
    spans.reserve(z.links.size());
    std::vector<added_member> ends;
    for (std::size_t k = 0; k < z.links.size(); ++k) {
        const auto& l = z.links[k];
        ends.clear();
        if (l.has_source) put(ends, linkage_source, z.ref_text(l.source));
        if (l.has_target) put(ends, linkage_target, z.ref_text(l.target));
        std::size_t begin = z.link_text.size();
        append_with(z.link_text, z.store, l.rest, ends);
        spans.emplace_back(begin, z.link_text.size());
    }
    // Sorted as the (text, index) pairs they are: by the radix quicksort of the task contents
    // (linkage texts share long prefixes), equal texts then by index.
    std::vector<std::string_view> link_texts;
    link_texts.reserve(spans.size());
    for (const auto& [begin, end] : spans) link_texts.push_back(std::string_view(z.link_text).substr(begin, end - begin));
    std::vector<std::size_t> link_order(spans.size());
    std::iota(link_order.begin(), link_order.end(), std::size_t{0});
    sort_texts(link_order.data(), link_order.size(), link_texts, 0, 64);
    for (std::size_t a = 0; a < link_order.size();) {
        std::size_t b = a + 1;
        while (b < link_order.size() && link_texts[link_order[b]] == link_texts[link_order[a]]) ++b;
        if (b - a > 1) std::sort(link_order.begin() + static_cast<std::ptrdiff_t>(a), link_order.begin() + static_cast<std::ptrdiff_t>(b));
        a = b;
    }
    z.sorted_links.reserve(z.links.size());
    for (std::size_t k : link_order) z.sorted_links.emplace_back(link_texts[k], k);
    return z;
}

/// Appends the canonical JSON of the normalized export `z`.
void write_canonical(const zuora_parts& z, std::string& out)
{
    // Top-level members: the export's own (minus tenant-local ones), workflow, tasks, linkages.
    std::vector<std::pair<std::string_view, const json::value*>> top;
    for (const auto& kv : *z.doc)
        if (!is_tenant_local(kv.key()) && kv.key() != "workflow" && kv.key() != "tasks" && kv.key() != "linkages")
            top.emplace_back(kv.key(), &kv.value());
    for (std::string_view special : {"workflow", "tasks", "linkages"}) top.emplace_back(special, nullptr);
    std::sort(top.begin(), top.end(), [](const auto& a, const auto& b) { return a.first < b.first; });

    std::vector<added_member> added;
    char sep = '{';
    for (const auto& [key, value] : top) {
        out += sep;
        sep = ',';
        append_json_string(out, key);
        out += ':';
        if (value) {
            append_canonical_json(out, *value);
        } else if (key == "workflow") {
            canonical_store wf;
            wf.add(*z.workflow, [](const json::key_value_pair& kv) { return !is_tenant_local(kv.key()); });
            out += wf.text;
        } else if (key == "tasks") {
            out += '[';
            for (std::size_t r = 0; r < z.order.size(); ++r) {
                const std::size_t i = z.order[r];
                if (r) out += ',';
                added.clear();
                put(added, ref_member, z.ref_text(static_cast<std::int64_t>(i)));
                for (auto [m, j] : z.ref_links[i]) put(added, task_ref_members[m], z.ref_text(static_cast<std::int64_t>(j)));
                append_with(out, z.store, z.contents[i], added);
            }
            out += ']';
        } else {
            out += '[';
            for (std::size_t k = 0; k < z.sorted_links.size(); ++k) {
                if (k) out += ',';
                out += z.sorted_links[k].first;
            }
            out += ']';
        }
    }
    out += '}';
}

/// Canonical JSON of the normalized Zuora export `json_text` (the text of
/// canonical_json(normalize_zuora_export(...)), written without building that document).
result<std::string> canonical_zuora_export(std::string_view json_text, std::string_view what, json::storage_ptr sp)
{
    auto parsed = parse_json_at(json_text, what, std::move(sp));
    if (!parsed) return parsed.error();
    auto parts = take_apart(*parsed, json_text.size(), what);
    if (!parts) return parts.error();
    std::string out;
    out.reserve(json_text.size());
    write_canonical(*parts, out);
    return out;
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
    auto parts = take_apart(*parsed, json_text.size(), what);
    if (!parts) return parts.error();
    const auto& z = *parts;

    json::array out_tasks;
    out_tasks.reserve(z.order.size());
    for (std::size_t i : z.order) {
        json::object t = strip((*z.tasks)[i].get_object());
        for (auto m : task_ref_members) t.erase(m);
        t.erase(ref_member);
        t[ref_member] = z.ref[i];
        for (auto [m, j] : z.ref_links[i]) t[task_ref_members[m]] = z.ref[j];
        out_tasks.emplace_back(std::move(t));
    }
    auto ref_value = [&](std::int64_t i) -> json::value {
        if (i < 0) return nullptr;
        return json::string(z.ref[static_cast<std::size_t>(i)]);
    };
    json::array linkage_array;
    linkage_array.reserve(z.sorted_links.size());
    for (const auto& [text, k] : z.sorted_links) {
        const auto& l = z.links[k];
        json::object o = strip((*z.linkages)[k].get_object(), {linkage_source, linkage_target});
        if (l.has_source) o[linkage_source] = ref_value(l.source);
        if (l.has_target) o[linkage_target] = ref_value(l.target);
        linkage_array.emplace_back(std::move(o));
    }

    // Other top-level members are kept (minus tenant-local ones), so nothing unknown is lost.
    json::object out = strip(*z.doc, {"workflow", "tasks", "linkages"});
    out["workflow"] = strip(*z.workflow);
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

    std::map<std::string, detail::json_file> docs;  // JSON files of Kore.ai and SecMaster packages
    std::map<std::string, std::string> texts;  // ...as canonical JSON
    if (local) {
        for (const auto& [name, bytes] : named) {
            if (!name.ends_with(".json")) continue;
            auto v = parse_json_at(*bytes, what_of(name), sp);
            if (!v) return v.error();
            docs.emplace(name, detail::json_file{std::move(*v), bytes->size()});
        }
        texts = detail::canonical_without_tenant_local(docs, *local);
    }

    normalized_package out;
    sha256 hash;
    for (const auto& [name, bytes] : named) {  // std::map: already in name order
        normalized_file f{name, {}, false};
        if (zuora && name == "workflow.json") {
            auto c = canonical_zuora_export(*bytes, what_of(name), sp);
            if (!c) return c.error();
            f.canonical = std::move(*c);
            f.json = true;
        } else if (auto t = texts.find(name); t != texts.end()) {
            f.canonical = std::move(t->second);
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
