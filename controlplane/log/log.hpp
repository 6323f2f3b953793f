#pragma once
/// Control-plane logging: one line per event on stderr, "<UTC time> idpathd: <level>: <text>".
/// Never called from a serving thread's per-packet path.

#include <sstream>
#include <string>
#include <string_view>

namespace idpath::log {

enum class Level { Error, Warning, Info };

void write(Level level, std::string_view text);

template <class... Args>
void line(Level level, const Args&... args)
{
    std::ostringstream os;
    (os << ... << args);
    write(level, os.str());
}

template <class... Args>
void info(const Args&... args) { line(Level::Info, args...); }
template <class... Args>
void warning(const Args&... args) { line(Level::Warning, args...); }
template <class... Args>
void error(const Args&... args) { line(Level::Error, args...); }

} // namespace idpath::log
