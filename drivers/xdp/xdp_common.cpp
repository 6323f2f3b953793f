#include "drivers/xdp/xdp_common.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <vector>

#include "drivers/xdp/xdp_shared.h"

namespace idpath::xdp::detail {
namespace {

// libbpf reports details (verifier log, netlink errors) through its print callback, not its
// return codes; keep the last warning of this thread to put into our error message.
thread_local std::string last_libbpf_message;

int libbpf_print(enum libbpf_print_level level, const char* format, va_list args)
{
    if (level == LIBBPF_DEBUG)
        return 0;
    std::array<char, 512> line{};
    const int n = std::vsnprintf(line.data(), line.size(), format, args);
    last_libbpf_message.assign(line.data());
    while (!last_libbpf_message.empty() && last_libbpf_message.back() == '\n')
        last_libbpf_message.pop_back();
    return n;
}

} // namespace

void capture_libbpf_messages()
{
    static std::once_flag print_once;
    std::call_once(print_once, [] { libbpf_set_print(libbpf_print); });
    last_libbpf_message.clear();
}

XdpError fail(const std::string& what, int error)
{
    if (error < 0)
        error = -error;
    std::string message = what + ": " + std::strerror(error);
    if (!last_libbpf_message.empty())
        message += " (libbpf: " + last_libbpf_message + ")";
    last_libbpf_message.clear();
    return XdpError{std::move(message), error};
}

Fd& Fd::operator=(Fd&& other) noexcept
{
    if (this != &other) {
        if (fd_ >= 0)
            ::close(fd_);
        fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
}

Fd::~Fd()
{
    if (fd_ >= 0)
        ::close(fd_);
}

std::string prog_name_of(std::uint32_t id)
{
    Fd fd(bpf_prog_get_fd_by_id(id));
    if (fd.get() < 0)
        return {};
    bpf_prog_info info{};
    std::uint32_t size = sizeof(info);
    if (bpf_obj_get_info_by_fd(fd.get(), &info, &size) != 0)
        return {};
    return std::string(info.name, strnlen(info.name, sizeof(info.name)));
}

Result<std::monostate, XdpError> fill_maps(int ports_fd, int config_fd, const XdpOptions& options)
{
    auto wanted = [&](std::uint16_t port) {
        for (std::uint16_t p : options.ports) {
            if (p == port)
                return true;
        }
        return false;
    };
    // Collect, then delete: deleting the key a hash-map walk stands on makes get_next_key start
    // over from the first key.
    std::vector<std::uint16_t> stale;
    std::uint16_t key = 0;
    const void* previous = nullptr;
    while (bpf_map_get_next_key(ports_fd, previous, &key) == 0) {
        if (!wanted(key))
            stale.push_back(key);
        previous = &key;
    }
    for (std::uint16_t port : stale) {
        if (int err = bpf_map_delete_elem(ports_fd, &port); err != 0 && err != -ENOENT)
            return Err(fail("bpf_map_delete_elem(idpath_ports)", err));
    }
    const std::uint8_t present = 1;
    for (std::uint16_t port : options.ports) {
        if (int err = bpf_map_update_elem(ports_fd, &port, &present, BPF_ANY); err != 0)
            return Err(fail("bpf_map_update_elem(idpath_ports)", err));
    }
    const std::uint32_t index = IDPATH_XDP_CONFIG_FALLBACK;
    const std::uint32_t fallback = options.drop_without_socket ? XDP_DROP : XDP_PASS;
    if (int err = bpf_map_update_elem(config_fd, &index, &fallback, BPF_ANY); err != 0)
        return Err(fail("bpf_map_update_elem(idpath_config)", err));
    return std::monostate{};
}

Result<XdpCounters, XdpError> read_counters(int counters_fd)
{
    const int cpus = libbpf_num_possible_cpus();
    if (cpus <= 0)
        return Err(fail("libbpf_num_possible_cpus", cpus));
    std::vector<std::uint64_t> per_cpu(static_cast<std::size_t>(cpus));
    std::array<std::uint64_t, IDPATH_XDP_COUNTER_COUNT> sums{};
    for (std::uint32_t key = 0; key < sums.size(); ++key) {
        if (int err = bpf_map_lookup_elem(counters_fd, &key, per_cpu.data()); err != 0)
            return Err(fail("bpf_map_lookup_elem(idpath_counters)", err));
        for (std::uint64_t v : per_cpu)
            sums[key] += v;
    }
    XdpCounters c;
    c.redirected = sums[IDPATH_XDP_REDIRECTED];
    c.no_socket = sums[IDPATH_XDP_NO_SOCKET];
    c.not_ip = sums[IDPATH_XDP_PASS_NOT_IP];
    c.not_udp = sums[IDPATH_XDP_PASS_NOT_UDP];
    c.other_port = sums[IDPATH_XDP_PASS_OTHER_PORT];
    c.fragment = sums[IDPATH_XDP_PASS_FRAGMENT];
    c.malformed = sums[IDPATH_XDP_PASS_MALFORMED];
    return c;
}

Result<std::uint32_t, XdpError> test_run(int prog_fd, std::span<const std::uint8_t> frame)
{
    // The kernel may write the (possibly modified) frame back; give it a private copy.
    std::vector<std::uint8_t> data(frame.begin(), frame.end());
    bpf_test_run_opts run;
    init_opts(run);
    run.data_in = data.data();
    run.data_size_in = static_cast<std::uint32_t>(data.size());
    if (int err = bpf_prog_test_run_opts(prog_fd, &run); err != 0)
        return Err(fail("bpf_prog_test_run_opts", err));
    return run.retval;
}

} // namespace idpath::xdp::detail
