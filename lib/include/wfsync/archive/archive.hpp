// SPDX-License-Identifier: Apache-2.0
// A local archive of workflow versions (backups): compressed files in a directory tree that a
// person can browse, and a catalogue of them in the state database.
#pragma once

#include <wfsync/archive/retention.hpp>
#include <wfsync/connector/model.hpp>
#include <wfsync/core/error.hpp>
#include <wfsync/store/store.hpp>

#include <chrono>
#include <optional>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace wfsync::archive {

/// One archived version: a catalogue row (archive, tenant, workflow, version label, content
/// hash, file path relative to the root, the file's sha256 and size, when it was stored).
using entry = store::archive_entry_row;

/// A file that verify() or prune() has something to say about; `path` is relative to the root.
struct file_problem {
    std::string path;
    std::string detail;
};

struct verify_report {
    std::vector<std::string> verified;  ///< catalogued files whose bytes hash as recorded
    std::vector<file_problem> missing;  ///< catalogued, not on disk
    std::vector<file_problem> corrupt;  ///< catalogued, not a readable file or hashing differently
    /// Catalogued, but the OS refused to let this user read it (EACCES, EPERM): nothing is
    /// known of its bytes, and running as the archive's owner would tell.
    std::vector<file_problem> unreadable;
    /// On disk, not in the catalogue: strays, files left by a crash after the write and
    /// before the catalogue insert, and leftover temporary files (`*.tmp-*`).
    std::vector<file_problem> unknown;
    bool ok() const noexcept
    {
        return missing.empty() && corrupt.empty() && unknown.empty() && unreadable.empty();
    }
};

struct kept_entry {
    entry e;
    std::vector<std::string> reasons;  ///< as keep_decision::reasons ("last", "daily 2026-03-29")
};

struct prune_report {
    bool dry_run = false;
    std::vector<kept_entry> kept;
    std::vector<entry> removed;               ///< catalogue rows removed (dry run: would be)
    std::vector<std::string> deleted_files;   ///< files no entry uses any more (dry run: would be)
    std::vector<std::string> deleted_temp_files;  ///< `*.tmp-*` older than an hour (dry run: would be)
    std::vector<file_problem> errors;         ///< files that could not be deleted
    bool ok() const noexcept { return errors.empty(); }
};

/// An archive directory plus its catalogue in the store.
///
/// Layout: `<root>/<tenant>/<workflow-name>-<workflow-id>/<YYYYmmddTHHMMSSZ>_<version>_<hash8>.<ext>`
/// with the UTC time of the put, the version label and the first 8 characters of the
/// content hash. Each path component is sanitized: '/', '\', control characters and a
/// leading '.' become '_', and it is cut to 100 bytes (at a UTF-8 boundary); spaces and other
/// characters stay, so the name remains readable.
/// - `.json.gz`: a Zuora package (format "zuora-json", one file "workflow.json"), gzip of
///   the file's bytes: `gunzip` gives the exported JSON.
/// - `.zip`: every other package (Kore.ai's three files, a SecMaster export, which keeps its
///   own file name that way), core make_zip of package.files.
/// Directories are created 0700 and files 0600, whatever the umask.
///
/// Writes are atomic: `<final>.tmp-<random>` in the same directory, fsync, rename without
/// replacing, fsync of the directory; the catalogue row is added after the rename. A crash
/// leaves at most a temporary file or an uncatalogued file, never a catalogued partial one;
/// verify() reports both as unknown, and the next put of the same content adopts such a
/// file when its bytes are exactly what it would write.
///
/// Identical content (same content hash for the same tenant and workflow) is stored once:
/// a put with a new version label adds a catalogue row that shares the existing file. (The
/// raw bytes of the first version are kept; versions whose normalized content is equal are
/// interchangeable for a restore.)
///
/// Not thread-safe; one archive object per thread (like the store). put() and prune() on the
/// same archive must not run at the same time in different processes: a prune could delete
/// a file that a concurrent put has just decided to share.
class archive {
public:
    /// Opens the archive `name` rooted at directory `root`, creating the root (0700) if it
    /// does not exist. The store must outlive the archive.
    [[nodiscard]] static result<archive> open(std::string name, std::string root, store::store& st);

    const std::string& name() const noexcept { return name_; }
    const std::string& root() const noexcept { return root_; }

    /// Stores one exported version (see the class comment). Returns the catalogue entry,
    /// the existing one when this (workflow, version, content) is already archived.
    /// Errors: invalid_argument for an empty tenant, workflow id, content hash or package;
    /// io naming the path and the OS error ("no space left on device"), after which nothing
    /// partial remains and earlier entries are untouched; store for the catalogue.
    [[nodiscard]] result<entry> put(const std::string& tenant, const connector::package& p,
                                    const std::string& content_hash,
                                    std::chrono::system_clock::time_point now);

    /// Catalogue entries, oldest first; `workflow` matches the workflow id or name.
    [[nodiscard]] result<std::vector<entry>> list(const std::string& tenant = {},
                                                  const std::string& workflow = {});

    /// Reads an entry's file, checks its sha256 against the catalogue (errc::io on a
    /// mismatch or a missing file, naming the path) and returns the package: files, format,
    /// workflow id and name, and the entry's version label.
    [[nodiscard]] result<connector::package> load(const entry& e);

    /// Re-hashes every catalogued file and walks the tree for files the catalogue does not
    /// know. Only a failure to read the catalogue is an error; file problems are reported.
    /// `on_file(done, total, path)`, when given, is called before each catalogued file is read.
    [[nodiscard]] result<verify_report> verify(
        const std::function<void(std::size_t, std::size_t, std::string_view)>& on_file = {});

    /// Applies `policy` (in IANA zone `timezone`) to the entries of each (tenant, workflow),
    /// by stored_at; removes the catalogue rows not kept and deletes files no remaining row
    /// uses, and leftover temporary files older than an hour. An empty policy keeps all.
    /// `dry_run` computes the same report and changes nothing.
    [[nodiscard]] result<prune_report> prune(const retention_policy& policy, std::string_view timezone,
                                             bool dry_run, std::chrono::system_clock::time_point now);

private:
    archive(std::string name, std::string root, store::store& st)
        : name_(std::move(name)), root_(std::move(root)), store_(&st)
    {
    }

    std::string name_;
    std::string root_;
    store::store* store_;
};

/// The entry a restore means, among `entries` of one workflow (as list() returns them):
/// with `version` the newest entry with that label; else with `at` the newest entry stored at
/// or before it; else the newest. "Newest" = latest stored_at, then highest id.
std::optional<entry> select_entry(const std::vector<entry>& entries, std::string_view version = {},
                                  std::optional<std::chrono::system_clock::time_point> at = {});

/// A path component made safe and readable (see the class comment); never empty.
std::string sanitize_component(std::string_view s);

}  // namespace wfsync::archive
