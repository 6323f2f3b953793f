#pragma once
/// ClickHouse's HTTP interface through libcurl: one easy handle per sink, reused so its
/// keep-alive connection carries every insert, each POST bounded by the sink's timeout.
/// Not thread-safe: the sink's own thread uses it.

#include <memory>
#include <string>
#include <string_view>

#include "dataplane/base/result.hpp"

namespace idpath::mirror::clickhouse {

struct HttpOptions {
    std::string url;      // "http://host:8123/" (https:// works too: libcurl does TLS)
    std::string user;     // empty: the server's default user
    std::string password;
    unsigned timeout_ms = 10000; // connect and whole-request bound
};

class HttpClient {
public:
    /// Err only when libcurl cannot make a handle; nothing is contacted yet.
    static Result<std::unique_ptr<HttpClient>, std::string> make(HttpOptions options);
    ~HttpClient();
    HttpClient(const HttpClient&) = delete;
    HttpClient& operator=(const HttpClient&) = delete;

    /// POSTs `body` with `query` (empty: none) as the URL's `query` parameter, which is how
    /// ClickHouse takes an INSERT's statement apart from its data; a SELECT goes whole in `body`.
    /// Ok: the response body of a 2xx answer. Err: the transport's error, or the HTTP status and
    /// ClickHouse's own message ("Code: 60, e.displayText() = DB::Exception: ...").
    Result<std::string, std::string> post(std::string_view query, std::string_view body);

private:
    struct Curl;
    explicit HttpClient(HttpOptions options, std::unique_ptr<Curl> curl);

    HttpOptions options_;
    std::unique_ptr<Curl> curl_;
    std::string url_;      // reused per request
    std::string response_; // reused per request
};

} // namespace idpath::mirror::clickhouse
