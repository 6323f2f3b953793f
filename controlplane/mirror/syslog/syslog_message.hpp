#pragma once
/// RFC 5424 syslog messages for the log mirror, one per record or event, each framed by octet
/// counting (RFC 6587 section 3.4.1, also RFC 5425's framing over TLS): "LEN SP MSG".
///
///   <PRI>1 TIMESTAMP HOSTNAME APP-NAME - MSGID [idpath@32473 node="…" source="…" seq="…"
///   replayed="0|1"] {the record's JSON line, encode.hpp}
///
/// - PRI: facility local0 (16). Severity: informational (6) for queries; notice (5) for events
///   (table loads, config reloads, admin actions, sink state: rare and worth a look) and for
///   heartbeats whose source has lost records (HeartbeatBody::lost > 0), informational for the
///   other heartbeats. `lost` is cumulative since the source started, so once a serving thread
///   has lost records its heartbeats stay at notice until idpathd restarts: a receiver filtering
///   on severity keeps seeing that the stream has a gap.
/// - TIMESTAMP: the record's own time (not the sending time), UTC, microseconds.
/// - PROCID is "-" (the node is identified by HOSTNAME and the node SD-PARAM, not a pid).
/// - MSGID: "query", "heartbeat", or the event's category ("table.load", ...).
/// - The SD-ID idpath@32473 uses 32473, the IANA example enterprise number (RFC 5612): an
///   operator with a private enterprise number of its own may want to substitute it
///   (MessageIdentity::sd_id, checked by valid_sd_id()).
///   Its parameters repeat the key fields of the JSON so a receiver can route and deduplicate
///   without parsing MSG: syslog has no application acknowledgement, so a batch cut short by
///   a broken connection is sent again whole and the receiver may see some records twice;
///   node + source + seq identify a record.
/// - MSG is the JSON object as UTF-8 without a BOM (MSG-ANY), so what a receiver stores as the
///   message text is plain JSON.
///
/// Size: a query's message is at most about 1.8 KB plus twice the node id (the largest handle,
/// every octet escaped), within the 2048 octets RFC 5424 says receivers should accept; rsyslog
/// and syslog-ng take 8 KiB by default. Events are as long as their fields.
///
/// Header fields are PRINTUSASCII without spaces (other octets become '_') and cut to the
/// RFC's lengths; SD-PARAM values escape '"', '\' and ']' and replace invalid UTF-8 by '?'.

#include <cstdint>
#include <string>
#include <string_view>

#include "controlplane/mirror/core/batch.hpp"
#include "controlplane/mirror/core/encode.hpp"

namespace idpath::mirror::syslog {

inline constexpr std::string_view kDefaultSdId = "idpath@32473";
inline constexpr std::uint8_t kFacilityLocal0 = 16;
inline constexpr std::uint8_t kSeverityNotice = 5;
inline constexpr std::uint8_t kSeverityInfo = 6;

struct MessageIdentity {
    std::string hostname;               // gethostname() unless configured
    std::string app_name = "idpathd";
    std::string sd_id = std::string(kDefaultSdId);
};

/// Builds messages for one origin; keeps its scratch buffers, so one per sink thread.
class MessageFormatter {
public:
    MessageFormatter(const Origin& origin, const MessageIdentity& identity);

    /// Appends one RFC 5424 message (no framing) for a record or an event.
    void message(const querylog::Record& r, bool replayed, std::string& out);
    void message(const Event& e, bool replayed, std::string& out);

    /// Appends every record and then every event of `b`, each as one "LEN SP MSG" frame.
    void frames(const Batch& b, std::string& out);

private:
    void header(std::uint8_t severity, std::uint64_t time_ns, std::string_view msgid, std::uint16_t source,
                std::uint64_t seq, bool replayed, std::string& out) const;
    void frame(std::string& out);

    JsonEncoder json_;
    std::string hostname_; // sanitized header fields
    std::string app_name_;
    std::string sd_open_;  // "[idpath@32473 node=\"…\" source=\""
    std::string msg_;      // one message, before framing
};

/// RFC 3339 / RFC 5424 TIMESTAMP of CLOCK_REALTIME nanoseconds: "2026-11-23T02:40:36.123456Z".
void append_timestamp(std::uint64_t time_ns, std::string& out);
/// An SD-PARAM value's text (without the quotes), escaped, invalid UTF-8 replaced.
void append_sd_value(std::string_view value, std::string& out);
/// Whether `id` is a usable SD-ID: 1 to 32 PRINTUSASCII octets other than '=', ']' and '"'.
bool valid_sd_id(std::string_view id) noexcept;
/// A header field: PRINTUSASCII only (others become '_'), at most `max` octets, "-" if empty.
void append_header_field(std::string_view value, std::size_t max, std::string& out);

} // namespace idpath::mirror::syslog
