// SPDX-License-Identifier: Apache-2.0
// Loading and validating the YAML config. The loader walks the document once, checks every
// key against the keys allowed at that place, and records every problem with its position
// instead of stopping at the first: a user fixing a config wants the whole list at once.
#include <wfsync/config/config.hpp>
#include <wfsync/core/duration.hpp>
#include <wfsync/core/log.hpp>

#include <fmt/format.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <initializer_list>
#include <optional>
#include <set>

namespace wfsync::config {
namespace {

namespace fs = std::filesystem;

/// A config is a few hundred lines; a file over this is a mistake (a log, a dump, a device
/// image), refused before yaml-cpp spends time and memory on it.
constexpr std::size_t max_config_bytes = std::size_t{1} << 20;
/// A CA bundle (Debian's holds ~150 certificates in ~200 KB).
constexpr std::size_t max_ca_file_bytes = std::size_t{8} << 20;
/// The longest `jitter` a rule may have.
constexpr milliseconds max_jitter = std::chrono::hours(24);

std::string join(const std::vector<std::string>& v, std::string_view sep = ", ")
{
    std::string out;
    for (const auto& s : v) {
        if (!out.empty()) out += sep;
        out += s;
    }
    return out;
}

std::string child(const std::string& path, std::string_view key)
{
    return path.empty() ? std::string(key) : fmt::format("{}.{}", path, key);
}

std::string index(const std::string& path, std::size_t i)
{
    return fmt::format("{}[{}]", path, i);
}

bool valid_name(std::string_view s) noexcept
{
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
    });
}

bool valid_env_name(std::string_view s) noexcept
{
    if (s.empty() || std::isdigit(static_cast<unsigned char>(s[0]))) return false;
    return std::all_of(s.begin(), s.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
    });
}

std::string lower(std::string_view s)
{
    std::string out(s);
    for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

std::string trim(std::string_view s)
{
    auto b = s.find_first_not_of(" \t\r\n");
    if (b == std::string_view::npos) return {};
    auto e = s.find_last_not_of(" \t\r\n");
    return std::string(s.substr(b, e - b + 1));
}

/// Reads a whole regular file of at most `cap` bytes; on failure returns nullopt and sets `why`.
/// Anything but a regular file (a FIFO would block for ever, a device never end) is refused
/// before a byte is read.
std::optional<std::string> read_whole(const fs::path& p, std::string& why, std::size_t cap)
{
    // O_NONBLOCK: opening a FIFO with no writer must not hang; cleared before reading.
    int fd = ::open(p.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        why = std::strerror(errno);
        return std::nullopt;
    }
    struct fd_closer {
        int fd;
        ~fd_closer() { ::close(fd); }
    } closer{fd};
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        why = std::strerror(errno);
        return std::nullopt;
    }
    if (!S_ISREG(st.st_mode)) {
        why = S_ISFIFO(st.st_mode)  ? "not a regular file but a FIFO"
              : S_ISDIR(st.st_mode) ? "not a regular file but a directory"
              : S_ISSOCK(st.st_mode) ? "not a regular file but a socket"
                                     : "not a regular file but a device";
        return std::nullopt;
    }
    if (static_cast<std::uintmax_t>(st.st_size) > cap) {
        why = fmt::format("it is {} bytes, more than the limit of {} bytes", st.st_size, cap);
        return std::nullopt;
    }
    (void)::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    std::string out;
    char buf[8192];
    for (;;) {
        auto n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            why = std::strerror(errno);
            return std::nullopt;
        }
        if (n == 0) return out;
        out.append(buf, static_cast<std::size_t>(n));
        if (out.size() > cap) {  // grew while being read
            why = fmt::format("it grew past the limit of {} bytes while being read", cap);
            return std::nullopt;
        }
    }
}

// ---------------------------------------------------------------------------------------
// Cron syntax check. The scheduler has the real parser; here we only make sure the text is
// something it will accept, so that a typo is reported at load time with its position.

struct cron_field {
    std::string_view name;
    int lo, hi;
    const char* const* words;  // names for lo.. (month, weekday), or null
    int word_base;
};

constexpr const char* month_words[] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                       "JUL", "AUG", "SEP", "OCT", "NOV", "DEC", nullptr};
constexpr const char* day_words[] = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT", nullptr};

constexpr cron_field cron_fields[] = {
    {"minute", 0, 59, nullptr, 0},
    {"hour", 0, 23, nullptr, 0},
    {"day-of-month", 1, 31, nullptr, 0},
    {"month", 1, 12, month_words, 1},
    {"day-of-week", 0, 7, day_words, 0},
};

std::optional<int> cron_value(const cron_field& f, std::string_view s, std::string& why)
{
    if (s.empty()) {
        why = "empty value";
        return std::nullopt;
    }
    if (std::isdigit(static_cast<unsigned char>(s[0]))) {
        int v = 0;
        auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
        if (ec != std::errc{} || p != s.data() + s.size()) {
            why = fmt::format("'{}' is not a number", s);
            return std::nullopt;
        }
        if (v < f.lo || v > f.hi) {
            why = fmt::format("{} is out of range {}-{}", v, f.lo, f.hi);
            return std::nullopt;
        }
        return v;
    }
    if (f.words) {
        auto up = std::string(s);
        for (auto& c : up) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        for (int i = 0; f.words[i]; ++i)
            if (up == f.words[i]) return f.word_base + i;
    }
    why = f.words ? fmt::format("unknown name '{}'", s) : fmt::format("'{}' is not a number", s);
    return std::nullopt;
}

std::optional<std::string> cron_problem(std::string_view text)
{
    std::vector<std::string> parts;
    std::string cur;
    for (char c : text) {
        if (c == ' ' || c == '\t') {
            if (!cur.empty()) parts.push_back(std::move(cur)), cur.clear();
        } else {
            cur += c;
        }
    }
    if (!cur.empty()) parts.push_back(cur);
    if (parts.size() != 5)
        return fmt::format("expected 5 fields (minute hour day-of-month month day-of-week), got {}",
                           parts.size());
    for (std::size_t i = 0; i < 5; ++i) {
        const auto& f = cron_fields[i];
        std::string_view field = parts[i];
        std::size_t start = 0;
        while (start <= field.size()) {
            auto comma = field.find(',', start);
            auto item = field.substr(start, comma == std::string_view::npos ? std::string_view::npos
                                                                              : comma - start);
            std::string why;
            auto slash = item.find('/');
            auto range = item.substr(0, slash);
            if (slash != std::string_view::npos) {
                auto step = item.substr(slash + 1);
                int v = 0;
                auto [p, ec] = std::from_chars(step.data(), step.data() + step.size(), v);
                if (step.empty() || ec != std::errc{} || p != step.data() + step.size() || v < 1 ||
                    v > f.hi)
                    return fmt::format("{} field: bad step '{}'", f.name, step);
            }
            if (range != "*") {
                auto dash = range.find('-');
                auto a = cron_value(f, range.substr(0, dash), why);
                if (!a) return fmt::format("{} field: {}", f.name, why);
                if (dash != std::string_view::npos) {
                    auto b = cron_value(f, range.substr(dash + 1), why);
                    if (!b) return fmt::format("{} field: {}", f.name, why);
                    if (*b < *a) return fmt::format("{} field: range '{}' runs backwards", f.name, range);
                }
            }
            if (comma == std::string_view::npos) break;
            start = comma + 1;
        }
    }
    return std::nullopt;
}

std::optional<std::string> schedule_problem(std::string_view text)
{
    if (text.empty()) return std::string("empty schedule");
    if (text[0] != '@') return cron_problem(text);
    if (text == "@hourly" || text == "@daily" || text == "@weekly" || text == "@monthly" ||
        text == "@yearly")
        return std::nullopt;
    if (text.substr(0, 7) == "@every ") {
        auto d = parse_duration(trim(text.substr(7)));
        if (!d) return d.error().message;
        if (d->count() <= 0) return std::string("@every needs a duration greater than zero");
        return std::nullopt;
    }
    return std::string("unknown macro; use @hourly, @daily, @weekly, @monthly, @yearly or @every <duration>");
}

