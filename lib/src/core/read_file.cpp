// SPDX-License-Identifier: Apache-2.0
#include <wfsync/core/read_file.hpp>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace wfsync {

namespace {

struct fd_closer {
    int fd;
    ~fd_closer()
    {
        if (fd >= 0) ::close(fd);
    }
};

/// Opens `path` for reading and checks it is a regular file of at most `cap` bytes; on
/// failure returns -1 and sets `e`.
int open_regular(const std::string& path, std::size_t cap, bool follow_links, error& e)
{
    // O_NONBLOCK: opening a FIFO with no writer must not hang; cleared before reading.
    int flags = O_RDONLY | O_NONBLOCK | O_CLOEXEC | (follow_links ? 0 : O_NOFOLLOW);
    int fd = ::open(path.c_str(), flags);
    if (fd < 0) {
        const int err = errno;
        e = fail(errc_for_errno(err), err == ELOOP && !follow_links
                                          ? fmt::format("{} is a symbolic link, which is not followed", path)
                                          : fmt::format("cannot open {}: {}", path, std::strerror(err)));
        return -1;
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        const int err = errno;
        ::close(fd);
        e = fail(errc_for_errno(err), fmt::format("cannot read {}: {}", path, std::strerror(err)));
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        ::close(fd);
        e = fail(errc::io, fmt::format("{} is not a regular file but {}", path, file_kind(st.st_mode)));
        return -1;
    }
    if (static_cast<std::uintmax_t>(st.st_size) > cap) {
        ::close(fd);
        e = fail(errc::io, fmt::format("{} is {} bytes, more than the limit of {} bytes", path, st.st_size, cap));
        return -1;
    }
    (void)::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    return fd;
}

}  // namespace

errc errc_for_errno(int err) noexcept
{
    return err == EACCES || err == EPERM ? errc::permission : errc::io;
}

std::string_view file_kind(unsigned mode) noexcept
{
    if (S_ISREG(mode)) return "a regular file";
    if (S_ISFIFO(mode)) return "a FIFO";
    if (S_ISDIR(mode)) return "a directory";
    if (S_ISSOCK(mode)) return "a socket";
    if (S_ISLNK(mode)) return "a symbolic link";
    return "a device";
}

result<std::string> read_regular_file(const std::string& path, std::size_t cap, bool follow_links)
{
    error e;
    int fd = open_regular(path, cap, follow_links, e);
    if (fd < 0) return e;
    fd_closer closer{fd};
    std::string out;
    char buf[8192];
    for (;;) {
        auto n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            const int err = errno;
            return fail(errc_for_errno(err), fmt::format("cannot read {}: {}", path, std::strerror(err)));
        }
        if (n == 0) return out;
        out.append(buf, static_cast<std::size_t>(n));
        if (out.size() > cap)  // grew while being read
            return fail(errc::io, fmt::format("{} is more than the limit of {} bytes", path, cap));
    }
}

result<void> check_regular_file(const std::string& path, std::size_t cap)
{
    error e;
    int fd = open_regular(path, cap, true, e);
    if (fd < 0) return e;
    ::close(fd);
    return {};
}

}  // namespace wfsync
