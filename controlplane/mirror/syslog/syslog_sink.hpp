#pragma once
/// The syslog sink: every record and event as one RFC 5424 message (syslog_message.hpp) to a
/// receiver over TCP with octet-counting framing (RFC 6587 section 3.4.1) or over TLS
/// (RFC 5425, same framing), for platforms whose intake is syslog.
///
/// Delivery: deliver() connects if needed (lazily: a receiver that is down at startup is not
/// a startup error), frames the whole batch into one buffer and writes it in few large writes
/// within io_timeout_ms; Ok means the kernel took every octet. Any failure (connect, handshake,
/// write, a receiver found to have closed the connection) drops the connection, returns Err
/// for the whole batch (the runner spools it and delivers it again later) and starts a
/// backoff (100 ms doubling to 30 s, with jitter) during which ready() is false.
///
/// Syslog has no application acknowledgement: octets the kernel accepted can still die with
/// the connection, and a batch cut short midway is sent again whole, so a receiver can miss
/// the tail of the last batch before a crash and see records twice across a reconnect.
/// Receivers deduplicate with node + source + seq (in the structured data and the JSON); a
/// platform that needs acknowledged delivery should take Kafka or ClickHouse instead.
///
/// Name resolution (getaddrinfo) blocks outside the connect timeout: use an address, or a
/// name the local resolver answers quickly. Thread-safety: one thread (the sink's runner).

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "controlplane/mirror/core/sink.hpp"
#include "dataplane/base/result.hpp"

namespace idpath::mirror {

struct SyslogSinkOptions {
    std::string host;           // receiver's name or address
    std::uint16_t port = 0;     // 0: 6514 with TLS (RFC 5425), 514 without
    bool tls = false;
    std::string ca_file;        // PEM CAs the receiver's certificate must chain to; empty: system store
    std::string cert_file;      // PEM client certificate, for receivers that require one
    std::string key_file;       // its private key; empty: in cert_file
    std::string server_name;    // name the certificate must carry (and SNI); empty: host
    std::string app_name = "idpathd";
    std::string hostname;       // HOSTNAME field; empty: gethostname()
    /// SD-ID of the structured data; the default uses the IANA example enterprise number
    /// 32473: operators with a private enterprise number may want "idpath@<their PEN>".
    std::string sd_id = "idpath@32473";
    int connect_timeout_ms = 5000; // connect + TLS handshake
    int io_timeout_ms = 10000;     // writing one whole batch
    int backoff_initial_ms = 100;  // first wait after a failure, doubling...
    int backoff_max_ms = 30000;    // ...up to this
};

/// Checks the options and, with TLS, loads the CA, certificate and key files; does not connect.
/// Errors name the option ("syslog: host is empty", "tls: ca_file /x: ...").
Result<std::unique_ptr<Sink>, std::string> make_syslog_sink(const SyslogSinkOptions& options, const Origin& origin);

} // namespace idpath::mirror
