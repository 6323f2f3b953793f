#include "controlplane/mirror/file/chain.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <cstring>
#include <memory>

#include <nlohmann/json.hpp>

namespace idpath::mirror {

namespace {

constexpr std::uint8_t kFrameMagic[4] = {'I', 'P', 'L', 'K'};
/// zstd skippable frame 0x184D2A5C, little-endian, then its content size (88).
constexpr std::uint8_t kSkippable[8] = {0x5c, 0x2a, 0x4d, 0x18, kChainHeaderBytes, 0, 0, 0};
constexpr std::string_view kChainLineStart = "{\"kind\":\"chain\"";
constexpr std::size_t kMaxChainLine = 512;

using Canonical = std::array<std::uint8_t, 24>;

Canonical canonical_header(FrameType type, std::uint64_t index, std::uint32_t size)
{
    Canonical h{};
    std::memcpy(h.data(), kFrameMagic, 4);
    h[4] = static_cast<std::uint8_t>(type);
    for (int i = 0; i < 8; ++i)
        h[8 + i] = static_cast<std::uint8_t>(index >> (8 * i));
    for (int i = 0; i < 4; ++i)
        h[16 + i] = static_cast<std::uint8_t>(size >> (8 * i));
    return h;
}

bool unhex(std::string_view s, Link& l)
{
    if (s.size() != 64)
        return false;
    auto nibble = [](char c) -> int {
        if (c >= '0' && c <= '9')
            return c - '0';
        if (c >= 'a' && c <= 'f')
            return c - 'a' + 10;
        return -1;
    };
    for (std::size_t i = 0; i < 32; ++i) {
        const int a = nibble(s[2 * i]), b = nibble(s[2 * i + 1]);
        if (a < 0 || b < 0)
            return false;
        l[i] = static_cast<std::uint8_t>(a << 4 | b);
    }
    return true;
}

/// The 88 binary octets; Bad unless the canonical part is exactly what its fields make.
ParsedHeader parse_binary(const std::uint8_t* b)
{
    ParsedHeader p;
    std::uint64_t index = 0;
    std::uint32_t size = 0;
    for (int i = 0; i < 8; ++i)
        index |= std::uint64_t{b[8 + i]} << (8 * i);
    for (int i = 0; i < 4; ++i)
        size |= std::uint32_t{b[16 + i]} << (8 * i);
    const auto type = static_cast<FrameType>(b[4]);
    if ((type != FrameType::Batch && type != FrameType::Seal) || size > kMaxFrameData ||
        std::memcmp(canonical_header(type, index, size).data(), b, sizeof(Canonical)) != 0 ||
        (type == FrameType::Seal && size != 0)) {
        p.status = ParsedHeader::Status::Bad;
        return p;
    }
    p.status = ParsedHeader::Status::Ok;
    p.head.type = type;
    p.head.index = index;
    p.head.size = size;
    std::memcpy(p.head.prev.data(), b + 24, 32);
    std::memcpy(p.head.link.data(), b + 56, 32);
    return p;
}

ParsedHeader parse_line(std::string_view in)
{
    ParsedHeader p;
    const auto nl = in.find('\n');
    if (nl == std::string_view::npos) {
        if (in.size() > kMaxChainLine || !kChainLineStart.starts_with(in.substr(0, kChainLineStart.size())))
            p.status = ParsedHeader::Status::Bad;
        return p;
    }
    p.status = ParsedHeader::Status::Bad;
    const std::string_view line = in.substr(0, nl);
    if (!line.starts_with(kChainLineStart))
        return p;
    const auto j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_object() || j.size() != 6)
        return p;
    try {
        const std::string type = j.at("type").get<std::string>();
        const auto bytes = j.at("bytes").get<std::uint64_t>();
        p.head.type = type == "seal" ? FrameType::Seal : FrameType::Batch;
        p.head.index = j.at("index").get<std::uint64_t>();
        if ((type != "seal" && type != "batch") || bytes > kMaxFrameData || (type == "seal" && bytes != 0) ||
            !unhex(j.at("prev").get<std::string>(), p.head.prev) ||
            !unhex(j.at("link").get<std::string>(), p.head.link))
            return p;
        p.head.size = static_cast<std::uint32_t>(bytes);
    } catch (const nlohmann::json::exception&) {
        return p;
    }
    // Exactly the line the writer makes: nothing else in it goes unhashed.
    std::string again;
    append_chain_header(LogFormat::Json, false, p.head, again);
    if (again.size() != nl + 1 || std::memcmp(again.data(), in.data(), again.size()) != 0)
        return p;
    p.status = ParsedHeader::Status::Ok;
    p.size = nl + 1;
    return p;
}

} // namespace

