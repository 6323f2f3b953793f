// idpathd: the idpath resolver daemon (docs/operations.md).

#include <csignal>
#include <cstdio>
#include <string>

#include "controlplane/app/daemon.hpp"
#include "controlplane/app/table_source.hpp"
#include "controlplane/config/config.hpp"
#include "controlplane/log/log.hpp"

namespace {

void usage(std::FILE* out)
{
    std::fprintf(out,
                 "usage: idpathd --config FILE [--admin-socket PATH]\n"
                 "                          serve as FILE says until SIGTERM or SIGINT; SIGHUP reloads FILE and its\n"
                 "                          data; PATH overrides admin.socket\n"
                 "       idpathd --check-config FILE\n"
                 "                          validate FILE and the data files it names; exit 0 if valid\n"
                 "       idpathd --write-snapshot OUT --config FILE\n"
                 "                          load FILE's identifier files and write the table to the\n"
                 "                          snapshot file OUT (for data.snapshot), then exit\n"
                 "       idpathd --describe-config\n"
                 "                          print every configuration key as a Markdown table\n"
                 "       idpathd --version\n");
}

int check_config(const std::string& path)
{
    const auto cfg = idpath::config::load_config_file(path);
    if (!cfg) {
        for (const auto& e : cfg.error())
            std::fprintf(stderr, "%s\n", e.to_string().c_str());
        std::fprintf(stderr, "%s: %zu error(s)\n", path.c_str(), cfg.error().size());
        return 1;
    }
    std::printf("%s: configuration is valid\n", path.c_str());
    return 0;
}

int serve(const std::string& path, const std::string& admin_socket)
{
    // Block the stop and reload signals before any thread exists so every thread inherits the mask and
    // only sigwait() below sees them.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

    auto cfg = idpath::config::load_config_file(path);
    if (!cfg) {
        for (const auto& e : cfg.error())
            idpath::log::error(e.to_string());
        idpath::log::error(path, ": configuration rejected, not starting");
        return 1;
    }
    idpath::app::Daemon daemon(std::move(cfg).value(), admin_socket);
    if (const auto started = daemon.start(); !started) {
        idpath::log::error(started.error());
        return 1;
    }
    for (;;) {
        int sig = 0;
        sigwait(&stop_signals, &sig);
        if (sig == SIGHUP) {
            idpath::log::info("SIGHUP: reloading ", path);
            (void)daemon.reload(); // logs the outcome; a refused reload keeps the old table
            continue;
        }
        idpath::log::info("signal ", sig, ": stopping");
        break;
    }
    daemon.stop();
    idpath::log::info("stopped");
    return 0;
}

int write_snapshot(const std::string& out, const std::string& path)
{
    auto cfg = idpath::config::load_config_file(path);
    if (!cfg) {
        for (const auto& e : cfg.error())
            std::fprintf(stderr, "%s\n", e.to_string().c_str());
        return 1;
    }
    const auto written = idpath::app::write_snapshot_from_files(*cfg, out);
    if (!written) {
        std::fprintf(stderr, "idpathd: %s\n", written.error().c_str());
        return 1;
    }
    std::printf("%s\n", written->c_str());
    return 0;
}

} // namespace

int main(int argc, char** argv)
{
    const std::string a1 = argc > 1 ? argv[1] : "";
    if (argc == 2 && (a1 == "-h" || a1 == "--help")) {
        usage(stdout);
        return 0;
    }
    if (argc == 2 && a1 == "--version") {
        std::printf("idpathd %s (Handle protocol %d.%d)\n", IDPATH_VERSION, 2, 11);
        return 0;
    }
    if (argc == 2 && a1 == "--describe-config") {
        std::fputs(idpath::config::describe_schema().c_str(), stdout);
        return 0;
    }
    if (argc == 3 && a1 == "--check-config")
        return check_config(argv[2]);
    if (argc == 3 && a1 == "--config")
        return serve(argv[2], "");
    if (argc == 5 && a1 == "--write-snapshot" && std::string(argv[3]) == "--config")
        return write_snapshot(argv[2], argv[4]);
    if (argc == 5 && a1 == "--config" && std::string(argv[3]) == "--admin-socket")
        return serve(argv[2], argv[4]);
    usage(stderr);
    return 2;
}
