// idpathctl workers: the per-lcore table rendered from the daemon's stats JSON.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "controlplane/tools/ctl_format.hpp"

namespace idpath::tools {
namespace {

using ::testing::HasSubstr;
using nlohmann::json;

TEST(FormatWorkersTest, SocketsModeSaysSo)
{
    EXPECT_THAT(format_workers(json{{"total", json::object()}}), HasSubstr("sockets mode"));
}

TEST(FormatWorkersTest, OneRowPerLcoreQueueDeviceAndProgram)
{
    const json stats = json::parse(R"({"dataplane": {
      "lcores": [{"lcore": 1, "loops": 10, "queues": [
          {"device": "net_af_xdp0", "queue": 0, "rx": 120, "tx": 118, "dropped": 2,
           "malformed": {"bad_udp_checksum": 2}, "exception_out": 0, "exception_in": 0,
           "answers": {"answers": 117}},
          {"device": "net_tap0", "queue": 0, "rx": 5, "tx": 5, "dropped": 0, "malformed": {},
           "exception_out": 3, "exception_in": 4, "answers": {"answers": 1}}]}],
      "ports": [{"device": "net_af_xdp0", "ipackets": 120, "opackets": 118, "imissed": 7,
                 "ierrors": 0, "oerrors": 0, "rx_nombuf": 0}],
      "xdp": [{"interface": "eth1", "redirected": 120, "no_socket": 0, "not_ip": 3,
               "not_udp": 9, "other_port": 1, "fragment": 0, "malformed": 0}]}})");
    const std::string t = format_workers(stats);
    EXPECT_THAT(t, HasSubstr("    1 net_af_xdp0           0         120         118         117           2           2"));
    EXPECT_THAT(t, HasSubstr("    1 net_tap0              0           5           5           1           0           0           3           4"));
    EXPECT_THAT(t, HasSubstr("net_af_xdp0             120         118           7"));
    EXPECT_THAT(t, HasSubstr("eth1                    120           0           3           9           1"));
}

TEST(FormatWorkersTest, MissingFieldsReadAsZero)
{
    const json stats = json::parse(R"({"dataplane": {"lcores": [{"queues": [{}]}]}})");
    EXPECT_THAT(format_workers(stats), HasSubstr("    0 ?                     0           0           0"));
}

} // namespace
} // namespace idpath::tools
