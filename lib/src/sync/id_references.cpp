// SPDX-License-Identifier: Apache-2.0
#include "id_references.hpp"
#include "text_hash.hpp"

#include <wfsync/core/json.hpp>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/string.hpp>
#include <boost/unordered/unordered_flat_map.hpp>

#include <algorithm>
#include <array>
#include <bit>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <deque>
#include <functional>
#include <memory_resource>
#include <vector>

namespace wfsync::sync::detail {
namespace json = boost::json;

namespace {

bool contains(const std::vector<std::string_view>& list, std::string_view s)
{
    return std::find(list.begin(), list.end(), s) != list.end();
}

bool is_scalar(const json::value& v) { return v.is_string() || v.is_number() || v.is_bool() || v.is_null(); }

/// Room for the digits of any 64-bit integer.
using digits = std::array<char, 24>;

/// An identifier as text (849 and "849" name the same thing); empty for anything else. An
/// integer is written into `buf`.
std::string_view id_text(const json::value& v, digits& buf)
{
    if (v.is_string()) return v.get_string();
    std::to_chars_result r{};
    if (v.is_int64()) r = std::to_chars(buf.data(), buf.data() + buf.size(), v.get_int64());
    else if (v.is_uint64()) r = std::to_chars(buf.data(), buf.data() + buf.size(), v.get_uint64());
    else return {};
    return {buf.data(), static_cast<std::size_t>(r.ptr - buf.data())};
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
    // Names are short: a plain loop, not find_first_of's search for each of the two bytes.
    bool plain = true;
    for (char c : name) plain &= c != '~' && c != '/';
    if (plain) {
        path += name;
        return;
    }
    for (char c : name) {
        if (c == '~') path += "~0";
        else if (c == '/') path += "~1";
        else path += c;
    }
}

void append_index(std::string& path, std::size_t i)
{
    digits buf;
    auto r = std::to_chars(buf.data(), buf.data() + buf.size(), i);
    path += '/';
    path.append(buf.data(), r.ptr);
}


/// The first `n` (at most 8) bytes at `p` as one word: what the filter of long identifiers
/// is keyed by.
std::uint64_t word_at(const char* p, std::size_t n)
{
    std::uint64_t w = 0;
    if (n >= 8) std::memcpy(&w, p, 8);
    else std::memcpy(&w, p, n);
    return w;
}

/// What the field lists say about a member name, as bits.
enum key_kind : std::uint8_t {
    dropped_anywhere = 1,
    dropped_on_top = 2,
    version_member = 4,
    version_object_member = 8,
    reference_name = 16,
    top_level_container = 32,
    id_key = 64,
};

/// A member name's kinds, and whether the name is itself an identifier of the package (an
/// object keyed by node ids), which is known once all identifiers are: -1 until then.
struct key_info {
    std::uint8_t kind = 0;
    std::int8_t renamed = -1;
};

/// Byte order of names (std::string_view's operator<), decided on the first byte where it can.
bool key_less(std::string_view a, std::string_view b)
{
    if (!a.empty() && !b.empty() && a[0] != b[0]) return static_cast<unsigned char>(a[0]) < static_cast<unsigned char>(b[0]);
    return a < b;
}

/// An identifier and its reference, both in the rewriter's arena.
struct named_id {
    std::string_view id, ref;
};

class rewriter {
public:
    explicit rewriter(const connector::tenant_local_fields& f) : f_(f) {}

    /// `level`: 0 for a file's own members, 1 inside one of its top-level containers, 2 deeper.
    void collect(const json::value& v, std::string& path, int level, std::size_t depth = 0)
    {
        if (v.is_array()) {
            std::size_t i = 0;
            for (const auto& e : v.get_array()) {
                // Scalars hold nothing to collect: no path needed.
                if (e.is_array() || e.is_object()) {
                    auto len = path.size();
                    append_index(path, i);
                    collect(e, path, 2, depth + 1);
                    path.resize(len);
                }
                ++i;
            }
            return;
        }
        if (!v.is_object()) return;
        // The members that name ids or hold more, in byte order of their names (the others
        // add nothing here).
        auto& members = scratch_at(depth).members;
        members.clear();
        for (const auto& kv : v.get_object()) {
            const auto kind = info(kv.key()).kind;
            if (dropped(kind, level, kv.value())) continue;
            if ((kind & id_key) || kv.value().is_array() || kv.value().is_object()) members.push_back(&kv);
        }
        std::sort(members.begin(), members.end(), [](const auto* a, const auto* b) { return key_less(a->key(), b->key()); });
        for (const auto* kv : members) {
            std::string_view key = kv->key();
            const json::value& value = kv->value();
            const auto kind = info(key).kind;
            const bool names_id = kind & id_key;
            auto len = path.size();
            append_segment(path, key);
            if (names_id) name_ids(value, path);
            collect(value, path, next_level(level, kind), depth + 1);
            path.resize(len);
        }
    }

