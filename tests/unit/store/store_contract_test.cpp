// SPDX-License-Identifier: Apache-2.0
// The shared store suite: what every backend of wfsync::store::store must do, asserted through
// the interface alone. Compiled once per backend (store_backend.hpp): wfsync_unit_store runs it
// on SQLite, wfsync_unit_store_postgres on PostgreSQL. Backend-specific checks (files, pragmas,
// kill -9 on a WAL, SQL behind the store's back) stay in store_test.cpp and postgres_store_test.cpp.
#include "store_backend.hpp"
#include "store_rows.hpp"

#include <boost/test/unit_test.hpp>

#include <wfsync/store/store.hpp>

#include <string>
#include <vector>

using namespace wfsync;
using namespace wfsync::store;
using wfsync::test::make_intent;
using wfsync::test::backend_fixture;

namespace {


event_row make_event(const run_row& run, const std::string& kind, const std::string& workflow,
                     const std::string& name)
{
    event_row e;
    e.run = run.id;
    e.rule = run.rule;
    e.kind = kind;
    e.source_tenant = "prod";
    e.source_workflow = workflow;
    e.workflow_name = name;
    e.target_tenant = "sandbox";
    e.message = kind + " " + name;
    e.duration_ms = 12;
    return e;
}

}  // namespace

// Every case runs on the backend this program was built for; skipped (with the reason) where
// that backend cannot run here.
BOOST_AUTO_TEST_SUITE(store_contract, *boost::unit_test::precondition(wfsync::test::store_backend_available))

BOOST_FIXTURE_TEST_SUITE(opening, backend_fixture)

