#include "tests/unit/mirror/clickhouse/clickhouse_server.hpp"

#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "controlplane/mirror/clickhouse/http_client.hpp"

namespace idpath::mirror::testing {

namespace {

/// A port the kernel considers free on 127.0.0.1 now (bound then released; the server binds
/// it moments later).
int free_port()
{
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    int port = 0;
    if (fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0)
        port = ntohs(a.sin_port);
    if (fd >= 0)
        ::close(fd);
    return port;
}

void write_text(const std::filesystem::path& path, const std::string& text)
{
    std::ofstream(path) << text;
}

} // namespace

std::string read_text(const std::filesystem::path& path)
{
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

std::string ClickHouseServer::binary()
{
    for (const char* path : {"/usr/sbin/clickhouse-server", "/usr/bin/clickhouse-server"})
        if (::access(path, X_OK) == 0)
            return path;
    return {};
}

ClickHouseServer::ClickHouseServer()
{
    std::string tmpl = (std::filesystem::temp_directory_path() / "idpath-clickhouse-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr)
        return;
    dir_ = tmpl;
    http_port_ = free_port();
    tcp_port_ = free_port();
    const std::string d = dir_.string();
    // What 18.16 needs to start (its packaged config.xml, cut down): ports, paths, logger.
    write_text(dir_ / "config.xml", R"(<?xml version="1.0"?>
<yandex>
    <logger>
        <level>information</level>
        <log>)" + d + R"(/server.log</log>
        <errorlog>)" + d + R"(/server.err.log</errorlog>
        <size>10M</size>
        <count>1</count>
    </logger>
    <http_port>)" + std::to_string(http_port_) + R"(</http_port>
    <tcp_port>)" + std::to_string(tcp_port_) + R"(</tcp_port>
    <listen_host>127.0.0.1</listen_host>
    <max_connections>64</max_connections>
    <keep_alive_timeout>3</keep_alive_timeout>
    <max_concurrent_queries>16</max_concurrent_queries>
    <uncompressed_cache_size>67108864</uncompressed_cache_size>
    <mark_cache_size>67108864</mark_cache_size>
    <path>)" + d + R"(/data/</path>
    <tmp_path>)" + d + R"(/tmp/</tmp_path>
    <user_files_path>)" + d + R"(/user_files/</user_files_path>
    <format_schema_path>)" + d + R"(/format_schemas/</format_schema_path>
    <users_config>)" + d + R"(/users.xml</users_config>
    <default_profile>default</default_profile>
    <default_database>default</default_database>
    <timezone>UTC</timezone>
    <mlock_executable>false</mlock_executable>
</yandex>
)");
    write_text(dir_ / "users.xml", R"(<?xml version="1.0"?>
<yandex>
    <profiles><default><max_memory_usage>2000000000</max_memory_usage></default></profiles>
    <users>
        <default>
            <password></password>
            <networks><ip>127.0.0.1</ip></networks>
            <profile>default</profile>
            <quota>default</quota>
        </default>
        <idpath>
            <password>secret</password>
            <networks><ip>127.0.0.1</ip></networks>
            <profile>default</profile>
            <quota>default</quota>
        </idpath>
    </users>
    <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors>
        <result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time>
    </interval></default></quotas>
</yandex>
)");
}

ClickHouseServer::~ClickHouseServer()
{
    stop(std::chrono::seconds(5));
    if (!dir_.empty()) {
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }
}

std::string ClickHouseServer::start(std::chrono::milliseconds timeout)
{
    if (dir_.empty() || http_port_ == 0 || tcp_port_ == 0)
        return "no temp directory or free port";
    const std::string exe = binary();
    if (exe.empty())
        return "clickhouse-server not installed";
    const std::string config = "--config-file=" + (dir_ / "config.xml").string();
    const std::string out = (dir_ / "stdout.log").string();
    const pid_t pid = ::fork();
    if (pid < 0)
        return "fork failed";
    if (pid == 0) {
        ::prctl(PR_SET_PDEATHSIG, SIGKILL); // never outlive a crashed test
        const int fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            ::dup2(fd, 1);
            ::dup2(fd, 2);
        }
        ::execl(exe.c_str(), "clickhouse-server", config.c_str(), static_cast<char*>(nullptr));
        ::_exit(127);
    }
    pid_ = pid;
    auto http = clickhouse::HttpClient::make({url(), "", "", 1000});
    if (!http)
        return http.error();
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            return "clickhouse-server exited during start: " + log_tail();
        }
        if (auto r = (*http)->post({}, "SELECT 1"); r && *r == "1\n")
            return {};
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    stop(std::chrono::seconds(2));
    return "clickhouse-server did not answer within " + std::to_string(timeout.count()) + " ms: " + log_tail();
}

void ClickHouseServer::stop(std::chrono::milliseconds grace)
{
    if (pid_ <= 0)
        return;
    ::kill(pid_, SIGTERM);
    const auto deadline = std::chrono::steady_clock::now() + grace;
    int status = 0;
    while (::waitpid(pid_, &status, WNOHANG) == 0) {
        if (std::chrono::steady_clock::now() >= deadline) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, &status, 0);
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    pid_ = -1;
}

std::string ClickHouseServer::log_tail() const
{
    std::string text = read_text(dir_ / "server.err.log");
    if (text.empty())
        text = read_text(dir_ / "stdout.log");
    return text.size() > 2000 ? text.substr(text.size() - 2000) : text;
}

std::vector<std::string> sql_statements(const std::string& script, std::vector<std::string>* names)
{
    std::vector<std::string> out;
    std::string current;
    std::string name;
    char quote = 0;
    for (std::size_t i = 0; i < script.size(); ++i) {
        const char c = script[i];
        if (quote != 0) {
            current += c;
            if (c == '\\' && i + 1 < script.size())
                current += script[++i];
            else if (c == quote)
                quote = 0;
            continue;
        }
        if (c == '-' && i + 1 < script.size() && script[i + 1] == '-') {
            const std::size_t eol = script.find('\n', i);
            const std::string comment = script.substr(i, eol == std::string::npos ? std::string::npos : eol - i);
            if (comment.starts_with("-- name: "))
                name = comment.substr(9);
            i = eol == std::string::npos ? script.size() : eol - 1;
            continue;
        }
        if (c == ';') {
            if (current.find_first_not_of(" \t\r\n") != std::string::npos) {
                out.push_back(current);
                if (names != nullptr)
                    names->push_back(name);
            }
            current.clear();
            name.clear();
            continue;
        }
        if (c == '\'' || c == '"' || c == '`')
            quote = c;
        current += c;
    }
    if (current.find_first_not_of(" \t\r\n") != std::string::npos) {
        out.push_back(current);
        if (names != nullptr)
            names->push_back(name);
    }
    return out;
}

} // namespace idpath::mirror::testing
