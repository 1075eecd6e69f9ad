// SPDX-License-Identifier: Apache-2.0
// sync::normalize on a package built from the bytes for each format (byte 0 picks it); the
// files are the NUL-separated texts. Normalizing twice must give the same hash.
#include "fuzz_input.hpp"

#include <cstdlib>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    auto [pick, body] = wfsync::fuzz::split_pick(data, size, 5);
    wfsync::connector::package p;
    p.workflow_id = "w1";
    p.workflow_name = "Fuzz";
    p.version = "1";
    auto t = wfsync::fuzz::parts(body, 3);
    switch (pick) {
    case 0:
        p.format = "zuora-json";
        p.files = {{"workflow.json", std::string(t[0])}};
        if (!t[1].empty()) p.files["extra.json"] = std::string(t[1]);
        break;
    case 1:
        p.format = "kore-zip";
        p.files = {{"app_definition.json", std::string(t[0])},
                   {"flow_definition.json", std::string(t[1])},
                   {"env_variables.json", std::string(t[2])}};
        break;
    case 2:
        p.format = "secmaster-file";
        p.files = {{"w1.json", std::string(t[0])}};
        break;
    case 3:
        p.format = "secmaster-version";
        p.files = {{"taskflow.json", std::string(t[0])}, {"taskconfig.json", std::string(t[1])},
                   {"version.json", std::string(t[2])}};
        break;
    case 4:
        p.format = "other";
        p.files = {{"a.json", std::string(t[0])}, {"b.bin", std::string(t[1])}};
        break;
    }
    auto a = wfsync::sync::normalize(p);
    if (!a) return 0;
    auto b = wfsync::sync::normalize(p);
    if (!b || b->hash != a->hash) std::abort();  // deterministic
    return 0;
}