std::optional<std::string> timezone_problem(const std::string& tz)
{
    if (tz == "UTC") return std::nullopt;
    bool ok = !tz.empty() && tz[0] != '/' && tz.find("..") == std::string::npos &&
              std::all_of(tz.begin(), tz.end(), [](char c) {
                  return std::isalnum(static_cast<unsigned char>(c)) || c == '/' || c == '_' ||
                         c == '-' || c == '+';
              });
    if (!ok) return fmt::format("'{}' is not an IANA time zone name (e.g. Europe/Berlin)", tz);
    // A zone file starts with "TZif"; this also refuses zone.tab, tzdata.zi and directories.
    std::string why;
    fs::path p = fs::path("/usr/share/zoneinfo") / tz;
    std::error_code ec;
    if (fs::is_regular_file(p, ec)) {
        auto body = read_whole(p, why, 1 << 20);
        if (body && body->compare(0, 4, "TZif") == 0) return std::nullopt;
    }
    return fmt::format("unknown time zone '{}' (no zone file {})", tz, p.string());
}

/// Where a secret file named `p` in a config in `dir` is.
fs::path secret_path(const std::string& p, const fs::path& dir)
{
    fs::path path(p);
    if (path.is_absolute()) return path;
    // systemd's LoadCredential= puts each credential as a bare name in $CREDENTIALS_DIRECTORY.
    if (const char* cd = std::getenv("CREDENTIALS_DIRECTORY"); cd && *cd && p.find('/') == std::string::npos)
        return fs::path(cd) / path;
    return dir.empty() ? path : (dir / path).lexically_normal();
}

/// `${VAR}` (and `$${` for a literal `${`) expanded from the environment; nullopt with `why`
/// naming the first variable that is not set. The syntax was checked at load.
std::optional<std::string> expand_env(std::string_view raw, std::string& why)
{
    std::string out;
    std::size_t i = 0;
    while (i < raw.size()) {
        if (raw.compare(i, 3, "$${") == 0) {
            out += "${";
            i += 3;
        } else if (raw.compare(i, 2, "${") == 0) {
            auto end = raw.find('}', i + 2);
            if (end == std::string_view::npos) {
                why = "unterminated ${";
                return std::nullopt;
            }
            auto name = std::string(raw.substr(i + 2, end - i - 2));
            const char* v = std::getenv(name.c_str());
            if (!v) {
                why = fmt::format("variable {} is not set", name);
                return std::nullopt;
            }
            out += v;
            i = end + 1;
        } else {
            out += raw[i++];
        }
    }
    return out;
}

// ---------------------------------------------------------------------------------------

/// One key of a mapping (or one item of a list): the key node gives the position of
/// "unknown key" and "missing value" problems, the value node everything else.
struct entry {
    std::string name;
    YAML::Node key;
    YAML::Node value;
    std::string path;

    YAML::Mark mark() const
    {
        if (value.IsDefined() && !value.IsNull()) {
            auto m = value.Mark();
            if (m.line >= 0) return m;
        }
        return key.Mark();
    }
};

/// The allowed keys present in one mapping, in document order.
struct fields {
    std::vector<entry> list;
    YAML::Mark mark;   // of the mapping, for "missing key"
    std::string path;

    const entry* get(std::string_view name) const
    {
        for (const auto& e : list)
            if (e.name == name) return &e;
        return nullptr;
    }
};

struct text_value {
    std::string value;
    bool interpolated = false;  // a ${VAR} was substituted
};

class loader {
public:
    loader(std::string file, fs::path dir) : file_(std::move(file)), dir_(std::move(dir)) {}

    load_result run(std::string_view text);

private:
    std::string file_;
    fs::path dir_;
    std::vector<config_issue> issues_;
    std::shared_ptr<config> cfg_ = std::make_shared<config>();
    std::map<std::string, std::optional<platform>> declared_tenants_;  // even broken ones
    std::set<std::string> declared_archives_;

    // -- reporting --------------------------------------------------------------------
    void add(const YAML::Mark& m, std::string path, std::string message)
    {
        // Every problem carries file:line:column; where yaml-cpp knows no position (an empty
        // document, an exception without a mark) it is the document's start.
        source_location where{file_, m.line >= 0 ? m.line + 1 : 1, m.line >= 0 && m.column >= 0 ? m.column + 1 : 1};
        issues_.push_back(config_issue{std::move(where), std::move(path), std::move(message)});
    }
    void add(const entry& e, std::string message) { add(e.mark(), e.path, std::move(message)); }
    void missing(const fields& f, std::string_view key)
    {
        add(f.mark, child(f.path, key), fmt::format("missing required key '{}'", key));
    }

    // -- structure ----------------------------------------------------------------------
    std::optional<fields> mapping(const YAML::Node& node, const YAML::Mark& where,
                                  const std::string& path, const std::vector<std::string>& allowed,
                                  std::string_view what = {});
    std::optional<fields> mapping(const entry& e, const std::vector<std::string>& allowed,
                                  std::string_view what = {})
    {
        return mapping(e.value, e.mark(), e.path, allowed, what);
    }
    std::optional<std::vector<entry>> sequence(const entry& e);

    // -- scalars ------------------------------------------------------------------------
    std::optional<text_value> scalar(const entry& e, bool allow_empty = false);
    std::optional<std::string> str(const entry& e, bool allow_empty = false)
    {
        auto v = scalar(e, allow_empty);
        if (!v) return std::nullopt;
        return std::move(v->value);
    }
    /// True for a present single value (reported otherwise), without reading it.
    bool scalar_shape(const entry& e);
    std::optional<bool> boolean(const entry& e);
    std::optional<int> integer(const entry& e, int lo, int hi);
    std::optional<milliseconds> duration(const entry& e, bool allow_zero);
    template <class E>
    std::optional<E> choice(const entry& e, std::initializer_list<std::pair<std::string_view, E>> opts);
    std::optional<std::string> url(const entry& e);
    std::string resolve(const std::string& p) const;
    std::optional<std::string> path_value(const entry& e)
    {
        auto v = str(e);
        if (!v) return std::nullopt;
        return resolve(*v);
    }
    /// `lookup` false: checks the syntax only (secrets, read later), `interpolated` tells
    /// whether there was a ${VAR}.
    std::optional<text_value> interpolate(std::string_view raw, const entry& e, bool lookup = true);

    // -- secrets ------------------------------------------------------------------------
    std::optional<secret> load_secret(const fields& f, std::string_view key, bool required);
    fs::path resolve_secret_path(const std::string& p) const;

    // -- sections -----------------------------------------------------------------------
    void parse_state(const entry& e);
    void parse_log(const entry& e);
    void parse_admin(const entry& e);
    void parse_net(const fields& f, network_settings& net);
    void parse_tenant(const entry& e, tenant& t);
    void parse_auth(const entry& e, tenant& t, std::optional<platform> kind);
    void parse_archives(const entry& e);
    void parse_rules(const entry& e);
    void parse_rule(const entry& e, rule& r, std::map<std::string, int>& seen_names);
    void parse_targets(const entry& e, rule& r);
    void parse_selector(const entry& e, selector& s);
    void parse_retention(const entry& e, std::map<std::string, int>& out);
    void parse_notify(const entry& e);
    void parse_notify_target(const entry& e, notify_target& t);
    std::optional<secret_ref> secret_reference(const fields& f, std::string_view key, bool required);
    std::optional<secret_ref> env_template(const entry& e);
};

std::optional<fields> loader::mapping(const YAML::Node& node, const YAML::Mark& where,
                                      const std::string& path,
                                      const std::vector<std::string>& allowed, std::string_view what)
{
    fields f;
    f.mark = where;
    f.path = path;
    if (!node.IsDefined() || node.IsNull()) return f;  // `key:` with nothing: an empty mapping
    if (!node.IsMap()) {
        add(where, path, node.IsSequence() ? "expected a mapping (key: value), got a list"
                                           : "expected a mapping (key: value), got a single value");
        return std::nullopt;
    }
    if (node.Mark().line >= 0) f.mark = node.Mark();
    std::set<std::string> seen;
    for (auto it = node.begin(); it != node.end(); ++it) {
        const YAML::Node k = it->first;  // a copy: operator-> yields a proxy that dies with the statement
        if (!k.IsScalar()) {
            add(k.Mark(), path, "keys must be plain names");
            continue;
        }
        std::string name = k.Scalar();
        if (!seen.insert(name).second) {
            add(k.Mark(), child(path, name), fmt::format("duplicate key '{}'", name));
            continue;
        }
        if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
            add(k.Mark(), child(path, name),
                fmt::format("unknown key '{}'{}; allowed: {}", name,
                            what.empty() ? "" : fmt::format(" {}", what), join(allowed)));
            continue;
        }
        f.list.push_back(entry{name, k, it->second, child(path, name)});
    }
    return f;
}

