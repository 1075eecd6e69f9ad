// SPDX-License-Identifier: Apache-2.0
// wfsync-emulator: serves fake Zuora, Kore.ai and SecMaster tenants from a seed file until SIGTERM/SIGINT.
#include "emulator.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/json/parse.hpp>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

namespace {

constexpr const char* usage =
    "usage: wfsync-emulator --seed FILE [--listen HOST:PORT] [--cert FILE --key FILE] [--port-file FILE]\n"
    "  --seed FILE       tenants and workflows to serve (JSON)\n"
    "  --listen H:P      address to listen on (default 127.0.0.1:0 = any free port)\n"
    "  --cert/--key      PEM certificate and key: serve HTTPS\n"
    "  --port-file FILE  write the bound port to FILE once listening\n";

int usage_error(const std::string& message)
{
    std::cerr << "wfsync-emulator: " << message << "\n" << usage;
    return 2;
}

/// "3 tenants: sandbox (zuora, 4 workflows), prod (zuora, 1 workflow), ..." in the seed's order,
/// so that what scripts/demo says it runs is what the seed holds. The seed is valid here.
std::string seed_summary(const std::string& seed)
{
    const boost::json::value doc = boost::json::parse(seed);
    const auto& tenants = doc.as_object().at("tenants").as_object();
    std::string out = std::to_string(tenants.size()) + (tenants.size() == 1 ? " tenant" : " tenants");
    const char* sep = ": ";
    for (const auto& [name, v] : tenants) {
        const auto& t = v.as_object();
        std::size_t n = 0;
        if (auto* w = t.if_contains("workflows"); w && w->is_array()) n = w->as_array().size();
        out += sep + std::string(name) + " (" + std::string(t.at("platform").as_string()) + ", " + std::to_string(n) +
               (n == 1 ? " workflow)" : " workflows)");
        sep = ", ";
    }
    return out;
}

}  // namespace

int main(int argc, char** argv)
{
    std::string seed_file, port_file;
    wfsync::emulator::options opts;
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        if (arg == "--help" || arg == "-h") {
            std::cout << usage;
            return 0;
        }
        std::string* target = arg == "--seed"        ? &seed_file
                              : arg == "--listen"    ? &opts.listen
                              : arg == "--cert"      ? &opts.cert_file
                              : arg == "--key"       ? &opts.key_file
                              : arg == "--port-file" ? &port_file
                                                     : nullptr;
        if (!target) return usage_error("unknown argument '" + arg + "'");
        if (i + 1 >= argc || argv[i + 1][0] == '\0') return usage_error(arg + " needs a value");
        *target = argv[++i];
    }
    if (seed_file.empty()) return usage_error("--seed FILE is required");
    if (opts.cert_file.empty() != opts.key_file.empty())
        return usage_error("--cert and --key must be given together");

    std::ifstream in(seed_file, std::ios::binary);
    if (!in) {
        std::cerr << "wfsync-emulator: cannot read seed file " << seed_file << ": " << std::strerror(errno) << "\n";
        return 1;
    }
    std::stringstream text;
    text << in.rdbuf();

    boost::asio::io_context ioc;
    wfsync::emulator::emulator emu(ioc.get_executor(), opts);
    if (auto r = emu.load_seed(text.str()); !r) {
        std::cerr << "wfsync-emulator: seed file " << seed_file << ": " << r.error().message << "\n";
        return 1;
    }
    if (auto r = emu.start(); !r) {
        std::cerr << "wfsync-emulator: " << r.error().message << "\n";
        return 1;
    }
    auto url = emu.base_url();
    std::cout << "wfsync-emulator listening on " << url << std::endl;  // flushed: tests wait for it
    std::cout << "wfsync-emulator serving " << seed_summary(text.str()) << std::endl;  // before the port file

    if (!port_file.empty()) {
        // Written whole under a temporary name, then renamed: a poller never sees half a number.
        auto port = url.substr(url.rfind(':') + 1);
        auto tmp = port_file + ".tmp";
        {
            std::ofstream out(tmp, std::ios::trunc);
            out << port << "\n";
            if (!out) {
                std::cerr << "wfsync-emulator: cannot write port file " << tmp << "\n";
                return 1;
            }
        }
        std::error_code ec;
        std::filesystem::rename(tmp, port_file, ec);
        if (ec) {
            std::cerr << "wfsync-emulator: cannot write port file " << port_file << ": " << ec.message() << "\n";
            return 1;
        }
    }

    boost::asio::signal_set signals(ioc, SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code& ec, int) {
        if (ec) return;
        emu.stop();
        ioc.stop();
    });
    ioc.run();
    return 0;
}
