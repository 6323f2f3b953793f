// The probe writer (controlplane/mirror/probe): the serving threads' probe rings drained into
// pcapng files that tshark reads with the right addresses, ports, payloads and directions; the
// sockets' synthesized IPv4 and IPv6 headers with correct checksums; rotation by size and by
// age; names that are never reused; retention that deletes only this node's old probe files;
// counters.

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "controlplane/mirror/probe/probe_writer.hpp"
#include "dataplane/querylog/probe.hpp"
#include "tests/unit/mirror/probe/probe_test_util.hpp"

namespace idpath::mirror {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using querylog::ProbeDirection;

struct FakeClock {
    std::chrono::system_clock::time_point now = std::chrono::sys_days{std::chrono::year{2026} / 11 / 23} + 12h;
};

ProbeWriterOptions options(const fs::path& dir, FakeClock& clock)
{
    ProbeWriterOptions o;
    o.directory = dir;
    o.node_id = "node-a";
    o.ring_packets = 64;
    o.clock = [&clock] { return clock.now; };
    return o;
}

std::vector<fs::path> probe_files(const fs::path& dir)
{
    std::vector<fs::path> out;
    for (const auto& e : fs::directory_iterator(dir))
        if (e.path().extension() == ".pcapng")
            out.push_back(e.path());
    std::sort(out.begin(), out.end());
    return out;
}

querylog::ProbeUdpPeers v4_peers()
{
    querylog::ProbeUdpPeers p;
    p.src[10] = p.src[11] = p.dst[10] = p.dst[11] = 0xff;
    p.src[12] = 192, p.src[13] = 0, p.src[14] = 2, p.src[15] = 7;
    p.dst[12] = 127, p.dst[15] = 1;
    p.src_port = 40000;
    p.dst_port = 2641;
    p.ipv4 = true;
    return p;
}

std::vector<std::string> tshark_lines(const fs::path& file, const std::string& fields)
{
    const auto [out, status] = test::run_tshark("-r " + file.string() + " -o udp.check_checksum:TRUE"
                                                " -o ip.check_checksum:TRUE -T fields -E separator=, " + fields);
    EXPECT_EQ(status, 0) << out;
    std::vector<std::string> lines;
    std::istringstream in(out);
    for (std::string l; std::getline(in, l);)
        lines.push_back(l);
    return lines;
}

TEST(ProbeFileName, RoundTripsAndRejectsOthers)
{
    const auto start = std::chrono::sys_seconds{std::chrono::sys_days{std::chrono::year{2026} / 1 / 2}} + 3h + 4min + 5s;
    const std::string n = probe_file_name("node_a", start, 7);
    EXPECT_EQ(n, "idpath-node_a-20260102T030405Z-00000007.pcapng");
    const auto p = parse_probe_file_name(n);
    ASSERT_TRUE(p);
    EXPECT_EQ(p->node, "node_a");
    EXPECT_EQ(p->start, start);
    EXPECT_EQ(p->seq, 7u);
    EXPECT_FALSE(parse_probe_file_name("idpath-node_a-20260102T030405Z-00000007.ipl"));
    EXPECT_FALSE(parse_probe_file_name("idpath-node_a-20260102T030405Z-00000007.pcapng.zst"));
    EXPECT_FALSE(parse_probe_file_name("capture.pcapng"));
}

TEST(ProbeWriter, WritesSocketPacketsThatTsharkDecodes)
{
    test::TempDir dir;
    FakeClock clock;
    auto w = ProbeWriter::make(options(dir.path(), clock));
    ASSERT_TRUE(w) << w.error();
    const querylog::ProbeTarget t = (*w)->add_source("udp-0");
    querylog::Probe probe(t);
    (*w)->set_source_stats(t, &probe.stats());

    auto peers = v4_peers();
    const std::string request = "request-payload"; // odd length: the checksum's odd path
    ASSERT_TRUE(probe.sample());
    querylog::capture_udp(probe, 1'000'000'000'000'000'001ull, ProbeDirection::Request, peers, as_bytes(std::string_view(request)));
    std::swap(peers.src, peers.dst);
    std::swap(peers.src_port, peers.dst_port);
    const std::string head = "abc", tail = "defgh"; // odd head: a split odd/even checksum
    querylog::capture_udp(probe, 0, ProbeDirection::Response, peers, as_bytes(std::string_view(head)),
                          as_bytes(std::string_view(tail)));
    querylog::ProbeUdpPeers six;
    six.src[0] = 0x20, six.src[1] = 0x01, six.src[2] = 0x0d, six.src[3] = 0xb8, six.src[15] = 1;
    six.dst[15] = 1;
    six.src_port = 5353;
    six.dst_port = 2641;
    querylog::capture_udp(probe, 5, ProbeDirection::Request, six, as_bytes(std::string_view("x6")));
    EXPECT_EQ((*w)->drain_once(), 0u) << "nothing is visible before end_burst";
    probe.end_burst(1'000'000'000'000'000'999ull);
    EXPECT_EQ((*w)->drain_once(), 3u);
    (*w)->stop();

    const auto files = probe_files(dir.path());
    ASSERT_EQ(files.size(), 1u);
    EXPECT_EQ(files[0].filename(), "idpath-node_a-20261123T120000Z-00000001.pcapng");
    const auto s = (*w)->stats_json();
    EXPECT_EQ(s["captured"], 3);
    EXPECT_EQ(s["written"], 3);
    EXPECT_EQ(s["files"], 1);
    EXPECT_EQ(s["lost"], 0);
    EXPECT_EQ(s["bytes"].get<std::uint64_t>(), fs::file_size(files[0]));
    if (!test::have_tshark())
        GTEST_SKIP() << "tshark not installed";
    const auto lines = tshark_lines(files[0], "-e frame.time_epoch -e ip.src -e ip.dst -e ipv6.src -e ipv6.dst "
                                              "-e udp.srcport -e udp.dstport -e udp.payload "
                                              "-e frame.packet_flags_direction -e udp.checksum.status "
                                              "-e ip.checksum.status");
    ASSERT_EQ(lines.size(), 3u);
    EXPECT_EQ(lines[0], "1000000000.000000001,192.0.2.7,127.0.0.1,,,40000,2641,"
                        "726571756573742d7061796c6f6164,0x00000001,1,1");
    // A response is stamped with the burst's end, when it left.
    EXPECT_EQ(lines[1], "1000000000.000000999,127.0.0.1,192.0.2.7,,,2641,40000,6162636465666768,"
                        "0x00000002,1,1");
    EXPECT_EQ(lines[2], "0.000000005,,,2001:db8::1,::1,5353,2641,7836,0x00000001,1,");
}

TEST(ProbeWriter, SnapLengthCutsButKeepsTheOriginalLength)
{
    test::TempDir dir;
    FakeClock clock;
    auto o = options(dir.path(), clock);
    o.snap_bytes = 40;
    auto w = ProbeWriter::make(o);
    ASSERT_TRUE(w);
    querylog::Probe probe((*w)->add_source("udp-0"));
    EXPECT_EQ(probe.snap(), 40);
    const std::string payload(100, 'z');
    ASSERT_TRUE(probe.sample());
    querylog::capture_udp(probe, 1, ProbeDirection::Request, v4_peers(), as_bytes(std::string_view(payload)));
    probe.end_burst(2);
    (*w)->stop();
    if (!test::have_tshark())
        GTEST_SKIP() << "tshark not installed";
    const auto files = probe_files(dir.path());
    ASSERT_EQ(files.size(), 1u);
    EXPECT_EQ(tshark_lines(files[0], "-e frame.len -e frame.cap_len"), std::vector<std::string>{"128,40"});
}

TEST(ProbeWriter, RotatesBySizeAndAgeAndNeverReusesANames)
{
    test::TempDir dir;
    FakeClock clock;
    // A file of ours already there (a previous run): numbering goes on after it.
    std::ofstream(dir.path() / "idpath-node_a-20261123T110000Z-00000041.pcapng") << "old";
    auto o = options(dir.path(), clock);
    o.rotate_bytes = 1000;
    o.rotate_seconds = 60;
    o.retention_days = 0;
    auto w = ProbeWriter::make(o);
    ASSERT_TRUE(w);
    querylog::Probe probe((*w)->add_source("udp-0"));
    const std::string payload(200, 'p');
    auto burst = [&](int packets) {
        for (int i = 0; i < packets; ++i)
            if (probe.sample())
                querylog::capture_udp(probe, 1, ProbeDirection::Request, v4_peers(), as_bytes(std::string_view(payload)));
        probe.end_burst(2);
        (*w)->drain_once();
    };
    burst(4); // about 1 KiB with the headers: the 4th packet crosses the size, the file closes
    burst(1); // a new file
    clock.now += 61s;
    burst(0); // the age limit closes the quiet file
    burst(1); // a new file
    (*w)->stop();
    const auto files = probe_files(dir.path());
    ASSERT_EQ(files.size(), 4u);
    EXPECT_EQ(files[1].filename(), "idpath-node_a-20261123T120000Z-00000042.pcapng");
    EXPECT_EQ(files[2].filename(), "idpath-node_a-20261123T120000Z-00000043.pcapng");
    EXPECT_EQ(files[3].filename(), "idpath-node_a-20261123T120101Z-00000044.pcapng");
    EXPECT_EQ((*w)->stats_json()["files"], 3);
    if (test::have_tshark()) {
        EXPECT_EQ(tshark_lines(files[1], "-e frame.len").size(), 4u);
        EXPECT_EQ(tshark_lines(files[2], "-e frame.len").size(), 1u);
        EXPECT_EQ(tshark_lines(files[3], "-e frame.len").size(), 1u);
    }
}

TEST(ProbeWriter, RetentionDeletesOnlyOurOldProbeFiles)
{
    test::TempDir dir;
    FakeClock clock;
    const std::set<std::string> kept = {
        "idpath-node_a-20261120T000000Z-00000009.pcapng", // 3 days old: within retention
        "idpath-node_b-20200101T000000Z-00000001.pcapng", // another node's
        "idpath-node_a-20200101T000000Z-00000002.ipl",    // the file sink's
        "capture-20200101.pcapng",                        // not ours at all
    };
    for (const auto& n : kept)
        std::ofstream(dir.path() / n) << "x";
    std::ofstream(dir.path() / "idpath-node_a-20200101T000000Z-00000003.pcapng") << "old";
    auto o = options(dir.path(), clock);
    o.retention_days = 7;
    auto w = ProbeWriter::make(o);
    ASSERT_TRUE(w);
    std::set<std::string> left;
    for (const auto& e : fs::directory_iterator(dir.path()))
        left.insert(e.path().filename().string());
    EXPECT_EQ(left, kept);
}

TEST(ProbeWriter, AFullRingLosesPacketsCountedAndSamplingIsExact)
{
    test::TempDir dir;
    FakeClock clock;
    auto o = options(dir.path(), clock);
    o.ring_packets = 4;
    o.sample = 3;
    auto w = ProbeWriter::make(o);
    ASSERT_TRUE(w);
    const auto t = (*w)->add_source("udp-0");
    querylog::Probe probe(t);
    (*w)->set_source_stats(t, &probe.stats());
    int sampled = 0;
    for (int i = 0; i < 30; ++i)
        if (probe.sample()) {
            ++sampled;
            querylog::capture_udp(probe, 1, ProbeDirection::Request, v4_peers(), as_bytes(std::string_view("q")));
        }
    EXPECT_EQ(sampled, 10); // requests 0, 3, 6, ...
    probe.end_burst(2);
    (*w)->stop();
    const auto s = (*w)->stats_json();
    EXPECT_EQ(s["sampled_out"], 20);
    EXPECT_EQ(s["captured"], 4);
    EXPECT_EQ(s["lost"], 6);
    EXPECT_EQ(s["written"], 4);
}

TEST(ProbeWriter, RefusesADirectoryItCannotMake)
{
    test::TempDir dir;
    std::ofstream(dir.path() / "file") << "x";
    FakeClock clock;
    auto w = ProbeWriter::make(options(dir.path() / "file" / "sub", clock));
    ASSERT_FALSE(w);
    EXPECT_NE(w.error().find("file/sub"), std::string::npos) << w.error();
}

} // namespace
} // namespace idpath::mirror
