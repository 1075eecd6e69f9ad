// SPDX-License-Identifier: Apache-2.0
#include <wfsync/store/state_lock.hpp>

#include <wfsync/core/duration.hpp>
#include <wfsync/core/read_file.hpp>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <thread>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

namespace wfsync::store {

namespace {

std::string os_error(int err)
{
    return err == EROFS ? "read-only file system" : std::strerror(err);
}

/// What the lock file says of its holder, on one line, for an error message.
std::string holder_of(int fd)
{
    char buf[512];
    auto n = ::pread(fd, buf, sizeof buf - 1, 0);
    if (n <= 0) return "another wfsync";
    std::string text(buf, static_cast<std::size_t>(n));
    while (!text.empty() && (text.back() == '\n' || text.back() == '\0')) text.pop_back();
    for (auto& c : text)
        if (static_cast<unsigned char>(c) < 0x20) c = ' ';
    return text;
}

}  // namespace

result<state_lock> state_lock::acquire(const std::string& dir, const std::string& command,
                                       std::optional<std::chrono::milliseconds> wait)
{
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
        return fail(errc_for_errno(errno), fmt::format("cannot create state directory {}: {}", dir, os_error(errno)));
    const std::string path = dir + "/lock";
    // O_NONBLOCK: a FIFO in its place must be refused, not waited on.
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);
    if (fd < 0) {
        const int err = errno;
        if (err == ELOOP)
            return fail(errc::io, fmt::format("cannot open the state lock {}: it is a symbolic link, which wfsync "
                                              "does not follow; remove it",
                                              path));
        return fail(errc_for_errno(err),
                    fmt::format("cannot open the state lock {}: {}{}", path, os_error(err),
                                errc_for_errno(err) == errc::permission
                                    ? "; run wfsync as the user that owns the state (the service's user), or give "
                                      "that user access"
                                    : ""));
    }
    state_lock lock(fd);
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
        return fail(errc::io, fmt::format("the state lock {} is not a regular file but {}; remove it", path,
                                          file_kind(st.st_mode)));

    const auto deadline = std::chrono::steady_clock::now() + wait.value_or(std::chrono::milliseconds(0));
    for (;;) {
        if (::flock(fd, LOCK_EX | LOCK_NB) == 0) break;
        if (errno != EWOULDBLOCK && errno != EINTR)
            return fail(errc_for_errno(errno), fmt::format("cannot lock the state {}: {}", path, os_error(errno)));
        const bool unbounded = wait && wait->count() == 0;
        if (!wait || (!unbounded && std::chrono::steady_clock::now() >= deadline))
            return fail(errc::conflict,
                        fmt::format("the state in {} is in use by {}{}", dir, holder_of(fd),
                                    wait ? fmt::format(" (waited {})", format_duration(*wait))
                                         : std::string("; wait for it to finish, or use --wait")));
        // The holder is another process: poll rather than block, so that a bounded wait ends.
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    const std::string text = fmt::format("pid {} ({}) since {}\n", ::getpid(), command, format_iso_utc(std::time(nullptr)));
    if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, text.data(), text.size(), 0) != static_cast<ssize_t>(text.size()))
        return fail(errc_for_errno(errno), fmt::format("cannot write the state lock {}: {}", path, os_error(errno)));
    return lock;
}

state_lock::state_lock(state_lock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }

state_lock& state_lock::operator=(state_lock&& other) noexcept
{
    if (this != &other) {
        if (fd_ >= 0) ::close(fd_);
        fd_ = other.fd_;
        other.fd_ = -1;
    }
    return *this;
}

state_lock::~state_lock()
{
    // Closing the last descriptor releases the flock.
    if (fd_ >= 0) ::close(fd_);
}

}  // namespace wfsync::store
