// SPDX-License-Identifier: Apache-2.0
// End to end: incremental runs. A run exports nothing that the listings prove unchanged since
// the last full comparison; what changed, --full and verify_every are compared in full.
#define BOOST_TEST_MODULE wfsync incremental runs end to end
#include "fixtures.hpp"

#include <boost/test/unit_test.hpp>

#include <sqlite3.h>

using namespace wfsync::test;
namespace json = boost::json;

namespace {

std::size_t exports(emulator_thread& emu, const std::string& tenant) { return emu.find(tenant, "/export").size(); }

bool has(const std::string& text, std::string_view what) { return text.find(what) != std::string::npos; }

/// Runs `sql` on the state database behind wfsync's back (as time passing would).
void poke_state(const wfsync_env& env, const std::string& sql)
{
    sqlite3* db = nullptr;
    BOOST_TEST_REQUIRE(sqlite3_open(env.dir->file("state/state.db").c_str(), &db) == SQLITE_OK);
    char* msg = nullptr;
    int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &msg);
    BOOST_TEST(rc == SQLITE_OK, sql << ": " << (msg ? msg : ""));
    sqlite3_free(msg);
    sqlite3_close(db);
}

/// The standard seed, both tenants' listings showing `list_detail` (emulator switch).
std::string seed_listing(const char* list_detail)
{
    auto s = json::parse(seed()).as_object();
    for (const char* t : {"sandbox", "prod"}) s["tenants"].as_object()[t].as_object()["list_detail"] = list_detail;
    return json::serialize(s);
}

/// Invoice Sync with another ERP endpoint: for a person's edit.
json::object invoice_sync(const char* url)
{
    return json::object{{"workflow", json::object{{"name", "Invoice Sync"}}},
                        {"tasks", json::array{task(1, "Fetch invoices", "Export", {{"object", "Invoice"}}),
                                              task(2, "Post to ERP", "Callout", {{"url", url}})}},
                        {"linkages", json::array{link(1, 2)}}};
}

std::string prod_id_of(emulator_thread& emu, const std::string& name)
{
    auto state = emu->state("prod");
    for (const auto& w : state.at("workflows").as_array())
        if (w.at("name").as_string() == name) return std::to_string(w.at("id").as_int64());
    BOOST_FAIL("no workflow " << name << " in prod");
    return {};
}

/// After a first sync of the standard seed (three workflows into prod).
struct synced {
    emulator_thread emu;
    wfsync_env env;
    explicit synced(config_options o = {}, const std::string& seed_text = seed())
        : emu(seed_text), env(make_env(emu->base_url(), o))
    {
        auto first = env.run({"sync"});
        BOOST_TEST_REQUIRE(first.code == 0, describe(first));
        expect_replicated_once(emu);
        emu->clear_requests();
    }
    run_output sync(std::vector<std::string> extra = {})
    {
        extra.insert(extra.begin(), "sync");
        auto r = env.run(extra);
        BOOST_TEST(r.code == 0, describe(r));
        return r;
    }
};

}  // namespace

BOOST_AUTO_TEST_CASE(a_no_change_run_exports_nothing_and_says_so)
{
    synced w;
    auto r = w.sync();
    BOOST_TEST(exports(w.emu, "sandbox") == 0u, describe(r));
    BOOST_TEST(exports(w.emu, "prod") == 0u, describe(r));
    BOOST_TEST(w.emu.find("prod", "/versions").empty(), describe(r));
    BOOST_TEST(imports(w.emu) == 0u);
    // One listing each (the sandbox's in pages of 2), nothing else but tokens.
    BOOST_TEST(w.emu.find("prod", "/workflows", "GET").size() == 1u);
    BOOST_TEST(w.emu->requests().size() == w.emu.find("sandbox", "/workflows", "GET").size() + 1 + 2, describe(r));
    BOOST_TEST(has(r.out, "0 imported, 3 unchanged"), r.out);
    BOOST_TEST(has(r.out, "read: 3 proved unchanged by the listings (not exported), 0 compared in full"), r.out);
    BOOST_TEST(has(r.out, "as at the last full comparison"), r.out);

    auto j = json::parse(w.env.run({"sync", "--json"}).out).at("runs").at(0).as_object();
    BOOST_TEST(j.at("by_listing").as_int64() == 3);
    BOOST_TEST(j.at("compared_in_full").as_object().empty());
    BOOST_TEST(j.at("items").at(0).at("by_listing").as_bool());
    // The history keeps an event per item, as for any run.
    auto h = w.env.run({"history", "--json", "--limit", "100"});
    BOOST_TEST(h.code == 0, describe(h));
}

