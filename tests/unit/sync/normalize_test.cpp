// SPDX-License-Identifier: Apache-2.0
#define BOOST_TEST_MODULE wfsync_sync
#include <boost/test/unit_test.hpp>

#include "sync_fixtures.hpp"

#include <wfsync/core/hash.hpp>
#include <wfsync/core/json.hpp>
#include <wfsync/sync/normalize.hpp>

#include <boost/json/serialize.hpp>

#include <chrono>
#include <set>

using namespace wfsync;
using namespace wfsync::sync;
using namespace wfsync::test;
namespace json = boost::json;

namespace {

std::string hash_of(const std::string& doc)
{
    auto r = normalize(zuora_package(doc));
    BOOST_TEST_REQUIRE(r.has_value(), (r.has_error() ? r.error().what() : ""));
    return r->hash;
}

json::value normalized(const std::string& doc)
{
    auto r = normalize_zuora_export(doc, "test doc");
    BOOST_TEST_REQUIRE(r.has_value(), (r.has_error() ? r.error().what() : ""));
    return *r;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(normalize_zuora)

BOOST_AUTO_TEST_CASE(same_workflow_in_two_tenants_hashes_equal)
{
    // Tenant A: ids from 100, tasks and linkages in export order.
    auto a = sample_export({.base = 100, .workflow_id = 286, .shuffle_seed = 0});
    // Tenant B: other ids, tasks and linkages shuffled, other status/timestamps/version.
    auto b = sample_export({.base = 90000, .workflow_id = 7, .shuffle_seed = 3, .tenant_noise = true});
    BOOST_TEST(a != b);
    BOOST_TEST(hash_of(a) == hash_of(b));
    BOOST_TEST(canonical_json(normalized(a)) == canonical_json(normalized(b)));
    // Several other shuffles agree too.
    for (int seed = 1; seed < 8; ++seed)
        BOOST_TEST(hash_of(sample_export({.base = 5000 + seed * 100, .workflow_id = 1, .shuffle_seed = static_cast<unsigned>(seed),
                                          .tenant_noise = (seed % 2) == 1})) == hash_of(a));
}

BOOST_AUTO_TEST_CASE(ids_become_refs_and_tenant_fields_go)
{
    auto v = normalized(sample_export({.base = 100, .workflow_id = 286, .tenant_noise = true}));
    const auto& wf = v.at("workflow").as_object();
    BOOST_TEST(!wf.contains("id"));
    BOOST_TEST(!wf.contains("status"));
    BOOST_TEST(!wf.contains("version"));
    BOOST_TEST(!wf.contains("original_workflow_id"));
    BOOST_TEST(!wf.contains("updated_at"));
    BOOST_TEST(wf.at("name").as_string() == "Dunning");
    const auto& tasks = v.at("tasks").as_array();
    BOOST_TEST_REQUIRE(tasks.size() == 5u);
    for (std::size_t i = 0; i < tasks.size(); ++i) {
        BOOST_TEST(tasks[i].at("ref").as_string() == "t" + std::to_string(i + 1));
        BOOST_TEST(!tasks[i].as_object().contains("id"));
        BOOST_TEST(!tasks[i].as_object().contains("original_task_id"));
    }
    const auto& links = v.at("linkages").as_array();
    BOOST_TEST_REQUIRE(links.size() == 5u);
    int starts = 0;
    for (const auto& l : links) {
        BOOST_TEST(!l.as_object().contains("source_workflow_id"));
        BOOST_TEST(!l.as_object().contains("id"));
        BOOST_TEST(l.at("target_task_id").as_string().starts_with("t"));
        if (l.at("source_task_id").is_null()) ++starts;
    }
    BOOST_TEST(starts == 1);
    // Parameters keep members that are tenant-local names at the top level ("status" here).
    bool found = false;
    for (const auto& t : tasks)
        if (t.at("name").as_string() == "Find invoices")
            found = t.at("parameters").at("status").as_string() == "Posted";
    BOOST_TEST(found);
}

BOOST_AUTO_TEST_CASE(real_changes_hash_differently)
{
    auto base_doc = sample_export({.base = 100, .workflow_id = 286});
    auto h = hash_of(base_doc);
    auto edit = [&](auto&& f) {
        json::value v = json::parse(base_doc);
        f(v);
        return hash_of(json::serialize(v));
    };
    auto task_named = [](json::value& v, std::string_view name) -> json::object& {
        for (auto& t : v.at("tasks").as_array())
            if (t.at("name").as_string() == name) return t.as_object();
        throw std::runtime_error("no task");
    };
    // A parameter.
    BOOST_TEST(edit([&](json::value& v) { task_named(v, "Check balance")["parameters"].as_object()["condition"] = "a > 2"; }) != h);
    // A parameter nested under a tenant-local-looking key stays content.
    BOOST_TEST(edit([&](json::value& v) { task_named(v, "Find invoices")["parameters"].as_object()["status"] = "Draft"; }) != h);
    // A name.
    BOOST_TEST(edit([&](json::value& v) { task_named(v, "Send reminder")["name"] = "Send reminder!"; }) != h);
    // A task removed (with its linkage).
    BOOST_TEST(edit([&](json::value& v) {
                   auto& tasks = v.at("tasks").as_array();
                   auto& links = v.at("linkages").as_array();
                   auto id = task_named(v, "Log failure").at("id");
                   for (auto it = tasks.begin(); it != tasks.end(); ++it)
                       if (it->at("id") == id) { tasks.erase(it); break; }
                   for (auto it = links.begin(); it != links.end(); ++it)
                       if (it->at("target_task_id") == id) { links.erase(it); break; }
               }) != h);
    // A task added.
    BOOST_TEST(edit([&](json::value& v) {
                   json::object t = task_named(v, "Send reminder");
                   t["id"] = 555;
                   t["name"] = "Send second reminder";
                   v.at("tasks").as_array().push_back(t);
               }) != h);
    // A linkage removed.
    BOOST_TEST(edit([&](json::value& v) { v.at("linkages").as_array().pop_back(); }) != h);
    // A linkage type changed.
    BOOST_TEST(edit([&](json::value& v) {
                   for (auto& l : v.at("linkages").as_array())
                       if (l.at("linkage_type") == "Success") { l.as_object()["linkage_type"] = "Failure"; break; }
               }) != h);
    // A workflow-level field.
    BOOST_TEST(edit([&](json::value& v) { v.at("workflow").as_object()["description"] = "changed"; }) != h);
}

BOOST_AUTO_TEST_CASE(swapped_linkage_direction_differs)
{
    // Two tasks with the same content and one linkage: only its direction distinguishes them.
    auto doc = [](bool reverse) {
        json::object a{{"id", 1}, {"name", "A"}, {"action_type", "Email"}, {"parameters", json::object{}}};
        json::object b{{"id", 2}, {"name", "B"}, {"action_type", "Email"}, {"parameters", json::object{}}};
        json::object link{{"linkage_type", "Success"}, {"source_task_id", reverse ? 2 : 1}, {"target_task_id", reverse ? 1 : 2}};
        json::object start{{"linkage_type", "Start"}, {"source_task_id", nullptr}, {"target_task_id", 1}};
        return json::serialize(json::object{{"workflow", json::object{{"name", "W"}}},
                                            {"tasks", json::array{a, b}},
                                            {"linkages", json::array{start, link}}});
    };
    BOOST_TEST(hash_of(doc(false)) != hash_of(doc(true)));
}

BOOST_AUTO_TEST_CASE(symmetric_tasks_are_ordered_deterministically)
{
    // A fans out to two identical tasks B1/B2, each followed by an identical task C1/C2,
    // plus two identical unlinked tasks D: every input order must give the same output.
    auto doc = [](std::vector<int> order, int base) {
        auto task = [&](int id, const char* name) {
            return json::object{{"id", base + id}, {"name", name}, {"action_type", "Email"}, {"parameters", json::object{}}};
        };
        std::vector<json::object> all{task(1, "A"), task(2, "B"), task(3, "B"), task(4, "C"),
                                      task(5, "C"), task(6, "D"), task(7, "D")};
        json::array tasks;
        for (int i : order) tasks.push_back(all[static_cast<std::size_t>(i)]);
        auto link = [&](int s, int t) {
            return json::object{{"linkage_type", "Success"}, {"source_task_id", base + s}, {"target_task_id", base + t}};
        };
        return json::serialize(json::object{{"workflow", json::object{{"name", "W"}}},
                                            {"tasks", tasks},
                                            {"linkages", json::array{link(1, 2), link(1, 3), link(2, 4), link(3, 5)}}});
    };
    auto h = hash_of(doc({0, 1, 2, 3, 4, 5, 6}, 0));
    BOOST_TEST(hash_of(doc({6, 5, 4, 3, 2, 1, 0}, 100)) == h);
    BOOST_TEST(hash_of(doc({0, 2, 1, 3, 4, 6, 5}, 7)) == h);
    BOOST_TEST(hash_of(doc({0, 1, 2, 4, 3, 5, 6}, 1000)) == h);  // B1->C1 order crossed with C2
    BOOST_TEST(hash_of(doc({4, 1, 6, 0, 3, 2, 5}, 3)) == h);
    // Each B keeps its own C: the linkages name distinct refs.
    auto v = normalized(doc({4, 1, 6, 0, 3, 2, 5}, 3));
    std::set<std::string> targets;
    for (const auto& l : v.at("linkages").as_array()) targets.insert(std::string(l.at("target_task_id").as_string()));
    BOOST_TEST(targets.size() == 4u);
}

BOOST_AUTO_TEST_CASE(golden_hash_of_small_doc)
{
    // Catches accidental changes of the normalized form: a changed value here changes
    // every stored content hash, which makes every workflow look new.
    const std::string doc = R"({"workflow":{"id":286,"name":"Call Echo","version":"0.0.1","status":null,
        "description":"","type":"Workflow::Setup","ondemand_trigger":true},
      "tasks":[{"id":849,"name":"Call Echo","action_type":"Callout","parameters":{"method":"GET","url":"http://e/echo"},
                "original_task_id":null,"status":null}],
      "linkages":[{"linkage_type":"Start","source_task_id":null,"source_workflow_id":286,"target_task_id":849}]})";
    auto v = normalized(doc);
    BOOST_TEST(canonical_json(v) ==
               R"({"linkages":[{"linkage_type":"Start","source_task_id":null,"target_task_id":"t1"}],)"
               R"("tasks":[{"action_type":"Callout","name":"Call Echo","parameters":{"method":"GET","url":"http://e/echo"},"ref":"t1"}],)"
               R"("workflow":{"description":"","name":"Call Echo","ondemand_trigger":true,"type":"Workflow::Setup"}})");
    BOOST_TEST(hash_of(doc) == "a45d6da87e06dbb767482f34d4c6ad26ad292558de3d6aafdb2b05a87ee56366");
}

