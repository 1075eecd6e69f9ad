// SPDX-License-Identifier: Apache-2.0
#include <wfsync/archive/archive.hpp>
#include <wfsync/core/read_file.hpp>

#include <wfsync/core/hash.hpp>
#include <wfsync/core/log.hpp>
#include <wfsync/core/zip.hpp>
#include <wfsync/core/zlib.hpp>

#include <fmt/format.h>

#include <fcntl.h>
#include <stdio.h>  // renameat2
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <map>
#include <set>
#include <utility>

namespace wfsync::archive {
namespace {

namespace fs = std::filesystem;
using sys_clock = std::chrono::system_clock;

constexpr std::size_t max_component_bytes = 100;
/// Reading an archive file or inflating it never produces more than this.
constexpr std::size_t max_file_bytes = std::size_t{512} << 20;
/// Temporary files younger than this may belong to a put in progress: prune leaves them.
constexpr auto temp_grace = std::chrono::hours{1};

constexpr std::string_view ext_json_gz = ".json.gz";
constexpr std::string_view ext_zip = ".zip";
constexpr std::string_view zuora_file = "workflow.json";

std::string os_error(int err)
{
    switch (err) {
    case ENOSPC: return "no space left on device";
    case EFBIG: return "file too large (file size limit reached)";
    case EDQUOT: return "disk quota exceeded";
    default: return std::strerror(err);
    }
}

error io_error(std::string_view what, const fs::path& p, int err)
{
    return fail(errc_for_errno(err), fmt::format("{} {}: {}", what, p.string(), os_error(err)));
}

bool is_temp_name(std::string_view name) noexcept
{
    return name.find(".tmp-") != std::string_view::npos;
}

store::unix_time to_unix(sys_clock::time_point t)
{
    return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

std::string utc_stamp(store::unix_time t)
{
    std::time_t tt = static_cast<std::time_t>(t);
    std::tm tm{};
    ::gmtime_r(&tt, &tm);
    return fmt::format("{:04}{:02}{:02}T{:02}{:02}{:02}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                       tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/// fsync of a directory, so that a rename or mkdir in it survives a power loss.
result<void> sync_dir(const fs::path& dir)
{
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return io_error("cannot open directory", dir, errno);
    int rc = ::fsync(fd);
    int err = errno;
    ::close(fd);
    if (rc != 0) return io_error("cannot sync directory", dir, err);
    return {};
}

/// Creates `dir` (and missing parents) with mode 0700, whatever the umask.
result<void> make_private_dir(const fs::path& dir)
{
    if (dir.empty()) return {};
    std::error_code ec;
    if (fs::is_directory(dir, ec)) return {};
    if (dir.has_parent_path() && dir.parent_path() != dir)
        if (auto r = make_private_dir(dir.parent_path()); !r) return r;
    if (::mkdir(dir.c_str(), 0700) != 0) {
        const int err = errno;
        if (err == EEXIST && fs::is_directory(dir, ec)) return {};  // made concurrently
        if (err == EEXIST)
            return fail(errc::io, fmt::format("cannot create archive directory {}: it exists and is "
                                              "not a directory",
                                              dir.string()));
        return io_error("cannot create archive directory", dir, err);
    }
    // mkdir's mode is filtered by the umask; chmod is not.
    if (::chmod(dir.c_str(), 0700) != 0) return io_error("cannot set mode 0700 on", dir, errno);
    if (dir.has_parent_path()) return sync_dir(dir.parent_path());
    return {};
}

/// The whole regular file at `p` (not following a symlink), or an io error with the errno.
struct read_outcome {
    std::string bytes;
    int err = 0;  ///< 0 = read; else errno (EFBIG for over max_file_bytes, EINVAL for not a file)
    unsigned mode = 0;  ///< the file's type and mode, when it was opened

    /// Why it could not be read, for a report or an error.
    std::string why() const
    {
        if (err == EINVAL && mode != 0) return fmt::format("not a regular file but {}", file_kind(mode));
        if (err == ELOOP) return "a symbolic link, which is not followed";
        if (err == EFBIG) return fmt::format("larger than the limit of {} bytes", max_file_bytes);
        return os_error(err);
    }
};

read_outcome read_whole(const fs::path& p)
{
    read_outcome out;
    // O_NONBLOCK: a FIFO in place of an archive file is refused below, not waited on.
    int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0) {
        out.err = errno;
        return out;
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        out.err = S_ISREG(st.st_mode) ? errno : EINVAL;
        out.mode = st.st_mode;
        ::close(fd);
        return out;
    }
    out.mode = st.st_mode;
    if (static_cast<std::size_t>(st.st_size) > max_file_bytes) {
        out.err = EFBIG;
        ::close(fd);
        return out;
    }
    (void)::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    out.bytes.resize(static_cast<std::size_t>(st.st_size));
    std::size_t done = 0;
    for (;;) {
        if (done == out.bytes.size()) out.bytes.resize(done + 4096);  // it grew meanwhile
        ssize_t n = ::read(fd, out.bytes.data() + done, out.bytes.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            out.err = errno;
            break;
        }
        if (n == 0) break;
        done += static_cast<std::size_t>(n);
        if (done > max_file_bytes) {
            out.err = EFBIG;
            break;
        }
    }
    ::close(fd);
    out.bytes.resize(done);
    return out;
}

/// Writes `bytes` to the new file `tmp` (0600), fsyncs and closes it; on failure removes it.
result<void> write_temp(const fs::path& tmp, std::string_view bytes)
{
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) return io_error("cannot create archive file", tmp, errno);
    auto failed = [&](std::string_view what, int err) {
        ::close(fd);
        ::unlink(tmp.c_str());
        return io_error(what, tmp, err);
    };
    if (::fchmod(fd, 0600) != 0) return failed("cannot set mode 0600 on", errno);
    std::size_t done = 0;
    while (done < bytes.size()) {
        ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return failed("cannot write archive file", errno);
        if (n == 0) return failed("cannot write archive file", EIO);
        done += static_cast<std::size_t>(n);
    }
    if (::fsync(fd) != 0) return failed("cannot sync archive file", errno);
    if (::close(fd) != 0) {
        int err = errno;
        ::unlink(tmp.c_str());
        return io_error("cannot close archive file", tmp, err);
    }
    return {};
}

/// rename(2) that refuses to replace an existing file (EEXIST).
int rename_noreplace(const fs::path& from, const fs::path& to)
{
#ifdef RENAME_NOREPLACE
    if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) return 0;
    if (errno != EINVAL && errno != ENOSYS) return -1;
#endif
    // The file system cannot do it atomically; the check-then-rename window is harmless for
    // our names (time stamp and content hash in them).
    struct stat st {};
    if (::lstat(to.c_str(), &st) == 0) {
        errno = EEXIST;
        return -1;
    }
    return ::rename(from.c_str(), to.c_str());
}

/// The encoded file and its extension for a package.
result<std::pair<std::string, std::string_view>> encode(const connector::package& p)
{
    if (p.format == "zuora-json" && p.files.size() == 1 && p.files.begin()->first == zuora_file)
        return std::pair<std::string, std::string_view>{gzip_compress(p.files.begin()->second), ext_json_gz};
    auto zip = make_zip(p.files);
    if (!zip) return std::move(zip.error()).context("pack archive file");
    return std::pair<std::string, std::string_view>{std::move(*zip), ext_zip};
}

bool ends_with(std::string_view s, std::string_view suffix) noexcept
{
    return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

/// A catalogue path must stay inside the root.
bool safe_relative(const std::string& rel)
{
    fs::path p(rel);
    if (rel.empty() || p.is_absolute()) return false;
    for (const auto& part : p)
        if (part == ".." || part == ".") return false;
    return true;
}

}  // namespace

std::string sanitize_component(std::string_view s)
{
    std::string out;
    out.reserve(s.size());
    for (char c : s) {
        const auto u = static_cast<unsigned char>(c);
        out.push_back(c == '/' || c == '\\' || u < 0x20 || u == 0x7f ? '_' : c);
    }
    if (out.size() > max_component_bytes) {
        std::size_t cut = max_component_bytes;
        // Never cut inside a UTF-8 sequence: back up to a lead or ASCII byte.
        while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
        out.resize(cut);
    }
    if (out.empty()) return "_";
    // ".", "..", hidden files: a leading dot becomes '_'.
    if (out.front() == '.') out.front() = '_';
    return out;
}

std::optional<entry> select_entry(const std::vector<entry>& entries, std::string_view version,
                                  std::optional<sys_clock::time_point> at)
{
    const entry* best = nullptr;
    for (const auto& e : entries) {
        if (!version.empty() && e.version != version) continue;
        if (version.empty() && at && e.stored_at > to_unix(*at)) continue;
        if (!best || e.stored_at > best->stored_at || (e.stored_at == best->stored_at && e.id > best->id))
            best = &e;
    }
    if (!best) return std::nullopt;
    return *best;
}

result<archive> archive::open(std::string name, std::string root, store::store& st)
{
    if (name.empty()) return fail(errc::invalid_argument, "archive name is empty");
    if (root.empty())
        return fail(errc::invalid_argument, fmt::format("archive {}: root directory is empty", name));
    // "backups/" and "./backups" name the same root as "backups"; relative paths in reports
    // are computed lexically from it.
    fs::path normal = fs::path(root).lexically_normal();
    if (!normal.has_filename() && normal.has_parent_path() && normal != normal.root_path())
        normal = normal.parent_path();
    if (auto r = make_private_dir(normal); !r)
        return std::move(r.error()).context(fmt::format("open archive {}", name));
    return archive(std::move(name), normal.string(), st);
}

result<std::vector<entry>> archive::list(const std::string& tenant, const std::string& workflow)
{
    return store_->list_archive_entries(name_, tenant, workflow);
}

result<entry> archive::put(const std::string& tenant, const connector::package& p,
                           const std::string& content_hash, sys_clock::time_point now)
{
    const std::string what =
        fmt::format("archive {}: put {}/{} ({}) version {}", name_, tenant, p.workflow_id,
                    p.workflow_name, p.version);
    if (tenant.empty() || p.workflow_id.empty() || content_hash.empty() || p.files.empty())
        return fail(errc::invalid_argument,
                    fmt::format("{}: tenant, workflow id, content hash and package files are "
                                "required",
                                what));
    const fs::path root(root_);
    const store::unix_time at = to_unix(now);

    entry row;
    row.archive = name_;
    row.tenant = tenant;
    row.workflow_id = p.workflow_id;
    row.workflow_name = p.workflow_name;
    row.version = p.version;
    row.content_hash = content_hash;
    row.format = p.format;
    row.stored_at = at;

    // Same content already archived: share its file, if that file is still sound.
    auto existing = store_->find_archive_entry_by_hash(name_, tenant, p.workflow_id, content_hash);
    if (!existing) return std::move(existing.error()).context(what);
    if (*existing) {
        if ((*existing)->version == p.version) return **existing;
        auto got = read_whole(root / (*existing)->path);
        if (got.err == 0 && sha256_hex(got.bytes) == (*existing)->file_sha256 &&
            safe_relative((*existing)->path)) {
            row.path = (*existing)->path;
            row.file_sha256 = (*existing)->file_sha256;
            row.size = (*existing)->size;
            auto added = store_->add_archive_entry(row);
            if (!added) return std::move(added.error()).context(what);
            return std::move(*added);
        }
        // The shared file is gone or damaged (verify says so): store this one afresh.
    }

    auto encoded = encode(p);
    if (!encoded) return std::move(encoded.error()).context(what);
    const std::string& bytes = encoded->first;
    const std::string_view ext = encoded->second;
    row.file_sha256 = sha256_hex(bytes);
    row.size = static_cast<std::int64_t>(bytes.size());

    const std::string dir_rel = sanitize_component(tenant) + "/" +
                                sanitize_component(p.workflow_name + "-" + p.workflow_id);
    const fs::path dir = root / dir_rel;
    const std::string tail = "_" + sanitize_component(p.version.empty() ? "unversioned" : p.version) +
                             "_" + sanitize_component(content_hash.substr(0, 8));
    const std::string base = utc_stamp(at) + tail;

    if (auto r = make_private_dir(dir); !r) return std::move(r.error()).context(what);

    // A file that an earlier put renamed into place but never catalogued (killed in between)
    // is adopted when it holds exactly these bytes.
    auto catalogued = [&](const std::string& rel) -> result<bool> {
        auto f = store_->find_archive_file(name_, rel);
        if (!f) return f.error();
        return f->has_value();
    };
    auto adoptable = [&](const fs::path& file, const std::string& rel) -> result<bool> {
        auto known = catalogued(rel);
        if (!known) return known.error();
        if (*known) return false;
        auto got = read_whole(file);
        return got.err == 0 && got.bytes == bytes;
    };
    std::string chosen;
    {
        std::error_code ec;
        // Temporary files carry their writer's pid. Writers hold the state lock, so one of
        // another process was left by an interrupted write (a kill -9): removed, or `archive
        // verify` would report it for ever. This process's own may be in flight (serve).
        const std::string own_temp = ".tmp-" + std::to_string(::getpid()) + "-";
        for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
            const std::string fname = it->path().filename().string();
            if (is_temp_name(fname) && fname.find(own_temp) == std::string::npos) {
                std::error_code gone;
                if (fs::remove(it->path(), gone))
                    log::info("archive {}: removed {}/{}, left by an interrupted write", name_, dir_rel, fname);
                continue;
            }
            if (is_temp_name(fname) || !ends_with(fname, tail + std::string(ext))) continue;
            if (!it->is_regular_file(ec) || it->is_symlink(ec)) continue;
            auto ok = adoptable(it->path(), dir_rel + "/" + fname);
            if (!ok) return std::move(ok.error()).context(what);
            if (*ok) {
                chosen = fname;
                break;
            }
        }
    }

