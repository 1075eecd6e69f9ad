// SPDX-License-Identifier: Apache-2.0
// A minimal, strict parser of the Prometheus text exposition format 0.0.4, for tests: it
// checks the line grammar, HELP/TYPE placement, label escaping, sample values, that a family's
// samples are contiguous, and histogram consistency (cumulative buckets, +Inf == _count).
#pragma once

#include <cmath>
#include <cstdlib>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace wfsync::test {

struct prom_sample {
    std::string name;
    std::vector<std::pair<std::string, std::string>> labels;  ///< unescaped values
    double value = 0;
    /// `name{a="x",b="y"}` with labels in the order given, values unescaped.
    std::string key() const
    {
        std::string k = name;
        if (labels.empty()) return k;
        k += '{';
        for (std::size_t i = 0; i < labels.size(); ++i) {
            if (i) k += ',';
            k += labels[i].first + "=" + labels[i].second;
        }
        return k + '}';
    }
};

struct prom_doc {
    std::map<std::string, std::string> types;  ///< family -> type
    std::map<std::string, std::string> help;
    std::vector<prom_sample> samples;
    std::string error;  ///< empty when valid: "line N: what"

    /// Value of the sample whose key() is `key`; nullopt if absent.
    std::optional<double> get(const std::string& key) const
    {
        for (const auto& s : samples)
            if (s.key() == key) return s.value;
        return std::nullopt;
    }
};

namespace detail {

inline bool name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':'; }
inline bool name_char(char c) { return name_start(c) || (c >= '0' && c <= '9'); }

inline bool parse_name(std::string_view& s, std::string& out, bool label)
{
    if (s.empty() || !name_start(s[0]) || (label && s[0] == ':')) return false;
    std::size_t i = 1;
    while (i < s.size() && name_char(s[i]) && !(label && s[i] == ':')) ++i;
    out = std::string(s.substr(0, i));
    s.remove_prefix(i);
    return true;
}

inline bool parse_value(std::string_view t, double& v)
{
    if (t == "+Inf" || t == "Inf") { v = INFINITY; return true; }
    if (t == "-Inf") { v = -INFINITY; return true; }
    if (t == "NaN") { v = NAN; return true; }
    if (t.empty()) return false;
    std::string tmp(t);
    char* end = nullptr;
    v = std::strtod(tmp.c_str(), &end);
    return end == tmp.c_str() + tmp.size() && tmp.find_first_of("iInN") == std::string::npos;
}

/// The family a sample belongs to (histogram suffixes stripped when that family is declared).
inline std::string family_of(const std::string& name, const std::map<std::string, std::string>& types)
{
    for (std::string_view suf : {"_bucket", "_sum", "_count"}) {
        if (name.size() > suf.size() && name.ends_with(suf)) {
            std::string base = name.substr(0, name.size() - suf.size());
            auto t = types.find(base);
            if (t != types.end() && (t->second == "histogram" || t->second == "summary")) return base;
        }
    }
    return name;
}

}  // namespace detail

