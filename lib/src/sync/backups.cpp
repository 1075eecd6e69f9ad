// SPDX-License-Identifier: Apache-2.0
// Backups: versions stored in archives, and the archives' retention.
#include "engine_impl.hpp"

#include <wfsync/core/log.hpp>

#include <fmt/format.h>

#include <chrono>

namespace wfsync::sync {
using namespace detail;

result<archive::archive*> engine::impl::archive_for(const std::string& name)
{
    if (auto it = archives.find(name); it != archives.end()) return &it->second;
    auto a = cfg->archives.find(name);
    if (a == cfg->archives.end()) return fail(errc::config, "no archive named " + name);
    auto opened = archive::archive::open(name, a->second.path, st);
    if (!opened) return opened.error();
    return &archives.emplace(name, std::move(*opened)).first->second;
}

void engine::impl::backup(const config::rule& r, run_summary& s, store::row_id run, const run_options& o,
            const connector::workflow_summary& src, const connector::package& pkg,
            const normalized_package& norm, const std::string& target, item it, settled& outcome)
{
    auto started = now_ms();
    auto name = target.substr(std::string_view("archive:").size());
    it.target_tenant = target;
    auto done = [&](item&& i) {
        outcome = {i.what, i.done, i.target_workflow};
        if (i.what == action::error) ++s.errors;
        else if (i.what == action::unchanged) ++s.unchanged;
        else if (i.done) ++s.imported;
        record(s, run, i, started, o);
        log_item(s, i, fmt::format("{} {} '{}' -> {}: {}", verb_of(i), r.source, i.workflow_name, target,
                                   i.reason));
        s.items.push_back(std::move(i));
    };
    if (!cfg->archives.contains(name)) {
        it.what = action::error;
        it.error_kind = errc::config;
        it.reason = "no archive named " + name;
        return done(std::move(it));
    }
    auto existing = st.find_archive_entry_by_hash(name, r.source, src.id, norm.hash);
    if (!existing) {
        it.what = action::error;
        it.error_kind = existing.error().code;
        it.reason = existing.error().what();
        return done(std::move(it));
    }
    if (*existing) {
        it.what = action::unchanged;
        it.target_workflow = (*existing)->path;
        it.target_version = (*existing)->version;
        it.reason = "already in the archive";
        return done(std::move(it));
    }
    it.what = action::import;
    it.target_version = it.source_version;
    if (o.dry_run) {
        it.reason = "new content: would be stored";
        return done(std::move(it));
    }
    // Opened only to write: a plan or a dry run must not create the archive's directories.
    auto a = archive_for(name);
    if (!a) {
        it.what = action::error;
        it.error_kind = a.error().code;
        it.reason = a.error().what();
        return done(std::move(it));
    }
    auto stored = (*a)->put(r.source, pkg, norm.hash, std::chrono::system_clock::now());
    if (!stored) {
        it.what = action::error;
        it.error_kind = stored.error().code;
        it.reason = "storing in archive " + name + ": " + stored.error().what();
        return done(std::move(it));
    }
    it.done = true;
    it.target_workflow = stored->path;
    it.reason = "stored as " + stored->path;
    done(std::move(it));
}

void engine::impl::apply_retention(const config::rule& r, run_summary& s)
{
    for (const auto& target : r.targets) {
        if (target.rfind("archive:", 0) != 0) continue;
        auto name = target.substr(std::string_view("archive:").size());
        auto conf = cfg->archives.find(name);
        if (conf == cfg->archives.end()) continue;
        auto policy = archive::retention_from(r.retention.empty() ? conf->second.retention : r.retention);
        if (policy.empty()) continue;
        auto a = archive_for(name);
        if (!a) {
            s.prune_errors.push_back(name + ": " + a.error().what());
            continue;
        }
        auto pruned = (*a)->prune(policy, r.timezone, false, std::chrono::system_clock::now());
        if (!pruned) {
            s.prune_errors.push_back(name + ": " + pruned.error().what());
        } else if (!pruned->ok()) {
            for (const auto& e : pruned->errors) s.prune_errors.push_back(name + ": " + e.path + ": " + e.detail);
        } else if (!pruned->removed.empty()) {
            log::info(run_fields(s), "retention removed {} versions from archive {}",
                      pruned->removed.size(), name);
        }
    }
    for (const auto& e : s.prune_errors) log::error(run_fields(s), "retention failed: {}", e);
}

}  // namespace wfsync::sync
