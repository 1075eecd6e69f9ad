// SPDX-License-Identifier: Apache-2.0
#define BOOST_TEST_MODULE wfsync_admin
#include <boost/test/unit_test.hpp>

#include "prom_parser.hpp"

#include <wfsync/app/metrics.hpp>
#include <wfsync/core/build_info.hpp>
#include <wfsync/core/error.hpp>
#include <wfsync/net/http_client.hpp>
#include <wfsync/sync/engine.hpp>

#include <chrono>

using namespace wfsync;
using app::daemon_metrics;
using app::metrics_registry;
using kind = metrics_registry::kind;

BOOST_AUTO_TEST_SUITE(metrics)

BOOST_AUTO_TEST_CASE(golden_text_of_a_small_registry)
{
    metrics_registry r;
    r.declare("b_total", kind::counter, "B things.", {"rule", "kind"});
    r.declare("a_gauge", kind::gauge, "A gauge.\nsecond line \\ x");
    r.declare("h_seconds", kind::histogram, "Latency.", {"t"}, {1, 0.1, 0.5});
    r.declare("empty_total", kind::counter, "Nothing yet.", {"x"});
    r.add("b_total", {"r2", "x"}, 2);
    r.add("b_total", {"r1", "y"});
    r.add("b_total", {"r1", "y"}, 0.5);
    r.set("a_gauge", {}, 1.5);
    r.observe("h_seconds", {"t1"}, 0.25);
    r.observe("h_seconds", {"t1"}, 0.5);  // le is inclusive
    r.observe("h_seconds", {"t1"}, 3);
    r.observe("h_seconds", {"t0"}, 0.1);

    const std::string expected =
        "# HELP a_gauge A gauge.\\nsecond line \\\\ x\n"
        "# TYPE a_gauge gauge\n"
        "a_gauge 1.5\n"
        "# HELP b_total B things.\n"
        "# TYPE b_total counter\n"
        "b_total{rule=\"r1\",kind=\"y\"} 1.5\n"
        "b_total{rule=\"r2\",kind=\"x\"} 2\n"
        "# HELP empty_total Nothing yet.\n"
        "# TYPE empty_total counter\n"
        "# HELP h_seconds Latency.\n"
        "# TYPE h_seconds histogram\n"
        "h_seconds_bucket{t=\"t0\",le=\"0.1\"} 1\n"
        "h_seconds_bucket{t=\"t0\",le=\"0.5\"} 1\n"
        "h_seconds_bucket{t=\"t0\",le=\"1\"} 1\n"
        "h_seconds_bucket{t=\"t0\",le=\"+Inf\"} 1\n"
        "h_seconds_sum{t=\"t0\"} 0.1\n"
        "h_seconds_count{t=\"t0\"} 1\n"
        "h_seconds_bucket{t=\"t1\",le=\"0.1\"} 0\n"
        "h_seconds_bucket{t=\"t1\",le=\"0.5\"} 2\n"
        "h_seconds_bucket{t=\"t1\",le=\"1\"} 2\n"
        "h_seconds_bucket{t=\"t1\",le=\"+Inf\"} 3\n"
        "h_seconds_sum{t=\"t1\"} 3.75\n"
        "h_seconds_count{t=\"t1\"} 3\n";
    BOOST_TEST(r.render() == expected);
    auto doc = test::parse_prometheus(r.render());
    BOOST_TEST(doc.error == "");
    // Rendering twice gives the same bytes (stable ordering).
    BOOST_TEST(r.render() == r.render());
}

BOOST_AUTO_TEST_CASE(label_values_are_escaped_and_read_back)
{
    metrics_registry r;
    r.declare("x_total", kind::counter, "X.", {"v"});
    const std::string nasty = "a\\b \"quoted\"\nnext {},=";
    r.add("x_total", {nasty});
    auto text = r.render();
    BOOST_TEST(text.find(R"(x_total{v="a\\b \"quoted\"\nnext {},="} 1)") != std::string::npos, text);
    // One sample line: the line feed in the value did not split it.
    auto doc = test::parse_prometheus(text);
    BOOST_REQUIRE(doc.error == "");
    BOOST_REQUIRE(doc.samples.size() == 1u);
    BOOST_TEST(doc.samples[0].labels[0].second == nasty);
    BOOST_TEST(app::escape_label_value("\\\"\n") == "\\\\\\\"\\n");
    BOOST_TEST(app::escape_help("a\\b\nc\"") == "a\\\\b\\nc\"");
}

