#pragma once
/// A real clickhouse-server (Debian 12's 18.16) started by a test as its child, in a temp
/// directory of its own: minimal config.xml and users.xml, free loopback ports, logs to files.
/// Every wait is bounded; the destructor kills the child and removes the directory.

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

namespace idpath::mirror::testing {

class ClickHouseServer {
public:
    /// The server binary, or empty when ClickHouse is not installed.
    static std::string binary();

    /// Makes the directory and configs; starts nothing. The HTTP user "idpath" has password
    /// "secret" besides the password-less "default".
    ClickHouseServer();
    ~ClickHouseServer();
    ClickHouseServer(const ClickHouseServer&) = delete;
    ClickHouseServer& operator=(const ClickHouseServer&) = delete;

    /// Starts the child and waits until it answers a query; "" on success, else why not (with
    /// the tail of its error log).
    std::string start(std::chrono::milliseconds timeout = std::chrono::seconds(60));
    /// Stops the child (SIGTERM, then SIGKILL after `grace`), waiting for it to exit.
    void stop(std::chrono::milliseconds grace = std::chrono::seconds(10));
    bool running() const noexcept { return pid_ > 0; }

    std::string url() const { return "http://127.0.0.1:" + std::to_string(http_port_) + "/"; }
    const std::filesystem::path& dir() const noexcept { return dir_; }

private:
    std::string log_tail() const;

    std::filesystem::path dir_;
    int http_port_ = 0;
    int tcp_port_ = 0;
    pid_t pid_ = -1;
};

/// The statements of an SQL script: `--` comments removed, split on ';' outside quotes, blanks
/// dropped. `names` gets each statement's `-- name: x` label (or "").
std::vector<std::string> sql_statements(const std::string& script, std::vector<std::string>* names = nullptr);

/// The whole text of a file ("" if unreadable).
std::string read_text(const std::filesystem::path& path);

} // namespace idpath::mirror::testing
