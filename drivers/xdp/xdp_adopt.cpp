#include "drivers/xdp/xdp_adopt.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

#include "drivers/xdp/xdp_common.hpp"
#include "drivers/xdp/xdp_shared.h"

namespace idpath::xdp {
namespace {

using detail::fail;
using detail::Fd;

Result<int, XdpError> ifindex_of(const std::string& name)
{
    const int ifindex = static_cast<int>(if_nametoindex(name.c_str()));
    if (ifindex == 0)
        return Err(fail("if_nametoindex(" + name + ")", errno));
    return ifindex;
}

std::string describe(const std::string& name, std::uint32_t id, const char* mode,
    const std::string& ifname)
{
    return "XDP program '" + name + "' (id " + std::to_string(id) + ", " + mode + ") on "
        + ifname;
}

Result<std::monostate, XdpError> write_all(int fd, const unsigned char* data, std::size_t size)
{
    while (size > 0) {
        const ssize_t n = ::write(fd, data, size);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return Err(fail("write", n < 0 ? errno : EIO));
        data += n;
        size -= static_cast<std::size_t>(n);
    }
    return std::monostate{};
}

/// One map the program must carry, with the layout xdp_shared.h and the loader assume; an
/// object file from another build could otherwise be filled with keys of the wrong size.
struct MapSpec {
    const char* name;
    std::uint32_t type;
    std::uint32_t key_size;
    std::uint32_t value_size;
    std::uint32_t min_entries;
};

constexpr MapSpec ports_spec{"idpath_ports", BPF_MAP_TYPE_HASH, 2, 1, IDPATH_XDP_MAX_PORTS};
constexpr MapSpec config_spec{"idpath_config", BPF_MAP_TYPE_ARRAY, 4, 4, IDPATH_XDP_CONFIG_COUNT};
constexpr MapSpec counters_spec{
    "idpath_counters", BPF_MAP_TYPE_PERCPU_ARRAY, 4, 8, IDPATH_XDP_COUNTER_COUNT};
constexpr MapSpec xsks_spec{"xsks_map", BPF_MAP_TYPE_XSKMAP, 4, 4, 1};

struct ProgramMaps {
    Fd ports;
    Fd config;
    Fd counters;
    Fd xsks;
};

/// Opens the maps program prog_fd uses and keeps ours, checked against their specs.
Result<ProgramMaps, XdpError> open_maps(int prog_fd, std::uint32_t prog_id)
{
    // The first call learns how many maps there are, the second fetches their ids.
    bpf_prog_info info{};
    std::uint32_t size = sizeof(info);
    if (int err = bpf_obj_get_info_by_fd(prog_fd, &info, &size); err != 0)
        return Err(fail("bpf_obj_get_info_by_fd(prog)", err));
    std::vector<std::uint32_t> ids(info.nr_map_ids);
    info = bpf_prog_info{};
    info.nr_map_ids = static_cast<std::uint32_t>(ids.size());
    info.map_ids = reinterpret_cast<std::uintptr_t>(ids.data());
    size = sizeof(info);
    if (int err = bpf_obj_get_info_by_fd(prog_fd, &info, &size); err != 0)
        return Err(fail("bpf_obj_get_info_by_fd(prog map ids)", err));
    ids.resize(std::min<std::size_t>(ids.size(), info.nr_map_ids));

    ProgramMaps maps;
    const std::array<std::pair<const MapSpec*, Fd*>, 4> wanted{{{&ports_spec, &maps.ports},
        {&config_spec, &maps.config}, {&counters_spec, &maps.counters}, {&xsks_spec, &maps.xsks}}};
    const std::string program = "program id " + std::to_string(prog_id);
    for (std::uint32_t id : ids) {
        Fd map(bpf_map_get_fd_by_id(id));
        if (map.get() < 0)
            return Err(fail("bpf_map_get_fd_by_id(" + std::to_string(id) + ")", errno));
        bpf_map_info m{};
        std::uint32_t msize = sizeof(m);
        if (int err = bpf_obj_get_info_by_fd(map.get(), &m, &msize); err != 0)
            return Err(fail("bpf_obj_get_info_by_fd(map " + std::to_string(id) + ")", err));
        const std::string name(m.name, strnlen(m.name, sizeof(m.name)));
        for (auto [spec, slot] : wanted) {
            if (name != spec->name)
                continue;
            if (m.type != spec->type || m.key_size != spec->key_size
                || m.value_size != spec->value_size || m.max_entries < spec->min_entries)
                return Err(XdpError{program + ": map " + name + " has another layout than this "
                        "build's (an object file from another idpath version?)", EPROTO});
            *slot = std::move(map);
            break;
        }
    }
    for (auto [spec, slot] : wanted) {
        if (slot->get() < 0)
            return Err(XdpError{program + " has no map " + spec->name, ENOENT});
    }
    return maps;
}

} // namespace

Result<std::monostate, XdpError> write_program_object(const std::string& path)
{
    const std::filesystem::path target(path);
    std::error_code ec;
    if (target.has_parent_path())
        std::filesystem::create_directories(target.parent_path(), ec);
    if (ec)
        return Err(fail("create_directories(" + target.parent_path().string() + ")", ec.value()));
    const std::string tmp = path + ".tmp." + std::to_string(::getpid());
    Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (fd.get() < 0)
        return Err(fail("open(" + tmp + ")", errno));
    // The umask may have narrowed the mode; DPDK may run as another user than the writer.
    auto written = write_all(fd.get(), idpath_xdp_bpf_object, idpath_xdp_bpf_object_size);
    if (written.ok() && ::fchmod(fd.get(), 0644) != 0)
        written = Err(fail("fchmod(" + tmp + ")", errno));
    if (written.ok() && ::rename(tmp.c_str(), path.c_str()) != 0)
        written = Err(fail("rename(" + tmp + ", " + path + ")", errno));
    if (!written.ok())
        ::unlink(tmp.c_str());
    return written;
}

Result<std::monostate, XdpError> clear_stale(std::string_view ifname, bool force)
{
    detail::capture_libbpf_messages();
    const std::string name(ifname);
    auto ifindex = ifindex_of(name);
    if (!ifindex.ok())
        return Err(ifindex.error());
    auto now = query_xdp(name);
    if (!now.ok())
        return Err(now.error());
    if (now->offloaded_id != 0)
        return Err(XdpError{name + " has an offloaded XDP program; remove it by hand", EEXIST});

    struct Found {
        std::uint32_t id;
        std::uint32_t flag;
        const char* mode;
        const std::string& prog;
    };
    const Found found[] = {{now->native_id, XDP_FLAGS_DRV_MODE, "native", now->native_name},
        {now->generic_id, XDP_FLAGS_SKB_MODE, "generic", now->generic_name}};
    // Judge everything before detaching anything, so a refusal leaves the interface as it was.
    for (const Found& f : found) {
        if (f.id != 0 && f.prog != IDPATH_XDP_PROG_NAME && !force)
            return Err(XdpError{"foreign " + describe(f.prog, f.id, f.mode, name)
                    + "; not removing it without force", EEXIST});
    }
    for (const Found& f : found) {
        if (f.id == 0)
            continue;
        // Detach by the id we judged: if the program changed meanwhile the kernel refuses
        // (EEXIST) rather than removing something we did not look at.
        Fd old(bpf_prog_get_fd_by_id(f.id));
        if (old.get() < 0)
            continue; // unloaded since the query: gone from the interface too
        bpf_xdp_attach_opts opts;
        detail::init_opts(opts);
        opts.old_prog_fd = old.get();
        if (int err = bpf_xdp_detach(*ifindex, f.flag, &opts); err != 0)
            return Err(fail("bpf_xdp_detach(" + describe(f.prog, f.id, f.mode, name) + ")", err));
    }
    return std::monostate{};
}

struct AdoptedProgram::State {
    std::string ifname;
    std::uint32_t prog_id = 0;
    AttachMode mode = AttachMode::native;
    // The program fd serves test_run; the ports and config maps are not kept, since nothing
    // after adoption writes them.
    Fd prog;
    Fd counters;
};

AdoptedProgram::AdoptedProgram(std::unique_ptr<State> state) : state_(std::move(state)) {}
AdoptedProgram::AdoptedProgram(AdoptedProgram&&) noexcept = default;
AdoptedProgram& AdoptedProgram::operator=(AdoptedProgram&&) noexcept = default;
AdoptedProgram::~AdoptedProgram() = default;

Result<XdpCounters, XdpError> AdoptedProgram::counters() const
{
    if (!state_)
        return Err(XdpError{"no program", EBADF});
    return detail::read_counters(state_->counters.get());
}

Result<std::uint32_t, XdpError> AdoptedProgram::test_run(std::span<const std::uint8_t> frame) const
{
    if (!state_)
        return Err(XdpError{"no program", EBADF});
    return detail::test_run(state_->prog.get(), frame);
}

std::uint32_t AdoptedProgram::prog_id() const noexcept
{
    return state_ ? state_->prog_id : 0;
}

AttachMode AdoptedProgram::mode() const noexcept
{
    return state_ ? state_->mode : AttachMode::native;
}

const std::string& AdoptedProgram::ifname() const noexcept
{
    static const std::string none;
    return state_ ? state_->ifname : none;
}

Result<AdoptedProgram, XdpError> adopt_attached(std::string_view ifname, const XdpOptions& options)
{
    detail::capture_libbpf_messages();
    if (auto problem = validate(options))
        return Err(XdpError{"xdp options: " + *problem, EINVAL});
    const std::string name(ifname);
    auto now = query_xdp(name);
    if (!now.ok())
        return Err(now.error());
    const bool native = now->native_id != 0;
    const std::uint32_t id = native ? now->native_id : now->generic_id;
    const std::string& prog_name = native ? now->native_name : now->generic_name;
    if (id == 0)
        return Err(XdpError{"no XDP program attached to " + name, ENOENT});
    if (prog_name != IDPATH_XDP_PROG_NAME)
        return Err(XdpError{describe(prog_name, id, native ? "native" : "generic", name)
                + " is not idpath's; not adopting it", EEXIST});

    auto state = std::make_unique<AdoptedProgram::State>();
    state->prog = Fd(bpf_prog_get_fd_by_id(id));
    if (state->prog.get() < 0)
        return Err(fail("bpf_prog_get_fd_by_id(" + std::to_string(id) + ")", errno));
    auto maps = open_maps(state->prog.get(), id);
    if (!maps.ok())
        return Err(maps.error());
    if (auto filled = detail::fill_maps(maps->ports.get(), maps->config.get(), options);
        !filled.ok())
        return Err(filled.error());
    state->ifname = name;
    state->prog_id = id;
    state->mode = native ? AttachMode::native : AttachMode::generic;
    state->counters = std::move(maps->counters);
    return AdoptedProgram(std::move(state));
}

} // namespace idpath::xdp
