#include "controlplane/mirror/kafka/kafka_payload.hpp"

#include <algorithm>
#include <limits>
#include <optional>

#include "controlplane/mirror/core/encode.hpp"

namespace idpath::mirror {

namespace {

/// A source's records, as indexes into the batch, in batch order.
struct Group {
    std::uint16_t source;
    std::vector<std::uint32_t> index;
};

std::vector<Group> group_by_source(const Batch& b)
{
    std::vector<Group> groups;
    std::size_t at = 0;
    for (std::uint32_t i = 0; i < b.records.size(); ++i) {
        const std::uint16_t source = b.records[i].source;
        if (groups.empty() || groups[at].source != source) {
            auto it = std::find_if(groups.begin(), groups.end(),
                                   [source](const Group& g) { return g.source == source; });
            if (it == groups.end())
                it = groups.insert(groups.end(), Group{source, {}});
            at = static_cast<std::size_t>(it - groups.begin());
        }
        groups[at].index.push_back(i);
    }
    return groups;
}

/// Binary pieces of one group's items [begin, end): `part(begin, end)` makes the batch to encode.
/// A piece over `max_bytes` is cut into as many as its size says, each checked again.
template <class Part>
void binary_pieces(const Part& part, std::size_t begin, std::size_t end, Piece proto,
                   std::size_t max_bytes, const Origin& origin, Payload& out)
{
    const std::size_t at = out.bytes.size();
    encode_binary(part(begin, end), origin, out.bytes);
    const std::size_t size = out.bytes.size() - at;
    const std::size_t items = end - begin;
    if (size > max_bytes && items > 1) {
        out.bytes.resize(at);
        const std::size_t cuts = std::min(items, size / max_bytes + 1);
        const std::size_t step = (items + cuts - 1) / cuts;
        for (std::size_t from = begin; from < end; from += step)
            binary_pieces(part, from, std::min(from + step, end), proto, max_bytes, origin, out);
        return;
    }
    proto.offset = at;
    proto.length = size;
    proto.first = static_cast<std::uint32_t>(begin);
    proto.items = static_cast<std::uint32_t>(items);
    out.pieces.push_back(proto);
}

void cut_binary(const Batch& b, const Origin& origin, std::size_t limit, std::size_t max_bytes,
                Payload& out)
{
    const auto header = [&b] {
        Batch part;
        part.id = b.id;
        part.replayed = b.replayed;
        return part;
    };
    const std::vector<Group> groups = group_by_source(b);
    // What encode_binary() would reserve, once for all the pieces: no regrowth copies.
    out.bytes.reserve(b.records.size() * 110 + b.events.size() * 64 + (groups.size() + 1) * 128);
    // The common case, one serving thread's records and no events: encode the batch as it is.
    if (groups.size() == 1 && b.events.empty() && b.records.size() <= limit) {
        const std::size_t at = out.bytes.size();
        encode_binary(b, origin, out.bytes);
        if (out.bytes.size() - at <= max_bytes) {
            out.pieces.push_back(Piece{at, out.bytes.size() - at, groups[0].source, false, 0,
                                       static_cast<std::uint32_t>(b.records.size())});
            return;
        }
        out.bytes.resize(at); // too long for one message: cut below
    }
    for (const Group& g : groups) {
        const auto part = [&](std::size_t begin, std::size_t end) {
            Batch p = header();
            p.records.reserve(end - begin);
            for (std::size_t i = begin; i < end; ++i)
                p.records.push_back(b.records[g.index[i]]);
            return p;
        };
        for (std::size_t from = 0; from < g.index.size(); from += limit)
            binary_pieces(part, from, from + std::min(limit, g.index.size() - from),
                          Piece{0, 0, g.source, false, 0, 0}, max_bytes, origin, out);
    }
    const auto events = [&](std::size_t begin, std::size_t end) {
        Batch p = header();
        p.events.assign(b.events.begin() + static_cast<std::ptrdiff_t>(begin),
                        b.events.begin() + static_cast<std::ptrdiff_t>(end));
        return p;
    };
    for (std::size_t from = 0; from < b.events.size(); from += limit)
        binary_pieces(events, from, from + std::min(limit, b.events.size() - from),
                      Piece{0, 0, kControlSource, true, 0, 0}, max_bytes, origin, out);
}

/// Appends lines to pieces of one group, closing a piece at `limit` lines or before the line
/// that would take it past `max_bytes`.
class LineCutter {
public:
    LineCutter(Payload& out, std::size_t limit, std::size_t max_bytes, std::uint16_t source, bool events)
        : out_(out), limit_(limit), max_bytes_(max_bytes), proto_{0, 0, source, events, 0, 0}
    {
    }
    ~LineCutter() { close(out_.bytes.size()); }
    LineCutter(const LineCutter&) = delete;
    LineCutter& operator=(const LineCutter&) = delete;

