#include "dataplane/resolve/stats.hpp"

namespace idpath::resolve {

std::size_t rc_slot(std::uint32_t rc) noexcept
{
    for (std::size_t i = 0; i + 1 < kCountedResponseCodes.size(); ++i)
        if (kCountedResponseCodes[i] == rc)
            return i;
    return kCountedResponseCodes.size() - 1;
}

void ResolveStats::count(const Outcome& o) noexcept
{
    requests.add();
    if (o.malformed) {
        malformed.add();
        wire_errors[static_cast<std::size_t>(o.wire_error)].add();
    }
    if (!o.answered()) {
        silenced[static_cast<std::size_t>(o.silence)].add();
        return;
    }
    if (o.punt) {
        // Answered later by a resolver thread, which counts its own replies.
        punted.add();
        return;
    }
    answers.add();
    values_out.add(o.values);
    if (o.oversize)
        oversize_for_udp.add();
    by_rc[rc_slot(o.response_code)].add();
}

std::uint64_t ResolveStats::rc_count(std::uint32_t rc) const noexcept
{
    return by_rc[rc_slot(rc)].get();
}

} // namespace idpath::resolve
