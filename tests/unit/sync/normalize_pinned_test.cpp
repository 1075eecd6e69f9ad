// SPDX-License-Identifier: Apache-2.0
// Pinned content hashes: the exact hash of representative packages of each platform, as the
// normalization gave them when they were captured. Content hashes are stored in users' state,
// so a value changed here would report drift that is not there: any rework of the
// normalization (for speed, say) must reproduce every one of them byte for byte.
#include <boost/test/unit_test.hpp>

#include "sync_fixtures.hpp"

#include <wfsync/core/hash.hpp>
#include <wfsync/core/json.hpp>
#include <wfsync/sync/normalize.hpp>

#include <boost/json.hpp>

#include <fmt/format.h>

#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

using namespace wfsync;
namespace json = boost::json;

namespace {

std::string hash_of(const connector::package& p)
{
    auto r = sync::normalize(p);
    BOOST_TEST_REQUIRE(r.has_value(), (r.has_error() ? r.error().what() : ""));
    return r->hash;
}

/// Random JSON with what serialization can get wrong: escapes, control characters, multi-byte
/// UTF-8, '/' and '~' in member names, big and negative integers, doubles, empty containers.
/// Only `rng() % n` is used, so the values are the same with every standard library.
struct generator {
    std::mt19937 rng;

    std::size_t pick(std::size_t n) { return rng() % n; }

    std::string text(std::size_t max_len)
    {
        static const char* pieces[] = {"a", "Z", "q", "0", "7", " ", "-", "_", ".", "/", "~", "\"", "\\", "\n", "\t",
                                       "\r", "\b", "\f", "\x01", "\x1f", "\x7f", "\xc3\xa9", "\xe2\x82\xac",
                                       "\xf0\x9f\x98\x80", "{{", "}}", "@/", "e", "r", "s", "t"};
        std::string s;
        std::size_t n = pick(max_len + 1);
        for (std::size_t i = 0; i < n; ++i) s += pieces[pick(std::size(pieces))];
        return s;
    }

    std::string key()
    {
        static const char* keys[] = {"name", "type", "a/b", "c~d", "~1", "\xc3\xa9", "", "x", "y", "prompt", "config",
                                     "Z", "0", "label", "items", "note\"q", "tab\t", "zz"};
        return keys[pick(std::size(keys))];
    }

    json::value scalar()
    {
        static const double doubles[] = {0.1, -0.0, 1e300, 2.5e-8, 123456.789, 1.0, -3.75, 1e21, 5e-324, 0.2, 3e-5};
        switch (pick(10)) {
        case 0: return static_cast<std::int64_t>(rng()) - (std::int64_t{1} << 31);
        case 1: {
            auto high = static_cast<std::uint64_t>(rng()) << 20;
            auto low = rng();
            return (std::uint64_t{1} << 63) | high | low;
        }
        case 2: return doubles[pick(std::size(doubles))];
        case 3: return pick(2) == 0;
        case 4: return nullptr;
        case 5: return pick(2) ? std::numeric_limits<std::int64_t>::min() : std::numeric_limits<std::int64_t>::max();
        default: return json::string(text(24));
        }
    }

    json::value content(int depth)
    {
        if (depth == 0 || pick(3) == 0) return scalar();
        if (pick(2)) {
            json::array a;
            for (std::size_t i = pick(5); i > 0; --i) a.push_back(content(depth - 1));
            return a;
        }
        json::object o;
        for (std::size_t i = pick(5); i > 0; --i) o[key()] = content(depth - 1);
        return o;
    }

    /// "8-4-12" hex groups; drawn last group first, as the pinned corpora were.
    std::string uuidish()
    {
        auto c = hex(12);
        auto b = hex(4);
        auto a = hex(8);
        return a + "-" + b + "-" + c;
    }