BOOST_AUTO_TEST_CASE(reopen_keeps_data_and_does_not_migrate_again)
{
    row_id id = 0;
    {
        auto s = open_store();
        id = s->upsert_workflow("prod", "458", "Invoice sync").value().id;
    }
    auto s = open_store();
    BOOST_TEST(s->schema_version() == 7);
    auto w = s->find_workflow("prod", "458").value();
    BOOST_TEST_REQUIRE(w.has_value());
    BOOST_TEST(w->id == id);
    BOOST_TEST(w->name == "Invoice sync");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(workflows, backend_fixture)

BOOST_AUTO_TEST_CASE(upsert_inserts_then_renames_keeping_the_id)
{
    auto s = open_store();
    auto a = s->upsert_workflow("prod", "458", "Invoice sync").value();
    BOOST_TEST(a.id > 0);
    BOOST_TEST(a.tenant == "prod");
    BOOST_TEST(a.remote_id == "458");
    auto b = s->upsert_workflow("prod", "458", "Invoice sync v2").value();
    BOOST_TEST(b.id == a.id);
    BOOST_TEST(b.name == "Invoice sync v2");
    auto other = s->upsert_workflow("sandbox", "458", "Invoice sync").value();
    BOOST_TEST(other.id != a.id);

    BOOST_TEST(s->find_workflow("prod", "458").value()->name == "Invoice sync v2");
    BOOST_TEST(!s->find_workflow("prod", "459").value().has_value());
    BOOST_TEST(!s->find_workflow("staging", "458").value().has_value());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(versions, backend_fixture)

BOOST_AUTO_TEST_CASE(put_version_dedupes_and_round_trips_the_package)
{
    auto s = open_store();
    auto wf = s->upsert_workflow("prod", "458", "Invoice sync").value();
    std::string pkg = "{\"tasks\":[";
    for (int i = 0; i < 2000; ++i) pkg += "{\"name\":\"task\",\"action\":\"Export\"},";
    pkg += "{}]}";

    auto a = s->put_version(wf.id, "0.0.3", "hash-a", "zuora-json", pkg).value();
    BOOST_TEST(a.id > 0);
    BOOST_TEST(a.workflow == wf.id);
    BOOST_TEST(a.version == "0.0.3");
    BOOST_TEST(a.content_hash == "hash-a");
    BOOST_TEST(a.format == "zuora-json");
    BOOST_TEST(a.size == static_cast<std::int64_t>(pkg.size()));
    BOOST_TEST(a.seen_at > 0);

    auto again = s->put_version(wf.id, "0.0.3", "hash-a", "zuora-json", pkg).value();
    BOOST_TEST(again.id == a.id);
    auto other_hash = s->put_version(wf.id, "0.0.3", "hash-b", "zuora-json", "{}").value();
    BOOST_TEST(other_hash.id != a.id);
    auto other_version = s->put_version(wf.id, "0.0.4", "hash-a", "zuora-json", pkg).value();
    BOOST_TEST(other_version.id != a.id);

    auto list = s->list_versions(wf.id).value();
    BOOST_TEST_REQUIRE(list.size() == 3u);
    BOOST_TEST(list[0].id == a.id);
    BOOST_TEST(list[1].content_hash == "hash-b");
    BOOST_TEST(list[2].version == "0.0.4");
    BOOST_TEST(s->list_versions(wf.id + 100).value().empty());

    auto back = s->load_package(a.id).value();
    BOOST_TEST(back == pkg);
    BOOST_TEST(s->load_package(other_hash.id).value() == "{}");
}

BOOST_AUTO_TEST_CASE(empty_and_binary_packages_round_trip)
{
    auto s = open_store();
    auto wf = s->upsert_workflow("kore", "bot-1", "Bot").value();
    std::string bin;
    for (int i = 0; i < 1000; ++i) bin.push_back(static_cast<char>(i * 37));
    bin[10] = '\0';
    auto e = s->put_version(wf.id, "1", "empty", "zip", "").value();
    auto b = s->put_version(wf.id, "1", "bin", "zip", bin).value();
    BOOST_TEST(s->load_package(e.id).value().empty());
    BOOST_TEST(s->load_package(b.id).value() == bin);
}

BOOST_AUTO_TEST_CASE(version_of_unknown_workflow_is_refused)
{
    auto s = open_store();
    auto r = s->put_version(12345, "1", "h", "zuora-json", "{}");
    BOOST_TEST_REQUIRE(r.has_error());
    BOOST_TEST((r.error().code == errc::store));
    BOOST_TEST(r.error().message.find("put version") != std::string::npos, r.error().message);
    BOOST_TEST(r.error().message.find("12345") != std::string::npos, r.error().message);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(mappings, backend_fixture)

BOOST_AUTO_TEST_CASE(workflow_mapping_upserts_per_source_and_target_tenant)
{
    auto s = open_store();
    BOOST_TEST(!s->find_mapping("prod", "458", "sandbox").value().has_value());
    BOOST_TEST_REQUIRE(s->put_mapping({"prod", "458", "sandbox", "901", "Invoice sync"}).has_value());
    BOOST_TEST_REQUIRE(s->put_mapping({"prod", "458", "staging", "77", "Invoice sync"}).has_value());
    auto m = s->find_mapping("prod", "458", "sandbox").value();
    BOOST_TEST_REQUIRE(m.has_value());
    BOOST_TEST(m->target_workflow == "901");
    BOOST_TEST(m->target_name == "Invoice sync");

    BOOST_TEST_REQUIRE(s->put_mapping({"prod", "458", "sandbox", "902", "Renamed"}).has_value());
    m = s->find_mapping("prod", "458", "sandbox").value();
    BOOST_TEST(m->target_workflow == "902");
    BOOST_TEST(m->target_name == "Renamed");
    BOOST_TEST(s->find_mapping("prod", "458", "staging").value()->target_workflow == "77");
    BOOST_TEST(!s->find_mapping("prod", "459", "sandbox").value().has_value());
}

BOOST_AUTO_TEST_CASE(last_version_mapping_is_the_newest_per_target)
{
    auto s = open_store();
    BOOST_TEST(!s->last_version_mapping("sandbox", "901").value().has_value());
    version_mapping a{"prod", "458", "0.0.3", "h1", "sandbox", "901", "0.0.1", 1000};
    version_mapping b{"prod", "458", "0.0.4", "h2", "sandbox", "901", "0.0.2", 0};  // at = now
    version_mapping c{"prod", "458", "0.0.4", "h2", "staging", "77", "0.0.9", 500};
    BOOST_TEST_REQUIRE(s->add_version_mapping(a).has_value());
    BOOST_TEST_REQUIRE(s->add_version_mapping(b).has_value());
    BOOST_TEST_REQUIRE(s->add_version_mapping(c).has_value());
    auto last = s->last_version_mapping("sandbox", "901").value();
    BOOST_TEST_REQUIRE(last.has_value());
    BOOST_TEST(last->target_version == "0.0.2");
    BOOST_TEST(last->content_hash == "h2");
    BOOST_TEST(last->source_version == "0.0.4");
    BOOST_TEST(last->at > 1000);
    auto other = s->last_version_mapping("staging", "77").value();
    BOOST_TEST_REQUIRE(other.has_value());
    BOOST_TEST(other->at == 500);
    BOOST_TEST(other->target_version == "0.0.9");
}

BOOST_AUTO_TEST_CASE(read_back_fingerprints_are_kept_and_filled_in_late)
{
    auto s = open_store();
    BOOST_TEST(!s->find_version_mapping("sandbox", "901", "h1").value().has_value());
    version_mapping a{"prod", "458", "v3", "h1", "sandbox", "901", "v7", 1000};
    a.target_hash = "t1";
    version_mapping b{"prod", "458", "v4", "h2", "sandbox", "901", "v8", 1001};  // read-back failed
    BOOST_TEST_REQUIRE(s->add_version_mapping(a).has_value());
    BOOST_TEST_REQUIRE(s->add_version_mapping(b).has_value());
    auto found = s->find_version_mapping("sandbox", "901", "h1").value();
    BOOST_TEST_REQUIRE(found.has_value());
    BOOST_TEST(found->target_hash == "t1");
    BOOST_TEST(found->target_version == "v7");
    BOOST_TEST(s->last_version_mapping("sandbox", "901").value()->target_hash.empty());
    BOOST_TEST(s->has_target_hash("sandbox", "901", "t1").value());
    BOOST_TEST(!s->has_target_hash("sandbox", "901", "t2").value());
    BOOST_TEST(!s->has_target_hash("sandbox", "901", "").value());  // "not known" is no fingerprint
    BOOST_TEST(!s->has_target_hash("sandbox", "902", "t1").value());
    BOOST_TEST_REQUIRE(s->set_target_hash("sandbox", "901", "h2", "v8", "t2").has_value());
    BOOST_TEST(s->last_version_mapping("sandbox", "901").value()->target_hash == "t2");
    BOOST_TEST(s->find_version_mapping("sandbox", "901", "h1").value()->target_hash == "t1");  // untouched
    auto none = s->set_target_hash("sandbox", "901", "h2", "v9", "t3");
    BOOST_TEST_REQUIRE(none.has_error());
    BOOST_TEST(none.error().code == errc::not_found);
}

BOOST_AUTO_TEST_CASE(listing_marks_are_per_item_replaced_and_forgotten)
{
    auto s = open_store();
    listing_mark m{"r", "sandbox", "286", "prod", "s1", "901", "t1", "h1", 1000};
    BOOST_TEST_REQUIRE(s->put_listing_mark(m).has_value());
    auto other = m;
    other.target_tenant = "archive:a";
    other.target_workflow.clear();
    other.target_mark.clear();
    BOOST_TEST_REQUIRE(s->put_listing_mark(other).has_value());
    auto elsewhere = m;
    elsewhere.rule = "r2";
    BOOST_TEST_REQUIRE(s->put_listing_mark(elsewhere).has_value());

    m.source_mark = "s2";
    m.verified_at = 2000;
    BOOST_TEST_REQUIRE(s->put_listing_mark(m).has_value());  // replaces
    auto marks = s->listing_marks("r").value();
    BOOST_TEST_REQUIRE(marks.size() == 2u);
    auto prod = std::find_if(marks.begin(), marks.end(), [](const auto& x) { return x.target_tenant == "prod"; });
    BOOST_TEST_REQUIRE((prod != marks.end()));
    BOOST_TEST(prod->source_mark == "s2");
    BOOST_TEST(prod->target_mark == "t1");
    BOOST_TEST(prod->target_workflow == "901");
    BOOST_TEST(prod->content_hash == "h1");
    BOOST_TEST(prod->verified_at == 2000);

    BOOST_TEST_REQUIRE(s->forget_listing_mark("r", "sandbox", "286", "prod").has_value());
    marks = s->listing_marks("r").value();
    BOOST_TEST_REQUIRE(marks.size() == 1u);
    BOOST_TEST(marks[0].target_tenant == "archive:a");
    BOOST_TEST(s->listing_marks("r2").value().size() == 1u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(intents, backend_fixture)

BOOST_AUTO_TEST_CASE(held_intents_wait_for_an_operator)
{
    row_id id = 0;
    {
        auto s = open_store();
        auto fresh = make_intent("key-h");
        fresh.target_before = "v1\nv2";
        auto i = s->create_intent(fresh).value();
        id = i.id;
        BOOST_TEST(i.target_before == "v1\nv2");
        BOOST_TEST(i.hold.empty());
        BOOST_TEST(s->held_intents().value().empty());
        BOOST_TEST(s->hold_intent(id, "").has_error());
        BOOST_TEST_REQUIRE(s->hold_intent(id, "check the UI for 'Lost New'").has_value());
        BOOST_TEST(s->hold_intent(id + 100, "x").error().code == errc::not_found);
    }
    auto s = open_store();  // a hold survives a restart
    auto held = s->held_intents().value();
    BOOST_TEST_REQUIRE(held.size() == 1u);
    BOOST_TEST(held[0].id == id);
    BOOST_TEST((held[0].state == intent_state::unknown));
    BOOST_TEST(held[0].hold == "check the UI for 'Lost New'");
    BOOST_TEST(s->open_intents().value().size() == 1u);
    // Still unknown: the hold stays; settled: it goes.
    BOOST_TEST_REQUIRE(s->set_intent_state(id, intent_state::unknown, "looked again").has_value());
    BOOST_TEST(s->get_intent(id).value()->hold == "check the UI for 'Lost New'");
    BOOST_TEST_REQUIRE(s->set_intent_state(id, intent_state::failed, "operator: not imported").has_value());
    auto after = s->get_intent(id).value();
    BOOST_TEST_REQUIRE(after.has_value());
    BOOST_TEST(after->hold.empty());
    BOOST_TEST((after->state == intent_state::failed));
    BOOST_TEST(s->held_intents().value().empty());
    BOOST_TEST(!s->get_intent(id + 100).value().has_value());
}

BOOST_AUTO_TEST_CASE(lifecycle_pending_to_succeeded)
{
    auto s = open_store();
    auto i = s->create_intent(make_intent("key-1")).value();
    BOOST_TEST(i.id > 0);
    BOOST_TEST((i.state == intent_state::pending));
    BOOST_TEST(i.idempotency_key == "key-1");
    BOOST_TEST(i.target_workflow.empty());
    BOOST_TEST(i.created_at > 0);
    BOOST_TEST(i.updated_at == i.created_at);

    auto open = s->open_intents().value();
    BOOST_TEST_REQUIRE(open.size() == 1u);
    BOOST_TEST(open[0].id == i.id);

    BOOST_TEST_REQUIRE(s->set_intent_state(i.id, intent_state::succeeded, "imported as 0.0.1", "901").has_value());
    auto found = s->find_intent("prod-to-sandbox", "prod", "458", "sandbox", "h1").value();
    BOOST_TEST_REQUIRE(found.has_value());
    BOOST_TEST((found->state == intent_state::succeeded));
    BOOST_TEST(found->detail == "imported as 0.0.1");
    BOOST_TEST(found->target_workflow == "901");
    BOOST_TEST(found->source_version == "0.0.3");
    BOOST_TEST(found->target_version == "0.0.1");
    BOOST_TEST(found->run_uid == "run-1");
    BOOST_TEST(s->open_intents().value().empty());

    // An empty target_workflow keeps the one recorded.
    BOOST_TEST_REQUIRE(s->set_intent_state(i.id, intent_state::succeeded, "again").has_value());
    BOOST_TEST(s->find_intent("prod-to-sandbox", "prod", "458", "sandbox", "h1").value()->target_workflow == "901");
}

BOOST_AUTO_TEST_CASE(duplicate_key_is_a_conflict_and_changes_nothing)
{
    auto s = open_store();
    auto first = s->create_intent(make_intent("key-1")).value();
    auto again = s->create_intent(make_intent("key-1", "other-hash"));
    BOOST_TEST_REQUIRE(again.has_error());
    BOOST_TEST((again.error().code == errc::conflict));
    BOOST_TEST(again.error().message.find("key-1") != std::string::npos, again.error().message);
    BOOST_TEST(!s->find_intent("prod-to-sandbox", "prod", "458", "sandbox", "other-hash").value().has_value());
    auto open = s->open_intents().value();
    BOOST_TEST_REQUIRE(open.size() == 1u);
    BOOST_TEST(open[0].id == first.id);

    auto empty = s->create_intent(make_intent(""));
    BOOST_TEST_REQUIRE(empty.has_error());
    BOOST_TEST((empty.error().code == errc::invalid_argument));
}

BOOST_AUTO_TEST_CASE(find_returns_the_newest_for_the_tuple)
{
    auto s = open_store();
    auto g0 = s->create_intent(make_intent("key-g0")).value();
    BOOST_TEST_REQUIRE(s->set_intent_state(g0.id, intent_state::failed, "422 invalid").has_value());
    auto next = make_intent("key-g1");
    next.generation = 1;
    auto g1 = s->create_intent(next).value();
    (void)s->create_intent(make_intent("key-other-hash", "h2")).value();
    auto other_rule = make_intent("key-other-rule");
    other_rule.rule = "prod-to-staging";
    (void)s->create_intent(other_rule).value();

    auto found = s->find_intent("prod-to-sandbox", "prod", "458", "sandbox", "h1").value();
    BOOST_TEST_REQUIRE(found.has_value());
    BOOST_TEST(found->id == g1.id);
    BOOST_TEST(found->generation == 1);
    BOOST_TEST((found->state == intent_state::pending));
    BOOST_TEST(!s->find_intent("prod-to-sandbox", "prod", "458", "staging", "h1").value().has_value());
}

BOOST_AUTO_TEST_CASE(batched_writes_are_one_transaction_visible_outside_only_once_committed)
{
    auto s = open_store();
    auto other = open_store();
    s->begin_batching();
    BOOST_TEST(s->batched_writes() == 0u);
    auto a = s->create_intent(make_intent("k-a")).value();
    auto b = s->create_intent(make_intent("k-b", "h2")).value();
    BOOST_TEST(s->batched_writes() == 2u);
    // The store reads its own batch; another connection does not see it yet.
    BOOST_TEST(s->get_intent(b.id).value().has_value());
    BOOST_TEST(other->open_intents().value().size() == 0u);
    // A write that fails takes back only itself, and the batch goes on.
    auto dup = s->create_intent(make_intent("k-a", "h3"));
    BOOST_TEST_REQUIRE(dup.has_error());
    BOOST_TEST((dup.error().code == errc::conflict));
    BOOST_TEST(s->batched_writes() == 2u);
    BOOST_TEST_REQUIRE(s->commit_batch().has_value());
    BOOST_TEST(s->batched_writes() == 0u);
    BOOST_TEST(other->open_intents().value().size() == 2u);
    BOOST_TEST_REQUIRE(s->commit_batch().has_value());  // nothing to commit: fine

    // Nested batching commits when the outer one ends.
    s->begin_batching();
    BOOST_TEST_REQUIRE(s->set_intent_state(a.id, intent_state::succeeded, "ok").has_value());
    BOOST_TEST_REQUIRE(s->end_batching().has_value());
    BOOST_TEST((other->get_intent(a.id).value()->state == intent_state::pending));
    BOOST_TEST_REQUIRE(s->end_batching().has_value());
    BOOST_TEST((other->get_intent(a.id).value()->state == intent_state::succeeded));
    // Out of a batch, each write commits at once again.
    BOOST_TEST_REQUIRE(s->set_intent_state(b.id, intent_state::failed, "422").has_value());
    BOOST_TEST(s->batched_writes() == 0u);
    BOOST_TEST((other->get_intent(b.id).value()->state == intent_state::failed));
}

BOOST_AUTO_TEST_CASE(unknown_intent_id_is_an_error)
{
    auto s = open_store();
    auto r = s->set_intent_state(4242, intent_state::failed, "x");
    BOOST_TEST_REQUIRE(r.has_error());
    BOOST_TEST(r.error().message.find("4242") != std::string::npos, r.error().message);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(history, backend_fixture)

BOOST_AUTO_TEST_CASE(last_successes_are_the_newest_ok_run_of_each_rule)
{
    auto s = open_store();
    auto run = [&](const std::string& uid, const std::string& rule, const std::string& outcome, unix_time at) {
        auto r = s->begin_run(uid, rule, "serve").value();
        if (outcome.empty()) return;  // still running (or killed)
        r.outcome = outcome;
        r.finished_at = at;
        BOOST_TEST_REQUIRE(s->finish_run(r).has_value());
    };
    BOOST_TEST(s->last_successes().value().empty());
    run("a1", "nightly", "ok", 1'700'000'100);
    run("a2", "nightly", "ok", 1'700'000'300);
    run("a3", "nightly", "partial", 1'700'000'400);
    run("a4", "nightly", "failed", 1'700'000'500);
    run("a5", "nightly", "", 0);
    run("b1", "hourly", "failed", 1'700'000'200);
    run("c1", "backup", "ok", 1'700'000'050);
    run("d1", "", "ok", 1'700'000'600);  // a run over several rules names none

    auto got = s->last_successes().value();
    BOOST_TEST_REQUIRE(got.size() == 2u);
    BOOST_TEST(got[0].rule == "backup");
    BOOST_TEST(got[0].finished_at == 1'700'000'050);
    BOOST_TEST(got[1].rule == "nightly");
    BOOST_TEST(got[1].finished_at == 1'700'000'300);
}

BOOST_AUTO_TEST_CASE(runs_and_events_newest_first_with_filters)
{
    auto s = open_store();
    auto r1 = s->begin_run("run-1", "prod-to-sandbox", "sync").value();
    BOOST_TEST(r1.id > 0);
    BOOST_TEST(r1.started_at > 0);
    BOOST_TEST_REQUIRE(s->add_event(make_event(r1, "import", "458", "Invoice sync")).has_value());
    BOOST_TEST_REQUIRE(s->add_event(make_event(r1, "unchanged", "459", "Dunning")).has_value());
    r1.outcome = "ok";
    r1.imported = 1;
    r1.unchanged = 1;
    BOOST_TEST_REQUIRE(s->finish_run(r1).has_value());

    auto r2 = s->begin_run("run-2", "prod-to-staging", "sync").value();
    BOOST_TEST_REQUIRE(s->add_event(make_event(r2, "error", "459", "Dunning")).has_value());
    // An event given by run uid only.
    auto by_uid = make_event(r2, "drift", "460", "Payments");
    by_uid.run = 0;
    by_uid.run_uid = "run-2";
    BOOST_TEST_REQUIRE(s->add_event(by_uid).has_value());

    auto runs = s->list_runs({}).value();
    BOOST_TEST_REQUIRE(runs.size() == 2u);
    BOOST_TEST(runs[0].uid == "run-2");
    BOOST_TEST(runs[0].finished_at == 0);
    BOOST_TEST(runs[0].outcome.empty());
    BOOST_TEST(runs[1].uid == "run-1");
    BOOST_TEST(runs[1].outcome == "ok");
    BOOST_TEST(runs[1].imported == 1);
    BOOST_TEST(runs[1].unchanged == 1);
    BOOST_TEST(runs[1].finished_at >= runs[1].started_at);
    BOOST_TEST(runs[1].command == "sync");

    auto events = s->list_events({}).value();
    BOOST_TEST_REQUIRE(events.size() == 4u);
    BOOST_TEST(events[0].kind == "drift");
    BOOST_TEST(events[0].run_uid == "run-2");
    BOOST_TEST(events[0].run == r2.id);
    BOOST_TEST(events[3].kind == "import");
    BOOST_TEST(events[3].run_uid == "run-1");
    BOOST_TEST(events[3].duration_ms == 12);
    BOOST_TEST(events[3].at > 0);

    history_filter by_rule;
    by_rule.rule = "prod-to-sandbox";
    BOOST_TEST(s->list_runs(by_rule).value().size() == 1u);
    auto rule_events = s->list_events(by_rule).value();
    BOOST_TEST_REQUIRE(rule_events.size() == 2u);
    BOOST_TEST(rule_events[0].kind == "unchanged");

    history_filter by_id;
    by_id.workflow = "459";
    auto id_events = s->list_events(by_id).value();
    BOOST_TEST_REQUIRE(id_events.size() == 2u);
    BOOST_TEST(id_events[0].kind == "error");
    BOOST_TEST(id_events[1].kind == "unchanged");
    BOOST_TEST(s->list_runs(by_id).value().size() == 2u);

    history_filter by_name;
    by_name.workflow = "Payments";
    auto name_events = s->list_events(by_name).value();
    BOOST_TEST_REQUIRE(name_events.size() == 1u);
    BOOST_TEST(name_events[0].source_workflow == "460");
    auto name_runs = s->list_runs(by_name).value();
    BOOST_TEST_REQUIRE(name_runs.size() == 1u);
    BOOST_TEST(name_runs[0].uid == "run-2");

    history_filter both;
    both.rule = "prod-to-sandbox";
    both.workflow = "Dunning";
    auto both_events = s->list_events(both).value();
    BOOST_TEST_REQUIRE(both_events.size() == 1u);
    BOOST_TEST(both_events[0].kind == "unchanged");

    history_filter limited;
    limited.limit = 3;
    auto few = s->list_events(limited).value();
    BOOST_TEST_REQUIRE(few.size() == 3u);
    BOOST_TEST(few[0].kind == "drift");
    limited.limit = 1;
    auto one_run = s->list_runs(limited).value();
    BOOST_TEST_REQUIRE(one_run.size() == 1u);
    BOOST_TEST(one_run[0].uid == "run-2");

    history_filter none;
    none.workflow = "nothing-like-this";
    BOOST_TEST(s->list_events(none).value().empty());
    BOOST_TEST(s->list_runs(none).value().empty());
}

BOOST_AUTO_TEST_CASE(duplicate_run_uid_and_unknown_run_are_errors)
{
    auto s = open_store();
    (void)s->begin_run("run-1", "r", "sync").value();
    auto dup = s->begin_run("run-1", "r", "sync");
    BOOST_TEST_REQUIRE(dup.has_error());
    BOOST_TEST((dup.error().code == errc::conflict));

    event_row orphan;
    orphan.run = 777;
    orphan.kind = "import";
    auto e = s->add_event(orphan);
    BOOST_TEST_REQUIRE(e.has_error());
    BOOST_TEST((e.error().code == errc::store));
    BOOST_TEST(e.error().message.find("no such run") != std::string::npos, e.error().message);

    run_row ghost;
    ghost.uid = "run-ghost";
    auto f = s->finish_run(ghost);
    BOOST_TEST_REQUIRE(f.has_error());
    BOOST_TEST(f.error().message.find("run-ghost") != std::string::npos, f.error().message);
    BOOST_TEST(s->list_events({}).value().empty());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(async_jobs, backend_fixture)

BOOST_AUTO_TEST_CASE(jobs_are_recorded_listed_while_open_and_closed)
{
    row_id exp = 0, imp = 0, other = 0;
    {
        auto s = open_store();
        auto intent = s->create_intent(make_intent("k-job")).value();
        async_job j;
        j.tenant = "kore-dev";
        j.kind = "export";
        j.job_id = "ex-1";
        j.workflow = "bot-1";
        j.version = "3";
        j.resume = "https://files.example/ex-1.zip";
        auto a = s->add_job(j).value();
        exp = a.id;
        BOOST_TEST(a.resume == "https://files.example/ex-1.zip");
        j.resume.clear();
        BOOST_TEST(a.intent == 0);
        BOOST_TEST((a.state == job_state::running));
        BOOST_TEST(a.created_at > 0);

        j.kind = "import";
        j.job_id = "im-1";
        j.intent = intent.id;
        auto b = s->add_job(j).value();
        imp = b.id;
        BOOST_TEST(b.intent == intent.id);

        j.tenant = "kore-prod";
        j.kind = "export";
        j.job_id = "ex-1";  // same platform id, other tenant: allowed
        j.intent = 0;
        other = s->add_job(j).value().id;
    }
    auto s = open_store();
    auto all = s->open_jobs().value();
    BOOST_TEST_REQUIRE(all.size() == 3u);
    BOOST_TEST(all[0].id == exp);
    BOOST_TEST(all[0].kind == "export");
    BOOST_TEST(all[0].resume == "https://files.example/ex-1.zip");  // survives a reopen
    BOOST_TEST(all[1].resume.empty());
    BOOST_TEST(all[1].id == imp);
    auto dev = s->open_jobs("kore-dev").value();
    BOOST_TEST(dev.size() == 2u);

    BOOST_TEST_REQUIRE(s->set_job_state(exp, job_state::succeeded, "done").has_value());
    BOOST_TEST_REQUIRE(s->set_job_state(imp, job_state::unknown, "poll timed out").has_value());
    auto left = s->open_jobs("kore-dev").value();
    BOOST_TEST_REQUIRE(left.size() == 1u);
    BOOST_TEST(left[0].id == imp);
    BOOST_TEST((left[0].state == job_state::unknown));
    BOOST_TEST(left[0].detail == "poll timed out");
    BOOST_TEST_REQUIRE(s->set_job_state(other, job_state::failed).has_value());
    BOOST_TEST(s->open_jobs("kore-prod").value().empty());

    // An ended job's id handed out again by the platform is a new job; an open one is not.
    async_job again;
    again.tenant = "kore-prod";
    again.kind = "export";
    again.job_id = "ex-1";
    again.workflow = "bot-9";
    again.version = "1";
    auto reused = s->add_job(again);
    BOOST_TEST_REQUIRE(reused.has_value());
    BOOST_TEST(reused->workflow == "bot-9");
    BOOST_TEST(s->open_jobs("kore-prod").value().size() == 1u);
    BOOST_TEST((s->add_job(again).error().code == errc::conflict));
    // The resume data of an ended job is gone.
    BOOST_TEST_REQUIRE(s->set_job_state(exp, job_state::succeeded, "done").has_value());
}

BOOST_AUTO_TEST_CASE(job_errors)
{
    auto s = open_store();
    async_job j;
    j.tenant = "kore-dev";
    j.kind = "export";
    j.job_id = "ex-1";
    (void)s->add_job(j).value();
    auto dup = s->add_job(j);
    BOOST_TEST_REQUIRE(dup.has_error());
    BOOST_TEST((dup.error().code == errc::conflict));

    j.job_id = "ex-2";
    j.kind = "delete";
    auto bad_kind = s->add_job(j);
    BOOST_TEST_REQUIRE(bad_kind.has_error());
    BOOST_TEST((bad_kind.error().code == errc::invalid_argument));

    j.kind = "import";
    j.intent = 999;
    auto bad_intent = s->add_job(j);
    BOOST_TEST_REQUIRE(bad_intent.has_error());
    BOOST_TEST(bad_intent.error().message.find("999") != std::string::npos, bad_intent.error().message);

    auto missing = s->set_job_state(555, job_state::failed);
    BOOST_TEST_REQUIRE(missing.has_error());
    BOOST_TEST(missing.error().message.find("555") != std::string::npos, missing.error().message);
    BOOST_TEST(s->open_jobs().value().size() == 1u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(notifications, backend_fixture)

BOOST_AUTO_TEST_CASE(a_key_is_queued_once_per_target_and_kept_after_delivery)
{
    notification_row n;
    n.target = "ops";
    n.event_key = "promoted|r|sbx/1|prod|h1";
    n.event = "promoted";
    n.rule = "r";
    n.delivery = "d-1";
    n.payload = R"({"event":"promoted"})";
    {
        auto s = open_store();
        BOOST_TEST(s->queue_notification(n).value());
        auto again = n;
        again.delivery = "d-2";
        BOOST_TEST(!s->queue_notification(again).value());  // same target and key: nothing new
        auto other = n;
        other.target = "team";
        other.delivery = "d-3";
        BOOST_TEST(s->queue_notification(other).value());
        auto pending = s->pending_notifications().value();
        BOOST_TEST_REQUIRE(pending.size() == 2u);
        BOOST_TEST(pending[0].delivery == "d-1");
        BOOST_TEST(s->set_notification_state(pending[0].id, notification_state::pending, 3, "HTTP 503").has_value());
        BOOST_TEST(s->set_notification_state(pending[0].id, notification_state::sent, 1, "").has_value());
        BOOST_TEST(!s->set_notification_state(9999, notification_state::sent, 1, "").has_value());
    }
    // After a restart: the sent one is remembered (without its payload), so it is not queued again.
    auto s = open_store();
    auto sent = s->find_notification("ops", n.event_key).value();
    BOOST_TEST_REQUIRE(sent.has_value());
    BOOST_TEST((sent->state == notification_state::sent));
    BOOST_TEST(sent->attempts == 4);
    BOOST_TEST(sent->payload.empty());
    BOOST_TEST(!s->queue_notification(n).value());
    BOOST_TEST(s->pending_notifications().value().size() == 1u);
}

BOOST_AUTO_TEST_CASE(rule_health_round_trips)
{
    auto s = open_store();
    BOOST_TEST(!s->get_rule_health("r").value().has_value());
    BOOST_TEST(s->put_rule_health({"r", true, "run-1", 100}).has_value());
    BOOST_TEST(s->put_rule_health({"r", true, "run-1", 200}).has_value());
    auto h = s->get_rule_health("r").value();
    BOOST_TEST_REQUIRE(h.has_value());
    BOOST_TEST(h->failing);
    BOOST_TEST(h->since_run == "run-1");
    BOOST_TEST(h->updated_at == 200);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(archive_catalogue, backend_fixture)

BOOST_AUTO_TEST_CASE(add_list_find_remove)
{
    auto st = open_store();
    archive_entry_row e;
    e.archive = "main";
    e.tenant = "prod";
    e.workflow_id = "458";
    e.workflow_name = "Invoice sync";
    e.version = "0.0.1";
    e.content_hash = "aaaa";
    e.format = "zuora-json";
    e.path = "prod/Invoice sync-458/f1.json.gz";
    e.file_sha256 = "f1sha";
    e.size = 10;
    e.stored_at = 1000;
    auto first = st->add_archive_entry(e).value();
    BOOST_TEST(first.id > 0);
    // Same key again: the existing row, no second one.
    auto again = st->add_archive_entry(e).value();
    BOOST_TEST(again.id == first.id);

    // A second version label of the same content shares the file.
    auto e2 = e;
    e2.version = "0.0.2";
    e2.stored_at = 2000;
    auto second = st->add_archive_entry(e2).value();
    BOOST_TEST(second.id != first.id);

    // Another workflow in another tenant, another file.
    auto e3 = e;
    e3.tenant = "dev";
    e3.workflow_id = "77";
    e3.workflow_name = "Dunning";
    e3.content_hash = "bbbb";
    e3.path = "dev/Dunning-77/f2.json.gz";
    e3.file_sha256 = "f2sha";
    e3.stored_at = 1500;
    auto third = st->add_archive_entry(e3).value();

    // The same path with other bytes is a conflict.
    auto bad = e3;
    bad.version = "9";
    bad.file_sha256 = "other";
    auto r = st->add_archive_entry(bad);
    BOOST_TEST_REQUIRE(!r.has_value());
    BOOST_TEST((r.error().code == errc::conflict));

    auto all = st->list_archive_entries("main").value();
    BOOST_TEST_REQUIRE(all.size() == 3u);
    BOOST_TEST(all[0].id == first.id);  // oldest first by stored_at
    BOOST_TEST(all[1].id == third.id);
    BOOST_TEST(all[2].id == second.id);
    BOOST_TEST(all[0].path == e.path);
    BOOST_TEST(all[0].size == 10);
    BOOST_TEST(all[0].workflow_name == "Invoice sync");
    BOOST_TEST(st->list_archive_entries("main", "prod").value().size() == 2u);
    BOOST_TEST(st->list_archive_entries("main", "", "Dunning").value().size() == 1u);
    BOOST_TEST(st->list_archive_entries("main", "", "458").value().size() == 2u);
    BOOST_TEST(st->list_archive_entries("main", "dev", "458").value().empty());
    BOOST_TEST(st->list_archive_entries("other").value().empty());
    BOOST_TEST(st->list_archive_files("main").value().size() == 2u);

    auto found = st->find_archive_entry_by_hash("main", "prod", "458", "aaaa").value();
    BOOST_TEST_REQUIRE(found.has_value());
    BOOST_TEST(found->id == second.id);  // the newest
    BOOST_TEST(!st->find_archive_entry_by_hash("main", "prod", "458", "cccc").value().has_value());

    // The file goes only with its last entry.
    BOOST_TEST(!st->remove_archive_entry(first.id).value().has_value());
    BOOST_TEST(st->find_archive_file("main", e.path).value().has_value());
    auto gone = st->remove_archive_entry(second.id).value();
    BOOST_TEST_REQUIRE(gone.has_value());
    BOOST_TEST(*gone == e.path);
    BOOST_TEST(!st->find_archive_file("main", e.path).value().has_value());
    auto missing = st->remove_archive_entry(second.id);
    BOOST_TEST_REQUIRE(!missing.has_value());
    BOOST_TEST(missing.error().message.find("no such archive entry") != std::string::npos);
    BOOST_TEST(st->list_archive_entries("main").value().size() == 1u);
}

BOOST_AUTO_TEST_CASE(empty_key_fields_are_refused)
{
    auto st = open_store();
    archive_entry_row e;
    e.archive = "main";
    auto r = st->add_archive_entry(e);
    BOOST_TEST_REQUIRE(!r.has_value());
    BOOST_TEST((r.error().code == errc::invalid_argument));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(listings, backend_fixture)

BOOST_AUTO_TEST_CASE(workflows_are_listed_by_name_then_id_in_byte_order)
{
    auto s = open_store();
    (void)s->upsert_workflow("prod", "2", "b").value();
    (void)s->upsert_workflow("prod", "1", "b").value();
    (void)s->upsert_workflow("prod", "3", "B").value();
    (void)s->upsert_workflow("prod", "4", "a").value();
    (void)s->upsert_workflow("sandbox", "5", "a").value();
    std::vector<std::string> ids;
    for (const auto& w : s->list_workflows("prod").value()) ids.push_back(w.remote_id);
    // Bytes, not a locale: "B" < "a" < "b", whatever the database's collation.
    BOOST_TEST(ids == (std::vector<std::string>{"3", "4", "1", "2"}), boost::test_tools::per_element());
    BOOST_TEST(s->list_workflows("nobody").value().empty());
}

BOOST_AUTO_TEST_CASE(has_version_mapping_is_per_target_workflow_and_content)
{
    auto s = open_store();
    BOOST_TEST(!s->has_version_mapping("sandbox", "900", "h1").value());
    BOOST_TEST_REQUIRE(s->add_version_mapping({"prod", "458", "0.0.3", "h1", "sandbox", "900", "0.0.1", 0, {}}).has_value());
    BOOST_TEST(s->has_version_mapping("sandbox", "900", "h1").value());
    BOOST_TEST(!s->has_version_mapping("sandbox", "900", "h2").value());
    BOOST_TEST(!s->has_version_mapping("sandbox", "901", "h1").value());
    BOOST_TEST(!s->has_version_mapping("staging", "900", "h1").value());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE_END()  // store_contract
