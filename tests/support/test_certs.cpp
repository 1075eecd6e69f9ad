// SPDX-License-Identifier: Apache-2.0
#include "test_certs.hpp"

#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <memory>
#include <stdexcept>

namespace wfsync::test {
namespace {

struct pkey_free {
    void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct x509_free {
    void operator()(X509* p) const { X509_free(p); }
};
using pkey_ptr = std::unique_ptr<EVP_PKEY, pkey_free>;
using x509_ptr = std::unique_ptr<X509, x509_free>;

[[noreturn]] void fail(const std::string& step)
{
    char buf[256] = "unknown error";
    if (auto e = ERR_get_error()) ERR_error_string_n(e, buf, sizeof buf);
    throw std::runtime_error("test certificates: " + step + ": " + buf);
}

pkey_ptr make_key()
{
    pkey_ptr key(EVP_EC_gen("P-256"));
    if (!key) fail("generate EC P-256 key");
    return key;
}

void add_ext(X509* cert, X509* issuer, int nid, const char* value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
    if (!ext) fail(std::string("build extension ") + OBJ_nid2sn(nid));
    X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
}

/// A certificate for `cn` with `key`, signed by `issuer_key` (self-signed when issuer is null).
x509_ptr make_cert(const char* cn, EVP_PKEY* key, X509* issuer, EVP_PKEY* issuer_key, bool ca, long serial)
{
    x509_ptr cert(X509_new());
    if (!cert) fail("X509_new");
    X509_set_version(cert.get(), 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial);
    X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
    X509_gmtime_adj(X509_getm_notAfter(cert.get()), 24 * 3600);
    X509_set_pubkey(cert.get(), key);
    X509_NAME* name = X509_get_subject_name(cert.get());
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("wfsync tests"), -1, -1, 0);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn), -1, -1, 0);
    X509* signer = issuer ? issuer : cert.get();
    X509_set_issuer_name(cert.get(), X509_get_subject_name(signer));
    if (ca) {
        add_ext(cert.get(), signer, NID_basic_constraints, "critical,CA:TRUE");
        add_ext(cert.get(), signer, NID_key_usage, "critical,keyCertSign,cRLSign");
    } else {
        add_ext(cert.get(), signer, NID_basic_constraints, "critical,CA:FALSE");
        add_ext(cert.get(), signer, NID_key_usage, "critical,digitalSignature");
        add_ext(cert.get(), signer, NID_ext_key_usage, "serverAuth");
        add_ext(cert.get(), signer, NID_subject_alt_name, "IP:127.0.0.1,DNS:localhost");
    }
    add_ext(cert.get(), signer, NID_subject_key_identifier, "hash");
    if (issuer) add_ext(cert.get(), signer, NID_authority_key_identifier, "keyid:always");
    if (!X509_sign(cert.get(), issuer_key ? issuer_key : key, EVP_sha256())) fail(std::string("sign ") + cn);
    return cert;
}

std::string write_cert(const std::filesystem::path& path, X509* cert)
{
    FILE* f = std::fopen(path.c_str(), "w");
    if (!f) throw std::runtime_error("test certificates: cannot write " + path.string());
    bool ok = PEM_write_X509(f, cert) == 1;
    std::fclose(f);
    if (!ok) fail("write " + path.string());
    return path.string();
}

std::string write_key(const std::filesystem::path& path, EVP_PKEY* key)
{
    FILE* f = std::fopen(path.c_str(), "w");
    if (!f) throw std::runtime_error("test certificates: cannot write " + path.string());
    bool ok = PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr) == 1;
    std::fclose(f);
    if (!ok) fail("write " + path.string());
    return path.string();
}

}  // namespace

test_certs make_test_certs(const std::filesystem::path& dir)
{
    std::filesystem::create_directories(dir);
    auto ca_key = make_key();
    auto ca = make_cert("wfsync test CA", ca_key.get(), nullptr, nullptr, true, 1);
    auto server_key = make_key();
    auto server = make_cert("localhost", server_key.get(), ca.get(), ca_key.get(), false, 2);
    auto other_key = make_key();
    auto other = make_cert("localhost", other_key.get(), nullptr, nullptr, false, 3);

    test_certs out;
    out.ca_file = write_cert(dir / "ca.pem", ca.get());
    out.cert_file = write_cert(dir / "server.pem", server.get());
    out.key_file = write_key(dir / "server.key", server_key.get());
    out.untrusted_cert_file = write_cert(dir / "untrusted.pem", other.get());
    out.untrusted_key_file = write_key(dir / "untrusted.key", other_key.get());
    return out;
}

}  // namespace wfsync::test