    std::string hex(std::size_t n)
    {
        static constexpr char digits[] = "0123456789abcdef";
        std::string s;
        for (std::size_t i = 0; i < n; ++i) s += digits[pick(16)];
        return s;
    }
};

// --- Kore.ai -------------------------------------------------------------------------------

/// A Kore.ai package with every kind of identifier: long ones (also inside prompts and
/// templates), short ones, integers; "next" as a string, an array, nested arrays, null; a map
/// keyed by node ids; arrays of ids; stamps, states and versions at several depths.
connector::package kore_random(generator& g)
{
    const std::size_t n = 1 + g.pick(9);
    std::vector<json::value> ids;
    const std::size_t style = g.pick(4);
    for (std::size_t i = 0; i < n; ++i) {
        switch (style == 3 ? g.pick(3) : style) {
        case 0: ids.emplace_back("node-" + g.hex(16)); break;
        case 1: ids.emplace_back(fmt::format("n{}", 3 + i * 2)); break;
        default: ids.emplace_back(static_cast<std::int64_t>(1000 + i * 7 + g.pick(3))); break;
        }
    }
    auto id_text = [&](std::size_t i) {
        return ids[i].is_string() ? std::string(ids[i].get_string()) : std::to_string(ids[i].get_int64());
    };
    json::array nodes;
    json::object positions;
    for (std::size_t i = 0; i < n; ++i) {
        json::object node{{"id", ids[i]}, {"type", g.pick(2) ? "ai" : "api"}, {"name", fmt::format("Step {}", i)}};
        std::string prompt = g.text(30);
        if (g.pick(2)) {
            // Sequenced: the operands of + are not, and gcc drew the second id first.
            auto second = id_text(g.pick(n));
            auto first = id_text(g.pick(n));
            prompt += " use {{" + first + ".output}} and " + second;
        }
        node["prompt"] = prompt;
        switch (g.pick(5)) {
        case 0: node["next"] = nullptr; break;
        case 1: node["next"] = json::array{ids[g.pick(n)], ids[g.pick(n)]}; break;
        case 2: node["next"] = json::array{json::array{ids[g.pick(n)]}, json::object{{"goto", ids[g.pick(n)]}}}; break;
        default: node["next"] = ids[(i + 1) % n]; break;
        }
        if (g.pick(3) == 0) node["nodeIds"] = json::array{ids[g.pick(n)], ids[g.pick(n)]};
        if (g.pick(3) == 0) node["onError"] = ids[g.pick(n)];
        if (g.pick(2)) node["config"] = g.content(3);
        if (g.pick(3) == 0) node["status"] = "on";
        if (g.pick(3) == 0) node["versionLabel"] = "v7";
        node["updatedAt"] = "2026-01-0" + std::to_string(1 + g.pick(9));
        node["meta"] = json::object{{"modifiedBy", "u" + g.hex(4)}, {"label", g.text(8)}};
        nodes.push_back(std::move(node));
        if (ids[i].is_string() && g.pick(2)) positions[ids[i].get_string()] = json::object{{"x", i * 10}, {"y", 5}};
    }
    json::object flow{{"appId", "a-" + g.hex(12)},  {"flowId", "cf-" + g.hex(10)}, {"startNodeId", ids[0]},
                      {"nodes", std::move(nodes)}, {"createdBy", "u" + g.hex(6)}, {"status", "deployed"}};
    if (!positions.empty()) flow["positions"] = std::move(positions);
    if (g.pick(2)) flow["extra"] = g.content(4);
    json::object app{{"_id", g.hex(24)},
                     {"appId", flow["appId"]},
                     {"name", g.text(12)},
                     {"version", g.pick(2) ? json::value(json::object{{"label", "v3"}, {"number", 3}, {"notes", g.text(10)}})
                                           : json::value("v3")},
                     {"state", "draft"},
                     {"guardrails", json::array{"pii", "toxicity"}}};
    connector::package p;
    p.format = "kore-zip";
    p.workflow_id = "a-1";
    p.files["flow_definition.json"] = json::serialize(flow);
    p.files["app_definition.json"] = json::serialize(app);
    p.files["env_variables.json"] = json::serialize(json::object{{"REGION", "eu"}, {"K", g.text(6)}});
    if (g.pick(3) == 0) p.files["icon.png"] = std::string("\x89PNG\r\n\x1a\n\0\0", 10) + g.text(20);
    return p;
}

// --- SecMaster -----------------------------------------------------------------------------

/// A script naming one of the actions; the id is drawn before the text (pinned corpora).
template <class TextOf>
std::string script_text(generator& g, TextOf& text_of, std::size_t n)
{
    auto id = text_of(g.pick(n));
    return g.text(20) + id;
}

connector::package secmaster_random(generator& g)
{
    const std::size_t n = 1 + g.pick(8);
    std::vector<json::value> ids;
    for (std::size_t i = 0; i < n; ++i)
        ids.emplace_back(g.pick(4) == 0 ? json::value(static_cast<std::int64_t>(50 + i))
                                        : json::value(g.uuidish()));
    auto text_of = [&](std::size_t i) {
        return ids[i].is_string() ? std::string(ids[i].get_string()) : std::to_string(ids[i].get_int64());
    };
    json::array actions;
    for (std::size_t i = 0; i < n; ++i) {
        json::object a{{"id", ids[i]},
                       {"name", fmt::format("Action {}", i)},
                       {"action_type", g.pick(2) ? "script" : "http"},
                       {"next", g.pick(3) ? ids[(i + 1) % n] : json::value(nullptr)},
                       {"parent", ids[g.pick(n)]},
                       {"enabled", g.pick(2) == 0},
                       {"status", "ok"},
                       {"parameters", {{"script", script_text(g, text_of, n)},
                                       {"timeout", 1000 * g.pick(30)},
                                       {"extra", g.content(3)}}},
                       {"create_time", 1700000000 + g.pick(1000)},
                       {"creator_name", "u" + g.hex(4)}};
        actions.push_back(std::move(a));
    }
    const std::string wf_id = g.uuidish();
    json::object wf{{"id", wf_id},
                    {"name", "SOC " + g.text(6)},
                    {"dataclass_id", g.hex(12)},
                    {"dataclass_name", "alert"},
                    {"project_id", g.hex(10)},
                    {"enabled", g.pick(2) == 0},
                    {"update_time", "2026-03-0" + std::to_string(1 + g.pick(9))}};
    json::object version{{"id", g.hex(16)},
                         {"version", fmt::format("v{}", 1 + g.pick(9))},
                         {"status", "activated"},
                         {"workflow_id", wf_id},
                         {"actions", std::move(actions)},
                         {"current_version", json::object{{"label", "v2"}, {"number", 2}, {"kept", g.text(5)}}}};
    connector::package p;
    p.workflow_id = wf_id;
    if (g.pick(3) == 0) {
        // A version detail read file by file.
        p.format = "secmaster-version";
        p.files["taskconfig.json"] = json::serialize(version["actions"]);
        version.erase("actions");
        p.files["version.json"] = json::serialize(version);
        p.files["workflow.json"] = json::serialize(wf);
    } else {
        p.format = "secmaster-file";
        auto label = 1 + g.pick(9);  // drawn before the prefix (pinned corpora)
        auto prefix = g.hex(3);
        p.files[fmt::format("SOC_{}_v{}.json", prefix, label)] =
            json::serialize(json::object{{"workflow", std::move(wf)}, {"version", std::move(version)}});
    }
    return p;
}

// --- Zuora ---------------------------------------------------------------------------------

connector::package zuora_random(generator& g)
{
    const std::size_t n = 1 + g.pick(10);
    static const char* names[] = {"Find", "Email", "Wait", "Email"};  // repeated names: ties to break
    std::vector<json::value> ids;
    for (std::size_t i = 0; i < n; ++i) {
        auto id = static_cast<std::int64_t>(100 + i * 13 + g.pick(5));
        ids.emplace_back(g.pick(4) == 0 ? json::value(std::to_string(id)) : json::value(id));
    }
    json::array tasks;
    for (std::size_t i = 0; i < n; ++i) {
        json::object t{{"id", ids[i]},
                       {"name", names[g.pick(std::size(names))]},
                       {"action_type", g.pick(2) ? "Email" : "Query"},
                       {"parameters", g.pick(3) ? g.content(3) : json::value(json::object{})},
                       {"css", {{"left", fmt::format("{}px", i * 10)}, {"top", "40px"}}},
                       {"status", "Processing"},
                       {"original_task_id", 5},
                       {"created_at", "2026-01-01T00:00:00Z"}};
        switch (g.pick(4)) {
        case 0: t["task_id"] = ids[g.pick(n)]; break;  // names a task of the export
        case 1: t["task_id"] = 999999; break;           // names none: tenant-local
        case 2: t["task_id"] = nullptr; break;
        default: break;
        }
        if (g.pick(5) == 0) t["ref"] = "stale";
        tasks.push_back(std::move(t));
    }
    json::array links;
    for (std::size_t k = g.pick(2 * n + 1); k > 0; --k) {
        json::object l{{"linkage_type", g.pick(2) ? "Success" : "Failure"},
                       {"source_task_id", g.pick(5) == 0 ? json::value(nullptr) : ids[g.pick(n)]},
                       {"target_task_id", ids[g.pick(n)]},
                       {"source_workflow_id", 286}};
        if (g.pick(2)) l["id"] = 7000 + k;
        if (g.pick(4) == 0) l["condition"] = g.text(8);
        links.push_back(std::move(l));
    }
    json::object doc{{"workflow", {{"id", 286}, {"name", g.text(10)}, {"version", "0.0.3"}, {"css", g.content(2)}}},
                     {"tasks", std::move(tasks)},
                     {"linkages", std::move(links)}};
    if (g.pick(2)) doc["notes"] = g.content(3);
    if (g.pick(3) == 0) doc["status"] = "Active";
    auto p = test::zuora_package(json::serialize(doc));
    if (g.pick(3) == 0) p.files["extra.json"] = json::serialize(g.content(4));
    if (g.pick(4) == 0) p.files["readme.md"] = g.text(40);
    return p;
}

/// One sha256 over the hashes of `count` random packages made by `make`: a pin of many cases.
template <class Make>
std::string corpus_digest(std::uint32_t seed, int count, Make make)
{
    generator g{std::mt19937(seed)};
    std::string all;
    for (int i = 0; i < count; ++i) all += hash_of(make(g)) + "\n";
    return sha256_hex(all);
}

// --- The benchmark's packages, small -------------------------------------------------------

std::string filler(std::size_t i, std::size_t n)
{
    std::string s = fmt::format("Step {} of the dunning run: ", i);
    while (s.size() < n) s += "remind the account owner politely, then wait and check the balance again; ";
    return s.substr(0, n);
}

connector::package bench_zuora(std::size_t tasks_count)
{
    json::array tasks, links;
    for (std::size_t i = 0; i < tasks_count; ++i) {
        tasks.push_back(json::object{{"id", 100000 + i},
                                     {"name", fmt::format("Task {}", i)},
                                     {"action_type", i % 3 ? "Email" : "Query"},
                                     {"parameters", {{"subject", filler(i, 300)}, {"to", "{{Data.Account.email}}"}}},
                                     {"css", {{"left", fmt::format("{}px", i * 10)}, {"top", "40px"}}},
                                     {"status", "Processing"},
                                     {"created_at", "2026-01-01T00:00:00Z"}});
        if (i > 0)
            links.push_back(json::object{{"id", 900000 + i},
                                         {"linkage_type", "Success"},
                                         {"source_task_id", 100000 + i - 1},
                                         {"target_task_id", 100000 + i},
                                         {"source_workflow_id", 286}});
    }
    return test::zuora_package(json::serialize(
        json::object{{"workflow", {{"id", 286}, {"name", "Big"}}}, {"tasks", tasks}, {"linkages", links}}));
}

connector::package bench_kore(std::size_t nodes_count)
{
    auto id = [](std::size_t i) { return fmt::format("node-{:08x}-{:04x}-4c1e", i * 2654435761u, i & 0xffff); };
    json::array nodes;
    for (std::size_t n = 0; n < nodes_count; ++n)
        nodes.push_back(json::object{{"id", id(n)},
                                     {"type", n % 2 ? "ai" : "api"},
                                     {"next", id(n + 1)},
                                     {"prompt", "use {{" + id(n / 2) + ".output}}: " + filler(n, 300)},
                                     {"config", {{"timeoutMs", 30000}, {"temperature", 0.2}}}});
    connector::package p;
    p.format = "kore-zip";
    p.files["flow_definition.json"] =
        json::serialize(json::object{{"appId", "a-1234567890"}, {"startNodeId", id(0)}, {"nodes", nodes}});
    p.files["app_definition.json"] = R"({"appId":"a-1234567890","version":{"label":"v3","number":3}})";
    p.files["env_variables.json"] = R"({"REGION":"eu"})";
    return p;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(normalize_pinned_hashes)

BOOST_AUTO_TEST_CASE(zuora_exports_keep_their_hashes)
{
    BOOST_TEST(hash_of(test::zuora_package(test::sample_export({}))) == "ba9e40d28fe57ba6556049c71da7fdea5f66fcb4c4a3ba1fd8bcf272c1c74ea4");
    // Re-stamped ids, shuffled, with tenant noise: the same hash as above.
    BOOST_TEST(hash_of(test::zuora_package(test::sample_export(
                   {.base = 90000, .workflow_id = 7, .shuffle_seed = 3, .tenant_noise = true}))) == "ba9e40d28fe57ba6556049c71da7fdea5f66fcb4c4a3ba1fd8bcf272c1c74ea4");
    // String and integer ids naming the same tasks, a task_id reference, a Start linkage,
    // duplicate member names, escapes and doubles, an extra top-level member, other files.
    auto p = test::zuora_package(
        R"({"workflow":{"id":"286","name":"W \"q\" \u00e9\/\u0001","rate":0.1,"big":18446744073709551615},)"
        R"("tasks":[{"id":"849","name":"A","task_id":850,"parameters":{"n":-7,"d":1e300,"e":[[],{}]}},)"
        R"({"id":850,"name":"A","name":"B","parameters":{"s":"x\ty"}}],)"
        R"("linkages":[{"source_task_id":null,"target_task_id":849,"linkage_type":"Start"},)"
        R"({"source_task_id":849,"target_task_id":"850","id":1}],"extra":{"k":[1,2.5,"3"]},"status":"Active"})");
    p.files["other.json"] = R"({"b":1,"a":{"y":[true,false,null],"x":"\u20ac"}})";
    p.files["notes.txt"] = "raw \x01 bytes";
    BOOST_TEST(hash_of(p) == "c7ca38e24e7ee41f63ca168c7d1d20d4c9a0d4e929671355fd0f48e40f8a226b");
    BOOST_TEST(corpus_digest(1001, 60, zuora_random) == "5adf057dba144b379f2c226be82fb2c3a37399d62e553a54d9e87733309e8fec");
    BOOST_TEST(hash_of(bench_zuora(200)) == "d384bcf5710846d778fcc1fbd2ae5331220478268bfa3921d5f6c1f74d039623");
}

