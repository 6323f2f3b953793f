#pragma once
/// The serving threads' log rings, one per source, made by idpathd before the threads start
/// and drained by the exporter. Addresses are stable for the set's life.

#include <cstdint>
#include <deque>
#include <string>

#include "dataplane/querylog/query_log.hpp"

namespace idpath::mirror {

class RingSet {
public:
    explicit RingSet(std::size_t capacity) : capacity_(capacity) {}

    struct Entry {
        Entry(std::uint16_t s, std::string n, std::size_t capacity) : source(s), name(std::move(n)), ring(capacity) {}
        std::uint16_t source;
        std::string name; // "udp-0", "tcp", "lcore-2": shown in metrics
        querylog::Ring ring;
        /// The producer's counters (produced, lost), set by whoever makes its QueryLog.
        const querylog::QueryLogStats* stats = nullptr;
    };

    /// A new ring for `source`. Before the exporter starts only.
    Entry& add(std::uint16_t source, std::string name) { return entries_.emplace_back(source, std::move(name), capacity_); }

    std::deque<Entry>& entries() noexcept { return entries_; }
    const std::deque<Entry>& entries() const noexcept { return entries_; }
    std::size_t capacity() const noexcept { return capacity_; }

private:
    std::size_t capacity_;
    std::deque<Entry> entries_;
};

} // namespace idpath::mirror
