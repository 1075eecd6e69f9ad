// SPDX-License-Identifier: Apache-2.0
// Version labels and idempotency keys: pure functions of their arguments.
#include <wfsync/sync/engine.hpp>

#include <wfsync/core/hash.hpp>

#include <algorithm>
#include <charconv>
#include <optional>
#include <string>
#include <vector>

namespace wfsync::sync {

std::string idempotency_key(const std::string& rule, const std::string& target_tenant,
                            const std::string& target_workflow, const std::string& content_hash,
                            const std::string& target_version, int generation)
{
    // Fields joined by NUL so that no two tuples can produce the same text.
    std::string material;
    for (const auto* part : {&rule, &target_tenant, &target_workflow, &content_hash, &target_version}) {
        material += *part;
        material += '\0';
    }
    material += std::to_string(generation);
    return "wfsync-" + sha256_hex(material).substr(0, 48);
}

namespace {

/// The numbers of a label: "0.0.3" -> {0,0,3}; "v12" and "V12" -> {12} (SecMaster's labels).
/// nullopt for a label that is not numbers ("deployed", Kore.ai's one readable version).
std::optional<std::vector<long long>> version_parts(std::string_view v)
{
    if (!v.empty() && (v.front() == 'v' || v.front() == 'V')) v.remove_prefix(1);
    if (v.empty()) return std::nullopt;
    std::vector<long long> parts;
    while (true) {
        auto dot = v.find('.');
        auto piece = v.substr(0, dot);
        long long n = 0;
        auto [p, ec] = std::from_chars(piece.data(), piece.data() + piece.size(), n);
        if (ec != std::errc{} || p != piece.data() + piece.size()) return std::nullopt;
        parts.push_back(n);
        if (dot == std::string_view::npos) break;
        v.remove_prefix(dot + 1);
    }
    return parts;
}

}  // namespace

int compare_versions(std::string_view a, std::string_view b) noexcept
{
    auto pa = version_parts(a);
    auto pb = version_parts(b);
    // Numbered labels sort above words (and the empty label); words sort by their text.
    if (!pa || !pb) {
        if (pa) return 1;
        if (pb) return -1;
        return a < b ? -1 : b < a ? 1 : 0;
    }
    auto n = std::max(pa->size(), pb->size());
    pa->resize(n, 0);
    pb->resize(n, 0);
    if (*pa < *pb) return -1;
    if (*pb < *pa) return 1;
    return 0;
}

std::string next_patch(std::string_view v)
{
    auto parts = version_parts(v);
    if (!parts) return "0.0.1";
    // "v7" -> "v8": a label keeps its platform's style.
    if (!v.empty() && (v.front() == 'v' || v.front() == 'V') && parts->size() == 1)
        return std::string(1, v.front()) + std::to_string(parts->front() + 1);
    while (parts->size() < 3) parts->push_back(0);
    parts->back() += 1;
    std::string out;
    for (std::size_t i = 0; i < parts->size(); ++i) {
        if (i) out += '.';
        out += std::to_string((*parts)[i]);
    }
    return out;
}

}  // namespace wfsync::sync