    /// Call after appending item `index`'s line, which starts at `line_start`.
    void added(std::size_t index, std::size_t line_start)
    {
        if (open_ && out_.bytes.size() - open_->offset > max_bytes_)
            close(line_start);
        if (!open_) {
            open_ = proto_;
            open_->offset = line_start;
            open_->first = static_cast<std::uint32_t>(index);
        }
        if (++open_->items == limit_)
            close(out_.bytes.size());
    }

private:
    void close(std::size_t end)
    {
        if (!open_)
            return;
        open_->length = end - open_->offset;
        out_.pieces.push_back(*open_);
        open_.reset();
    }

    Payload& out_;
    std::size_t limit_;
    std::size_t max_bytes_;
    Piece proto_;
    std::optional<Piece> open_;
};

void cut_json(const Batch& b, const Origin& origin, std::size_t limit, std::size_t max_bytes,
              Payload& out)
{
    out.held.id = b.id;
    out.held.replayed = b.replayed;
    out.held.records.reserve(b.records.size());
    const JsonEncoder json(origin);
    // About a query's line (encode.hpp reserves the same): no regrowth copies of a large buffer.
    out.bytes.reserve(b.records.size() * 480 + b.events.size() * 256);
    for (const Group& g : group_by_source(b)) {
        LineCutter cut(out, limit, max_bytes, g.source, false);
        for (const std::uint32_t i : g.index) {
            const std::size_t index = out.held.records.size();
            out.held.records.push_back(b.records[i]);
            const std::size_t start = out.bytes.size();
            json.record(b.records[i], b.replayed, out.bytes);
            out.bytes.push_back('\n');
            cut.added(index, start);
        }
    }
    out.held.events = b.events;
    LineCutter cut(out, limit, max_bytes, kControlSource, true);
    for (std::size_t i = 0; i < b.events.size(); ++i) {
        const std::size_t start = out.bytes.size();
        json.event(b.events[i], b.replayed, out.bytes);
        out.bytes.push_back('\n');
        cut.added(i, start);
    }
}

} // namespace

void cut_messages(const Batch& batch, const Origin& origin, KafkaFormat format,
                  std::size_t message_records, std::size_t max_bytes, Payload& out)
{
    out.bytes.clear();
    out.pieces.clear();
    out.held.records.clear(); // clear(), not a fresh Payload: the sink reuses its buffers
    out.held.events.clear();
    const std::size_t limit = message_records          ? message_records
                              : format == KafkaFormat::Json ? 1
                                                            : std::numeric_limits<std::size_t>::max();
    if (format == KafkaFormat::Json)
        cut_json(batch, origin, limit, max_bytes, out);
    else
        cut_binary(batch, origin, limit, max_bytes, out);
}

Result<Batch, std::string> piece_batch(const Payload& payload, const Piece& piece, KafkaFormat format)
{
    if (format == KafkaFormat::Binary) {
        std::size_t consumed = 0;
        auto decoded = decode_binary(
            ByteSpan(reinterpret_cast<const std::uint8_t*>(payload.bytes.data()) + piece.offset,
                     piece.length),
            consumed);
        if (!decoded)
            return Err(decoded.error());
        return std::move(decoded->batch);
    }
    Batch b;
    b.id = payload.held.id;
    b.replayed = payload.held.replayed;
    if (piece.events) {
        const auto from = payload.held.events.begin() + piece.first;
        b.events.assign(from, from + piece.items);
    } else {
        const auto from = payload.held.records.begin() + piece.first;
        b.records.assign(from, from + piece.items);
    }
    return b;
}

} // namespace idpath::mirror
