// SPDX-License-Identifier: Apache-2.0
#include <wfsync/core/zip.hpp>

#include <fmt/format.h>

#include <zip.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <set>
#include <vector>

namespace wfsync {

namespace {

struct archive_closer {
    void operator()(zip_t* z) const noexcept { zip_discard(z); }
};
struct file_closer {
    void operator()(zip_file_t* f) const noexcept { zip_fclose(f); }
};
struct source_freer {
    void operator()(zip_source_t* s) const noexcept { zip_source_free(s); }
};
using archive_ptr = std::unique_ptr<zip_t, archive_closer>;
using file_ptr = std::unique_ptr<zip_file_t, file_closer>;
using source_ptr = std::unique_ptr<zip_source_t, source_freer>;

/// Printable form of an entry name for messages (controls escaped, cut at 200 bytes).
std::string shown(std::string_view name)
{
    std::string out;
    for (unsigned char c : name.substr(0, 200)) {
        if (c < 0x20 || c == 0x7f)
            out += fmt::format("\\x{:02x}", c);
        else
            out += static_cast<char>(c);
    }
    if (name.size() > 200) out += "...";
    return out;
}

/// Why `name` may not be written anywhere, or nullopt if it is a safe relative path.
std::optional<std::string> bad_name(std::string_view name)
{
    if (name.empty()) return "an empty name";
    if (name.find('\0') != std::string_view::npos) return "a NUL byte in its name";
    if (name.find('\\') != std::string_view::npos) return "a backslash in its name";
    if (name.front() == '/') return "an absolute path";
    if (name.size() >= 2 && name[1] == ':') return "an absolute path (drive letter)";
    std::string_view rest = name;
    while (!rest.empty()) {
        auto slash = rest.find('/');
        auto part = rest.substr(0, slash);
        if (part == "..") return "a '..' component";
        if (slash == std::string_view::npos) break;
        rest.remove_prefix(slash + 1);
    }
    return std::nullopt;
}

std::uint32_t le16(std::string_view b, std::size_t at)
{
    return std::uint32_t(static_cast<unsigned char>(b[at])) | std::uint32_t(static_cast<unsigned char>(b[at + 1])) << 8;
}
std::uint32_t le32(std::string_view b, std::size_t at)
{
    return le16(b, at) | le16(b, at + 2) << 16;
}

/// The raw names of the central directory, read before libzip sees the archive: it gives
/// the entry count before anything is allocated for the entries, and the names with their
/// real length (libzip hands out C strings, which hide a NUL byte). nullopt for zip64
/// archives (counts and offsets in an extra record), which are left to libzip alone.
result<std::optional<std::vector<std::string>>> central_names(std::string_view b, const zip_limits& limits)
{
    constexpr std::size_t eocd_size = 22;
    if (b.size() < eocd_size) return fail(errc::bad_response, fmt::format("not a zip archive ({} bytes)", b.size()));
    // The end record is the last thing in the file, followed only by a comment of at most
    // 65535 bytes: search backwards from the end.
    std::size_t lowest = b.size() > eocd_size + 65535 ? b.size() - eocd_size - 65535 : 0;
    std::optional<std::size_t> eocd;
    for (std::size_t at = b.size() - eocd_size + 1; at-- > lowest;) {
        if (le32(b, at) == 0x06054b50) {
            eocd = at;
            break;
        }
    }
    if (!eocd) {
        return fail(errc::bad_response, b.starts_with("PK\x03\x04")
                                            ? "damaged zip archive: no end of central directory record (truncated?)"
                                            : "not a zip archive (no end of central directory record)");
    }
    std::uint32_t count = le16(b, *eocd + 10);
    std::uint32_t cd_size = le32(b, *eocd + 12);
    std::uint32_t cd_offset = le32(b, *eocd + 16);
    if (count == 0xffff || cd_size == 0xffffffff || cd_offset == 0xffffffff) return std::nullopt;  // zip64
    if (count > limits.max_entries) {
        return fail(errc::body_too_large,
                    fmt::format("zip archive has {} entries, more than the limit of {}", count, limits.max_entries));
    }
    if (std::uint64_t(cd_offset) + cd_size > *eocd) {
        return fail(errc::bad_response, "damaged zip archive: central directory lies outside the file (truncated?)");
    }
    std::vector<std::string> names;
    std::size_t at = cd_offset;
    for (std::uint32_t i = 0; i < count; ++i) {
        if (at + 46 > *eocd || le32(b, at) != 0x02014b50) {
            return fail(errc::bad_response, fmt::format("damaged zip archive: central directory entry {} is missing", i));
        }
        std::size_t name_len = le16(b, at + 28), extra_len = le16(b, at + 30), comment_len = le16(b, at + 32);
        if (at + 46 + name_len > *eocd) {
            return fail(errc::bad_response, fmt::format("damaged zip archive: name of entry {} is cut off", i));
        }
        names.emplace_back(b.substr(at + 46, name_len));
        at += 46 + name_len + extra_len + comment_len;
    }
    return names;
}

}  // namespace

result<std::map<std::string, std::string>> unzip(std::string_view bytes, const zip_limits& limits)
{
    auto raw = central_names(bytes, limits);
    if (!raw) return raw.error();
    if (*raw) {
        std::set<std::string_view> seen;
        for (const auto& name : **raw) {
            if (auto why = bad_name(name)) {
                return fail(errc::bad_response, fmt::format("zip entry '{}': refused: {}", shown(name), *why));
            }
            if (!seen.insert(name).second) {
                return fail(errc::bad_response,
                            fmt::format("zip entry '{}': refused: the name appears twice", shown(name)));
            }
        }
    }

    zip_error_t err;
    zip_error_init(&err);
    source_ptr src(zip_source_buffer_create(bytes.data(), bytes.size(), 0, &err));
    if (!src) {
        std::string msg = zip_error_strerror(&err);
        zip_error_fini(&err);
        return fail(errc::internal, "zip: cannot wrap the archive bytes: " + msg);
    }
    // CHECKCONS: the local headers must agree with the central directory.
    archive_ptr za(zip_open_from_source(src.get(), ZIP_RDONLY | ZIP_CHECKCONS, &err));
    if (!za) {
        std::string msg = zip_error_strerror(&err);
        zip_error_fini(&err);
        return fail(errc::bad_response, "not a readable zip archive: " + msg);
    }
    src.release();  // the archive owns the source now
    zip_error_fini(&err);

    zip_int64_t n = zip_get_num_entries(za.get(), 0);
    if (n < 0) return fail(errc::bad_response, "not a readable zip archive: no entry count");
    if (static_cast<std::uint64_t>(n) > limits.max_entries) {
        return fail(errc::body_too_large,
                    fmt::format("zip archive has {} entries, more than the limit of {}", n, limits.max_entries));
    }

    std::map<std::string, std::string> out;
    std::size_t total = 0;
    std::vector<char> buf(64 * 1024);
    for (zip_int64_t i = 0; i < n; ++i) {
        zip_stat_t st;
        zip_stat_init(&st);
        if (zip_stat_index(za.get(), i, ZIP_FL_ENC_RAW, &st) != 0 || !(st.valid & ZIP_STAT_NAME)) {
            return fail(errc::bad_response, fmt::format("zip entry {}: cannot read its header: {}", i,
                                                        zip_strerror(za.get())));
        }
        std::string name = st.name;
        if (auto why = bad_name(name)) {
            return fail(errc::bad_response, fmt::format("zip entry '{}': refused: {}", shown(name), *why));
        }
        if (name.back() == '/') continue;  // a directory
        if ((st.valid & ZIP_STAT_SIZE) && st.size > limits.max_entry_size) {
            return fail(errc::body_too_large,
                        fmt::format("zip entry '{}': declares {} bytes inflated, more than the limit of {}",
                                    shown(name), st.size, limits.max_entry_size));
        }
        file_ptr f(zip_fopen_index(za.get(), i, 0));
        if (!f) {
            return fail(errc::bad_response,
                        fmt::format("zip entry '{}': cannot open: {}", shown(name), zip_strerror(za.get())));
        }
        std::string data;
        // Count what really comes out, not what the header said: a bomb declares little.
        for (;;) {
            zip_int64_t got = zip_fread(f.get(), buf.data(), buf.size());
            if (got < 0) {
                return fail(errc::bad_response, fmt::format("zip entry '{}': damaged: {}", shown(name),
                                                            zip_file_strerror(f.get())));
            }
            if (got == 0) break;
            auto g = static_cast<std::size_t>(got);
            if (data.size() + g > limits.max_entry_size) {
                return fail(errc::body_too_large,
                            fmt::format("zip entry '{}': inflates to more than the limit of {} bytes", shown(name),
                                        limits.max_entry_size));
            }
            if (total + g > limits.max_total) {
                return fail(errc::body_too_large,
                            fmt::format("zip archive: inflates to more than the limit of {} bytes in all (at "
                                        "entry '{}')",
                                        limits.max_total, shown(name)));
            }
            data.append(buf.data(), g);
            total += g;
        }
        if (!out.emplace(name, std::move(data)).second) {
            return fail(errc::bad_response, fmt::format("zip entry '{}': refused: the name appears twice", shown(name)));
        }
    }
    return out;
}

result<std::string> make_zip(const std::map<std::string, std::string>& files)
{
    for (const auto& [name, data] : files) {
        auto why = bad_name(name);
        if (!why && name.back() == '/') why = "a directory name";
        if (why) return fail(errc::invalid_argument, fmt::format("zip entry '{}': cannot add: {}", shown(name), *why));
    }
    // libzip writes nothing for an archive without entries; an empty zip is its end record.
    if (files.empty()) return std::string("PK\x05\x06", 4) + std::string(18, '\0');
    zip_error_t err;
    zip_error_init(&err);
    source_ptr out(zip_source_buffer_create(nullptr, 0, 0, &err));
    if (!out) {
        zip_error_fini(&err);
        return fail(errc::internal, "zip: cannot create a buffer");
    }
    archive_ptr za(zip_open_from_source(out.get(), ZIP_TRUNCATE, &err));
    if (!za) {
        std::string msg = zip_error_strerror(&err);
        zip_error_fini(&err);
        return fail(errc::internal, "zip: cannot start an archive: " + msg);
    }
    zip_error_fini(&err);
    zip_source_keep(out.get());  // the archive frees its reference on close; we read it after

    auto broke = [&](std::string_view what) {
        return fail(errc::internal, fmt::format("zip: {}: {}", what, zip_strerror(za.get())));
    };
    for (const auto& [name, data] : files) {
        // The data lives in `files`, which outlives zip_close below: no copy needed.
        zip_source_t* s = zip_source_buffer(za.get(), data.data(), data.size(), 0);
        if (!s) return broke("cannot add " + shown(name));
        zip_int64_t idx = zip_file_add(za.get(), name.c_str(), s, ZIP_FL_ENC_UTF_8);
        if (idx < 0) {
            zip_source_free(s);
            return broke("cannot add " + shown(name));
        }
        // 1980-01-01 00:00 in DOS date/time; zip_file_set_mtime would go through localtime.
        if (zip_file_set_dostime(za.get(), idx, 0, (0 << 9) | (1 << 5) | 1, 0) != 0) return broke("cannot date " + shown(name));
        if (zip_set_file_compression(za.get(), idx, ZIP_CM_DEFLATE, 9) != 0) return broke("cannot compress " + shown(name));
    }
    if (zip_close(za.get()) != 0) return broke("cannot finish the archive");
    (void)za.release();  // zip_close freed it

    if (zip_source_open(out.get()) != 0) return fail(errc::internal, "zip: cannot read the archive back");
    std::string bytes;
    std::vector<char> buf(64 * 1024);
    for (;;) {
        zip_int64_t got = zip_source_read(out.get(), buf.data(), buf.size());
        if (got < 0) {
            zip_source_close(out.get());
            return fail(errc::internal, "zip: cannot read the archive back");
        }
        if (got == 0) break;
        bytes.append(buf.data(), static_cast<std::size_t>(got));
    }
    zip_source_close(out.get());
    return bytes;
}

}  // namespace wfsync
