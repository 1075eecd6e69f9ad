// SPDX-License-Identifier: Apache-2.0
// The end-to-end suites' seed, config and checks.
#pragma once

#include "harness.hpp"

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

namespace wfsync::test {

namespace json = boost::json;

inline const std::string sandbox_secret = "sbx-Secret-4f1c9e2a7b";
inline const std::string prod_secret = "prod-Secret-93a7d1c0e5";

inline json::object task(int id, const char* name, const char* type, json::object params)
{
    return json::object{{"id", id}, {"name", name}, {"action_type", type}, {"parameters", std::move(params)}};
}

inline json::object link(int from, int to, const char* type = "Success")
{
    return json::object{{"source_task_id", from}, {"target_task_id", to}, {"linkage_type", type}};
}

inline json::object version(const char* label, const char* status, json::array tasks, json::array links)
{
    return json::object{{"version", label}, {"status", status}, {"tasks", std::move(tasks)}, {"linkages", std::move(links)}};
}

inline json::array reminder_tasks(int base, const char* subject)
{
    return {task(base + 1, "Query overdue invoices", "Query", {{"query", "select Id from Invoice where Balance > 0"}}),
            task(base + 2, "Send reminder", "Email", {{"to", "{{Data.Invoice.BillToContact}}"}, {"subject", subject}})};
}

inline json::array reminder_links(int base)
{
    return {link(base + 1, base + 2)};
}

/// Sandbox: three workflows and a draft; prod: Billing Reminder at its first version, with
/// ids of its own.
inline std::string seed()
{
    json::array sandbox{
        json::object{{"id", 101},
                     {"name", "Billing Reminder"},
                     {"versions", json::array{version("0.0.1", "Inactive", reminder_tasks(1000, "Your invoice"), reminder_links(1000)),
                                              version("0.0.2", "Active", reminder_tasks(1010, "Your invoice is overdue"), reminder_links(1010))}}},
        json::object{{"id", 102},
                     {"name", "Invoice Sync"},
                     {"versions", json::array{version("0.1.0", "Active",
                                                      {task(1101, "Fetch invoices", "Export", {{"object", "Invoice"}}),
                                                       task(1102, "Post to ERP", "Callout", {{"url", "https://erp.example/invoices"}})},
                                                      {link(1101, 1102)})}}},
        json::object{{"id", 103},
                     {"name", "Dunning Notice"},
                     {"versions", json::array{version("0.0.3", "Active",
                                                      {task(1201, "Check balance", "If", {{"condition", "Balance > 100"}}),
                                                       task(1202, "Notify", "Email", {{"subject", "Final notice"}})},
                                                      {link(1201, 1202, "True")})}}},
        json::object{{"id", 104},
                     {"name", "Usage Upload (draft)"},
                     {"versions", json::array{version("0.0.1", "Active", {task(1301, "Upload", "Callout", {{"url", "x"}})}, {})}}}};
    json::array prod{json::object{
        {"id", 501},
        {"name", "Billing Reminder"},
        {"versions", json::array{version("0.0.1", "Active", reminder_tasks(7000, "Your invoice"), reminder_links(7000))}}}};
    json::object s{{"tenants",
                    json::object{{"sandbox", json::object{{"platform", "zuora"},
                                                         {"client_id", "sbx-client"},
                                                         {"client_secret", sandbox_secret},
                                                         {"token_ttl_seconds", 3600},
                                                         {"page_length_max", 2},
                                                         {"workflows", std::move(sandbox)}}},
                                 {"prod", json::object{{"platform", "zuora"},
                                                      {"client_id", "prod-client"},
                                                      {"client_secret", prod_secret},
                                                      {"token_ttl_seconds", 3600},
                                                      {"workflows", std::move(prod)}}}}}};
    return json::serialize(s);
}

struct config_options {
    std::string on_drift = "skip";
    std::string ca_file;
    std::string log_level = "debug";
    int max_attempts = 5;
    std::string schedule;      ///< the rule's schedule; empty = none
    std::string admin_listen;  ///< admin.listen; empty = the default
    std::string extra_rules;   ///< YAML appended under rules:
    std::string extra_tenants; ///< YAML appended under tenants:
    std::string log_format = "text";
    std::string sandbox_secret_file;  ///< sandbox's client_secret_file; empty = client_secret_env
};

/// The text of a wfsync config pointing at the emulator; secrets come from the environment.
inline std::string config_text(const std::string& state_dir, const std::string& base_url, const config_options& o = {})
{
    std::string tls = o.ca_file.empty() ? "" : "    tls: {ca_file: " + o.ca_file + "}\n";
    std::string text =
        "state: {path: " + state_dir + "}\n"
        "log: {level: " + o.log_level + ", format: " + o.log_format + "}\n" +
        (o.admin_listen.empty() ? "" : "admin: {listen: \"" + o.admin_listen + "\"}\n") +
        "defaults:\n"
        "  timeout: 5s\n"
        "  retry: {max_attempts: " + std::to_string(o.max_attempts) + ", initial_backoff: 5ms, max_backoff: 50ms}\n"
        "tenants:\n"
        "  sandbox:\n"
        "    platform: zuora\n"
        "    base_url: " + base_url + "/t/sandbox\n"
        "    auth: {type: oauth2, client_id: sbx-client, " +
        (o.sandbox_secret_file.empty() ? "client_secret_env: WFSYNC_TEST_SBX_SECRET"
                                       : "client_secret_file: " + o.sandbox_secret_file) + "}\n" + tls +
        "  prod:\n"
        "    platform: zuora\n"
        "    base_url: " + base_url + "/t/prod\n"
        "    auth: {type: oauth2, client_id: prod-client, client_secret_env: WFSYNC_TEST_PROD_SECRET}\n" + tls +
        o.extra_tenants +
        "rules:\n"
        "  - name: promote\n"
        "    source: sandbox\n"
        "    targets: [prod]\n"
        "    select: {exclude: [\"* (draft)\"]}\n"
        "    version: latest\n"
        "    create_missing: true\n"
        "    on_drift: " + o.on_drift + "\n" +
        (o.schedule.empty() ? "" : "    schedule: \"" + o.schedule + "\"\n") + o.extra_rules;
    return text;
}

inline wfsync_env make_env(const std::string& base_url, const config_options& o = {})
{
    wfsync_env e;
    e.config_file = e.dir->write("wfsync.yaml", config_text(e.dir->file("state"), base_url, o));
    e.env = {{"WFSYNC_TEST_SBX_SECRET", sandbox_secret}, {"WFSYNC_TEST_PROD_SECRET", prod_secret}};
    return e;
}

inline std::size_t imports(emulator_thread& emu)
{
    return emu.find("prod", "import", "POST").size();
}

inline json::object edited_reminder(const char* subject)
{
    return json::object{{"workflow", json::object{{"name", "Billing Reminder"}}},
                        {"tasks", reminder_tasks(4000, subject)},
                        {"linkages", reminder_links(4000)}};
}

/// The versions of every archive in `wfsync archive list --json`'s output, in one list.
inline json::array archived_versions(const std::string& list_output)
{
    json::array all;
    auto doc = json::parse(list_output);
    for (const auto& a : doc.at("archives").as_array())
        for (const auto& v : a.at("versions").as_array()) all.push_back(v);
    return all;
}

inline std::string describe(const run_output& r)
{
    return "exit " + std::to_string(r.code) + "\nstdout:\n" + r.out + "\nstderr:\n" + r.err;
}

/// Every target workflow holds what the first sync should have put there, once.
inline void expect_replicated_once(emulator_thread& emu)
{
    auto prod = emu.versions("prod");
    BOOST_TEST(prod.size() == 3u);
    BOOST_TEST((prod["Billing Reminder"] == std::vector<std::string>{"0.0.1", "0.0.2"}));
    BOOST_TEST((prod["Invoice Sync"] == std::vector<std::string>{"0.1.0"}));
    BOOST_TEST((prod["Dunning Notice"] == std::vector<std::string>{"0.0.3"}));
    BOOST_TEST(prod.count("Usage Upload (draft)") == 0u);
}

}  // namespace wfsync::test