inline prom_doc parse_prometheus(std::string_view text)
{
    prom_doc d;
    if (!text.empty() && text.back() != '\n') {
        d.error = "text does not end in a line feed";
        return d;
    }
    std::set<std::string> closed;  // families whose samples ended
    std::string current;
    int line_no = 0;
    auto bad = [&](const std::string& what) {
        d.error = "line " + std::to_string(line_no) + ": " + what;
        return d;
    };
    std::size_t pos = 0;
    while (pos < text.size()) {
        auto nl = text.find('\n', pos);
        std::string_view line = text.substr(pos, nl - pos);
        pos = nl + 1;
        ++line_no;
        if (line.empty()) continue;
        if (line[0] == '#') {
            std::string_view rest = line.substr(1);
            if (rest.starts_with(" HELP ") || rest.starts_with(" TYPE ")) {
                bool is_type = rest.starts_with(" TYPE ");
                rest.remove_prefix(6);
                std::string name;
                if (!detail::parse_name(rest, name, false)) return bad("bad metric name in HELP/TYPE");
                if (is_type) {
                    if (rest.size() < 2 || rest[0] != ' ') return bad("TYPE without a type");
                    std::string type(rest.substr(1));
                    static const std::set<std::string> ok{"counter", "gauge", "histogram", "summary", "untyped"};
                    if (!ok.contains(type)) return bad("unknown type " + type);
                    if (d.types.contains(name)) return bad("second TYPE for " + name);
                    for (const auto& s : d.samples)
                        if (detail::family_of(s.name, {{name, type}}) == name) return bad("TYPE after samples of " + name);
                    d.types[name] = type;
                } else {
                    if (d.help.contains(name)) return bad("second HELP for " + name);
                    std::string h;
                    if (!rest.empty()) {
                        if (rest[0] != ' ') return bad("HELP name not followed by a space");
                        rest.remove_prefix(1);
                        for (std::size_t i = 0; i < rest.size(); ++i) {
                            if (rest[i] == '\\') {
                                if (i + 1 >= rest.size() || (rest[i + 1] != '\\' && rest[i + 1] != 'n'))
                                    return bad("bad escape in HELP");
                                h += rest[i + 1] == 'n' ? '\n' : '\\';
                                ++i;
                            } else {
                                h += rest[i];
                            }
                        }
                    }
                    d.help[name] = h;
                }
            }
            continue;  // other comments are allowed
        }
        prom_sample s;
        std::string_view rest = line;
        if (!detail::parse_name(rest, s.name, false)) return bad("bad metric name");
        if (!rest.empty() && rest[0] == '{') {
            rest.remove_prefix(1);
            std::set<std::string> seen;
            while (true) {
                if (!rest.empty() && rest[0] == '}') { rest.remove_prefix(1); break; }
                std::string ln;
                if (!detail::parse_name(rest, ln, true)) return bad("bad label name");
                if (!seen.insert(ln).second) return bad("duplicate label " + ln);
                if (rest.size() < 2 || rest[0] != '=' || rest[1] != '"') return bad("label without =\"");
                rest.remove_prefix(2);
                std::string val;
                bool closed_quote = false;
                while (!rest.empty()) {
                    char c = rest[0];
                    rest.remove_prefix(1);
                    if (c == '"') { closed_quote = true; break; }
                    if (c == '\\') {
                        if (rest.empty()) return bad("escape at end of line");
                        char e = rest[0];
                        rest.remove_prefix(1);
                        if (e == '\\') val += '\\';
                        else if (e == '"') val += '"';
                        else if (e == 'n') val += '\n';
                        else return bad(std::string("bad escape \\") + e);
                    } else {
                        val += c;
                    }
                }
                if (!closed_quote) return bad("unterminated label value");
                s.labels.emplace_back(ln, val);
                if (!rest.empty() && rest[0] == ',') { rest.remove_prefix(1); continue; }
                if (!rest.empty() && rest[0] == '}') { rest.remove_prefix(1); break; }
                return bad("expected , or } after a label");
            }
        }
        if (rest.empty() || rest[0] != ' ') return bad("no space before the value");
        rest.remove_prefix(1);
        auto sp = rest.find(' ');
        std::string_view value = rest.substr(0, sp);
        if (!detail::parse_value(value, s.value)) return bad("bad value '" + std::string(value) + "'");
        if (sp != std::string_view::npos) {
            std::string_view ts = rest.substr(sp + 1);
            double t;
            if (!detail::parse_value(ts, t) || ts.find('.') != std::string_view::npos) return bad("bad timestamp");
        }
        std::string fam = detail::family_of(s.name, d.types);
        if (fam != current) {
            if (closed.contains(fam)) return bad("samples of " + fam + " are not contiguous");
            if (!current.empty()) closed.insert(current);
            current = fam;
        }
        auto t = d.types.find(fam);
        if (t != d.types.end() && t->second == "counter" && (s.value < 0 || std::isnan(s.value)))
            return bad("negative counter " + s.name);
        if (t != d.types.end() && t->second == "histogram" && s.name == fam) return bad("bare histogram sample");
        d.samples.push_back(std::move(s));
    }

    // Histograms: per series, buckets cumulative and ascending, +Inf present and == _count.
    for (const auto& [fam, type] : d.types) {
        if (type != "histogram") continue;
        std::map<std::string, std::vector<std::pair<double, double>>> buckets;
        std::map<std::string, double> counts;
        for (const auto& s : d.samples) {
            std::string series;
            std::optional<double> le;
            for (const auto& [k, v] : s.labels) {
                if (k == "le") {
                    double x;
                    if (!detail::parse_value(v, x)) {
                        d.error = fam + ": bad le " + v;
                        return d;
                    }
                    le = x;
                } else {
                    series += k + "=" + v + ",";
                }
            }
            if (s.name == fam + "_bucket") {
                if (!le) {
                    d.error = fam + ": bucket without le";
                    return d;
                }
                buckets[series].emplace_back(*le, s.value);
            } else if (s.name == fam + "_count") {
                counts[series] = s.value;
            }
        }
        for (const auto& [series, b] : buckets) {
            for (std::size_t i = 1; i < b.size(); ++i)
                if (!(b[i].first > b[i - 1].first) || b[i].second < b[i - 1].second) {
                    d.error = fam + "{" + series + "}: buckets not ascending or not cumulative";
                    return d;
                }
            if (b.empty() || !std::isinf(b.back().first)) {
                d.error = fam + "{" + series + "}: no +Inf bucket";
                return d;
            }
            if (!counts.contains(series) || counts[series] != b.back().second) {
                d.error = fam + "{" + series + "}: +Inf bucket differs from _count";
                return d;
            }
        }
    }
    return d;
}

}  // namespace wfsync::test
