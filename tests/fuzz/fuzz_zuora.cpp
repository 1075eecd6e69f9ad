// SPDX-License-Identifier: Apache-2.0
// Zuora Workflow's JSON mapping on any response body (byte 0 picks the parser), and the
// normalization of the packages it accepts.
#include "fuzz_input.hpp"
#include "zuora/zuora_mapping.hpp"

namespace z = wfsync::connector::zuora;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    auto [pick, body] = wfsync::fuzz::split_pick(data, size, 7);
    wfsync::connector::workflow_summary wf{.id = "123", .name = "Billing", .active_version = "0.0.1",
                                           .latest_version = "0.0.2"};
    switch (pick) {
    case 0: (void)z::parse_workflow_page(body, "list"); break;
    case 1: (void)z::parse_versions(body, "versions"); break;
    case 2:
        if (auto p = z::parse_export(body, wf, "export")) {
            wfsync::fuzz::normalize_too(*p);
            (void)z::import_body(*p, "New name", "import");
            (void)z::import_body(*p, "", "import");
        }
        break;
    case 3: (void)z::parse_import_result(body, "123", "0.0.3", "import"); break;
    case 4: (void)z::parse_token(body, "token"); break;
    case 5: (void)z::platform_message(body); break;
    case 6:
        if (auto v = z::parse_body(body, "body")) (void)z::is_failure_body(*v);
        break;
    }
    return 0;
}
