// idpathctl: talks to a running idpathd over its local admin socket (docs/operations.md).

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "controlplane/admin/admin_server.hpp"
#include "controlplane/tools/ctl_format.hpp"

namespace {

constexpr const char* kDefaultSocket = "/run/idpath/idpathd.sock";

void usage(std::FILE* out)
{
    std::fprintf(out,
                 "usage: idpathctl [-s SOCKET] COMMAND [ARGS]\n"
                 "\n"
                 "commands:\n"
                 "  status            node, table and listener summary\n"
                 "  stats             counters of every serving thread and their totals (JSON)\n"
                 "  workers           the DPDK workers' counters per lcore, device and XDP program\n"
                 "  lookup HANDLE     what the table holds for HANDLE (JSON)\n"
                 "  reload            re-read the config file and the identifier data; the old\n"
                 "                    table keeps serving if either is rejected\n"
                 "  ping              check that the daemon answers\n"
                 "\n"
                 "  -s, --socket PATH admin socket (default $IDPATH_ADMIN_SOCKET or %s)\n"
                 "\n"
                 "exit status: 0 ok, 1 the daemon reported an error, 2 usage, 3 daemon unreachable\n",
                 kDefaultSocket);
}

} // namespace

int main(int argc, char** argv)
{
    std::string socket = std::getenv("IDPATH_ADMIN_SOCKET") ? std::getenv("IDPATH_ADMIN_SOCKET") : kDefaultSocket;
    std::vector<std::string> words;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "-h" || a == "--help") {
            usage(stdout);
            return 0;
        }
        if (a == "-s" || a == "--socket") {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "idpathctl: %s needs a path\n", a.c_str());
                return 2;
            }
            socket = argv[++i];
            continue;
        }
        if (!a.empty() && a[0] == '-' && words.empty()) {
            std::fprintf(stderr, "idpathctl: unknown option %s\n", a.c_str());
            usage(stderr);
            return 2;
        }
        words.push_back(a);
    }
    if (words.empty()) {
        usage(stderr);
        return 2;
    }
    // `workers` is a view of `stats`, formatted here so the daemon keeps one JSON shape.
    const bool workers_view = words.size() == 1 && words[0] == "workers";
    if (workers_view)
        words[0] = "stats";
    std::string command;
    for (const auto& w : words) {
        if (w.find_first_of("\r\n") != std::string::npos) {
            std::fprintf(stderr, "idpathctl: arguments cannot contain line breaks\n");
            return 2;
        }
        command += (command.empty() ? "" : " ") + w;
    }

    // Loading a large data set takes longer than the admin socket's usual 5 s.
    const int timeout_ms = words[0] == "reload" ? 600000 : 5000;
    const auto reply = idpath::admin::admin_request(socket, command, timeout_ms);
    if (!reply) {
        std::fprintf(stderr, "idpathctl: %s\n", reply.error().c_str());
        return 3;
    }
    const std::string& text = *reply;
    const auto nl = text.find('\n');
    const std::string status = text.substr(0, nl);
    const std::string body = nl == std::string::npos ? "" : text.substr(nl + 1);
    if (status != "ok") {
        std::fprintf(stderr, "idpathctl: %s\n", status.c_str());
        if (!body.empty())
            std::fputs(body.c_str(), stderr);
        return 1;
    }
    if (workers_view) {
        const auto j = nlohmann::json::parse(body, nullptr, false);
        if (j.is_discarded()) {
            std::fprintf(stderr, "idpathctl: the daemon's stats are not JSON\n");
            return 1;
        }
        std::fputs(idpath::tools::format_workers(j).c_str(), stdout);
        return 0;
    }
    std::fputs(body.c_str(), stdout);
    return 0;
}