BOOST_AUTO_TEST_CASE(kore_packages_keep_their_hashes)
{
    connector::package p{.format = "kore-zip",
                         .files = {{"flow_definition.json",
                                    R"({"startNodeId":"node-0123456789abcdef","appId":"a-123456789",)"
                                    R"("nodes":[{"id":"node-0123456789abcdef","next":["n2",["n3"]],)"
                                    R"("prompt":"see {{node-fedcba9876543210.out}} and node-0123456789abcdef!"},)"
                                    R"({"id":"node-fedcba9876543210","next":17,"status":"on","meta":{"updatedAt":"t"}},)"
                                    R"({"id":17,"next":null,"a/b":{"c~d":"n2"}},{"id":"n2"},{"id":"n3","goto":"n2"}],)"
                                    R"("positions":{"node-fedcba9876543210":{"x":1},"n2":{"x":2}},"status":"draft"})"},
                                   {"app_definition.json",
                                    R"({"_id":"5f0c0ffee0c0ffee0c0ffee0","version":{"label":"v3","number":3,"notes":"n"},)"
                                    R"("versionLabel":"v3","createdOn":"t","name":"App \ud83d\ude00"})"},
                                   {"env_variables.json", R"({"REGION":"eu","N":1.5})"},
                                   {"icon.png", std::string("\x89PNG\0\x01", 6)}}};
    BOOST_TEST(hash_of(p) == "79e5ee68e9293890ecd69a40124f83c50ce702a9460cdbbc53a2074c9064c91b");
    BOOST_TEST(corpus_digest(2002, 60, kore_random) == "a2c1bb4a3b5cca8d7da9b8cba1aaf8a4f59328d592a847ac961ed1050c4ac57a");
    BOOST_TEST(hash_of(bench_kore(200)) == "f2c083a7f5958888d57175b3eeb1bc2821757f2864539fb52d4a3a3607805498");
}

