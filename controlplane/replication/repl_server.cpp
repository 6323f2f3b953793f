#include "controlplane/replication/repl_server.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <list>
#include <mutex>
#include <optional>
#include <thread>

#include <nlohmann/json.hpp>

#include "controlplane/crypto/signature.hpp"
#include "controlplane/crypto/tls_stream.hpp"
#include "controlplane/log/log.hpp"
#include "controlplane/replication/credential_sign.hpp"
#include "controlplane/replication/message_io.hpp"
#include "controlplane/replication/repl_stream.hpp"
#include "controlplane/replication/repl_wire.hpp"
#include "controlplane/replication/server_pending.hpp"
#include "controlplane/replication/server_stream.hpp"
#include "dataplane/base/byte_writer.hpp"
#include "dataplane/wire/constants.hpp"
#include "dataplane/wire/digest.hpp"
#include "dataplane/wire/message.hpp"
#include "dataplane/wire/response.hpp"
#include "drivers/socket/clock.hpp"
#include "drivers/socket/socket_setup.hpp"
#include "drivers/socket/unique_fd.hpp"

namespace idpath::replication {

namespace {

constexpr std::uint32_t kOpChallengeAnswer = static_cast<std::uint32_t>(wire::OpCode::ChallengeResponse);
constexpr std::uint32_t kOpNextTxnId = static_cast<std::uint32_t>(wire::OpCode::GetNextTxnId);
constexpr std::uint32_t kOpRetrieveTxn = static_cast<std::uint32_t>(wire::OpCode::RetrieveTxnLog);
constexpr std::uint32_t kOpDump = static_cast<std::uint32_t>(wire::OpCode::DumpHandles);

constexpr std::uint32_t rc(wire::ResponseCode c) { return static_cast<std::uint32_t>(c); }

/// The request flags a reply echoes (HANDLE.NET's takeValuesFrom); AT is always set.
constexpr std::uint32_t kEchoedFlags = wire::opflag::kCertify | wire::opflag::kCacheCertify |
                                       wire::opflag::kPublicOnly | wire::opflag::kRecursive;

constexpr std::array<std::uint8_t, 4> kTlsMarker = {'T', 'L', 'S', 0};

std::int64_t unix_ms()
{
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

bool ascii_iequal(std::string_view a, std::string_view b)
{
    auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [&](char x, char y) {
               return lower(x) == lower(y);
           });
}

std::string_view trim(std::string_view s)
{
    const auto ws = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
    while (!s.empty() && ws(s.front()))
        s.remove_prefix(1);
    while (!s.empty() && ws(s.back()))
        s.remove_suffix(1);
    return s;
}

bool version_at_least(std::uint8_t major, std::uint8_t minor, std::uint8_t want_major, std::uint8_t want_minor)
{
    return major > want_major || (major == want_major && minor >= want_minor);
}

/// The version a reply and its stream are in: what the request suggested (0: its own), as
/// HANDLE.NET's AbstractResponse takes it.
std::pair<std::uint8_t, std::uint8_t> suggested_version(const wire::Envelope& e)
{
    if (e.suggested_major == 0)
        return {e.major, e.minor};
    return {e.suggested_major, e.suggested_minor};
}

std::vector<std::uint8_t> sha256_of(ByteSpan data)
{
    std::array<std::uint8_t, wire::kRequestDigestSize> buf{};
    ByteWriter w(buf);
    wire::write_request_digest(w, data);
    return {buf.begin() + 1, buf.end()};
}

std::vector<std::uint8_t> error_body(std::string_view message)
{
    std::vector<std::uint8_t> out(4 + message.size());
    ByteWriter w(out);
    wire::encode_error_body(w, message);
    out.resize(w.size());
    return out;
}

bool is_timeout(const std::string& error) { return error.find("timeout") != std::string::npos; }

/// An admin and its key file's contents, loaded at start(). A file may hold either an HS_PUBKEY
/// public key or an HS_SECKEY secret and nothing says which until an answer names its type, so
/// both readings are kept.
struct AdminKey {
    AdminSpec spec;
    bool from_file = false;
    crypto::Key public_key;       // empty when the file is not a public key
    std::string public_key_error; // why not, for the log
    std::vector<std::uint8_t> secret;
};

struct Counters {
    std::atomic<std::uint64_t> connections{0};
    std::atomic<std::uint64_t> connections_refused{0}; // beyond max_connections
    std::atomic<std::uint64_t> challenges_sent{0};
    std::atomic<std::uint64_t> auth_ok{0};
    std::atomic<std::uint64_t> auth_failed{0};
    std::atomic<std::uint64_t> dumps{0};
    std::atomic<std::uint64_t> dump_resumes{0}; // dumps asked with a starting point (counted in dumps too)
    std::atomic<std::uint64_t> txn_pulls{0};
    std::atomic<std::uint64_t> redumps_requested{0};
    std::atomic<std::uint64_t> records_sent{0};
    std::atomic<std::uint64_t> bytes_sent{0};
    std::atomic<std::uint64_t> errors{0};
    std::atomic<std::uint64_t> malformed{0};
    std::atomic<std::uint64_t> stalled{0}; // mirrors dropped for not reading within io_timeout_ms
    std::atomic<std::uint64_t> unsupported{0};
};

/// A connection's thread. `shutdown_fd` is a dup of the socket owned here, so stop() can shut
/// the socket down to unblock the thread without racing the thread's own close of its fd.
struct Connection {
    std::thread thread;
    socket::UniqueFd shutdown_fd;
    std::atomic<bool> done{false};
};

} // namespace

Result<AdminSpec, std::string> parse_admin_spec(std::string_view text)
{
    const auto fail = [&] {
        return Err("admin '" + std::string(text) + "': expected INDEX:HANDLE [KEYFILE]");
    };
    std::string_view s = trim(text);
    const std::size_t space = s.find_first_of(" \t");
    const std::string_view id = s.substr(0, space);
    const std::string_view key_file = space == std::string_view::npos ? std::string_view{} : trim(s.substr(space));
    const std::size_t colon = id.find(':');
    if (colon == 0 || colon == std::string_view::npos || colon > 10 || colon + 1 == id.size())
        return fail();
    std::uint64_t index = 0;
    for (char c : id.substr(0, colon)) {
        if (c < '0' || c > '9')
            return fail();
        index = index * 10 + static_cast<std::uint64_t>(c - '0');
    }
    if (index > 0xffffffffu)
        return fail();
    AdminSpec a;
    a.index = static_cast<std::uint32_t>(index);
    a.handle = std::string(id.substr(colon + 1));
    a.key_file = std::filesystem::path(std::string(key_file));
    return a;
}

struct ReplicationServer::Impl {
    Impl(ServerOptions o, SourcePort& s)
        : options(std::move(o)), source(s),
          pending(options.max_pending_challenges, static_cast<std::uint64_t>(std::max(options.challenge_ttl_ms, 0)))
    {
    }

