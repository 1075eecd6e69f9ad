// SPDX-License-Identifier: Apache-2.0
// A webhook receiver for notification tests: the generic HTTP server on 127.0.0.1, on a
// thread of its own, answering with scripted statuses and keeping every request it got.
// Needs wfsync_net.
#pragma once

#include <wfsync/net/http_server.hpp>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/test/unit_test.hpp>

#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace wfsync::test {

class hook_receiver {
public:
    hook_receiver()
    {
        server_ = std::make_unique<net::http_server>(ioc_.get_executor(), net::server_settings{},
                                                     [this](net::server_request r) { return answer(std::move(r)); });
        auto started = server_->start();
        BOOST_REQUIRE_MESSAGE(started, "hook receiver: " + (started ? std::string() : started.error().what()));
        thread_ = std::thread([this] { ioc_.run(); });
    }
    ~hook_receiver()
    {
        boost::asio::post(ioc_, [this] { server_->stop(); });
        guard_.reset();
        ioc_.stop();
        thread_.join();
    }
    hook_receiver(const hook_receiver&) = delete;
    hook_receiver& operator=(const hook_receiver&) = delete;

    /// "http://127.0.0.1:PORT" + path.
    std::string url(const std::string& path = "/hook") const { return server_->base_url() + path; }

    /// The next requests are answered with these statuses, in order; then 200 again.
    void script(std::vector<int> statuses)
    {
        std::lock_guard lock(mutex_);
        script_.insert(script_.end(), statuses.begin(), statuses.end());
    }

    std::vector<net::server_request> requests() const
    {
        std::lock_guard lock(mutex_);
        return seen_;
    }

    std::size_t count() const
    {
        std::lock_guard lock(mutex_);
        return seen_.size();
    }

private:
    awaitable<net::server_response> answer(net::server_request r)
    {
        net::server_response out;
        {
            std::lock_guard lock(mutex_);
            seen_.push_back(std::move(r));
            if (!script_.empty()) {
                out.status = script_.front();
                script_.pop_front();
            }
        }
        out.content_type = "text/plain";
        out.body = out.status == 200 ? "ok" : "no";
        co_return out;
    }

    boost::asio::io_context ioc_;
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_ =
        boost::asio::make_work_guard(ioc_);
    std::unique_ptr<net::http_server> server_;
    std::thread thread_;
    mutable std::mutex mutex_;
    std::deque<int> script_;
    std::vector<net::server_request> seen_;
};

}  // namespace wfsync::test
