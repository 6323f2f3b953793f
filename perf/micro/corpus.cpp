#include "perf/micro/corpus.hpp"

#include <chrono>
#include <cstdio>
#include <map>
#include <random>
#include <string_view>

#include "dataplane/table/handle_key.hpp"
#include "dataplane/wire/admin_values.hpp"
#include "dataplane/wire/constants.hpp"
#include "dataplane/wire/header.hpp"
#include "dataplane/wire/message.hpp"
#include "dataplane/wire/resolution.hpp"
#include "perf/datagen/generator.hpp"
#include "perf/datagen/handle_values.hpp"

namespace idpath::bench {
namespace {

std::vector<std::uint8_t> text(std::string_view s)
{
    return {s.begin(), s.end()};
}

wire::HandleValue value(std::uint32_t index, std::string type, std::vector<std::uint8_t> data)
{
    wire::HandleValue v;
    v.index = index;
    v.timestamp = kNow - 86400;
    v.type = std::move(type);
    v.data = std::move(data);
    return v;
}

std::vector<wire::HandleValue> values_of(std::size_t i)
{
    char buf[160];
    std::vector<wire::HandleValue> values;
    std::snprintf(buf, sizeof buf, "https://data.example-industry.cn/objects/2024/%08zu/detail", i);
    values.push_back(value(1, "URL", text(buf)));
    std::snprintf(buf, sizeof buf, "registry-%zu@example-industry.cn", i % 1000);
    values.push_back(value(2, "EMAIL", text(buf)));
    std::snprintf(buf, sizeof buf,
                  "{\"model\":\"EX-%06zu\",\"batch\":\"B%05zu\",\"made\":\"2024-05-17\","
                  "\"plant\":\"Suzhou-3\",\"ok\":1}",
                  i % 1000000, i % 100000);
    values.push_back(value(3, "88.100.1/TYPE.PRODUCT", text(buf)));
    values.push_back(value(100, "HS_ADMIN", wire::encode_admin_record({wire::admin_perm::kAll, "0.NA/88.100.1", 200})));
    return values;
}

std::size_t encode_request(std::string_view handle, RequestKind kind, std::uint32_t id, MutableByteSpan out)
{
    static constexpr std::uint32_t kIndexes[] = {1, 100};
    static constexpr std::string_view kTypes[] = {"URL", "EMAIL"};
    wire::MessageWriter m(out);
    const bool by_index = kind == RequestKind::IndexFilter;
    const bool by_type = kind == RequestKind::TypeFilter;
    wire::encode_resolution_request(m.body(), handle, by_index ? std::span<const std::uint32_t>(kIndexes)
                                                               : std::span<const std::uint32_t>{},
                                    by_type ? std::span<const std::string_view>(kTypes)
                                            : std::span<const std::string_view>{});
    wire::Envelope env;
    env.request_id = id;
    wire::Header h;
    h.opcode = static_cast<std::uint32_t>(wire::OpCode::Resolution);
    h.op_flags = wire::opflag::kRecursive | wire::opflag::kCacheCertify | wire::opflag::kPublicOnly;
    if (kind == RequestKind::Digest)
        h.op_flags |= wire::opflag::kReturnDigest;
    h.expiration = kNow + wire::kDefaultExpirationSeconds;
    return m.finish(env, h);
}

/// idpath-datagen with its default options, so a file it writes holds the same identifiers.
const datagen::Generator& realistic()
{
    static const datagen::Generator gen(datagen::GeneratorConfig{});
    return gen;
}

void add_fixed(table::TableBuilder& b, std::size_t n)
{
    for (std::size_t i = 0; i < n; ++i)
        b.add(handle_of(i), values_of(i));
}

void add_realistic(table::TableBuilder& b, std::size_t n)
{
    datagen::Identifier id;
    for (std::size_t i = 0; i < n; ++i) {
        realistic().make(i, id);
        b.add(id.handle, datagen::to_handle_values(id));
    }
}

} // namespace

std::string Corpus::handle(std::size_t i) const
{
    return kind == CorpusKind::Realistic ? realistic().handle(i) : handle_of(i);
}

std::string handle_of(std::size_t i)
{
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*s/bench-%08zu", static_cast<int>(kPrefix.size()), kPrefix.data(), i);
    return buf;
}

const Corpus& corpus(std::size_t n, CorpusKind kind)
{
    static std::map<std::pair<std::size_t, CorpusKind>, std::unique_ptr<Corpus>> built;
    auto& slot = built[{n, kind}];
    if (!slot) {
        const auto start = std::chrono::steady_clock::now();
        table::TableBuilder b;
        b.home(kPrefix);
        if (kind == CorpusKind::Realistic)
            add_realistic(b, n);
        else
            add_fixed(b, n);
        slot = std::make_unique<Corpus>();
        slot->table = std::move(b).build();
        slot->size = n;
        slot->kind = kind;
        slot->build_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    }
    return *slot;
}

RequestPool make_requests(const Corpus& c, RequestKind kind, std::uint64_t seed)
{
    std::mt19937_64 rng(seed);
    RequestPool p;
    p.bytes.resize(kPoolSize * wire::kMaxUdpDatagram);
    std::vector<std::size_t> sizes(kPoolSize);
    for (std::size_t k = 0; k < kPoolSize; ++k) {
        const bool miss = kind == RequestKind::Miss || (kind == RequestKind::Mixed && rng() % 10 == 0);
        const std::size_t i = static_cast<std::size_t>(rng() % c.size);
        const std::string handle = miss ? std::string(kPrefix) + "/missing-" + std::to_string(k) : c.handle(i);
        sizes[k] = encode_request(handle, kind, static_cast<std::uint32_t>(k),
                                  {p.bytes.data() + k * wire::kMaxUdpDatagram, wire::kMaxUdpDatagram});
        p.keys.push_back(table::normalize(handle));
    }
    for (std::size_t k = 0; k < kPoolSize; ++k) {
        const ByteSpan d{p.bytes.data() + k * wire::kMaxUdpDatagram, sizes[k]};
        const auto frame = wire::decode_frame(d);
        const auto msg = wire::decode_message(frame->payload);
        p.datagrams.push_back(d);
        p.envelopes.push_back(frame->envelope);
        p.messages.push_back(frame->payload);
        p.bodies.push_back(msg->body);
    }
    return p;
}

} // namespace idpath::bench
