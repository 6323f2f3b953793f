#pragma once
// A fake Handle server for the engine's tests: a UDP socket and a TCP listener on 127.0.0.1
// (kernel-chosen ports) answering RESOLUTION requests with canned replies built by
// dataplane/wire. One thread per server; small replies only (one datagram).

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "dataplane/base/byte_writer.hpp"
#include "dataplane/wire/message.hpp"
#include "dataplane/wire/resolution.hpp"
#include "dataplane/wire/response.hpp"
#include "dataplane/wire/server_hash.hpp"
#include "dataplane/wire/site_info.hpp"
#include "dataplane/wire/value.hpp"

namespace idpath::recursion::test {

struct Canned {
    std::uint32_t rc = 1;
    std::vector<wire::HandleValue> values; // the answer's, or a referral's service values
    std::string message;                   // error responses
};

using Handler = std::function<Canned(const std::string& handle)>;

inline wire::HandleValue text_value(std::uint32_t index, std::string type, std::string data,
                                    std::uint32_t ttl = 86400)
{
    wire::HandleValue v;
    v.index = index;
    v.timestamp = 1767323045;
    v.ttl = ttl;
    v.type = std::move(type);
    v.data.assign(data.begin(), data.end());
    return v;
}

inline wire::HandleValue site_value(std::uint32_t index, std::string type,
                                    std::vector<wire::SiteServer> servers,
                                    std::uint8_t hash = wire::site::kHashByHandle,
                                    std::uint32_t ttl = 86400,
                                    std::uint8_t primary_mask = wire::site::kPrimaryMask)
{
    wire::SiteInfo s;
    s.hash_option = hash;
    s.primary_mask = primary_mask;
    s.servers = std::move(servers);
    wire::HandleValue v = text_value(index, std::move(type), "", ttl);
    v.data = wire::encode_site_info(s);
    return v;
}

class FakeServer {
public:
    explicit FakeServer(Handler handler, bool udp_silent = false)
        : handler_(std::move(handler))
        , udp_silent_(udp_silent)
    {
        udp_ = bind_loopback(SOCK_DGRAM, udp_port_);
        tcp_ = bind_loopback(SOCK_STREAM, tcp_port_);
        ::listen(tcp_, 16);
        thread_ = std::thread([this] { loop(); });
    }
    ~FakeServer()
    {
        stop_ = true;
        thread_.join();
        ::close(udp_);
        ::close(tcp_);
    }
    FakeServer(const FakeServer&) = delete;
    FakeServer& operator=(const FakeServer&) = delete;

    /// This server as an HS_SITE server record: UDP and TCP query interfaces.
    wire::SiteServer server(std::uint32_t id = 1) const
    {
        wire::SiteServer s;
        s.server_id = id;
        wire::parse_site_address("127.0.0.1", s.address);
        s.interfaces = {{wire::site::kInterfaceQuery, wire::site::kProtocolUdp, udp_port_},
                        {wire::site::kInterfaceAdminAndQuery, wire::site::kProtocolTcp, tcp_port_}};
        return s;
    }
    std::uint16_t udp_port() const noexcept { return udp_port_; }

    std::vector<std::string> questions() const
    {
        std::lock_guard lock(mutex_);
        return questions_;
    }

    /// The OpFlags of each question, in questions() order.
    std::vector<std::uint32_t> op_flags() const
    {
        std::lock_guard lock(mutex_);
        return op_flags_;
    }

    std::atomic<int> udp_queries{0};
    std::atomic<int> tcp_queries{0};

private:
    static int bind_loopback(int type, std::uint16_t& port)
    {
        const int fd = ::socket(AF_INET, type, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
        socklen_t len = sizeof a;
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
        port = ntohs(a.sin_port);
        return fd;
    }

    /// The reply (envelope + message) to one request, or empty if it does not decode.
    std::vector<std::uint8_t> answer(ByteSpan request)
    {
        const auto frame = wire::decode_frame(request);
        if (!frame.ok())
            return {};
        const auto msg = wire::decode_message(frame->payload);
        if (!msg.ok())
            return {};
        const auto req = wire::decode_resolution_request(msg->body);
        if (!req.ok())
            return {};
        const std::string handle(req->handle.begin(), req->handle.end());
        {
            std::lock_guard lock(mutex_);
            questions_.push_back(handle);
            op_flags_.push_back(msg->header.op_flags);
        }
        const Canned c = handler_(handle);
        std::vector<std::uint8_t> buf(65536);
        wire::MessageWriter mw(buf);
        ByteWriter& w = mw.body();
        if (c.rc == 1 || c.rc == 302 || c.rc == 303) {
            w.string(c.rc == 1 ? std::string_view(handle) : std::string_view());
            w.u32(static_cast<std::uint32_t>(c.values.size()));
            for (const wire::HandleValue& v : c.values)
                wire::encode_value(w, v);
        } else {
            wire::encode_error_body(w, c.message);
        }
        wire::Header h;
        h.opcode = 1;
        h.response_code = c.rc;
        h.op_flags = msg->header.op_flags;
        h.expiration = 2000000000;
        const std::size_t n = mw.finish(wire::reply_envelope(frame->envelope, 0), h);
        buf.resize(n);
        return buf;
    }

    void serve_tcp(int fd)
    {
        timeval tv{1, 0};
        ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        std::vector<std::uint8_t> in(20);
        if (::recv(fd, in.data(), 20, MSG_WAITALL) != 20)
            return;
        const std::uint32_t len = load_be32(in.data() + 16);
        if (len > 65536)
            return;
        in.resize(20 + len);
        if (::recv(fd, in.data() + 20, len, MSG_WAITALL) != static_cast<ssize_t>(len))
            return;
        ++tcp_queries;
        const auto out = answer(in);
        if (!out.empty())
            (void)!::send(fd, out.data(), out.size(), MSG_NOSIGNAL);
    }

    void loop()
    {
        std::vector<std::uint8_t> buf(65536);
        while (!stop_) {
            pollfd p[2] = {{udp_, POLLIN, 0}, {tcp_, POLLIN, 0}};
            if (::poll(p, 2, 20) <= 0)
                continue;
            if (p[0].revents & POLLIN) {
                sockaddr_storage from{};
                socklen_t flen = sizeof from;
                const ssize_t n = ::recvfrom(udp_, buf.data(), buf.size(), 0,
                                             reinterpret_cast<sockaddr*>(&from), &flen);
                if (n > 0 && !udp_silent_) {
                    ++udp_queries;
                    const auto out = answer(ByteSpan(buf.data(), static_cast<std::size_t>(n)));
                    if (!out.empty())
                        ::sendto(udp_, out.data(), out.size(), 0,
                                 reinterpret_cast<sockaddr*>(&from), flen);
                } else if (n > 0) {
                    ++udp_queries;
                }
            }
            if (p[1].revents & POLLIN) {
                const int fd = ::accept(tcp_, nullptr, nullptr);
                if (fd >= 0) {
                    serve_tcp(fd);
                    ::close(fd);
                }
            }
        }
    }

    Handler handler_;
    bool udp_silent_;
    std::vector<std::uint32_t> op_flags_;
    int udp_ = -1;
    int tcp_ = -1;
    std::uint16_t udp_port_ = 0;
    std::uint16_t tcp_port_ = 0;
    std::atomic<bool> stop_{false};
    mutable std::mutex mutex_;
    std::vector<std::string> questions_;
    std::thread thread_;
};

} // namespace idpath::recursion::test
