// SPDX-License-Identifier: Apache-2.0
// The apply stage: intents made durable, what an import created read back, and remembered.
#include "engine_impl.hpp"

#include <wfsync/core/log.hpp>
#include <wfsync/sync/diff.hpp>

#include <boost/asio/post.hpp>

#include <fmt/format.h>

#include <ctime>

namespace wfsync::sync {
using namespace detail;

awaitable<read_back_result> engine::impl::read_back(connector::connector& target, const target_view& view,
                                      const std::string& version, const std::string& version_id,
                                      const normalized_package& sent)
{
    read_back_result out;
    auto versions = co_await target.list_versions(view.workflow);
    if (!versions) {
        out.note = "read-back failed (the next run takes it): " + versions.error().what();
        co_return out;
    }
    const connector::version_summary* found = nullptr;
    for (const auto& v : *versions)
        if ((!version_id.empty() && v.id == version_id) || (!found && v.version == version)) found = &v;
    if (!found) {
        // Kore.ai lists only "deployed": read what is there.
        if (versions->size() == 1) found = &versions->front();
        else {
            out.note = "read-back failed (the next run takes it): version " + version + " is not listed";
            co_return out;
        }
    }
    out.version = *found;
    auto tw = summary_of(view.workflow, view.name, found->version);
    bool other_space = false;
    auto fp = co_await read_fingerprint(target, tw, *found, other_space);
    if (!fp) {
        out.note = "read-back failed (the next run takes it): " + fp.error().what();
        co_return out;
    }
    out.hash = fp->hash;
    if (!other_space && fp->hash != sent.hash) {
        auto d = diff_packages(sent, *fp);
        std::string shown;
        for (std::size_t i = 0; i < d.size() && i < 3; ++i) shown += (i ? "; " : "") + d[i];
        if (d.size() > 3) shown += fmt::format("; and {} more", d.size() - 3);
        out.note = "the target stores it differently from what was sent (" + shown + ")";
    }
    co_return out;
}

result<void> engine::impl::remember(const config::rule& r, const connector::workflow_summary& src,
                      const std::string& hash, const std::string& target_name, const target_view& view,
                      const std::string& target_version, const std::string& target_hash)
{
    store::workflow_mapping m{r.source, src.id, target_name, view.workflow,
                              view.name.empty() ? src.name : view.name};
    if (auto p = st.put_mapping(m); !p) return p.error();
    store::version_mapping vm;
    vm.source_tenant = r.source;
    vm.source_workflow = src.id;
    vm.content_hash = hash;
    vm.target_tenant = target_name;
    vm.target_workflow = view.workflow;
    vm.target_version = target_version;
    vm.at = std::time(nullptr);
    vm.target_hash = target_hash;
    auto last = st.last_version_mapping(target_name, view.workflow);
    if (!last) return last.error();
    if (*last && (*last)->content_hash == hash && (*last)->target_version == target_version) {
        if ((*last)->target_hash.empty() && !target_hash.empty())
            return st.set_target_hash(target_name, view.workflow, hash, target_version, target_hash);
        return {};
    }
    return st.add_version_mapping(vm);
}

awaitable<result<void>> engine::impl::make_durable(store::row_id id)
{
    co_await boost::asio::post(ex, boost::asio::use_awaitable_t<executor>{});
    if (auto c = st.commit_batch(); !c) co_return std::move(c.error()).context("recording the import intent");
    auto kept = st.get_intent(id);
    if (!kept) co_return kept.error();
    if (!*kept) co_return fail(errc::store, fmt::format("import intent {} was not recorded; not sent", id));
    co_return result<void>{};
}

}  // namespace wfsync::sync
