// SPDX-License-Identifier: Apache-2.0
#include <boost/test/unit_test.hpp>

#include "sync_fixtures.hpp"

#include <wfsync/sync/diff.hpp>

#include <boost/json.hpp>

#include <functional>
#include <stdexcept>

using namespace wfsync;
using namespace wfsync::sync;
using namespace wfsync::test;
namespace json = boost::json;

namespace {

using lines = std::vector<std::string>;

normalized_package norm(const connector::package& p)
{
    auto r = normalize(p);
    BOOST_TEST_REQUIRE(r.has_value(), (r.has_error() ? r.error().what() : ""));
    return *r;
}

normalized_package norm_doc(const std::string& doc)
{
    return norm(zuora_package(doc));
}

std::string edited(const std::string& doc, const std::function<void(json::value&)>& f)
{
    json::value v = json::parse(doc);
    f(v);
    return json::serialize(v);
}

json::object& task_named(json::value& v, std::string_view name)
{
    for (auto& t : v.at("tasks").as_array())
        if (t.at("name").as_string() == name) return t.as_object();
    throw std::runtime_error("no task " + std::string(name));
}

std::string joined(const lines& l)
{
    std::string s;
    for (const auto& x : l) s += x + "\n";
    return s;
}

void check_lines(const lines& got, const lines& want)
{
    BOOST_TEST(joined(got) == joined(want));
}

// A document with tasks {name, type, params} and linkages {type, from-name, to-name}.
std::string small_doc(std::vector<std::tuple<std::string, std::string, json::object>> tasks,
                      std::vector<std::tuple<std::string, std::string, std::string>> links, int base = 10)
{
    json::array ts, ls;
    std::map<std::string, int> id;
    int k = 0;
    for (auto& [name, type, params] : tasks) {
        id[name] = base + k++;
        ts.push_back(json::object{{"id", id[name]}, {"name", name}, {"action_type", type}, {"parameters", params}});
    }
    for (auto& [type, from, to] : links)
        ls.push_back(json::object{{"linkage_type", type},
                                  {"source_task_id", from.empty() ? json::value(nullptr) : json::value(id.at(from))},
                                  {"target_task_id", id.at(to)}});
    return json::serialize(json::object{{"workflow", json::object{{"name", "W"}}}, {"tasks", ts}, {"linkages", ls}});
}

}  // namespace

BOOST_AUTO_TEST_SUITE(diff)

BOOST_AUTO_TEST_CASE(same_content_in_other_tenant_gives_no_lines)
{
    auto a = norm_doc(sample_export({.base = 100}));
    auto b = norm_doc(sample_export({.base = 4000, .workflow_id = 9, .shuffle_seed = 5, .tenant_noise = true}));
    BOOST_TEST(diff_packages(a, b).empty());
    BOOST_TEST(diff_packages(a, a).empty());
}

BOOST_AUTO_TEST_CASE(add_remove_change_and_linkages)
{
    const auto base = sample_export({.base = 100});
    const auto next = edited(base, [](json::value& v) {
        v.at("workflow").as_object()["description"] = "Remind customers twice";
        task_named(v, "Check balance")["parameters"].as_object()["condition"] = "a > 2";
        task_named(v, "Log failure")["parameters"].as_object()["authorization"].as_object()["password"] = "hunter3";
        // "Wait" goes, with its linkage.
        auto wait_id = task_named(v, "Wait").at("id");
        auto& tasks = v.at("tasks").as_array();
        tasks.erase(std::find_if(tasks.begin(), tasks.end(), [&](auto& t) { return t.at("id") == wait_id; }));
        auto& links = v.at("linkages").as_array();
        links.erase(std::find_if(links.begin(), links.end(), [&](auto& l) { return l.at("target_task_id") == wait_id; }));
        // "Send second reminder" comes, after "Send reminder".
        json::object t = task_named(v, "Send reminder");
        auto from = t.at("id");
        t["id"] = 999;
        t["name"] = "Send second reminder";
        tasks.push_back(t);
        links.push_back(json::object{{"linkage_type", "Success"}, {"source_task_id", from}, {"target_task_id", 999}});
    });
    check_lines(diff_packages(norm_doc(base), norm_doc(next)),
                {
                    R"(~ workflow: description: "Remind customers" -> "Remind customers twice")",
                    R"(- task "Wait" (Delay))",
                    R"(+ task "Send second reminder" (Email))",
                    R"(~ task "Check balance" (If): parameters.condition: "a > 1" -> "a > 2")",
                    R"(~ task "Log failure" (Callout): parameters.authorization: (changed))",
                    R"(~ linkage removed: "Check balance" -> "Wait" (False))",
                    R"(~ linkage added: "Send reminder" -> "Send second reminder" (Success))",
                });
    // And back: the mirror image.
    check_lines(diff_packages(norm_doc(next), norm_doc(base)),
                {
                    R"(~ workflow: description: "Remind customers twice" -> "Remind customers")",
                    R"(- task "Send second reminder" (Email))",
                    R"(+ task "Wait" (Delay))",
                    R"(~ task "Check balance" (If): parameters.condition: "a > 2" -> "a > 1")",
                    R"(~ task "Log failure" (Callout): parameters.authorization: (changed))",
                    R"(~ linkage removed: "Send reminder" -> "Send second reminder" (Success))",
                    R"(~ linkage added: "Check balance" -> "Wait" (False))",
                });
}

