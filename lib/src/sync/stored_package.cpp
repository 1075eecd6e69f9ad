// SPDX-License-Identifier: Apache-2.0
#include <wfsync/sync/stored_package.hpp>

#include <wfsync/core/zip.hpp>
#include <wfsync/sync/normalize.hpp>

#include <fmt/format.h>

#include <vector>

namespace wfsync::sync {

result<connector::package> stored_package(const store::workflow_row& w, const store::version_row& v,
                                          const std::string& bytes)
{
    connector::package base;
    base.format = v.format;
    base.workflow_id = w.remote_id;
    base.workflow_name = w.name;
    base.version = v.version;

    std::vector<connector::package> readings;
    if (bytes.starts_with("PK\x03\x04")) {
        if (auto files = unzip(bytes); files && files->size() > 1) {
            readings.push_back(base);
            readings.back().files = std::move(*files);
        }
    }
    // A lone file: Zuora's is workflow.json; a tenant-named one is hashed as export.<ext>.
    for (const char* name : {"workflow.json", "export.json", "export"}) {
        readings.push_back(base);
        readings.back().files.emplace(name, bytes);
    }
    for (auto& p : readings) {
        auto n = normalize(p);
        if (n && n->hash == v.content_hash) return std::move(p);
    }
    // Not errc::store: the record may be sound, kept under a file name this cannot guess
    // (a tenant-named lone file with an extension other than .json).
    return fail(errc::not_found, fmt::format("cannot rebuild the package of version {} of {}/{} from the state: no "
                                             "reading of its bytes has the recorded content hash {}",
                                             v.version, w.tenant, w.remote_id, v.content_hash));
}

}  // namespace wfsync::sync
