#include "drivers/socket/udp_server.hpp"

#include <netinet/in.h>
#include <pthread.h>

#include <algorithm>
#include <cerrno>
#include <system_error>

#include "drivers/socket/udp_worker.hpp"

namespace idpath::socket {

namespace {

constexpr std::size_t kMaxBatch = 1024; // UIO_MAXIOV, the kernel's cap for recvmmsg/sendmmsg

/// Empty on success, else why not.
std::string enable_pktinfo(int fd, const Endpoint& ep)
{
    const int one = 1;
    const bool v6 = ep.family() == AF_INET6;
    const int rc = v6 ? setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof one)
                      : setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof one);
    if (rc != 0)
        return "setsockopt " + std::string(v6 ? "IPV6_RECVPKTINFO " : "IP_PKTINFO ") +
               ep.to_string() + "/udp: " + errno_text(errno);
    return {};
}

Endpoint with_port(Endpoint ep, std::uint16_t port)
{
    if (ep.family() == AF_INET)
        reinterpret_cast<sockaddr_in*>(&ep.storage)->sin_port = htons(port);
    else if (ep.family() == AF_INET6)
        reinterpret_cast<sockaddr_in6*>(&ep.storage)->sin6_port = htons(port);
    return ep;
}

} // namespace

UdpServer::UdpServer(UdpServerOptions options, resolve::PolicyRef policy,
                     TableSource table_source)
    : options_(std::move(options)),
      policy_(policy),
      table_source_(std::move(table_source))
{
    if (options_.threads_per_socket == 0)
        options_.threads_per_socket = 1;
    options_.batch = std::clamp<std::size_t>(options_.batch, 1, kMaxBatch);
}

UdpServer::~UdpServer()
{
    stop();
}

Result<bool, std::string> UdpServer::start()
{
    if (started_)
        return Err{std::string("UDP server already started")};
    if (options_.listen.empty())
        return Err{std::string("UDP server: no listen address")};
    wake_ = make_wake_fd();
    if (!wake_.valid())
        return Err{"eventfd: " + errno_text(errno)};

    // Open every socket before starting any thread, so a bind failure leaves nothing running.
    std::vector<std::unique_ptr<UdpWorker>> workers;
    std::vector<Endpoint> bound;
    for (const Endpoint& requested : options_.listen) {
        Endpoint ep = requested;
        for (unsigned t = 0; t < options_.threads_per_socket; ++t) {
            std::string error;
            UniqueFd fd = open_bound_socket(ep, SOCK_DGRAM, options_.tuning, error);
            if (!fd.valid())
                return Err{std::move(error)};
            const bool pktinfo = is_wildcard(ep);
            if (pktinfo) {
                if (error = enable_pktinfo(fd.get(), ep); !error.empty())
                    return Err{std::move(error)};
            }
            if (t == 0) {
                // Port 0: the later SO_REUSEPORT sockets must join the port the kernel chose.
                const auto local = local_endpoint(fd.get());
                if (!local)
                    return Err{"getsockname " + ep.to_string() + "/udp: " + errno_text(errno)};
                ep = with_port(ep, local->port());
                bound.push_back(*local);
            }
            const std::size_t index = workers.size();
            const querylog::Target log = index < options_.query_logs.size()
                                             ? options_.query_logs[index]
                                             : querylog::Target{};
            workers.push_back(std::make_unique<UdpWorker>(std::move(fd), pktinfo, options_.batch,
                                                          policy_, table_source_, wake_.get(),
                                                          stopping_, log,
                                                          index < options_.probes.size()
                                                              ? options_.probes[index]
                                                              : querylog::ProbeTarget{},
                                                          index < options_.miss_rings.size()
                                                              ? options_.miss_rings[index]
                                                              : nullptr));
            if (options_.reclaimer != nullptr) {
                const unsigned id = options_.reclaimer->register_thread();
                if (id == Reclaimer::kNoId)
                    return Err{std::string("UDP server: reclaimer has no room for another thread")};
                workers.back()->set_reclaimer(options_.reclaimer, id);
            }
        }
    }

    workers_ = std::move(workers);
    bound_ = std::move(bound);
    started_ = true;
    stopping_.store(false, std::memory_order_release);
    try {
        for (std::size_t i = 0; i < workers_.size(); ++i) {
            threads_.emplace_back([w = workers_[i].get(), i] {
                const std::string name = "idpath-udp" + std::to_string(i);
                pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
                w->run();
            });
        }
    } catch (const std::system_error& e) {
        stop();
        return Err{std::string("UDP server: cannot start thread: ") + e.what()};
    }
    return true;
}

void UdpServer::stop()
{
    stopping_.store(true, std::memory_order_release);
    wake(wake_);
    for (std::thread& t : threads_)
        if (t.joinable())
            t.join();
    threads_.clear();
    // A stopped server's clients get "port unreachable" at once instead of a timeout.
    for (auto& w : workers_)
        w->close_socket();
}

std::vector<const resolve::ResolveStats*> UdpServer::stats() const
{
    std::vector<const resolve::ResolveStats*> out;
    out.reserve(workers_.size());
    for (const auto& w : workers_)
        out.push_back(&w->stats());
    return out;
}

std::vector<const querylog::ProbeStats*> UdpServer::probe_stats() const
{
    std::vector<const querylog::ProbeStats*> out;
    out.reserve(workers_.size());
    for (const auto& w : workers_)
        out.push_back(&w->probe_stats());
    return out;
}

std::vector<const querylog::QueryLogStats*> UdpServer::query_log_stats() const
{
    std::vector<const querylog::QueryLogStats*> out;
    out.reserve(workers_.size());
    for (const auto& w : workers_)
        out.push_back(&w->query_log_stats());
    return out;
}

std::vector<Endpoint> UdpServer::bound() const
{
    return bound_;
}

} // namespace idpath::socket
