#pragma once
// A private rsyslogd for one test, started from the test as a child process in the foreground
// (-n) with its own config, pid file, work directory and output in a temporary directory, on
// loopback ports it picks itself: nothing shared with a system rsyslog. What it receives from
// app-name "idpathd" is written one JSON object per line with the fields its RFC 5424 parser
// found; everything else (its own messages included) goes to other.log.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace idpath::mirror::testing {

inline constexpr const char* kRsyslogd = "/usr/sbin/rsyslogd";

/// A throwaway PKI made with the openssl command line: a CA, a server certificate for
/// "localhost" and 127.0.0.1 signed by it, a client certificate signed by it, and an
/// unrelated CA. Returns "" or what failed.
std::string make_test_pki(const std::filesystem::path& dir);

/// Runs a command (argv[0] looked up in PATH) with output to `log`, for at most `timeout`.
bool run_command(const std::vector<std::string>& argv, const std::filesystem::path& log,
                 std::chrono::seconds timeout = std::chrono::seconds(30));

class Rsyslogd {
public:
    struct Ports {
        std::uint16_t plain = 0; // imtcp, plain
        std::uint16_t tls = 0;   // imtcp over TLS (ossl), no client authentication
        std::uint16_t mtls = 0;  // imtcp over TLS, client certificate signed by the CA required
    };

    /// `dir` must exist and hold the PKI of make_test_pki() (for the TLS inputs).
    /// `count_only`: write just the MSGID per message (for throughput runs).
    explicit Rsyslogd(std::filesystem::path dir, bool count_only = false);
    ~Rsyslogd();
    Rsyslogd(const Rsyslogd&) = delete;
    Rsyslogd& operator=(const Rsyslogd&) = delete;

    /// Starts rsyslogd and waits (at most 10 s) until every input listens. Ports left 0 are
    /// chosen by rsyslogd. Returns "" or why it did not come up.
    std::string start(const Ports& want);
    std::string start();
    /// SIGTERM, wait at most 5 s, then SIGKILL. Idempotent.
    void stop();
    bool running() const { return pid_ > 0; }
    const Ports& ports() const { return ports_; }

    /// The complete lines of the output so far.
    std::vector<std::string> lines() const;
    /// Waits until the output has at least `n` lines or `timeout` passes; returns them parsed.
    std::vector<nlohmann::json> wait_for(std::size_t n, std::chrono::milliseconds timeout) const;
    /// rsyslogd's stdout/stderr and its own messages, for failure reports.
    std::string diagnostics() const;

private:
    std::filesystem::path dir_;
    bool count_only_;
    pid_t pid_ = -1;
    Ports ports_;
};

} // namespace idpath::mirror::testing