BOOST_AUTO_TEST_CASE(long_ids_inside_texts_keep_their_hashes)
{
    // Identifiers inside longer texts at every offset: one containing another, sharing
    // prefixes, back to back, overlapping runs, at the very start and end of a text.
    const std::vector<std::string> ids{"abcdefghijkl",     "abcdefghijklmn", "xabcdefghijkl", "zzzzzzzzzzzzzzzz",
                                       "zzzzzzzzzzzzz",    "0123456789ab0123456789ab",       "1234567890123",
                                       "node-0000000001", "node-00000000012"};
    json::array nodes;
    for (const auto& id : ids) nodes.push_back(json::object{{"id", id}});
    json::array texts;
    for (std::size_t offset = 0; offset < 12; ++offset)
        for (std::size_t i = 0; i < ids.size(); ++i) {
            const auto& a = ids[i];
            const auto& b = ids[(i + offset + 1) % ids.size()];
            std::string pad(offset, '.');
            texts.emplace_back(pad + a);
            texts.emplace_back(pad + a + b);
            texts.emplace_back(pad + a + "-" + b + pad);
            texts.emplace_back(a.substr(0, a.size() - 1) + pad + a.substr(1));
            texts.emplace_back(pad + std::string(40, a[0]) + a.substr(0, 12 + offset % 3));
        }
    texts.emplace_back(std::string(64, 'z'));
    texts.emplace_back("0123456789ab0123456789ab0123456789ab0123456789ab");
    connector::package p{.format = "kore-zip",
                         .files = {{"flow_definition.json",
                                    json::serialize(json::object{{"nodes", std::move(nodes)}, {"texts", std::move(texts)}})}}};
    BOOST_TEST(hash_of(p) == "4eb60d0491b36d2b217c4c1783a65cd773aee42918cffb210d6809699d569ca9");
}

