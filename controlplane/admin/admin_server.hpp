#pragma once
/// The local admin endpoint: a Unix stream socket where idpathctl sends one command line and
/// reads one reply. Local only by design (file permissions guard it, mode 0660); nothing here is
/// reachable from the network.
///
/// One client at a time, bounded request size and time, so a stuck client cannot hold the
/// daemon: reading the command and writing the reply each have `io_timeout_ms` (5 s). Running
/// the command does not count against it: a reload of millions of identifiers or a snapshot
/// of gigabytes takes as long as it takes, and its client (idpathctl) waits that long for the
/// reply. Meanwhile the next connection waits in the listen backlog.

#include <atomic>
#include <functional>
#include <string>
#include <string_view>
#include <thread>

#include "dataplane/base/result.hpp"

namespace idpath::admin {

/// Maps a command line ("stats", "lookup 88.100.1/abc") to a reply. The first line of a reply
/// is "ok" or "error: <reason>"; the rest is the payload.
using Handler = std::function<std::string(std::string_view command)>;

class AdminServer {
public:
    static constexpr int kIoTimeoutMs = 5000;

    AdminServer(std::string path, Handler handler, int io_timeout_ms = kIoTimeoutMs);
    ~AdminServer();
    AdminServer(const AdminServer&) = delete;
    AdminServer& operator=(const AdminServer&) = delete;

    /// Creates the socket (and its directory), replacing a stale socket file no daemon answers
    /// on; refuses to replace one that a live daemon still serves.
    Result<bool, std::string> start();
    void stop();

private:
    void run();
    void serve_one(int fd);

    std::string path_;
    Handler handler_;
    int io_timeout_ms_;
    int listen_fd_ = -1;
    int wake_fd_ = -1;
    std::atomic<bool> stopping_{false};
    std::thread thread_;
};

/// Client side, for idpathctl and tests: sends `command`, returns the whole reply, or an error
/// when the reply has not arrived `timeout_ms` after connecting.
Result<std::string, std::string> admin_request(const std::string& path, std::string_view command,
                                               int timeout_ms = AdminServer::kIoTimeoutMs);

/// How long a client should wait for `command`'s reply: commands that run long (reload,
/// snapshot ..., update ...) get kLongCommandTimeoutMs, the rest kIoTimeoutMs.
inline constexpr int kLongCommandTimeoutMs = 15 * 60 * 1000;
int default_timeout_ms(std::string_view command);

} // namespace idpath::admin
