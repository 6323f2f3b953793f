#pragma once
/// The change journal on disk (docs/operations.md, "Journal"): every change applied to the
/// table, in order, as HANDLE.NET's transaction records are: the registration log the
/// regulation asks for, and what a restart replays over the last snapshot.
///
/// open() checks the whole file: a torn tail (a crash mid-append) is truncated away and
/// reported; damage anywhere else is an error, and idpathd does not start on it, as on a
/// damaged snapshot. append() writes a batch in one write and fsyncs before it returns, so an
/// update is acknowledged only once it is on disk.
///
/// read_after() serves mirrors' pulls (OC_RETRIEVE_TXN_LOG) without reading the whole file: a
/// sparse index of (txn id, offset), built by open()'s check and extended by append(), says where
/// to start, and the file is read from there in bounded chunks until the caller has enough.
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

class Journal {
public:
    /// Opens (creating if missing) the journal at `path` and checks every entry.
    static Result<std::unique_ptr<Journal>, std::string> open(const std::filesystem::path& path);
    ~Journal();
    Journal(const Journal&) = delete;
    Journal& operator=(const Journal&) = delete;

    /// Numbers `entries` from last_txn() + 1 (their txn_id is set here), writes them in one
    /// write and fsyncs. On error nothing is acknowledged: the file is cut back to where it was,
    /// and last_txn() is unchanged.
    Result<void, std::string> append(std::vector<Entry>& entries);

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

    const std::filesystem::path& path() const noexcept { return path_; }
    std::uint64_t last_txn() const noexcept { return last_txn_; }
    std::uint64_t entries() const noexcept { return entries_; }
    /// Octets of torn tail open() cut away (0 normally).
    std::uint64_t truncated_bytes() const noexcept { return truncated_; }
    /// Octets read_after() has read from the file so far (what its bounded reads cost).
    std::uint64_t read_bytes() const noexcept { return read_bytes_; }

private:
    /// Where an indexed entry starts.
    struct IndexPoint {
        std::uint64_t txn_id = 0;
        std::uint64_t offset = 0;
    };

    Journal(std::filesystem::path path, int fd) : path_(std::move(path)), fd_(fd) {}

    Result<void, std::string> read_until(std::uint64_t txn, const std::function<bool(const Entry&)>& f) const;
    /// Offers the entry `txn_id` at `offset` (entries in order) to the index.
    void index_entry(std::uint64_t txn_id, std::uint64_t offset);
    /// Reads file octets [offset, offset + out.size()); false with errno (0: the file ended).
    bool read_at(std::uint64_t offset, MutableByteSpan out) const;

    std::filesystem::path path_;
    int fd_ = -1;
    std::uint64_t size_ = 0;
    std::uint64_t last_txn_ = 0;
    std::uint64_t entries_ = 0;
    std::uint64_t truncated_ = 0;
    std::vector<IndexPoint> index_; // ascending; empty only while there are no entries
    // Counted by the const readers: like them, under the caller's lock.
    mutable std::uint64_t read_bytes_ = 0;
};

} // namespace idpath::journal
