#include "drivers/socket/tcp_punt.hpp"

#include <unistd.h>

#include "drivers/socket/socket_setup.hpp"

namespace idpath::socket {

TcpPuntQueue::TcpPuntQueue(std::size_t ring_entries, std::size_t max_replies)
    : misses(ring_entries), event_(make_wake_fd()), max_replies_(max_replies)
{
}

bool TcpPuntQueue::give(std::uint32_t slot, std::uint32_t generation, ByteSpan reply)
{
    {
        const std::lock_guard lock(mutex_);
        if (waiting_.size() >= max_replies_) {
            dropped_.add();
            return false;
        }
        waiting_.push_back({slot, generation, std::vector<std::uint8_t>(reply.begin(), reply.end())});
    }
    wake(event_);
    return true;
}

void TcpPuntQueue::take(std::vector<TcpReply>& out)
{
    out.clear();
    // Reset the eventfd before taking: a reply given after the swap wakes the loop again.
    std::uint64_t count = 0;
    [[maybe_unused]] const ssize_t n = ::read(event_.get(), &count, sizeof count);
    const std::lock_guard lock(mutex_);
    waiting_.swap(out);
}

} // namespace idpath::socket
