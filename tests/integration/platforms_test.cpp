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

namespace {

const std::string kore_key_dev = "kg-dev-6b2f0c1d9e";
const std::string kore_key_prod = "kg-prod-3a8e7f4b21";

json::object kore_version(const char* app_version, const char* prompt)
{
    return json::object{{"flow_definition", {{"nodes", json::array{json::object{{"id", "start"}, {"type", "trigger"}},
                                                                   json::object{{"id", "ask"}, {"type", "ai"}, {"prompt", prompt}}}}}},
                        {"app_definition", {{"version", app_version}, {"guardrails", json::array{"pii"}}}},
                        {"env_variables", {{"REGION", "eu"}}}};
}

std::string kore_seed(int job_ms, const char* assistant_prompt = "Help with banking")
{
    json::object dev{{"platform", "kore"},
                     {"api_key", kore_key_dev},
                     {"job_duration_ms", job_ms},
                     {"download_host", "foreign"},
                     {"workflows", json::array{json::object{{"id", "a-100"}, {"flow_id", "cf-100"}, {"name", "Banking Assistant"},
                                                            {"versions", json::array{kore_version("v1", "Help"), kore_version("v2", assistant_prompt)}}},
                                               json::object{{"id", "a-200"}, {"flow_id", "cf-200"}, {"name", "Claims Triage"},
                                                            {"versions", json::array{kore_version("v1", "Triage claims")}}}}}};
    json::object prod{{"platform", "kore"},
                      {"api_key", kore_key_prod},
                      {"job_duration_ms", job_ms},
                      {"workflows", json::array{json::object{{"id", "a-900"}, {"flow_id", "cf-900"}, {"name", "Banking Assistant"},
                                                             {"versions", json::array{kore_version("v1", "Help")}}}}}};
    return json::serialize(json::object{{"tenants", {{"kore-dev", dev}, {"kore-prod", prod}}}});
}

wfsync_env kore_env(const std::string& base_url, const std::string& poll = "{interval: 20ms, max_interval: 100ms, timeout: 20s}",
                    const std::string& extra = {})
{
    wfsync_env e;
    std::string text = "state: {path: " + e.dir->file("state") + "}\n"
                       "log: {level: debug}\n" + extra +
                       "defaults:\n"
                       "  retry: {max_attempts: 3, initial_backoff: 5ms, max_backoff: 50ms}\n"
                       "  poll: " + poll + "\n"
                       "tenants:\n"
                       "  kore-dev:\n"
                       "    platform: kore\n"
                       "    base_url: " + base_url + "/t/kore-dev\n"
                       "    auth: {type: api_key, key_env: KORE_DEV_KEY}\n"
                       "    workflows:\n"
                       "      - {id: a-100, flow_id: cf-100, name: Banking Assistant}\n"
                       "      - {id: a-200, flow_id: cf-200, name: Claims Triage}\n"
                       "  kore-prod:\n"
                       "    platform: kore\n"
                       "    base_url: " + base_url + "/t/kore-prod\n"
                       "    auth: {type: api_key, key_env: KORE_PROD_KEY}\n"
                       "    workflows:\n"
                       "      - {id: a-900, flow_id: cf-900, name: Banking Assistant}\n"
                       "rules:\n"
                       "  - name: assistants\n"
                       "    source: kore-dev\n"
                       "    targets: [kore-prod]\n"
                       "    create_missing: true\n";
    e.config_file = e.dir->write("wfsync.yaml", text);
    e.env = {{"KORE_DEV_KEY", kore_key_dev}, {"KORE_PROD_KEY", kore_key_prod}};
    return e;
}

std::size_t kore_imports(emulator_thread& emu)
{
    std::size_t n = 0;
    for (const auto& r : emu.find("kore-prod", "/import", "POST")) n += r.at("path").as_string().ends_with("/import");
    return n;
}

}  // namespace

