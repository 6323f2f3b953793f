#include "controlplane/admin/admin_server.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <exception>
#include <filesystem>

namespace idpath::admin {
namespace {

constexpr std::size_t kMaxCommand = 4096;

std::string errno_text(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

bool make_address(const std::string& path, sockaddr_un& sa)
{
    if (path.size() >= sizeof sa.sun_path)
        return false;
    std::memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    std::memcpy(sa.sun_path, path.c_str(), path.size() + 1);
    return true;
}

/// Waits for `events` on fd until the deadline; false on timeout or error.
bool wait_for(int fd, short events, std::chrono::steady_clock::time_point deadline)
{
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0)
            return false;
        pollfd p{fd, events, 0};
        const int n = ::poll(&p, 1, static_cast<int>(left.count()));
        if (n > 0)
            return true;
        if (n < 0 && errno != EINTR)
            return false;
    }
}

} // namespace

AdminServer::AdminServer(std::string path, Handler handler, int io_timeout_ms)
    : path_(std::move(path)), handler_(std::move(handler)), io_timeout_ms_(io_timeout_ms)
{
}

AdminServer::~AdminServer() { stop(); }

Result<bool, std::string> AdminServer::start()
{
    sockaddr_un sa;
    if (!make_address(path_, sa))
        return Err{"admin socket path too long: " + path_};
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(path_).parent_path(), ec);

    // A socket file left by a crashed daemon is stale if nobody accepts on it.
    if (std::filesystem::exists(path_, ec)) {
        if (admin_request(path_, "ping", 500))
            return Err{"another daemon is serving the admin socket " + path_};
        ::unlink(path_.c_str());
    }

    listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (listen_fd_ < 0)
        return Err{errno_text("admin socket")};
    const mode_t old = ::umask(0117); // socket mode 0660
    const int rc = ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
    ::umask(old);
    if (rc < 0 || ::listen(listen_fd_, 16) < 0) {
        const std::string e = errno_text(("admin socket " + path_).c_str());
        ::close(listen_fd_);
        listen_fd_ = -1;
        return Err{e};
    }
    wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    thread_ = std::thread([this] { run(); });
    return true;
}

void AdminServer::stop()
{
    if (!thread_.joinable())
        return;
    stopping_ = true;
    const std::uint64_t one = 1;
    (void)!::write(wake_fd_, &one, sizeof one);
    thread_.join();
    ::close(listen_fd_);
    ::close(wake_fd_);
    ::unlink(path_.c_str());
    listen_fd_ = wake_fd_ = -1;
}

void AdminServer::run()
{
    while (!stopping_) {
        pollfd p[2] = {{listen_fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
        if (::poll(p, 2, -1) < 0 && errno != EINTR)
            break;
        if (p[1].revents)
            break;
        if (!(p[0].revents & POLLIN))
            continue;
        const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0)
            continue;
        serve_one(fd);
        ::close(fd);
    }
}

void AdminServer::serve_one(int fd)
{
    const auto io_timeout = std::chrono::milliseconds(io_timeout_ms_);
    auto deadline = std::chrono::steady_clock::now() + io_timeout;
    std::string command;
    char buf[512];
    while (command.find('\n') == std::string::npos && command.size() < kMaxCommand) {
        if (!wait_for(fd, POLLIN, deadline))
            return;
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n <= 0)
            break;
        command.append(buf, static_cast<std::size_t>(n));
    }
    if (const auto nl = command.find('\n'); nl != std::string::npos)
        command.resize(nl);
    std::string reply;
    if (command.size() >= kMaxCommand) {
        reply = "error: command too long\n";
    } else {
        // A failing command must not take the daemon down with it.
        try {
            reply = handler_(command);
        } catch (const std::exception& e) {
            reply = std::string("error: ") + e.what() + "\n";
        }
    }
    if (reply.empty() || reply.back() != '\n')
        reply += '\n';
    // The handler's own time is not the client's fault; writing the reply gets a fresh budget.
    deadline = std::chrono::steady_clock::now() + io_timeout;
    std::size_t off = 0;
    while (off < reply.size()) {
        if (!wait_for(fd, POLLOUT, deadline))
            return;
        const ssize_t n = ::send(fd, reply.data() + off, reply.size() - off, MSG_NOSIGNAL);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n <= 0)
            return;
        off += static_cast<std::size_t>(n);
    }
}

int default_timeout_ms(std::string_view command)
{
    const std::string_view verb = command.substr(0, command.find(' '));
    const bool long_running = verb == "reload" || verb == "snapshot" || verb == "update" || verb == "sync";
    return long_running ? kLongCommandTimeoutMs : AdminServer::kIoTimeoutMs;
}

Result<std::string, std::string> admin_request(const std::string& path, std::string_view command, int timeout_ms)
{
    sockaddr_un sa;
    if (!make_address(path, sa))
        return Err{"admin socket path too long: " + path};
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return Err{errno_text("socket")};
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) < 0) {
        const std::string e = errno_text(("cannot reach the daemon at " + path).c_str());
        ::close(fd);
        return Err{e};
    }
    std::string line(command);
    line += '\n';
    if (::send(fd, line.data(), line.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(line.size())) {
        ::close(fd);
        return Err{errno_text("send")};
    }
    std::string reply;
    char buf[4096];
    for (;;) {
        if (!wait_for(fd, POLLIN, deadline)) {
            ::close(fd);
            return Err{"no reply from the daemon within " + std::to_string((timeout_ms + 999) / 1000) + " s"};
        }
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        reply.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fd);
    return reply;
}

} // namespace idpath::admin