std::optional<std::vector<entry>> loader::sequence(const entry& e)
{
    std::vector<entry> out;
    if (!e.value.IsDefined() || e.value.IsNull()) return out;
    if (!e.value.IsSequence()) {
        add(e, "expected a list");
        return std::nullopt;
    }
    std::size_t i = 0;
    for (const auto& item : e.value) {
        // An empty item (`- `) has no position of its own; point at the list instead.
        const YAML::Node& at = item.Mark().line >= 0 ? item : e.value;
        out.push_back(entry{std::to_string(i), at, item, index(e.path, i)});
        ++i;
    }
    return out;
}

std::optional<text_value> loader::interpolate(std::string_view raw, const entry& e, bool lookup)
{
    text_value out;
    bool ok = true;
    std::size_t i = 0;
    while (i < raw.size()) {
        if (raw.compare(i, 3, "$${") == 0) {  // escape: a literal "${"
            out.value += "${";
            i += 3;
        } else if (raw.compare(i, 2, "${") == 0) {
            auto end = raw.find('}', i + 2);
            if (end == std::string_view::npos) {
                add(e, "unterminated ${ (write $${ for a literal ${)");
                return std::nullopt;
            }
            auto name = raw.substr(i + 2, end - i - 2);
            if (!valid_env_name(name)) {
                add(e, "invalid variable name inside ${...} (letters, digits and _ only)");
                ok = false;
            } else if (!lookup) {
                out.interpolated = true;
            } else if (const char* v = std::getenv(std::string(name).c_str()); !v) {
                add(e, fmt::format("variable {} is not set", name));
                ok = false;
            } else {
                out.value += v;
                out.interpolated = true;
            }
            i = end + 1;
        } else {
            out.value += raw[i++];
        }
    }
    if (!ok) return std::nullopt;
    return out;
}

// Never quotes the value: the same function reads secrets.
std::optional<text_value> loader::scalar(const entry& e, bool allow_empty)
{
    if (!e.value.IsDefined() || e.value.IsNull()) {
        add(e, "missing value");
        return std::nullopt;
    }
    if (!e.value.IsScalar()) {
        add(e, e.value.IsMap() ? "expected a single value, got a mapping"
                               : "expected a single value, got a list");
        return std::nullopt;
    }
    auto v = interpolate(e.value.Scalar(), e);
    if (!v) return std::nullopt;
    if (!allow_empty && v->value.empty()) {
        add(e, "must not be empty");
        return std::nullopt;
    }
    return v;
}

bool loader::scalar_shape(const entry& e)
{
    if (!e.value.IsDefined() || e.value.IsNull()) {
        add(e, "missing value");
        return false;
    }
    if (!e.value.IsScalar()) {
        add(e, e.value.IsMap() ? "expected a single value, got a mapping" : "expected a single value, got a list");
        return false;
    }
    if (e.value.Scalar().empty()) {
        add(e, "must not be empty");
        return false;
    }
    return true;
}

std::optional<bool> loader::boolean(const entry& e)
{
    auto v = str(e);
    if (!v) return std::nullopt;
    auto l = lower(*v);
    if (l == "true" || l == "yes" || l == "on") return true;
    if (l == "false" || l == "no" || l == "off") return false;
    add(e, fmt::format("expected true or false, got '{}'", *v));
    return std::nullopt;
}

std::optional<int> loader::integer(const entry& e, int lo, int hi)
{
    auto v = str(e);
    if (!v) return std::nullopt;
    long long n = 0;
    auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
    if (ec != std::errc{} || p != v->data() + v->size()) {
        add(e, fmt::format("expected a whole number, got '{}'", *v));
        return std::nullopt;
    }
    if (n < lo || n > hi) {
        add(e, fmt::format("{} is out of range; must be between {} and {}", n, lo, hi));
        return std::nullopt;
    }
    return static_cast<int>(n);
}

std::optional<milliseconds> loader::duration(const entry& e, bool allow_zero)
{
    auto v = str(e);
    if (!v) return std::nullopt;
    auto d = parse_duration(*v);
    if (!d) {
        add(e, d.error().message);
        return std::nullopt;
    }
    if (!allow_zero && d->count() <= 0) {
        add(e, "must be greater than zero");
        return std::nullopt;
    }
    return *d;
}

template <class E>
std::optional<E> loader::choice(const entry& e, std::initializer_list<std::pair<std::string_view, E>> opts)
{
    auto v = str(e);
    if (!v) return std::nullopt;
    std::vector<std::string> all;
    for (const auto& [name, value] : opts) {
        if (name == *v) return value;
        all.emplace_back(name);
    }
    add(e, fmt::format("invalid value '{}'; expected one of: {}", *v, join(all)));
    return std::nullopt;
}

std::optional<std::string> loader::url(const entry& e)
{
    auto v = str(e);
    if (!v) return std::nullopt;
    std::string s = *v;
    std::string_view rest;
    if (s.rfind("https://", 0) == 0) rest = std::string_view(s).substr(8);
    else if (s.rfind("http://", 0) == 0) rest = std::string_view(s).substr(7);
    else {
        add(e, fmt::format("invalid URL '{}': must start with http:// or https://", s));
        return std::nullopt;
    }
    auto authority = rest.substr(0, rest.find('/'));
    // Credentials in a URL would end up in logs; and we must not repeat them here either.
    if (authority.find('@') != std::string_view::npos) {
        add(e, "a URL must not contain user credentials; configure them under auth");
        return std::nullopt;
    }
    if (authority.empty() || authority.front() == ':') {
        add(e, fmt::format("invalid URL '{}': no host name", s));
        return std::nullopt;
    }
    if (s.find_first_of(" \t?#") != std::string::npos) {
        add(e, fmt::format("invalid URL '{}': no spaces, query or fragment allowed", s));
        return std::nullopt;
    }
    while (s.size() > 1 && s.back() == '/') s.pop_back();
    return s;
}

std::string loader::resolve(const std::string& p) const
{
    fs::path path(p);
    if (path.is_absolute() || dir_.empty()) return p;
    return (dir_ / path).lexically_normal().string();
}

fs::path loader::resolve_secret_path(const std::string& p) const
{
    return secret_path(p, dir_);
}

/// `s`, after reading it if it can be read now: only to register its value with log::redact
/// (so that no message of this load can repeat it); what cannot be read is no problem yet.
secret masked(secret s)
{
    (void)s.problem();
    return s;
}