BOOST_AUTO_TEST_CASE(bad_json_names_file_and_position)
{
    auto r = normalize(zuora_package("{\"workflow\": {\"name\": \"x\",\n  \"tasks\": [}"));
    BOOST_TEST_REQUIRE(r.has_error());
    BOOST_TEST(r.error().code == errc::bad_response);
    BOOST_TEST(r.error().message.find("workflow.json") != std::string::npos, r.error().message);
    BOOST_TEST(r.error().message.find("line 2") != std::string::npos, r.error().message);
    BOOST_TEST(r.error().message.find("column 13") != std::string::npos, r.error().message);
    // Trailing garbage after a valid document is an error too.
    auto t = normalize(zuora_package(R"({"workflow":{},"tasks":[]} x)"));
    BOOST_TEST_REQUIRE(t.has_error());
    BOOST_TEST(t.error().message.find("workflow.json") != std::string::npos, t.error().message);
    // Other JSON files of a known format are checked as well.
    connector::package k{.format = "kore-zip", .workflow_id = "a-1", .files = {{"flow_definition.json", "{\"a\":"}}};
    auto kr = normalize(k);
    BOOST_TEST_REQUIRE(kr.has_error());
    BOOST_TEST(kr.error().message.find("flow_definition.json") != std::string::npos, kr.error().message);
}

