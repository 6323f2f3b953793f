#pragma once
/// A sink's disk spool: where batches wait while the sink is unreachable (or slower than the
/// exporter), read back oldest first when it returns (docs/log-mirror.md, "Spool").
///
/// One directory per sink holding segment files named by a 20-digit number ("00000001099511627776.seg");
/// the numbers order the segments. A segment is the binary batches (encode.hpp) back to back.
/// Batches are appended to the newest segment; a segment is sealed (fsync'ed, closed) when it
/// reaches segment_bytes, when the reader reaches it, and on close(). The reader loads the
/// oldest segment whole, hands its batches out in order and deletes the file once every batch of
/// it is popped. push_front() writes a one-batch segment numbered below the oldest: a batch that
/// must go out before everything spooled (a delivery that failed after newer batches were spooled).
///
/// Bounded: a batch that would take the files on disk past max_bytes is refused (SpoolError::Full)
/// and the caller counts it as dropped. A segment whose tail does not decode (a crash mid-write,
/// or damage) is detected by decode_binary(): the batches before the damage are handed out, the
/// rest of that segment is counted (corrupt_segments, corrupt_bytes) and skipped, never trusted.
///
/// Durability: a sealed segment survives power loss; the open segment's batches survive a crash
/// of idpathd (they are in the page cache) but not of the host. After a crash the popped batches
/// of a partly replayed segment are replayed again (at least once): the platform sees them twice
/// with the same (node, source, seq).
///
/// Lag: the spool knows the time of its oldest batch without reading it (front_time_ns()).
///
/// Thread-safety: none; its SinkRunner serializes every call under its own mutex.

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "controlplane/mirror/core/batch.hpp"
#include "dataplane/base/result.hpp"

namespace idpath::mirror {

struct SpoolOptions {
    std::filesystem::path directory; // created (mode 0750) if missing
    std::uint64_t max_bytes = 1ull << 30;
    /// A segment is sealed once it holds this much; 0: max_bytes / 32, within 256 KiB .. 8 MiB.
    std::uint64_t segment_bytes = 0;
};

struct SpoolError {
    enum class Kind : std::uint8_t { Full, Io } kind;
    std::string text;
};

/// The oldest non-zero time stamp of a batch's records and events (0 when it has none).
std::uint64_t oldest_time_ns(const Batch& b) noexcept;

class Spool {
public:
    /// Opens (creating it if need be) the spool directory and takes stock of the segments already
    /// there (from before a restart): they come out first. Reads every segment once to count its
    /// batches. Error: the directory cannot be made, listed or written.
    static Result<std::unique_ptr<Spool>, std::string> open(const SpoolOptions& options,
                                                            const Origin& origin);
    ~Spool();
    Spool(const Spool&) = delete;
    Spool& operator=(const Spool&) = delete;

    /// Appends `batch` after everything spooled.
    Result<void, SpoolError> push_back(const Batch& batch);
    /// Puts `batch` before everything spooled.
    Result<void, SpoolError> push_front(const Batch& batch);

    /// The oldest spooled batch, its `replayed` set, or null when the spool is empty. Valid until
    /// the next call on the spool. May read a segment from disk (and skip its damaged tail).
    const Batch* front();
    /// Removes the batch front() returned (deleting its segment when that was the last of it).
    void pop();

    bool empty() const noexcept { return batches_ == 0; }
    std::uint64_t batches() const noexcept { return batches_; }
    std::uint64_t records() const noexcept { return records_; } // records + events
    std::uint64_t bytes() const noexcept { return bytes_; }     // segment files on disk
    std::uint64_t max_bytes() const noexcept { return options_.max_bytes; }
    /// Oldest time stamp (oldest_time_ns()) of the front batch, as far as known without reading
    /// a segment: exact after front(), an upper bound on the age after pop(); 0 when empty.
    std::uint64_t front_time_ns() const noexcept { return batches_ == 0 ? 0 : front_time_ns_; }
    std::uint64_t corrupt_segments() const noexcept { return corrupt_segments_; }
    std::uint64_t corrupt_bytes() const noexcept { return corrupt_bytes_; }
    const std::filesystem::path& directory() const noexcept { return options_.directory; }

    /// Seals the open segment (fsync) so what is spooled survives a power loss. Called by the
    /// destructor too.
    void close();

private:
    struct Segment {
        std::uint64_t size = 0;    // on disk
        std::uint64_t batches = 0; // not yet popped (counted at open or as appended)
        std::uint64_t records = 0;
        std::uint64_t first_time_ns = 0; // of its first batch, when counted at open
        bool loaded = false;
        std::string data;          // the file, once loaded
        std::size_t offset = 0;    // of the next batch in data
        std::optional<Batch> next; // decoded batch at offset
    };

    Spool(SpoolOptions options, Origin origin);
    std::filesystem::path path_of(std::uint64_t id) const;
    Result<void, SpoolError> write_segment_bytes(int fd, const std::string& bytes);
    Result<void, SpoolError> seal_tail();
    bool load(std::uint64_t id, Segment& s);
    void drop_segment(std::map<std::uint64_t, Segment>::iterator it);

    SpoolOptions options_;
    Origin origin_;
    std::map<std::uint64_t, Segment> segments_; // by id: oldest first
    std::uint64_t next_id_ = 0;                 // for the next segment push_back() opens
    int tail_fd_ = -1;                          // the open segment (segments_.rbegin())
    std::uint64_t tail_id_ = 0;
    std::uint64_t batches_ = 0;
    std::uint64_t records_ = 0;
    std::uint64_t bytes_ = 0;
    std::uint64_t front_time_ns_ = 0;
    std::uint64_t corrupt_segments_ = 0;
    std::uint64_t corrupt_bytes_ = 0;
    std::string scratch_;
};

} // namespace idpath::mirror
