#pragma once
/// The change journal on disk (docs/operations.md, "Journal"): every change applied to the
/// table, in order, as HANDLE.NET's transaction records are: the registration log the
/// regulation asks for, and what a restart replays over the last snapshot.
///
/// Segments. The journal is the active file at its path plus sealed segments beside it
/// (journal_segments.hpp). Once an append takes the active file past
/// JournalOptions::segment_bytes it is sealed: fsynced, renamed to `<path>.<first txn>`, the
/// directory fsynced, and a new active file started at the next txn (created whole under a
/// temporary name and renamed into place). A crash at any step leaves files open() accepts: an
/// active file over the size (sealed at the next append), a sealed segment and no active file
/// (open() creates it), or both.
///
/// open() checks every file: a torn tail of the active file (a crash mid-append) is truncated
/// away and reported; damage anywhere else, a sealed segment that is not whole, or files that
/// do not follow each other (a gap or an overlap of txns) is an error naming the file, and
/// idpathd does not start on it, as on a damaged snapshot. append() writes a batch in one
/// write and fsyncs before it returns, so an update is acknowledged only once it is on disk.
///
/// Retention. A sealed segment is deleted, oldest first, only when its newest entry is older
/// than JournalOptions::retain_ms and all its entries are at or below the snapshot base (so a
/// restart never needs it); checked after each seal and when the snapshot base is set.
///
/// read_after() serves mirrors' pulls (OC_RETRIEVE_TXN_LOG) without reading the whole journal:
/// a sparse index of (txn id, offset) per file, built by open()'s check and extended by
/// append(), says where to start, and the files are read from there in bounded chunks until
/// the caller has enough.
///
/// Control plane only; one writer (the table's writer thread). Not thread-safe.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "controlplane/journal/journal_format.hpp"
#include "dataplane/base/result.hpp"

namespace idpath::journal {

/// The index holds the first entry and then an entry every kIndexEveryEntries entries or every
/// kIndexEveryBytes octets, whichever comes first. So a read starts at most 1023 entries or
/// 256 KiB (plus one entry) before the first one it wants: a fraction of one read chunk, and
/// under a millisecond of decoding, while the index stays small (16 octets a point: about 16 KiB
/// for a million small entries, 250 KiB for a 4 GB journal of records).
inline constexpr std::uint64_t kIndexEveryEntries = 1024;
inline constexpr std::uint64_t kIndexEveryBytes = 256u << 10;
/// read_after() reads the file at most this many octets at a time (more only for a larger
/// entry): the most it reads beyond what its caller takes before telling it to stop. Its first
/// read is kFirstReadBytes, doubling from there: a pull of a few new entries (a mirror's usual
/// poll) reads tens of KiB, not a whole chunk.
inline constexpr std::size_t kReadChunkBytes = 1u << 20;
inline constexpr std::size_t kFirstReadBytes = 64u << 10;

struct JournalOptions {
    /// Seal the active file once an append takes it to this many octets; 0: never.
    std::uint64_t segment_bytes = 0;
    /// Sealed segments whose newest entry is older than this may be deleted; 0: keep all.
    std::int64_t retain_ms = 0;
    /// Wall clock, ms since the epoch, that entry dates are compared with; empty: the system's.
    std::function<std::int64_t()> now_ms;
};

class Journal {
public:
    /// Opens (creating if missing) the journal at `path` with its sealed segments, and checks
    /// every entry of every file.
    static Result<std::unique_ptr<Journal>, std::string> open(const std::filesystem::path& path,
                                                              JournalOptions options = {});
    ~Journal();
    Journal(const Journal&) = delete;
    Journal& operator=(const Journal&) = delete;

    /// Numbers `entries` from last_txn() + 1 (their txn_id is set here), writes them in one
    /// write and fsyncs. On error nothing is acknowledged: the file is cut back to where it was,
    /// and last_txn() is unchanged. Then seals the active file when it is due: a seal that fails
    /// is logged and counted, and appends go on to the active file until one succeeds.
    Result<void, std::string> append(std::vector<Entry>& entries);

    /// The txn the newest snapshot holds changes up to (what a restart replays after): sealed
    /// segments at or below it may go once past retention. Runs enforce_retention().
    void set_snapshot_base(std::uint64_t txn);
    /// Deletes the sealed segments, oldest first, that both retention rules allow; logs each
    /// (file, txn range) and returns how many went.
    std::size_t enforce_retention();