Link chain_link(const Link& prev, FrameType type, std::uint64_t index, ByteSpan stored)
{
    const Canonical header = canonical_header(type, index, static_cast<std::uint32_t>(stored.size()));
    const std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    Link l{};
    unsigned size = 0;
    // Only allocation can fail here; a zero link then never matches, so the chain reports it.
    if (ctx && EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) == 1 &&
        EVP_DigestUpdate(ctx.get(), prev.data(), prev.size()) == 1 &&
        EVP_DigestUpdate(ctx.get(), header.data(), header.size()) == 1 &&
        EVP_DigestUpdate(ctx.get(), stored.data(), stored.size()) == 1)
        EVP_DigestFinal_ex(ctx.get(), l.data(), &size);
    return l;
}

std::string hex(const Link& l)
{
    static constexpr char d[] = "0123456789abcdef";
    std::string s(64, '0');
    for (std::size_t i = 0; i < l.size(); ++i) {
        s[2 * i] = d[l[i] >> 4];
        s[2 * i + 1] = d[l[i] & 15];
    }
    return s;
}

void append_chain_header(LogFormat format, bool compressed, const FrameHead& head, std::string& out)
{
    if (format == LogFormat::Json && !compressed) {
        out += kChainLineStart;
        out += head.type == FrameType::Seal ? ",\"type\":\"seal\"" : ",\"type\":\"batch\"";
        out += ",\"index\":" + std::to_string(head.index);
        out += ",\"bytes\":" + std::to_string(head.size);
        out += ",\"prev\":\"" + hex(head.prev) + "\",\"link\":\"" + hex(head.link) + "\"}\n";
        return;
    }
    if (compressed)
        out.append(reinterpret_cast<const char*>(kSkippable), sizeof kSkippable);
    const Canonical h = canonical_header(head.type, head.index, head.size);
    out.append(reinterpret_cast<const char*>(h.data()), h.size());
    out.append(reinterpret_cast<const char*>(head.prev.data()), head.prev.size());
    out.append(reinterpret_cast<const char*>(head.link.data()), head.link.size());
}

ParsedHeader parse_chain_header(LogFormat format, bool compressed, std::string_view in)
{
    if (format == LogFormat::Json && !compressed)
        return parse_line(in);
    const std::size_t skip = compressed ? sizeof kSkippable : 0;
    // What is there of the fixed prefix (skippable frame header, "IPLK") must match, so damage
    // is told apart from a file still being written.
    std::uint8_t prefix[sizeof kSkippable + sizeof kFrameMagic];
    std::memcpy(prefix, kSkippable, skip);
    std::memcpy(prefix + skip, kFrameMagic, sizeof kFrameMagic);
    ParsedHeader p;
    if (std::memcmp(in.data(), prefix, std::min(in.size(), skip + sizeof kFrameMagic)) != 0) {
        p.status = ParsedHeader::Status::Bad;
        return p;
    }
    if (in.size() < skip + kChainHeaderBytes)
        return p;
    p = parse_binary(reinterpret_cast<const std::uint8_t*>(in.data()) + skip);
    p.size = skip + kChainHeaderBytes;
    return p;
}

} // namespace idpath::mirror