    ServerOptions options;
    SourcePort& source;
    std::vector<AdminKey> admins;
    std::shared_ptr<crypto::TlsServerContext> tls;
    std::vector<socket::UniqueFd> listeners;
    std::vector<socket::Endpoint> bound;
    socket::UniqueFd wake_fd;
    std::thread accept_thread;
    bool running = false;
    std::atomic<bool> stopping{false};
    PendingChallenges pending;
    Counters counters;
    std::atomic<std::uint64_t> open{0};
    std::mutex connections_mu;
    std::list<std::unique_ptr<Connection>> connections;

    void accept_loop();
    void accept_one(int listener);
    /// Joins the threads of finished connections (all of them with `all`).
    void reap(bool all);
};

namespace {

/// One connection: one request, its reply, perhaps a stream, then close (HANDLE.NET's
/// HdlTcpRequestHandler: no keep-alive on replication connections).
class Session {
public:
    Session(ReplicationServer::Impl& server, std::unique_ptr<crypto::ByteStream> stream, std::string peer)
        : s_(server), stream_(std::move(stream)), peer_(std::move(peer))
    {
    }

    /// TLS close_notify (HANDLE.NET sends none; OpenSSL mirrors are happier with one), then FIN.
    ~Session()
    {
        if (stream_)
            stream_->close();
    }
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    void run();

private:
    /// What a reply answers: the request's envelope (version), header (flags, opcode) and
    /// header+body (RD digest), re-stamped with `session_id` and `request_id`.
    struct Answering {
        wire::Envelope envelope;
        wire::Header header;
        ByteSpan header_and_body;
        std::uint32_t session_id = 0;
        std::uint32_t request_id = 0;
    };