BOOST_AUTO_TEST_CASE(histogram_buckets_are_cumulative)
{
    metrics_registry r;
    r.declare("d", kind::histogram, "D.", {}, daemon_metrics::http_buckets());
    for (double v : {0.001, 0.005, 0.006, 0.2, 0.2, 7.0, 31.0, 1000.0}) r.observe("d", {}, v);
    auto doc = test::parse_prometheus(r.render());
    BOOST_REQUIRE_MESSAGE(doc.error.empty(), doc.error);
    BOOST_TEST(*doc.get("d_bucket{le=0.005}") == 2);  // 0.001 and 0.005 (inclusive)
    BOOST_TEST(*doc.get("d_bucket{le=0.01}") == 3);
    BOOST_TEST(*doc.get("d_bucket{le=0.1}") == 3);
    BOOST_TEST(*doc.get("d_bucket{le=0.25}") == 5);
    BOOST_TEST(*doc.get("d_bucket{le=5}") == 5);
    BOOST_TEST(*doc.get("d_bucket{le=10}") == 6);
    BOOST_TEST(*doc.get("d_bucket{le=30}") == 6);
    BOOST_TEST(*doc.get("d_bucket{le=+Inf}") == 8);
    BOOST_TEST(*doc.get("d_count") == 8);
    BOOST_TEST(*doc.get("d_sum") == 0.001 + 0.005 + 0.006 + 0.2 + 0.2 + 7.0 + 31.0 + 1000.0, boost::test_tools::tolerance(1e-9));
    BOOST_TEST(r.value("d", {}) == 8);
}

BOOST_AUTO_TEST_CASE(values_format_for_prometheus)
{
    BOOST_TEST(app::format_metric_value(3) == "3");
    BOOST_TEST(app::format_metric_value(0.005) == "0.005");
    BOOST_TEST(app::format_metric_value(1763912815.25) == "1763912815.25");
    BOOST_TEST(app::format_metric_value(INFINITY) == "+Inf");
    BOOST_TEST(app::format_metric_value(-INFINITY) == "-Inf");
    BOOST_TEST(app::format_metric_value(NAN) == "NaN");
}

