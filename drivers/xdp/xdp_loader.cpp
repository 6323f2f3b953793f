#include "drivers/xdp/xdp_loader.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <vector>

#include "drivers/xdp/xdp_shared.h"

namespace idpath::xdp {

extern const unsigned char idpath_xdp_bpf_object[];
extern const std::size_t idpath_xdp_bpf_object_size;

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

struct ObjectCloser {
    void operator()(bpf_object* object) const { bpf_object__close(object); }
};

class Fd {
public:
    explicit Fd(int fd) : fd_(fd) {}
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    ~Fd()
    {
        if (fd_ >= 0)
            ::close(fd_);
    }
    int get() const { return fd_; }

private:
    int fd_;
};

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

const char* mode_name(std::uint32_t flag)
{
    return flag == XDP_FLAGS_DRV_MODE ? "native" : "generic";
}

/// A program found attached at start, in one mode.
struct Existing {
    std::uint32_t id = 0;
    std::uint32_t flag = 0;
    std::string name;
};

} // namespace

Result<AttachedXdp, XdpError> query_xdp(std::string_view ifname)
{
    const std::string name(ifname);
    const int ifindex = static_cast<int>(if_nametoindex(name.c_str()));
    if (ifindex == 0)
        return Err(fail("if_nametoindex(" + name + ")", errno));
    LIBBPF_OPTS(bpf_xdp_query_opts, query);
    if (int err = bpf_xdp_query(ifindex, 0, &query); err != 0)
        return Err(fail("bpf_xdp_query(" + name + ")", err));
    AttachedXdp attached;
    attached.native_id = query.drv_prog_id;
    attached.generic_id = query.skb_prog_id;
    attached.offloaded_id = query.hw_prog_id;
    if (attached.native_id != 0)
        attached.native_name = prog_name_of(attached.native_id);
    if (attached.generic_id != 0)
        attached.generic_name = prog_name_of(attached.generic_id);
    return attached;
}

struct XdpProgram::State {
    std::unique_ptr<bpf_object, ObjectCloser> object;
    int prog_fd = -1;
    int xsks_fd = -1;
    int counters_fd = -1;
    std::uint32_t prog_id = 0;
    int ifindex = 0;
    std::uint32_t flag = 0;
    bool attached = false;
    std::string pin_path;
};

XdpProgram::XdpProgram(std::unique_ptr<State> state) : state_(std::move(state)) {}
XdpProgram::XdpProgram(XdpProgram&&) noexcept = default;

XdpProgram& XdpProgram::operator=(XdpProgram&& other) noexcept
{
    if (this != &other) {
        (void)detach();
        state_ = std::move(other.state_);
    }
    return *this;
}

XdpProgram::~XdpProgram()
{
    (void)detach();
}

