// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <wfsync/core/error.hpp>

#include <chrono>
#include <optional>
#include <string>

namespace wfsync::store {

/// The exclusive right to change a state directory, held by a command for its whole run
/// (sync, serve, restore, archive prune): an flock on `<dir>/lock`, which the
/// kernel releases when the process ends, however it ends. The file names the holder (pid,
/// command, since when) for whoever is refused. Read-only commands do not take it.
class state_lock {
public:
    /// Takes the lock of `dir` (created 0700 if missing) for `command`. Held by another
    /// process: errc::conflict naming the holder, at once when `wait` is nullopt, else once
    /// `wait` has passed without the holder letting go (a zero `wait`: no limit). Access
    /// refused: errc::permission; another local failure (a read-only file system, a FIFO in
    /// place of the lock file): errc::io.
    [[nodiscard]] static result<state_lock> acquire(const std::string& dir, const std::string& command,
                                                    std::optional<std::chrono::milliseconds> wait = std::nullopt);

    state_lock(state_lock&& other) noexcept;
    state_lock& operator=(state_lock&& other) noexcept;
    state_lock(const state_lock&) = delete;
    state_lock& operator=(const state_lock&) = delete;
    ~state_lock();

private:
    explicit state_lock(int fd) : fd_(fd) {}
    int fd_ = -1;
};

}  // namespace wfsync::store