BOOST_AUTO_TEST_CASE(a_new_source_version_is_the_only_one_read_and_imported)
{
    synced w;
    json::object doc{{"workflow", json::object{{"name", "Invoice Sync"}, {"version", "0.1.1"}}},
                     {"tasks", json::array{task(1, "Fetch invoices", "Export", {{"object", "Invoice"}}),
                                           task(2, "Post to ERP", "Callout", {{"url", "https://erp.example/v2"}})}},
                     {"linkages", json::array{link(1, 2)}}};
    BOOST_TEST_REQUIRE(w.emu->add_version("sandbox", "102", doc).has_value());
    auto plan = w.env.run({"plan"});
    BOOST_TEST(plan.code == 0, describe(plan));
    BOOST_TEST(has(plan.out, "would import"), plan.out);
    BOOST_TEST(has(plan.out, "2 proved unchanged by the listings (not exported), 1 compared in full (1 the source's "
                             "listing changed)"),
               plan.out);
    w.emu->clear_requests();

    auto r = w.sync();
    auto src = w.emu.find("sandbox", "/export");
    BOOST_TEST_REQUIRE(src.size() == 1u, describe(r));
    BOOST_TEST(has(std::string(src[0].at("path").as_string()), "/workflows/102/"));
    BOOST_TEST(imports(w.emu) == 1u);
    BOOST_TEST((w.emu.versions("prod")["Invoice Sync"] == std::vector<std::string>{"0.1.0", "0.1.1"}));

    // The import's own mark came from the target's listing read again: the next run is quiet.
    w.emu->clear_requests();
    auto quiet = w.sync();
    BOOST_TEST(exports(w.emu, "sandbox") + exports(w.emu, "prod") == 0u, describe(quiet));
    BOOST_TEST(has(quiet.out, "read: 3 proved unchanged"), quiet.out);
}

BOOST_AUTO_TEST_CASE(a_hand_edit_in_the_target_shows_in_its_listing_and_is_drift)
{
    synced w;
    BOOST_TEST_REQUIRE(w.emu->add_version("prod", "501", edited_reminder("Changed by a person")).has_value());
    auto r = w.sync();
    BOOST_TEST(has(r.out, "1 drift"), r.out);
    BOOST_TEST(has(r.out, "1 the target's listing changed"), r.out);
    BOOST_TEST(exports(w.emu, "sandbox") == 1u, describe(r));
    BOOST_TEST(imports(w.emu) == 0u);
    // Drift stays visible on every run: it is not proved away by the listings.
    w.emu->clear_requests();
    auto again = w.sync();
    BOOST_TEST(has(again.out, "1 drift"), again.out);
    BOOST_TEST(has(again.out, "2 proved unchanged"), again.out);
}

BOOST_AUTO_TEST_CASE(full_and_verify_every_compare_everything)
{
    synced w;
    auto full = w.sync({"--full"});
    BOOST_TEST(exports(w.emu, "sandbox") == 3u, describe(full));
    BOOST_TEST(has(full.out, "0 proved unchanged by the listings (not exported), 3 compared in full (3 --full)"),
               full.out);
    BOOST_TEST(has(full.out, "0 imported, 3 unchanged"), full.out);

    // A day later (the marks aged behind wfsync's back), the default verify_every reads all.
    poke_state(w.env, "UPDATE listing_marks SET verified_at = verified_at - 86400");
    w.emu->clear_requests();
    auto aged = w.sync();
    BOOST_TEST(exports(w.emu, "sandbox") == 3u, describe(aged));
    BOOST_TEST(has(aged.out, "3 compared in full (3 verify_every: last compared in full at "), aged.out);
    w.emu->clear_requests();
    auto quiet = w.sync();
    BOOST_TEST(exports(w.emu, "sandbox") == 0u, describe(quiet));

    // verify_every: 0 reads everything, every run.
    config_options o;
    o.extra_rules = "    verify_every: 0s\n";
    w.env.dir->write("wfsync.yaml", config_text(w.env.dir->file("state"), w.emu->base_url(), o));
    w.emu->clear_requests();
    auto always = w.sync();
    BOOST_TEST(exports(w.emu, "sandbox") == 3u, describe(always));
    BOOST_TEST(has(always.out, "3 verify_every: 0"), always.out);
}

