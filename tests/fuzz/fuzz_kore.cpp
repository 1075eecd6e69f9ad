// SPDX-License-Identifier: Apache-2.0
// Kore.ai's JSON mapping on any response body (byte 0 picks the parser); the package built
// from three member texts (NUL-separated) and its normalization.
#include "fuzz_input.hpp"
#include "kore/kore_mapping.hpp"

#include <map>
#include <string>

namespace k = wfsync::connector::kore;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    auto [pick, body] = wfsync::fuzz::split_pick(data, size, 8);
    wfsync::connector::workflow_summary wf{.id = "a-1234", .name = "Onboarding"};
    switch (pick) {
    case 0: (void)k::parse_job(body, true, "export"); break;
    case 1: (void)k::parse_job(body, false, "status"); break;
    case 2: (void)k::parse_export_start(body, "export"); break;
    case 3: (void)k::parse_upload(body, "upload"); break;
    case 4: (void)k::parse_import_start(body, "a-1234", "import"); break;
    case 5: {
        auto p = wfsync::fuzz::parts(body, 2);
        (void)k::resolve_download_url(p[0], p[1], "download");
        (void)k::same_origin(p[0], p[1]);
        (void)k::expand_path(p[0], p[1]);
        break;
    }
    case 6: {
        auto p = wfsync::fuzz::parts(body, 3);
        std::map<std::string, std::string> files{{"app_definition.json", std::string(p[0])},
                                                 {"flow_definition.json", std::string(p[1])},
                                                 {"env_variables.json", std::string(p[2])}};
        if (auto pkg = k::package_from_files(files, wf, "export")) wfsync::fuzz::normalize_too(*pkg);
        break;
    }
    case 7: (void)k::status_error("export", 500, body); break;
    }
    return 0;
}