// Only the reference is checked here; the value is read when a tenant is contacted
// (with_secrets), so that commands talking to no tenant run without any secret.
std::optional<secret> loader::load_secret(const fields& f, std::string_view key, bool required)
{
    auto k_env = fmt::format("{}_env", key);
    auto k_file = fmt::format("{}_file", key);
    const entry* inl = f.get(key);
    const entry* env = f.get(k_env);
    const entry* file = f.get(k_file);
    int given = (inl ? 1 : 0) + (env ? 1 : 0) + (file ? 1 : 0);
    if (given == 0) {
        if (required)
            add(f.mark, child(f.path, key),
                fmt::format("missing secret: give {}, {} or {}: ${{VAR}}", k_env, k_file, key));
        return std::nullopt;
    }
    if (given > 1) {
        const entry* second = file ? file : env;
        add(*second, fmt::format("give only one of {}, {} and {}", key, k_env, k_file));
        return std::nullopt;
    }
    const entry& e = inl ? *inl : env ? *env : *file;
    if (!e.value.IsDefined() || e.value.IsNull()) {
        add(e, "missing value");
        return std::nullopt;
    }
    if (!e.value.IsScalar()) {
        add(e, e.value.IsMap() ? "expected a single value, got a mapping" : "expected a single value, got a list");
        return std::nullopt;
    }
    const std::string raw = e.value.Scalar();
    auto m = e.mark();
    source_location where{file_, m.line >= 0 ? m.line + 1 : 1, m.line >= 0 && m.column >= 0 ? m.column + 1 : 1};
    if (raw.empty()) {
        add(e, "must not be empty");
        return std::nullopt;
    }
    if (env) {
        if (!valid_env_name(raw)) {
            add(e, "expected the name of an environment variable (letters, digits and _)");
            return std::nullopt;
        }
        return masked(secret(secret::source::env, raw, e.path, where));
    }
    auto v = interpolate(raw, e, false);
    if (!v) return std::nullopt;
    if (inl) {
        if (!v->interpolated) {
            add(e, fmt::format("secrets must not be written inline; use {}, {} or ${{VAR}}", k_env, k_file));
            return std::nullopt;
        }
        return masked(secret(secret::source::text, raw, e.path, where));
    }
    return masked(secret(secret::source::file, raw, e.path, where, dir_.string()));
}

// ---------------------------------------------------------------------------------------

void loader::parse_state(const entry& e)
{
    auto f = mapping(e, {"path"});
    if (!f) return;
    if (auto p = f->get("path"))
        if (auto v = path_value(*p)) cfg_->state.path = *v;
}

void loader::parse_log(const entry& e)
{
    auto f = mapping(e, {"level", "format"});
    if (!f) return;
    if (auto p = f->get("level")) {
        if (auto v = str(*p)) {
            log::level lvl;
            if (log::parse_level(*v, lvl)) cfg_->log.level = *v;
            else add(*p, fmt::format("invalid value '{}'; expected one of: trace, debug, info, warn, error, off", *v));
        }
    }
    if (auto p = f->get("format"))
        if (auto v = choice<std::string>(*p, {{"text", "text"}, {"json", "json"}})) cfg_->log.format = *v;
}

void loader::parse_admin(const entry& e)
{
    auto f = mapping(e, {"listen", "token_file"});
    if (!f) return;
    if (auto p = f->get("listen")) {
        if (auto v = str(*p)) {
            auto colon = v->rfind(':');
            std::string_view host = colon == std::string::npos ? std::string_view{} : std::string_view(*v).substr(0, colon);
            std::string_view port = colon == std::string::npos ? std::string_view{} : std::string_view(*v).substr(colon + 1);
            int n = 0;
            auto [q, ec] = std::from_chars(port.data(), port.data() + port.size(), n);
            bool ok = !host.empty() && !port.empty() && ec == std::errc{} && q == port.data() + port.size() &&
                      n >= 1 && n <= 65535;
            if (ok && host.front() == '[') ok = host.back() == ']' && host.size() > 2;
            else if (ok) ok = host.find(':') == std::string_view::npos;  // IPv6 needs brackets
            if (ok) cfg_->admin.listen = *v;
            else add(*p, fmt::format("invalid listen address '{}'; expected host:port, e.g. 127.0.0.1:9470 or [::1]:9470", *v));
        }
    }
    // Read by the admin server and by `status`, not here: other commands need no token.
    if (auto p = f->get("token_file")) {
        if (auto name = str(*p)) {
            cfg_->admin.token_file = resolve_secret_path(*name).string();
            auto m = p->mark();
            cfg_->admin.token = secret(secret::source::file, cfg_->admin.token_file, p->path,
                                       source_location{file_, m.line + 1, m.column + 1});
        }
    }
}

void loader::parse_net(const fields& f, network_settings& net)
{
    if (auto p = f.get("timeout"))
        if (auto v = duration(*p, false)) net.timeout = *v;
    if (auto p = f.get("concurrency"))
        if (auto v = integer(*p, 1, 1000)) net.concurrency = *v;
    if (auto p = f.get("rate_limit")) {
        if (auto v = str(*p)) {
            // "<number>/<unit>", unit s, m or h; the burst allows one second's worth at once.
            auto slash = v->find('/');
            std::string num = trim(v->substr(0, slash));
            std::string unit = slash == std::string::npos ? "" : trim(v->substr(slash + 1));
            double n = 0;
            auto [q, ec] = std::from_chars(num.data(), num.data() + num.size(), n);
            double per = unit == "s" ? 1.0 : unit == "m" ? 60.0 : unit == "h" ? 3600.0 : 0.0;
            if (num.empty() || ec != std::errc{} || q != num.data() + num.size() || per == 0.0 ||
                !(n > 0) || !std::isfinite(n))
                add(*p, fmt::format("invalid rate limit '{}'; expected <number>/s, /m or /h, e.g. 20/s", *v));
            else {
                net.rate.per_second = n / per;
                net.rate.burst = std::max(1, static_cast<int>(std::ceil(net.rate.per_second)));
            }
        }
    }
    if (auto p = f.get("retry")) {
        if (auto r = mapping(*p, {"max_attempts", "initial_backoff", "max_backoff"})) {
            if (auto q = r->get("max_attempts"))
                if (auto v = integer(*q, 1, 100)) net.retry.max_attempts = *v;
            if (auto q = r->get("initial_backoff"))
                if (auto v = duration(*q, false)) net.retry.initial_backoff = *v;
            if (auto q = r->get("max_backoff"))
                if (auto v = duration(*q, false)) net.retry.max_backoff = *v;
            if (net.retry.initial_backoff > net.retry.max_backoff)
                add(*p, fmt::format("initial_backoff ({}) is longer than max_backoff ({})",
                                    format_duration(net.retry.initial_backoff),
                                    format_duration(net.retry.max_backoff)));
        }
    }
    if (auto p = f.get("poll")) {
        if (auto r = mapping(*p, {"interval", "max_interval", "timeout"})) {
            if (auto q = r->get("interval"))
                if (auto v = duration(*q, false)) net.poll.interval = *v;
            if (auto q = r->get("max_interval"))
                if (auto v = duration(*q, false)) net.poll.max_interval = *v;
            if (auto q = r->get("timeout"))
                if (auto v = duration(*q, false)) net.poll.timeout = *v;
            if (net.poll.interval > net.poll.max_interval)
                add(*p, fmt::format("interval ({}) is longer than max_interval ({})",
                                    format_duration(net.poll.interval),
                                    format_duration(net.poll.max_interval)));
        }
    }
}

const std::vector<std::string> net_keys = {"timeout", "retry", "concurrency", "rate_limit", "poll"};

