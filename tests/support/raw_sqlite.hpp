// SPDX-License-Identifier: Apache-2.0
#pragma once

// A plain SQLite connection for tests that look at or damage a state behind wfsync's back.
// Header-only: only the suites that link SQLite::SQLite3 include it.

#include <boost/test/unit_test.hpp>

#include <sqlite3.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>

namespace wfsync::test {

struct raw_sqlite {
    sqlite3* db = nullptr;

    explicit raw_sqlite(const std::string& path, int flags = SQLITE_OPEN_READWRITE)
    {
        BOOST_TEST_REQUIRE(sqlite3_open_v2(path.c_str(), &db, flags, nullptr) == SQLITE_OK, path);
        sqlite3_busy_timeout(db, 5000);
    }
    ~raw_sqlite() { sqlite3_close_v2(db); }
    raw_sqlite(const raw_sqlite&) = delete;
    raw_sqlite& operator=(const raw_sqlite&) = delete;

    void exec(const std::string& sql)
    {
        char* msg = nullptr;
        int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &msg);
        std::string why = msg ? msg : "";
        sqlite3_free(msg);
        BOOST_TEST_REQUIRE(rc == SQLITE_OK, sql << ": " << why);
    }

    /// The first column of the first row ("" for NULL); the query must return a row.
    std::string text(const std::string& sql)
    {
        sqlite3_stmt* st = nullptr;
        BOOST_TEST_REQUIRE(sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK, sql);
        BOOST_TEST_REQUIRE(sqlite3_step(st) == SQLITE_ROW, sql);
        const auto* t = sqlite3_column_text(st, 0);
        std::string v = t ? reinterpret_cast<const char*>(t) : "";
        sqlite3_finalize(st);
        return v;
    }

    std::int64_t integer(const std::string& sql) { return std::stoll(text(sql)); }
};

/// Another connection committing pairs of rows into tables `left_side (n)` and
/// `right_side (n, pad)`, one transaction per pair, until destroyed: a copy taken meanwhile is
/// a consistent snapshot only if both tables hold the same pairs. Starts in the constructor,
/// which returns after the first commit.
class paired_writer {
public:
    explicit paired_writer(std::string path) : path_(std::move(path)), thread_([this] { run(); })
    {
        while (commits_ == 0) std::this_thread::yield();
    }
    ~paired_writer()
    {
        stop_ = true;
        thread_.join();
    }
    paired_writer(const paired_writer&) = delete;
    paired_writer& operator=(const paired_writer&) = delete;

    int commits() const noexcept { return commits_; }

private:
    void run()
    {
        raw_sqlite w(path_);
        w.exec("PRAGMA synchronous = OFF");
        for (int i = 0; !stop_; ++i) {
            w.exec("BEGIN IMMEDIATE; INSERT INTO left_side VALUES (" + std::to_string(i) +
                   "); INSERT INTO right_side VALUES (" + std::to_string(i) + ", NULL); COMMIT");
            ++commits_;
        }
    }

    std::string path_;
    std::atomic<bool> stop_{false};
    std::atomic<int> commits_{0};
    std::thread thread_;  // last: started once the members it uses exist
};

}  // namespace wfsync::test