BOOST_AUTO_TEST_CASE(keys_renamed_onto_other_keys_keep_their_hashes)
{
    // A map keyed by node ids whose references meet a member already of that name, before
    // and after it: the later member wins, as it did.
    connector::package p{.format = "kore-zip",
                         .files = {{"flow_definition.json",
                                    R"({"nodes":[{"id":"n1x"},{"id":"n2x"}],)"
                                    R"("map":{"@/flow_definition.json/nodes/0/id":"literal first","n1x":"renamed second",)"
                                    R"("n2x":"renamed first","@/flow_definition.json/nodes/1/id":"literal second"}})"}}};
    BOOST_TEST(hash_of(p) == "fb982106df2635ba1f6db09bfaee3570076962af03ada68596cb8a963d11ab11");
}

BOOST_AUTO_TEST_CASE(zuora_document_and_canonical_text_agree)
{
    // normalize writes the canonical text straight from the export; normalize_zuora_export
    // builds the document: both from the same parts, and they must say the same.
    generator g{std::mt19937(4004)};
    for (int i = 0; i < 40; ++i) {
        auto p = zuora_random(g);
        auto r = sync::normalize(p);
        BOOST_TEST_REQUIRE(r.has_value());
        auto v = sync::normalize_zuora_export(p.files.at("workflow.json"), "test");
        BOOST_TEST_REQUIRE(v.has_value());
        for (const auto& f : r->files)
            if (f.name == "workflow.json") BOOST_TEST(f.canonical == canonical_json(*v), "package " << i);
    }
}

