#pragma once
// A table, requests and reply decoding shared by the socket tests. Every socket these tests
// open is on loopback, with a kernel-chosen port.

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "dataplane/resolve/policy.hpp"
#include "dataplane/table/table.hpp"
#include "dataplane/wire/admin_values.hpp"
#include "dataplane/wire/message.hpp"
#include "dataplane/wire/response.hpp"
#include "dataplane/wire/value.hpp"
#include "drivers/socket/address.hpp"
#include "drivers/socket/client.hpp"
#include "drivers/socket/request.hpp"

namespace idpath::test {

/// Polls `pred` until it holds or `limit` passes (the server threads update counters and
/// connections asynchronously).
template <class F>
bool eventually(F pred, std::chrono::milliseconds limit = std::chrono::milliseconds(3000))
{
    const auto end = std::chrono::steady_clock::now() + limit;
    while (!pred()) {
        if (std::chrono::steady_clock::now() > end)
            return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return true;
}

inline wire::HandleValue value(std::uint32_t index, std::string type, std::string data)
{
    wire::HandleValue v;
    v.index = index;
    v.timestamp = 1767323045; // 2026-01-02T03:04:05Z
    v.type = std::move(type);
    v.data.assign(data.begin(), data.end());
    return v;
}

/// 88.100.1/abc: three values, one datagram. 88.100.1/big: about 2.5 KB, six datagrams.
/// 88.100.1/huge: about 6 KB, more than Policy::max_udp_datagrams (8) allow.
inline std::shared_ptr<const table::Table> socket_table()
{
    table::TableBuilder b;
    b.home("88.100.1");
    wire::AdminRecord admin;
    admin.admin_handle = "0.NA/88.100.1";
    admin.admin_index = 200;
    const auto admin_data = wire::encode_admin_record(admin);
    b.add("88.100.1/abc",
          {value(1, "URL", "https://example.org/a"), value(2, "EMAIL", "a@example.org"),
           value(100, "HS_ADMIN", std::string(admin_data.begin(), admin_data.end()))});
    std::vector<wire::HandleValue> big;
    for (std::uint32_t i = 1; i <= 10; ++i)
        big.push_back(
            value(i, "URL", "https://example.org/" + std::string(200, static_cast<char>('a' + i))));
    b.add("88.100.1/big", big);
    std::vector<wire::HandleValue> huge;
    for (std::uint32_t i = 1; i <= 20; ++i)
        huge.push_back(value(i, "BLOB", std::string(300, static_cast<char>('A' + i))));
    b.add("88.100.1/huge", huge);
    return std::move(b).build();
}

inline socket::Endpoint loopback(int family)
{
    return *socket::parse_endpoint(family == AF_INET6 ? "[::1]:0" : "127.0.0.1:0", 0);
}

/// False on hosts without an IPv6 loopback (some containers); such tests skip.
inline bool have_ipv6_loopback()
{
    const int fd = ::socket(AF_INET6, SOCK_DGRAM, 0);
    if (fd < 0)
        return false;
    const socket::Endpoint ep = loopback(AF_INET6);
    const bool ok = ::bind(fd, ep.addr(), ep.length) == 0;
    ::close(fd);
    return ok;
}

inline std::vector<std::uint8_t> make_request(const std::string& handle, std::uint32_t id,
                                              std::vector<std::string> types = {},
                                              std::uint32_t flags = socket::kDefaultClientFlags)
{
    socket::RequestSpec spec;
    spec.handle = handle;
    spec.request_id = id;
    spec.types = std::move(types);
    spec.op_flags = flags;
    spec.expiration = 2000000000;
    auto r = socket::encode_request(spec);
    return r.ok() ? std::move(r.value()) : std::vector<std::uint8_t>{};
}

struct Answer {
    bool ok = false;
    wire::Header header;
    wire::DecodedResponse body;
};

inline Answer decode_answer(const std::vector<std::uint8_t>& message)
{
    Answer a;
    const auto m = wire::decode_message(message);
    if (!m.ok())
        return a;
    a.header = m->header;
    auto body = wire::decode_response_body(m->header, m->body);
    if (!body.ok())
        return a;
    a.body = std::move(body.value());
    a.ok = true;
    return a;
}

template <class T>
std::string error_text(const Result<T, socket::ClientError>& r)
{
    return r.ok() ? std::string("(no error)") : r.error().message;
}
template <class T>
std::string error_text(const Result<T, std::string>& r)
{
    return r.ok() ? std::string("(no error)") : r.error();
}
template <class T>
std::optional<socket::ClientError::Kind> error_kind(const Result<T, socket::ClientError>& r)
{
    if (r.ok())
        return std::nullopt;
    return r.error().kind;
}

/// A query that must succeed; fails the test (and returns nullopt) otherwise.
inline std::optional<socket::QueryResult> query(const socket::QueryOptions& o,
                                                const std::vector<std::uint8_t>& request)
{
    auto r = socket::exchange(o, request);
    if (!r.ok()) {
        ADD_FAILURE() << "exchange with " << o.server.to_string() << ": " << error_text(r);
        return std::nullopt;
    }
    return std::move(r.value());
}

} // namespace idpath::test
