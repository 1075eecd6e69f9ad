// SPDX-License-Identifier: Apache-2.0
// The store backend the shared store suite (store_contract_test.cpp) runs against, chosen when
// the suite is compiled: SQLite (a file in a temporary directory) in wfsync_unit_store,
// PostgreSQL (a fresh database on a throwaway server) in wfsync_unit_store_postgres.
#pragma once

#include <wfsync/store/store.hpp>

#include <boost/test/unit_test.hpp>

#include <memory>
#include <string>

namespace wfsync::test {

/// "sqlite" or "postgresql".
const char* store_backend_name();

/// Whether the backend can run here; when not, the message says why (the suite is skipped).
boost::test_tools::assertion_result store_backend_available(boost::unit_test::test_unit_id);

/// A fresh, empty state for one test. open_store() connects to it (again): a second call is
/// another connection to the same state, as a second process would have.
class backend_fixture {
public:
    backend_fixture();
    ~backend_fixture();
    std::unique_ptr<wfsync::store::store> open_store();

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace wfsync::test
