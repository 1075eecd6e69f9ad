// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <string>
#include <string_view>

// OpenSSL's digest context, kept out of this header.
struct evp_md_ctx_st;

namespace wfsync {

/// Lower-case hex SHA-256 of `data`.
std::string sha256_hex(std::string_view data);

/// Lower-case hex HMAC-SHA256 (RFC 2104) of `data` under `key` (webhook signatures).
std::string hmac_sha256_hex(std::string_view key, std::string_view data);

/// Incremental SHA-256: the digest of all `update`d pieces, equal to `sha256_hex` of them
/// concatenated, without building that string. Not copyable.
class sha256 {
public:
    sha256();
    ~sha256();
    sha256(const sha256&) = delete;
    sha256& operator=(const sha256&) = delete;

    void update(std::string_view data);
    /// Lower-case hex digest; call once, after the last `update`.
    std::string hex_digest();

private:
    evp_md_ctx_st* ctx_;
};

/// `n` random bytes as lower-case hex, from the OS's CSPRNG (run ids, track ids).
std::string random_hex(std::size_t n);

}  // namespace wfsync