    void finish_names()
    {
        for (const auto& [id, ref] : names_) {
            longest_name_ = std::max(longest_name_, id.size());
            if (id.size() < 256) name_lengths_[id.size() >> 6] |= std::uint64_t{1} << (id.size() & 63);
        }
        const std::size_t k = f_.embedded_id_min;
        if (k == 0) return;
        // Grouped by their first k characters (one look-up per position of a string, not one
        // search per identifier), and in each group longest first, so that an id containing
        // another is replaced whole. The first 16 characters as two big-endian words order
        // as the text does, without a call to memcmp for each comparison.
        struct sortable {
            std::uint64_t high, low;
            named_id named;
        };
        auto big_endian = [](std::string_view s) {
            std::uint64_t w = 0;
            for (std::size_t i = 0; i < 8; ++i) w = (w << 8) | (i < s.size() ? static_cast<unsigned char>(s[i]) : 0u);
            return w;
        };
        std::vector<sortable> order;
        order.reserve(names_.size());
        for (const auto& [id, ref] : names_) {
            if (id.size() < k) continue;
            auto prefix = id.substr(0, std::min<std::size_t>(k, 16));
            order.push_back({big_endian(prefix), big_endian(prefix.size() > 8 ? prefix.substr(8) : std::string_view()),
                             {id, ref}});
        }
        std::sort(order.begin(), order.end(), [k](const sortable& a, const sortable& b) {
            if (a.high != b.high) return a.high < b.high;
            if (a.low != b.low) return a.low < b.low;
            if (k > 16)
                if (auto c = a.named.id.substr(0, k).compare(b.named.id.substr(0, k)); c != 0) return c < 0;
            return a.named.id.size() != b.named.id.size() ? a.named.id.size() > b.named.id.size() : a.named.id < b.named.id;
        });
        embedded_.reserve(order.size());
        for (const auto& o : order) embedded_.push_back(o.named);
        for (std::size_t i = 0; i < embedded_.size();) {
            std::size_t j = i + 1;
            while (j < embedded_.size() && embedded_[j].id.substr(0, k) == embedded_[i].id.substr(0, k)) ++j;
            by_prefix_.emplace(embedded_[i].id.substr(0, k), std::pair{i, j});
            i = j;
        }
        // A filter in front of that look-up. With identifiers of k >= 8 characters, a text is
        // probed only every `stride_` = min(k - 7, 8) bytes: each identifier there covers one
        // probed position, at an offset below the stride, where its 8 bytes at that offset
        // start. The filter holds, per hash of 8 bytes, a bit for each offset at which some
        // identifier has them; a probe costs a load, a multiply and a table look-up. Shorter
        // identifiers: every position, offset 0 only.
        stride_ = k >= 8 ? std::min<std::size_t>(k - 7, 8) : 1;
        std::size_t entries = by_prefix_.size() * stride_;
        std::size_t size = 1 << 12;
        while (size < 8 * entries && size < (std::size_t{1} << 20)) size <<= 1;
        filter_.assign(size, 0);
        filter_shift_ = 64 - static_cast<unsigned>(std::countr_zero(size));
        for (const auto& [prefix, range] : by_prefix_)
            for (std::size_t j = 0; j < stride_; ++j)
                filter_[filter_index(word_at(prefix.data() + j, k - j))] |= static_cast<std::uint8_t>(1u << j);
    }

