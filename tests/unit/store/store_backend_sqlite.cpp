// SPDX-License-Identifier: Apache-2.0
#include "store_backend.hpp"

#include <support/temp_dir.hpp>

namespace wfsync::test {

struct backend_fixture::impl {
    temp_dir dir;
};

const char* store_backend_name() { return "sqlite"; }

boost::test_tools::assertion_result store_backend_available(boost::unit_test::test_unit_id) { return true; }

backend_fixture::backend_fixture() : impl_(std::make_unique<impl>()) {}
backend_fixture::~backend_fixture() = default;

std::unique_ptr<wfsync::store::store> backend_fixture::open_store()
{
    auto s = wfsync::store::open_sqlite(impl_->dir.file("state.db"));
    BOOST_TEST_REQUIRE(s.has_value(), (s.has_error() ? s.error().what() : ""));
    return std::move(*s);
}

}  // namespace wfsync::test
