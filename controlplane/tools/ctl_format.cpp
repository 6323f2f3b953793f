#include "controlplane/tools/ctl_format.hpp"

#include <cstdint>
#include <cstdio>
#include <initializer_list>
#include <string_view>

namespace idpath::tools {
namespace {

using nlohmann::json;

std::uint64_t num(const json& j, std::string_view key)
{
    const auto it = j.find(key);
    return it != j.end() && it->is_number_unsigned() ? it->get<std::uint64_t>() : 0;
}

std::uint64_t sum(const json& j)
{
    std::uint64_t s = 0;
    if (j.is_object())
        for (const auto& v : j)
            if (v.is_number_unsigned())
                s += v.get<std::uint64_t>();
    return s;
}

std::string cell(std::uint64_t v, int width)
{
    char b[32];
    std::snprintf(b, sizeof b, "%*llu", width, static_cast<unsigned long long>(v));
    return b;
}

std::string text_cell(const std::string& s, int width)
{
    char b[96];
    std::snprintf(b, sizeof b, "%-*s", width, s.c_str());
    return b;
}

std::string header(std::initializer_list<const char*> right_aligned)
{
    std::string h;
    for (const char* c : right_aligned) {
        char b[32];
        std::snprintf(b, sizeof b, "%12s", c);
        h += b;
    }
    return h + "\n";
}

} // namespace

std::string format_workers(const json& stats)
{
    const auto dp = stats.find("dataplane");
    if (dp == stats.end() || !dp->is_object())
        return "the daemon runs in sockets mode: no DPDK workers (dataplane.mode)\n";
    std::string out = "lcore " + text_cell("device", 15) + "   queue" +
                      header({"rx", "tx", "answered", "dropped", "malformed", "to-kernel",
                              "from-kernel"});
    for (const auto& l : dp->value("lcores", json::array())) {
        for (const auto& q : l.value("queues", json::array())) {
            const json answers = q.value("answers", json::object());
            out += cell(num(l, "lcore"), 5) + " " + text_cell(q.value("device", "?"), 15) +
                   cell(num(q, "queue"), 8) + cell(num(q, "rx"), 12) + cell(num(q, "tx"), 12) +
                   cell(num(answers, "answers"), 12) + cell(num(q, "dropped"), 12) +
                   cell(sum(q.value("malformed", json::object())), 12) +
                   cell(num(q, "exception_out"), 12) + cell(num(q, "exception_in"), 12) + "\n";
        }
    }
    out += "\n" + text_cell("device", 15) +
           header({"ipackets", "opackets", "imissed", "ierrors", "oerrors", "rx_nombuf"});
    for (const auto& p : dp->value("ports", json::array()))
        out += text_cell(p.value("device", "?"), 15) + cell(num(p, "ipackets"), 12) +
               cell(num(p, "opackets"), 12) + cell(num(p, "imissed"), 12) +
               cell(num(p, "ierrors"), 12) + cell(num(p, "oerrors"), 12) +
               cell(num(p, "rx_nombuf"), 12) + "\n";
    const json xdp = dp->value("xdp", json::array());
    if (!xdp.empty()) {
        out += "\n" + text_cell("xdp on", 15) +
               header({"redirected", "no_socket", "not_ip", "not_udp", "other_port", "fragment",
                       "malformed"});
        for (const auto& x : xdp)
            out += text_cell(x.value("interface", "?"), 15) + cell(num(x, "redirected"), 12) +
                   cell(num(x, "no_socket"), 12) + cell(num(x, "not_ip"), 12) +
                   cell(num(x, "not_udp"), 12) + cell(num(x, "other_port"), 12) +
                   cell(num(x, "fragment"), 12) + cell(num(x, "malformed"), 12) + "\n";
    }
    return out;
}

} // namespace idpath::tools
