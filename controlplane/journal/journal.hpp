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
/// Control plane only; one writer (the table's writer thread). Not thread-safe.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "controlplane/journal/journal_format.hpp"
#include "dataplane/base/result.hpp"

namespace idpath::journal {

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

    /// Calls `f` for each entry with txn_id > `txn`, in order.
    Result<void, std::string> read_after(std::uint64_t txn, const std::function<void(const Entry&)>& f) const;

    const std::filesystem::path& path() const noexcept { return path_; }
    std::uint64_t last_txn() const noexcept { return last_txn_; }
    std::uint64_t entries() const noexcept { return entries_; }
    /// Octets of torn tail open() cut away (0 normally).
    std::uint64_t truncated_bytes() const noexcept { return truncated_; }

private:
    Journal(std::filesystem::path path, int fd) : path_(std::move(path)), fd_(fd) {}

    std::filesystem::path path_;
    int fd_ = -1;
    std::uint64_t size_ = 0;
    std::uint64_t last_txn_ = 0;
    std::uint64_t entries_ = 0;
    std::uint64_t truncated_ = 0;
};

} // namespace idpath::journal
