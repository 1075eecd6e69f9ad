// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <filesystem>
#include <string>

namespace wfsync::test {

/// PEM files for TLS tests, all inside the directory given to make_test_certs.
struct test_certs {
    std::string ca_file;              ///< the test CA's certificate: trust this
    std::string cert_file;            ///< server certificate signed by the CA (localhost, 127.0.0.1)
    std::string key_file;             ///< its private key
    std::string untrusted_cert_file;  ///< a self-signed certificate for the same names, not from the CA
    std::string untrusted_key_file;
};

/// Generates a fresh CA, a server certificate and an unrelated self-signed certificate
/// (EC P-256, valid from an hour ago for a day) and writes them as PEM into `dir`.
/// Throws std::runtime_error naming the step when OpenSSL fails.
test_certs make_test_certs(const std::filesystem::path& dir);

}  // namespace wfsync::test