Result<XdpProgram, XdpError> XdpProgram::attach(std::string_view ifname, const XdpOptions& options)
{
    static std::once_flag print_once;
    std::call_once(print_once, [] { libbpf_set_print(libbpf_print); });
    last_libbpf_message.clear();

    if (auto problem = validate(options))
        return Err(XdpError{"xdp options: " + *problem, EINVAL});
    const std::string name(ifname);
    auto state = std::make_unique<State>();
    state->ifindex = static_cast<int>(if_nametoindex(name.c_str()));
    if (state->ifindex == 0)
        return Err(fail("if_nametoindex(" + name + ")", errno));

    LIBBPF_OPTS(bpf_object_open_opts, open_opts, .object_name = IDPATH_XDP_PROG_NAME);
    state->object.reset(
        bpf_object__open_mem(idpath_xdp_bpf_object, idpath_xdp_bpf_object_size, &open_opts));
    if (!state->object)
        return Err(fail("bpf_object__open_mem", errno));
    if (int err = bpf_object__load(state->object.get()); err != 0)
        return Err(fail("bpf_object__load", err));

    bpf_program* prog = bpf_object__find_program_by_name(state->object.get(), IDPATH_XDP_PROG_NAME);
    bpf_map* xsks = bpf_object__find_map_by_name(state->object.get(), "xsks_map");
    bpf_map* ports = bpf_object__find_map_by_name(state->object.get(), "idpath_ports");
    bpf_map* config = bpf_object__find_map_by_name(state->object.get(), "idpath_config");
    bpf_map* counters = bpf_object__find_map_by_name(state->object.get(), "idpath_counters");
    if (!prog || !xsks || !ports || !config || !counters)
        return Err(XdpError{"embedded XDP object lacks its program or maps", ENOENT});
    state->prog_fd = bpf_program__fd(prog);
    state->xsks_fd = bpf_map__fd(xsks);
    state->counters_fd = bpf_map__fd(counters);

    const std::uint8_t present = 1;
    for (std::uint16_t port : options.ports) {
        if (int err = bpf_map_update_elem(bpf_map__fd(ports), &port, &present, BPF_ANY); err != 0)
            return Err(fail("bpf_map_update_elem(idpath_ports)", err));
    }
    const std::uint32_t key = IDPATH_XDP_CONFIG_FALLBACK;
    const std::uint32_t fallback = options.drop_without_socket ? XDP_DROP : XDP_PASS;
    if (int err = bpf_map_update_elem(bpf_map__fd(config), &key, &fallback, BPF_ANY); err != 0)
        return Err(fail("bpf_map_update_elem(idpath_config)", err));

    bpf_prog_info info{};
    std::uint32_t info_size = sizeof(info);
    if (int err = bpf_obj_get_info_by_fd(state->prog_fd, &info, &info_size); err != 0)
        return Err(fail("bpf_obj_get_info_by_fd", err));
    state->prog_id = info.id;

    // Decide about whatever is attached before touching anything.
    auto now = query_xdp(name);
    if (!now.ok())
        return Err(now.error());
    if (now->offloaded_id != 0)
        return Err(XdpError{name + " has an offloaded XDP program; not replacing it", EEXIST});
    std::vector<Existing> existing;
    for (Existing e : {Existing{now->native_id, XDP_FLAGS_DRV_MODE, now->native_name},
             Existing{now->generic_id, XDP_FLAGS_SKB_MODE, now->generic_name}}) {
        if (e.id == 0)
            continue;
        const std::string what = "XDP program '" + e.name + "' (id " + std::to_string(e.id) + ", "
            + mode_name(e.flag) + ") on " + name;
        if (e.name != IDPATH_XDP_PROG_NAME && !options.force)
            return Err(XdpError{"foreign " + what + "; not replacing it without force", EEXIST});
        if (e.name == IDPATH_XDP_PROG_NAME && !options.replace_stale && !options.force)
            return Err(XdpError{"stale " + what + "; replace_stale is off", EEXIST});
        existing.push_back(e);
    }

    std::vector<std::uint32_t> flags;
    if (options.mode != AttachMode::generic)
        flags.push_back(XDP_FLAGS_DRV_MODE);
    if (options.mode != AttachMode::native)
        flags.push_back(XDP_FLAGS_SKB_MODE);
    XdpError last{"no attach mode", EINVAL};
    for (std::uint32_t flag : flags) {
        // The kernel refuses native and generic programs side by side, so one in the other mode
        // goes first; one in the same mode is swapped atomically.
        std::uint32_t same_mode_id = 0;
        for (const Existing& e : existing) {
            if (e.flag == flag) {
                same_mode_id = e.id;
                continue;
            }
            Fd old(bpf_prog_get_fd_by_id(e.id));
            LIBBPF_OPTS(bpf_xdp_attach_opts, detach_opts, .old_prog_fd = old.get());
            if (old.get() >= 0)
                (void)bpf_xdp_detach(state->ifindex, e.flag, &detach_opts);
        }
        int err = 0;
        if (same_mode_id != 0) {
            Fd old(bpf_prog_get_fd_by_id(same_mode_id));
            LIBBPF_OPTS(bpf_xdp_attach_opts, replace_opts, .old_prog_fd = old.get());
            err = bpf_xdp_attach(state->ifindex, state->prog_fd, flag,
                old.get() >= 0 ? &replace_opts : nullptr);
        } else {
            err = bpf_xdp_attach(
                state->ifindex, state->prog_fd, flag | XDP_FLAGS_UPDATE_IF_NOEXIST, nullptr);
        }
        if (err == 0) {
            state->flag = flag;
            state->attached = true;
            last_libbpf_message.clear();
            return XdpProgram(std::move(state));
        }
        last = fail(std::string("bpf_xdp_attach(") + name + ", " + mode_name(flag) + ")", err);
    }
    return Err(std::move(last));
}

