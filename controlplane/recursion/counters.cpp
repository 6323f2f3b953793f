#include "controlplane/recursion/counters.hpp"

#include <utility>

namespace idpath::recursion {

std::string Counters::to_json() const
{
    const std::pair<const char*, const std::atomic<std::uint64_t>*> fields[] = {
        {"queries", &queries},
        {"cache_hits", &cache_hits},
        {"negative_hits", &negative_hits},
        {"coalesced", &coalesced},
        {"upstream_udp", &upstream_udp},
        {"upstream_tcp", &upstream_tcp},
        {"timeouts", &timeouts},
        {"referrals", &referrals},
        {"service_hits", &service_hits},
        {"bad_hash", &bad_hash},
        {"errors", &errors},
        {"authoritative", &authoritative},
    };
    std::string out = "{";
    for (const auto& [name, value] : fields) {
        if (out.size() > 1)
            out += ',';
        out += '"';
        out += name;
        out += "\":";
        out += std::to_string(value->load(std::memory_order_relaxed));
    }
    out += '}';
    return out;
}

} // namespace idpath::recursion
