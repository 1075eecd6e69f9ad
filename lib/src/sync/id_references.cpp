// SPDX-License-Identifier: Apache-2.0
#include "id_references.hpp"

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
    if (name.find_first_of("~/") == std::string_view::npos) {
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

/// Hashes and compares std::string keys by their text, so that a look-up by a string_view
/// (a member name, a string value) builds no std::string.
struct text_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};
struct text_equal {
    using is_transparent = void;
    bool operator()(std::string_view a, std::string_view b) const noexcept { return a == b; }
};

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
        // Members in byte order of their names.
        auto& members = scratch_at(depth).members;
        members.clear();
        for (const auto& kv : v.get_object()) members.push_back(&kv);
        std::sort(members.begin(), members.end(), [](const auto* a, const auto* b) { return a->key() < b->key(); });
        for (const auto* kv : members) {
            std::string_view key = kv->key();
            const json::value& value = kv->value();
            const auto kind = info(key).kind;
            if (dropped(kind, level, value)) continue;
            const bool names_id = kind & id_key;
            if (!names_id && !value.is_array() && !value.is_object()) continue;
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
        // A filter in front of that look-up: one bit per identifier's first bytes, so that most
        // positions of a text cost a load, a multiply and a bit test, not a hash-map probe.
        std::size_t bits = 1 << 12;
        while (bits < 16 * by_prefix_.size() && bits < (std::size_t{1} << 22)) bits <<= 1;
        filter_.assign(bits / 64, 0);
        filter_shift_ = 64 - static_cast<unsigned>(std::countr_zero(bits));
        for (const auto& [prefix, entries] : by_prefix_) {
            auto i = filter_index(word_at(prefix.data(), f_.embedded_id_min));
            filter_[i >> 6] |= std::uint64_t{1} << (i & 63);
        }
    }

    /// Rewrites `v` in place: tenant-local members dropped, identifiers replaced by their
    /// references. The result holds the same members as a rewritten copy would; only their
    /// order within an object may differ, which canonical JSON does not keep.
    void rewrite(json::value& v, int level, bool id_member, bool reference_member, std::size_t depth = 0)
    {
        if (v.is_array()) {
            for (auto& e : v.get_array()) rewrite(e, 2, id_member, reference_member, depth + 1);
            return;
        }
        if (v.is_object()) {
            rewrite_object(v.get_object(), level, depth);
            return;
        }
        if (v.is_string()) {
            std::string_view s = v.get_string();
            if (const auto* ref = name_of(s); ref && (id_member || reference_member || looks_like_id(s))) {
                v.get_string() = *ref;
                return;
            }
            if (!by_prefix_.empty() && s.size() > f_.embedded_id_min) {
                std::string replaced;
                if (replace_embedded(s, replaced)) v.get_string() = replaced;
            }
            return;
        }
        if ((id_member || reference_member) && (v.is_int64() || v.is_uint64())) {
            digits buf;
            if (const auto* ref = name_of(id_text(v, buf))) v.emplace_string() = *ref;
        }
    }

