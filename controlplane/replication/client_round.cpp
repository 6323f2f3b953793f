#include "controlplane/replication/client_round.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>

#include "controlplane/crypto/signature.hpp"
#include "controlplane/crypto/tls_stream.hpp"
#include "controlplane/replication/message_io.hpp"
#include "controlplane/replication/repl_wire.hpp"
#include "dataplane/base/byte_reader.hpp"
#include "dataplane/wire/constants.hpp"
#include "dataplane/wire/envelope.hpp"
#include "dataplane/wire/response.hpp"

namespace idpath::replication::client {

namespace {

// A HANDLE.NET 9.2 mirror's flags minus CT: TLS (or the signed blocks) authenticates the data,
// and the reply's credential would cover only a one-octet body (research7 section 7).
constexpr std::uint32_t kRequestFlags = wire::opflag::kRecursive | wire::opflag::kCacheCertify |
                                        wire::opflag::kPublicOnly;
// The replies here are a challenge, an error or a few octets; the digest reply is ~2 KiB.
constexpr std::size_t kMaxReply = 1u << 16;
constexpr std::array<std::uint8_t, 4> kMarkerTls = {'T', 'L', 'S', 0};
constexpr std::array<std::uint8_t, 4> kMarkerSigned = {0, 0, 0, 0};
constexpr std::array<std::uint8_t, 4> kMarkerUnsigned = {0xff, 0xff, 0xff, 0xff};

RoundError fail(FailureKind kind, std::string message, std::uint32_t rc = 0)
{
    return RoundError{kind, std::move(message), rc};
}

std::string rc_text(std::uint32_t rc)
{
    const char* name = wire::response_code_name(rc);
    return std::string(name ? name : "RC_UNKNOWN") + " (" + std::to_string(rc) + ")";
}

std::uint32_t random_u32()
{
    const auto b = crypto::random_bytes(4);
    return load_be32(b.data()) & 0x7fffffff; // HANDLE.NET's ids are positive Java ints
}

Result<int, RoundError> connect_tcp(const socket::Endpoint& ep, int timeout_ms, Canceller& canceller)
{
    const std::string peer = ep.to_string();
    const int fd = ::socket(ep.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return Err(fail(FailureKind::Connect, "socket: " + std::string(std::strerror(errno))));
    const int one = 1;
    (void)::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    auto give_up = [fd](RoundError e) -> Result<int, RoundError> {
        ::close(fd);
        return Err(std::move(e));
    };
    if (::connect(fd, ep.addr(), ep.length) != 0) {
        if (errno != EINPROGRESS)
            return give_up(fail(FailureKind::Connect, "connect " + peer + ": " + std::strerror(errno)));
        // Waited in slices: shutdown() does not wake a socket that is still connecting, so stop()
        // is seen through cancelled().
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
        for (;;) {
            if (canceller.cancelled())
                return give_up(fail(FailureKind::Connect, "connect " + peer + ": stopped"));
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                                  deadline - std::chrono::steady_clock::now())
                                  .count();
            if (left <= 0)
                return give_up(fail(FailureKind::Connect, "connect " + peer + ": timed out"));
            pollfd p{fd, POLLOUT, 0};
            const int r = ::poll(&p, 1, static_cast<int>(std::min<long long>(left, 100)));
            if (r < 0 && errno != EINTR)
                return give_up(fail(FailureKind::Connect, "poll: " + std::string(std::strerror(errno))));
            if (r > 0)
                break;
        }
        int err = 0;
        socklen_t len = sizeof err;
        if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
            err = errno;
        if (err != 0)
            return give_up(fail(FailureKind::Connect, "connect " + peer + ": " + std::strerror(err)));
    }
    return fd;
}

Result<Connection, RoundError> open_connection(const ClientOptions& o, Canceller& canceller)
{
    auto fd = connect_tcp(o.upstream, o.io_timeout_ms, canceller);
    if (!fd)
        return Err(fd.error());
    Connection c(crypto::plain_stream(*fd), nullptr);
    if (!canceller.attach(*fd))
        return Err(fail(FailureKind::Connect, "stopped"));
    return Connection(c.take(), &canceller);
}

struct Message {
    wire::Envelope envelope;
    wire::Header header;
    std::vector<std::uint8_t> body; // the whole body, digest prefix included
};

Result<Message, RoundError> exchange(Connection& c, ByteSpan request, int timeout_ms)
{
    if (auto w = c->write_all(request, timeout_ms); !w)
        return Err(stream_error("sending request: " + w.error()));
    auto m = read_message(*c, timeout_ms, kMaxReply);
    if (!m)
        return Err(stream_error(m.error()));
    auto h = wire::decode_header(m->message);
    if (!h)
        return Err(fail(FailureKind::Stream, "malformed reply header: " + std::string(wire::to_string(h.error()))));
    const ByteSpan hb = header_and_body(m->message);
    if (hb.empty())
        return Err(fail(FailureKind::Stream, "reply body longer than its message"));
    Message out;
    out.envelope = m->envelope;
    out.header = *h;
    const ByteSpan body = hb.subspan(wire::kHeaderSize);
    out.body.assign(body.begin(), body.end());
    return out;
}

std::vector<std::uint8_t> request_message(std::uint32_t opcode, ByteSpan body, std::uint8_t major,
                                          std::uint8_t minor, std::uint32_t session_id, std::uint32_t request_id)
{
    wire::Envelope env;
    env.major = major;
    env.minor = minor;
    env.suggested_major = wire::kImplMajor;
    env.suggested_minor = wire::kImplMinor;
    env.session_id = session_id;
    env.request_id = request_id;
    wire::Header hdr;
    hdr.opcode = opcode;
    hdr.op_flags = kRequestFlags;
    hdr.expiration = static_cast<std::uint32_t>(std::time(nullptr)) + wire::kDefaultExpirationSeconds;
    return build_message(env, hdr, body);
}

std::vector<std::uint8_t> digest_of(std::uint8_t type, ByteSpan data)
{
    const EVP_MD* md = type == static_cast<std::uint8_t>(wire::DigestType::Sha256) ? EVP_sha256()
                       : type == static_cast<std::uint8_t>(wire::DigestType::Sha1) ? EVP_sha1()
                                                                                   : nullptr;
    if (!md)
        return {};
    std::vector<std::uint8_t> out(EVP_MAX_MD_SIZE);
    unsigned int n = 0;
    if (EVP_Digest(data.data(), data.size(), out.data(), &n, md, nullptr) != 1)
        return {};
    out.resize(n);
    return out;
}

/// The lower of the challenge's version and its suggested one, as SecretKeyAuthenticationInfo
/// picks the answer's form (research7 section 1).
std::pair<std::uint8_t, std::uint8_t> answer_version(const wire::Envelope& e)
{
    std::pair<std::uint8_t, std::uint8_t> v{e.major, e.minor};
    if (e.suggested_major != 0 && std::pair{e.suggested_major, e.suggested_minor} < v)
        v = {e.suggested_major, e.suggested_minor};
    if (v > std::pair{wire::kImplMajor, wire::kImplMinor})
        v = {wire::kImplMajor, wire::kImplMinor};
    return v;
}

Result<std::vector<std::uint8_t>, RoundError> answer_of(const ClientOptions& o, const Challenge& ch,
                                                       const wire::Envelope& challenge_env)
{
    const std::vector<std::uint8_t> input = challenge_signing_input(ch);
    const auto [major, minor] = answer_version(challenge_env);
    if (o.auth_type == "HS_SECKEY") {
        if (o.admin_secret.empty())
            return Err(fail(FailureKind::Local, "HS_SECKEY: no admin secret configured"));
        return crypto::seckey_answer(o.admin_secret, input, major, minor);
    }
    if (o.auth_type != "HS_PUBKEY")
        return Err(fail(FailureKind::Local, "unknown auth type '" + o.auth_type + "'"));
    if (!o.admin_key)
        return Err(fail(FailureKind::Local, "HS_PUBKEY: no admin private key configured"));
    // Below 2.7 HANDLE.NET verifies SHA1withRSA (research7 section 1, step 2).
    const char* algorithm = std::pair{major, minor} >= std::pair<std::uint8_t, std::uint8_t>{2, 7} ? "SHA-256"
                                                                                                : "SHA1";
    auto sig = crypto::sign(o.admin_key, algorithm, input);
    if (!sig)
        return Err(fail(FailureKind::Local, "signing the challenge: " + sig.error()));
    return encode_pubkey_response(algorithm, *sig);
}

bool is_auth_refusal(std::uint32_t rc)
{
    return rc >= static_cast<std::uint32_t>(wire::ResponseCode::InvalidAdmin) &&
           rc <= static_cast<std::uint32_t>(wire::ResponseCode::AuthenticationError);
}

RoundError refusal(const Message& m)
{
    const std::uint32_t rc = m.header.response_code;
    std::string text = "upstream answered " + rc_text(rc);
    ByteReader r(m.body);
    if (m.header.has(wire::opflag::kReturnDigest))
        (void)wire::decode_request_digest(r);
    if (auto e = wire::decode_error_body(r.rest()); e && !e->message.empty())
        text += ": " + e->message;
    return fail(is_auth_refusal(rc) ? FailureKind::Auth : FailureKind::Stream, std::move(text), rc);
}

Result<void, RoundError> open_transport(const ClientOptions& o, Reply& reply)
{
    std::array<std::uint8_t, 4> marker{};
    if (auto r = reply.stream->read_exact(marker, o.io_timeout_ms); !r)
        return Err(stream_error("reading the stream marker: " + r.error()));
    if (marker == kMarkerTls) {
        auto tls = crypto::tls_connect(reply.stream.take(), o.upstream_key, o.io_timeout_ms);
        if (!tls)
            return Err(fail(FailureKind::Stream, "TLS: " + tls.error()));
        reply.stream.put(std::move(*tls));
        return {};
    }
    if (marker == kMarkerSigned) {
        if (!o.allow_signed_blocks)
            return Err(fail(FailureKind::Stream,
                            "signed-block stream refused (a primary below protocol 2.8; "
                            "replication.allow_signed_blocks accepts it)"));
        std::array<std::uint8_t, 4> len{};
        if (auto r = reply.stream->read_exact(len, o.io_timeout_ms); !r)
            return Err(stream_error("reading the stream's hash id: " + r.error()));
        const std::uint32_t n = load_be32(len.data());
        if (n == 0 || n > 32)
            return Err(fail(FailureKind::Stream, "stream hash id of " + std::to_string(n) + " octets"));
        std::string id(n, '\0');
        if (auto r = reply.stream->read_exact(
                MutableByteSpan(reinterpret_cast<std::uint8_t*>(id.data()), id.size()), o.io_timeout_ms);
            !r)
            return Err(stream_error("reading the stream's hash id: " + r.error()));
        reply.signed_blocks = true;
        reply.hash_id = std::move(id);
        return {};
    }
    if (marker == kMarkerUnsigned)
        return Err(fail(FailureKind::Stream, "unsigned stream refused"));
    return Err(fail(FailureKind::Stream, "unknown stream type"));
}

} // namespace

bool Canceller::attach(int fd)
{
    std::lock_guard lock(mutex_);
    if (cancelled_)
        return false;
    fd_ = fd;
    return true;
}

void Canceller::detach()
{
    std::lock_guard lock(mutex_);
    fd_ = -1;
}

void Canceller::cancel()
{
    std::lock_guard lock(mutex_);
    cancelled_ = true;
    if (fd_ >= 0)
        ::shutdown(fd_, SHUT_RDWR);
}

void Canceller::reset()
{
    std::lock_guard lock(mutex_);
    cancelled_ = false;
}

bool Canceller::cancelled() const
{
    std::lock_guard lock(mutex_);
    return cancelled_;
}

Connection& Connection::operator=(Connection&& o) noexcept
{
    if (this != &o) {
        reset();
        stream_ = std::move(o.stream_);
        canceller_ = o.canceller_;
        o.canceller_ = nullptr;
    }
    return *this;
}

void Connection::reset() noexcept
{
    if (canceller_) {
        canceller_->detach();
        canceller_ = nullptr;
    }
    stream_.reset();
}

RoundError stream_error(std::string message)
{
    const bool stall = message.find("timeout") != std::string::npos || message.find("timed out") != std::string::npos;
    return fail(stall ? FailureKind::Timeout : FailureKind::Stream, std::move(message));
}

Result<Reply, RoundError> authenticated_request(const ClientOptions& o, std::uint32_t opcode, ByteSpan body,
                                                bool open_stream, Canceller& canceller)
{
    const std::uint32_t request_id = random_u32();
    const std::vector<std::uint8_t> request =
        request_message(opcode, body, wire::kImplMajor, wire::kImplMinor, 0, request_id);
    auto first = open_connection(o, canceller);
    if (!first)
        return Err(first.error());
    auto m = exchange(*first, request, o.io_timeout_ms);
    if (!m)
        return Err(m.error());
    if (m->envelope.request_id != request_id)
        return Err(fail(FailureKind::Stream, "reply to another request id"));
    Connection conn = std::move(*first);

    if (m->header.response_code == static_cast<std::uint32_t>(wire::ResponseCode::AuthenticationNeeded)) {
        auto ch = decode_challenge(m->body);
        if (!ch)
            return Err(fail(FailureKind::Auth, "malformed challenge: " + std::string(wire::to_string(ch.error()))));
        // The nonce is unauthenticated, so a forged challenge could make us sign another
        // request's digest: sign only what covers our own request.
        const ByteSpan ours = header_and_body(ByteSpan(request).subspan(wire::kEnvelopeSize));
        const std::vector<std::uint8_t> expected = digest_of(ch->digest_type, ours);
        if (expected.empty() || expected != ch->request_digest)
            return Err(fail(FailureKind::Auth, "challenge does not match our request"));
        auto signed_response = answer_of(o, *ch, m->envelope);
        if (!signed_response)
            return Err(signed_response.error());
        ChallengeAnswer a;
        a.auth_type = o.auth_type;
        a.admin_handle = o.admin_handle;
        a.admin_index = o.admin_index;
        a.signed_response = std::move(*signed_response);
        const auto [major, minor] = answer_version(m->envelope);
        const std::uint32_t answer_id = random_u32();
        const std::vector<std::uint8_t> answer =
            request_message(static_cast<std::uint32_t>(wire::OpCode::ChallengeResponse),
                            encode_challenge_answer(a), major, minor, m->envelope.session_id, answer_id);
        // HANDLE.NET closes after the challenge; the answer and the real reply use a new connection.
        conn.reset();
        auto second = open_connection(o, canceller);
        if (!second)
            return Err(second.error());
        conn = std::move(*second);
        m = exchange(conn, answer, o.io_timeout_ms);
        if (!m)
            return Err(m.error());
        if (m->envelope.request_id != answer_id)
            return Err(fail(FailureKind::Stream, "reply to another request id"));
        if (m->header.response_code == static_cast<std::uint32_t>(wire::ResponseCode::AuthenticationNeeded))
            return Err(fail(FailureKind::Auth, "upstream challenged our answer again"));
    }
    if (m->header.response_code != static_cast<std::uint32_t>(wire::ResponseCode::Success))
        return Err(refusal(*m));

    Reply reply;
    reply.header = m->header;
    ByteReader r(m->body);
    if (m->header.has(wire::opflag::kReturnDigest) && !wire::decode_request_digest(r))
        return Err(fail(FailureKind::Stream, "malformed request digest in the reply"));
    const ByteSpan rest = r.rest();
    reply.body.assign(rest.begin(), rest.end());
    reply.stream = std::move(conn);
    if (open_stream) {
        if (auto t = open_transport(o, reply); !t)
            return Err(t.error());
    } else {
        reply.stream.reset();
    }
    return reply;
}

} // namespace idpath::replication::client
