#include "controlplane/log/log.hpp"

#include <cstdio>
#include <ctime>
#include <mutex>

namespace idpath::log {

void write(Level level, std::string_view text)
{
    static std::mutex mu; // lines from several control threads must not interleave
    const char* name = level == Level::Error ? "error" : level == Level::Warning ? "warning" : "info";
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    tm utc{};
    gmtime_r(&ts.tv_sec, &utc);
    char when[32];
    std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &utc);
    std::lock_guard lock(mu);
    std::fprintf(stderr, "%s.%03ldZ idpathd: %s: %.*s\n", when, ts.tv_nsec / 1000000, name,
                 static_cast<int>(text.size()), text.data());
    std::fflush(stderr);
}

} // namespace idpath::log