void loader::parse_auth(const entry& e, tenant& t, std::optional<platform> kind)
{
    static const std::vector<std::string> common = {"type"};
    static const std::map<auth_type, std::vector<std::string>> keys = {
        {auth_type::oauth2, {"type", "client_id", "client_secret", "client_secret_env", "client_secret_file", "token_url"}},
        {auth_type::bearer, {"type", "token", "token_env", "token_file"}},
        {auth_type::api_key, {"type", "key", "key_env", "key_file"}},
        {auth_type::iam_password, {"type", "iam_url", "user", "domain", "project", "password", "password_env", "password_file"}},
    };
    if (!e.value.IsDefined() || e.value.IsNull()) {
        add(e, "missing value: auth needs at least a type");
        return;
    }
    if (!e.value.IsMap()) {
        mapping(e, common);  // reports the shape problem
        return;
    }
    // The allowed keys depend on the type, so read it first.
    std::optional<auth_type> type;
    const YAML::Node tn = e.value["type"];
    if (tn.IsDefined()) {
        // Found again as an entry below, to report problems with its position.
        entry te{"type", tn, tn, child(e.path, "type")};
        type = choice<auth_type>(te, {{"oauth2", auth_type::oauth2},
                                      {"bearer", auth_type::bearer},
                                      {"api_key", auth_type::api_key},
                                      {"iam_password", auth_type::iam_password}});
        if (type && kind) {
            bool fits = false;
            std::string_view allowed;
            switch (*kind) {
            case platform::zuora:
                fits = *type == auth_type::oauth2 || *type == auth_type::bearer;
                allowed = "oauth2 or bearer";
                break;
            case platform::kore:
                fits = *type == auth_type::api_key;
                allowed = "api_key";
                break;
            case platform::secmaster:
                fits = *type == auth_type::iam_password || *type == auth_type::bearer;
                allowed = "iam_password or bearer";
                break;
            }
            if (!fits)
                add(te, fmt::format("auth type {} does not fit platform {}; use {}", tn.Scalar(),
                                    to_string(*kind), allowed));
        }
    } else {
        add(e.mark(), child(e.path, "type"),
            "missing required key 'type' (oauth2, bearer, api_key or iam_password)");
    }
    std::vector<std::string> allowed;
    if (type) allowed = keys.at(*type);
    else
        for (const auto& [_, ks] : keys)
            for (const auto& k : ks)
                if (std::find(allowed.begin(), allowed.end(), k) == allowed.end()) allowed.push_back(k);
    auto what = type ? fmt::format("for auth type {}", tn.Scalar()) : std::string();
    auto f = mapping(e, allowed, what);
    if (!f || !type) return;
    t.auth.type = *type;
    switch (*type) {
    case auth_type::oauth2:
        if (auto p = f->get("client_id")) {
            if (auto v = str(*p)) t.auth.client_id = *v;
        } else {
            missing(*f, "client_id");
        }
        if (auto s = load_secret(*f, "client_secret", true)) t.auth.client_secret = *s;
        if (auto p = f->get("token_url"))
            if (auto v = url(*p)) t.auth.token_url = *v;
        break;
    case auth_type::bearer:
        if (auto s = load_secret(*f, "token", true)) t.auth.token = *s;
        break;
    case auth_type::api_key:
        if (auto s = load_secret(*f, "key", true)) t.auth.api_key = *s;
        break;
    case auth_type::iam_password:
        if (auto p = f->get("iam_url")) {
            if (auto v = url(*p)) t.auth.iam_url = *v;
        } else {
            missing(*f, "iam_url");
        }
        for (auto [key, out] : {std::pair{"user", &t.auth.user}, std::pair{"domain", &t.auth.domain},
                                std::pair{"project", &t.auth.project}}) {
            if (auto p = f->get(key)) {
                if (auto v = str(*p)) *out = *v;
            } else {
                missing(*f, key);
            }
        }
        if (auto s = load_secret(*f, "password", true)) t.auth.password = *s;
        break;
    }
}

void loader::parse_tenant(const entry& e, tenant& t)
{
    std::vector<std::string> allowed = {"platform", "base_url", "auth", "tls", "entity_id", "workflows",
                                        "project_id", "workspace_id", "kore", "proxy"};
    allowed.insert(allowed.end(), net_keys.begin(), net_keys.end());
    auto f = mapping(e, allowed);
    if (!f) return;
    t.where = source_location{file_, e.key.Mark().line + 1, e.key.Mark().column + 1};
    f->mark = e.key.Mark();  // "missing key" problems point at the tenant's name

    std::optional<platform> kind;
    if (auto p = f->get("platform")) {
        kind = choice<platform>(*p, {{"zuora", platform::zuora}, {"kore", platform::kore}, {"secmaster", platform::secmaster}});
        if (kind) t.kind = *kind;
    } else {
        missing(*f, "platform");
    }
    declared_tenants_[t.name] = kind;

    if (auto p = f->get("base_url")) {
        if (auto v = url(*p)) t.base_url = *v;
    } else {
        missing(*f, "base_url");
    }

    if (auto p = f->get("auth")) parse_auth(*p, t, kind);
    else missing(*f, "auth");

    if (auto p = f->get("tls")) {
        if (auto tf = mapping(*p, {"ca_file", "verify"})) {
            if (auto q = tf->get("ca_file")) {
                if (auto v = str(*q, true); v && !v->empty()) {  // "" = the system's CAs
                    *v = resolve(*v);
                    // Read once here, so that a FIFO, a device or a huge file is a config
                    // error now rather than a hang or a flood when OpenSSL reads it later.
                    std::string why;
                    if (read_whole(*v, why, max_ca_file_bytes)) t.tls.ca_file = *v;
                    else add(*q, fmt::format("cannot read CA file '{}': {}", *v, why));
                }
            }
            if (auto q = tf->get("verify"))
                if (auto v = boolean(*q)) t.tls.verify = *v;
        }
    }

    t.net = cfg_->defaults;
    parse_net(*f, t.net);

    if (auto p = f->get("proxy")) {
        if (auto v = str(*p, true)) {
            // The whole URL is parsed by the HTTP client; here only what can be told without
            // quoting it (it may hold a password).
            auto scheme_end = v->find("://");
            auto scheme = scheme_end == std::string::npos ? std::string("http") : lower(v->substr(0, scheme_end));
            auto rest = scheme_end == std::string::npos ? *v : v->substr(scheme_end + 3);
            if (*v == "none" || v->empty())
                t.proxy = std::string();
            else if (scheme != "http")
                add(*p, fmt::format("proxy scheme '{}' is not supported; use http://[user:password@]host:port, "
                                    "or none", scheme));
            else if (rest.empty() || rest.front() == ':' || rest.front() == '/' || rest.back() == '@')
                add(*p, "proxy has no host; use http://[user:password@]host:port, or none");
            else
                t.proxy = *v;
        }
    }

    // Keys that only mean something on one platform.
    auto only = [&](std::string_view key, platform want) -> const entry* {
        auto p = f->get(key);
        if (p && kind && *kind != want) {
            add(*p, fmt::format("'{}' applies only to {} tenants, not {}", key, to_string(want), to_string(*kind)));
            return nullptr;
        }
        return p;
    };
    if (auto p = only("entity_id", platform::zuora))
        if (auto v = str(*p, true)) t.entity_id = *v;
    if (auto p = only("project_id", platform::secmaster)) {
        if (auto v = str(*p)) t.project_id = *v;
    } else if (kind == platform::secmaster && !f->get("project_id")) {
        missing(*f, "project_id");
    }
    if (auto p = only("workspace_id", platform::secmaster)) {
        if (auto v = str(*p)) t.workspace_id = *v;
    } else if (kind == platform::secmaster && !f->get("workspace_id")) {
        missing(*f, "workspace_id");
    }
    if (auto p = only("workflows", platform::kore)) {
        if (auto items = sequence(*p)) {
            std::set<std::string> ids;
            for (const auto& item : *items) {
                auto wf = mapping(item, {"id", "flow_id", "name"});
                if (!wf) continue;
                named_workflow w;
                bool ok = true;
                for (auto [key, out] : {std::pair{"id", &w.id}, std::pair{"flow_id", &w.flow_id}}) {
                    if (auto q = wf->get(key)) {
                        if (auto v = str(*q)) *out = *v;
                        else ok = false;
                    } else {
                        missing(*wf, key);
                        ok = false;
                    }
                }
                if (auto q = wf->get("name")) {
                    if (auto v = str(*q)) w.name = *v;
                } else {
                    w.name = w.id;
                }
                if (ok && !ids.insert(w.id).second) {
                    add(*wf->get("id"), fmt::format("workflow id '{}' is listed twice", w.id));
                    ok = false;
                }
                if (ok) t.workflows.push_back(std::move(w));
            }
        }
    }
    if (auto p = only("kore", platform::kore)) {
        // API paths: absolute paths without scheme or host (the base URL gives those), and
        // the paths naming one object must say where its id goes.
        struct path_key {
            const char* key;
            std::string* out;
            bool needs_id;
        };
        const path_key keys[] = {{"export_path", &t.kore.export_path, true},
                                 {"import_path", &t.kore.import_path, true},
                                 {"import_new_path", &t.kore.import_new_path, false},
                                 {"dock_status_path", &t.kore.dock_status_path, true},
                                 {"files_path", &t.kore.files_path, false}};
        std::vector<std::string> names;
        for (const auto& k : keys) names.emplace_back(k.key);
        if (auto kf = mapping(*p, names)) {
            for (const auto& k : keys) {
                auto q = kf->get(k.key);
                if (!q) continue;
                auto v = str(*q);
                if (!v) continue;
                if (!v->starts_with("/") || v->starts_with("//")) {
                    add(*q, fmt::format("'{}' must be a path starting with '/' (the base URL gives scheme and host)", *v));
                } else if (v->find_first_of(" #") != std::string::npos) {
                    add(*q, fmt::format("'{}' must not contain spaces or '#'", *v));
                } else if (k.needs_id && v->find("{id}") == std::string::npos) {
                    add(*q, fmt::format("'{}' must contain {{id}} where the id goes", *v));
                } else {
                    *k.out = *v;
                }
            }
        }
    }
}