BOOST_AUTO_TEST_CASE(secmaster_packages_keep_their_hashes)
{
    connector::package file{
        .format = "secmaster-file",
        .files = {{"SOC_Alpha_v3.json",
                   R"({"workflow":{"id":"7d1f2a3b-1111-2222-333344445555","name":"Alpha","enabled":true,)"
                   R"("dataclass_id":"dc-0123456789","dataclass_name":"alert"},"version":{"version":"v3","status":"on",)"
                   R"("actions":[{"id":41,"next":42,"enabled":false,"parameters":{"script":"x"}},{"id":42,"parent":41,)"
                   R"("next":null,"create_time":5,"parameters":{"ids":[41,42],"t":"for 7d1f2a3b-1111-2222-333344445555"}}]}})"}}};
    BOOST_TEST(hash_of(file) == "2449e7c0fec033deff662c8b2c191808f6b26958841fc0d489bdb44d6a2950f4");
    connector::package detail{.format = "secmaster-version",
                              .files = {{"taskconfig.json", R"([{"name":"block","enabled":true,"id":"a-1234567890"}])"},
                                        {"version.json", R"({"status":"activated","enabled":true,"version_name":"v2"})"}}};
    BOOST_TEST(hash_of(detail) == "1cc4279948b3fc49b2682ba6f76d6997e6e5e495b983f2a38ac302dab9d2639a");
    BOOST_TEST(corpus_digest(3003, 60, secmaster_random) == "17087b5cec454d4e7acfe071cbf78622157b85266ddf731a860280dfdea70c42");
}

BOOST_AUTO_TEST_SUITE_END()