BOOST_AUTO_TEST_CASE(bad_structure_is_bad_response)
{
    struct bad_case {
        std::string doc;
        std::string says;
    };
    std::vector<bad_case> cases{
        {R"([1,2])", "must be a JSON object"},
        {R"({"tasks":[]})", "no \"workflow\" object"},
        {R"({"workflow":[],"tasks":[]})", "no \"workflow\" object"},
        {R"({"workflow":{},"tasks":{}})", "no \"tasks\" array"},
        {R"({"workflow":{}})", "no \"tasks\" array"},
        {R"({"workflow":{},"tasks":[],"linkages":5})", "\"linkages\""},
        {R"({"workflow":{},"tasks":[3]})", "tasks[0] is not an object"},
        {R"({"workflow":{},"tasks":[{"id":1},{"id":"1"}]})", "tasks[1] repeats task id 1"},
        {R"({"workflow":{},"tasks":[{"id":1}],"linkages":[{"source_task_id":1,"target_task_id":2}]})",
         "linkages[0].target_task_id names task 2"},
        {R"({"workflow":{},"tasks":[{"id":1}],"linkages":[{"source_task_id":{},"target_task_id":1}]})",
         "linkages[0].source_task_id is not a task id"},
    };
    for (const auto& c : cases) {
        auto r = normalize(zuora_package(c.doc));
        BOOST_TEST_REQUIRE(r.has_error(), c.doc);
        BOOST_TEST(r.error().code == errc::bad_response);
        BOOST_TEST(r.error().message.find(c.says) != std::string::npos, r.error().message);
        BOOST_TEST(r.error().message.find("workflow.json") != std::string::npos, r.error().message);
    }
    connector::package none{.format = "zuora-json", .workflow_id = "286", .files = {{"other.json", "{}"}}};
    auto r = normalize(none);
    BOOST_TEST_REQUIRE(r.has_error());
    BOOST_TEST(r.error().message.find("no workflow.json") != std::string::npos, r.error().message);
}