    std::vector<std::uint8_t> build_reply(const Answering& a, std::uint32_t response_code, ByteSpan body,
                                          bool digest_in_body, std::uint32_t extra_flags);
    /// Builds and writes one reply; false (logged, counted) when the write fails.
    bool reply(const Answering& a, std::uint32_t response_code, ByteSpan body);
    bool reply_error(const Answering& a, std::uint32_t response_code, std::string_view message);
    bool write(ByteSpan bytes);

    void challenge(const ReceivedMessage& m, const wire::MessageView& v);
    void answer(const ReceivedMessage& m, const wire::MessageView& v);
    /// Runs the original request of an answered challenge; the reply goes out on this connection.
    void process(const PendingChallenge& p, std::uint32_t session_id, std::uint32_t request_id);
    void stream_reply(const Answering& a, std::vector<std::uint8_t> reply_message, bool dump,
                      const RetrieveTxnRequest& txn, const DumpHandlesRequest& dump_request);
    bool verify(const AdminKey& admin, const ChallengeAnswer& answer, const Challenge& challenge);
    void stream_failed(const char* what, const std::string& error);

    ReplicationServer::Impl& s_;
    std::unique_ptr<crypto::ByteStream> stream_;
    std::string peer_;
};

std::vector<std::uint8_t> Session::build_reply(const Answering& a, std::uint32_t response_code, ByteSpan body,
                                               bool digest_in_body, std::uint32_t extra_flags)
{
    wire::Envelope env = wire::reply_envelope(a.envelope, 0);
    env.session_id = a.session_id;
    env.request_id = a.request_id;
    const bool rd = a.header.has(wire::opflag::kReturnDigest);
    wire::Header h;
    h.opcode = a.header.opcode;
    h.response_code = response_code;
    h.op_flags = (a.header.op_flags & kEchoedFlags) | wire::opflag::kAuthoritative | extra_flags |
                 (rd ? wire::opflag::kReturnDigest : 0);
    // The mirror's idea of our site serial, echoed: the node does not know its HS_SITE serial
    // here, and echoing never makes a HANDLE.NET mirror refetch site information.
    h.site_serial = a.header.site_serial;
    h.recursion_count = a.header.recursion_count;
    h.expiration = socket::unix_seconds() + wire::kDefaultExpirationSeconds;

    std::vector<std::uint8_t> full;
    if (rd && digest_in_body) {
        full.resize(wire::kRequestDigestSize);
        ByteWriter w(full);
        wire::write_request_digest(w, a.header_and_body);
    }
    full.insert(full.end(), body.begin(), body.end());
    std::vector<std::uint8_t> message = build_message(env, h, full);
    if (!a.header.has(wire::opflag::kCertify))
        return message;

    // HS_SIGNED with the server key (research7 section 7): SHA256with<key> from 2.7 on.
    const char* algorithm = version_at_least(env.major, env.minor, 2, 7) ? "SHA-256" : "SHA1";
    const ByteSpan hab = header_and_body(ByteSpan(message).subspan(wire::kEnvelopeSize));
    auto sig = crypto::sign(s_.options.server_key, algorithm, signed_data(env, 0, hab));
    if (!sig) {
        ++s_.counters.errors;
        log::error("replication serve: ", peer_, ": signing a reply: ", sig.error());
        return message;
    }
    return with_credential(message, encode_signed_credential(algorithm, *sig, 0));
}

bool Session::write(ByteSpan bytes)
{
    if (auto r = stream_->write_all(bytes, s_.options.io_timeout_ms); !r) {
        stream_failed("writing a reply", r.error());
        return false;
    }
    s_.counters.bytes_sent += bytes.size();
    return true;
}

bool Session::reply(const Answering& a, std::uint32_t response_code, ByteSpan body)
{
    return write(build_reply(a, response_code, body, true, 0));
}

bool Session::reply_error(const Answering& a, std::uint32_t response_code, std::string_view message)
{
    return reply(a, response_code, error_body(message));
}

void Session::stream_failed(const char* what, const std::string& error)
{
    if (is_timeout(error))
        ++s_.counters.stalled;
    else
        ++s_.counters.errors;
    log::warning("replication serve: ", peer_, ": ", what, ": ", error, "; connection dropped");
}

void Session::run()
{
    auto m = read_message(*stream_, s_.options.io_timeout_ms);
    if (!m) {
        ++s_.counters.malformed;
        log::info("replication serve: ", peer_, ": ", m.error());
        return;
    }
    auto v = wire::decode_message(m->message);
    if (!v || !v->header.is_request()) {
        ++s_.counters.malformed;
        log::info("replication serve: ", peer_, ": malformed request");
        return;
    }
    const std::uint32_t op = v->header.opcode;
    const Answering self{m->envelope, v->header, v->header_and_body, m->envelope.session_id, m->envelope.request_id};
    if (op == kOpChallengeAnswer)
        return answer(*m, *v);
    if (op == kOpNextTxnId || op == kOpRetrieveTxn || op == kOpDump || op == kOpSyncDigest) {
        // HANDLE.NET: a request naming a session that is neither pending nor established.
        if (m->envelope.session_id != 0 &&
            !s_.pending.contains(m->envelope.session_id, socket::monotonic_ms())) {
            reply_error(self, rc(wire::ResponseCode::SessionTimeout), "session timeout");
            return;
        }
        return challenge(*m, *v);
    }
    ++s_.counters.unsupported;
    reply_error(self, rc(wire::ResponseCode::OperationNotSupported),
                "operation not supported on the replication interface");
}

void Session::challenge(const ReceivedMessage& m, const wire::MessageView& v)
{
    const Answering self{m.envelope, v.header, v.header_and_body, m.envelope.session_id, m.envelope.request_id};
    // A body that will not decode is refused now rather than after a round of authentication.
    bool valid = true;
    switch (v.header.opcode) {
    case kOpRetrieveTxn: {
        auto r = decode_retrieve_txn_request(v.body, m.envelope.major, m.envelope.minor);
        valid = r.ok();
        if (valid && r->mode != 0) {
            ++s_.counters.unsupported;
            reply_error(self, rc(wire::ResponseCode::OperationNotSupported),
                        "replication state requests (mode 1) are not served");
            return;
        }
        break;
    }
    case kOpDump:
        valid = decode_dump_handles_request(v.body).ok();
        break;
    case kOpSyncDigest:
        valid = decode_sync_digest_request(v.body).ok();
        break;
    default:
        break;
    }
    if (!valid) {
        ++s_.counters.malformed;
        log::info("replication serve: ", peer_, ": malformed ", wire::opcode_name(v.header.opcode) ?
                  wire::opcode_name(v.header.opcode) : "request", " body");
        return;
    }

    // SHA-256 whatever the version: what 9.x uses from 2.7 on, and no idpath mirror is older.
    // research7: unconfirmed: a 2.1-2.6 client may expect a SHA-1 (type 2) digest here.
    Challenge c;
    c.digest_type = static_cast<std::uint8_t>(wire::DigestType::Sha256);
    c.request_digest = sha256_of(v.header_and_body);
    c.nonce = crypto::random_bytes(16);
    PendingChallenge p;
    p.envelope = m.envelope;
    p.message = m.message;
    p.challenge = c;
    Answering a = self;
    // Stored before it is sent: the answer may come back on another connection at once.
    a.session_id = s_.pending.add(std::move(p), socket::monotonic_ms());
    // The 402 carries the digest in its body (encode_challenge) and always sets RD.
    const auto body = encode_challenge(c);
    ++s_.counters.challenges_sent;
    write(build_reply(a, rc(wire::ResponseCode::AuthenticationNeeded), body, false, wire::opflag::kReturnDigest));
}

bool Session::verify(const AdminKey& admin, const ChallengeAnswer& answer, const Challenge& challenge)
{
    const std::vector<std::uint8_t> input = challenge_signing_input(challenge);
    if (answer.auth_type == "HS_PUBKEY") {
        auto response = decode_pubkey_response(answer.signed_response);
        if (!response) {
            log::warning("replication serve: ", peer_, ": malformed HS_PUBKEY answer from ", admin.spec.index, ":",
                         admin.spec.handle);
            return false;
        }
        crypto::Key key;
        if (admin.from_file) {
            if (!admin.public_key) {
                log::warning("replication serve: ", peer_, ": ", admin.spec.key_file.string(),
                             " is not a public key: ", admin.public_key_error);
                return false;
            }
            key = admin.public_key;
        } else {
            const auto data = s_.source.value_data(admin.spec.handle, admin.spec.index);
            auto k = crypto::public_key_from_bytes(data);
            if (!k) {
                log::warning("replication serve: ", peer_, ": no usable HS_PUBKEY at ", admin.spec.index, ":",
                             admin.spec.handle, ": ", data.empty() ? std::string("absent") : k.error());
                return false;
            }
            key = std::move(*k);
        }
        return crypto::verify(key, response->algorithm, input, response->signature);
    }
    // HS_SECKEY: checked here, the admin being configured on this node (HANDLE.NET would send
    // OC_VERIFY_CHALLENGE to the admin handle's server otherwise).
    std::vector<std::uint8_t> secret =
        admin.from_file ? admin.secret : s_.source.value_data(admin.spec.handle, admin.spec.index);
    if (secret.empty()) {
        log::warning("replication serve: ", peer_, ": no HS_SECKEY for ", admin.spec.index, ":", admin.spec.handle);
        return false;
    }
    return crypto::seckey_verify(secret, input, answer.signed_response);
}

void Session::answer(const ReceivedMessage& m, const wire::MessageView& v)
{
    const Answering self{m.envelope, v.header, v.header_and_body, m.envelope.session_id, m.envelope.request_id};
    // Taken, not looked up: a challenge is answered once.
    auto p = s_.pending.take(m.envelope.session_id, socket::monotonic_ms());
    if (!p) {
        ++s_.counters.auth_failed;
        log::warning("replication serve: ", peer_, ": answer to unknown or expired challenge (session ",
                     m.envelope.session_id, ")");
        reply(self, rc(wire::ResponseCode::AuthenticationTimeout), {});
        return;
    }
    auto a = decode_challenge_answer(v.body);
    if (!a) {
        ++s_.counters.malformed;
        log::info("replication serve: ", peer_, ": malformed challenge answer");
        return;
    }
    const auto admin = std::find_if(s_.admins.begin(), s_.admins.end(), [&](const AdminKey& k) {
        return k.spec.index == a->admin_index && ascii_iequal(k.spec.handle, a->admin_handle);
    });
    if (admin == s_.admins.end()) {
        ++s_.counters.auth_failed;
        log::warning("replication serve: ", peer_, ": ", a->admin_index, ":", a->admin_handle,
                     " is not a replication admin");
        reply_error(self, rc(wire::ResponseCode::InvalidAdmin), "not a replication admin");
        return;
    }
    if (a->auth_type != "HS_PUBKEY" && a->auth_type != "HS_SECKEY") {
        ++s_.counters.auth_failed;
        log::warning("replication serve: ", peer_, ": unknown authentication type '", a->auth_type, "'");
        reply_error(self, rc(wire::ResponseCode::InvalidCredential), "unknown authentication type");
        return;
    }
    if (!verify(*admin, *a, p->challenge)) {
        ++s_.counters.auth_failed;
        log::warning("replication serve: ", peer_, ": authentication failed for ", a->admin_index, ":",
                     a->admin_handle, " (", a->auth_type, ")");
        reply_error(self, rc(wire::ResponseCode::AuthenticationFailed), "authentication failed");
        return;
    }
    ++s_.counters.auth_ok;
    process(*p, m.envelope.session_id, m.envelope.request_id);
}

void Session::process(const PendingChallenge& p, std::uint32_t session_id, std::uint32_t request_id)
{
    auto v = wire::decode_message(p.message);
    if (!v) { // decoded when it was challenged
        ++s_.counters.errors;
        return;
    }
    const Answering a{p.envelope, v->header, v->header_and_body, session_id, request_id};
    const std::uint32_t ok = rc(wire::ResponseCode::Success);
    switch (v->header.opcode) {
    case kOpNextTxnId:
        reply(a, ok, encode_next_txn_id(s_.source.last_txn() + 1));
        return;
    case kOpSyncDigest: {
        auto filter = decode_sync_digest_request(v->body);
        if (filter)
            reply(a, ok, encode_sync_digest(s_.source.digest(*filter)));
        return;
    }
    case kOpRetrieveTxn: {
        auto r = decode_retrieve_txn_request(v->body, p.envelope.major, p.envelope.minor);
        if (r)
            stream_reply(a, build_reply(a, ok, encode_retrieve_txn_reply(false), true, 0), false, *r, {});
        return;
    }
    case kOpDump: {
        auto r = decode_dump_handles_request(v->body);
        if (r)
            stream_reply(a, build_reply(a, ok, {}, true, 0), true, {}, *r);
        return;
    }
    default:
        ++s_.counters.errors;
        return;
    }
}

void Session::stream_reply(const Answering& a, std::vector<std::uint8_t> reply_message, bool dump,
                           const RetrieveTxnRequest& txn, const DumpHandlesRequest& dump_request)
{
    const auto [major, minor] = suggested_version(a.envelope);
    const bool use_tls = version_at_least(major, minor, 2, 8);
    const std::int64_t now = unix_ms();
    std::uint64_t records = 0;
    std::unique_ptr<StreamWriter> writer;
    if (use_tls) {
        reply_message.insert(reply_message.end(), kTlsMarker.begin(), kTlsMarker.end());
        if (!write(reply_message))
            return;
        auto tls = s_.tls->accept(std::move(stream_), s_.options.io_timeout_ms);
        if (!tls) {
            stream_failed("TLS handshake", tls.error());
            return;
        }
        stream_ = std::move(*tls);
        writer = std::make_unique<StreamWriter>(*stream_, s_.options.io_timeout_ms, nullptr);
    } else {
        // Below 2.8: SignedOutputStream's "\0\0\0\0" and hash id, which no signature covers.
        writer = std::make_unique<StreamWriter>(*stream_, s_.options.io_timeout_ms, &s_.options.server_key);
        std::vector<std::uint8_t> head = std::move(reply_message);
        const std::array<std::uint8_t, 12> marker = {0, 0, 0, 0, 0, 0, 0, 4, 'S', 'H', 'A', '1'};
        head.insert(head.end(), marker.begin(), marker.end());
        writer->preamble(head);
    }

    Result<void, std::string> result{};
    if (dump) {
        ++s_.counters.dumps;
        if (dump_request.starting_point) {
            ++s_.counters.dump_resumes;
            log::info("replication serve: ", peer_, ": resuming a dump after '", *dump_request.starting_point,
                      "' (type ", dump_request.starting_point_type, ")");
        }
        result = write_dump_stream(*writer, s_.source, dump_request, now, records);
        if (result)
            log::info("replication serve: ", peer_, ": dump of ", records, " records sent");
    } else {
        ++s_.counters.txn_pulls;
        auto r = write_txn_stream(*writer, s_.source, txn, now, records);
        if (!r)
            result = Err(r.error());
        else if (*r) {
            ++s_.counters.redumps_requested;
            log::info("replication serve: ", peer_, ": transactions after ", txn.last_txn_id,
                      " are no longer journaled; asked for a redump");
        }
    }
    s_.counters.records_sent += records;
    // Below 2.8 the reply went out through the writer (its preamble), so it is counted here.
    s_.counters.bytes_sent += writer->bytes_written();
    if (!result)
        stream_failed(dump ? "dump stream" : "transaction stream", result.error());
}

} // namespace

void ReplicationServer::Impl::reap(bool all)
{
    std::list<std::unique_ptr<Connection>> finished;
    {
        std::lock_guard lock(connections_mu);
        for (auto it = connections.begin(); it != connections.end();) {
            if (all || (*it)->done.load()) {
                finished.push_back(std::move(*it));
                it = connections.erase(it);
            } else {
                ++it;
            }
        }
    }
    for (auto& c : finished)
        if (c->thread.joinable())
            c->thread.join();
}

void ReplicationServer::Impl::accept_one(int listener)
{
    for (;;) {
        sockaddr_storage ss{};
        socklen_t len = sizeof ss;
        const int fd = ::accept4(listener, reinterpret_cast<sockaddr*>(&ss), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
                ++counters.errors;
                log::warning("replication serve: accept: ", socket::errno_text(errno));
            }
            return;
        }
        const std::string peer = socket::endpoint_from(reinterpret_cast<const sockaddr*>(&ss), len).to_string();
        if (open.load() >= options.max_connections) {
            ::close(fd);
            ++counters.connections_refused;
            log::warning("replication serve: ", peer, ": refused, ", options.max_connections, " connections open");
            continue;
        }
        ++counters.connections;
        ++open;
        auto conn = std::make_unique<Connection>();
        conn->shutdown_fd.reset(::dup(fd));
        Connection* raw = conn.get();
        {
            std::lock_guard lock(connections_mu);
            connections.push_back(std::move(conn));
        }
        raw->thread = std::thread([this, raw, fd, peer] {
            {
                Session session(*this, crypto::plain_stream(fd), peer);
                session.run();
            } // the stream is closed here
            --open;
            raw->done.store(true);
        });
    }
}

