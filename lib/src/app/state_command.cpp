// SPDX-License-Identifier: Apache-2.0
#include "state_command.hpp"

#include "output.hpp"

#include <wfsync/store/state_backup.hpp>
#include <wfsync/store/state_check.hpp>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <fmt/format.h>

#include <filesystem>
#include <ostream>

namespace wfsync::app {

namespace {

int run_check(const std::string& path, bool json, std::ostream& out, std::ostream& err)
{
    auto rep = store::check_integrity(path, 20);
    if (!rep) {
        err << "wfsync: " << rep.error().what() << '\n';
        return exit_code_for(rep.error());
    }
    if (json) {
        boost::json::array problems;
        for (const auto& line : rep->problems) problems.emplace_back(line);
        print_json(out, boost::json::object{{"path", path}, {"ok", rep->ok()}, {"problems", std::move(problems)},
                                            {"more", rep->more}});
    }
    if (rep->ok()) {
        if (!json) out << "ok\n";
        return exit_ok;
    }
    if (json) {
        err << "wfsync: state database " << path << " is damaged; " << store::restore_advice(path) << '\n';
        return exit_ioerr;
    }
    for (const auto& line : rep->problems) out << line << '\n';
    if (rep->more) out << "(more problems; only the first " << rep->problems.size() << " are shown)\n";
    err << "wfsync: state database " << path << " is damaged (PRAGMA integrity_check found the problems above); "
        << store::restore_advice(path) << '\n';
    return exit_ioerr;
}

int run_backup(const std::string& path, const command_line& cl, std::ostream& out, std::ostream& err)
{
    const auto& file = cl.positional.at(1);
    auto rep = store::backup_state(path, file, {.force = cl.force});
    if (!rep) {
        err << "wfsync: state backup: " << rep.error().what() << '\n';
        return exit_code_for(rep.error());
    }
    if (cl.json)
        print_json(out, boost::json::object{{"state", path}, {"file", file}, {"pages", rep->pages}, {"bytes", rep->bytes},
                                            {"integrity_check", "ok"}});
    else
        out << fmt::format("backup of {} written to {} ({} pages, {} bytes; integrity_check ok)\n", path, file,
                           rep->pages, rep->bytes);
    return exit_ok;
}

}  // namespace

int run_state(const config::config& cfg, const command_line& cl, std::ostream& out, std::ostream& err)
{
    const auto path = (std::filesystem::path(cfg.state.path) / "state.db").string();
    if (cl.positional.front() == "check") return run_check(path, cl.json, out, err);
    return run_backup(path, cl, out, err);
}

}  // namespace wfsync::app
