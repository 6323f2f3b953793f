#include "perf/datagen/json_line.hpp"

#include <charconv>
#include <cstdint>
#include <string_view>


namespace idpath::datagen {
namespace {

void append_number(std::string& out, std::uint64_t n)
{
    char buf[24];
    out.append(buf, static_cast<std::size_t>(std::to_chars(buf, buf + sizeof buf, n).ptr - buf));
}

/// A JSON string: quotes, backslashes and control characters escaped; UTF-8 passes as is.
void append_string(std::string& out, std::string_view s)
{
    static constexpr char kHex[] = "0123456789abcdef";
    out.push_back('"');
    std::size_t plain = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        out.append(s.substr(plain, i - plain));
        if (c == '"' || c == '\\') {
            out.push_back('\\');
            out.push_back(static_cast<char>(c));
        } else {
            out.append("\\u00");
            out.push_back(kHex[c >> 4]);
            out.push_back(kHex[c & 15]);
        }
        plain = i + 1;
    }
    out.append(s.substr(plain));
    out.push_back('"');
}

void append_admin(std::string& out, const GenValue& v)
{
    out.append(",\"admin\":{\"handle\":");
    append_string(out, v.data);
    out.append(",\"index\":");
    append_number(out, v.admin_index);
    // The raw 16-bit form the format allows: the list of ten names would be 200 octets, a
    // quarter of a typical line, for HANDLE.NET's default set (values.hpp).
    out.append(",\"permissions\":");
    append_number(out, v.admin_permissions);
    out.push_back('}');
}

} // namespace

void append_json_line(const Identifier& id, std::string& out)
{
    out.append("{\"handle\":");
    append_string(out, id.handle);
    out.append(",\"values\":[");
    bool first = true;
    for (const GenValue& v : id.values()) {
        out.append(first ? "{\"index\":" : ",{\"index\":");
        first = false;
        append_number(out, v.index);
        out.append(",\"type\":");
        append_string(out, v.type);
        if (v.admin) {
            append_admin(out, v);
        } else {
            out.append(",\"data\":");
            append_string(out, v.data);
        }
        out.append(",\"timestamp\":");
        append_number(out, v.timestamp);
        if (v.ttl_given) {
            out.append(",\"ttl\":");
            append_number(out, v.ttl);
            if (v.ttl_absolute)
                out.append(",\"ttl_type\":\"absolute\"");
        }
        if (!v.permissions.empty()) {
            out.append(",\"permissions\":\"");
            out.append(v.permissions);
            out.push_back('"');
        }
        out.push_back('}');
    }
    out.append("]}\n");
}

} // namespace idpath::datagen
