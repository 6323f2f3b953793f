#include "controlplane/mirror/syslog/syslog_sink.hpp"

#include <unistd.h>

#include <climits>

#include "controlplane/mirror/syslog/backoff.hpp"
#include "controlplane/mirror/syslog/connection.hpp"
#include "controlplane/mirror/syslog/syslog_message.hpp"
#include "controlplane/mirror/syslog/tls_context.hpp"

namespace idpath::mirror {

namespace {

std::string local_hostname()
{
    char name[HOST_NAME_MAX + 1] = {};
    if (::gethostname(name, sizeof name - 1) != 0)
        return {};
    return name;
}

class SyslogSink final : public Sink {
public:
    SyslogSink(const SyslogSinkOptions& options, const Origin& origin, syslog::SslCtxPtr tls,
               const syslog::MessageIdentity& identity)
        : options_(options), tls_(std::move(tls)), formatter_(origin, identity),
          backoff_(std::chrono::milliseconds(options.backoff_initial_ms),
                   std::chrono::milliseconds(options.backoff_max_ms))
    {
        connect_.host = options.host;
        connect_.port = options.port != 0 ? options.port : options.tls ? 6514 : 514;
        connect_.tls = tls_.get();
        connect_.server_name = options.server_name;
        connect_.timeout = std::chrono::milliseconds(options.connect_timeout_ms);
    }

    std::string kind() const override { return "syslog"; }

    Result<void, std::string> deliver(const Batch& batch) override
    {
        if (batch.size() == 0)
            return {};
        if (connection_ && connection_->peer_closed())
            connection_.reset();
        if (!connection_) {
            auto opened = syslog::Connection::open(connect_);
            if (!opened)
                return failed(opened.error());
            connection_ = std::move(opened.value());
        }
        frames_.clear();
        formatter_.frames(batch, frames_);
        if (auto written = connection_->write(frames_, std::chrono::milliseconds(options_.io_timeout_ms)); !written) {
            connection_.reset();
            return failed("syslog: " + connect_.host + ":" + std::to_string(connect_.port) + ": " + written.error());
        }
        backoff_.succeeded();
        // A batch can be far larger than the usual one (a spool replay): do not keep its buffer.
        if (frames_.capacity() > kKeepBuffer)
            std::string().swap(frames_);
        return {};
    }

    bool ready() override { return !backoff_.waiting(); }

private:
    static constexpr std::size_t kKeepBuffer = 16u << 20;

    Result<void, std::string> failed(std::string reason)
    {
        backoff_.failed();
        return Err(std::move(reason));
    }

    SyslogSinkOptions options_;
    syslog::SslCtxPtr tls_;
    syslog::ConnectOptions connect_;
    syslog::MessageFormatter formatter_;
    syslog::Backoff backoff_;
    std::unique_ptr<syslog::Connection> connection_;
    std::string frames_; // the batch's frames, reused
};

} // namespace

Result<std::unique_ptr<Sink>, std::string> make_syslog_sink(const SyslogSinkOptions& options, const Origin& origin)
{
    if (options.host.empty())
        return Err(std::string("syslog: host is empty"));
    if (options.connect_timeout_ms <= 0 || options.io_timeout_ms <= 0)
        return Err(std::string("syslog: connect_timeout_ms and io_timeout_ms must be positive"));
    if (options.backoff_initial_ms <= 0 || options.backoff_max_ms < options.backoff_initial_ms)
        return Err(std::string("syslog: backoff_initial_ms must be positive and at most backoff_max_ms"));
    if (!syslog::valid_sd_id(options.sd_id))
        return Err("syslog: sd_id \"" + options.sd_id + "\" is not an SD-ID (1 to 32 printable ASCII, no space = ] \")");
    if (!options.tls && !(options.ca_file.empty() && options.cert_file.empty() && options.key_file.empty()))
        return Err(std::string("syslog: ca_file, cert_file and key_file need tls"));

    syslog::SslCtxPtr tls;
    if (options.tls) {
        auto made = syslog::make_tls_context({options.ca_file, options.cert_file, options.key_file});
        if (!made)
            return Err("syslog: " + made.error());
        tls = std::move(made.value());
    }
    syslog::MessageIdentity identity;
    identity.hostname = options.hostname.empty() ? local_hostname() : options.hostname;
    identity.app_name = options.app_name;
    identity.sd_id = options.sd_id;
    return std::unique_ptr<Sink>(std::make_unique<SyslogSink>(options, origin, std::move(tls), identity));
}

} // namespace idpath::mirror
