// SPDX-License-Identifier: Apache-2.0
#include <wfsync/shell/signals.hpp>

#include <wfsync/core/log.hpp>

#include <boost/asio/signal_set.hpp>

#include <fmt/format.h>

#include <cerrno>
#include <csignal>
#include <cstring>

namespace wfsync::shell {

result<void> ignore_sigpipe()
{
    struct sigaction sa{};
    sa.sa_handler = SIG_IGN;
    sigemptyset(&sa.sa_mask);
    if (::sigaction(SIGPIPE, &sa, nullptr) != 0)
        return fail(errc::io, fmt::format("cannot ignore SIGPIPE: {}", std::strerror(errno)));
    return {};
}

namespace {

const char* signal_name(int signo)
{
    switch (signo) {
    case SIGHUP: return "SIGHUP";
    case SIGTERM: return "SIGTERM";
    case SIGINT: return "SIGINT";
    default: return "signal";
    }
}

}  // namespace

// Shared with the pending wait's handler: the handler keeps it alive and checks `active`,
// so a wait completing after stop() or after the handler object is gone does nothing.
struct signal_handler::state {
    boost::asio::signal_set signals;
    std::function<void()> reload;
    std::function<void(int)> stop;
    bool active = false;
    std::uint64_t generation = 0;
    int stop_requests = 0;

    explicit state(executor ex) : signals(std::move(ex)) {}

    static void wait(const std::shared_ptr<state>& s, std::uint64_t gen)
    {
        s->signals.async_wait([s, gen](const boost::system::error_code& ec, int signo) {
            if (ec || !s->active || s->generation != gen) return;
            s->deliver(signo);
            // deliver() may have called stop() (or stop() then start()): re-check.
            if (s->active && s->generation == gen) wait(s, gen);
        });
    }

    void deliver(int signo)
    {
        if (signo == SIGHUP) {
            if (stop_requests > 0) {
                log::info("SIGHUP ignored: shutting down");
                return;
            }
            log::info("SIGHUP: reloading the configuration");
            if (reload) reload();
            return;
        }
        ++stop_requests;
        if (stop_requests == 1)
            log::info("{}: shutting down", signal_name(signo));
        else
            log::warn("{} again while shutting down (request {})", signal_name(signo),
                      stop_requests);
        if (stop) stop(signo);
    }
};

signal_handler::signal_handler(executor ex) : state_(std::make_shared<state>(std::move(ex))) {}

signal_handler::~signal_handler() { stop(); }

void signal_handler::on_reload(std::function<void()> f) { state_->reload = std::move(f); }

void signal_handler::on_stop(std::function<void(int)> f) { state_->stop = std::move(f); }

result<void> signal_handler::start()
{
    if (state_->active) return {};
    for (int signo : {SIGHUP, SIGTERM, SIGINT}) {
        boost::system::error_code ec;
        state_->signals.add(signo, ec);
        if (ec) {
            boost::system::error_code ignored;
            state_->signals.clear(ignored);
            return fail(errc::io, fmt::format("cannot handle {}: {}", signal_name(signo),
                                              ec.message()));
        }
    }
    state_->active = true;
    ++state_->generation;
    state::wait(state_, state_->generation);
    return {};
}

void signal_handler::stop()
{
    if (!state_->active) return;
    state_->active = false;
    boost::system::error_code ec;
    state_->signals.cancel(ec);
    // clear() hands the signals back to their default disposition.
    state_->signals.clear(ec);
}

int signal_handler::stop_requests() const noexcept { return state_->stop_requests; }

}  // namespace wfsync::shell
