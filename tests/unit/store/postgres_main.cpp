// SPDX-License-Identifier: Apache-2.0
#define BOOST_TEST_MODULE wfsync_store_postgres
#include <boost/test/unit_test.hpp>
