#pragma once
/// The hand-off between the AF_XDP ports of one run: an answer arrives on whichever queue the
/// network (RSS on the server, then on our NIC; a veth's peer TX queue) puts it on, which need
/// not be the queue whose socket sent its query. The port that receives it reads the owning
/// queue from the destination port (xdp_source.hpp) and copies the datagram into that queue's
/// inbox; the owner takes it out on its next receive() and matches it as if it had arrived
/// there. One bounded multi-producer queue per queue (D. Vyukov's bounded MPMC array queue): no
/// locks, no allocation after construction, a full inbox drops (the query then times out).
/// Thread-safety: push() from any thread; pop() from the owning queue's thread only.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "dataplane/base/bytes.hpp"
#include "dataplane/wire/constants.hpp"

namespace idpath::gun {

class XdpInbox {
public:
    static constexpr std::uint32_t kSlots = 4096; // a power of two

    XdpInbox() : slots_(new Slot[kSlots])
    {
        for (std::uint32_t i = 0; i < kSlots; ++i)
            slots_[i].sequence.store(i, std::memory_order_relaxed);
    }

    /// Copies `datagram` (at most kMaxUdpDatagram octets) in; false when the inbox is full.
    bool push(ByteSpan datagram) noexcept
    {
        if (datagram.size() > wire::kMaxUdpDatagram)
            return false;
        std::uint64_t pos = tail_.load(std::memory_order_relaxed);
        for (;;) {
            Slot& s = slots_[pos & (kSlots - 1)];
            const std::uint64_t seq = s.sequence.load(std::memory_order_acquire);
            if (seq == pos) {
                if (tail_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed))
                    break;
            } else if (seq < pos) {
                return false; // full
            } else {
                pos = tail_.load(std::memory_order_relaxed);
            }
        }
        Slot& s = slots_[pos & (kSlots - 1)];
        std::memcpy(s.data, datagram.data(), datagram.size());
        s.length = static_cast<std::uint16_t>(datagram.size());
        s.sequence.store(pos + 1, std::memory_order_release);
        return true;
    }

    /// Copies the oldest datagram into `out` (kMaxUdpDatagram octets); its size, or -1 when the
    /// inbox is empty.
    int pop(std::uint8_t* out) noexcept
    {
        Slot& s = slots_[head_ & (kSlots - 1)];
        if (s.sequence.load(std::memory_order_acquire) != head_ + 1)
            return -1;
        const int n = s.length;
        std::memcpy(out, s.data, s.length);
        s.sequence.store(head_ + kSlots, std::memory_order_release);
        ++head_;
        return n;
    }

    bool maybe_nonempty() const noexcept
    {
        return slots_[head_ & (kSlots - 1)].sequence.load(std::memory_order_relaxed) == head_ + 1;
    }

private:
    struct Slot {
        std::atomic<std::uint64_t> sequence{0};
        std::uint16_t length = 0;
        std::uint8_t data[wire::kMaxUdpDatagram];
    };
    std::unique_ptr<Slot[]> slots_;
    alignas(64) std::atomic<std::uint64_t> tail_{0}; // producers
    alignas(64) std::uint64_t head_ = 0;             // the one consumer
};

/// One inbox per queue of a run, and whether each queue still waits for answers: a queue whose
/// own queries are all answered keeps reading its RX ring while another's are not, since their
/// answers may arrive on it.
struct XdpHandoff {
    std::vector<std::unique_ptr<XdpInbox>> inboxes;
    std::unique_ptr<std::atomic<bool>[]> waiting;

    explicit XdpHandoff(std::uint32_t queues) : waiting(new std::atomic<bool>[queues])
    {
        for (std::uint32_t q = 0; q < queues; ++q) {
            inboxes.push_back(std::make_unique<XdpInbox>());
            waiting[q].store(false, std::memory_order_relaxed);
        }
    }
};

} // namespace idpath::gun
