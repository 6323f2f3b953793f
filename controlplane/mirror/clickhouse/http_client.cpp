#include "controlplane/mirror/clickhouse/http_client.hpp"

#include <curl/curl.h>

#include <mutex>

namespace idpath::mirror::clickhouse {

namespace {

/// libcurl's global state, made once per process before the first handle (its init is not
/// thread-safe on every build, so never implicitly from two sink threads at once).
bool curl_global() noexcept
{
    static std::once_flag once;
    static bool ok = false;
    std::call_once(once, [] { ok = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK; });
    return ok;
}

/// A server's error message is one line or a few; more is noise in a metric or a log line.
constexpr std::size_t kMaxErrorText = 1024;
/// A SELECT answer the tests and the retention job read; bigger means a wrong query.
constexpr std::size_t kMaxResponse = 64u << 20;

std::size_t on_write(char* data, std::size_t size, std::size_t n, void* user)
{
    auto* out = static_cast<std::string*>(user);
    if (out->size() + size * n > kMaxResponse)
        return 0; // aborts the transfer: CURLE_WRITE_ERROR
    out->append(data, size * n);
    return size * n;
}

std::string trimmed(std::string_view s)
{
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' '))
        s.remove_suffix(1);
    if (s.size() > kMaxErrorText)
        s = s.substr(0, kMaxErrorText);
    return std::string(s);
}

} // namespace

struct HttpClient::Curl {
    CURL* easy = nullptr;
    curl_slist* headers = nullptr;
    char error[CURL_ERROR_SIZE] = {};

    ~Curl()
    {
        curl_slist_free_all(headers);
        if (easy != nullptr)
            curl_easy_cleanup(easy);
    }
};

Result<std::unique_ptr<HttpClient>, std::string> HttpClient::make(HttpOptions options)
{
    if (!curl_global())
        return Err(std::string("libcurl: global initialisation failed"));
    auto curl = std::make_unique<Curl>();
    curl->easy = curl_easy_init();
    if (curl->easy == nullptr)
        return Err(std::string("libcurl: cannot make an easy handle"));
    // No "Expect: 100-continue" on big batches: one round trip less, and nothing to wait for.
    curl->headers = curl_slist_append(nullptr, "Expect:");
    if (curl->headers == nullptr)
        return Err(std::string("libcurl: out of memory"));
    CURL* e = curl->easy;
    const long timeout = static_cast<long>(options.timeout_ms);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, curl->error);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L); // a thread of a multi-threaded daemon
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, timeout);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, curl->headers);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
    if (!options.user.empty()) {
        curl_easy_setopt(e, CURLOPT_HTTPAUTH, static_cast<long>(CURLAUTH_BASIC));
        curl_easy_setopt(e, CURLOPT_USERNAME, options.user.c_str());
        curl_easy_setopt(e, CURLOPT_PASSWORD, options.password.c_str());
    }
    return std::unique_ptr<HttpClient>(new HttpClient(std::move(options), std::move(curl)));
}

HttpClient::HttpClient(HttpOptions options, std::unique_ptr<Curl> curl)
    : options_(std::move(options)), curl_(std::move(curl))
{
}

HttpClient::~HttpClient() = default;

Result<std::string, std::string> HttpClient::post(std::string_view query, std::string_view body)
{
    CURL* e = curl_->easy;
    url_ = options_.url;
    if (!query.empty()) {
        char* escaped = curl_easy_escape(e, query.data(), static_cast<int>(query.size()));
        if (escaped == nullptr)
            return Err(std::string("libcurl: out of memory"));
        url_ += url_.find('?') == std::string::npos ? "?query=" : "&query=";
        url_ += escaped;
        curl_free(escaped);
    }
    response_.clear();
    curl_->error[0] = '\0';
    curl_easy_setopt(e, CURLOPT_URL, url_.c_str());
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    // Never null: a null POSTFIELDS would make libcurl read the body from stdin.
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, body.empty() ? "" : body.data());
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &response_);
    const CURLcode rc = curl_easy_perform(e);
    if (rc != CURLE_OK)
        return Err("ClickHouse " + options_.url + ": " +
                   (curl_->error[0] != '\0' ? std::string(curl_->error) : std::string(curl_easy_strerror(rc))));
    long status = 0;
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
    if (status < 200 || status > 299)
        return Err("ClickHouse " + options_.url + ": HTTP " + std::to_string(status) + ": " + trimmed(response_));
    return std::move(response_);
}

} // namespace idpath::mirror::clickhouse