BOOST_AUTO_TEST_CASE(swapped_direction_and_start_linkage)
{
    json::object none;
    auto a = small_doc({{"A", "Email", none}, {"B", "Email", none}}, {{"Start", "", "A"}, {"Success", "A", "B"}});
    auto b = small_doc({{"A", "Email", none}, {"B", "Email", none}}, {{"Start", "", "B"}, {"Success", "B", "A"}}, 70);
    check_lines(diff_packages(norm_doc(a), norm_doc(b)),
                {
                    R"(~ linkage removed: "A" -> "B" (Success))",
                    R"(~ linkage removed: start -> "A" (Start))",
                    R"(~ linkage added: "B" -> "A" (Success))",
                    R"(~ linkage added: start -> "B" (Start))",
                });
}

BOOST_AUTO_TEST_CASE(fields_added_removed_arrays_and_long_values)
{
    std::string long_a(100, 'x'), long_b = std::string(99, 'x') + "y";
    auto a = small_doc({{"Q", "Query", {{"fields", json::array{"Id"}}, {"query", long_a}, {"old", 1}, {"list", json::array{1, 2}}}}}, {});
    auto b = small_doc({{"Q", "Query", {{"fields", json::array{"Id", "Name"}}, {"query", long_b}, {"new", true}, {"list", json::array{1, 3}}}}}, {});
    std::string cut = "\"" + std::string(56, 'x') + "...";  // 57 characters of canonical JSON, then "..."
    check_lines(diff_packages(norm_doc(a), norm_doc(b)),
                {
                    R"(~ task "Q" (Query): parameters.fields: ["Id"] -> ["Id","Name"])",
                    R"(~ task "Q" (Query): parameters.list[1]: 2 -> 3)",
                    R"(~ task "Q" (Query): parameters.new: (none) -> true)",
                    R"(~ task "Q" (Query): parameters.old: 1 -> (none))",
                    R"(~ task "Q" (Query): parameters.query: )" + cut + " -> " + cut,
                });
}

BOOST_AUTO_TEST_CASE(renamed_task_falls_back_to_ref)
{
    json::object p{{"to", "x@example.com"}};
    auto a = small_doc({{"Notify", "Email", p}}, {{"Start", "", "Notify"}});
    auto b = small_doc({{"Notify customer", "Email", p}}, {{"Start", "", "Notify customer"}});
    check_lines(diff_packages(norm_doc(a), norm_doc(b)),
                {R"(~ task "Notify customer" (Email): name: "Notify" -> "Notify customer")"});
    // Another action type is not a rename.
    auto c = small_doc({{"Notify customer", "Callout", p}}, {{"Start", "", "Notify customer"}});
    check_lines(diff_packages(norm_doc(a), norm_doc(c)),
                {
                    R"(- task "Notify" (Email))",
                    R"(+ task "Notify customer" (Callout))",
                    R"(~ linkage removed: start -> "Notify" (Start))",
                    R"(~ linkage added: start -> "Notify customer" (Start))",
                });
}