private:
    struct scratch {
        std::vector<const json::key_value_pair*> members;  // collect: an object's members, sorted
        std::vector<key_info> infos;                       // rewrite: an object's members' infos
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
    key_info info(std::string_view key, bool with_renamed = false)
    {
        auto it = infos_.find(key);
        if (it == infos_.end()) {
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
            it = infos_.emplace(std::string(key), k).first;
        }
        if (with_renamed && it->second.renamed < 0) it->second.renamed = looks_like_id(key) && name_of(key);
        return it->second;
    }

    static int next_level(int level, std::uint8_t kind) { return level == 0 && (kind & top_level_container) ? 1 : 2; }

    static bool dropped(std::uint8_t kind, int level, const json::value& v)
    {
        if (kind & dropped_anywhere) return true;
        if (level <= 1 && (kind & dropped_on_top)) return true;
        return (kind & version_member) && is_scalar(v);
    }

    /// The reference of identifier `s`, or nullptr.
    const std::string* name_of(std::string_view s) const
    {
        // Most strings are no identifier: their length tells without a hash.
        if (s.empty() || s.size() > longest_name_) return nullptr;
        if (s.size() < 256 && !(name_lengths_[s.size() >> 6] & (std::uint64_t{1} << (s.size() & 63)))) return nullptr;
        auto it = names_.find(s);
        return it == names_.end() ? nullptr : &it->second;
    }

    std::size_t filter_index(std::uint64_t word) const { return (word * 0x9e3779b97f4a7c15ULL) >> filter_shift_; }

    /// The long identifier starting at `pos` of `s` (the longest of those that do), or nullptr.
    const std::pair<std::string, std::string>* embedded_at(std::string_view s, std::size_t pos) const
    {
        auto it = by_prefix_.find(s.substr(pos, f_.embedded_id_min));
        if (it == by_prefix_.end()) return nullptr;
        for (const auto* e : it->second)
            if (s.compare(pos, e->first.size(), e->first) == 0) return e;
        return nullptr;
    }

    /// `s` with every long identifier inside it replaced by its reference, scanning left to
    /// right and taking the longest identifier at each position; false (and `out` untouched)
    /// when there is none.
    bool replace_embedded(std::string_view s, std::string& out) const
    {
        const std::size_t k = f_.embedded_id_min;
        const std::uint64_t* filter = filter_.data();
        std::size_t copied = 0;
        for (std::size_t pos = 0; pos + k <= s.size();) {
            auto i = filter_index(word_at(s.data() + pos, k));
            if (!(filter[i >> 6] & (std::uint64_t{1} << (i & 63)))) {
                ++pos;
                continue;
            }
            const auto* hit = embedded_at(s, pos);
            if (!hit) {
                ++pos;
                continue;
            }
            out.append(s.data() + copied, pos - copied);
            out += hit->second;
            pos += hit->first.size();
            copied = pos;
        }
        if (copied == 0) return false;
        out.append(s.data() + copied, s.size() - copied);
        return true;
    }

    void rewrite_member(std::uint8_t kind, json::value& value, int level, std::size_t depth)
    {
        if ((kind & version_member) && value.is_object()) {
            auto& inner = value.get_object();
            // erase() fills the gap with another member, which is looked at in its turn.
            for (auto it = inner.begin(); it != inner.end();) {
                if (info(it->key()).kind & version_object_member) it = inner.erase(it);
                else ++it;
            }
            rewrite(value, next_level(level, kind), false, false, depth + 1);
        } else {
            rewrite(value, next_level(level, kind), kind & id_key, kind & reference_name, depth + 1);
        }
    }

    void rewrite_object(json::object& obj, int level, std::size_t depth)
    {
        auto& infos = scratch_at(depth).infos;
        infos.clear();
        bool renames = false, drops = false;
        for (const auto& kv : obj) {
            infos.push_back(info(kv.key(), true));
            renames = renames || infos.back().renamed > 0;
            drops = drops || dropped(infos.back().kind, level, kv.value());
        }
        if (!renames) {
            // Only values change: in place, then the dropped members go.
            std::size_t i = 0;
            for (auto& kv : obj) {
                const auto kind = infos[i++].kind;
                if (!dropped(kind, level, kv.value())) rewrite_member(kind, kv.value(), level, depth);
            }
            if (drops) {
                for (auto it = obj.begin(); it != obj.end();) {
                    if (dropped(info(it->key()).kind, level, it->value())) it = obj.erase(it);
                    else ++it;
                }
            }
            return;
        }
        // An object keyed by identifiers (a map of nodes) gets the references as keys: built
        // anew in member order, a later member of the same name replacing an earlier one.
        json::object out(obj.storage());
        out.reserve(obj.size());
        std::size_t i = 0;
        for (auto& kv : obj) {
            const auto ki = infos[i++];
            if (dropped(ki.kind, level, kv.value())) continue;
            rewrite_member(ki.kind, kv.value(), level, depth);
            std::string_view key = kv.key();
            const std::string* ref = ki.renamed > 0 ? name_of(key) : nullptr;
            out[ref ? std::string_view(*ref) : key] = std::move(kv.value());
        }
        obj = std::move(out);
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
        digits buf;
        auto text = id_text(v, buf);
        if (!text.empty() && names_.find(text) == names_.end()) names_.emplace(std::string(text), "@" + path);
    }

    const connector::tenant_local_fields& f_;
    boost::unordered_flat_map<std::string, std::string, text_hash, text_equal> names_;  // identifier -> reference
    std::size_t longest_name_ = 0;
    std::array<std::uint64_t, 4> name_lengths_{};  // lengths (< 256) of identifiers, as bits
    std::vector<std::pair<std::string, std::string>> embedded_;  // long identifiers
    boost::unordered_flat_map<std::string_view, std::vector<const std::pair<std::string, std::string>*>, text_hash,
                              text_equal>
        by_prefix_;
    std::vector<std::uint64_t> filter_;  // a bit per first bytes of by_prefix_'s keys
    unsigned filter_shift_ = 64;
    boost::unordered_flat_map<std::string, key_info, text_hash, text_equal> infos_;  // see info()
    std::deque<scratch> scratch_;
};

}  // namespace

void replace_tenant_local(std::map<std::string, json::value>& docs, const connector::tenant_local_fields& fields)
{
    rewriter r(fields);
    std::string path;
    for (const auto& [name, doc] : docs) {
        path.clear();
        append_segment(path, name);
        r.collect(doc, path, 0);
    }
    r.finish_names();
    for (auto& [name, doc] : docs) r.rewrite(doc, 0, false, false);
}

}  // namespace wfsync::sync::detail
