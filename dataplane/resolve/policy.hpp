#pragma once
/// How this node answers, as configured (DESIGN.md section 1). A Policy is immutable once
/// readers see it; a reload publishes a new one (PolicyRef).

#include <atomic>
#include <cstdint>
#include <vector>

#include "dataplane/wire/constants.hpp"

namespace idpath::resolve {

struct Policy {
    /// A primary site sets AT on every response, as HANDLE.NET does; a mirror does not.
    bool primary = true;
    /// Written into every response's SiteInfoSerialNumber (HANDLE.NET writes its own serial).
    std::uint16_t site_serial = 1;
    /// Response ExpirationTime = now + this.
    std::uint32_t expiration_seconds = wire::kDefaultExpirationSeconds;
    /// Largest answer sent over UDP, in datagrams; a larger one becomes an RC_ERROR telling the
    /// client to use TCP (docs/protocol.md, "Large answers over UDP").
    std::uint32_t max_udp_datagrams = 8;
    /// Encoded HS_SITE of this node, the body of GET_SITE_INFO answers. Empty: the opcode is
    /// answered RC_OPERATION_NOT_SUPPORTED.
    std::vector<std::uint8_t> site_info;
    /// Recursive role (docs/recursion.md): any handle in the table is answered, homed or not
    /// (cached answers are of any prefix); a miss with REC set is punted to the resolver threads
    /// when the transport can (RequestContext::can_punt), else answered as an authoritative
    /// node without the data would answer (303 / 301 / 100).
    bool recursive = false;
};

/// The policy a reader answers with: a fixed one, or the one a control thread publishes by an
/// atomic pointer and replaces on reload, freeing the old one after a grace period, as it does
/// the table. Readers call get() once per request, so one answer sees one policy. Converts
/// implicitly from a Policy, which must outlive the readers.
class PolicyRef {
public:
    PolicyRef(const Policy& fixed) noexcept : fixed_(&fixed) {} // NOLINT: implicit on purpose
    explicit PolicyRef(const std::atomic<const Policy*>& published) noexcept : published_(&published) {}

    const Policy& get() const noexcept
    {
        return published_ ? *published_->load(std::memory_order_acquire) : *fixed_;
    }

private:
    const Policy* fixed_ = nullptr;
    const std::atomic<const Policy*>* published_ = nullptr;
};

} // namespace idpath::resolve