void ReplicationServer::Impl::accept_loop()
{
    std::vector<pollfd> fds;
    for (const auto& l : listeners)
        fds.push_back(pollfd{l.get(), POLLIN, 0});
    fds.push_back(pollfd{wake_fd.get(), POLLIN, 0});
    while (!stopping.load()) {
        for (auto& p : fds)
            p.revents = 0;
        const int n = ::poll(fds.data(), fds.size(), 1000);
        reap(false);
        if (n <= 0)
            continue;
        if (fds.back().revents)
            break;
        for (std::size_t i = 0; i + 1 < fds.size(); ++i)
            if (fds[i].revents & POLLIN)
                accept_one(fds[i].fd);
    }
}

ReplicationServer::ReplicationServer(ServerOptions options, SourcePort& source)
    : impl_(std::make_unique<Impl>(std::move(options), source))
{
}

ReplicationServer::~ReplicationServer() { stop(); }

Result<void, std::string> ReplicationServer::start()
{
    Impl& s = *impl_;
    if (s.running)
        return Err(std::string("replication server already started"));
    if (!s.options.server_key || !s.options.server_key.is_private())
        return Err(std::string("replication serve: the server key must be a private key"));
    s.admins.clear();
    for (const AdminSpec& spec : s.options.admins) {
        AdminKey k;
        k.spec = spec;
        if (!spec.key_file.empty()) {
            k.from_file = true;
            auto secret = crypto::load_secret(spec.key_file);
            if (!secret)
                return Err("admin " + std::to_string(spec.index) + ":" + spec.handle + ": " + secret.error());
            k.secret = std::move(*secret);
            if (auto pub = crypto::load_public_key(spec.key_file))
                k.public_key = std::move(*pub);
            else
                k.public_key_error = pub.error();
        }
        s.admins.push_back(std::move(k));
    }
    auto tls = crypto::TlsServerContext::make(s.options.server_key);
    if (!tls)
        return Err("replication serve: TLS: " + tls.error());
    s.tls = std::move(*tls);

    s.listeners.clear();
    s.bound.clear();
    const socket::SocketTuning tuning{0, 0, false, 64};
    for (const socket::Endpoint& ep : s.options.listen) {
        std::string error;
        socket::UniqueFd fd = socket::open_bound_socket(ep, SOCK_STREAM, tuning, error);
        if (!fd.valid()) {
            s.listeners.clear();
            return Err("replication serve: " + error);
        }
        auto local = socket::local_endpoint(fd.get());
        s.bound.push_back(local ? *local : ep);
        s.listeners.push_back(std::move(fd));
    }
    s.wake_fd = socket::make_wake_fd();
    if (!s.wake_fd.valid()) {
        s.listeners.clear();
        return Err("replication serve: eventfd: " + socket::errno_text(errno));
    }
    s.stopping.store(false);
    s.accept_thread = std::thread([&s] { s.accept_loop(); });
    s.running = true;
    return {};
}

