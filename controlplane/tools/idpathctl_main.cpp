// idpathctl: talks to a running idpathd over its local admin socket (docs/operations.md).

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "controlplane/admin/admin_server.hpp"
#include "controlplane/mirror/file/log_cat.hpp"
#include "controlplane/mirror/file/verify.hpp"
#include "controlplane/snapshot/snapshot_describe.hpp"
#include "controlplane/tools/ctl_format.hpp"

namespace {

constexpr const char* kDefaultSocket = "/run/idpath/idpathd.sock";

void usage(std::FILE* out)
{
    std::fprintf(out,
                 "usage: idpathctl [-s SOCKET] [-t SECONDS] COMMAND [ARGS]\n"
                 "\n"
                 "commands:\n"
                 "  status            node, table and listener summary\n"
                 "  stats             counters of every serving thread and their totals (JSON)\n"
                 "  workers           the DPDK workers' counters per lcore, device and XDP program\n"
                 "  mirror            the log mirror: per source produced/lost/gaps, per sink sent,\n"
                 "                    spooled, replayed, dropped by reason, state and lag; probe\n"
                 "                    mode's captured/sampled_out/lost/written (JSON;\n"
                 "                    docs/log-mirror.md)\n"
                 "  lookup HANDLE     what the table holds for HANDLE (JSON)\n"
                 "  digest            the table's content digest, whole and in 64 key-hash buckets:\n"
                 "                    equal on two nodes that serve the same records (JSON)\n"
                 "  reload            re-read the config file and the identifier data; the old\n"
                 "                    table keeps serving if either is rejected\n"
                 "  update FILE       apply a JSON-lines file of changes to the serving table\n"
                 "                    (docs/data-format.md, \"Updates\")\n"
                 "  snapshot save [FILE]\n"
                 "                    write the serving table to FILE (default data.snapshot)\n"
                 "  snapshot info FILE [--shards] [--verify]\n"
                 "                    describe a snapshot file (read here, no daemon needed)\n"
                 "  sync status       a mirror's replication: upstream, state, last transaction,\n"
                 "                    failures and backoff, and the proof: its digest against the\n"
                 "                    upstream's at the same transaction (JSON; docs/replication.md)\n"
                 "  sync now          pull the upstream's transaction log now\n"
                 "  ping              check that the daemon answers\n"
                 "  logs verify DIR   check the hash chain of the file sink's files in DIR (read\n"
                 "                    here, no daemon needed): exit 0 intact, 1 tampered, missing\n"
                 "                    or truncated, with the first bad file and batch\n"
                 "  logs cat FILE...  print log files (binary or JSON, .zst or not) as JSON lines\n"
                 "\n"
                 "  -s, --socket PATH admin socket (default $IDPATH_ADMIN_SOCKET or %s)\n"
                 "  -t, --timeout SECONDS\n"
                 "                    how long to wait for the reply (default 5; reload, snapshot,\n"
                 "                    update and sync: 900, they run as long as the data takes)\n"
                 "\n"
                 "exit status: 0 ok, 1 the daemon reported an error, 2 usage, 3 daemon unreachable\n",
                 kDefaultSocket);
}

/// `snapshot info FILE [--shards] [--verify]`: the file's header (and shards) as JSON.
int snapshot_info(const std::vector<std::string>& words)
{
    idpath::snapshot::DescribeOptions options;
    for (std::size_t i = 3; i < words.size(); ++i) {
        if (words[i] == "--shards") {
            options.shards = true;
        } else if (words[i] == "--verify") {
            options.verify = true;
        } else {
            std::fprintf(stderr, "idpathctl: snapshot info: unknown option %s\n", words[i].c_str());
            return 2;
        }
    }
    const auto j = idpath::snapshot::describe_snapshot_file(words[2], options);
    if (!j) {
        std::fprintf(stderr, "idpathctl: %s\n", j.error().c_str());
        return 1;
    }
    std::printf("%s\n", j->dump(2).c_str());
    return options.verify && !j->value("verified", false) ? 1 : 0;
}

/// `logs verify DIR`: the report as text; exit 0 intact, 1 not.
int logs_verify(const std::string& dir)
{
    const auto r = idpath::mirror::verify_log_directory(dir);
    for (const auto& note : r.notes)
        std::printf("note: %s\n", note.c_str());
    if (!r.ok()) {
        std::printf("%s: %s, frame %llu: %s\n", idpath::mirror::status_name(r.status), r.file.c_str(),
                    static_cast<unsigned long long>(r.frame), r.problem.c_str());
        return 1;
    }
    std::printf("intact: %zu files, %llu batches\n", r.files, static_cast<unsigned long long>(r.batches));
    return 0;
}

/// `logs cat FILE...`: every file's records as JSON lines on stdout; 1 if any file is damaged.
int logs_cat(const std::vector<std::string>& words)
{
    int rc = 0;
    for (std::size_t i = 2; i < words.size(); ++i) {
        const auto done = idpath::mirror::cat_log_file(
            words[i], [](std::string_view s) { std::fwrite(s.data(), 1, s.size(), stdout); });
        if (!done) {
            std::fflush(stdout);
            std::fprintf(stderr, "idpathctl: %s\n", done.error().c_str());
            rc = 1;
        }
    }
    return rc;
}

} // namespace

int main(int argc, char** argv)
{
    std::string socket = std::getenv("IDPATH_ADMIN_SOCKET") ? std::getenv("IDPATH_ADMIN_SOCKET") : kDefaultSocket;
    std::vector<std::string> words;
    int timeout_ms = 0; // 0: by command
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
        if (a == "-t" || a == "--timeout") {
            char* end = nullptr;
            const double seconds = i + 1 < argc ? std::strtod(argv[i + 1], &end) : 0;
            if (i + 1 >= argc || end == argv[i + 1] || *end != '\0' || !(seconds > 0) || seconds > 86400) {
                std::fprintf(stderr, "idpathctl: %s needs a number of seconds, above 0 and at most 86400\n", a.c_str());
                return 2;
            }
            ++i;
            timeout_ms = static_cast<int>(std::ceil(seconds * 1000));
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
    if (words.size() >= 3 && words[0] == "snapshot" && words[1] == "info")
        return snapshot_info(words);
    if (!words.empty() && words[0] == "logs") {
        if (words.size() == 3 && words[1] == "verify")
            return logs_verify(words[2]);
        if (words.size() >= 3 && words[1] == "cat")
            return logs_cat(words);
        std::fprintf(stderr, "idpathctl: usage: logs verify DIR | logs cat FILE...\n");
        return 2;
    }
    // The daemon reads and writes files by path, from its own working directory.
    if ((words.size() == 2 && words[0] == "update") || (words.size() == 3 && words[0] == "snapshot"))
        words.back() = std::filesystem::absolute(words.back()).lexically_normal().string();
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

    // Loading or saving a large data set takes minutes; a status should not hang that long.
    if (timeout_ms == 0)
        timeout_ms = idpath::admin::default_timeout_ms(command);
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
