#pragma once
/// Test helpers: a client and a server network namespace joined by a veth pair, and a guard that
/// moves the calling thread into a namespace. Everything is torn down in destructors.

#include <cstdint>
#include <string>

namespace idpath::xdp::test {

/// Runs a shell command; true on exit status 0. Output goes to the test log.
bool run(const std::string& command);

/// Pings ipv4 from namespace ns (up to three echo requests, a second each); true on a reply.
bool ping(const std::string& ns, const std::string& ipv4);

/// Sends one UDP datagram from namespace ns to ip (IPv4 or IPv6 text) and port; true if sent.
bool send_udp(const std::string& ns, const std::string& ip, std::uint16_t port);

class NetnsPair {
public:
    /// Creates both namespaces (names unique to this process) with the veth up and addressed:
    /// client 10.77.7.1/24 on client_if(), server 10.77.7.2/24 on server_if(), and with ipv6
    /// also fd77:7::1/64 and fd77:7::2/64 (usable at once: no duplicate address detection).
    /// ok() tells.
    explicit NetnsPair(bool ipv6 = false);
    ~NetnsPair();
    NetnsPair(const NetnsPair&) = delete;
    NetnsPair& operator=(const NetnsPair&) = delete;

    bool ok() const { return ok_; }
    const std::string& client_ns() const { return client_ns_; }
    const std::string& server_ns() const { return server_ns_; }
    const std::string& server_if() const { return server_if_; }
    static constexpr const char* client_ip = "10.77.7.1";
    static constexpr const char* server_ip = "10.77.7.2";
    static constexpr const char* client_ip6 = "fd77:7::1";
    static constexpr const char* server_ip6 = "fd77:7::2";

private:
    void destroy();

    std::string client_ns_;
    std::string server_ns_;
    std::string client_if_;
    std::string server_if_;
    bool ok_ = false;
};

/// Moves this thread into the named namespace until destroyed. ok() false if setns failed.
class InNetns {
public:
    explicit InNetns(const std::string& name);
    ~InNetns();
    InNetns(const InNetns&) = delete;
    InNetns& operator=(const InNetns&) = delete;

    bool ok() const { return ok_; }

private:
    int original_ = -1;
    bool ok_ = false;
};

} // namespace idpath::xdp::test
