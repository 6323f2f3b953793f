#include "drivers/socket/tcp_server.hpp"

#include <pthread.h>

#include <cerrno>
#include <system_error>

#include "drivers/socket/tcp_loop.hpp"

namespace idpath::socket {

TcpServer::TcpServer(TcpServerOptions options, resolve::PolicyRef policy,
                     TableSource table_source)
    : options_(std::move(options)),
      policy_(policy),
      table_source_(std::move(table_source)),
      query_log_(options_.query_log.ring, options_.query_log.source, options_.query_log.heartbeat_ns)
{
    if (options_.max_connections == 0)
        options_.max_connections = 1;
}

TcpServer::~TcpServer()
{
    stop();
}

Result<bool, std::string> TcpServer::start()
{
    if (started_)
        return Err{std::string("TCP server already started")};
    started_ = true;
    if (options_.listen.empty())
        return Err{std::string("TCP server: no listen address")};
    wake_ = make_wake_fd();
    if (!wake_.valid())
        return Err{"eventfd: " + errno_text(errno)};

    std::vector<UniqueFd> listeners;
    std::vector<Endpoint> bound;
    for (const Endpoint& ep : options_.listen) {
        std::string error;
        UniqueFd fd = open_bound_socket(ep, SOCK_STREAM, options_.tuning, error);
        if (!fd.valid())
            return Err{std::move(error)};
        const auto local = local_endpoint(fd.get());
        if (!local)
            return Err{"getsockname " + ep.to_string() + "/tcp: " + errno_text(errno)};
        bound.push_back(*local);
        listeners.push_back(std::move(fd));
    }

    auto loop = std::make_unique<TcpLoop>(options_, policy_, table_source_, std::move(listeners),
                                          wake_.get(), stopping_, resolve_stats_, tcp_stats_,
                                          query_log_);
    if (!loop->init())
        return Err{"epoll: " + errno_text(errno)};
    if (options_.reclaimer != nullptr) {
        const unsigned id = options_.reclaimer->register_thread();
        if (id == Reclaimer::kNoId)
            return Err{std::string("TCP server: reclaimer has no room for another thread")};
        loop->set_reclaimer(options_.reclaimer, id);
    }
    loop_ = std::move(loop);
    bound_ = std::move(bound);
    stopping_.store(false, std::memory_order_release);
    try {
        thread_ = std::thread([loop = loop_.get()] {
            pthread_setname_np(pthread_self(), "idpath-tcp");
            loop->run();
        });
    } catch (const std::system_error& e) {
        return Err{std::string("TCP server: cannot start thread: ") + e.what()};
    }
    return true;
}

void TcpServer::stop()
{
    stopping_.store(true, std::memory_order_release);
    wake(wake_);
    if (thread_.joinable())
        thread_.join();
    // The listening sockets go with the loop: a stopped server refuses connections rather than
    // letting them queue unanswered. The counters live on in the server.
    loop_.reset();
}

std::vector<const resolve::ResolveStats*> TcpServer::stats() const
{
    return {&resolve_stats_};
}

const TcpStats& TcpServer::tcp_stats() const noexcept
{
    return tcp_stats_;
}

std::vector<Endpoint> TcpServer::bound() const
{
    return bound_;
}

} // namespace idpath::socket
