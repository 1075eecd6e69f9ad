// SPDX-License-Identifier: Apache-2.0
// When a run may skip the export: every reason to compare in full, and the marks recorded.
#include <boost/test/unit_test.hpp>

#include "../../../lib/src/sync/listing_check.hpp"

#include <chrono>

using namespace wfsync;
using sync::detail::listing_check;

namespace {

constexpr std::int64_t now = 1'800'000'000;

config::rule make_rule()
{
    config::rule r;
    r.name = "promote";
    r.source = "dev";
    r.targets = {"prod", "archive:a"};
    r.version = config::version_choice::active;
    return r;
}

connector::workflow_summary listed(std::string id, std::string mark)
{
    connector::workflow_summary w;
    w.id = std::move(id);
    w.name = "Dunning " + w.id;
    w.change_mark = std::move(mark);
    return w;
}

struct world {
    config::rule rule = make_rule();
    connector::workflow_summary src = listed("286", "src-1");
    std::vector<connector::workflow_summary> prod{listed("901", "tgt-1"), listed("902", "other")};
    std::vector<store::listing_mark> marks;
    std::vector<store::import_intent> open;

    /// Marks as a full comparison an hour ago recorded them.
    void compared()
    {
        listing_check before(rule, false, {}, {}, now - 3600);
        marks = {*before.mark_after(src, "prod", "901", &prod, "h1"), *before.mark_after(src, "archive:a", "", nullptr, "h1")};
    }
    std::string why(const std::string& target, bool full = false) const
    {
        listing_check c(rule, full, marks, open, now);
        return c.why_full(src, target, target == "prod" ? &prod : nullptr);
    }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(listing_check_suite)

BOOST_AUTO_TEST_CASE(unchanged_listings_prove_both_kinds_of_target)
{
    world w;
    w.compared();
    BOOST_TEST(w.why("prod").empty());
    BOOST_TEST(w.why("archive:a").empty());
    listing_check c(w.rule, false, w.marks, w.open, now);
    BOOST_TEST(c.verified_at("286", "prod") == now - 3600);
    BOOST_TEST(c.content_hash("286", "prod") == "h1");
    BOOST_TEST(c.target_workflow("286", "prod") == "901");
    BOOST_TEST(c.verified_at("287", "prod") == 0);
}

BOOST_AUTO_TEST_CASE(every_reason_to_compare_in_full)
{
    {
        world w;
        BOOST_TEST(w.why("prod") == "not compared in full before");
    }
    {
        world w;
        w.compared();
        BOOST_TEST(w.why("prod", true) == "--full");
        w.rule.verify_every = std::chrono::milliseconds(0);
        BOOST_TEST(w.why("prod") == "verify_every: 0");
    }
    {
        world w;
        w.compared();
        w.src.change_mark = "src-2";
        BOOST_TEST(w.why("prod") == "the source's listing changed");
        BOOST_TEST(w.why("archive:a") == "the source's listing changed");
    }
    {
        world w;
        w.compared();
        w.src.change_mark.clear();  // Kore.ai: no listing that shows anything
        BOOST_TEST(w.why("prod") == "the source's listing shows no version or update time");
    }
    {
        world w;
        w.compared();
        w.prod[0].change_mark = "tgt-2";
        BOOST_TEST(w.why("prod") == "the target's listing changed");
        BOOST_TEST(w.why("archive:a").empty());  // the archive is not in that listing
    }
    {
        world w;
        w.compared();
        w.prod[0].change_mark.clear();
        BOOST_TEST(w.why("prod") == "the target's listing shows no version or update time");
    }
    {
        world w;
        w.compared();
        w.prod.erase(w.prod.begin());
        BOOST_TEST(w.why("prod") == "the target's listing no longer shows its workflow");
    }
    {
        world w;
        w.compared();
        store::import_intent i;
        i.rule = "promote";
        i.source_tenant = "dev";
        i.source_workflow = "286";
        i.target_tenant = "prod";
        w.open.push_back(i);
        BOOST_TEST(w.why("prod") == "an earlier import is still open");
        BOOST_TEST(w.why("archive:a").empty());
    }
    {
        world w;
        w.compared();
        w.rule.verify_every = std::chrono::hours(1);  // compared exactly an hour ago
        BOOST_TEST(w.why("prod").rfind("verify_every: last compared in full at ", 0) == 0u, w.why("prod"));
        w.rule.verify_every = std::chrono::hours(1) + std::chrono::seconds(1);
        BOOST_TEST(w.why("prod").empty());
    }
    {
        // Another version choice reads another version: the old marks prove nothing.
        world w;
        w.compared();
        w.rule.version = config::version_choice::latest;
        BOOST_TEST(w.why("prod") == "the source's listing changed");
    }
}

BOOST_AUTO_TEST_CASE(no_mark_where_a_listing_proves_nothing)
{
    world w;
    listing_check c(w.rule, false, {}, {}, now);
    BOOST_TEST(!c.mark_after(w.src, "prod", "903", &w.prod, "h1").has_value());  // not listed
    BOOST_TEST(!c.mark_after(w.src, "prod", "", &w.prod, "h1").has_value());
    BOOST_TEST(!c.mark_after(w.src, "prod", "901", nullptr, "h1").has_value());
    w.prod[0].change_mark.clear();
    BOOST_TEST(!c.mark_after(w.src, "prod", "901", &w.prod, "h1").has_value());
    w.src.change_mark.clear();
    BOOST_TEST(!c.mark_after(w.src, "archive:a", "", nullptr, "h1").has_value());
}

BOOST_AUTO_TEST_SUITE_END()
