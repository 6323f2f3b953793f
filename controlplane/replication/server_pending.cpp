#include "controlplane/replication/server_pending.hpp"

#include "controlplane/crypto/signature.hpp"
#include "dataplane/base/bytes.hpp"

namespace idpath::replication {

void PendingChallenges::purge(std::uint64_t now_ms)
{
    // `order_` is in creation order, so expired challenges are at its front; ids already taken
    // are skipped on the way.
    while (!order_.empty()) {
        auto it = by_id_.find(order_.front());
        if (it == by_id_.end()) {
            order_.pop_front();
            continue;
        }
        if (now_ms - it->second.created_ms < ttl_ms_)
            break;
        by_id_.erase(it);
        order_.pop_front();
        ++expired_;
    }
    // Taken ids linger in order_ until they reach its front; bound that too.
    if (order_.size() > 2 * capacity_ + 16) {
        std::deque<std::uint32_t> live;
        for (std::uint32_t id : order_)
            if (by_id_.count(id))
                live.push_back(id);
        order_.swap(live);
    }
}

std::uint32_t PendingChallenges::add(PendingChallenge p, std::uint64_t now_ms)
{
    std::lock_guard lock(mu_);
    purge(now_ms);
    while (capacity_ > 0 && by_id_.size() >= capacity_ && !order_.empty()) {
        if (by_id_.erase(order_.front()))
            ++dropped_;
        order_.pop_front();
    }
    std::uint32_t id = 0;
    while (id == 0 || by_id_.count(id)) {
        const auto r = crypto::random_bytes(4);
        id = load_be32(r.data());
    }
    p.created_ms = now_ms;
    by_id_.emplace(id, std::move(p));
    order_.push_back(id);
    return id;
}

std::optional<PendingChallenge> PendingChallenges::take(std::uint32_t session_id, std::uint64_t now_ms)
{
    std::lock_guard lock(mu_);
    purge(now_ms);
    auto it = by_id_.find(session_id);
    if (it == by_id_.end())
        return std::nullopt;
    PendingChallenge p = std::move(it->second);
    by_id_.erase(it);
    return p;
}

bool PendingChallenges::contains(std::uint32_t session_id, std::uint64_t now_ms)
{
    std::lock_guard lock(mu_);
    purge(now_ms);
    return by_id_.count(session_id) != 0;
}

std::size_t PendingChallenges::size() const
{
    std::lock_guard lock(mu_);
    return by_id_.size();
}

std::uint64_t PendingChallenges::dropped() const
{
    std::lock_guard lock(mu_);
    return dropped_;
}

std::uint64_t PendingChallenges::expired() const
{
    std::lock_guard lock(mu_);
    return expired_;
}

} // namespace idpath::replication