void loader::parse_archives(const entry& e)
{
    if (!e.value.IsDefined() || e.value.IsNull()) return;
    if (!e.value.IsMap()) {
        add(e, "expected a mapping of archive names to settings");
        return;
    }
    std::set<std::string> seen;
    for (auto it = e.value.begin(); it != e.value.end(); ++it) {
        entry a{it->first.IsScalar() ? it->first.Scalar() : "", it->first, it->second, ""};
        a.path = child(e.path, a.name);
        if (!valid_name(a.name)) {
            add(a.key.Mark(), a.path, "archive names may use only letters, digits, '.', '_' and '-'");
            continue;
        }
        if (!seen.insert(a.name).second) {
            add(a.key.Mark(), a.path, fmt::format("duplicate archive '{}'", a.name));
            continue;
        }
        declared_archives_.insert(a.name);
        auto f = mapping(a, {"path", "retention"});
        if (!f) continue;
        archive ar;
        ar.name = a.name;
        ar.where = source_location{file_, a.key.Mark().line + 1, a.key.Mark().column + 1};
        ar.path = (fs::path(cfg_->state.path) / "archive" / a.name).string();
        if (auto p = f->get("path"))
            if (auto v = path_value(*p)) ar.path = *v;
        if (auto p = f->get("retention")) parse_retention(*p, ar.retention);
        cfg_->archives[a.name] = std::move(ar);
    }
}

void loader::parse_selector(const entry& e, selector& s)
{
    auto f = mapping(e, {"include", "exclude"});
    if (!f) return;
    for (auto [key, out] : {std::pair{"include", &s.include}, std::pair{"exclude", &s.exclude}}) {
        auto p = f->get(key);
        if (!p) continue;
        auto items = sequence(*p);
        if (!items) continue;
        for (const auto& item : *items)
            if (auto v = str(item)) out->push_back(*v);  // ints arrive as their text: "458"
    }
}

void loader::parse_retention(const entry& e, std::map<std::string, int>& out)
{
    auto before = issues_.size();
    auto f = mapping(e, {"keep_last", "keep_hourly", "keep_daily", "keep_weekly", "keep_monthly", "keep_yearly"});
    if (!f) return;
    bool bad = issues_.size() != before;
    for (const auto& p : f->list) {
        if (auto v = integer(p, 0, 1'000'000)) out[p.name] = *v;
        else bad = true;
    }
    if (!bad && std::none_of(out.begin(), out.end(), [](auto& kv) { return kv.second > 0; }))
        add(e, "retention keeps nothing; give at least one keep_* greater than zero");
}

void loader::parse_targets(const entry& e, rule& r)
{
    auto items = sequence(e);
    if (!items) return;
    if (items->empty()) {
        add(e, "a rule needs at least one target");
        return;
    }
    auto src = declared_tenants_.find(r.source);
    std::set<std::string> seen;
    for (const auto& item : *items) {
        auto v = str(item);
        if (!v) continue;
        if (!seen.insert(*v).second) {
            add(item, fmt::format("target '{}' is listed twice", *v));
            continue;
        }
        if (v->rfind("archive:", 0) == 0) {
            auto name = v->substr(8);
            if (!declared_archives_.count(name)) {
                std::vector<std::string> all(declared_archives_.begin(), declared_archives_.end());
                add(item, fmt::format("unknown archive '{}'; declared archives: {}", name,
                                      all.empty() ? "(none)" : join(all)));
                continue;
            }
        } else {
            auto t = declared_tenants_.find(*v);
            if (t == declared_tenants_.end()) {
                std::vector<std::string> all;
                for (const auto& [n, _] : declared_tenants_) all.push_back(n);
                add(item, fmt::format("unknown tenant '{}'; declared tenants: {} (archives are written archive:NAME)",
                                      *v, all.empty() ? "(none)" : join(all)));
                continue;
            }
            if (*v == r.source) {
                add(item, fmt::format("tenant '{}' is the rule's source; it cannot also be a target", *v));
                continue;
            }
            if (src != declared_tenants_.end() && src->second && t->second && *src->second != *t->second) {
                add(item, fmt::format("target '{}' is a {} tenant but source '{}' is {}; targets must be on the "
                                      "same platform as the source",
                                      *v, to_string(*t->second), r.source, to_string(*src->second)));
                continue;
            }
        }
        r.targets.push_back(*v);
    }
}

void loader::parse_rule(const entry& e, rule& r, std::map<std::string, int>& seen_names)
{
    auto f = mapping(e, {"name", "source", "targets", "select", "version", "version_policy", "create_missing",
                         "activate", "on_drift", "schedule", "timezone", "jitter", "catch_up", "retention",
                         "verify_every"});
    if (!f) return;
    auto m = e.mark();
    r.where = source_location{file_, m.line + 1, m.column + 1};

    if (auto p = f->get("name")) {
        if (auto v = str(*p)) {
            if (!valid_name(*v)) {
                add(*p, fmt::format("invalid rule name '{}'; use only letters, digits, '.', '_' and '-'", *v));
            } else if (auto [it, fresh] = seen_names.emplace(*v, p->mark().line + 1); !fresh) {
                add(*p, fmt::format("duplicate rule name '{}' (first used on line {})", *v, it->second));
            } else {
                r.name = *v;
            }
        }
    } else {
        missing(*f, "name");
    }

    if (auto p = f->get("source")) {
        if (auto v = str(*p)) {
            if (!declared_tenants_.count(*v)) {
                std::vector<std::string> all;
                for (const auto& [n, _] : declared_tenants_) all.push_back(n);
                add(*p, fmt::format("unknown tenant '{}'; declared tenants: {}", *v, all.empty() ? "(none)" : join(all)));
            }
            r.source = *v;
        }
    } else {
        missing(*f, "source");
    }

    if (auto p = f->get("targets")) parse_targets(*p, r);
    else missing(*f, "targets");

    if (auto p = f->get("select")) parse_selector(*p, r.select);
    // Kore.ai and SecMaster export one version only (the deployed call flow; the activated
    // version), so "latest" and "all" cannot be honoured there: "active" is their default,
    // and asking for more is an error rather than a silent substitution.
    std::optional<platform> source_kind;
    if (auto src = declared_tenants_.find(r.source); src != declared_tenants_.end()) source_kind = src->second;
    const bool one_version = source_kind == platform::kore || source_kind == platform::secmaster;
    if (one_version) r.version = version_choice::active;
    if (auto p = f->get("version")) {
        if (auto v = choice<version_choice>(*p, {{"latest", version_choice::latest},
                                                 {"active", version_choice::active},
                                                 {"all", version_choice::all}})) {
            if (one_version && *v != version_choice::active) {
                add(*p, fmt::format("version: {} cannot be honoured: source '{}' is a {} tenant, whose export "
                                    "API exports only the {} version; use version: active (the default there)",
                                    *v == version_choice::all ? "all" : "latest", r.source, to_string(*source_kind),
                                    *source_kind == platform::kore ? "deployed" : "activated"));
            } else {
                r.version = *v;
            }
        }
    }
    if (auto p = f->get("version_policy"))
        if (auto v = choice<version_policy>(*p, {{"keep_source", version_policy::keep_source},
                                                 {"bump", version_policy::bump}}))
            r.policy = *v;
    if (auto p = f->get("on_drift"))
        if (auto v = choice<drift_policy>(*p, {{"skip", drift_policy::skip},
                                               {"overwrite", drift_policy::overwrite},
                                               {"fail", drift_policy::fail}}))
            r.on_drift = *v;
    for (auto [key, out] : {std::pair{"create_missing", &r.create_missing}, std::pair{"activate", &r.activate},
                            std::pair{"catch_up", &r.catch_up}})
        if (auto p = f->get(key))
            if (auto v = boolean(*p)) *out = *v;
    if (auto p = f->get("schedule")) {
        if (auto v = str(*p)) {
            auto s = trim(*v);
            if (auto why = schedule_problem(s)) add(*p, fmt::format("invalid schedule '{}': {}", s, *why));
            else r.schedule = s;
        }
    }
    if (auto p = f->get("timezone")) {
        if (auto v = str(*p)) {
            if (auto why = timezone_problem(*v)) add(*p, *why);
            else r.timezone = *v;
        }
    }
    if (auto p = f->get("jitter")) {
        const auto m = p->mark();
        r.jitter_where = source_location{file_, m.line + 1, m.column + 1};
        if (auto v = duration(*p, true)) {
            // A longer delay is no longer jitter but another schedule; whether it is shorter
            // than the schedule's period is checked where schedules are parsed (app).
            if (*v > max_jitter)
                add(*p, fmt::format("rule '{}': jitter {} is more than the maximum of {}; jitter spreads runs "
                                    "over a short while, the schedule says when they run",
                                    r.name, trim(p->value.Scalar()), format_duration(max_jitter)));
            else
                r.jitter = *v;
        }
    }
    if (auto p = f->get("verify_every"))
        if (auto v = duration(*p, true)) r.verify_every = *v;
    if (auto p = f->get("retention")) {
        parse_retention(*p, r.retention);
        bool has_archive = std::any_of(r.targets.begin(), r.targets.end(),
                                       [](const std::string& t) { return t.rfind("archive:", 0) == 0; });
        if (!has_archive && f->get("targets") && !r.targets.empty())
            add(*p, "retention applies only to archive targets; this rule has none");
    }
}

