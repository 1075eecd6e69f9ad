// SPDX-License-Identifier: Apache-2.0
#include "resolve_command.hpp"

#include <wfsync/core/hash.hpp>
#include <wfsync/core/log.hpp>
#include <wfsync/store/store.hpp>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <ctime>
#include <ostream>

namespace wfsync::app {

namespace {

boost::json::object intent_json(const store::import_intent& i)
{
    return boost::json::object{{"intent", i.id},
                               {"rule", i.rule},
                               {"source_tenant", i.source_tenant},
                               {"source_workflow", i.source_workflow},
                               {"source_version", i.source_version},
                               {"target_tenant", i.target_tenant},
                               {"target_workflow", i.target_workflow},
                               {"target_version", i.target_version},
                               {"state", std::string(to_string(i.state))},
                               {"check", log::redact(i.hold)}};
}

int list_held(store::store& st, const command_line& cl, std::ostream& out, std::ostream& err)
{
    auto held = st.held_intents();
    if (!held) {
        err << "wfsync: " << held.error().what() << '\n';
        return exit_code_for(held.error());
    }
    if (cl.json) {
        boost::json::array a;
        for (const auto& i : *held) a.push_back(intent_json(i));
        out << boost::json::serialize(boost::json::object{{"held", std::move(a)}}) << '\n';
        return exit_ok;
    }
    if (held->empty()) {
        out << "no imports are held\n";
        return exit_ok;
    }
    out << held->size() << " import" << (held->size() == 1 ? " is" : "s are")
        << " held until you say whether it happened:\n";
    for (const auto& i : *held) {
        out << fmt::format("  intent {}: rule {}, workflow {} ({} version {}) -> {}{}\n", i.id, i.rule,
                           i.source_workflow, i.source_tenant, i.source_version, i.target_tenant,
                           i.target_workflow.empty() ? " (a new workflow)" : "/" + i.target_workflow);
        out << "    " << log::redact(i.hold) << '\n';
    }
    out << "settle each with: wfsync resolve --intent N --imported [--target-workflow ID] | --not-imported\n";
    return exit_ok;
}

/// Records an operator's word in the history as a run of its own.
void record(store::store& st, const store::import_intent& i, const std::string& kind, const std::string& message)
{
    auto uid = "resolve-" + random_hex(6);
    auto run = st.begin_run(uid, i.rule, "resolve");
    if (!run) return log::warn("cannot record the resolution: {}", run.error().what());
    store::event_row e;
    e.run = run->id;
    e.run_uid = uid;
    e.at = std::time(nullptr);
    e.rule = i.rule;
    e.kind = kind;
    e.source_tenant = i.source_tenant;
    e.source_workflow = i.source_workflow;
    e.target_tenant = i.target_tenant;
    e.target_workflow = i.target_workflow;
    e.version = i.target_version;
    e.content_hash = i.content_hash;
    e.message = message;
    (void)st.add_event(e);
    store::run_row done = *run;
    done.outcome = "ok";
    (void)st.finish_run(done);
}

}  // namespace

int run_resolve(store::store& st, const command_line& cl, std::ostream& out, std::ostream& err)
{
    if (cl.intent == 0) return list_held(st, cl, out, err);

    auto got = st.get_intent(cl.intent);
    if (!got) {
        err << "wfsync: " << got.error().what() << '\n';
        return exit_code_for(got.error());
    }
    if (!*got) {
        err << "wfsync: no import intent " << cl.intent << " (wfsync resolve lists the held ones)\n";
        return exit_partial;
    }
    auto i = **got;
    if (i.state != store::intent_state::pending && i.state != store::intent_state::unknown) {
        err << "wfsync: import intent " << i.id << " is already settled (" << to_string(i.state) << ": "
            << log::redact(i.detail) << ")\n";
        return exit_partial;
    }

    if (cl.resolution == "not-imported") {
        const std::string why = "resolved by an operator: not imported; the next run sends it again";
        if (auto r = st.set_intent_state(i.id, store::intent_state::failed, why); !r) {
            err << "wfsync: " << r.error().what() << '\n';
            return exit_code_for(r.error());
        }
        record(st, i, "resolve", why);
        if (cl.json)
            out << boost::json::serialize(boost::json::object{{"intent", i.id}, {"resolution", "not-imported"},
                                                              {"rule", i.rule}})
                << '\n';
        else
            out << "intent " << i.id << ": not imported; the next run of rule " << i.rule << " imports it again\n";
        return exit_ok;
    }

    // Imported: the target workflow it went to is needed for a new one (the platform could not say).
    std::string target_workflow = !cl.target_workflow.empty() ? cl.target_workflow : i.target_workflow;
    if (target_workflow.empty()) {
        err << "wfsync: intent " << i.id << " created a new workflow in " << i.target_tenant
            << "; give its id with --target-workflow ID\n";
        return exit_usage;
    }
    if (!i.target_workflow.empty() && !cl.target_workflow.empty() && cl.target_workflow != i.target_workflow) {
        err << "wfsync: intent " << i.id << " imported into workflow " << i.target_workflow << ", not "
            << cl.target_workflow << "\n";
        return exit_usage;
    }
    std::string name;
    if (auto w = st.find_workflow(i.source_tenant, i.source_workflow); w && *w) name = (*w)->name;
    // The platform may have labelled it otherwise than planned (SecMaster gives its own labels).
    const std::string version = !cl.target_version.empty() ? cl.target_version : i.target_version;
    const std::string why = "resolved by an operator: imported into " + target_workflow + " as version " + version;
    // The record of where it went first, the intent last: a crash in between leaves the intent
    // open, and resolving it again is safe.
    auto done = [&]() -> result<void> {
        if (auto r = st.put_mapping({i.source_tenant, i.source_workflow, i.target_tenant, target_workflow, name}); !r)
            return r;
        store::version_mapping vm;
        vm.source_tenant = i.source_tenant;
        vm.source_workflow = i.source_workflow;
        vm.source_version = i.source_version;
        vm.content_hash = i.content_hash;
        vm.target_tenant = i.target_tenant;
        vm.target_workflow = target_workflow;
        vm.target_version = version;
        // The target's fingerprint is taken by the next run, from the version it holds.
        if (auto r = st.add_version_mapping(vm); !r) return r;
        return st.set_intent_state(i.id, store::intent_state::succeeded, why, target_workflow);
    }();
    if (!done) {
        err << "wfsync: " << done.error().what() << '\n';
        return exit_code_for(done.error());
    }
    record(st, i, "resolve", why);
    if (cl.json)
        out << boost::json::serialize(boost::json::object{{"intent", i.id},
                                                          {"resolution", "imported"},
                                                          {"rule", i.rule},
                                                          {"target_tenant", i.target_tenant},
                                                          {"target_workflow", target_workflow},
                                                          {"target_version", version}})
            << '\n';
    else
        out << "intent " << i.id << ": imported into " << i.target_tenant << "/" << target_workflow
            << "; it is not sent again\n";
    return exit_ok;
}

}  // namespace wfsync::app