    /// Appends the canonical JSON of `v` with its tenant-local members dropped and identifiers
    /// replaced by their references: the text a rewritten copy of `v` would give, written
    /// without making that copy.
    void write(const json::value& v, std::string& out, int level, bool id_member, bool reference_member,
               std::size_t depth = 0)
    {
        switch (v.kind()) {
        case json::kind::array: {
            char sep = '[';
            for (const auto& e : v.get_array()) {
                out += sep;
                sep = ',';
                write(e, out, 2, id_member, reference_member, depth + 1);
            }
            if (sep == '[') out += '[';
            out += ']';
            return;
        }
        case json::kind::object: write_object(v.get_object(), out, level, false, depth); return;
        case json::kind::string: write_string(v.get_string(), out, id_member, reference_member); return;
        case json::kind::int64:
        case json::kind::uint64:
            if (id_member || reference_member) {
                digits buf;
                if (const auto* ref = name_of(id_text(v, buf))) {
                    append_json_string(out, *ref);
                    return;
                }
            }
            append_canonical_json(out, v);
            return;
        default: append_canonical_json(out, v); return;
        }
    }

private:
    /// A member as written: its name (a reference where the name is an identifier).
    struct entry {
        std::string_view key;
        const json::value* value;
        std::uint8_t kind;
        std::uint32_t name_text;  ///< index in name_texts_ of "key": as written, or no_name_text
    };
    static constexpr std::uint32_t no_name_text = ~0u;

    struct scratch {
        std::vector<const json::key_value_pair*> members;  // collect: an object's members, sorted
        std::vector<entry> entries;                        // write: an object's members, sorted
    };

    /// Reusable lists for the object at `depth` (a deque: growing it for deeper levels leaves
    /// the lists of the levels above in place).
    scratch& scratch_at(std::size_t depth)
    {
        if (scratch_.size() <= depth) scratch_.resize(depth + 1);
        return scratch_[depth];
    }

    /// What the field lists say about member name `key`, worked out once per distinct name
    /// (a document repeats the same few names many times); `renamed` once names are final.
    key_info info(std::string_view key) { return info_values_[info_index(key)]; }

    /// info() of `key`, found at `index` by info_index, with `renamed` (names final).
    key_info info(std::string_view key, std::uint32_t index)
    {
        key_info& k = info_values_[index];
        if (k.renamed < 0) k.renamed = looks_like_id(key) && name_of(key);
        return k;
    }

    /// Where info_values_ holds the kinds of name `key`. Names of up to 16 bytes are looked up
    /// first in a small direct-mapped cache, keyed by their length and bytes as two words
    /// (which tell such a name exactly), without hashing it and reading the map's copy.
    std::uint32_t info_index(std::string_view key)
    {
        return info_cache_.get(key, [this](std::string_view k) { return info_lookup(k); });
    }

    std::uint32_t info_lookup(std::string_view key)
    {
        auto it = infos_.find(key);
        if (it != infos_.end()) return it->second;
        key_info k;
        if (contains(f_.dropped, key)) k.kind |= dropped_anywhere;
        if (contains(f_.dropped_top_level, key)) k.kind |= dropped_on_top;
        if (contains(f_.version_members, key)) k.kind |= version_member;
        if (contains(f_.version_object_members, key)) k.kind |= version_object_member;
        if (contains(f_.reference_names, key)) k.kind |= reference_name;
        if (contains(f_.top_level_containers, key)) k.kind |= top_level_container;
        if (contains(f_.id_names, key)) k.kind |= id_key;
        for (auto suffix : f_.id_suffixes)
            if (key.size() > suffix.size() && key.ends_with(suffix)) k.kind |= id_key;
        const auto index = static_cast<std::uint32_t>(info_values_.size());
        info_values_.push_back(k);
        std::string text;  // "key": as written, once per distinct name
        append_json_string(text, key);
        text += ':';
        name_texts_.push_back(std::move(text));
        infos_.emplace(std::string(key), index);
        return index;
    }

    static int next_level(int level, std::uint8_t kind) { return level == 0 && (kind & top_level_container) ? 1 : 2; }

    static bool dropped(std::uint8_t kind, int level, const json::value& v)
    {
        if (kind & dropped_anywhere) return true;
        if (level <= 1 && (kind & dropped_on_top)) return true;
        return (kind & version_member) && is_scalar(v);
    }

    /// The reference of identifier `s`, or nullptr.
    const std::string_view* name_of(std::string_view s) const
    {
        // Most strings are no identifier: their length tells without a hash.
        if (s.empty() || s.size() > longest_name_) return nullptr;
        if (s.size() < 256 && !(name_lengths_[s.size() >> 6] & (std::uint64_t{1} << (s.size() & 63)))) return nullptr;
        auto it = names_.find(s);
        return it == names_.end() ? nullptr : &it->second;
    }

