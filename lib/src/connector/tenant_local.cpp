// SPDX-License-Identifier: Apache-2.0
#include <wfsync/connector/tenant_local.hpp>

#include "kore/kore_mapping.hpp"
#include "secmaster/secmaster_mapping.hpp"

namespace wfsync::connector {

const tenant_local_fields* tenant_local_fields_for(std::string_view format) noexcept
{
    if (format == "kore-zip") return &kore::tenant_local;
    if (format == "secmaster-file" || format == "secmaster-version") return &secmaster::tenant_local;
    return nullptr;
}

}  // namespace wfsync::connector