void loader::parse_rules(const entry& e)
{
    auto items = sequence(e);
    if (!items) return;
    std::map<std::string, int> seen;
    for (const auto& item : *items) {
        rule r;
        if (item.value.IsNull()) {
            add(item, "empty rule (a '-' with nothing after it); a rule needs name, source and targets");
            continue;
        }
        parse_rule(item, r, seen);
        cfg_->rules.push_back(std::move(r));
    }
}

// ---------------------------------------------------------------------------------------
// notify: targets. Their secrets are references, read when a notification is sent.

std::optional<secret_ref> loader::env_template(const entry& e)
{
    const auto m = e.mark();
    secret_ref ref{secret_ref::from::text, e.value.Scalar(), source_location{file_, m.line + 1, m.column + 1}};
    const std::string_view raw = ref.name;
    bool any = false;
    for (std::size_t i = 0; i < raw.size();) {
        if (raw.compare(i, 3, "$${") == 0) {
            i += 3;
        } else if (raw.compare(i, 2, "${") == 0) {
            auto end = raw.find('}', i + 2);
            if (end == std::string_view::npos) {
                add(e, "unterminated ${ (write $${ for a literal ${)");
                return std::nullopt;
            }
            if (!valid_env_name(raw.substr(i + 2, end - i - 2))) {
                add(e, "invalid variable name inside ${...} (letters, digits and _ only)");
                return std::nullopt;
            }
            any = true;
            i = end + 1;
        } else {
            ++i;
        }
    }
    if (!any) return secret_ref{};  // plain text: not a reference
    return ref;
}

std::optional<secret_ref> loader::secret_reference(const fields& f, std::string_view key, bool required)
{
    auto k_env = fmt::format("{}_env", key);
    auto k_file = fmt::format("{}_file", key);
    const entry* inl = f.get(key);
    const entry* env = f.get(k_env);
    const entry* file = f.get(k_file);
    int given = (inl ? 1 : 0) + (env ? 1 : 0) + (file ? 1 : 0);
    if (given == 0) {
        if (required)
            add(f.mark, child(f.path, key),
                fmt::format("missing secret: give {}, {} or {}: ${{VAR}}", k_env, k_file, key));
        return std::nullopt;
    }
    if (given > 1) {
        const entry* second = file ? file : env;
        add(*second, fmt::format("give only one of {}, {} and {}", key, k_env, k_file));
        return std::nullopt;
    }
    const entry& e = inl ? *inl : env ? *env : *file;
    const auto m = e.mark();
    source_location where{file_, m.line + 1, m.column + 1};
    if (inl) {
        if (!scalar_shape(e)) return std::nullopt;
        auto ref = env_template(e);
        if (!ref) return std::nullopt;
        if (ref->empty()) {
            add(e, fmt::format("secrets must not be written inline; use {}, {} or ${{VAR}}", k_env, k_file));
            return std::nullopt;
        }
        return ref;
    }
    auto name = str(e);
    if (!name) return std::nullopt;
    if (env) {
        if (!valid_env_name(*name)) {
            add(e, "expected the name of an environment variable (letters, digits and _)");
            return std::nullopt;
        }
        return secret_ref{secret_ref::from::env, *name, where};
    }
    return secret_ref{secret_ref::from::file, resolve_secret_path(*name).string(), where};
}

