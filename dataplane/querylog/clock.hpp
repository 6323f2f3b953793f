#pragma once
/// The query log's clock: CLOCK_REALTIME in nanoseconds (Record::time_ns is wall-clock time a
/// platform correlates with other logs). std::chrono::system_clock reads the vDSO on Linux: no
/// syscall, about 20 ns, so a transport may read it twice per burst. The run loop (Worker) does
/// not read it itself; its driver hands it this function.

#include <chrono>
#include <cstdint>

namespace idpath::querylog {

inline std::uint64_t realtime_ns() noexcept
{
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                          std::chrono::system_clock::now().time_since_epoch())
                                          .count());
}

} // namespace idpath::querylog
