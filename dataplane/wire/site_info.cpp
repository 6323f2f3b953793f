#include "dataplane/wire/site_info.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

#include "dataplane/base/byte_reader.hpp"

namespace idpath::wire {

namespace {

// Smallest encodings, used to bound counts (and reserve()) by what the input can hold.
constexpr std::size_t kMinAttributeSize = 4 + 4;       // two empty Strings
constexpr std::size_t kMinServerSize = 4 + 16 + 4 + 4; // id, address, empty key, no interfaces
constexpr std::size_t kInterfaceSize = 1 + 1 + 4;
constexpr std::size_t kIpv4Offset = 12;

std::string to_string(ByteSpan b)
{
    return std::string(as_string_view(b));
}

// Reads an int4 count of items at least `min_size` octets each.
bool read_count(ByteReader& r, std::size_t min_size, std::uint32_t& count, WireError& err) noexcept
{
    count = r.u32();
    if (!r.ok()) {
        err = reader_error(r);
        return false;
    }
    // Encoder.decodeSiteInfoRecord: counts above MAX_ARRAY_SIZE are format errors.
    if (count > kMaxArraySize) {
        err = WireError::LengthTooLarge;
        return false;
    }
    if (count > r.remaining() / min_size) {
        err = WireError::Truncated;
        return false;
    }
    return true;
}

bool decode_server(ByteReader& r, SiteServer& s, WireError& err)
{
    s.server_id = r.u32();
    const ByteSpan addr = r.bytes(s.address.size());
    const ByteSpan key = r.string(kMaxArraySize);
    if (!r.ok()) {
        err = reader_error(r);
        return false;
    }
    std::copy(addr.begin(), addr.end(), s.address.begin());
    s.public_key.assign(key.begin(), key.end());
    std::uint32_t count = 0;
    if (!read_count(r, kInterfaceSize, count, err))
        return false;
    s.interfaces.resize(count);
    for (SiteInterface& i : s.interfaces) {
        i.type = r.u8();
        i.protocol = r.u8();
        i.port = r.u32();
    }
    return true; // read_count checked that every interface fits
}

std::size_t site_info_size(const SiteInfo& s) noexcept
{
    std::size_t n = 2 + 1 + 1 + 2 + 1 + 1 + 4 + s.hash_filter.size() + 4;
    for (const auto& [name, value] : s.attributes)
        n += kMinAttributeSize + name.size() + value.size();
    n += 4;
    for (const SiteServer& srv : s.servers)
        n += kMinServerSize + srv.public_key.size() + kInterfaceSize * srv.interfaces.size();
    return n;
}

} // namespace

bool SiteServer::is_ipv4() const noexcept
{
    // ServerInfo.isIPv4: the first 12 octets are zero.
    return std::all_of(address.begin(), address.begin() + kIpv4Offset,
                       [](std::uint8_t b) { return b == 0; });
}

Result<SiteInfo, WireError> decode_site_info(ByteSpan data)
{
    // handle-protocol.md 1.10, in the order of Encoder.decodeSiteInfoRecord.
    ByteReader r(data);
    SiteInfo s;
    s.data_format_version = r.u16();
    s.major = r.u8();
    s.minor = r.u8();
    s.serial = r.u16();
    s.primary_mask = r.u8();
    s.hash_option = r.u8();
    const ByteSpan filter = r.string(kMaxArraySize);
    if (!r.ok())
        return Err{reader_error(r)};
    s.hash_filter.assign(filter.begin(), filter.end());

    WireError err = WireError::Truncated;
    std::uint32_t count = 0;
    if (!read_count(r, kMinAttributeSize, count, err))
        return Err{err};
    s.attributes.reserve(count);
    for (std::uint32_t i = 0; i < count; ++i) {
        const ByteSpan name = r.string(kMaxArraySize);
        const ByteSpan value = r.string(kMaxArraySize);
        if (!r.ok())
            return Err{reader_error(r)};
        s.attributes.emplace_back(to_string(name), to_string(value));
    }

    if (!read_count(r, kMinServerSize, count, err))
        return Err{err};
    s.servers.resize(count);
    for (SiteServer& srv : s.servers) {
        if (!decode_server(r, srv, err))
            return Err{err};
    }
    if (!r.ok())
        return Err{reader_error(r)};
    // "Unexpected data remaining after decoding".
    if (!r.at_end())
        return Err{WireError::TrailingBytes};
    return s;
}

void encode_site_info(ByteWriter& w, const SiteInfo& s) noexcept
{
    w.u16(s.data_format_version);
    w.u8(s.major);
    w.u8(s.minor);
    w.u16(s.serial);
    w.u8(s.primary_mask);
    w.u8(s.hash_option);
    w.string(ByteSpan(s.hash_filter));
    w.u32(static_cast<std::uint32_t>(s.attributes.size()));
    for (const auto& [name, value] : s.attributes) {
        w.string(std::string_view(name));
        w.string(std::string_view(value));
    }
    w.u32(static_cast<std::uint32_t>(s.servers.size()));
    for (const SiteServer& srv : s.servers) {
        w.u32(srv.server_id);
        w.bytes(ByteSpan(srv.address));
        w.string(ByteSpan(srv.public_key));
        w.u32(static_cast<std::uint32_t>(srv.interfaces.size()));
        for (const SiteInterface& i : srv.interfaces) {
            w.u8(i.type);
            w.u8(i.protocol);
            w.u32(i.port);
        }
    }
}

std::vector<std::uint8_t> encode_site_info(const SiteInfo& s)
{
    std::vector<std::uint8_t> out(site_info_size(s));
    ByteWriter w(out);
    encode_site_info(w, s);
    return out;
}

bool parse_site_address(const std::string& text, std::array<std::uint8_t, 16>& out)
{
    if (text.find('\0') != std::string::npos)
        return false;
    std::array<std::uint8_t, 16> addr{};
    if (inet_pton(AF_INET, text.c_str(), addr.data() + kIpv4Offset) == 1) {
        out = addr;
        return true;
    }
    if (inet_pton(AF_INET6, text.c_str(), addr.data()) != 1)
        return false;
    // Java turns "::ffff:a.b.c.d" into an Inet4Address, which HANDLE.NET then stores in the
    // IPv4-compatible form; do the same so is_ipv4() agrees with ServerInfo.isIPv4.
    static constexpr std::uint8_t kMapped[kIpv4Offset] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(addr.data(), kMapped, kIpv4Offset) == 0)
        std::fill(addr.begin(), addr.begin() + kIpv4Offset, std::uint8_t{0});
    out = addr;
    return true;
}

std::string format_site_address(const std::array<std::uint8_t, 16>& addr)
{
    char buf[INET6_ADDRSTRLEN] = {};
    const bool v4 = std::all_of(addr.begin(), addr.begin() + kIpv4Offset,
                                [](std::uint8_t b) { return b == 0; });
    const char* p = v4 ? inet_ntop(AF_INET, addr.data() + kIpv4Offset, buf, sizeof buf)
                       : inet_ntop(AF_INET6, addr.data(), buf, sizeof buf);
    return p ? std::string(p) : std::string();
}

} // namespace idpath::wire