BOOST_AUTO_TEST_CASE(counters_refuse_negative_increments_gauges_take_them)
{
    metrics_registry r;
    r.declare("c_total", kind::counter, "C.");
    r.declare("g", kind::gauge, "G.");
    r.add("c_total", {}, 2);
    r.add("c_total", {}, -1);
    r.add("g", {}, 2);
    r.add("g", {}, -3);
    BOOST_TEST(r.value("c_total") == 2);
    BOOST_TEST(r.value("g") == -1);
    r.remove("g", {});
    BOOST_TEST(r.render().find("\ng ") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(parser_catches_broken_text)
{
    // The validator used on /metrics must itself reject what Prometheus would reject.
    BOOST_TEST(test::parse_prometheus("a 1").error != "");                         // no final LF
    BOOST_TEST(test::parse_prometheus("a{b=\"x} 1\n").error != "");                // unterminated
    BOOST_TEST(test::parse_prometheus("a{b=\"\\t\"} 1\n").error != "");            // bad escape
    BOOST_TEST(test::parse_prometheus("1a 1\n").error != "");                      // bad name
    BOOST_TEST(test::parse_prometheus("a one\n").error != "");                     // bad value
    BOOST_TEST(test::parse_prometheus("a 1\nb 1\na 2\n").error != "");             // not contiguous
    BOOST_TEST(test::parse_prometheus("# TYPE a counter\na -1\n").error != "");    // negative counter
    BOOST_TEST(test::parse_prometheus("# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\n"
                                      "h_count 1\n").error != "");                 // not cumulative
    BOOST_TEST(test::parse_prometheus("# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_count 1\n").error != "");
    BOOST_TEST(test::parse_prometheus("# TYPE a counter\na{x=\"1\"} 1 1700000000000\n").error == "");
}

// -- daemon_metrics --------------------------------------------------------------------------

namespace {

sync::item make_item(sync::action a, std::string target, bool done = true)
{
    sync::item i;
    i.rule = "nightly";
    i.target_tenant = std::move(target);
    i.what = a;
    i.done = done;
    return i;
}

}  // namespace

BOOST_AUTO_TEST_CASE(daemon_metrics_start_with_up_and_zero_gauges)
{
    daemon_metrics m;
    auto doc = test::parse_prometheus(m.render());
    BOOST_REQUIRE_MESSAGE(doc.error.empty(), doc.error);
    BOOST_TEST(*doc.get("wfsync_up") == 1);
    BOOST_TEST(*doc.get("wfsync_rules") == 0);
    BOOST_TEST(*doc.get("wfsync_pending_async_jobs") == 0);
    BOOST_TEST(*doc.get("wfsync_held_imports") == 0);
    BOOST_TEST(doc.types["wfsync_held_imports"] == "gauge");
    for (std::string fam : {"wfsync_runs_total", "wfsync_imports_total", "wfsync_unchanged_total", "wfsync_skips_total",
                            "wfsync_drift_total", "wfsync_errors_total", "wfsync_http_requests_total",
                            "wfsync_http_retries_total", "wfsync_config_reloads_total"})
        BOOST_TEST(doc.types[fam] == "counter", fam);
    BOOST_TEST(doc.types["wfsync_http_request_duration_seconds"] == "histogram");
    BOOST_TEST(doc.types["wfsync_last_success_timestamp_seconds"] == "gauge");
    m.set_rules(3);
    m.set_pending_jobs(2);
    m.set_held_imports(1);
    m.record_reload(true);
    m.record_reload(false);
    m.record_reload(false);
    doc = test::parse_prometheus(m.render());
    BOOST_TEST(*doc.get("wfsync_rules") == 3);
    BOOST_TEST(*doc.get("wfsync_pending_async_jobs") == 2);
    BOOST_TEST(*doc.get("wfsync_held_imports") == 1);
    BOOST_TEST(*doc.get("wfsync_config_reloads_total{result=ok}") == 1);
    BOOST_TEST(*doc.get("wfsync_config_reloads_total{result=failed}") == 2);
}

BOOST_AUTO_TEST_CASE(record_run_counts_items_and_outcome)
{
    daemon_metrics m;
    sync::run_summary s;
    s.rule = "nightly";
    s.items.push_back(make_item(sync::action::import, "sbx"));
    s.items.push_back(make_item(sync::action::create, "sbx"));
    s.items.push_back(make_item(sync::action::import, "qa"));
    s.items.push_back(make_item(sync::action::import, "qa", false));  // planned, not done
    s.items.push_back(make_item(sync::action::unchanged, "qa"));
    s.items.push_back(make_item(sync::action::adopt, "qa"));
    s.items.push_back(make_item(sync::action::skip, "qa"));
    s.items.push_back(make_item(sync::action::drift, "qa"));
    auto overwritten = make_item(sync::action::import, "sbx");
    overwritten.drifted = true;
    s.items.push_back(overwritten);
    s.imported = 4;
    s.unchanged = 2;
    s.skipped = 1;
    s.drift = 2;
    s.by_listing = 7;
    s.compared_in_full = {{"the source's listing changed", 2},
                          {"verify_every: last compared in full at 2026-11-28T10:00:00Z", 1},
                          {"verify_every: last compared in full at 2026-11-28T11:00:00Z", 3}};
    auto t = std::chrono::system_clock::time_point(std::chrono::seconds(1'763'900'000));
    m.record_run(s, t, std::chrono::seconds(2));

    const auto& r = m.registry();
    BOOST_TEST(r.value("wfsync_runs_total", {"nightly", "ok"}) == 1);
    BOOST_TEST(r.value("wfsync_imports_total", {"nightly", "sbx"}) == 3);
    BOOST_TEST(r.value("wfsync_imports_total", {"nightly", "qa"}) == 1);
    BOOST_TEST(r.value("wfsync_unchanged_total", {"nightly"}) == 2);
    BOOST_TEST(r.value("wfsync_skips_total", {"nightly"}) == 1);
    BOOST_TEST(r.value("wfsync_drift_total", {"nightly"}) == 2);
    BOOST_TEST(r.value("wfsync_last_success_timestamp_seconds", {"nightly"}) == 1'763'900'000);
    BOOST_TEST(r.value("wfsync_items_by_listing_total", {"nightly"}) == 7);
    BOOST_TEST(r.value("wfsync_items_compared_in_full_total", {"nightly", "the source's listing changed"}) == 2);
    BOOST_TEST(r.value("wfsync_items_compared_in_full_total", {"nightly", "verify_every"}) == 4);

    // A partial run: errors by kind, no new last-success.
    sync::run_summary p;
    p.rule = "nightly";
    p.items.push_back(make_item(sync::action::import, "sbx"));
    auto e1 = make_item(sync::action::error, "qa", false);
    e1.error_kind = errc::timeout;
    auto e2 = make_item(sync::action::error, "qa", false);
    e2.error_kind = errc::conflict;
    p.items.push_back(e1);
    p.items.push_back(e1);
    p.items.push_back(e2);
    p.items.push_back(make_item(sync::action::held, "qa", false));
    p.imported = 1;
    p.errors = 4;
    p.held = 1;
    m.record_run(p, t + std::chrono::hours(1), std::chrono::seconds(2));
    BOOST_TEST(r.value("wfsync_runs_total", {"nightly", "partial"}) == 1);
    BOOST_TEST(r.value("wfsync_errors_total", {"nightly", "timeout"}) == 2);
    BOOST_TEST(r.value("wfsync_errors_total", {"nightly", "conflict"}) == 1);
    BOOST_TEST(r.value("wfsync_errors_total", {"nightly", "held"}) == 1);
    BOOST_TEST(r.value("wfsync_last_success_timestamp_seconds", {"nightly"}) == 1'763'900'000);

    // Only errors: failed.
    sync::run_summary f;
    f.rule = "nightly";
    f.items.push_back(e1);
    f.errors = 1;
    BOOST_TEST(daemon_metrics::outcome_of(f) == "failed");
    m.record_run(f, t, std::chrono::seconds(2));
    BOOST_TEST(r.value("wfsync_runs_total", {"nightly", "failed"}) == 1);

    // A backup whose retention failed: counted for alerting, and as errors of kind prune.
    sync::run_summary b;
    b.rule = "backup";
    b.prune_errors = {"local: x.zip: permission denied"};
    b.errors = 1;
    m.record_run(b, t, std::chrono::seconds(2));
    BOOST_TEST(r.value("wfsync_archive_prune_failures_total", {"backup"}) == 1);
    BOOST_TEST(r.value("wfsync_errors_total", {"backup", "prune"}) == 1);

    m.record_run_failure("nightly", make_error(errc::transport, "connect refused"), std::chrono::milliseconds(300));
    m.record_overlap_skip("nightly");
    m.record_overlap_skip("nightly");
    BOOST_TEST(r.value("wfsync_runs_total", {"nightly", "failed"}) == 2);
    BOOST_TEST(r.value("wfsync_errors_total", {"nightly", "transport"}) == 1);
    BOOST_TEST(r.value("wfsync_runs_total", {"nightly", "skipped_overlap"}) == 2);

    auto doc = test::parse_prometheus(m.render());
    BOOST_REQUIRE_MESSAGE(doc.error.empty(), doc.error);
    BOOST_TEST(*doc.get("wfsync_runs_total{rule=nightly,outcome=skipped_overlap}") == 2);
    BOOST_TEST(*doc.get("wfsync_last_success_timestamp_seconds{rule=nightly}") == 1'763'900'000);

    m.forget_rule("nightly");
    BOOST_TEST(m.render().find("wfsync_last_success_timestamp_seconds{") == std::string::npos);
    BOOST_TEST(r.value("wfsync_runs_total", {"nightly", "ok"}) == 1);  // counters stay
}

BOOST_AUTO_TEST_CASE(record_attempt_counts_statuses_retries_and_latency)
{
    daemon_metrics m;
    net::attempt_record a;
    a.method = "GET";
    a.target = "/workflows";
    a.attempt = 1;
    a.status = 503;
    a.elapsed = std::chrono::milliseconds(40);
    m.record_attempt("zuora-prod", a);
    a.attempt = 2;
    a.status = 0;  // transport failure
    a.error = "connection reset";
    a.elapsed = std::chrono::milliseconds(2);
    m.record_attempt("zuora-prod", a);
    a.attempt = 3;
    a.status = 200;
    a.error.clear();
    a.elapsed = std::chrono::milliseconds(1500);
    m.record_attempt("zuora-prod", a);
    a.attempt = 1;
    a.elapsed = std::chrono::milliseconds(60'000);
    m.record_attempt("zuora-sbx", a);

    const auto& r = m.registry();
    BOOST_TEST(r.value("wfsync_http_requests_total", {"zuora-prod", "503"}) == 1);
    BOOST_TEST(r.value("wfsync_http_requests_total", {"zuora-prod", "0"}) == 1);
    BOOST_TEST(r.value("wfsync_http_requests_total", {"zuora-prod", "200"}) == 1);
    BOOST_TEST(r.value("wfsync_http_requests_total", {"zuora-sbx", "200"}) == 1);
    BOOST_TEST(r.value("wfsync_http_retries_total", {"zuora-prod"}) == 2);
    BOOST_TEST(r.value("wfsync_http_retries_total", {"zuora-sbx"}) == 0);
    BOOST_TEST(r.value("wfsync_http_request_duration_seconds", {"zuora-prod"}) == 3);
    BOOST_TEST(r.sum("wfsync_http_request_duration_seconds", {"zuora-prod"}) == 1.542,
               boost::test_tools::tolerance(1e-9));

    auto doc = test::parse_prometheus(m.render());
    BOOST_REQUIRE_MESSAGE(doc.error.empty(), doc.error);
    BOOST_TEST(*doc.get("wfsync_http_request_duration_seconds_bucket{tenant=zuora-prod,le=0.005}") == 1);
    BOOST_TEST(*doc.get("wfsync_http_request_duration_seconds_bucket{tenant=zuora-prod,le=0.05}") == 2);
    BOOST_TEST(*doc.get("wfsync_http_request_duration_seconds_bucket{tenant=zuora-prod,le=1}") == 2);
    BOOST_TEST(*doc.get("wfsync_http_request_duration_seconds_bucket{tenant=zuora-prod,le=2.5}") == 3);
    BOOST_TEST(*doc.get("wfsync_http_request_duration_seconds_bucket{tenant=zuora-sbx,le=30}") == 0);
    BOOST_TEST(*doc.get("wfsync_http_request_duration_seconds_bucket{tenant=zuora-sbx,le=+Inf}") == 1);
}

BOOST_AUTO_TEST_CASE(sub_millisecond_attempts_add_up)
{
    // 400 attempts of 250 µs: truncated to milliseconds they would sum to 0.
    daemon_metrics m;
    net::attempt_record a;
    a.status = 200;
    a.elapsed = std::chrono::microseconds(250);
    for (int i = 0; i < 400; ++i) m.record_attempt("zuora-prod", a);
    BOOST_TEST(m.registry().sum("wfsync_http_request_duration_seconds", {"zuora-prod"}) == 0.1,
               boost::test_tools::tolerance(1e-9));
    auto doc = test::parse_prometheus(m.render());
    BOOST_TEST(*doc.get("wfsync_http_request_duration_seconds_bucket{tenant=zuora-prod,le=0.005}") == 400);
}

BOOST_AUTO_TEST_CASE(run_durations_fill_a_histogram_per_rule_from_seconds_to_an_hour)
{
    daemon_metrics m;
    auto t = std::chrono::system_clock::time_point(std::chrono::seconds(1'763'900'000));
    sync::run_summary s;
    s.rule = "nightly";
    m.record_run(s, t, std::chrono::milliseconds(800));
    m.record_run(s, t, std::chrono::seconds(4));
    m.record_run(s, t, std::chrono::minutes(45));
    m.record_run(s, t, std::chrono::hours(2));
    m.record_run_failure("other", make_error(errc::transport, "connect refused"), std::chrono::milliseconds(20));

    auto doc = test::parse_prometheus(m.render());
    BOOST_REQUIRE_MESSAGE(doc.error.empty(), doc.error);
    BOOST_TEST(doc.types["wfsync_run_duration_seconds"] == "histogram");
    BOOST_TEST(*doc.get("wfsync_run_duration_seconds_bucket{rule=nightly,le=0.5}") == 0);
    BOOST_TEST(*doc.get("wfsync_run_duration_seconds_bucket{rule=nightly,le=1}") == 1);
    BOOST_TEST(*doc.get("wfsync_run_duration_seconds_bucket{rule=nightly,le=5}") == 2);
    BOOST_TEST(*doc.get("wfsync_run_duration_seconds_bucket{rule=nightly,le=1800}") == 2);
    BOOST_TEST(*doc.get("wfsync_run_duration_seconds_bucket{rule=nightly,le=3600}") == 3);
    BOOST_TEST(*doc.get("wfsync_run_duration_seconds_bucket{rule=nightly,le=+Inf}") == 4);
    BOOST_TEST(*doc.get("wfsync_run_duration_seconds_count{rule=nightly}") == 4);
    BOOST_TEST(*doc.get("wfsync_run_duration_seconds_sum{rule=nightly}") == 0.8 + 4 + 2700 + 7200,
               boost::test_tools::tolerance(1e-9));
    BOOST_TEST(*doc.get("wfsync_run_duration_seconds_sum{rule=other}") == 0.02, boost::test_tools::tolerance(1e-9));
    BOOST_TEST(daemon_metrics::run_buckets().front() == 0.5);
    BOOST_TEST(daemon_metrics::run_buckets().back() == 3600);
}

BOOST_AUTO_TEST_CASE(a_restored_last_success_ages_at_each_scrape)
{
    using namespace std::chrono;
    daemon_metrics m;
    auto t = system_clock::time_point(seconds(1'763'900'000));
    // Nothing known: no series, so no false staleness.
    m.refresh_staleness(t);
    BOOST_TEST(m.render().find("wfsync_rule_seconds_since_success{") == std::string::npos);

    m.restore_last_success("nightly", t);
    m.restore_last_success("nightly", t - hours(5));  // older than known: ignored
    m.refresh_staleness(t + seconds(90));
    const auto& r = m.registry();
    BOOST_TEST(r.value("wfsync_last_success_timestamp_seconds", {"nightly"}) == 1'763'900'000);
    BOOST_TEST(r.value("wfsync_rule_seconds_since_success", {"nightly"}) == 90);

    // A run that succeeds later moves both.
    sync::run_summary s;
    s.rule = "nightly";
    m.record_run(s, t + seconds(100), seconds(3));
    m.refresh_staleness(t + seconds(160));
    BOOST_TEST(r.value("wfsync_last_success_timestamp_seconds", {"nightly"}) == 1'763'900'100);
    BOOST_TEST(r.value("wfsync_rule_seconds_since_success", {"nightly"}) == 60);
    // A failed run leaves them.
    m.record_run_failure("nightly", make_error(errc::transport, "down"), seconds(1));
    m.refresh_staleness(t + seconds(400));
    BOOST_TEST(r.value("wfsync_rule_seconds_since_success", {"nightly"}) == 300);

    m.forget_rule("nightly");
    m.refresh_staleness(t + seconds(500));
    BOOST_TEST(m.render().find("wfsync_rule_seconds_since_success{") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(build_info_names_version_revision_and_build_type)
{
    daemon_metrics m;
    auto doc = test::parse_prometheus(m.render());
    BOOST_REQUIRE_MESSAGE(doc.error.empty(), doc.error);
    BOOST_TEST(doc.types["wfsync_build_info"] == "gauge");
    auto key = "wfsync_build_info{version=" + std::string(build_info::version()) +
               ",revision=" + std::string(build_info::revision()) + ",build_type=" + std::string(build_info::build_type()) + "}";
    BOOST_TEST(doc.get(key).value_or(0) == 1, key);
    BOOST_TEST(!build_info::revision().empty());
    BOOST_TEST(!build_info::build_type().empty());
}

BOOST_AUTO_TEST_SUITE_END()