void ReplicationServer::stop()
{
    Impl& s = *impl_;
    if (!s.running)
        return;
    s.stopping.store(true);
    socket::wake(s.wake_fd);
    if (s.accept_thread.joinable())
        s.accept_thread.join();
    s.listeners.clear();
    {
        // Unblocks every connection thread: its next read or write fails at once.
        std::lock_guard lock(s.connections_mu);
        for (auto& c : s.connections)
            if (c->shutdown_fd.valid())
                ::shutdown(c->shutdown_fd.get(), SHUT_RDWR);
    }
    s.reap(true);
    s.wake_fd.reset();
    s.running = false;
}

std::vector<socket::Endpoint> ReplicationServer::bound() const { return impl_->bound; }

std::string ReplicationServer::stats_json() const
{
    const Impl& s = *impl_;
    const Counters& c = s.counters;
    nlohmann::json j = {
        {"connections", c.connections.load()},
        {"connections_refused", c.connections_refused.load()},
        {"connections_open", s.open.load()},
        {"challenges_sent", c.challenges_sent.load()},
        {"challenges_dropped", s.pending.dropped()},
        {"challenges_expired", s.pending.expired()},
        {"pending_challenges", s.pending.size()},
        {"auth_ok", c.auth_ok.load()},
        {"auth_failed", c.auth_failed.load()},
        {"dumps", c.dumps.load()},
        {"dump_resumes", c.dump_resumes.load()},
        {"txn_pulls", c.txn_pulls.load()},
        {"redumps_requested", c.redumps_requested.load()},
        {"records_sent", c.records_sent.load()},
        {"bytes_sent", c.bytes_sent.load()},
        {"stalled", c.stalled.load()},
        {"malformed", c.malformed.load()},
        {"unsupported", c.unsupported.load()},
        {"errors", c.errors.load()},
    };
    return j.dump();
}

} // namespace idpath::replication