BOOST_AUTO_TEST_CASE(kore_to_kore_first_no_change_one_new_version_and_no_key_abroad)
{
    emulator_thread emu(kore_seed(60));
    auto env = kore_env(emu->base_url());
    auto first = env.run({"sync"});
    BOOST_TEST_REQUIRE(first.code == 0, describe(first));
    BOOST_TEST(kore_imports(emu) == 2u);  // a new version of Banking Assistant, and Claims Triage created
    auto prod = emu.versions("kore-prod");
    BOOST_TEST(prod["Banking Assistant"].size() == 2u);
    BOOST_TEST(prod["Claims Triage"].size() == 1u);
    // Export jobs were polled, and the key never went to the download host.
    BOOST_TEST(!emu.find("kore-dev", "/dock-status/").empty());
    for (const auto& r : emu->requests("kore-dev")) {
        const auto& h = r.at("headers").as_object();
        bool foreign = r.at("listener").as_string() == "foreign";
        BOOST_TEST((h.contains("x-api-key") != foreign), r.at("path").as_string());
    }

    emu->clear_requests();
    auto second = env.run({"sync"});
    BOOST_TEST_REQUIRE(second.code == 0, describe(second));
    BOOST_TEST(kore_imports(emu) == 0u);
    BOOST_TEST(emu.find("kore-prod", "/api/public/files", "POST").empty());
    // Kore.ai lists nothing that changes with the content: every run exports, and says why.
    BOOST_TEST(emu.find("kore-dev", "/export", "POST").size() == 2u);
    BOOST_TEST(second.out.find("read: 0 proved unchanged by the listings (not exported), 2 compared in full (2 the "
                               "source's listing shows no version or update time)") != std::string::npos,
               second.out);

    // A new deployed version in the source: exactly one import.
    BOOST_TEST_REQUIRE(emu->load_seed(json::serialize(json::object{
                                          {"tenants", {{"kore-dev", json::parse(kore_seed(60, "Help with banking and cards"))
                                                                        .at("tenants").at("kore-dev")}}}}))
                           .has_value());
    emu->clear_requests();
    auto third = env.run({"sync"});
    BOOST_TEST_REQUIRE(third.code == 0, describe(third));
    BOOST_TEST(kore_imports(emu) == 1u);
    BOOST_TEST(emu.versions("kore-prod")["Banking Assistant"].size() == 3u);

    std::string everything = first.out + first.err + second.out + second.err + third.out + third.err +
                             read_file(env.dir->file("state/state.db")) + read_file(env.dir->file("state/state.db-wal"));
    BOOST_TEST(everything.find(kore_key_dev) == std::string::npos);
    BOOST_TEST(everything.find(kore_key_prod) == std::string::npos);
}

BOOST_AUTO_TEST_CASE(kore_failed_job_is_reported_and_retried_next_run)
{
    emulator_thread emu(kore_seed(20));
    BOOST_TEST_REQUIRE(emu->add_fault({{"tenant", "kore-dev"}, {"path_contains", "/export"}, {"kind", "job_failed"}, {"count", 1}})
                           .has_value());
    auto env = kore_env(emu->base_url());
    auto first = env.run({"sync"});
    BOOST_TEST(first.code == 1, describe(first));
    BOOST_TEST(first.err.find("FAILED") != std::string::npos, first.err);
    auto second = env.run({"sync"});
    BOOST_TEST_REQUIRE(second.code == 0, describe(second));
    BOOST_TEST(emu.versions("kore-prod")["Claims Triage"].size() == 1u);
    BOOST_TEST(emu.versions("kore-prod")["Banking Assistant"].size() == 2u);
}

BOOST_AUTO_TEST_CASE(kore_poll_timeout_is_unknown_then_the_same_job_is_resumed)
{
    emulator_thread emu(kore_seed(1500));
    auto impatient = kore_env(emu->base_url(), "{interval: 10ms, max_interval: 20ms, timeout: 100ms}");
    auto first = impatient.run({"sync"});
    BOOST_TEST(first.code != 0, describe(first));
    BOOST_TEST(first.err.find("still running") != std::string::npos, first.err);
    auto exports_started = emu.find("kore-dev", "/export", "POST").size();
    BOOST_TEST(exports_started >= 1u);

    // Same state, patient polling: the recorded jobs are polled again, no new export starts.
    auto patient = kore_env(emu->base_url());
    std::filesystem::copy(impatient.dir->file("state"), patient.dir->file("state"), std::filesystem::copy_options::recursive);
    auto second = patient.run({"sync"});
    BOOST_TEST_REQUIRE(second.code == 0, describe(second));
    BOOST_TEST(second.err.find("resuming export job") != std::string::npos, second.err);
    // One export per workflow in all: the resumed ones were not started twice.
    BOOST_TEST(emu.find("kore-dev", "/export", "POST").size() == 2u);
    BOOST_TEST(emu.versions("kore-prod")["Banking Assistant"].size() == 2u);
    BOOST_TEST(emu.versions("kore-prod")["Claims Triage"].size() == 1u);
}