    std::size_t filter_index(std::uint64_t word) const { return (word * 0x9e3779b97f4a7c15ULL) >> filter_shift_; }

    /// The long identifier starting at `pos` of `s` (the longest of those that do), or nullptr.
    const named_id* embedded_at(std::string_view s, std::size_t pos) const
    {
        auto it = by_prefix_.find(s.substr(pos, f_.embedded_id_min));
        if (it == by_prefix_.end()) return nullptr;
        for (std::size_t i = it->second.first; i < it->second.second; ++i)
            if (s.compare(pos, embedded_[i].id.size(), embedded_[i].id) == 0) return &embedded_[i];
        return nullptr;
    }

    /// `s` with every long identifier inside it replaced by its reference, scanning left to
    /// right and taking the longest identifier at each position; false (and `out` untouched)
    /// when there is none.
    bool replace_embedded(std::string_view s, std::string& out) const
    {
        const std::size_t k = f_.embedded_id_min;
        const std::size_t stride = stride_;
        const std::size_t window = std::min<std::size_t>(k, 8);
        std::size_t copied = 0;  // of s, into out
        std::size_t pos = 0;     // where the next identifier may start
        // Probed positions q: multiples of the stride. An identifier starting at p is seen at
        // q = p rounded up to the stride, offset q - p; the candidates of one probe, q - stride
        // + 1 .. q, are taken in order, so the first identifier found is the leftmost.
        for (std::size_t q = 0; q + window <= s.size(); q += stride) {
            const std::uint8_t offsets = filter_[filter_index(word_at(s.data() + q, window))];
            if (!offsets) continue;
            for (std::size_t j = stride; j-- > 0;) {
                if (!(offsets & (1u << j)) || j > q) continue;
                const std::size_t p = q - j;
                if (p < pos || p + k > s.size()) continue;
                const auto* hit = embedded_at(s, p);
                if (!hit) continue;
                out.append(s.data() + copied, p - copied);
                out += hit->ref;
                pos = p + hit->id.size();
                copied = pos;
                // Go on from the first probe whose candidates reach pos.
                q = (pos + stride - 1) / stride * stride - stride;
                break;
            }
        }
        if (copied == 0) return false;
        out.append(s.data() + copied, s.size() - copied);
        return true;
    }

    void write_string(std::string_view s, std::string& out, bool id_member, bool reference_member)
    {
        if (const auto* ref = name_of(s); ref && (id_member || reference_member || looks_like_id(s))) {
            append_json_string(out, *ref);
            return;
        }
        if (!by_prefix_.empty() && s.size() > f_.embedded_id_min) {
            replaced_.clear();
            if (replace_embedded(s, replaced_)) {
                append_json_string(out, replaced_);
                return;
            }
        }
        append_json_string(out, s);
    }

    /// `version_object`: the object a version member holds, whose version_object_members go.
    void write_object(const json::object& obj, std::string& out, int level, bool version_object, std::size_t depth)
    {
        auto& entries = scratch_at(depth).entries;
        entries.clear();
        bool renames = false;
        for (const auto& kv : obj) {
            const std::uint32_t index = info_index(kv.key());
            const auto ki = info(kv.key(), index);
            if (version_object && (ki.kind & version_object_member)) continue;
            if (dropped(ki.kind, level, kv.value())) continue;
            std::string_view key = kv.key();
            std::uint32_t name_text = index;
            if (ki.renamed > 0) {
                // An object keyed by identifiers (a map of nodes) gets the references as keys.
                key = *name_of(key);
                name_text = no_name_text;
                renames = true;
            }
            entries.push_back({key, &kv.value(), ki.kind, name_text});
        }
        if (!renames) {
            std::sort(entries.begin(), entries.end(), [](const entry& a, const entry& b) { return key_less(a.key, b.key); });
        } else {
            // Names may repeat now: the later member of a name replaces the earlier one, as
            // assigning them in member order would.
            std::stable_sort(entries.begin(), entries.end(),
                             [](const entry& a, const entry& b) { return key_less(a.key, b.key); });
            std::size_t kept = 0;
            for (std::size_t i = 0; i < entries.size(); ++i) {
                if (i + 1 < entries.size() && entries[i + 1].key == entries[i].key) continue;
                entries[kept++] = entries[i];
            }
            entries.resize(kept);
        }
        // entries may move while deeper objects are written: by index.
        const std::size_t n = entries.size();
        out += '{';
        for (std::size_t i = 0; i < n; ++i) {
            const entry e = scratch_[depth].entries[i];
            if (i) out += ',';
            if (e.name_text != no_name_text) {
                out += name_texts_[e.name_text];
            } else {
                append_json_string(out, e.key);
                out += ':';
            }
            const int inner = next_level(level, e.kind);
            if ((e.kind & version_member) && e.value->is_object())
                write_object(e.value->get_object(), out, inner, true, depth + 1);
            else
                write(*e.value, out, inner, e.kind & id_key, e.kind & reference_name, depth + 1);
        }
        out += '}';
    }

