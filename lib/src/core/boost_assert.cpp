// SPDX-License-Identifier: Apache-2.0
// Boost's assertion handler, used where BOOST_ENABLE_ASSERT_HANDLER is defined: the sanitizer
// and fuzz builds (top-level CMakeLists.txt), which keep Boost's asserts on. Without that
// macro nothing calls these.
#include <boost/assert.hpp>

#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace boost {

void assertion_failed_msg(char const* expr, char const* msg, char const* function, char const* file, long line)
{
    // Boost 1.81's Beast asserts n >= 5 in basic_parser::parse_chunk_header, where a chunk
    // header that arrives in small pieces can leave 3 or 4 bytes; the code after the assert
    // handles them (asks for more). The assert is wrong, fixed in boostorg/beast#2861
    // (Boost 1.86); release builds never had it. Found by fuzz_http_response.
    if (std::string_view(expr) == "n >= 5" && std::string_view(file).ends_with("beast/http/impl/basic_parser.ipp"))
        return;
    std::fprintf(stderr, "%s:%ld: %s: Assertion `%s' failed%s%s\n", file, line, function, expr, msg ? ": " : "",
                 msg ? msg : "");
    std::abort();
}

void assertion_failed(char const* expr, char const* function, char const* file, long line)
{
    assertion_failed_msg(expr, nullptr, function, file, line);
}

}  // namespace boost
