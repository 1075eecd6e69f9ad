// SPDX-License-Identifier: Apache-2.0
#pragma once
// Rows the store suites write, one definition for the shared suite and the backend-specific ones.

#include <wfsync/store/store.hpp>

#include <string>

namespace wfsync::test {

/// An intent of rule prod-to-sandbox for source 458 at 0.0.3, keyed `key`.
inline store::import_intent make_intent(const std::string& key, const std::string& hash = "h1")
{
    store::import_intent i;
    i.rule = "prod-to-sandbox";
    i.run_uid = "run-1";
    i.source_tenant = "prod";
    i.source_workflow = "458";
    i.source_version = "0.0.3";
    i.content_hash = hash;
    i.target_tenant = "sandbox";
    i.target_version = "0.0.1";
    i.generation = 0;
    i.idempotency_key = key;
    return i;
}

}  // namespace wfsync::test
