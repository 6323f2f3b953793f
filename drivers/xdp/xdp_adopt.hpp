#pragma once
/// Our XDP program under DPDK's net_af_xdp: DPDK loads and attaches the object file itself
/// (vdev argument xdp_prog=), so its maps start empty; idpath writes the file, clears the
/// interface beforehand and adopts the attached program afterwards to fill them.
///
///   write_program_object(path)  ->  clear_stale(ifname)  ->  EAL + port setup (DPDK attaches)
///   ->  adopt_attached(ifname, options)  ->  ...  ->  port close (DPDK detaches)
///
/// Thread-safety: none needed; these run once at start, from the thread that sets up ports.

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <variant>

#include "dataplane/base/result.hpp"
#include "drivers/xdp/xdp_loader.hpp"
#include "drivers/xdp/xdp_options.hpp"

namespace idpath::xdp {

/// Writes the embedded program object to path (mode 0644, parent directory created), through a
/// temporary file and a rename so a concurrent reader never sees half a file.
Result<std::monostate, XdpError> write_program_object(const std::string& path);

/// Makes ifname free for DPDK, whose attach fails if any program is there: a stale idpath
/// program (any mode) is detached; a foreign one fails with EEXIST unless force, then is
/// detached too. An offloaded program is never touched (EEXIST). Nothing attached: ok.
Result<std::monostate, XdpError> clear_stale(std::string_view ifname, bool force);

/// The idpath program someone else (DPDK) attached, held by fds (program, counters). Move-only;
/// destruction closes them and leaves the program attached: its attacher owns the attachment.
class AdoptedProgram {
public:
    AdoptedProgram(AdoptedProgram&&) noexcept;
    AdoptedProgram& operator=(AdoptedProgram&&) noexcept;
    AdoptedProgram(const AdoptedProgram&) = delete;
    AdoptedProgram& operator=(const AdoptedProgram&) = delete;
    ~AdoptedProgram();

    /// Per-CPU counters read now and summed (as XdpProgram::counters()).
    Result<XdpCounters, XdpError> counters() const;
    /// One BPF_PROG_TEST_RUN (as XdpProgram::test_run()): checks the filled maps without traffic.
    Result<std::uint32_t, XdpError> test_run(std::span<const std::uint8_t> frame) const;
    std::uint32_t prog_id() const noexcept;
    /// native or generic, as found on the interface at adoption.
    AttachMode mode() const noexcept;
    const std::string& ifname() const noexcept;

private:
    friend Result<AdoptedProgram, XdpError> adopt_attached(std::string_view ifname,
        const XdpOptions& options);
    struct State;
    explicit AdoptedProgram(std::unique_ptr<State> state);

    std::unique_ptr<State> state_;
};

/// Finds the program attached to ifname (native or generic), checks that it is idpath_xdp and
/// carries our maps with our layouts, then makes idpath_ports hold options.ports and sets the
/// fallback from options.drop_without_socket. ENOENT: nothing attached; EEXIST: a foreign one.
Result<AdoptedProgram, XdpError> adopt_attached(std::string_view ifname, const XdpOptions& options);

} // namespace idpath::xdp