Result<std::monostate, XdpError> XdpProgram::detach()
{
    if (!state_ || !state_->attached)
        return std::monostate{};
    state_->attached = false;
    if (!state_->pin_path.empty()) {
        bpf_map* xsks = bpf_object__find_map_by_name(state_->object.get(), "xsks_map");
        if (xsks)
            (void)bpf_map__unpin(xsks, state_->pin_path.c_str());
        state_->pin_path.clear();
    }
    LIBBPF_OPTS(bpf_xdp_attach_opts, opts, .old_prog_fd = state_->prog_fd);
    const int err = bpf_xdp_detach(state_->ifindex, state_->flag, &opts);
    // EEXIST: another program replaced ours; ENODEV: the interface is gone. Nothing of ours
    // remains attached either way.
    if (err != 0 && err != -EEXIST && err != -ENODEV)
        return Err(fail("bpf_xdp_detach", err));
    return std::monostate{};
}

bool XdpProgram::attached() const noexcept
{
    return state_ && state_->attached;
}

AttachMode XdpProgram::mode() const noexcept
{
    return state_ && state_->flag == XDP_FLAGS_DRV_MODE ? AttachMode::native : AttachMode::generic;
}

int XdpProgram::ifindex() const noexcept
{
    return state_ ? state_->ifindex : 0;
}

std::uint32_t XdpProgram::prog_id() const noexcept
{
    return state_ ? state_->prog_id : 0;
}

Result<std::uint32_t, XdpError> XdpProgram::test_run(std::span<const std::uint8_t> frame) const
{
    if (!state_)
        return Err(XdpError{"no program", EBADF});
    // The kernel may write the (possibly modified) frame back; give it a private copy.
    std::vector<std::uint8_t> data(frame.begin(), frame.end());
    LIBBPF_OPTS(bpf_test_run_opts, run, .data_in = data.data(),
        .data_size_in = static_cast<std::uint32_t>(data.size()));
    if (int err = bpf_prog_test_run_opts(state_->prog_fd, &run); err != 0)
        return Err(fail("bpf_prog_test_run_opts", err));
    return run.retval;
}

Result<std::monostate, XdpError> XdpProgram::insert_socket(std::uint32_t queue, int xsk_fd)
{
    if (!state_)
        return Err(XdpError{"no program", EBADF});
    if (int err = bpf_map_update_elem(state_->xsks_fd, &queue, &xsk_fd, BPF_ANY); err != 0)
        return Err(fail("bpf_map_update_elem(xsks_map, queue " + std::to_string(queue) + ")", err));
    return std::monostate{};
}

int XdpProgram::xsks_map_fd() const noexcept
{
    return state_ ? state_->xsks_fd : -1;
}

Result<XdpCounters, XdpError> XdpProgram::counters() const
{
    if (!state_)
        return Err(XdpError{"no program", EBADF});
    const int cpus = libbpf_num_possible_cpus();
    if (cpus <= 0)
        return Err(fail("libbpf_num_possible_cpus", cpus));
    std::vector<std::uint64_t> per_cpu(static_cast<std::size_t>(cpus));
    std::array<std::uint64_t, IDPATH_XDP_COUNTER_COUNT> sums{};
    for (std::uint32_t key = 0; key < sums.size(); ++key) {
        if (int err = bpf_map_lookup_elem(state_->counters_fd, &key, per_cpu.data()); err != 0)
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

Result<std::monostate, XdpError> XdpProgram::pin_xsks_map(const std::string& path)
{
    if (!state_)
        return Err(XdpError{"no program", EBADF});
    bpf_map* xsks = bpf_object__find_map_by_name(state_->object.get(), "xsks_map");
    if (!xsks)
        return Err(XdpError{"xsks_map not found", ENOENT});
    if (int err = bpf_map__pin(xsks, path.c_str()); err != 0)
        return Err(fail("bpf_map__pin(" + path + ")", err));
    state_->pin_path = path;
    return std::monostate{};
}

} // namespace idpath::xdp
