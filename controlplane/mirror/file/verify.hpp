#pragma once
/// `idpathctl logs verify DIR`: walks the hash chain of every node's files in a directory and
/// says whether it is intact, and if not, the first file and batch where it breaks
/// (docs/log-schema.md, "Verifying").

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace idpath::mirror {

struct VerifyReport {
    enum class Status {
        Intact,    // every chain checks out (notes may still say what was seen)
        Tampered,  // a frame's contents, order or index do not match its chain
        Missing,   // the chain does not carry on from one file to the next: a file, or a file's
                   // tail, was removed
        Truncated, // the newest file ends inside a batch: a crash while writing, or a cut
    };
    Status status = Status::Intact;
    std::size_t files = 0;
    std::uint64_t batches = 0;
    /// Where the first problem is: the file, and the frame index in it (batches from 0; a
    /// file's seal frame comes after its last batch).
    std::string file;
    std::uint64_t frame = 0;
    std::string problem;
    /// Things an operator should know that are not failures: a chain that starts after older
    /// files were removed by retention, a file left unsealed by a crash the chain recovered from.
    std::vector<std::string> notes;

    bool ok() const noexcept { return status == Status::Intact; }
};

const char* status_name(VerifyReport::Status s) noexcept;

/// Checks all the file sink's files in `dir`. Err-free: an unreadable directory or file is
/// reported as a problem.
VerifyReport verify_log_directory(const std::filesystem::path& dir);

} // namespace idpath::mirror