BOOST_AUTO_TEST_CASE(kore_broken_packages_fail_their_item_with_a_clear_error)
{
    auto seed = json::parse(kore_seed(0)).as_object();
    auto& workflows = seed["tenants"].as_object()["kore-dev"].as_object()["workflows"].as_array();
    const std::pair<const char*, const char*> broken[] = {
        {"bomb", "more than the limit"}, {"dotdot", ".."}, {"missing_env", "env_variables.json"}, {"not_zip", "zip"}};
    std::string cfg_workflows;
    int n = 0;
    for (const auto& [kind, _] : broken) {
        std::string id = "a-b" + std::to_string(++n);
        workflows.push_back(json::object{{"id", id}, {"flow_id", "cf-" + id}, {"name", std::string("Broken ") + kind},
                                         {"package", kind}, {"versions", json::array{kore_version("v1", kind)}}});
        cfg_workflows += "      - {id: " + id + ", flow_id: cf-" + id + ", name: Broken " + kind + "}\n";
    }
    emulator_thread emu(json::serialize(seed));
    auto env = kore_env(emu->base_url());
    auto text = read_file(env.config_file);
    auto at = text.find("      - {id: a-200");
    at = text.find('\n', at) + 1;
    text.insert(at, cfg_workflows);
    env.dir->write("wfsync.yaml", text);

    auto r = env.run({"sync"});
    BOOST_TEST(r.code == 1, describe(r));
    // The good workflows went through; each broken one failed on its own, saying why.
    BOOST_TEST(kore_imports(emu) == 2u);
    for (const auto& [kind, why] : broken) {
        auto line_at = r.out.find(std::string("Broken ") + kind);
        BOOST_TEST_REQUIRE(line_at != std::string::npos, r.out);
        auto row_start = r.out.rfind('\n', line_at) + 1;
        auto row = r.out.substr(row_start, r.out.find('\n', line_at) - row_start);
        BOOST_TEST(row.find("error") != std::string::npos, row);
        BOOST_TEST(row.find(why) != std::string::npos, kind << ": " << row);
    }
}

BOOST_AUTO_TEST_CASE(kore_serve_killed_with_a_pending_export_resumes_the_same_job)
{
    emulator_thread emu(kore_seed(2500));
    auto port = free_port();
    auto env = kore_env(emu->base_url(), "{interval: 50ms, max_interval: 200ms, timeout: 60s}",
                        "admin: {listen: \"127.0.0.1:" + std::to_string(port) + "\"}\n");
    {
        process daemon(WFSYNC_BIN, {"--config", env.config_file, "serve"}, env.env, env.dir->file("serve1.out"),
                       env.dir->file("serve1.err"));
        // Ask for a run over the admin endpoint once it listens, then wait for the export to start.
        bool started = false;
        for (int i = 0; i < 400 && !started; ++i) {
            started = http("http://127.0.0.1:" + std::to_string(port), "POST", "/rules/assistants/run").status == 202;
            if (!started) daemon.wait_for(std::chrono::milliseconds(25));
        }
        BOOST_TEST_REQUIRE(started, read_file(env.dir->file("serve1.err")));
        // Its first poll comes after the job is recorded: kill it then.
        for (int i = 0; i < 400 && emu.find("kore-dev", "/dock-status", "GET").empty(); ++i)
            daemon.wait_for(std::chrono::milliseconds(25));
        BOOST_TEST_REQUIRE(emu.find("kore-dev", "/dock-status", "GET").size() >= 1u);
        daemon.signal(SIGKILL);
        daemon.wait_for(std::chrono::seconds(10));
    }
    auto first_job = emu.find("kore-dev", "/export", "POST").size();

    // The restarted daemon picks the recorded job up at once (no schedule, no trigger).
    process daemon(WFSYNC_BIN, {"--config", env.config_file, "serve"}, env.env, env.dir->file("serve2.out"),
                   env.dir->file("serve2.err"));
    for (int i = 0; i < 800 && emu.versions("kore-prod")["Claims Triage"].empty(); ++i)
        daemon.wait_for(std::chrono::milliseconds(25));
    daemon.signal(SIGTERM);
    BOOST_TEST(daemon.wait_for(std::chrono::seconds(30)).value_or(-1) == 0);
    auto log = read_file(env.dir->file("serve2.err"));
    BOOST_TEST(log.find("resuming export job ds-kore-dev-1") != std::string::npos, log);
    // Only the workflow whose export had not started yet got a new export job.
    BOOST_TEST(emu.find("kore-dev", "/export", "POST").size() <= first_job + 1, log);
    BOOST_TEST(emu.versions("kore-prod")["Banking Assistant"].size() == 2u);
    BOOST_TEST(emu.versions("kore-prod")["Claims Triage"].size() == 1u);
}

