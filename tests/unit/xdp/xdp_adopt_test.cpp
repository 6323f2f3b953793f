// The DPDK flow without DPDK: the program object written to a file, attached the way DPDK
// 22.11's net_af_xdp does (bpf_object__open_file, load, bpf_xdp_attach with
// XDP_FLAGS_UPDATE_IF_NOEXIST), then clear_stale() and adopt_attached() on a veth in a namespace.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <vector>

#include "drivers/xdp/xdp_adopt.hpp"
#include "drivers/xdp/xdp_loader.hpp"
#include "tests/unit/xdp/netns.hpp"

namespace idpath::xdp {
namespace {

using test::InNetns;
using test::NetnsPair;

struct ObjectCloser {
    void operator()(bpf_object* object) const { bpf_object__close(object); }
};
using Object = std::unique_ptr<bpf_object, ObjectCloser>;

std::vector<char> read_file(const std::filesystem::path& path)
{
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// An IPv4 UDP frame to port, for test_run.
std::vector<std::uint8_t> udp_frame(std::uint16_t port)
{
    std::vector<std::uint8_t> f(12, 0x02);
    f.insert(f.end(), {0x08, 0x00, 0x45, 0, 0, 36, 0, 1, 0, 0, 64, IPPROTO_UDP, 0, 0,
                          10, 0, 0, 1, 10, 0, 0, 2});
    f.insert(f.end(), {0x30, 0x39, static_cast<std::uint8_t>(port >> 8),
                          static_cast<std::uint8_t>(port & 0xff), 0, 16, 0, 0});
    f.insert(f.end(), 8, 0);
    return f;
}

class TempDir {
public:
    TempDir()
        : path_(std::filesystem::temp_directory_path()
              / ("idpath-xdp-adopt-" + std::to_string(::getpid())))
    {
        std::filesystem::remove_all(path_);
    }
    ~TempDir() { std::filesystem::remove_all(path_); }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

TEST(XdpProgramObject, WrittenWholeWithMode0644AndParentDirectories)
{
    TempDir dir;
    const auto target = dir.path() / "a" / "b" / "idpath_xdp.bpf.o";
    // A restrictive umask must not make the file unreadable to a DPDK running as another user.
    const mode_t old_mask = ::umask(077);
    auto written = write_program_object(target.string());
    ::umask(old_mask);
    ASSERT_TRUE(written.ok()) << written.error().message;
    EXPECT_EQ(read_file(target), read_file(IDPATH_XDP_OBJ)) << "the embedded object, byte for byte";
    struct stat st{};
    ASSERT_EQ(::stat(target.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0644u);
    // Rewriting replaces the file and leaves no temporary behind.
    ASSERT_TRUE(write_program_object(target.string()).ok());
    EXPECT_EQ(std::distance(std::filesystem::directory_iterator(target.parent_path()),
                  std::filesystem::directory_iterator()),
        1);
}

TEST(XdpProgramObject, UnwritableDirectoryIsAnError)
{
    auto written = write_program_object("/proc/idpath-no-such-dir/idpath_xdp.bpf.o");
    ASSERT_FALSE(written.ok());
    EXPECT_NE(written.error().error, 0);
}

class XdpAdoptTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        if (::geteuid() != 0)
            GTEST_SKIP() << "needs root (network namespaces, XDP attach)";
        net_.emplace();
        ASSERT_TRUE(net_->ok()) << "creating namespaces/veth with ip(8) failed";
        in_server_.emplace(net_->server_ns());
        ASSERT_TRUE(in_server_->ok()) << "setns into " << net_->server_ns();
        object_path_ = (dir_.path() / "idpath_xdp.bpf.o").string();
        auto written = write_program_object(object_path_);
        ASSERT_TRUE(written.ok()) << written.error().message;
    }

    void TearDown() override
    {
        in_server_.reset();
        net_.reset();
    }

    /// What DPDK 22.11's load_custom_xdp_prog() does with xdp_prog=: open the file, load it,
    /// attach its first program, refusing to replace anything. mode_flag 0 lets the kernel pick
    /// (native on veth), as DPDK does. The object stays open so the test can look at its maps.
    Object attach_like_dpdk(std::uint32_t mode_flag)
    {
        Object object(bpf_object__open_file(object_path_.c_str(), nullptr));
        if (!object) {
            ADD_FAILURE() << "bpf_object__open_file: " << std::strerror(errno);
            return object;
        }
        if (int err = bpf_object__load(object.get()); err != 0) {
            ADD_FAILURE() << "bpf_object__load: " << std::strerror(-err);
            return nullptr;
        }
        const int prog_fd = bpf_program__fd(bpf_object__next_program(object.get(), nullptr));
        const int ifindex = static_cast<int>(if_nametoindex(net_->server_if().c_str()));
        const int err =
            bpf_xdp_attach(ifindex, prog_fd, XDP_FLAGS_UPDATE_IF_NOEXIST | mode_flag, nullptr);
        if (err != 0) {
            ADD_FAILURE() << "bpf_xdp_attach: " << std::strerror(-err);
            return nullptr;
        }
        return object;
    }

    AttachedXdp attached()
    {
        auto now = query_xdp(net_->server_if());
        EXPECT_TRUE(now.ok()) << now.error().message;
        return now.ok() ? now.value() : AttachedXdp{};
    }

    void attach_foreign()
    {
        ASSERT_TRUE(test::run("ip -n " + net_->server_ns() + " link set dev " + net_->server_if()
            + " xdpgeneric obj " IDPATH_FOREIGN_XDP_OBJ " sec xdp"));
        ASSERT_EQ(attached().generic_name, "foreign_xdp");
    }

    TempDir dir_;
    std::string object_path_;
    std::optional<NetnsPair> net_;
    std::optional<InNetns> in_server_;
};

TEST_F(XdpAdoptTest, ClearStaleWithNothingAttachedIsOk)
{
    auto cleared = clear_stale(net_->server_if(), false);
    EXPECT_TRUE(cleared.ok()) << cleared.error().message;
    EXPECT_TRUE(attached().empty());
}

TEST_F(XdpAdoptTest, ClearStaleRemovesAnIdpathProgramInEitherMode)
{
    for (std::uint32_t mode : {0u, std::uint32_t{XDP_FLAGS_SKB_MODE}}) {
        // As after a crash: the program stays attached once its loader is gone.
        ASSERT_TRUE(attach_like_dpdk(mode));
        ASSERT_FALSE(attached().empty());
        auto cleared = clear_stale(net_->server_if(), false);
        ASSERT_TRUE(cleared.ok()) << cleared.error().message;
        EXPECT_TRUE(attached().empty()) << "mode flag " << mode;
    }
}

TEST_F(XdpAdoptTest, ClearStaleRefusesAForeignProgramUnlessForced)
{
    attach_foreign();
    auto refused = clear_stale(net_->server_if(), false);
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().error, EEXIST);
    EXPECT_NE(refused.error().message.find("foreign_xdp"), std::string::npos)
        << refused.error().message;
    EXPECT_EQ(attached().generic_name, "foreign_xdp") << "a refusal changes nothing";

    auto forced = clear_stale(net_->server_if(), true);
    ASSERT_TRUE(forced.ok()) << forced.error().message;
    EXPECT_TRUE(attached().empty());
}

TEST_F(XdpAdoptTest, AdoptRefusesNothingAndForeign)
{
    auto nothing = adopt_attached(net_->server_if(), XdpOptions{});
    ASSERT_FALSE(nothing.ok());
    EXPECT_EQ(nothing.error().error, ENOENT) << nothing.error().message;

    attach_foreign();
    auto foreign = adopt_attached(net_->server_if(), XdpOptions{});
    ASSERT_FALSE(foreign.ok());
    EXPECT_EQ(foreign.error().error, EEXIST) << foreign.error().message;
}

TEST_F(XdpAdoptTest, AdoptFillsTheMapsDpdkLeavesEmpty)
{
    Object object = attach_like_dpdk(0);
    ASSERT_TRUE(object);
    const int ports_fd = bpf_map__fd(bpf_object__find_map_by_name(object.get(), "idpath_ports"));
    std::uint16_t key = 0;
    EXPECT_NE(bpf_map_get_next_key(ports_fd, nullptr, &key), 0)
        << "a program loaded from the file starts with no service port";

    auto adopted = adopt_attached(net_->server_if(), XdpOptions{});
    ASSERT_TRUE(adopted.ok()) << adopted.error().message;
    EXPECT_EQ(adopted->ifname(), net_->server_if());
    EXPECT_EQ(adopted->mode(), AttachMode::native) << "veth runs XDP natively";
    EXPECT_EQ(adopted->prog_id(), attached().native_id);
    ASSERT_EQ(bpf_map_get_next_key(ports_fd, nullptr, &key), 0);
    EXPECT_EQ(key, 2641);

    // Real traffic: without an AF_XDP socket in xsks_map, service UDP is counted as such and
    // passed on; other UDP is not service traffic.
    auto before = adopted->counters();
    ASSERT_TRUE(before.ok()) << before.error().message;
    ASSERT_TRUE(test::send_udp(net_->client_ns(), NetnsPair::server_ip, 2641));
    ASSERT_TRUE(test::send_udp(net_->client_ns(), NetnsPair::server_ip, 5353));
    ASSERT_TRUE(test::ping(net_->client_ns(), NetnsPair::server_ip));
    auto after = adopted->counters();
    ASSERT_TRUE(after.ok()) << after.error().message;
    EXPECT_EQ(after->no_socket - before->no_socket, 1u);
    EXPECT_EQ(after->other_port - before->other_port, 1u);
    EXPECT_EQ(after->redirected, 0u);
}

TEST_F(XdpAdoptTest, AdoptingAgainReplacesThePortSetAndFallback)
{
    ASSERT_TRUE(attach_like_dpdk(0));
    ASSERT_TRUE(adopt_attached(net_->server_if(), XdpOptions{}).ok());

    XdpOptions options;
    options.ports = {8000};
    options.drop_without_socket = true;
    auto adopted = adopt_attached(net_->server_if(), options);
    ASSERT_TRUE(adopted.ok()) << adopted.error().message;
    auto before = adopted->counters();
    ASSERT_TRUE(before.ok());
    auto v2641 = adopted->test_run(udp_frame(2641));
    auto v8000 = adopted->test_run(udp_frame(8000));
    ASSERT_TRUE(v2641.ok()) << v2641.error().message;
    ASSERT_TRUE(v8000.ok()) << v8000.error().message;
    EXPECT_EQ(v2641.value(), XDP_PASS) << "2641 is no longer a service port";
    EXPECT_EQ(v8000.value(), XDP_DROP) << "8000 is, and drop_without_socket applies";
    auto after = adopted->counters();
    ASSERT_TRUE(after.ok());
    EXPECT_EQ(after->other_port - before->other_port, 1u);
    EXPECT_EQ(after->no_socket - before->no_socket, 1u);
}

TEST_F(XdpAdoptTest, AdoptedProgramLeavesTheAttachmentToItsOwner)
{
    ASSERT_TRUE(attach_like_dpdk(0));
    const std::uint32_t id = attached().native_id;
    {
        auto adopted = adopt_attached(net_->server_if(), XdpOptions{});
        ASSERT_TRUE(adopted.ok()) << adopted.error().message;
        AdoptedProgram moved = std::move(adopted).value();
        EXPECT_EQ(moved.prog_id(), id);
    }
    EXPECT_EQ(attached().native_id, id) << "destroying an AdoptedProgram must not detach";
    ASSERT_TRUE(clear_stale(net_->server_if(), false).ok());
}

} // namespace
} // namespace idpath::xdp