void loader::parse_notify_target(const entry& e, notify_target& t)
{
    std::vector<std::string> allowed = {"type", "url", "url_env", "url_file", "secret", "secret_env",
                                        "secret_file", "on", "rules", "timeout", "retry"};
    auto f = mapping(e, allowed);
    if (!f) return;
    t.where = source_location{file_, e.key.Mark().line + 1, e.key.Mark().column + 1};
    // One delivery is short: a target that does not answer must not hold a run's end for long.
    t.net.timeout = std::chrono::seconds(10);
    t.net.retry = retry_settings{4, milliseconds(1000), milliseconds(30'000)};
    parse_net(*f, t.net);

    std::optional<notify_type> type;
    if (auto p = f->get("type"))
        type = choice<notify_type>(*p, {{"webhook", notify_type::webhook}, {"slack", notify_type::slack}});
    else
        missing(*f, "type");
    if (type) t.type = *type;

    // The URL: a literal one is shown in logs; one from a variable or a file is a secret.
    const entry* url_inline = f->get("url");
    if (url_inline && !f->get("url_env") && !f->get("url_file")) {
        if (scalar_shape(*url_inline)) {
            auto ref = env_template(*url_inline);
            if (ref && !ref->empty()) {
                t.url_secret = *ref;
            } else if (ref && type == notify_type::slack) {
                add(*url_inline, "a Slack incoming webhook URL is itself a secret: give url_file, url_env or "
                                 "url: ${VAR}, not the URL");
            } else if (ref) {
                if (auto v = url(*url_inline)) t.url = *v;
            }
        }
    } else if (auto ref = secret_reference(*f, "url", true)) {
        t.url_secret = *ref;
    }

    const bool has_key = f->get("secret") || f->get("secret_env") || f->get("secret_file");
    if (type == notify_type::slack && has_key) {
        const entry* k = f->get("secret") ? f->get("secret") : f->get("secret_env") ? f->get("secret_env")
                                                                                     : f->get("secret_file");
        add(*k, "a Slack target takes no HMAC secret: Slack checks nothing; its URL is the secret");
    } else if (type == notify_type::webhook) {
        // Unsigned alerts could be forged by anyone who can reach the receiver.
        if (auto ref = secret_reference(*f, "secret", true)) t.key = *ref;
    }

    if (auto p = f->get("on")) {
        if (auto items = sequence(*p)) {
            if (items->empty()) add(*p, "an empty list sends nothing; leave `on` out for every event");
            for (const auto& item : *items)
                if (auto v = choice<notify_event>(item, {{"failure", notify_event::failure},
                                                         {"drift", notify_event::drift},
                                                         {"unknown_outcome", notify_event::unknown_outcome},
                                                         {"promoted", notify_event::promoted}}))
                    if (std::find(t.on.begin(), t.on.end(), *v) == t.on.end()) t.on.push_back(*v);
        }
    }
    if (auto p = f->get("rules")) {
        if (auto items = sequence(*p)) {
            for (const auto& item : *items) {
                auto v = str(item);
                if (!v) continue;
                if (!cfg_->find_rule(*v)) {
                    std::vector<std::string> all;
                    for (const auto& r : cfg_->rules)
                        if (!r.name.empty()) all.push_back(r.name);
                    add(item, fmt::format("unknown rule '{}'; rules: {}", *v, all.empty() ? "(none)" : join(all)));
                    continue;
                }
                t.rules.push_back(*v);
            }
        }
    }
}

void loader::parse_notify(const entry& e)
{
    if (e.value.IsDefined() && !e.value.IsNull() && !e.value.IsMap()) {
        add(e, "expected a mapping of target names to settings");
        return;
    }
    if (!e.value.IsMap()) return;
    std::set<std::string> seen;
    for (auto it = e.value.begin(); it != e.value.end(); ++it) {
        entry t{it->first.IsScalar() ? it->first.Scalar() : "", it->first, it->second, ""};
        t.path = child(e.path, t.name);
        if (!valid_name(t.name)) {
            add(t.key.Mark(), t.path, "notify target names may use only letters, digits, '.', '_' and '-'");
            continue;
        }
        if (!seen.insert(t.name).second) {
            add(t.key.Mark(), t.path, fmt::format("duplicate notify target '{}'", t.name));
            continue;
        }
        notify_target nt;
        nt.name = t.name;
        auto before = issues_.size();
        parse_notify_target(t, nt);
        if (issues_.size() == before) cfg_->notify[t.name] = std::move(nt);
    }
}

load_result loader::run(std::string_view text)
{
    cfg_->file = file_;
    YAML::Node root;
    try {
        root = YAML::Load(std::string(text));
    } catch (const YAML::Exception& ex) {
        std::string hint;
        // `{id: ${X}}` is the classic: in a flow mapping or list, `{` and `}` end a plain value.
        if (ex.msg.find("flow") != std::string::npos && ex.mark.line >= 0) {
            std::string_view rest = text;
            for (int i = 0; i < ex.mark.line && rest.find('\n') != std::string_view::npos; ++i)
                rest.remove_prefix(rest.find('\n') + 1);
            if (rest.substr(0, rest.find('\n')).find("${") != std::string_view::npos)
                hint = "; inside {...} or [...] put values using ${VAR} in quotes: \"${VAR}\"";
        }
        add(ex.mark, "", fmt::format("YAML syntax error: {}{}", ex.msg, hint));
        return std::move(issues_);
    }
    if (!root.IsDefined() || root.IsNull()) {
        add(YAML::Mark(), "", "the config is empty; expected a mapping with tenants and rules");
        return std::move(issues_);
    }
    try {
        auto f = mapping(root, root.Mark(), "", {"state", "log", "admin", "defaults", "tenants", "archives", "rules", "notify"});
        if (f) {
            // Order matters: tenants merge the defaults, archives default under state.path,
            // and rules refer to tenants and archives.
            if (auto p = f->get("state")) parse_state(*p);
            if (auto p = f->get("log")) parse_log(*p);
            if (auto p = f->get("admin")) parse_admin(*p);
            if (auto p = f->get("defaults"))
                if (auto d = mapping(*p, net_keys)) parse_net(*d, cfg_->defaults);
            if (auto p = f->get("tenants")) {
                const entry& te = *p;
                if (te.value.IsDefined() && !te.value.IsNull() && !te.value.IsMap()) {
                    add(te, "expected a mapping of tenant names to settings");
                } else if (te.value.IsMap()) {
                    std::set<std::string> seen;
                    for (auto it = te.value.begin(); it != te.value.end(); ++it) {
                        entry t{it->first.IsScalar() ? it->first.Scalar() : "", it->first, it->second, ""};
                        t.path = child(te.path, t.name);
                        if (!valid_name(t.name)) {
                            add(t.key.Mark(), t.path, "tenant names may use only letters, digits, '.', '_' and '-'");
                            continue;
                        }
                        if (!seen.insert(t.name).second) {
                            add(t.key.Mark(), t.path, fmt::format("duplicate tenant '{}'", t.name));
                            continue;
                        }
                        declared_tenants_[t.name] = std::nullopt;
                        tenant tn;
                        tn.name = t.name;
                        parse_tenant(t, tn);
                        cfg_->tenants[t.name] = std::move(tn);
                    }
                }
            }
            if (auto p = f->get("archives")) parse_archives(*p);
            if (auto p = f->get("rules")) parse_rules(*p);
            if (auto p = f->get("notify")) parse_notify(*p);  // after rules: it names them
        }
    } catch (const std::exception& ex) {
        // yaml-cpp throws on shapes we did not foresee; report it rather than crash.
        add(root.Mark(), "", fmt::format("internal error while reading the config: {}", ex.what()));
    }
    if (!issues_.empty()) {
        std::stable_sort(issues_.begin(), issues_.end(), [](const config_issue& a, const config_issue& b) {
            return std::pair(a.where.line, a.where.column) < std::pair(b.where.line, b.where.column);
        });
        // Belt and braces: no message may carry a secret, even one read later in the file.
        for (auto& i : issues_) i.message = log::redact(i.message);
        return std::move(issues_);
    }
    return std::shared_ptr<const config>(std::move(cfg_));
}

}  // namespace

load_result load_string(std::string_view text, const std::string& file)
{
    loader l(file, fs::path(file).parent_path());
    return l.run(text);
}

std::optional<std::string> secret::fetch(std::string& why) const
{
    std::string value;
    switch (kind_) {
    case source::value:
        return value_;
    case source::env: {
        const char* v = std::getenv(ref_.c_str());
        if (!v) {
            why = fmt::format("variable {} is not set", ref_);
            return std::nullopt;
        }
        value = v;
        if (value.empty()) {
            why = fmt::format("variable {} is empty", ref_);
            return std::nullopt;
        }
        break;
    }
    case source::text: {
        auto v = expand_env(ref_, why);
        if (!v) return std::nullopt;
        value = std::move(*v);
        if (value.empty()) {
            why = "is empty once its variables are expanded";
            return std::nullopt;
        }
        break;
    }
    case source::file: {
        auto name = expand_env(ref_, why);
        if (!name) return std::nullopt;
        auto p = secret_path(*name, dir_);
        auto body = read_whole(p, why, 64 * 1024);
        if (!body) {
            why = fmt::format("cannot read secret file '{}': {}", p.string(), why);
            return std::nullopt;
        }
        // Files written with `echo` end in a newline that is not part of the secret.
        if (!body->empty() && body->back() == '\n') {
            body->pop_back();
            if (!body->empty() && body->back() == '\r') body->pop_back();
        }
        if (body->empty()) {
            why = fmt::format("secret file '{}' is empty", p.string());
            return std::nullopt;
        }
        value = std::move(*body);
        break;
    }
    }
    log::add_secret(value);
    return value;
}

std::optional<config_issue> secret::problem() const
{
    std::string why;
    if (fetch(why)) return std::nullopt;
    return config_issue{where_, key_, std::move(why)};
}

result<std::string> secret::read() const
{
    std::string why;
    if (auto v = fetch(why)) return std::move(*v);
    return fail(errc::config, config_issue{where_, key_, std::move(why)}.str());
}

result<void> secret::resolve()
{
    auto v = read();
    if (!v) return v.error();
    value_ = std::move(*v);
    return {};
}

result<tenant> with_secrets(const tenant& t)
{
    tenant out = t;
    for (secret* s : {&out.auth.client_secret, &out.auth.token, &out.auth.api_key, &out.auth.password})
        if (!s->empty())
            if (auto r = s->resolve(); !r) return r.error();
    return out;
}

std::vector<config_issue> unreadable_secrets(const config& cfg)
{
    std::vector<config_issue> out;
    auto check = [&](const secret& s) {
        if (auto p = s.problem()) out.push_back(std::move(*p));
    };
    for (const auto& [name, t] : cfg.tenants)
        for (const secret* s : {&t.auth.client_secret, &t.auth.token, &t.auth.api_key, &t.auth.password})
            check(*s);
    check(cfg.admin.token);
    return out;
}

load_result load_file(const std::string& path)
{
    std::string why;
    auto text = read_whole(path, why, max_config_bytes);
    if (!text) {
        return std::vector<config_issue>{config_issue{
            source_location{path, 0, 0}, "", fmt::format("cannot read config file '{}': {}", path, why)}};
    }
    return load_string(*text, path);
}

}  // namespace wfsync::config
