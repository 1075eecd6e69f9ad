// SPDX-License-Identifier: Apache-2.0
#include "version_command.hpp"

#include "output.hpp"

#include <wfsync/core/build_info.hpp>

#include <boost/json/object.hpp>
#include <boost/version.hpp>

#include <CLI/Version.hpp>
#include <fmt/format.h>
#include <openssl/crypto.h>
#include <spdlog/version.h>
#include <sqlite3.h>
#include <zip.h>
#include <zlib.h>

#include <ostream>
#include <utility>
#include <vector>

namespace wfsync::app {

namespace {

/// Name and version of each library; the shared ones as loaded now, not as compiled against.
std::vector<std::pair<std::string, std::string>> libraries()
{
    return {
        {"boost", fmt::format("{}.{}.{}", BOOST_VERSION / 100000, BOOST_VERSION / 100 % 1000, BOOST_VERSION % 100)},
        {"openssl", OpenSSL_version(OPENSSL_VERSION)},
        {"sqlite", sqlite3_libversion()},
        {"zlib", zlibVersion()},
        {"libzip", zip_libzip_version()},
        {"spdlog", fmt::format("{}.{}.{}", SPDLOG_VER_MAJOR, SPDLOG_VER_MINOR, SPDLOG_VER_PATCH)},
        {"fmt", fmt::format("{}.{}.{}", FMT_VERSION / 10000, FMT_VERSION / 100 % 100, FMT_VERSION % 100)},
        {"cli11", CLI11_VERSION},
    };
}

}  // namespace

int run_version(const command_line& cl, std::ostream& out)
{
    const auto libs = libraries();
    if (cl.json) {
        boost::json::object l;
        for (const auto& [name, v] : libs) l[name] = v;
        print_json(out, boost::json::object{{"version", build_info::version()},
                                            {"revision", build_info::revision()},
                                            {"build_type", build_info::build_type()},
                                            {"libraries", std::move(l)}});
        return exit_ok;
    }
    out << "wfsync " << build_info::version() << " (" << build_info::revision() << ", " << build_info::build_type()
        << ")\n";
    for (const auto& [name, v] : libs) out << "  " << name << ' ' << v << '\n';
    return exit_ok;
}

}  // namespace wfsync::app