    /// Calls `f` for each entry with txn_id > `txn`, in order, until `f` returns false (a mirror's
    /// batch is full): what is read is about what `f` took, from the index point before it on.
    /// An `f` returning nothing reads to the end (the replay at start wants every entry). Damage
    /// found on the way (the file changed under this Journal) is an error naming its offset.
    template <class F>
    Result<void, std::string> read_after(std::uint64_t txn, F&& f) const
    {
        if constexpr (std::is_void_v<std::invoke_result_t<F&, const Entry&>>)
            return read_until(txn, [&f](const Entry& e) {
                f(e);
                return true;
            });
        else
            return read_until(txn, [&f](const Entry& e) { return static_cast<bool>(f(e)); });
    }

    /// The active file's path (data.journal).
    const std::filesystem::path& path() const noexcept { return path_; }
    /// The oldest txn retained (last_txn() + 1 when none is).
    std::uint64_t first_txn() const noexcept { return files_.front().first_txn; }
    std::uint64_t last_txn() const noexcept { return files_.back().last_txn; }
    /// Whether read_after(txn) brings a reader at `txn` level: false when `txn` is beyond the
    /// last txn, or older than what retention kept (a mirror there needs a dump).
    bool covers_after(std::uint64_t txn) const noexcept { return txn <= last_txn() && txn + 1 >= first_txn(); }
    /// Entries retained, in all files.
    std::uint64_t entries() const noexcept { return last_txn() + 1 - first_txn(); }
    /// Files: the sealed segments and the active file.
    std::size_t segments() const noexcept { return files_.size(); }
    /// Octets in all files.
    std::uint64_t bytes() const noexcept;
    /// Sealed segments retention deleted since open().
    std::uint64_t segments_deleted() const noexcept { return deleted_; }
    /// Seals that failed since open() (each logged; the active file grew on meanwhile).
    std::uint64_t seal_failures() const noexcept { return seal_failures_; }
    /// Octets of torn tail open() cut away (0 normally).
    std::uint64_t truncated_bytes() const noexcept { return truncated_; }
    /// Octets read_after() has read from the files so far (what its bounded reads cost).
    std::uint64_t read_bytes() const noexcept { return read_bytes_; }

private:
    /// Where an indexed entry starts.
    struct IndexPoint {
        std::uint64_t txn_id = 0;
        std::uint64_t offset = 0;
    };
    /// One file of the journal.
    struct File {
        std::filesystem::path path;
        std::uint64_t first_txn = 1;
        std::uint64_t last_txn = 0; // first_txn - 1 while it holds no entry
        std::uint64_t size = 0;     // octets checked or written: the header and whole entries
        std::int64_t newest_ms = 0; // the latest entry date in it
        std::vector<IndexPoint> index; // ascending; empty only while there are no entries
        bool empty() const noexcept { return last_txn < first_txn; }
    };

    Journal(std::filesystem::path path, JournalOptions options) : path_(std::move(path)), options_(std::move(options)) {}

    Result<void, std::string> open_sealed(const std::filesystem::path& path, std::uint64_t named_txn);
    Result<void, std::string> open_active(std::uint64_t next_txn);
    void seal_if_due();
    Result<void, std::string> seal();
    std::int64_t now_ms() const;

    Result<void, std::string> read_until(std::uint64_t txn, const std::function<bool(const Entry&)>& f) const;
    /// Reads `file` (open at `fd`) from its index point before txn + 1; false when `f` stopped.
    Result<bool, std::string> read_file(const File& file, int fd, std::uint64_t txn,
                                        const std::function<bool(const Entry&)>& f) const;
    /// Offers the entry `e` at `offset` (entries in order) to `file`'s index and figures.
    static void add_entry(File& file, const Entry& e, std::uint64_t offset);
    /// Reads octets [offset, offset + out.size()) of `fd`; false with errno (0: the file ended).
    bool read_at(int fd, std::uint64_t offset, MutableByteSpan out) const;

    std::filesystem::path path_;
    JournalOptions options_;
    int fd_ = -1;             // the active file, files_.back()
    std::vector<File> files_; // ascending by txn, consecutive; never empty once open
    std::uint64_t snapshot_base_ = 0;
    std::uint64_t truncated_ = 0;
    std::uint64_t deleted_ = 0;
    std::uint64_t seal_failures_ = 0;
    // Counted by the const readers: like them, under the caller's lock.
    mutable std::uint64_t read_bytes_ = 0;
};

} // namespace idpath::journal
