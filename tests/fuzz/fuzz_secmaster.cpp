// SPDX-License-Identifier: Apache-2.0
// Huawei Cloud SecMaster's JSON mapping (and its IAM token) on any response body (byte 0
// picks the parser), and the normalization of the packages it accepts.
#include "fuzz_input.hpp"
#include "secmaster/secmaster_mapping.hpp"

#include <string>

namespace s = wfsync::connector::secmaster;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    auto [pick, body] = wfsync::fuzz::split_pick(data, size, 10);
    wfsync::connector::workflow_summary wf{.id = "6f1c2e4a-0000-4000-8000-000000000001", .name = "Alert triage",
                                           .active_version = "v2", .latest_version = "v3"};
    wfsync::connector::version_summary v{.id = "9a0b", .version = "v3", .status = "activated", .active = true};
    switch (pick) {
    case 0: (void)s::parse_workflow_page(body, "list"); break;
    case 1: (void)s::parse_versions(body, "versions"); break;
    case 2: {
        auto p = wfsync::fuzz::parts(body, 2);  // Content-Disposition, body
        std::string cd(p[0]);
        auto name = s::export_file_name(p[0].empty() ? nullptr : &cd, wf.id);
        if (auto pkg = s::make_export_package(p[1], name, wf, "v1", "export")) {
            wfsync::fuzz::normalize_too(*pkg);
            (void)s::import_file(*pkg, "Other name", "import");
        }
        break;
    }
    case 3:
        if (auto pkg = s::parse_version_detail(body, wf, v, "version")) wfsync::fuzz::normalize_too(*pkg);
        break;
    case 4: {
        auto p = wfsync::fuzz::parts(body, 2);  // X-Subject-Token, body
        std::string h(p[0]);
        (void)s::parse_token(p[0].empty() ? nullptr : &h, p[1], "token");
        break;
    }
    case 5: (void)s::parse_iso8601(body); break;
    case 6: (void)s::platform_message(body); break;
    case 7: (void)s::file_workflow_name(body); break;
    case 8: (void)s::check_import_answer(body, 200, "import"); break;
    case 9:
        if (auto j = s::parse_body(body, "body")) (void)s::is_failure_body(*j);
        break;
    }
    return 0;
}
