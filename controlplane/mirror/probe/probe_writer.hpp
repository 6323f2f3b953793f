#pragma once
/// Probe mode's control-plane half (docs/log-mirror.md "Probe mode"): one thread draining every
/// serving thread's probe ring (dataplane/querylog/probe.hpp) into pcapng files, rotated by size
/// and age like the file sink's and named like them,
/// `idpath-<node>-<YYYYMMDDTHHMMSSZ>-<seq>.pcapng` (created with O_EXCL: a name is never reused),
/// with a retention policy that deletes only this node's older probe files. Each file is one
/// section with two interfaces: 0 carries Ethernet frames (the DPDK run loop's), 1 raw IP
/// packets (the kernel sockets', headers synthesized).
///
/// Thread-safety: make(), add_source(), set_source_stats(), start() and stop() from one thread
/// (idpathd's main); stats_json() from any.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "dataplane/base/counter.hpp"
#include "dataplane/base/result.hpp"
#include "dataplane/querylog/probe.hpp"
#include "drivers/socket/unique_fd.hpp"

namespace idpath::mirror {

struct ProbeWriterOptions {
    std::filesystem::path directory;
    std::string node_id;
    std::uint32_t sample = 1;                       // one request in `sample` is captured
    std::uint16_t snap_bytes = querylog::kProbeSnapMax;
    std::size_t ring_packets = 4096;                // per serving thread
    std::uint64_t rotate_bytes = 256ull << 20;      // 0: no size limit
    std::uint32_t rotate_seconds = 3600;            // 0: no age limit
    std::uint32_t retention_days = 183;             // 0: keep everything
    /// Wall clock, replaceable in tests.
    std::function<std::chrono::system_clock::time_point()> clock;
};

/// The name of a probe file, and back (nullopt for anything else); node as file_node_id().
std::string probe_file_name(std::string_view node, std::chrono::sys_seconds start, std::uint64_t seq);
struct ProbeFileName {
    std::string node;
    std::chrono::sys_seconds start{};
    std::uint64_t seq = 0;
};
std::optional<ProbeFileName> parse_probe_file_name(std::string_view name);

class ProbeWriter {
public:
    /// Creates the directory if needed and finds the next sequence number. Error: the
    /// directory cannot be made or read.
    static Result<std::unique_ptr<ProbeWriter>, std::string> make(ProbeWriterOptions options);
    ~ProbeWriter();
    ProbeWriter(const ProbeWriter&) = delete;
    ProbeWriter& operator=(const ProbeWriter&) = delete;

    /// A ring for one more serving thread ("udp-0", "lcore-3"); before start() only.
    querylog::ProbeTarget add_source(std::string name);
    /// The producer's counters of the source add_source() returned `target` for.
    void set_source_stats(const querylog::ProbeTarget& target, const querylog::ProbeStats* stats);

    /// Starts the writer thread.
    void start();
    /// Drains the rings one last time (the producers have stopped), closes the file, joins.
    /// Idempotent.
    void stop();
    /// Drains every ring once into the current file (rotating and applying retention as due);
    /// returns the packets written. The thread calls it; tests may call it instead of start().
    std::size_t drain_once();

    /// {"directory", "sample", "captured", "sampled_out", "lost", "written", "bytes", "files",
    /// "write_errors", "sources": [{"name", "captured", "sampled_out", "lost"}]}
    nlohmann::json stats_json() const;

private:
    explicit ProbeWriter(ProbeWriterOptions options);
    void write_packet(const querylog::ProbeSlot& s);
    bool open_file(std::chrono::system_clock::time_point now);
    void close_file();
    bool flush_buffer();
    void apply_retention(std::chrono::system_clock::time_point now);

    struct Source {
        Source(std::uint16_t s, std::string n, std::size_t capacity) : source(s), name(std::move(n)), ring(capacity) {}
        std::uint16_t source;
        std::string name;
        querylog::ProbeRing ring;
        std::atomic<const querylog::ProbeStats*> stats{nullptr};
    };

    ProbeWriterOptions options_;
    std::string node_;
    std::deque<Source> sources_;
    std::thread thread_;
    std::atomic<bool> stopping_{false};
    bool started_ = false;

    socket::UniqueFd file_;
    std::filesystem::path path_;
    std::string buffer_;
    std::uint64_t file_bytes_ = 0;
    std::chrono::system_clock::time_point opened_at_{};
    std::chrono::system_clock::time_point retention_at_{};
    std::uint64_t next_seq_ = 1;

    Counter written_;
    Counter bytes_;
    Counter files_;
    Counter write_errors_;
};

} // namespace idpath::mirror
