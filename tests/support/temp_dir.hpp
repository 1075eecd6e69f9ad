// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <filesystem>
#include <string>

namespace wfsync::test {

/// A fresh directory under $TMPDIR, removed with everything in it on destruction.
class temp_dir {
public:
    temp_dir();
    ~temp_dir();
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;

    const std::filesystem::path& path() const noexcept { return path_; }
    /// path() / name, as a string.
    std::string file(const std::string& name) const { return (path_ / name).string(); }
    /// Writes `content` to path()/name and returns the full path.
    std::string write(const std::string& name, const std::string& content) const;

private:
    std::filesystem::path path_;
};

/// Reads a whole file; empty if it does not exist.
std::string read_file(const std::string& path);

}  // namespace wfsync::test