    bool wrote = false;
    if (chosen.empty()) {
        const fs::path tmp = dir / (base + std::string(ext) + ".tmp-" + std::to_string(::getpid()) + "-" + random_hex(6));
        if (auto r = write_temp(tmp, bytes); !r) return std::move(r.error()).context(what);
        for (int n = 0; n < 100 && chosen.empty(); ++n) {
            const std::string fname =
                n == 0 ? base + std::string(ext) : fmt::format("{}-{}{}", base, n, ext);
            if (rename_noreplace(tmp, dir / fname) == 0) {
                chosen = fname;
                wrote = true;
                break;
            }
            const int err = errno;
            if (err != EEXIST) {
                ::unlink(tmp.c_str());
                return io_error(what + ": cannot rename into place", dir / fname, err);
            }
            auto ok = adoptable(dir / fname, dir_rel + "/" + fname);
            if (!ok) {
                ::unlink(tmp.c_str());
                return std::move(ok.error()).context(what);
            }
            if (*ok) {
                ::unlink(tmp.c_str());
                chosen = fname;
            }
        }
        if (chosen.empty()) {
            ::unlink(tmp.c_str());
            return fail(errc::io, fmt::format("{}: no free file name for {} in {}", what, base,
                                              dir.string()));
        }
        if (auto r = sync_dir(dir); !r) {
            ::unlink((dir / chosen).c_str());
            return std::move(r.error()).context(what);
        }
    }

