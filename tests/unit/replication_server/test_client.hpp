#pragma once
/// A minimal replication client for tests: what a HANDLE.NET mirror sends a primary (request,
/// 402, 200 on a new connection, reply, stream), written from message_io, crypto and the
/// repl_wire / repl_stream codecs, independent of the real client (repl_client.hpp).

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "controlplane/crypto/byte_stream.hpp"
#include "controlplane/crypto/keys.hpp"
#include "controlplane/crypto/signature.hpp"
#include "controlplane/crypto/tls_stream.hpp"
#include "controlplane/replication/message_io.hpp"
#include "controlplane/replication/repl_stream.hpp"
#include "controlplane/replication/repl_wire.hpp"
#include "dataplane/wire/constants.hpp"
#include "dataplane/wire/message.hpp"
#include "drivers/socket/address.hpp"

namespace idpath::replication::testing {

inline constexpr int kTestTimeoutMs = 10000;

inline std::unique_ptr<crypto::ByteStream> connect_tcp(const socket::Endpoint& ep)
{
    const int fd = ::socket(ep.family(), SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return nullptr;
    if (::connect(fd, ep.addr(), ep.length) != 0) {
        ::close(fd);
        return nullptr;
    }
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
    return crypto::plain_stream(fd);
}

struct Request {
    std::uint32_t opcode = 0;
    std::vector<std::uint8_t> body;
    // What HANDLE.NET 9.2's ReplicationDaemon sends (research section 1.15).
    std::uint32_t flags = wire::opflag::kRecursive | wire::opflag::kCacheCertify | wire::opflag::kPublicOnly;
    std::uint8_t major = 2;
    std::uint8_t minor = 11;
    std::uint8_t suggested_major = 0;
    std::uint8_t suggested_minor = 0;
    std::uint32_t session_id = 0;
    std::uint32_t request_id = 7;
};

inline std::vector<std::uint8_t> request_bytes(const Request& r)
{
    wire::Envelope env;
    env.major = r.major;
    env.minor = r.minor;
    env.suggested_major = r.suggested_major;
    env.suggested_minor = r.suggested_minor;
    env.session_id = r.session_id;
    env.request_id = r.request_id;
    wire::Header h;
    h.opcode = r.opcode;
    h.op_flags = r.flags;
    h.site_serial = 1;
    h.expiration = 2000000000;
    return build_message(env, h, r.body);
}

struct Reply {
    wire::Envelope envelope;
    wire::Header header;
    std::vector<std::uint8_t> header_and_body;
    std::vector<std::uint8_t> body;
    std::vector<std::uint8_t> credential;
};

inline Result<Reply, std::string> exchange(crypto::ByteStream& s, const Request& r)
{
    const auto bytes = request_bytes(r);
    if (auto w = s.write_all(bytes, kTestTimeoutMs); !w)
        return Err("write: " + w.error());
    auto m = read_message(s, kTestTimeoutMs);
    if (!m)
        return Err("read: " + m.error());
    auto v = wire::decode_message(m->message);
    if (!v)
        return Err(std::string("malformed reply"));
    Reply out;
    out.envelope = m->envelope;
    out.header = v->header;
    out.header_and_body.assign(v->header_and_body.begin(), v->header_and_body.end());
    out.body.assign(v->body.begin(), v->body.end());
    out.credential.assign(v->credential.begin(), v->credential.end());
    return out;
}

inline Result<Reply, std::string> exchange(const socket::Endpoint& ep, const Request& r)
{
    auto s = connect_tcp(ep);
    if (!s)
        return Err(std::string("connect failed"));
    return exchange(*s, r);
}

/// How the test answers a challenge.
struct Admin {
    std::string auth_type = "HS_PUBKEY";
    std::string handle;
    std::uint32_t index = 300;
    crypto::Key key;                  // HS_PUBKEY: the admin's private key
    std::vector<std::uint8_t> secret; // HS_SECKEY
    std::string algorithm = "SHA-256";
};

inline ChallengeAnswer answer_for(const Admin& a, const Challenge& c, std::uint8_t major, std::uint8_t minor)
{
    ChallengeAnswer ans;
    ans.auth_type = a.auth_type;
    ans.admin_handle = a.handle;
    ans.admin_index = a.index;
    const auto input = challenge_signing_input(c);
    if (a.auth_type == "HS_SECKEY") {
        ans.signed_response = crypto::seckey_answer(a.secret, input, major, minor);
    } else {
        auto sig = crypto::sign(a.key, a.algorithm, input);
        if (sig)
            ans.signed_response = encode_pubkey_response(a.algorithm, *sig);
    }
    return ans;
}

/// The outcome of request + 402 + 200: `reply` is the answer to the 200 (the original
/// request's reply when authentication succeeded) and `stream` its connection.
struct Authenticated {
    Reply challenge;
    Reply reply;
    std::unique_ptr<crypto::ByteStream> stream;
};

inline Result<Authenticated, std::string> authenticate(const socket::Endpoint& ep, const Request& r, const Admin& a)
{
    Authenticated out;
    auto c = exchange(ep, r);
    if (!c)
        return Err("request: " + c.error());
    out.challenge = *c;
    if (c->header.response_code != 402)
        return Err("expected 402, got " + std::to_string(c->header.response_code));
    auto ch = decode_challenge(c->body);
    if (!ch)
        return Err(std::string("undecodable challenge"));
    Request answer;
    answer.opcode = 200;
    answer.body = encode_challenge_answer(answer_for(a, *ch, c->envelope.major, c->envelope.minor));
    answer.flags = r.flags;
    answer.major = c->envelope.major;
    answer.minor = c->envelope.minor;
    answer.session_id = c->envelope.session_id;
    answer.request_id = 99;
    out.stream = connect_tcp(ep);
    if (!out.stream)
        return Err(std::string("connect failed"));
    auto reply = exchange(*out.stream, answer);
    if (!reply)
        return Err("answer: " + reply.error());
    out.reply = *reply;
    return out;
}

/// What a stream carried and how.
template <class Item>
struct StreamRead {
    std::vector<Item> items;
    bool tls = false;
    std::size_t signatures_verified = 0;
};

/// Reads the stream after a success reply to the end record: "TLS\0" (then TLS, the server's
/// certificate checked against `server_key`) or "\0\0\0\0" + String hash id (then signed
/// blocks, each verified with `server_key`).
template <class Decoder, class Item, class End>
Result<StreamRead<Item>, std::string> read_stream(std::unique_ptr<crypto::ByteStream> s, const crypto::Key& server_key)
{
    StreamRead<Item> out;
    std::uint8_t marker[4];
    if (auto r = s->read_exact(marker, kTestTimeoutMs); !r)
        return Err("marker: " + r.error());
    StreamLimits limits;
    if (marker[0] == 'T' && marker[1] == 'L' && marker[2] == 'S' && marker[3] == 0) {
        auto t = crypto::tls_connect(std::move(s), server_key, kTestTimeoutMs);
        if (!t)
            return Err("tls: " + t.error());
        s = std::move(*t);
        out.tls = true;
    } else if (marker[0] == 0 && marker[1] == 0 && marker[2] == 0 && marker[3] == 0) {
        std::uint8_t len[4];
        if (auto r = s->read_exact(len, kTestTimeoutMs); !r)
            return Err("hash id: " + r.error());
        std::vector<std::uint8_t> id(load_be32(len));
        if (id.size() > 64)
            return Err(std::string("hash id too long"));
        if (auto r = s->read_exact(id, kTestTimeoutMs); !r)
            return Err("hash id: " + r.error());
        if (std::string(id.begin(), id.end()) != "SHA1")
            return Err(std::string("unexpected hash id"));
        limits.signed_blocks = true;
    } else {
        return Err(std::string("unknown stream type"));
    }
    Decoder dec(limits);
    std::vector<std::uint8_t> buf(16384);
    for (;;) {
        Item item;
        for (;;) {
            auto n = dec.next(item);
            if (!n)
                return Err("decode: " + n.error());
            if (!*n)
                break;
            if (limits.signed_blocks && dec.last_block().present) {
                if (!crypto::verify(server_key, "SHA1", dec.last_block().data, dec.last_block().signature))
                    return Err("bad block signature at " + std::to_string(dec.offset()));
                ++out.signatures_verified;
            }
            out.items.push_back(item);
            if (std::holds_alternative<End>(item))
                return out;
        }
        auto got = s->read_some(buf, kTestTimeoutMs);
        if (!got)
            return Err("read: " + got.error());
        if (*got == 0)
            return Err(std::string("end of stream before the end record"));
        dec.feed(ByteSpan(buf.data(), *got));
    }
}

inline Result<StreamRead<DumpItem>, std::string> read_dump(std::unique_ptr<crypto::ByteStream> s,
                                                           const crypto::Key& server_key)
{
    return read_stream<DumpStreamDecoder, DumpItem, DumpDone>(std::move(s), server_key);
}

inline Result<StreamRead<TxnItem>, std::string> read_txns(std::unique_ptr<crypto::ByteStream> s,
                                                          const crypto::Key& server_key)
{
    return read_stream<TxnStreamDecoder, TxnItem, TxnEnd>(std::move(s), server_key);
}

} // namespace idpath::replication::testing
