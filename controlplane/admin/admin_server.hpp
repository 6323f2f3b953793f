#pragma once
/// The local admin endpoint: a Unix stream socket where idpathctl sends one command line and
/// reads one reply. Local only by design (file permissions guard it, mode 0660); nothing here is
/// reachable from the network.
///
/// One client at a time, bounded request size and time, so a stuck client cannot hold the
/// daemon: the next connection waits at most the timeout.

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
    AdminServer(std::string path, Handler handler);
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
    int listen_fd_ = -1;
    int wake_fd_ = -1;
    std::atomic<bool> stopping_{false};
    std::thread thread_;
};

/// Client side, for idpathctl and tests: sends `command`, returns the whole reply.
Result<std::string, std::string> admin_request(const std::string& path, std::string_view command,
                                               int timeout_ms = 5000);

} // namespace idpath::admin