    row.path = dir_rel + "/" + chosen;
    auto added = store_->add_archive_entry(row);
    if (!added) {
        // Not catalogued: remove what we just wrote so nothing unknown stays behind.
        if (wrote) ::unlink((dir / chosen).c_str());
        return std::move(added.error()).context(what);
    }
    return std::move(*added);
}

result<connector::package> archive::load(const entry& e)
{
    const std::string what = fmt::format("archive {}: load {}", name_, e.path);
    if (!safe_relative(e.path))
        return fail(errc::invalid_argument, fmt::format("{}: path leaves the archive root", what));
    const fs::path file = fs::path(root_) / e.path;
    auto got = read_whole(file);
    if (got.err != 0)
        return fail(errc_for_errno(got.err), fmt::format("{}: cannot read archive file {}: {}", what, file.string(), got.why()));
    const std::string sha = sha256_hex(got.bytes);
    if (sha != e.file_sha256)
        return fail(errc::io, fmt::format("{}: archive file {} is corrupt: sha256 {}, the catalogue "
                                          "says {}",
                                          what, file.string(), sha, e.file_sha256));
    connector::package p;
    p.format = e.format;
    p.workflow_id = e.workflow_id;
    p.workflow_name = e.workflow_name;
    p.version = e.version;
    if (ends_with(e.path, ext_json_gz)) {
        auto raw = gzip_decompress(got.bytes, max_file_bytes);
        if (!raw) return std::move(raw.error()).context(what);
        p.files.emplace(std::string(zuora_file), std::move(*raw));
    } else if (ends_with(e.path, ext_zip)) {
        zip_limits limits;
        limits.max_entries = 4096;
        limits.max_entry_size = max_file_bytes;
        limits.max_total = max_file_bytes;
        auto files = unzip(got.bytes, limits);
        if (!files) return std::move(files.error()).context(what);
        p.files = std::move(*files);
    } else {
        return fail(errc::invalid_argument, fmt::format("{}: not a .json.gz or .zip file", what));
    }
    return p;
}

result<verify_report> archive::verify(const std::function<void(std::size_t, std::size_t, std::string_view)>& on_file)
{
    auto files = store_->list_archive_files(name_);
    if (!files) return std::move(files.error()).context(fmt::format("verify archive {}", name_));
    verify_report rep;
    const fs::path root(root_);
    std::set<std::string> known;
    std::size_t done = 0;
    for (const auto& f : *files) {
        if (on_file) on_file(done++, files->size(), f.path);
        known.insert(f.path);
        if (!safe_relative(f.path)) {
            rep.corrupt.push_back({f.path, "catalogue path leaves the archive root"});
            continue;
        }
        auto got = read_whole(root / f.path);
        if (got.err == ENOENT) {
            rep.missing.push_back({f.path, "not on disk"});
            continue;
        }
        if (got.err == EACCES || got.err == EPERM) {
            rep.unreadable.push_back({f.path, fmt::format("cannot read: {}", got.why())});
            continue;
        }
        if (got.err != 0) {
            rep.corrupt.push_back({f.path, fmt::format("cannot read: {}", got.why())});
            continue;
        }
        const std::string sha = sha256_hex(got.bytes);
        if (sha != f.file_sha256) {
            rep.corrupt.push_back({f.path, fmt::format("sha256 {} ({} bytes), the catalogue says {} "
                                                       "({} bytes)",
                                                       sha, got.bytes.size(), f.file_sha256, f.size)});
            continue;
        }
        rep.verified.push_back(f.path);
    }

    std::error_code ec;
    if (!fs::exists(root, ec)) return rep;
    fs::recursive_directory_iterator it(root, fs::directory_options::none, ec), end;
    if (ec) {
        rep.unknown.push_back({".", fmt::format("cannot list the archive root: {}", ec.message())});
        return rep;
    }
    for (; it != end; it.increment(ec)) {
        if (ec) {
            rep.unknown.push_back({".", fmt::format("cannot list a directory: {}", ec.message())});
            break;
        }
        const auto status = it->symlink_status(ec);
        if (fs::is_directory(status)) continue;
        const std::string rel = it->path().lexically_relative(root).generic_string();
        if (known.count(rel)) continue;
        std::string detail = "not in the catalogue";
        if (is_temp_name(it->path().filename().string()))
            detail = "temporary file left by an interrupted write";
        else if (fs::is_symlink(status))
            detail = "symbolic link, not in the catalogue";
        else if (!fs::is_regular_file(status))
            detail = "not a regular file, not in the catalogue";
        rep.unknown.push_back({rel, std::move(detail)});
    }
    return rep;
}

result<prune_report> archive::prune(const retention_policy& policy, std::string_view timezone,
                                    bool dry_run, sys_clock::time_point now)
{
    const std::string what = fmt::format("prune archive {}", name_);
    if (auto r = validate(policy); !r) return std::move(r.error()).context(what);
    auto all = store_->list_archive_entries(name_);
    if (!all) return std::move(all.error()).context(what);

    prune_report rep;
    rep.dry_run = dry_run;

    // Per (tenant, workflow), in catalogue order (stored_at, id).
    std::map<std::pair<std::string, std::string>, std::vector<const entry*>> groups;
    for (const auto& e : *all) groups[{e.tenant, e.workflow_id}].push_back(&e);
    for (const auto& [key, entries] : groups) {
        std::vector<sys_clock::time_point> times;
        times.reserve(entries.size());
        for (const entry* e : entries) times.push_back(sys_clock::time_point{std::chrono::seconds{e->stored_at}});
        auto decisions = apply_retention(times, policy, timezone);
        if (!decisions) return std::move(decisions.error()).context(what);
        // Decisions come newest first; report oldest first like list().
        for (auto d = decisions->rbegin(); d != decisions->rend(); ++d) {
            if (d->keep)
                rep.kept.push_back({*entries[d->index], std::move(d->reasons)});
            else
                rep.removed.push_back(*entries[d->index]);
        }
    }

    const fs::path root(root_);
    if (dry_run) {
        std::map<std::string, int> refs;
        for (const auto& e : *all) ++refs[e.path];
        for (const auto& e : rep.removed) --refs[e.path];
        for (const auto& [path, n] : refs)
            if (n == 0) rep.deleted_files.push_back(path);
    } else {
        std::vector<entry> done;
        for (const auto& e : rep.removed) {
            auto r = store_->remove_archive_entry(e.id);
            if (!r) {
                // Later rows stay catalogued (and kept on disk); the next prune retries them.
                rep.errors.push_back({e.path, r.error().message});
                break;
            }
            done.push_back(e);
            if (!*r) continue;
            rep.deleted_files.push_back(**r);
            if (!safe_relative(**r)) {
                rep.errors.push_back({**r, "catalogue path leaves the archive root; not deleted"});
                continue;
            }
            const fs::path file = root / **r;
            if (::unlink(file.c_str()) != 0 && errno != ENOENT) {
                rep.errors.push_back({**r, fmt::format("cannot delete: {}", os_error(errno))});
                continue;
            }
            // Leave no empty workflow or tenant directories behind (best effort).
            std::error_code ec;
            for (fs::path d = file.parent_path(); d != root && fs::is_empty(d, ec) && !ec;
                 d = d.parent_path())
                if (!fs::remove(d, ec)) break;
        }
        rep.removed = std::move(done);
        std::sort(rep.deleted_files.begin(), rep.deleted_files.end());
    }

    // Temporary files left by interrupted writes; recent ones may be a put in progress.
    std::error_code ec;
    if (fs::exists(root, ec)) {
        const auto cutoff = now - temp_grace;
        for (fs::recursive_directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
            if (!it->is_regular_file(ec) || !is_temp_name(it->path().filename().string())) continue;
            struct stat st {};
            if (::lstat(it->path().c_str(), &st) != 0) continue;
            if (sys_clock::from_time_t(st.st_mtime) > cutoff) continue;
            const std::string rel = it->path().lexically_relative(root).generic_string();
            if (!dry_run && ::unlink(it->path().c_str()) != 0) {
                rep.errors.push_back({rel, fmt::format("cannot delete: {}", os_error(errno))});
                continue;
            }
            rep.deleted_temp_files.push_back(rel);
        }
    }
    return rep;
}

}  // namespace wfsync::archive
