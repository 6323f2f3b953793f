#pragma once
/// HS_SITE / HS_SITE.6 / HS_SITE.PREFIX value data (RFC 3651 section 3.2.2;
/// handle-protocol.md section 1.10). Owning types: control plane and clients.

#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "dataplane/base/byte_writer.hpp"
#include "dataplane/base/bytes.hpp"
#include "dataplane/base/result.hpp"
#include "dataplane/wire/constants.hpp"
#include "dataplane/wire/errors.hpp"

namespace idpath::wire {

struct SiteInterface {
    std::uint8_t type = site::kInterfaceQuery; // site::kInterface*
    std::uint8_t protocol = site::kProtocolUdp; // site::kProtocol*
    std::uint32_t port = kDefaultPort;
    bool operator==(const SiteInterface&) const = default;
};

struct SiteServer {
    std::uint32_t server_id = 1;
    /// IPv6 in network order; IPv4 as 12 zero octets then the address (IPv4-compatible form,
    /// which is what HANDLE.NET writes and tests with ServerInfo.isIPv4).
    std::array<std::uint8_t, 16> address{};
    std::vector<std::uint8_t> public_key; // the public key record, passed through
    std::vector<SiteInterface> interfaces;

    bool is_ipv4() const noexcept;
    bool operator==(const SiteServer&) const = default;
};

struct SiteInfo {
    std::uint16_t data_format_version = 1;
    std::uint8_t major = kImplMajor;
    std::uint8_t minor = kImplMinor;
    std::uint16_t serial = 1;
    std::uint8_t primary_mask = site::kPrimaryMask;
    std::uint8_t hash_option = site::kHashByHandle;
    std::vector<std::uint8_t> hash_filter; // carried, unused (as by HANDLE.NET)
    std::vector<std::pair<std::string, std::string>> attributes;
    std::vector<SiteServer> servers;

    bool is_primary() const noexcept { return primary_mask & site::kPrimaryMask; }
    bool operator==(const SiteInfo&) const = default;
};

/// Decodes HS_SITE data; the record must fill `data` exactly (HANDLE.NET rejects trailing
/// octets). Counts of attributes, servers and interfaces are bounded by what the data can hold.
Result<SiteInfo, WireError> decode_site_info(ByteSpan data);
void encode_site_info(ByteWriter& w, const SiteInfo& s) noexcept;
std::vector<std::uint8_t> encode_site_info(const SiteInfo& s);

/// Parses "192.0.2.1" or "2001:db8::1" into the 16-octet HS_SITE form; false if neither.
bool parse_site_address(const std::string& text, std::array<std::uint8_t, 16>& out);
/// Renders a 16-octet HS_SITE address as dotted IPv4 (when is_ipv4) or IPv6 text.
std::string format_site_address(const std::array<std::uint8_t, 16>& addr);

} // namespace idpath::wire
