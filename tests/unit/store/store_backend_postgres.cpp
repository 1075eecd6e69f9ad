// SPDX-License-Identifier: Apache-2.0
#include "store_backend.hpp"
#include "postgres_fixture.hpp"

#include <iostream>

namespace wfsync::test {

struct backend_fixture::impl {
    std::string url;
};

const char* store_backend_name() { return "postgresql"; }

boost::test_tools::assertion_result store_backend_available(boost::unit_test::test_unit_id)
{
    if (auto why = postgres_unavailable()) {
        boost::test_tools::assertion_result r(false);
        r.message() << "PostgreSQL store tests skipped: " << *why;
        // Said once on stderr too, where ctest's default output shows it.
        static bool said = false;
        if (!said) std::cerr << "PostgreSQL store tests skipped: " << *why << "\n";
        said = true;
        return r;
    }
    return true;
}

backend_fixture::backend_fixture() : impl_(std::make_unique<impl>()) { impl_->url = fresh_postgres_database(); }
backend_fixture::~backend_fixture() = default;

std::unique_ptr<wfsync::store::store> backend_fixture::open_store()
{
    auto s = wfsync::store::open_postgresql(impl_->url);
    BOOST_TEST_REQUIRE(s.has_value(), (s.has_error() ? s.error().what() : ""));
    return std::move(*s);
}

}  // namespace wfsync::test