BOOST_AUTO_TEST_CASE(kore_and_secmaster_versions_are_backed_up_as_zip_and_restored)
{
    // Kore.ai packages and SecMaster files go to the archive as .zip, once per content.
    emulator_thread kore(kore_seed(20));
    auto env = kore_env(kore->base_url());
    auto text = read_file(env.config_file);
    text.replace(text.find("rules:\n"), std::string("rules:\n").size(),
                 "archives:\n  local: {path: " + env.dir->file("archive") + "}\n"
                 "rules:\n"
                 "  - name: kore-backup\n"
                 "    source: kore-dev\n"
                 "    targets: [\"archive:local\"]\n");
    env.dir->write("wfsync.yaml", text);
    auto first = env.run({"sync", "--rule", "kore-backup"});
    BOOST_TEST_REQUIRE(first.code == 0, describe(first));
    auto list = archived_versions(env.run({"archive", "list", "--json"}).out);
    BOOST_TEST_REQUIRE(list.size() == 2u);
    for (const auto& e : list) BOOST_TEST(e.at("path").as_string().ends_with(".zip"));
    auto again = env.run({"sync", "--rule", "kore-backup"});
    BOOST_TEST(again.out.find("0 imported, 2 unchanged") != std::string::npos, again.out);
    BOOST_TEST(env.run({"archive", "verify"}).code == 0);
    // Restore Claims Triage into the Kore.ai target that lacks it, then nothing more.
    auto restored = env.run({"restore", "--from", "archive:local", "--workflow", "Claims Triage", "--to", "kore-prod"});
    BOOST_TEST_REQUIRE(restored.code == 0, describe(restored));
    BOOST_TEST(kore.versions("kore-prod")["Claims Triage"].size() == 1u);
    auto twice = env.run({"restore", "--from", "archive:local", "--workflow", "Claims Triage", "--to", "kore-prod"});
    BOOST_TEST(twice.code == 0, describe(twice));
    BOOST_TEST(twice.out.find("0 imported, 1 unchanged") != std::string::npos, twice.out);
    // A restore into a tenant the config does not name is a usage error.
    auto wrong = env.run({"restore", "--from", "archive:local", "--workflow", "Claims Triage", "--to", "kore-dev-missing"});
    BOOST_TEST(wrong.code == 2, describe(wrong));

    emulator_thread soc(soc_seed());
    auto senv = soc_env(soc->base_url());
    auto stext = read_file(senv.config_file);
    stext.replace(stext.find("rules:\n"), std::string("rules:\n").size(),
                  "archives:\n  local: {path: " + senv.dir->file("archive") + "}\n"
                  "rules:\n"
                  "  - name: soc-backup\n"
                  "    source: soc-a\n"
                  "    targets: [\"archive:local\"]\n");
    senv.dir->write("wfsync.yaml", stext);
    auto s1 = senv.run({"sync", "--rule", "soc-backup"});
    BOOST_TEST_REQUIRE(s1.code == 0, describe(s1));
    auto slist = archived_versions(senv.run({"archive", "list", "--json"}).out);
    BOOST_TEST(slist.size() == 3u);
    auto s2 = senv.run({"sync", "--rule", "soc-backup"});
    BOOST_TEST(s2.out.find("0 imported, 3 unchanged") != std::string::npos, s2.out);
}
