#include "drivers/xdp/xdp_loader.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include <net/if.h>

#include <cerrno>
#include <vector>

#include "drivers/xdp/xdp_common.hpp"
#include "drivers/xdp/xdp_shared.h"

namespace idpath::xdp {

namespace {

using detail::fail;
using detail::Fd;
using detail::prog_name_of;

struct ObjectCloser {
    void operator()(bpf_object* object) const { bpf_object__close(object); }
};

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
    bpf_xdp_query_opts query;
    detail::init_opts(query);
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
    detail::capture_libbpf_messages();

    if (auto problem = validate(options))
        return Err(XdpError{"xdp options: " + *problem, EINVAL});
    const std::string name(ifname);
    auto state = std::make_unique<State>();
    state->ifindex = static_cast<int>(if_nametoindex(name.c_str()));
    if (state->ifindex == 0)
        return Err(fail("if_nametoindex(" + name + ")", errno));

    bpf_object_open_opts open_opts;
    detail::init_opts(open_opts);
    open_opts.object_name = IDPATH_XDP_PROG_NAME;
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

    if (auto filled = detail::fill_maps(bpf_map__fd(ports), bpf_map__fd(config), options);
        !filled.ok())
        return Err(filled.error());

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
            bpf_xdp_attach_opts detach_opts;
            detail::init_opts(detach_opts);
            detach_opts.old_prog_fd = old.get();
            if (old.get() >= 0)
                (void)bpf_xdp_detach(state->ifindex, e.flag, &detach_opts);
        }
        int err = 0;
        if (same_mode_id != 0) {
            Fd old(bpf_prog_get_fd_by_id(same_mode_id));
            bpf_xdp_attach_opts replace_opts;
            detail::init_opts(replace_opts);
            replace_opts.old_prog_fd = old.get();
            err = bpf_xdp_attach(state->ifindex, state->prog_fd, flag,
                old.get() >= 0 ? &replace_opts : nullptr);
        } else {
            err = bpf_xdp_attach(
                state->ifindex, state->prog_fd, flag | XDP_FLAGS_UPDATE_IF_NOEXIST, nullptr);
        }
        if (err == 0) {
            state->flag = flag;
            state->attached = true;
            // What libbpf warned about on the way to success (while loading, say) must not
            // decorate a later, unrelated error.
            detail::capture_libbpf_messages();
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
    bpf_xdp_attach_opts opts;
    detail::init_opts(opts);
    opts.old_prog_fd = state_->prog_fd;
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
    return detail::test_run(state_->prog_fd, frame);
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
    return detail::read_counters(state_->counters_fd);
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
