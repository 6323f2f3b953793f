#pragma once
/// A stand-in upstream for the client's tests of what a correct server never sends (forged
/// challenges, bad signatures, cut streams, unsigned streams) and of the signed-block transport
/// a HANDLE.NET primary uses below 2.8: listens on 127.0.0.1, and for every connection reads one
/// request and hands it to the test's script, which writes whatever it likes.

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <ctime>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "controlplane/crypto/byte_stream.hpp"
#include "controlplane/crypto/signature.hpp"
#include "controlplane/replication/message_io.hpp"
#include "controlplane/replication/repl_stream.hpp"
#include "dataplane/wire/header.hpp"
#include "drivers/socket/address.hpp"

namespace idpath::replication::testing {

class ScriptedUpstream {
public:
    /// Called once per connection with its 0-based index and the request read from it.
    using Script = std::function<void(int index, const ReceivedMessage& request, crypto::ByteStream& s)>;

    explicit ScriptedUpstream(Script script) : script_(std::move(script))
    {
        fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        const int one = 1;
        ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
        ::listen(fd_, 16);
        socklen_t len = sizeof a;
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
        endpoint = socket::endpoint_from(reinterpret_cast<sockaddr*>(&a), len);
        thread_ = std::thread([this] { run(); });
    }
    ~ScriptedUpstream()
    {
        stop_ = true;
        thread_.join();
        ::close(fd_);
    }
    ScriptedUpstream(const ScriptedUpstream&) = delete;
    ScriptedUpstream& operator=(const ScriptedUpstream&) = delete;

    int connections() const { return connections_; }

    socket::Endpoint endpoint;

private:
    void run()
    {
        while (!stop_) {
            pollfd p{fd_, POLLIN, 0};
            if (::poll(&p, 1, 20) <= 0)
                continue;
            const int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
            if (c < 0)
                continue;
            auto s = crypto::plain_stream(c);
            const int index = connections_++;
            auto m = read_message(*s, 5000);
            if (m)
                script_(index, *m, *s);
        }
    }

    Script script_;
    int fd_ = -1;
    std::atomic<bool> stop_{false};
    std::atomic<int> connections_{0};
    std::thread thread_;
};

/// A reply to `request` with `rc` and `body` (no digest prefix, no credential).
inline std::vector<std::uint8_t> reply_to(const ReceivedMessage& request, std::uint32_t rc, ByteSpan body,
                                          std::uint32_t session_id = 0)
{
    auto h = wire::decode_header(request.message);
    wire::Envelope env = request.envelope;
    env.session_id = session_id;
    wire::Header hdr;
    hdr.opcode = h ? h->opcode : 0;
    hdr.response_code = rc;
    hdr.expiration = static_cast<std::uint32_t>(std::time(nullptr)) + 3600;
    return build_message(env, hdr, body);
}

/// The signed-plaintext stream of a primary answering below 2.8: "\0\0\0\0", String "SHA1",
/// then blocks each followed by its signature.
class SignedStreamWriter {
public:
    explicit SignedStreamWriter(const crypto::Key& key) : key_(key)
    {
        const std::uint8_t head[] = {0, 0, 0, 0, 0, 0, 0, 4, 'S', 'H', 'A', '1'};
        out.assign(std::begin(head), std::end(head));
    }
    /// Appends what `write` produces and its signature (`corrupt`: with one bit flipped).
    void block(const std::function<void(std::vector<std::uint8_t>&)>& write, bool corrupt = false)
    {
        std::vector<std::uint8_t> b;
        write(b);
        auto sig = crypto::sign(key_, "SHA1", b);
        std::vector<std::uint8_t> s = sig ? *sig : std::vector<std::uint8_t>{};
        if (corrupt && !s.empty())
            s[s.size() / 2] ^= 0x10;
        out.insert(out.end(), b.begin(), b.end());
        append_block_signature(s, out);
    }
    /// Appends without a signature (the dump's final 0xff).
    void bare(const std::function<void(std::vector<std::uint8_t>&)>& write) { write(out); }

    std::vector<std::uint8_t> out;

private:
    const crypto::Key& key_;
};

} // namespace idpath::replication::testing
