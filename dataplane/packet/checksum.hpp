#pragma once
/// The Internet checksum (RFC 1071) over byte spans: a 16-bit ones-complement sum of 16-bit
/// big-endian words, its incremental update (RFC 1624) and the IPv4 / IPv6 pseudo-headers that
/// UDP (RFC 768), ICMPv6 (RFC 4443 section 2.3) and IPv6 upper layers (RFC 8200 section 8.1) sum.
/// Also the small vocabulary a port and the packet code share about checksum offload: what the
/// receiving NIC verified (ChecksumHint) and what the transmitting NIC is asked to complete
/// (TxChecksums); docs/packet-path.md "Checksums".
/// Thread-safety: pure functions. Hot path: yes; never allocates.

#include <cstddef>
#include <cstdint>

#include "dataplane/base/bytes.hpp"

namespace idpath::packet {

/// Adds `data` to a running sum as 16-bit big-endian words. An odd trailing octet is summed as
/// if padded with a zero (RFC 1071 section 4.1), so only the last span of a sum may be odd.
/// The 64-bit accumulator cannot overflow for any frame (2^47 words would be needed).
inline std::uint64_t checksum_add(std::uint64_t sum, ByteSpan data) noexcept
{
    const std::uint8_t* p = data.data();
    std::size_t n = data.size();
    for (; n >= 2; p += 2, n -= 2)
        sum += load_be16(p);
    if (n == 1)
        sum += static_cast<std::uint64_t>(*p) << 8;
    return sum;
}

/// Folds a sum to 16 bits with end-around carry, not complemented: the partial sum a NIC's L4
/// checksum offload expects in the checksum field (what rte_ipv4_phdr_cksum returns).
inline std::uint16_t checksum_fold(std::uint64_t sum) noexcept
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return static_cast<std::uint16_t>(sum);
}

/// Folds a sum to 16 bits with end-around carry and returns its ones complement: the value to
/// store in a checksum field (RFC 1071 section 1).
inline std::uint16_t checksum_finish(std::uint64_t sum) noexcept
{
    return static_cast<std::uint16_t>(~checksum_fold(sum));
}

/// Checksum of one span; 0 over data that includes a correct checksum field.
inline std::uint16_t internet_checksum(ByteSpan data) noexcept
{
    return checksum_finish(checksum_add(0, data));
}

/// Sum of the IPv4 pseudo-header (RFC 768): source, destination, zero, protocol, length.
inline std::uint64_t pseudo_header_v4(const std::uint8_t* src4, const std::uint8_t* dst4,
                                      std::uint8_t protocol, std::uint32_t length) noexcept
{
    std::uint64_t sum = checksum_add(0, ByteSpan{src4, 4});
    sum = checksum_add(sum, ByteSpan{dst4, 4});
    return sum + protocol + length;
}

/// Sum of the IPv6 pseudo-header (RFC 8200 section 8.1): source, destination, 32-bit
/// upper-layer length, three zero octets, next header.
inline std::uint64_t pseudo_header_v6(const std::uint8_t* src16, const std::uint8_t* dst16,
                                      std::uint8_t next_header, std::uint32_t length) noexcept
{
    std::uint64_t sum = checksum_add(0, ByteSpan{src16, 16});
    sum = checksum_add(sum, ByteSpan{dst16, 16});
    return sum + (length >> 16) + (length & 0xffff) + next_header;
}

/// RFC 1624 eqn. 3: the checksum after one 16-bit word changes from `old_word` to `new_word`,
/// HC' = ~(~HC + ~m + m'), without touching the rest of the data. Unlike eqn. 2 it never
/// yields 0xFFFF (-0) from a correct input, which RFC 1624 section 3 shows is the pitfall.
inline std::uint16_t checksum_update16(std::uint16_t checksum, std::uint16_t old_word,
                                       std::uint16_t new_word) noexcept
{
    std::uint64_t sum = static_cast<std::uint16_t>(~checksum);
    sum += static_cast<std::uint16_t>(~old_word);
    sum += new_word;
    return checksum_finish(sum);
}

/// What the receiving NIC found of one checksum (DPDK's RX checksum offload flags).
enum class ChecksumStatus : std::uint8_t {
    Unknown, // not checked (no offload, or a protocol the NIC does not check): verify in software
    Good,    // verified (or its integrity vouched for, RTE_MBUF_F_RX_*_CKSUM_NONE)
    Bad,     // wrong: the frame is dropped unparsed
};

/// Per received frame: the IPv4 header checksum and the L4 (UDP, TCP) checksum as the NIC saw
/// them. Ports that check nothing leave both Unknown, which classify() treats as "verify".
struct ChecksumHint {
    ChecksumStatus ip = ChecksumStatus::Unknown;
    ChecksumStatus l4 = ChecksumStatus::Unknown;
    friend bool operator==(const ChecksumHint&, const ChecksumHint&) = default;
};

/// Which checksums of a frame to transmit the transmitting NIC is asked to complete.
enum class TxOffload : std::uint8_t {
    None,    // the frame is final as written (software checksums, or none to compute)
    Ipv4Udp, // IPv4 header checksum and UDP checksum
    Ipv6Udp, // UDP checksum (IPv6 has no header checksum)
};

/// A frame's TX checksum offload request, in the terms DPDK's mbuf wants: `l2_len` octets of
/// Ethernet and VLAN tags, then an `l3_len`-octet IP header, then the UDP header. The frame
/// holds 0 in the IPv4 header checksum and the folded pseudo-header sum in the UDP checksum
/// (checksum_fold), as reply.hpp's writers leave them in ChecksumMode::Offload.
struct TxChecksums {
    TxOffload offload = TxOffload::None;
    std::uint8_t l2_len = 0;
    std::uint8_t l3_len = 0;
    friend bool operator==(const TxChecksums&, const TxChecksums&) = default;
};

/// Who computes a reply's IPv4 and UDP checksums.
enum class ChecksumMode : std::uint8_t {
    Software, // the reply writer: the frame is final
    Offload,  // the NIC, on the frame's TxChecksums request
};

} // namespace idpath::packet
