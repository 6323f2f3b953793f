// The shipped demo data (configs/sample/): the config validates, the identifiers load, and the
// named identifiers that the README, the docs and other tests rely on are there as described.


#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "controlplane/config/config.hpp"
#include "controlplane/load/jsonl_loader.hpp"
#include "dataplane/wire/admin_values.hpp"
#include "dataplane/wire/site_info.hpp"
#include "tests/unit/controlplane/test_support.hpp"

namespace idpath::load {
namespace {

constexpr std::uint32_t kNow = 1800000000;

/// The parsed lines of the sample file, by handle as written.
class SampleData : public ::testing::Test {
protected:
    static void SetUpTestSuite()
    {
        records_ = new std::map<std::string, IdentifierRecord>;
        std::ifstream in(test::source_root() / "configs/sample/identifiers.jsonl");
        std::string text;
        while (std::getline(in, text)) {
            if (text.empty() || text[0] == '#')
                continue;
            auto r = parse_identifier_line(text, kNow);
            ASSERT_TRUE(r) << r.error();
            (*records_)[r->handle] = std::move(r).value();
        }
    }
    static void TearDownTestSuite()
    {
        delete records_;
        records_ = nullptr;
    }

    static const IdentifierRecord& record(const std::string& handle)
    {
        static const IdentifierRecord empty;
        const auto it = records_->find(handle);
        if (it == records_->end()) {
            ADD_FAILURE() << handle << " is not in the sample data";
            return empty;
        }
        return it->second;
    }

    static const wire::HandleValue& value(const IdentifierRecord& r, std::uint32_t index)
    {
        static const wire::HandleValue missing;
        for (const auto& v : r.values)
            if (v.index == index)
                return v;
        ADD_FAILURE() << r.handle << " has no value at index " << index;
        return missing;
    }

    /// Datagrams of an unfiltered UDP answer: header, handle, value count, values, credential
    /// length, 492 octets of message per datagram.
    static std::size_t udp_datagrams(const IdentifierRecord& r)
    {
        std::size_t length = 24 + 4 + r.handle.size() + 4 + 4;
        for (const auto& v : r.values)
            length += wire::encoded_size(v);
        return (length + 491) / 492;
    }

