#pragma once
/// Test helpers: a client and a server network namespace joined by a veth pair, and a guard that
/// moves the calling thread into a namespace. Everything is torn down in destructors.

#include <string>

namespace idpath::xdp::test {

/// Runs a shell command; true on exit status 0. Output goes to the test log.
bool run(const std::string& command);

class NetnsPair {
public:
    /// Creates both namespaces (names unique to this process) with the veth up and addressed:
    /// client 10.77.7.1/24 on client_if(), server 10.77.7.2/24 on server_if(). ok() tells.
    NetnsPair();
    ~NetnsPair();
    NetnsPair(const NetnsPair&) = delete;
    NetnsPair& operator=(const NetnsPair&) = delete;

    bool ok() const { return ok_; }
    const std::string& client_ns() const { return client_ns_; }
    const std::string& server_ns() const { return server_ns_; }
    const std::string& server_if() const { return server_if_; }
    static constexpr const char* client_ip = "10.77.7.1";
    static constexpr const char* server_ip = "10.77.7.2";

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
