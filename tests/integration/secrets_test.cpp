// SPDX-License-Identifier: Apache-2.0
// Secrets are read when a tenant is contacted, not when the config loads: with the systemd
// set-up (LoadCredential=, *_file keys) a shell has none of them, and the commands that
// contact no tenant must still work. The real wfsync binary against the emulator.
#define BOOST_TEST_MODULE wfsync_e2e_secrets
#include <boost/test/unit_test.hpp>

#include "fixtures.hpp"

#include <set>

using namespace wfsync;
using namespace wfsync::test;

namespace {

/// sandbox -> prod (rule promote) and sandbox -> archive (rule backup), with their secrets in
/// the environment; two more tenants whose secrets cannot be read: a *_file naming a missing
/// file and a *_env naming an unset variable, with a rule to each.
wfsync_env secrets_env(const std::string& base_url)
{
    wfsync_env e;
    config_options o;
    o.admin_listen = "127.0.0.1:" + std::to_string(free_port());  // nothing listens there
    o.extra_tenants =
        "  lost-file:\n"
        "    platform: zuora\n"
        "    base_url: " + base_url + "/t/prod\n"
        "    auth: {type: oauth2, client_id: prod-client, client_secret_file: " + e.dir->file("no-such-secret") + "}\n"
        "  lost-env:\n"
        "    platform: zuora\n"
        "    base_url: " + base_url + "/t/prod\n"
        "    auth: {type: bearer, token_env: WFSYNC_TEST_UNSET_TOKEN}\n";
    o.extra_rules =
        "  - name: backup\n"
        "    source: sandbox\n"
        "    targets: [\"archive:local\"]\n"
        "  - name: to-lost-file\n"
        "    source: sandbox\n"
        "    targets: [lost-file]\n"
        "  - name: from-lost-env\n"
        "    source: lost-env\n"
        "    targets: [prod]\n"
        "archives:\n"
        "  local: {path: " + e.dir->file("archive") + "}\n";
    e.config_file = e.dir->write("wfsync.yaml", config_text(e.dir->file("state"), base_url, o));
    e.env = {{"WFSYNC_TEST_SBX_SECRET", sandbox_secret}, {"WFSYNC_TEST_PROD_SECRET", prod_secret}};
    ::unsetenv("WFSYNC_TEST_UNSET_TOKEN");
    return e;
}

bool has(const std::string& text, const std::string& part)
{
    return text.find(part) != std::string::npos;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(lazy_secrets, *boost::unit_test::label("e2e"))

BOOST_AUTO_TEST_CASE(a_rule_whose_tenants_have_their_secrets_syncs_while_another_tenants_secret_is_missing,
                     *boost::unit_test::timeout(120))
{
    emulator_thread emu(seed());
    auto env = secrets_env(emu->base_url());

    auto ok = env.run({"sync", "--rule", "promote"});
    BOOST_TEST(ok.code == 0, describe(ok));
    expect_replicated_once(emu);

    // A rule that contacts a tenant without its secret fails as a config problem, naming
    // the tenant's key and the file, before any request to that tenant.
    auto before = emu->requests("prod").size();
    auto file = env.run({"sync", "--rule", "to-lost-file"});
    BOOST_TEST(file.code == 78, describe(file));
    BOOST_TEST(has(file.err + file.out, "tenants.lost-file.auth.client_secret_file: cannot read secret file '" +
                                            env.dir->file("no-such-secret") + "'"),
               describe(file));
    auto var = env.run({"plan", "--rule", "from-lost-env"});
    BOOST_TEST(var.code == 78, describe(var));
    BOOST_TEST(has(var.err + var.out, "tenants.lost-env.auth.token_env: variable WFSYNC_TEST_UNSET_TOKEN is not set"),
               describe(var));
    BOOST_TEST(emu->requests("prod").size() == before);
}

BOOST_AUTO_TEST_CASE(commands_that_contact_no_tenant_work_without_any_secret, *boost::unit_test::timeout(120))
{
    emulator_thread emu(seed());
    auto env = secrets_env(emu->base_url());
    auto first = env.run({"sync", "--rule", "backup"});
    BOOST_TEST_REQUIRE(first.code == 0, describe(first));

    // The shell has none of the daemon's credentials.
    env.env.clear();
    auto requests = emu->requests("sandbox").size();

    auto history = env.run({"history"});
    BOOST_TEST(history.code == 0, describe(history));
    BOOST_TEST(has(history.out, "backup"), describe(history));
    auto list = env.run({"archive", "list"});
    BOOST_TEST(list.code == 0, describe(list));
    BOOST_TEST(has(list.out, "Billing Reminder"), describe(list));
    auto verify = env.run({"archive", "verify"});
    BOOST_TEST(verify.code == 0, describe(verify));
    auto state = env.run({"state", "check"});
    BOOST_TEST(state.code == 0, describe(state));
    BOOST_TEST(has(state.out, "ok"), describe(state));
    // No daemon runs: status says so (75), it does not stop at the secrets (78).
    auto status = env.run({"status"});
    BOOST_TEST(status.code == 75, describe(status));
    BOOST_TEST(has(status.err, "not running"), describe(status));

    // check --offline: valid, with a warning per secret it cannot read, naming tenant and key.
    auto check = env.run({"check", "--offline"});
    BOOST_TEST(check.code == 0, describe(check));
    BOOST_TEST(has(check.out, "is valid"), describe(check));
    for (std::string key : {"tenants.sandbox.auth.client_secret_env: variable WFSYNC_TEST_SBX_SECRET is not set",
                            "tenants.prod.auth.client_secret_env: variable WFSYNC_TEST_PROD_SECRET is not set",
                            "tenants.lost-file.auth.client_secret_file: cannot read secret file",
                            "tenants.lost-env.auth.token_env: variable WFSYNC_TEST_UNSET_TOKEN is not set"})
        BOOST_TEST((has(check.err, "wfsync: warning: ") && has(check.err, key)), key << "\n" << describe(check));
    auto as_json = env.run({"check", "--offline", "--json"});
    BOOST_TEST_REQUIRE(as_json.code == 0, describe(as_json));
    auto report = boost::json::parse(as_json.out).as_object();
    BOOST_TEST(report.at("valid").as_bool());
    const auto& unreadable = report.at("unreadable_secrets").as_array();
    BOOST_TEST_REQUIRE(unreadable.size() == 4u, as_json.out);
    std::set<std::string> keys;
    for (const auto& u : unreadable) keys.insert(std::string(u.at("key").as_string()));
    BOOST_TEST(keys.count("tenants.lost-file.auth.client_secret_file") == 1u);
    BOOST_TEST(keys.count("tenants.lost-env.auth.token_env") == 1u);
    auto strict = env.run({"check", "--offline", "--strict"});
    BOOST_TEST(strict.code == 78, describe(strict));
    BOOST_TEST((has(strict.err, "wfsync: error: ") && has(strict.err, "tenants.lost-env.auth.token_env")),
               describe(strict));
    BOOST_TEST(!has(strict.out, "is valid"), describe(strict));
    auto misplaced = env.run({"history", "--strict"});
    BOOST_TEST(misplaced.code == 2, describe(misplaced));

    BOOST_TEST(emu->requests("sandbox").size() == requests);  // none of them talked to a tenant

    // With the secrets back, check --offline --strict passes for the tenants that have them.
    env.env = {{"WFSYNC_TEST_SBX_SECRET", sandbox_secret}, {"WFSYNC_TEST_PROD_SECRET", prod_secret},
               {"WFSYNC_TEST_UNSET_TOKEN", "a-token-now"}};
    env.dir->write("no-such-secret", "now-it-exists\n");
    auto fine = env.run({"check", "--offline", "--strict"});
    BOOST_TEST(fine.code == 0, describe(fine));
    BOOST_TEST(!has(fine.err, "warning"), describe(fine));
}

BOOST_AUTO_TEST_SUITE_END()
