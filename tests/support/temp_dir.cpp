// SPDX-License-Identifier: Apache-2.0
#include "temp_dir.hpp"

#include <wfsync/core/hash.hpp>

#include <fstream>
#include <sstream>

namespace wfsync::test {

temp_dir::temp_dir()
{
    path_ = std::filesystem::temp_directory_path() / ("wfsync-test-" + random_hex(6));
    std::filesystem::create_directories(path_);
}

temp_dir::~temp_dir()
{
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
}

std::string temp_dir::write(const std::string& name, const std::string& content) const
{
    auto p = path_ / name;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream out(p, std::ios::binary);
    out << content;
    return p.string();
}

std::string read_file(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

}  // namespace wfsync::test
