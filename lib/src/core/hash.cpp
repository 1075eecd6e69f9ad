// SPDX-License-Identifier: Apache-2.0
#include <wfsync/core/hash.hpp>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <stdexcept>
#include <vector>

namespace wfsync {
namespace {

std::string to_hex(const unsigned char* p, std::size_t n)
{
    static constexpr char digits[] = "0123456789abcdef";
    std::string out(n * 2, '0');
    for (std::size_t i = 0; i < n; ++i) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 0xf];
    }
    return out;
}

}  // namespace

std::string sha256_hex(std::string_view data)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr) != 1)
        throw std::runtime_error("EVP_Digest(sha256) failed");
    return to_hex(md, len);
}

std::string hmac_sha256_hex(std::string_view key, std::string_view data)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (!HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
              reinterpret_cast<const unsigned char*>(data.data()), data.size(), md, &len))
        throw std::runtime_error("HMAC(sha256) failed");
    return to_hex(md, len);
}

sha256::sha256() : ctx_(EVP_MD_CTX_new())
{
    if (!ctx_ || EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr) != 1) {
        EVP_MD_CTX_free(ctx_);
        throw std::runtime_error("EVP_DigestInit_ex(sha256) failed");
    }
}

sha256::~sha256() { EVP_MD_CTX_free(ctx_); }

void sha256::update(std::string_view data)
{
    if (EVP_DigestUpdate(ctx_, data.data(), data.size()) != 1) throw std::runtime_error("EVP_DigestUpdate failed");
}

std::string sha256::hex_digest()
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (EVP_DigestFinal_ex(ctx_, md, &len) != 1) throw std::runtime_error("EVP_DigestFinal_ex(sha256) failed");
    return to_hex(md, len);
}

std::string random_hex(std::size_t n)
{
    std::vector<unsigned char> buf(n);
    if (RAND_bytes(buf.data(), static_cast<int>(n)) != 1) throw std::runtime_error("RAND_bytes failed");
    return to_hex(buf.data(), n);
}

}  // namespace wfsync
