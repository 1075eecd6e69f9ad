// SPDX-License-Identifier: Apache-2.0
#pragma once

// Zuora export documents for the sync tests: one realistic workflow that can be written
// with any id space, in any task/linkage order, with or without tenant-local noise.

#include <wfsync/connector/model.hpp>

#include <boost/json.hpp>

#include <algorithm>
#include <random>
#include <string>

namespace wfsync::test {

inline connector::package zuora_package(std::string doc)
{
    connector::package p;
    p.format = "zuora-json";
    p.workflow_id = "286";
    p.workflow_name = "Dunning";
    p.version = "0.0.1";
    p.files["workflow.json"] = std::move(doc);
    return p;
}

struct export_options {
    int base = 100;             ///< first task id
    int workflow_id = 286;
    unsigned shuffle_seed = 0;  ///< 0: export order; else tasks and linkages shuffled
    bool tenant_noise = false;  ///< other status, timestamps, version, original_* values
};

/// "Dunning": Find invoices -> Check balance -> (True) Send reminder / (False) Wait,
/// and Find invoices -> (Failure) Log failure.
inline std::string sample_export(const export_options& o)
{
    namespace json = boost::json;
    const bool noise = o.tenant_noise;
    auto id = [&](int k) { return o.base + k * 7; };  // gaps, like real ids
    auto task = [&](int k, const char* name, const char* type, json::object params) {
        json::object t{{"id", id(k)},
                       {"name", name},
                       {"action_type", type},
                       {"parameters", std::move(params)},
                       {"css", json::object{{"left", std::to_string(100 * k) + "px"}, {"top", "40px"}}},
                       {"priority", "Medium"},
                       {"tags", json::array{""}},
                       {"original_task_id", noise ? json::value(id(k) + 1) : json::value(nullptr)},
                       {"original_workflow_id", noise ? json::value(12) : json::value(nullptr)},
                       {"status", noise ? json::value("Processing") : json::value(nullptr)},
                       {"task_id", nullptr}};
        if (noise) {
            t["created_at"] = "2025-01-0" + std::to_string(k) + "T10:00:00Z";
            t["updated_at"] = "2025-02-01T10:00:00Z";
        }
        return t;
    };
    json::array tasks{
        task(1, "Find invoices", "Query", {{"object", "Invoice"}, {"status", "Posted"}, {"fields", json::array{"Id", "Balance"}}}),
        task(2, "Check balance", "If", {{"condition", "a > 1"}}),
        task(3, "Send reminder", "Email", {{"subject", "Reminder"}, {"to", "{{Data.Account.email}}"}}),
        task(4, "Log failure", "Callout",
             {{"url", "https://log.example/in"},
              {"authorization", json::object{{"type", "basic"}, {"username", "wf"}, {"password", "hunter2"}}}}),
        task(5, "Wait", "Delay", {{"duration", "1d"}}),
    };
    auto link = [&](const char* type, int from, int to, int n) {
        json::object l{{"linkage_type", type},
                       {"source_task_id", from ? json::value(id(from)) : json::value(nullptr)},
                       {"source_workflow_id", o.workflow_id},
                       {"target_task_id", id(to)}};
        if (noise) l["id"] = 7000 + n;
        return l;
    };
    json::array links{link("Start", 0, 1, 1), link("Success", 1, 2, 2), link("True", 2, 3, 3),
                      link("False", 2, 5, 4), link("Failure", 1, 4, 5)};
    if (o.shuffle_seed) {
        std::mt19937 rng(o.shuffle_seed);
        std::shuffle(tasks.begin(), tasks.end(), rng);
        std::shuffle(links.begin(), links.end(), rng);
    }
    json::object wf{{"id", o.workflow_id},
                    {"name", "Dunning"},
                    {"description", "Remind customers"},
                    {"type", "Workflow::Setup"},
                    {"ondemand_trigger", true},
                    {"callout_trigger", false},
                    {"scheduled_trigger", false},
                    {"css", json::object{{"left", "30px"}, {"top", "40px"}}},
                    {"status", noise ? json::value("Active") : json::value(nullptr)},
                    {"version", noise ? "0.0.7" : "0.0.1"},
                    {"original_workflow_id", nullptr},
                    {"started_at", noise ? json::value("2025-03-01T00:00:00Z") : json::value(nullptr)},
                    {"finished_at", nullptr}};
    if (noise) {
        wf["createdAt"] = "2024-12-01T00:00:00Z";
        wf["updatedAt"] = "2025-03-01T00:00:00Z";
        wf["active_version"] = json::object{{"id", 99}, {"version", "0.0.7"}};
    }
    return json::serialize(json::object{{"linkages", links}, {"tasks", tasks}, {"workflow", wf}});
}

}  // namespace wfsync::test
