#include "tests/unit/xdp/netns.hpp"

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <cstdlib>
#include <iostream>

namespace idpath::xdp::test {

bool run(const std::string& command)
{
    return std::system(command.c_str()) == 0;
}

NetnsPair::NetnsPair()
{
    const std::string id = std::to_string(::getpid());
    client_ns_ = "idp7c" + id;
    server_ns_ = "idp7s" + id;
    client_if_ = "idp7c" + id;
    server_if_ = "idp7s" + id;
    destroy();
    const std::string c = "ip -n " + client_ns_ + " ";
    const std::string s = "ip -n " + server_ns_ + " ";
    ok_ = run("ip netns add " + client_ns_) && run("ip netns add " + server_ns_)
        && run("ip link add " + client_if_ + " netns " + client_ns_ + " type veth peer name "
            + server_if_ + " netns " + server_ns_)
        && run(c + "addr add " + client_ip + "/24 dev " + client_if_)
        && run(s + "addr add " + server_ip + "/24 dev " + server_if_)
        && run(c + "link set lo up") && run(s + "link set lo up")
        && run(c + "link set " + client_if_ + " up") && run(s + "link set " + server_if_ + " up");
}

NetnsPair::~NetnsPair()
{
    destroy();
}

void NetnsPair::destroy()
{
    // Deleting a namespace deletes the veth end inside it, and with it the peer.
    run("ip netns del " + client_ns_ + " 2>/dev/null");
    run("ip netns del " + server_ns_ + " 2>/dev/null");
}

InNetns::InNetns(const std::string& name)
{
    original_ = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    const int target = ::open(("/var/run/netns/" + name).c_str(), O_RDONLY | O_CLOEXEC);
    ok_ = original_ >= 0 && target >= 0 && ::setns(target, CLONE_NEWNET) == 0;
    if (target >= 0)
        ::close(target);
}

InNetns::~InNetns()
{
    if (original_ < 0)
        return;
    if (::setns(original_, CLONE_NEWNET) != 0) {
        std::cerr << "setns back to the original namespace failed\n";
        std::abort();
    }
    ::close(original_);
}

} // namespace idpath::xdp::test