    void name_ids(const json::value& v, std::string& path)
    {
        if (v.is_array()) {
            std::size_t i = 0;
            for (const auto& e : v.get_array()) {
                if (is_scalar(e)) {
                    auto len = path.size();
                    append_index(path, i);
                    name_ids(e, path);
                    path.resize(len);
                }
                ++i;
            }
            return;
        }
        // A string identifier stays where it is (the documents outlive this rewriter); the
        // digits of an integer are kept in the arena.
        digits buf;
        auto text = id_text(v, buf);
        if (text.empty()) return;
        if (!v.is_string()) {
            if (names_.contains(text)) return;
            text = keep(text);
        }
        if (auto [it, inserted] = names_.try_emplace(text); inserted) it->second = keep_ref(path);
    }

    /// `s`, copied into the arena.
    std::string_view keep(std::string_view s)
    {
        char* p = static_cast<char*>(text_.allocate(s.size(), 1));
        std::memcpy(p, s.data(), s.size());
        return {p, s.size()};
    }

    /// "@" + `path`, in the arena.
    std::string_view keep_ref(std::string_view path)
    {
        char* p = static_cast<char*>(text_.allocate(path.size() + 1, 1));
        p[0] = '@';
        std::memcpy(p + 1, path.data(), path.size());
        return {p, path.size() + 1};
    }

    const connector::tenant_local_fields& f_;
    std::pmr::monotonic_buffer_resource text_;  // references and integer ids' digits, freed at once
    boost::unordered_flat_map<std::string_view, std::string_view, text_hash, text_equal> names_;  // id -> reference
    std::size_t longest_name_ = 0;
    std::array<std::uint64_t, 4> name_lengths_{};  // lengths (< 256) of identifiers, as bits
    std::vector<named_id> embedded_;               // long identifiers, see finish_names
    // first embedded_id_min characters -> [begin, end) of embedded_
    boost::unordered_flat_map<std::string_view, std::pair<std::size_t, std::size_t>, text_hash, text_equal> by_prefix_;
    std::vector<std::uint8_t> filter_;  // per hash of 8 bytes: the offsets they start at, see finish_names
    unsigned filter_shift_ = 64;
    std::size_t stride_ = 1;
    // See info(): each distinct name's kinds, by index; the index by name; a cache in front.
    std::vector<key_info> info_values_;
    std::vector<std::string> name_texts_;  // each distinct name as written before its value
    boost::unordered_flat_map<std::string, std::uint32_t, text_hash, text_equal> infos_;
    short_text_cache<8> info_cache_;
    std::deque<scratch> scratch_;
    std::string replaced_;  // write_string's buffer
};

}  // namespace

std::map<std::string, std::string> canonical_without_tenant_local(const std::map<std::string, json_file>& docs,
                                                                  const connector::tenant_local_fields& fields)
{
    rewriter r(fields);
    std::string path;
    for (const auto& [name, file] : docs) {
        path.clear();
        append_segment(path, name);
        r.collect(file.doc, path, 0);
    }
    r.finish_names();
    std::map<std::string, std::string> out;
    for (const auto& [name, file] : docs) {
        std::string text;
        // References are mostly longer than the identifiers they replace.
        text.reserve(file.text_size + file.text_size / 4);
        r.write(file.doc, text, 0, false, false);
        out.emplace(name, std::move(text));
    }
    return out;
}

}  // namespace wfsync::sync::detail