    static std::map<std::string, IdentifierRecord>* records_;
};

std::map<std::string, IdentifierRecord>* SampleData::records_ = nullptr;

TEST_F(SampleData, ConfigValidatesAndTheIdentifiersLoad)
{
    auto config = config::load_config_file(test::source_root() / "configs/sample/idpathd.yaml");
    ASSERT_TRUE(config) << config.error()[0].to_string();
    EXPECT_EQ(config->node.id, "demo-1");
    EXPECT_EQ(config->data.homed_prefixes, (std::vector<std::string>{"88.100.1", "88.200.7"}));
    EXPECT_EQ(config->admin.socket, "/run/idpath/idpathd.sock");
    ASSERT_EQ(config->service.udp.size(), 2u);
    EXPECT_EQ(config->service.udp[0].to_string(), "0.0.0.0:2641");
    EXPECT_EQ(config->service.udp[1].to_string(), "[::]:2641");
    ASSERT_TRUE(config->site.configured);
    ASSERT_EQ(config->site.info.servers.size(), 1u);
    EXPECT_EQ(wire::format_site_address(config->site.info.servers[0].address), "192.0.2.10");

    table::TableBuilder builder;
    auto report =
        load_identifiers(config->data.identifier_files, config->data.homed_prefixes, builder, kNow);
    ASSERT_TRUE(report) << report.error()[0].to_string();
    EXPECT_GE(report->identifiers, 10000u);
    EXPECT_EQ(report->identifiers, records_->size());
    for (const char* h :
         {"88.100.1/abc", "88.100.1/SN-0001", "88.100.1/SN-5000", "88.200.7/big-manual",
          "88.200.7/huge-bom", "88.100.1/private-1", "0.NA/88.100.1", "0.NA/88.200.7", "0.NA/88"})
        EXPECT_TRUE(builder.contains(h)) << h;
}

TEST_F(SampleData, Abc)
{
    const auto& r = record("88.100.1/abc");
    ASSERT_EQ(r.values.size(), 4u);
    EXPECT_EQ(value(r, 1).type, "URL");
    EXPECT_EQ(std::string(value(r, 1).data.begin(), value(r, 1).data.end()),
              "https://example.org/a");
    EXPECT_EQ(value(r, 2).type, "EMAIL");
    EXPECT_EQ(value(r, 3).type, "manufacturer");
    EXPECT_EQ(value(r, 100).type, "HS_ADMIN");
    auto admin = wire::decode_admin_record(value(r, 100).data);
    ASSERT_TRUE(admin);
    EXPECT_EQ(admin->admin_handle, "0.NA/88.100.1");
    EXPECT_EQ(admin->admin_index, 200u);
    for (const auto& v : r.values)
        EXPECT_TRUE(v.permissions & wire::perm::kPublicRead) << v.index; // answered to PO requests
}

TEST_F(SampleData, Serials)
{
    for (int n : {1, 2, 777, 5000}) {
        char handle[32];
        std::snprintf(handle, sizeof handle, "88.100.1/SN-%04d", n);
        const auto& r = record(handle);
        std::vector<std::string> types;
        for (const auto& v : r.values)
            types.push_back(v.type);
        EXPECT_EQ(types, (std::vector<std::string>{"URL", "manufacturer", "model", "batch",
                                                   "productionDate", "HS_ADMIN"}))
            << handle;
    }
    EXPECT_EQ(records_->count("88.100.1/SN-5001"), 0u);
}

TEST_F(SampleData, LargeAnswers)
{
    EXPECT_EQ(udp_datagrams(record("88.200.7/big-manual")), 3u);
    EXPECT_GT(udp_datagrams(record("88.200.7/huge-bom")), 8u);
}

TEST_F(SampleData, Private)
{
    const auto& r = record("88.100.1/private-1");
    ASSERT_EQ(r.values.size(), 2u);
    EXPECT_EQ(value(r, 1).type, "URL");
    EXPECT_TRUE(value(r, 1).permissions & wire::perm::kPublicRead);
    EXPECT_EQ(value(r, 2).type, "secret");
    EXPECT_EQ(value(r, 2).permissions, wire::perm::kAdminRead | wire::perm::kAdminWrite);
}

TEST_F(SampleData, PrefixHandles)
{
    for (const char* prefix : {"0.NA/88.100.1", "0.NA/88.200.7"}) {
        SCOPED_TRACE(prefix);
        const auto& r = record(prefix);
        EXPECT_EQ(value(r, 1).type, "HS_SITE");
        EXPECT_EQ(value(r, 2).type, "HS_SITE.6");
        auto v4 = wire::decode_site_info(value(r, 1).data);
        auto v6 = wire::decode_site_info(value(r, 2).data);
        ASSERT_TRUE(v4);
        ASSERT_TRUE(v6);
        EXPECT_TRUE(v4->is_primary());
        ASSERT_EQ(v4->servers.size(), 1u);
        ASSERT_EQ(v6->servers.size(), 1u);
        EXPECT_EQ(wire::format_site_address(v4->servers[0].address), "192.0.2.10");
        EXPECT_EQ(wire::format_site_address(v6->servers[0].address), "2001:db8::10");
        const std::vector<wire::SiteInterface> interfaces{
            {wire::site::kInterfaceQuery, wire::site::kProtocolUdp, 2641},
            {wire::site::kInterfaceAdminAndQuery, wire::site::kProtocolTcp, 2641}};
        EXPECT_EQ(v4->servers[0].interfaces, interfaces);
        EXPECT_EQ(v6->servers[0].interfaces, interfaces);
        EXPECT_EQ(value(r, 100).type, "HS_ADMIN");
    }
    const auto& top = record("0.NA/88");
    EXPECT_EQ(value(top, 1).type, "HS_SITE.PREFIX");
    auto site = wire::decode_site_info(value(top, 1).data);
    ASSERT_TRUE(site);
    ASSERT_EQ(site->servers.size(), 1u);
    EXPECT_EQ(wire::format_site_address(site->servers[0].address), "198.51.100.1");
}

TEST_F(SampleData, Variety)
{
    std::map<std::string, int> types;
    bool absolute = false, uncached = false, hex = false, refs = false, no_public_read = false;
    std::size_t smallest = SIZE_MAX, largest = 0;
    for (const auto& [handle, r] : *records_) {
        for (const auto& v : r.values) {
            ++types[v.type];
            absolute |= v.ttl_type == wire::TtlType::Absolute;
            uncached |= v.ttl == 0;
            hex |= v.type == "calibration";
            refs |= !v.references.empty();
            no_public_read |= !(v.permissions & wire::perm::kPublicRead);
            smallest = std::min(smallest, wire::encoded_size(v));
            largest = std::max(largest, wire::encoded_size(v));
        }
    }
    for (const char* t :
         {"URL", "EMAIL", "HS_ADMIN", "HS_VLIST", "HS_SITE", "HS_SITE.6", "HS_SITE.PREFIX",
          "HS_PUBKEY", "manufacturer", "model", "batch", "productionDate", "specification"})
        EXPECT_GT(types[t], 0) << t;
    EXPECT_TRUE(absolute && uncached && hex && refs && no_public_read);
    EXPECT_LE(smallest, 50u);
    EXPECT_GE(largest, 1400u);
}

} // namespace
} // namespace idpath::load