BOOST_AUTO_TEST_CASE(limits_give_errors_not_crashes)
{
    // Too deep.
    std::string deep = R"({"workflow":{"a":)" + std::string(200, '[') + std::string(200, ']') + R"(},"tasks":[]})";
    auto d = normalize(zuora_package(deep));
    BOOST_TEST_REQUIRE(d.has_error());
    BOOST_TEST(d.error().message.find("workflow.json") != std::string::npos, d.error().message);
    // Too many tasks.
    std::string many = R"({"workflow":{},"tasks":[)";
    for (int i = 0; i <= 100000; ++i) many += i ? ",{}" : "{}";
    many += "]}";
    auto m = normalize(zuora_package(many));
    BOOST_TEST_REQUIRE(m.has_error());
    BOOST_TEST(m.error().message.find("100001 tasks") != std::string::npos, m.error().message);
}

BOOST_AUTO_TEST_CASE(large_chain_of_identical_tasks_finishes)
{
    // 1000 identical tasks in one chain: refinement needs many rounds; must stay bounded
    // and deterministic across id spaces.
    auto chain = [](int base, bool reversed) {
        const int n = 1000;
        json::array tasks, links;
        for (int i = 0; i < n; ++i) {
            int k = reversed ? n - 1 - i : i;
            tasks.push_back(json::object{{"id", base + k}, {"name", "Step"}, {"action_type", "Delay"}});
        }
        links.push_back(json::object{{"linkage_type", "Start"}, {"source_task_id", nullptr}, {"target_task_id", base}});
        for (int i = 0; i + 1 < n; ++i)
            links.push_back(json::object{{"linkage_type", "Success"}, {"source_task_id", base + i}, {"target_task_id", base + i + 1}});
        return json::serialize(json::object{{"workflow", json::object{}}, {"tasks", tasks}, {"linkages", links}});
    };
    auto t0 = std::chrono::steady_clock::now();
    BOOST_TEST(hash_of(chain(1, false)) == hash_of(chain(50000, true)));
    BOOST_TEST((std::chrono::steady_clock::now() - t0 < std::chrono::seconds(60)));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(normalize_package)

BOOST_AUTO_TEST_CASE(kore_and_secmaster_files_drop_tenant_local_members_at_any_depth)
{
    connector::package a{.format = "kore-zip",
                         .files = {{"app_definition.json", R"({"_id":"x1","version":"v2","meta":{"createdBy":"u1","name":"A"}})"},
                                   {"flow_definition.json", R"({"workflowId":"a-1","nodes":[{"id":"n1","updatedAt":"t1"}]})"}}};
    connector::package b{.format = "kore-zip",
                         .files = {{"app_definition.json", R"({"_id":"y9","version":"v2","meta":{"createdBy":"u7","name":"A"}})"},
                                   {"flow_definition.json", R"({"workflowId":"a-9","nodes":[{"id":"n1","updatedAt":"t2"}]})"}}};
    BOOST_TEST(normalize(a)->hash == normalize(b)->hash);
    // Node ids are the tenant's too: a target that re-stamps them changes nothing...
    b.files["flow_definition.json"] = R"({"workflowId":"a-9","nodes":[{"id":"n2","updatedAt":"t2"}]})";
    BOOST_TEST(normalize(a)->hash == normalize(b)->hash);
    // ...while what a node holds is content.
    b.files["flow_definition.json"] = R"({"workflowId":"a-9","nodes":[{"id":"n2","type":"ai"}]})";
    BOOST_TEST(normalize(a)->hash != normalize(b)->hash);

    connector::package s1{.format = "secmaster-file",
                          .files = {{"Block IP.json", R"({"workflow":{"name":"Block IP","id":"u-1","project_id":"p1"},"version":{"steps":[1,2],"create_time":5}})"}}};
    connector::package s2{.format = "secmaster-file",
                          .files = {{"Block IP.json", R"({"workflow":{"name":"Block IP","id":"u-2","project_id":"p2"},"version":{"steps":[1,2],"create_time":9}})"}}};
    BOOST_TEST(normalize(s1)->hash == normalize(s2)->hash);
    s2.files["Block IP.json"] = R"({"workflow":{"name":"Block IP"},"version":{"steps":[2,1]}})";
    BOOST_TEST(normalize(s1)->hash != normalize(s2)->hash);
}

BOOST_AUTO_TEST_CASE(hash_covers_files_in_name_order)
{
    connector::package p{.format = "kore-zip",
                         .workflow_id = "a-1",
                         .files = {{"b.json", "{ \"z\": 1, \"a\": [1, 2] }"}, {"a.txt", "raw\nbytes"}}};
    auto r = normalize(p);
    BOOST_TEST_REQUIRE(r.has_value());
    BOOST_TEST_REQUIRE(r->files.size() == 2u);
    BOOST_TEST(r->files[0].name == "a.txt");
    BOOST_TEST(r->files[0].canonical == "raw\nbytes");
    BOOST_TEST(!r->files[0].json);
    BOOST_TEST(r->files[1].name == "b.json");
    BOOST_TEST(r->files[1].canonical == R"({"a":[1,2],"z":1})");
    BOOST_TEST(r->files[1].json);
    BOOST_TEST(r->hash == sha256_hex(std::string("a.txt\0raw\nbytes\0b.json\0{\"a\":[1,2],\"z\":1}\0", 41)));
    // Unknown formats: bytes as they are, even for .json names (no parse error either).
    connector::package u{.format = "other", .files = {{"x.json", "{not json"}}};
    auto ur = normalize(u);
    BOOST_TEST_REQUIRE(ur.has_value());
    BOOST_TEST(ur->files[0].canonical == "{not json");
    BOOST_TEST(!ur->files[0].json);
    // Package metadata (ids, version label) is not part of the hash.
    auto q = p;
    q.workflow_id = "a-2";
    q.version = "9";
    BOOST_TEST(normalize(q)->hash == r->hash);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(normalize_task_refs)

BOOST_AUTO_TEST_CASE(task_id_members_become_refs_or_go)
{
    auto doc = [](int base, bool reversed, int dangling) {
        json::object parent{{"id", base + 1}, {"name", "Loop"}, {"action_type", "Iterate"}, {"task_id", nullptr}};
        json::object child{{"id", base + 2}, {"name", "Body"}, {"action_type", "Email"}, {"task_id", base + 1}};
        json::object other{{"id", base + 3}, {"name", "Other"}, {"action_type", "Email"}, {"task_id", dangling}};
        json::array tasks = reversed ? json::array{other, child, parent} : json::array{parent, child, other};
        return json::serialize(json::object{{"workflow", json::object{}}, {"tasks", tasks}, {"linkages", json::array{}}});
    };
    auto v = normalized(doc(10, false, 77));
    BOOST_TEST(canonical_json(v) == canonical_json(normalized(doc(5000, true, 123456))));
    for (const auto& t : v.at("tasks").as_array()) {
        if (t.at("name") == "Body") {
            // The child names its parent by ref.
            auto parent_ref = t.at("task_id").as_string();
            bool found = false;
            for (const auto& p : v.at("tasks").as_array())
                if (p.at("ref").as_string() == parent_ref) found = p.at("name") == "Loop";
            BOOST_TEST(found);
        } else {
            // null, or an id of no task in the document: tenant-local, gone.
            BOOST_TEST(!t.as_object().contains("task_id"), t.at("name").as_string());
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()
