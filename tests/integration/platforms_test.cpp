// SPDX-License-Identifier: Apache-2.0
// End to end for the other platforms: the real wfsync binary replicating SecMaster -> SecMaster
// and Kore.ai -> Kore.ai through the emulator.
#define BOOST_TEST_MODULE wfsync other platforms end to end
#include "fixtures.hpp"

#include <boost/test/unit_test.hpp>

#include <csignal>

using namespace wfsync::test;
namespace json = boost::json;

namespace {

const std::string soc_password = "Iam-Pass-7c1e55d2";

json::object playbook(const char* name, json::array steps, const char* status = "activated")
{
    return json::object{{"name", name},
                        {"description", std::string("playbook ") + name},
                        {"versions", json::array{json::object{{"status", status},
                                                              {"document", json::object{{"steps", std::move(steps)}}}}}}};
}

json::object soc_tenant(json::array workflows)
{
    return json::object{{"platform", "secmaster"},
                        {"project_id", "proj-1"},
                        {"workspace_id", "ws-1"},
                        {"iam", {{"user", "ops"}, {"domain", "acme"}, {"password", soc_password}, {"project", "eu-west-101"}}},
                        {"token_ttl_seconds", 86400},
                        {"limit_max", 2},
                        {"workflows", std::move(workflows)}};
}

std::string soc_seed()
{
    json::array source{playbook("Block IP", {"lookup", "block"}), playbook("Isolate host", {"find", "isolate", "notify"}),
                       playbook("Close alert", {"close"})};
    json::array target{playbook("Block IP", {"lookup", "block"})};
    return json::serialize(json::object{{"tenants", {{"soc-a", soc_tenant(source)}, {"soc-b", soc_tenant(target)}}}});
}

wfsync_env soc_env(const std::string& base_url)
{
    wfsync_env e;
    auto tenant = [&](const std::string& name) {
        return "  " + name + ":\n"
               "    platform: secmaster\n"
               "    base_url: " + base_url + "/t/" + name + "\n"
               "    project_id: proj-1\n"
               "    workspace_id: ws-1\n"
               "    auth: {type: iam_password, iam_url: \"" + base_url + "/t/" + name + "/iam\", user: ops, domain: acme,\n"
               "           project: eu-west-101, password_env: SOC_PASSWORD}\n";
    };
    std::string text = "state: {path: " + e.dir->file("state") + "}\n"
                       "log: {level: debug}\n"
                       "defaults:\n"
                       "  retry: {max_attempts: 4, initial_backoff: 5ms, max_backoff: 50ms}\n"
                       "tenants:\n" + tenant("soc-a") + tenant("soc-b") +
                       "rules:\n"
                       "  - name: playbooks\n"
                       "    source: soc-a\n"
                       "    targets: [soc-b]\n"
                       "    create_missing: true\n";
    e.config_file = e.dir->write("wfsync.yaml", text);
    e.env = {{"SOC_PASSWORD", soc_password}};
    return e;
}

std::size_t soc_imports(emulator_thread& emu)
{
    return emu.find("soc-b", "/soc/workflows/import", "POST").size();
}

}  // namespace

BOOST_AUTO_TEST_CASE(secmaster_to_secmaster_first_no_change_and_one_new_version)
{
    emulator_thread emu(soc_seed());
    auto env = soc_env(emu->base_url());

    auto first = env.run({"sync"});
    BOOST_TEST_REQUIRE(first.code == 0, describe(first));
    // "Block IP" is already there with the same content: only the other two are imported.
    BOOST_TEST(soc_imports(emu) == 2u);
    auto target = emu.versions("soc-b");
    BOOST_TEST(target.size() == 3u);
    BOOST_TEST(target["Block IP"].size() == 1u);
    BOOST_TEST(target["Isolate host"].size() == 1u);
    BOOST_TEST(emu.find("soc-a", "/iam/v3/auth/tokens").size() == 1u);

    emu->clear_requests();
    auto second = env.run({"sync"});
    BOOST_TEST_REQUIRE(second.code == 0, describe(second));
    BOOST_TEST(soc_imports(emu) == 0u);
    BOOST_TEST(second.out.find("0 imported, 3 unchanged") != std::string::npos, second.out);

    // A new version of one playbook in the source: exactly one import.
    std::string isolate_id;
    auto source_state = emu->state("soc-a");
    for (const auto& w : source_state.at("workflows").as_array())
        if (w.at("name").as_string() == "Isolate host") isolate_id = std::string(w.at("id").as_string());
    BOOST_TEST_REQUIRE(!isolate_id.empty());
    BOOST_TEST_REQUIRE(emu->add_version("soc-a", isolate_id, {{"steps", json::array{"find", "isolate", "notify", "ticket"}}})
                           .has_value());
    emu->clear_requests();
    auto third = env.run({"sync"});
    BOOST_TEST_REQUIRE(third.code == 0, describe(third));
    BOOST_TEST(soc_imports(emu) == 1u);
    BOOST_TEST(emu.versions("soc-b")["Isolate host"].size() == 2u);

    // The IAM password and the tokens never reach the output or the state.
    std::string everything = first.out + first.err + second.out + second.err + third.out + third.err +
                             read_file(env.dir->file("state/state.db")) + read_file(env.dir->file("state/state.db-wal"));
    BOOST_TEST(everything.find(soc_password) == std::string::npos);
    for (const auto& r : emu->requests("soc-b")) {
        const auto& h = r.at("headers").as_object();
        if (auto* t = h.if_contains("x-auth-token"))
            BOOST_TEST(everything.find(std::string(t->as_string())) == std::string::npos);
    }
}
