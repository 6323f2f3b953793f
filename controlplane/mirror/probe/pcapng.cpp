#include "controlplane/mirror/probe/pcapng.hpp"

#include <cstring>

namespace idpath::mirror::pcapng {

namespace {

constexpr std::uint16_t kOptEnd = 0;
constexpr std::uint16_t kShbUserAppl = 4;
constexpr std::uint16_t kIfName = 2;
constexpr std::uint16_t kIfTsresol = 9;
constexpr std::uint16_t kEpbFlags = 2;

template <class T>
void put(std::string& out, T v)
{
    char b[sizeof v];
    std::memcpy(b, &v, sizeof v);
    out.append(b, sizeof v);
}

void pad4(std::string& out) { out.append((4 - out.size() % 4) % 4, '\0'); }

void option(std::string& out, std::uint16_t code, std::string_view value)
{
    put(out, code);
    put(out, static_cast<std::uint16_t>(value.size()));
    out.append(value);
    pad4(out);
}

/// Starts a block at out.size() (which must be 4-aligned); finish_block() writes its length.
std::size_t begin_block(std::string& out, std::uint32_t type)
{
    const std::size_t at = out.size();
    put(out, type);
    put(out, std::uint32_t{0}); // total length, set by finish_block
    return at;
}

void finish_block(std::string& out, std::size_t at)
{
    const auto length = static_cast<std::uint32_t>(out.size() - at + 4);
    std::memcpy(out.data() + at + 4, &length, 4);
    put(out, length);
}

} // namespace

void append_section_header(std::string& out, std::string_view application)
{
    const std::size_t at = begin_block(out, kSectionHeader);
    put(out, kByteOrderMagic);
    put(out, std::uint16_t{1}); // major
    put(out, std::uint16_t{0}); // minor
    put(out, ~std::uint64_t{0}); // section length: not given
    if (!application.empty())
        option(out, kShbUserAppl, application.substr(0, 0xfff0));
    put(out, kOptEnd);
    put(out, std::uint16_t{0});
    finish_block(out, at);
}

void append_interface(std::string& out, std::uint16_t link_type, std::uint32_t snap_length,
                      std::string_view name)
{
    const std::size_t at = begin_block(out, kInterfaceDescription);
    put(out, link_type);
    put(out, std::uint16_t{0}); // reserved
    put(out, snap_length);
    if (!name.empty())
        option(out, kIfName, name.substr(0, 0xfff0));
    const char nanoseconds = 9; // if_tsresol: 10^-9 s
    option(out, kIfTsresol, {&nanoseconds, 1});
    put(out, kOptEnd);
    put(out, std::uint16_t{0});
    finish_block(out, at);
}

void append_packet(std::string& out, std::uint32_t interface, std::uint64_t time_ns,
                   ByteSpan data, std::uint32_t original_length, Direction direction)
{
    const std::size_t at = begin_block(out, kEnhancedPacket);
    put(out, interface);
    put(out, static_cast<std::uint32_t>(time_ns >> 32));
    put(out, static_cast<std::uint32_t>(time_ns));
    put(out, static_cast<std::uint32_t>(data.size()));
    put(out, original_length < data.size() ? static_cast<std::uint32_t>(data.size()) : original_length);
    out.append(reinterpret_cast<const char*>(data.data()), data.size());
    pad4(out);
    if (direction != Direction::Unknown) {
        const auto flags = static_cast<std::uint32_t>(direction);
        option(out, kEpbFlags, {reinterpret_cast<const char*>(&flags), 4});
        put(out, kOptEnd);
        put(out, std::uint16_t{0});
    }
    finish_block(out, at);
}

} // namespace idpath::mirror::pcapng
