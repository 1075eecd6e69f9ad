// SPDX-License-Identifier: Apache-2.0
// Property tests of the Kore.ai and SecMaster fingerprints: any consistent re-stamping of
// every identifier, new version labels, times, authors, states and file names hash equal;
// any change a person makes to the content hashes different.
#include <boost/test/unit_test.hpp>

#include "sync_fixtures.hpp"

#include <wfsync/sync/normalize.hpp>

#include <boost/json.hpp>

#include <fmt/format.h>

#include <map>
#include <random>
#include <string>
#include <vector>

using namespace wfsync;
namespace json = boost::json;

namespace {

/// A workflow as a person sees it: nodes, what follows what, prompts, settings. Identifiers
/// and tenant stamps are chosen when it is written out, as each tenant would.
struct node {
    std::string type, name, prompt;
    std::vector<std::size_t> next;  ///< indices of following nodes
    std::int64_t timeout_ms = 0;
    double temperature = 0;
    std::size_t prompt_ref = SIZE_MAX;  ///< a node whose output the prompt names, if any
};

struct workflow_model {
    std::string name;
    std::vector<node> nodes;
    std::map<std::string, std::string> env;
    std::string dataclass_name;
};

/// How one tenant stamps what it stores.
struct stamp {
    std::vector<std::string> node_ids;
    std::string app_id, flow_id, record_id, dataclass_id, workflow_id, version_id;
    int version = 1;
    std::string time, author, state;
    bool short_ids = false;
};

std::string hex(std::mt19937& rng, int n)
{
    static constexpr char digits[] = "0123456789abcdef";
    std::string s;
    for (int i = 0; i < n; ++i) s += digits[rng() % 16];
    return s;
}

stamp make_stamp(std::mt19937& rng, std::size_t nodes, bool short_ids)
{
    stamp s;
    s.short_ids = short_ids;
    std::size_t base = 1 + rng() % 50;
    for (std::size_t i = 0; i < nodes; ++i)
        s.node_ids.push_back(short_ids ? fmt::format("n{}", base + i) : "node-" + hex(rng, 16));
    s.app_id = "a-" + hex(rng, 12);
    s.flow_id = "cf-" + hex(rng, 12);
    s.record_id = hex(rng, 24);
    s.dataclass_id = hex(rng, 8) + "-" + hex(rng, 4) + "-" + hex(rng, 12);
    s.workflow_id = hex(rng, 8) + "-" + hex(rng, 4) + "-" + hex(rng, 12);
    s.version_id = hex(rng, 8) + "-" + hex(rng, 4) + "-" + hex(rng, 12);
    s.version = 1 + static_cast<int>(rng() % 30);
    s.time = fmt::format("2026-11-{:02}T10:{:02}:00Z", 1 + rng() % 28, rng() % 60);
    s.author = "user-" + hex(rng, 6);
    s.state = rng() % 2 ? "deployed" : "draft";
    return s;
}

json::value next_of(const node& n, const stamp& s)
{
    if (n.next.empty()) return nullptr;
    if (n.next.size() == 1) return json::string(s.node_ids[n.next[0]]);
    json::array a;
    for (auto i : n.next) a.emplace_back(s.node_ids[i]);
    return a;
}

std::string prompt_of(const node& n, const stamp& s)
{
    if (n.prompt_ref == SIZE_MAX || s.short_ids) return n.prompt;
    return n.prompt + " using {{" + s.node_ids[n.prompt_ref] + ".output}}";
}

connector::package kore_package(const workflow_model& m, const stamp& s)
{
    json::array nodes;
    for (std::size_t i = 0; i < m.nodes.size(); ++i) {
        const auto& n = m.nodes[i];
        nodes.push_back(json::object{{"id", s.node_ids[i]},
                                     {"type", n.type},
                                     {"name", n.name},
                                     {"prompt", prompt_of(n, s)},
                                     {"next", next_of(n, s)},
                                     {"config", {{"timeoutMs", n.timeout_ms}, {"temperature", n.temperature}}},
                                     {"updatedAt", s.time}});
    }
    json::object flow{{"appId", s.app_id},          {"flowId", s.flow_id}, {"startNodeId", s.node_ids.front()},
                      {"nodes", std::move(nodes)}, {"createdBy", s.author}, {"modifiedOn", s.time}};
    json::object app{{"_id", s.record_id},
                     {"appId", s.app_id},
                     {"name", m.name},
                     {"version", {{"label", fmt::format("v{}", s.version)}, {"number", s.version}}},
                     {"status", s.state},
                     {"createdOn", s.time},
                     {"guardrails", json::array{"pii", "toxicity"}}};
    json::object env;
    for (const auto& [k, v] : m.env) env[k] = v;
    connector::package p;
    p.format = "kore-zip";
    p.files["flow_definition.json"] = json::serialize(flow);
    p.files["app_definition.json"] = json::serialize(app);
    p.files["env_variables.json"] = json::serialize(env);
    return p;
}

connector::package secmaster_package(const workflow_model& m, const stamp& s)
{
    json::array actions;
    for (std::size_t i = 0; i < m.nodes.size(); ++i) {
        const auto& n = m.nodes[i];
        actions.push_back(json::object{{"id", s.node_ids[i]},
                                       {"name", n.name},
                                       {"action_type", n.type},
                                       {"next", next_of(n, s)},
                                       {"parameters", {{"script", prompt_of(n, s)}, {"timeout", n.timeout_ms}}},
                                       {"create_time", s.time},
                                       {"creator_name", s.author}});
    }
    json::object file{
        {"workflow",
         {{"id", s.workflow_id}, {"name", m.name}, {"dataclass_id", s.dataclass_id},
          {"dataclass_name", m.dataclass_name}, {"project_id", s.app_id}, {"update_time", s.time}}},
        {"version",
         {{"id", s.version_id}, {"version", fmt::format("v{}", s.version)}, {"status", s.state},
          {"workflow_id", s.workflow_id}, {"actions", std::move(actions)}, {"taskflow_type", "JSON"}}}};
    connector::package p;
    p.format = "secmaster-file";
    std::string file_name = m.name;
    for (auto& c : file_name)
        if (c == ' ') c = '_';
    p.files[fmt::format("{}_v{}.json", file_name, s.version)] = json::serialize(file);
    return p;
}

workflow_model make_model(std::mt19937& rng)
{
    static const char* types[] = {"ai", "api", "condition", "script"};
    workflow_model m;
    m.name = fmt::format("SOC Alpha {:02}", rng() % 100);
    std::size_t n = 1 + rng() % 10;
    for (std::size_t i = 0; i < n; ++i) {
        node x;
        x.type = types[rng() % 4];
        x.name = fmt::format("Step {}", i + 1);
        x.prompt = fmt::format("Summarise case {} for the start of the shift", rng() % 1000);
        x.timeout_ms = 1000 * static_cast<std::int64_t>(1 + rng() % 60);
        x.temperature = static_cast<double>(rng() % 10) / 10.0;
        if (i + 1 < n) x.next.push_back(i + 1);
        if (i + 2 < n && rng() % 3 == 0) x.next.push_back(i + 2);
        if (i > 0 && rng() % 3 == 0) x.prompt_ref = rng() % i;
        m.nodes.push_back(std::move(x));
    }
    m.env = {{"REGION", "eu"}, {"TIMEOUT", std::to_string(rng() % 90)}};
    m.dataclass_name = "alert";
    return m;
}

std::string hash_of(const connector::package& p)
{
    auto r = sync::normalize(p);
    BOOST_TEST_REQUIRE(r.has_value(), (r.has_error() ? r.error().what() : ""));
    return r->hash;
}

/// Every way a person can change `m`, each applied to a copy.
std::vector<std::pair<std::string, workflow_model>> edits_of(const workflow_model& m, std::mt19937& rng)
{
    std::vector<std::pair<std::string, workflow_model>> out;
    auto pick = [&] { return rng() % m.nodes.size(); };
    {
        auto e = m;
        e.nodes[pick()].prompt += " and escalate";
        out.emplace_back("prompt text", std::move(e));
    }
    {
        auto e = m;
        e.nodes[pick()].timeout_ms += 1000;
        out.emplace_back("a number setting", std::move(e));
    }
    {
        auto e = m;
        auto& n = e.nodes[pick()];
        n.type = n.type == "ai" ? "api" : "ai";
        out.emplace_back("node type", std::move(e));
    }
    if (m.nodes.size() >= 3) {
        // Point a node's "next" elsewhere: the same ids, another pattern of references.
        auto e = m;
        auto& n = e.nodes.front();
        std::size_t target = n.next.empty() ? 2 : (n.next.front() + 1) % e.nodes.size();
        if (target == 0) target = 2;
        n.next = {target};
        if (n.next != m.nodes.front().next) out.emplace_back("a next reference", std::move(e));
    }
    if (m.nodes.size() >= 2) {
        auto e = m;
        e.nodes.pop_back();
        for (auto& n : e.nodes) std::erase(n.next, e.nodes.size());
        for (auto& n : e.nodes)
            if (n.prompt_ref >= e.nodes.size()) n.prompt_ref = SIZE_MAX;
        out.emplace_back("a node removed", std::move(e));
    }
    {
        auto e = m;
        e.env["REGION"] = "us";
        out.emplace_back("an environment variable", std::move(e));
    }
    {
        auto e = m;
        e.name += " v2";
        out.emplace_back("the workflow's name", std::move(e));
    }
    {
        auto e = m;
        e.dataclass_name = "incident";
        out.emplace_back("the data class", std::move(e));
    }
    return out;
}

template <class Make>
void check_property(Make make, int rounds)
{
    std::mt19937 rng(20261129);
    for (int round = 0; round < rounds; ++round) {
        auto m = make_model(rng);
        bool short_ids = round % 2 == 0;
        auto source = make_stamp(rng, m.nodes.size(), short_ids);
        // Short ids ("n3") are replaced as whole values only, so prompts name nodes only with long ids.
        auto target = make_stamp(rng, m.nodes.size(), short_ids);
        auto h = hash_of(make(m, source));
        BOOST_TEST(hash_of(make(m, target)) == h, "round " << round << ": re-stamped copy hashes differently");
        for (const auto& [what, edited] : edits_of(m, rng)) {
            // Each platform's files hold only some of the model: Kore.ai no data class,
            // SecMaster no environment variables.
            bool kore = make(m, source).format == "kore-zip";
            if (what == (kore ? "the data class" : "an environment variable")) continue;
            BOOST_TEST(hash_of(make(edited, target)) != h, "round " << round << ": a change of " << what
                                                                      << " hashes equal");
        }
    }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(tenant_local_fields)

BOOST_AUTO_TEST_CASE(kore_restamped_hashes_equal_and_edits_differ)
{
    check_property(kore_package, 300);
}

BOOST_AUTO_TEST_CASE(secmaster_restamped_hashes_equal_and_edits_differ)
{
    check_property(secmaster_package, 300);
}

BOOST_AUTO_TEST_CASE(zuora_restamped_hashes_equal_and_edits_differ)
{
    // Zuora's export: any task/linkage id space, any order, any tenant noise hashes equal.
    std::mt19937 rng(4242);
    auto hash = [](const std::string& doc) { return hash_of(test::zuora_package(doc)); };
    const auto h = hash(test::sample_export({}));
    for (int round = 0; round < 200; ++round) {
        test::export_options o;
        o.base = 10 + static_cast<int>(rng() % 100000);
        o.workflow_id = 1 + static_cast<int>(rng() % 9999);
        o.shuffle_seed = rng() % 1000;
        o.tenant_noise = rng() % 2 == 0;
        auto doc = test::sample_export(o);
        BOOST_TEST(hash(doc) == h, "round " << round);

        // Each edit a person can make changes the hash.
        auto v = json::parse(doc);
        auto& tasks = v.at("tasks").as_array();
        auto& links = v.at("linkages").as_array();
        std::vector<std::pair<std::string, json::value>> edits;
        {
            auto e = v;
            auto& t = e.at("tasks").as_array()[rng() % tasks.size()].as_object();
            t["name"] = std::string(t.at("name").as_string()) + " (edited)";
            edits.emplace_back("a task's name", std::move(e));
        }
        {
            auto e = v;
            auto& l = e.at("linkages").as_array()[rng() % links.size()].as_object();
            l["linkage_type"] = l.at("linkage_type").as_string() == "Success" ? "Failure" : "Success";
            edits.emplace_back("a linkage's type", std::move(e));
        }
        {
            // A linkage that now ends at another task: the same ids, another pattern.
            auto e = v;
            auto& ls = e.at("linkages").as_array();
            for (auto& lv : ls) {
                auto& l = lv.as_object();
                if (l.at("linkage_type").as_string() != "True") continue;
                auto target = l.at("target_task_id");
                for (const auto& t : e.at("tasks").as_array())
                    if (t.at("id") != target && t.at("id") != l.at("source_task_id")) {
                        l["target_task_id"] = t.at("id");
                        break;
                    }
            }
            edits.emplace_back("a linkage's end", std::move(e));
        }
        {
            auto e = v;
            e.at("workflow").as_object()["description"] = "Remind customers twice";
            edits.emplace_back("the description", std::move(e));
        }
        for (const auto& [what, e] : edits)
            BOOST_TEST(hash(json::serialize(e)) != h, "round " << round << ": a change of " << what << " hashes equal");
    }
}

BOOST_AUTO_TEST_CASE(secmaster_file_name_is_not_content)
{
    connector::package a{.format = "secmaster-file", .files = {{"SOC_Alpha_06_v3.json", R"({"steps":[1]})"}}};
    connector::package b{.format = "secmaster-file", .files = {{"SOC_Alpha_06_v4.json", R"({"steps":[1]})"}}};
    BOOST_TEST(hash_of(a) == hash_of(b));
    auto r = sync::normalize(a);
    BOOST_TEST(r->files.front().name == "export.json");
    b.files.begin()->second = R"({"steps":[2]})";
    BOOST_TEST(hash_of(a) != hash_of(b));
}

BOOST_AUTO_TEST_CASE(references_become_paths_of_their_first_place)
{
    connector::package p{.format = "kore-zip",
                         .files = {{"flow_definition.json",
                                    R"({"startNodeId":"n7","nodes":[{"id":"n7","next":"n9"},{"id":"n9","next":null}],)"
                                    R"("appId":"a-123456789"})"}}};
    auto r = sync::normalize(p);
    BOOST_TEST_REQUIRE(r.has_value());
    // Members in byte order: appId, nodes, startNodeId. n7 is first seen as nodes/0/id.
    BOOST_TEST(r->files.front().canonical ==
               R"({"appId":"@/flow_definition.json/appId","nodes":[{"id":"@/flow_definition.json/nodes/0/id",)"
               R"("next":"@/flow_definition.json/nodes/1/id"},{"id":"@/flow_definition.json/nodes/1/id","next":null}],)"
               R"("startNodeId":"@/flow_definition.json/nodes/0/id"})");
}

BOOST_AUTO_TEST_CASE(words_equal_to_an_id_stay_words_outside_references)
{
    // A node id "start" is replaced in "next" (a reference member), not in a prompt.
    connector::package p{.format = "kore-zip",
                         .files = {{"flow_definition.json",
                                    R"({"nodes":[{"id":"start","next":"end","prompt":"start"},{"id":"end","label":"end"}]})"}}};
    auto r = sync::normalize(p);
    BOOST_TEST_REQUIRE(r.has_value());
    const auto& c = r->files.front().canonical;
    BOOST_TEST(c.find(R"("prompt":"start")") != std::string::npos, c);
    BOOST_TEST(c.find(R"("label":"end")") != std::string::npos, c);
    BOOST_TEST(c.find(R"("next":"@/flow_definition.json/nodes/1/id")") != std::string::npos, c);
}

BOOST_AUTO_TEST_CASE(integer_references_follow_their_ids)
{
    // A target that numbers its nodes: "next" holds a number, re-stamped with the ids.
    connector::package a{.format = "kore-zip",
                         .files = {{"flow_definition.json", R"({"nodes":[{"id":17,"next":18},{"id":18,"next":null}]})"}}};
    connector::package b{.format = "kore-zip",
                         .files = {{"flow_definition.json", R"({"nodes":[{"id":901,"next":902},{"id":902,"next":null}]})"}}};
    BOOST_TEST(hash_of(a) == hash_of(b));
    b.files.begin()->second = R"({"nodes":[{"id":901,"next":901},{"id":902,"next":null}]})";  // a loop now
    BOOST_TEST(hash_of(a) != hash_of(b));
}

BOOST_AUTO_TEST_CASE(secmaster_switches_of_actions_are_content)
{
    auto file = [](const char* wf_enabled, const char* version_status, const char* action_enabled) {
        return connector::package{
            .format = "secmaster-file",
            .files = {{"x.json", std::string(R"({"workflow":{"name":"A","enabled":)") + wf_enabled +
                                     R"(},"version":{"status":")" + version_status +
                                     R"(","actions":[{"id":"a-1234567890","enabled":)" + action_enabled + "}]}}"}}};
    };
    // The workflow's switch and the version's state are the workspace's...
    BOOST_TEST(hash_of(file("true", "activated", "true")) == hash_of(file("false", "not_activated", "true")));
    // ...an action switched off is a change a person made.
    BOOST_TEST(hash_of(file("true", "activated", "true")) != hash_of(file("true", "activated", "false")));
    // Also where a version detail's taskconfig is a bare array of actions.
    auto detail = [](const char* enabled) {
        return connector::package{.format = "secmaster-version",
                                  .files = {{"taskconfig.json", std::string(R"([{"name":"block","enabled":)") + enabled + "}]"},
                                            {"version.json", R"({"status":"activated","enabled":true})"}}};
    };
    BOOST_TEST(hash_of(detail("true")) != hash_of(detail("false")));
}

BOOST_AUTO_TEST_CASE(many_long_ids_in_many_texts_finish)
{
    // 2,000 nodes with uuid-like ids, each prompt naming two others: the embedded look-up is
    // one hash probe per position, not one search per identifier.
    json::array nodes;
    auto id = [](int i) { return fmt::format("node-{:08x}-{:04x}", i * 7919, i); };
    for (int i = 0; i < 2000; ++i)
        nodes.push_back(json::object{{"id", id(i)},
                                     {"next", id((i + 1) % 2000)},
                                     {"prompt", "use {{" + id((i + 7) % 2000) + ".output}} and {{" + id((i + 13) % 2000) +
                                                    ".output}} to answer the customer politely"}});
    connector::package p{.format = "kore-zip", .files = {{"flow_definition.json", json::serialize(json::object{{"nodes", nodes}})}}};
    auto r = sync::normalize(p);
    BOOST_TEST_REQUIRE(r.has_value());
    const auto& c = r->files.front().canonical;
    BOOST_TEST(c.find("node-") == std::string::npos);  // every id, embedded or not, replaced
    BOOST_TEST(c.find("{{@/flow_definition.json/nodes/7/id.output}}") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(version_labels_and_stamps_go_content_stays)
{
    connector::package a{.format = "kore-zip",
                         .files = {{"app_definition.json",
                                    R"({"version":{"label":"v3","number":3,"notes":"first"},"status":"deployed","name":"A"})"}}};
    connector::package b{.format = "kore-zip",
                         .files = {{"app_definition.json",
                                    R"({"version":{"label":"v9","number":9,"notes":"first"},"status":"draft","name":"A"})"}}};
    BOOST_TEST(hash_of(a) == hash_of(b));
    b.files.begin()->second = R"({"version":{"label":"v9","number":9,"notes":"second"},"status":"draft","name":"A"})";
    BOOST_TEST(hash_of(a) != hash_of(b));
    // A node's own "status" (below the top level) is content on Kore.ai.
    connector::package c{.format = "kore-zip", .files = {{"flow_definition.json", R"({"nodes":[{"status":"on"}]})"}}};
    connector::package d{.format = "kore-zip", .files = {{"flow_definition.json", R"({"nodes":[{"status":"off"}]})"}}};
    BOOST_TEST(hash_of(c) != hash_of(d));
}

BOOST_AUTO_TEST_SUITE_END()
