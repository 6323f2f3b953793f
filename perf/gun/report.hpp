#pragma once
/// idpath-gun's output: a header, one line per interval and a final summary, as aligned text
/// for people or as JSON lines (one object each, "type": "start" | "interval" | "summary") for
/// scripts. Field names are stat_name()s; docs/idpath-gun.md lists them. A run with a SERVER of
/// each family adds what each family sent, and how that ended ("families" in JSON).
/// Thread-safety: the reporting thread only.

#include <cstdint>
#include <ostream>
#include <string>

#include "perf/gun/gun_stats.hpp"

namespace idpath::gun {

/// What the run is, echoed in the header and the summary.
struct RunInfo {
    std::string server;    // "127.0.0.1:2641", or "127.0.0.1:2641 + [::1]:2641" in a mixed run
    bool mixed = false;    // a SERVER of each family: the report counts per family too
    std::string transport; // "udp" | "tcp"
    bool open_loop = false;
    double rate = 0;
    std::uint32_t window = 0;
    std::uint32_t sockets = 0;
    std::uint32_t threads = 0;
    std::uint64_t identifiers = 0;
    double miss_ratio = 0;
    double zipf = 0;
    std::uint64_t count = 0;
    double duration = 0;
    std::uint32_t timeout_ms = 0;
    std::uint64_t seed = 0;
};

class Reporter {
public:
    Reporter(std::ostream& out, const RunInfo& info, bool json) : out_(out), info_(info), json_(json) {}

    void start();
    /// The interval that ended `elapsed_s` into the run and lasted `length_s`.
    void interval(double elapsed_s, double length_s, const Snapshot& delta);
    /// `send_s`: how long queries were sent (answers/s is answered over this); `wall_s`: the
    /// whole run with the final wait for answers.
    void summary(double send_s, double wall_s, const Snapshot& total);

private:
    std::ostream& out_;
    const RunInfo& info_;
    bool json_;
    bool header_printed_ = false;
};

/// CNRI's name of a response-code slot ("RC_SUCCESS"), "RC_<n>" for unnamed codes, "other" for
/// the shared last slot.
std::string rc_label(std::size_t slot);

} // namespace idpath::gun
