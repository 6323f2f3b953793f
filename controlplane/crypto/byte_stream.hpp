#pragma once
/// A blocking byte stream with deadlines: a TCP socket, or TLS over it (tls_stream.hpp). What the
/// replication client and server read and write after the reply (repl_stream.hpp).
/// One thread per stream.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "dataplane/base/bytes.hpp"
#include "dataplane/base/result.hpp"

namespace idpath::crypto {

class ByteStream {
public:
    virtual ~ByteStream() = default;
    /// Up to `out.size()` octets, at least one, within `timeout_ms`; 0 at the peer's orderly end.
    /// Errors: "timeout", "reset", TLS failures, each with what happened.
    virtual Result<std::size_t, std::string> read_some(MutableByteSpan out, int timeout_ms) = 0;
    /// All of `bytes` within `timeout_ms`.
    virtual Result<void, std::string> write_all(ByteSpan bytes, int timeout_ms) = 0;
    /// Exactly `out.size()` octets or an error ("closed after N of M octets").
    Result<void, std::string> read_exact(MutableByteSpan out, int timeout_ms);
    /// Orderly close (TLS close_notify, then shutdown(SHUT_WR)). Idempotent.
    virtual void close() = 0;
    /// The socket underneath (TLS starts on it).
    virtual int fd() const noexcept = 0;
};

/// Plain TCP over `fd` (adopted; closed by the stream).
std::unique_ptr<ByteStream> plain_stream(int fd);

} // namespace idpath::crypto
