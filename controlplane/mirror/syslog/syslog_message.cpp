#include "controlplane/mirror/syslog/syslog_message.hpp"

#include <charconv>
#include <ctime>

#include "controlplane/mirror/core/encode.hpp"

namespace idpath::mirror::syslog {

namespace {

// RFC 5424 section 6: field lengths.
constexpr std::size_t kHostnameMax = 255;
constexpr std::size_t kAppNameMax = 48;
constexpr std::size_t kMsgIdMax = 32;
constexpr std::size_t kSdNameMax = 32;

bool printusascii(unsigned char c) noexcept { return c >= 33 && c <= 126; }

template <class Int>
void append_number(Int v, std::string& out)
{
    char buf[24];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, r.ptr);
}

/// Appends `v` as exactly `width` decimal digits (v < 10^width).
void append_digits(unsigned v, int width, std::string& out)
{
    char buf[8];
    for (int i = width - 1; i >= 0; --i) {
        buf[i] = static_cast<char>('0' + v % 10);
        v /= 10;
    }
    out.append(buf, static_cast<std::size_t>(width));
}

/// Length of the well-formed UTF-8 sequence at the front of `s`, or 0 (RFC 3629 section 4:
/// no overlong forms, no surrogates, nothing above U+10FFFF).
std::size_t utf8_sequence(std::string_view s) noexcept
{
    const auto at = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
    const unsigned char c = at(0);
    if (c < 0x80)
        return 1;
    std::size_t n = 0;
    unsigned char lo = 0x80, hi = 0xbf; // range of the second octet
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        if (c == 0xe0)
            lo = 0xa0;
        if (c == 0xed)
            hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        if (c == 0xf0)
            lo = 0x90;
        if (c == 0xf4)
            hi = 0x8f;
    } else {
        return 0;
    }
    if (s.size() < n || at(1) < lo || at(1) > hi)
        return 0;
    for (std::size_t i = 2; i < n; ++i)
        if (at(i) < 0x80 || at(i) > 0xbf)
            return 0;
    return n;
}

std::uint8_t heartbeat_severity(const querylog::Record& r) noexcept
{
    return querylog::heartbeat_body(r).lost > 0 ? kSeverityNotice : kSeverityInfo;
}

} // namespace

void append_timestamp(std::uint64_t time_ns, std::string& out)
{
    const auto seconds = static_cast<std::time_t>(time_ns / 1'000'000'000u);
    const auto micros = static_cast<unsigned>(time_ns % 1'000'000'000u / 1000u);
    std::tm tm{};
    ::gmtime_r(&seconds, &tm);
    append_digits(static_cast<unsigned>(tm.tm_year + 1900), 4, out);
    out += '-';
    append_digits(static_cast<unsigned>(tm.tm_mon + 1), 2, out);
    out += '-';
    append_digits(static_cast<unsigned>(tm.tm_mday), 2, out);
    out += 'T';
    append_digits(static_cast<unsigned>(tm.tm_hour), 2, out);
    out += ':';
    append_digits(static_cast<unsigned>(tm.tm_min), 2, out);
    out += ':';
    append_digits(static_cast<unsigned>(tm.tm_sec), 2, out);
    out += '.';
    append_digits(micros, 6, out);
    out += 'Z';
}

void append_sd_value(std::string_view value, std::string& out)
{
    while (!value.empty()) {
        const char c = value.front();
        if (c == '"' || c == '\\' || c == ']') {
            out += '\\';
            out += c;
            value.remove_prefix(1);
            continue;
        }
        const std::size_t n = utf8_sequence(value);
        if (n == 0) {
            out += '?';
            value.remove_prefix(1);
            continue;
        }
        out.append(value.substr(0, n));
        value.remove_prefix(n);
    }
}

bool valid_sd_id(std::string_view id) noexcept
{
    if (id.empty() || id.size() > kSdNameMax)
        return false;
    for (const char ch : id) {
        const auto c = static_cast<unsigned char>(ch);
        if (!printusascii(c) || c == '=' || c == ']' || c == '"')
            return false;
    }
    return true;
}

void append_header_field(std::string_view value, std::size_t max, std::string& out)
{
    if (value.empty()) {
        out += '-';
        return;
    }
    for (const char c : value.substr(0, max))
        out += printusascii(static_cast<unsigned char>(c)) ? c : '_';
}

MessageFormatter::MessageFormatter(const Origin& origin, const MessageIdentity& identity) : json_(origin)
{
    append_header_field(identity.hostname, kHostnameMax, hostname_);
    append_header_field(identity.app_name, kAppNameMax, app_name_);
    sd_open_ = "[";
    sd_open_ += valid_sd_id(identity.sd_id) ? identity.sd_id : kDefaultSdId;
    sd_open_ += " node=\"";
    append_sd_value(origin.node_id, sd_open_);
    sd_open_ += "\" source=\"";
}

void MessageFormatter::header(std::uint8_t severity, std::uint64_t time_ns, std::string_view msgid,
                              std::uint16_t source, std::uint64_t seq, bool replayed, std::string& out) const
{
    out += '<';
    append_number(kFacilityLocal0 * 8 + severity, out);
    out += ">1 ";
    append_timestamp(time_ns, out);
    out += ' ';
    out += hostname_;
    out += ' ';
    out += app_name_;
    out += " - ";
    append_header_field(msgid, kMsgIdMax, out);
    out += ' ';
    out += sd_open_;
    append_number(source, out);
    out += "\" seq=\"";
    append_number(seq, out);
    out += replayed ? "\" replayed=\"1\"] " : "\" replayed=\"0\"] ";
}

void MessageFormatter::message(const querylog::Record& r, bool replayed, std::string& out)
{
    const bool heartbeat = r.kind == querylog::Kind::Heartbeat;
    header(heartbeat ? heartbeat_severity(r) : kSeverityInfo, r.time_ns, heartbeat ? "heartbeat" : "query",
           r.source, r.seq, replayed, out);
    json_.record(r, replayed, out);
}

void MessageFormatter::message(const Event& e, bool replayed, std::string& out)
{
    header(kSeverityNotice, e.time_ns, e.category, kControlSource, e.seq, replayed, out);
    json_.event(e, replayed, out);
}

void MessageFormatter::frame(std::string& out)
{
    append_number(msg_.size(), out);
    out += ' ';
    out += msg_;
}

void MessageFormatter::frames(const Batch& b, std::string& out)
{
    for (const querylog::Record& r : b.records) {
        msg_.clear();
        message(r, b.replayed, msg_);
        frame(out);
    }
    for (const Event& e : b.events) {
        msg_.clear();
        message(e, b.replayed, msg_);
        frame(out);
    }
}

} // namespace idpath::mirror::syslog