BOOST_AUTO_TEST_CASE(an_open_import_is_compared_in_full_until_settled)
{
    synced w;
    BOOST_TEST_REQUIRE(w.emu->add_version("sandbox", "103", json::object{
        {"workflow", json::object{{"name", "Dunning Notice"}, {"version", "0.0.4"}}},
        {"tasks", json::array{task(1, "Check balance", "If", {{"condition", "Balance > 200"}})}},
        {"linkages", json::array{}}}).has_value());
    // Every attempt of the import fails: the intent stays open (unknown).
    BOOST_TEST_REQUIRE(w.emu->add_fault({{"tenant", "prod"}, {"path_contains", "/versions/import"}, {"kind", "reset_before"},
                                         {"count", 100}})
                           .has_value());
    auto failed = w.env.run({"sync"});
    BOOST_TEST(failed.code != 0, describe(failed));
    w.emu->clear_faults();
    w.emu->clear_requests();
    auto r = w.sync();
    BOOST_TEST(has(r.out, "1 an earlier import is still open"), r.out);
    BOOST_TEST(imports(w.emu) == 1u, describe(r));
    BOOST_TEST((w.emu.versions("prod")["Dunning Notice"] == std::vector<std::string>{"0.0.3", "0.0.4"}));
}

// Whether the listings show version labels and update times, and whether an edit in place
// shows in them, is not documented: each answer (emulator switch list_detail) keeps the story
// right: what the listings cannot show is read in full, or caught by --full / verify_every.
BOOST_AUTO_TEST_CASE(each_listing_detail_keeps_runs_right)
{
    for (const char* detail : {"full", "labels", "names"}) {
        BOOST_TEST_CONTEXT("list_detail: " << detail)
        {
            const bool shows_labels = std::string_view(detail) != "names";
            const bool shows_times = std::string_view(detail) == "full";
            synced w({}, seed_listing(detail));

            auto quiet = w.sync();
            BOOST_TEST(exports(w.emu, "sandbox") == (shows_labels ? 0u : 3u), describe(quiet));
            BOOST_TEST(has(quiet.out, shows_labels ? "read: 3 proved unchanged"
                                                   : "3 the source's listing shows no version or update time"),
                       quiet.out);

            // A person edits the source's version in place, without a new label.
            BOOST_TEST_REQUIRE(w.emu->edit_version("sandbox", "102", "0.1.0", invoice_sync("https://erp.example/v9"))
                                   .has_value());
            w.emu->clear_requests();
            auto after_edit = w.sync();
            // Seen at once where an update time or no listing at all says so; else by --full.
            BOOST_TEST(imports(w.emu) == (shows_labels && !shows_times ? 0u : 1u), describe(after_edit));
            if (shows_labels && !shows_times) {
                w.emu->clear_requests();
                auto full = w.sync({"--full"});
                BOOST_TEST(imports(w.emu) == 1u, describe(full));
            }
            BOOST_TEST(w.emu.versions("prod")["Invoice Sync"].size() == 2u);

            // A person edits the target's latest version in place: drift, when it can be seen.
            auto target = prod_id_of(w.emu, "Invoice Sync");
            auto latest = w.emu.versions("prod")["Invoice Sync"].back();
            BOOST_TEST_REQUIRE(w.emu->edit_version("prod", target, latest, invoice_sync("https://erp.example/by-hand"))
                                   .has_value());
            w.emu->clear_requests();
            auto drift = w.sync();
            BOOST_TEST(has(drift.out, shows_labels && !shows_times ? "0 drift" : "1 drift"), drift.out);
            auto full = w.sync({"--full"});
            BOOST_TEST(has(full.out, "1 drift"), full.out);
            BOOST_TEST(imports(w.emu) == 0u);  // on_drift: skip
        }
    }
}