BOOST_AUTO_TEST_CASE(tasks_sharing_a_name_pair_up)
{
    auto a = small_doc({{"Notify", "Email", {{"to", "a"}}}, {"Notify", "Email", {{"to", "b"}}}}, {});
    auto b = small_doc({{"Notify", "Email", {{"to", "c"}}}, {"Notify", "Email", {{"to", "a"}}}}, {}, 500);
    check_lines(diff_packages(norm_doc(a), norm_doc(b)),
                {R"(~ task "Notify" (Email): parameters.to: "b" -> "c")"});
}

BOOST_AUTO_TEST_CASE(secrets_are_never_printed)
{
    json::object pa{{"api_key", "AKIA-old"},
                    {"client_secret", "s3cr3t-old"},
                    {"Token", "tok-old"},
                    {"headers", json::array{json::object{{"key", "Authorization"}, {"value", "Bearer old-bearer"}},
                                            json::object{{"key", "Accept"}, {"value", "text/plain"}}}},
                    {"form", json::array{json::object{{"name", "password"}, {"value", "pw-old"}}}}};
    json::object pb{{"api_key", "AKIA-new"},
                    {"client_secret", "s3cr3t-new"},
                    {"Token", "tok-new"},
                    {"headers", json::array{json::object{{"key", "Authorization"}, {"value", "Bearer new-bearer"}},
                                            json::object{{"key", "Accept"}, {"value", "application/json"}}}},
                    {"form", json::array{json::object{{"name", "password"}, {"value", "pw-new"}},
                                         json::object{{"name", "user"}, {"value", "bob"}}}}};
    auto a = small_doc({{"Call", "Callout", pa}}, {});
    auto b = small_doc({{"Call", "Callout", pb}, {"Other", "Callout", pb}}, {});
    auto got = diff_packages(norm_doc(a), norm_doc(b));
    check_lines(got, {
                         R"(+ task "Other" (Callout))",
                         R"(~ task "Call" (Callout): parameters.Token: (changed))",
                         R"(~ task "Call" (Callout): parameters.api_key: (changed))",
                         R"(~ task "Call" (Callout): parameters.client_secret: (changed))",
                         R"(~ task "Call" (Callout): parameters.form: (changed))",
                         R"(~ task "Call" (Callout): parameters.headers[0].value: (changed))",
                         R"(~ task "Call" (Callout): parameters.headers[1].value: "text/plain" -> "application/json")",
                     });
    for (const auto& l : got)
        for (auto s : {"old", "new-", "pw-", "AKIA", "s3cr3t", "tok-", "bearer"})
            BOOST_TEST(l.find(s) == std::string::npos, l);
}

BOOST_AUTO_TEST_CASE(other_files_generic_and_by_size)
{
    connector::package a{.format = "kore-zip",
                         .files = {{"flow_definition.json", R"({"nodes":[{"id":"n1","label":"Start"}],"password":"x"})"},
                                   {"env_variables.json", "{}"},
                                   {"notes.bin", "abc"}}};
    connector::package b{.format = "kore-zip",
                         .files = {{"flow_definition.json", R"({"nodes":[{"id":"n1","label":"Begin"}],"password":"y"})"},
                                   {"app_definition.json", "{}"},
                                   {"notes.bin", "abcdef"}}};
    check_lines(diff_packages(norm(a), norm(b)),
                {
                    "+ file app_definition.json",
                    "- file env_variables.json",
                    R"(~ flow_definition.json: nodes[0].label: "Start" -> "Begin")",
                    R"(~ flow_definition.json: password: (changed))",
                    "~ file notes.bin: content changed (3 -> 6 bytes)",
                });
}

BOOST_AUTO_TEST_CASE(env_variables_values_are_never_shown)
{
    connector::package a{.format = "kore-zip", .files = {{"env_variables.json", R"({"REGION":"eu","DB_URL":"postgres://u:hunter2@db"})"}}};
    connector::package b{.format = "kore-zip", .files = {{"env_variables.json", R"({"REGION":"us","DB_URL":"postgres://u:swordfish@db","NEW":"x1"})"}}};
    auto got = diff_packages(norm(a), norm(b));
    BOOST_TEST_REQUIRE(!got.empty());
    for (const auto& line : got) {
        BOOST_TEST(line.find("hunter2") == std::string::npos, line);
        BOOST_TEST(line.find("swordfish") == std::string::npos, line);
        BOOST_TEST(line.find("\"us\"") == std::string::npos, line);
        BOOST_TEST(line.find("x1") == std::string::npos, line);
    }
}

BOOST_AUTO_TEST_SUITE_END()
