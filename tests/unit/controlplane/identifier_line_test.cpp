#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "controlplane/load/jsonl_loader.hpp"
#include "controlplane/load/value_json.hpp"
#include "dataplane/wire/admin_values.hpp"
#include "dataplane/wire/site_info.hpp"

namespace idpath::load {
namespace {

using ::testing::HasSubstr;

constexpr std::uint32_t kNow = 1700000000;

IdentifierRecord parse_ok(std::string_view line)
{
    auto r = parse_identifier_line(line, kNow);
    if (!r) {
        ADD_FAILURE() << r.error() << "\n  line: " << line;
        return {};
    }
    return std::move(r).value();
}

std::string parse_error(std::string_view line)
{
    auto r = parse_identifier_line(line, kNow);
    if (r) {
        ADD_FAILURE() << "parsed, but an error was expected: " << line;
        return {};
    }
    return r.error();
}

/// A line holding one value whose members are `value_fields` (a JSON fragment).
std::string one_value(std::string_view value_fields)
{
    return R"({"handle":"88.100.1/x","values":[{)" + std::string(value_fields) + "}]}";
}

wire::HandleValue only_value(std::string_view value_fields)
{
    auto rec = parse_ok(one_value(value_fields));
    if (rec.values.size() != 1) {
        ADD_FAILURE() << "expected one value";
        return {};
    }
    return rec.values[0];
}

std::vector<std::uint8_t> bytes(std::string_view s)
{
    return {s.begin(), s.end()};
}

// ---- the happy paths --------------------------------------------------------------------------

TEST(IdentifierLineTest, MinimalValueTakesTheDefaults)
{
    const auto rec = parse_ok(
        R"({"handle":"88.100.1/abc","values":[{"index":1,"type":"URL","data":"https://example.org/a"}]})");
    EXPECT_EQ(rec.handle, "88.100.1/abc");
    ASSERT_EQ(rec.values.size(), 1u);
    const auto& v = rec.values[0];
    EXPECT_EQ(v.index, 1u);
    EXPECT_EQ(v.type, "URL");
    EXPECT_EQ(v.data, bytes("https://example.org/a"));
    EXPECT_EQ(v.ttl, 86400u);
    EXPECT_EQ(v.ttl_type, wire::TtlType::Relative);
    EXPECT_EQ(v.timestamp, kNow);
    EXPECT_EQ(v.permissions, wire::perm::kDefault);
    EXPECT_TRUE(v.references.empty());
}

TEST(IdentifierLineTest, EveryOptionalField)
{
    const auto v = only_value(
        R"("index":4294967295,"type":"EMAIL","data":"a@b.c","ttl":4294967295,"ttl_type":"absolute",)"
        R"("timestamp":0,"permissions":"r-rw","refs":[{"handle":"88.100.1/y","index":2},)"
        R"({"handle":"0.NA/88.100.1","index":0}])");
    EXPECT_EQ(v.index, 4294967295u);
    EXPECT_EQ(v.ttl, 4294967295u);
    EXPECT_EQ(v.ttl_type, wire::TtlType::Absolute);
    EXPECT_EQ(v.timestamp, 0u);
    EXPECT_EQ(v.permissions,
              wire::perm::kAdminRead | wire::perm::kPublicRead | wire::perm::kPublicWrite);
    EXPECT_EQ(v.references,
              (std::vector<wire::Reference>{{"88.100.1/y", 2}, {"0.NA/88.100.1", 0}}));
    EXPECT_EQ(only_value(R"("index":0,"type":"X","data":"","ttl_type":"relative")").ttl_type,
              wire::TtlType::Relative);
}

TEST(IdentifierLineTest, Utf8DataAndHandle)
{
    const auto rec = parse_ok(
        R"({"handle":"88.200.7/设备-1","values":[{"index":1,"type":"名称","data":"四川\u00e9"}]})");
    EXPECT_EQ(rec.handle, "88.200.7/设备-1");
    EXPECT_EQ(rec.values[0].type, "名称");
    EXPECT_EQ(rec.values[0].data, bytes("四川é"));
}

TEST(IdentifierLineTest, DataHex)
{
    EXPECT_EQ(only_value(R"("index":1,"type":"bin","data_hex":"00fFa5")").data,
              (std::vector<std::uint8_t>{0x00, 0xff, 0xa5}));
    EXPECT_TRUE(only_value(R"("index":1,"type":"bin","data_hex":"")").data.empty());
    EXPECT_THAT(parse_error(one_value(R"("index":1,"type":"bin","data_hex":"abc")")),
                HasSubstr("values[0].data_hex: hex string has an odd number of digits"));
    EXPECT_THAT(parse_error(one_value(R"("index":1,"type":"bin","data_hex":"0g")")),
                HasSubstr("values[0].data_hex: not a hex digit at offset 1"));
    EXPECT_THAT(parse_error(one_value(R"("index":1,"type":"bin","data_hex":"00 11")")),
                HasSubstr("values[0].data_hex"));
    EXPECT_THAT(parse_error(one_value(R"("index":1,"type":"bin","data_hex":12)")),
                HasSubstr("values[0].data_hex: must be a hex string"));
}

TEST(IdentifierLineTest, Admin)
{
    const auto v =
        only_value(R"("index":100,"type":"HS_ADMIN","admin":{"handle":"0.NA/88.100.1","index":200,)"
                   R"("permissions":["add_handle","delete_handle","list_derived_prefixes"]})");
    EXPECT_EQ(v.data, wire::encode_admin_record({wire::admin_perm::kAddHandle |
                                                     wire::admin_perm::kDeleteHandle |
                                                     wire::admin_perm::kListDerivedPrefixes,
                                                 "0.NA/88.100.1", 200}));
    EXPECT_EQ(
        only_value(
            R"("index":100,"type":"HS_ADMIN","admin":{"handle":"0.NA/1","index":1,"permissions":["all"]})")
            .data,
        wire::encode_admin_record({wire::admin_perm::kAll, "0.NA/1", 1}));
    EXPECT_EQ(
        only_value(R"("index":100,"type":"HS_ADMIN","admin":{"handle":"0.NA/1","index":1})").data,
        wire::encode_admin_record({wire::admin_perm::kAll, "0.NA/1", 1}));
    EXPECT_EQ(
        only_value(
            R"("index":100,"type":"HS_ADMIN","admin":{"handle":"0.NA/1","index":1,"permissions":1234})")
            .data,
        wire::encode_admin_record({1234, "0.NA/1", 1}));

    EXPECT_THAT(
        parse_error(one_value(
            R"("index":100,"type":"HS_ADMIN","admin":{"handle":"0.NA/1","index":1,"permissions":["fly"]})")),
        HasSubstr("values[0].admin.permissions[0]: unknown permission (known: add_handle"));
    EXPECT_THAT(
        parse_error(one_value(
            R"("index":100,"type":"HS_ADMIN","admin":{"handle":"0.NA/1","index":1,"permissions":65536})")),
        HasSubstr("values[0].admin.permissions: must be an integer 0..65535"));
    EXPECT_THAT(parse_error(one_value(R"("index":100,"type":"HS_ADMIN","admin":{"index":1})")),
                HasSubstr("values[0].admin.handle: missing field"));
    EXPECT_THAT(
        parse_error(one_value(R"("index":100,"type":"HS_ADMIN","admin":{"handle":"","index":1})")),
        HasSubstr("values[0].admin.handle: must not be empty"));
    EXPECT_THAT(parse_error(one_value(
                    R"("index":100,"type":"HS_ADMIN","admin":{"handle":"a/b","index":-1})")),
                HasSubstr("values[0].admin.index: must be an integer 0..4294967295, got -1"));
    EXPECT_THAT(parse_error(one_value(
                    R"("index":100,"type":"HS_ADMIN","admin":{"handle":"a/b","index":1,"x":1})")),
                HasSubstr("values[0].admin.x: unknown field"));
    EXPECT_THAT(parse_error(one_value(R"("index":100,"type":"HS_ADMIN","admin":"0.NA/1:200")")),
                HasSubstr("values[0].admin: must be an object"));
    EXPECT_THAT(
        parse_error(one_value(R"("index":100,"type":"URL","admin":{"handle":"0.NA/1","index":1})")),
        HasSubstr("values[0].admin: \"admin\" data needs type HS_ADMIN, not \"URL\""));
}

TEST(IdentifierLineTest, Vlist)
{
    const auto v = only_value(
        R"("index":200,"type":"HS_VLIST","vlist":[{"handle":"0.NA/88","index":300},{"handle":"88.1/a","index":1}])");
    EXPECT_EQ(v.data, wire::encode_value_reference_list({{"0.NA/88", 300}, {"88.1/a", 1}}));
    EXPECT_EQ(only_value(R"("index":200,"type":"HS_VLIST","vlist":[])").data,
              wire::encode_value_reference_list({}));
    EXPECT_THAT(
        parse_error(one_value(R"("index":200,"type":"HS_VLIST","vlist":[{"handle":"a/b"}])")),
        HasSubstr("values[0].vlist[0].index: missing field"));
    EXPECT_THAT(parse_error(one_value(
                    R"("index":200,"type":"HS_VLIST","vlist":{"handle":"a/b","index":1})")),
                HasSubstr("values[0].vlist: must be an array"));
    EXPECT_THAT(parse_error(one_value(R"("index":200,"type":"URL","vlist":[])")),
                HasSubstr("needs type HS_VLIST"));
}

constexpr std::string_view kSiteJson =
    R"({"serial":2,"primary":true,"multi_primary":true,"hash":"suffix","attributes":{"desc":"d","alt_addr":"2001:db8::1"},)"
    R"("servers":[{"id":1,"address":"192.0.2.10","public_key_hex":"0102","interfaces":[)"
    R"({"type":"query","protocol":"udp","port":2641},{"type":"admin+query","protocol":"tcp","port":2641},)"
    R"({"type":"admin","protocol":"http","port":8000},{"type":"out-of-service","protocol":"https","port":443}]},)"
    R"({"id":2,"address":"2001:db8::10","interfaces":[{"type":"query","protocol":"udp","port":2641}]}]})";

TEST(IdentifierLineTest, Site)
{
    const auto v = only_value(R"("index":1,"type":"HS_SITE","site":)" + std::string(kSiteJson));
    wire::SiteInfo want;
    want.serial = 2;
    want.primary_mask = wire::site::kPrimaryMask | wire::site::kMultiPrimaryMask;
    want.hash_option = wire::site::kHashBySuffix;
    want.attributes = {{"alt_addr", "2001:db8::1"}, {"desc", "d"}}; // JSON objects come out sorted
    wire::SiteServer s1;
    s1.server_id = 1;
    s1.address = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 192, 0, 2, 10};
    s1.public_key = {1, 2};
    s1.interfaces = {{wire::site::kInterfaceQuery, wire::site::kProtocolUdp, 2641},
                     {wire::site::kInterfaceAdminAndQuery, wire::site::kProtocolTcp, 2641},
                     {wire::site::kInterfaceAdmin, wire::site::kProtocolHttp, 8000},
                     {wire::site::kInterfaceOutOfService, wire::site::kProtocolHttps, 443}};
    wire::SiteServer s2;
    s2.server_id = 2;
    s2.address = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10};
    s2.interfaces = {{wire::site::kInterfaceQuery, wire::site::kProtocolUdp, 2641}};
    want.servers = {s1, s2};
    EXPECT_EQ(v.data, wire::encode_site_info(want));
    auto round = wire::decode_site_info(v.data);
    ASSERT_TRUE(round);
    EXPECT_EQ(*round, want);

    for (const char* type : {"HS_SITE.6", "HS_SITE.PREFIX"})
        EXPECT_EQ(only_value(R"("index":1,"type":")" + std::string(type) + R"(","site":)" +
                             std::string(kSiteJson))
                      .data,
                  v.data);
    EXPECT_THAT(
        parse_error(one_value(R"("index":1,"type":"URL","site":)" + std::string(kSiteJson))),
        HasSubstr("needs type HS_SITE, HS_SITE.6 or HS_SITE.PREFIX"));
}

TEST(IdentifierLineTest, SiteErrorsNameTheirPath)
{
    const auto site_error = [](std::string_view site) {
        return parse_error(one_value(R"("index":1,"type":"HS_SITE","site":)" + std::string(site)));
    };
    EXPECT_THAT(
        site_error(
            R"({"servers":[{"id":1,"address":"nowhere","interfaces":[{"type":"query","protocol":"udp","port":1}]}]})"),
        HasSubstr("values[0].site.servers[0].address: \"nowhere\" is not an IPv4 or IPv6 address"));
    EXPECT_THAT(
        site_error(R"({"servers":[{"id":1,"address":"1.2.3.4","interfaces":[]}]})"),
        HasSubstr("values[0].site.servers[0].interfaces: must be an array of 1..32 interfaces"));
    EXPECT_THAT(
        site_error(
            R"({"servers":[{"id":1,"address":"1.2.3.4","interfaces":[{"type":"query","protocol":"udp"}]}]})"),
        HasSubstr("values[0].site.servers[0].interfaces[0].port: missing field"));
    EXPECT_THAT(site_error(R"({"servers":[]})"),
                HasSubstr("values[0].site.servers: must be an array of 1..256 servers"));
    EXPECT_THAT(
        site_error(
            R"({"servers":[{"id":1,"address":"1.2.3.4","interfaces":[{"type":"query","protocol":"udp","port":1}]}],"version":2})"),
        HasSubstr("values[0].site.version: unknown field"));
    EXPECT_THAT(
        site_error(
            R"({"serial":-1,"servers":[{"id":1,"address":"1.2.3.4","interfaces":[{"type":"query","protocol":"udp","port":1}]}]})"),
        HasSubstr("values[0].site.serial: must be an integer 0..65535, got -1"));
}

// ---- value field errors -----------------------------------------------------------------------

TEST(IdentifierLineTest, ExactlyOneDataField)
{
    EXPECT_THAT(parse_error(one_value(R"("index":1,"type":"URL")")),
                HasSubstr("values[0]: needs one data field: data, data_hex, site, admin or vlist"));
    EXPECT_THAT(parse_error(one_value(R"("index":1,"type":"URL","data":"a","data_hex":"00")")),
                HasSubstr("values[0]: has data, data_hex; a value takes exactly one data field"));
    const std::string three = parse_error(
        one_value(R"("index":1,"type":"HS_VLIST","data":"a","data_hex":"00","vlist":[])"));
    EXPECT_THAT(three, HasSubstr("has data, data_hex, vlist"));
    EXPECT_THAT(three, ::testing::Not(HasSubstr("unknown field")));
    EXPECT_THAT(parse_error(one_value(R"("index":1,"type":"URL","data":5)")),
                HasSubstr("values[0].data: must be a string"));
    EXPECT_THAT(parse_error(one_value(R"("index":1,"type":"URL","data":null)")),
                HasSubstr("values[0].data: must be a string, got null"));
}

TEST(IdentifierLineTest, IndexAndType)
{
    EXPECT_THAT(parse_error(one_value(R"("index":-1,"type":"URL","data":"a")")),
                HasSubstr("values[0].index: must be an integer 0..4294967295, got -1"));
    EXPECT_THAT(parse_error(one_value(R"("index":4294967296,"type":"URL","data":"a")")),
                HasSubstr("values[0].index: must be an integer 0..4294967295, got 4294967296"));
    EXPECT_EQ(only_value(R"("index":-0,"type":"URL","data":"a")").index, 0u);
    EXPECT_THAT(parse_error(one_value(R"("index":1.5,"type":"URL","data":"a")")),
                HasSubstr("got a number with a fraction"));
    EXPECT_THAT(parse_error(one_value(R"("index":"1","type":"URL","data":"a")")),
                HasSubstr("got a string"));
    EXPECT_THAT(parse_error(one_value(R"("index":true,"type":"URL","data":"a")")),
                HasSubstr("got a boolean"));
    EXPECT_THAT(parse_error(one_value(R"("type":"URL","data":"a")")),
                HasSubstr("values[0].index: missing field"));
    EXPECT_THAT(parse_error(one_value(R"("index":1,"data":"a")")),
                HasSubstr("values[0].type: missing field"));
    EXPECT_THAT(parse_error(one_value(R"("index":1,"type":"","data":"a")")),
                HasSubstr("values[0].type: must not be empty"));
    EXPECT_THAT(parse_error(one_value(R"("index":1,"type":")" + std::string(2049, 'T') +
                                      R"(","data":"a")")),
                HasSubstr("values[0].type: is 2049 octets, more than the limit of 2048"));
    EXPECT_EQ(only_value(R"("index":1,"type":")" + std::string(2048, 'T') + R"(","data":"a")")
                  .type.size(),
              2048u);
}

TEST(IdentifierLineTest, TtlTimestampPermissionsRefs)
{
    EXPECT_THAT(parse_error(one_value(R"("index":1,"type":"URL","data":"a","ttl":-5)")),
                HasSubstr("values[0].ttl: must be an integer 0..4294967295, got -5"));
    EXPECT_THAT(parse_error(one_value(R"("index":1,"type":"URL","data":"a","ttl":"1h")")),
                HasSubstr("values[0].ttl"));
    EXPECT_THAT(parse_error(one_value(R"("index":1,"type":"URL","data":"a","ttl_type":"sliding")")),
                HasSubstr("values[0].ttl_type: must be \"relative\" or \"absolute\""));
    EXPECT_THAT(parse_error(one_value(R"("index":1,"type":"URL","data":"a","ttl_type":0)")),
                HasSubstr("values[0].ttl_type"));
    EXPECT_THAT(
        parse_error(one_value(R"("index":1,"type":"URL","data":"a","timestamp":4294967296)")),
        HasSubstr("values[0].timestamp"));
    for (const char* bad : {"rw", "rwr-x", "xwr-", "wrr-", "RWR-", "rwr?", ""})
        EXPECT_THAT(parse_error(one_value(R"("index":1,"type":"URL","data":"a","permissions":")" +
                                          std::string(bad) + "\"")),
                    HasSubstr("values[0].permissions: must be four characters like \"rwr-\""))
            << bad;
    EXPECT_THAT(parse_error(one_value(R"("index":1,"type":"URL","data":"a","permissions":14)")),
                HasSubstr("values[0].permissions"));
    EXPECT_THAT(
        parse_error(one_value(
            R"("index":1,"type":"URL","data":"a","refs":[{"handle":"a/b","index":1,"why":0}])")),
        HasSubstr("values[0].refs[0].why: unknown field"));
    EXPECT_THAT(parse_error(one_value(R"("index":1,"type":"URL","data":"a","refs":"a/b:1")")),
                HasSubstr("values[0].refs: must be an array"));
}

TEST(IdentifierLineTest, PermissionStrings)
{
    EXPECT_EQ(parse_permissions("rwr-"), wire::perm::kDefault);
    EXPECT_EQ(parse_permissions("----"), 0);
    EXPECT_EQ(parse_permissions("rwrw"), 0x0f);
    EXPECT_EQ(parse_permissions("rw--"), wire::perm::kAdminRead | wire::perm::kAdminWrite);
    EXPECT_EQ(parse_permissions("--r-"), wire::perm::kPublicRead);
    EXPECT_EQ(parse_permissions("-w-w"), wire::perm::kAdminWrite | wire::perm::kPublicWrite);
    EXPECT_EQ(parse_permissions("rwr"), std::nullopt);
    EXPECT_EQ(parse_permissions("wrwr"), std::nullopt);
}

TEST(IdentifierLineTest, UnknownFields)
{
    EXPECT_THAT(
        parse_error(
            R"({"handle":"a/b","values":[{"index":1,"type":"URL","data":"a"}],"owner":"x"})"),
        HasSubstr("owner: unknown field (known: handle, values)"));
    EXPECT_THAT(parse_error(one_value(R"("index":1,"type":"URL","data":"a","Ttl":5)")),
                HasSubstr("values[0].Ttl: unknown field"));
}

// ---- the handle and the value list ------------------------------------------------------------

TEST(IdentifierLineTest, Handle)
{
    const auto handle_error = [](std::string_view handle_json) {
        return parse_error(R"({"handle":)" + std::string(handle_json) +
                           R"(,"values":[{"index":1,"type":"URL","data":"a"}]})");
    };
    EXPECT_THAT(handle_error(R"("")"), HasSubstr("handle: must not be empty"));
    EXPECT_THAT(handle_error(R"("88.100.1")"), HasSubstr("handle: \"88.100.1\" has no '/'"));
    EXPECT_THAT(handle_error(R"("/abc")"), HasSubstr("empty prefix or suffix"));
    EXPECT_THAT(handle_error(R"("88.100.1/")"), HasSubstr("empty prefix or suffix"));
    EXPECT_THAT(handle_error(R"("a/b\u0007")"), HasSubstr("control character at offset 3"));
    EXPECT_THAT(handle_error(R"(5)"), HasSubstr("handle: must be a string"));
    EXPECT_THAT(handle_error("\"a/" + std::string(2047, 'x') + "\""),
                HasSubstr("more than the limit of 2048"));
    EXPECT_EQ(parse_ok(R"({"handle":"a/)" + std::string(2046, 'x') +
                       R"(","values":[{"index":1,"type":"URL","data":"a"}]})")
                  .handle.size(),
              2048u);
    EXPECT_EQ(
        parse_ok(R"({"handle":"88.100.1/a/b/c","values":[{"index":1,"type":"URL","data":"a"}]})")
            .handle,
        "88.100.1/a/b/c");
    EXPECT_EQ(
        parse_ok(R"({"handle":"0.NA/88.100.1","values":[{"index":1,"type":"URL","data":"a"}]})")
            .handle,
        "0.NA/88.100.1");
    EXPECT_THAT(parse_error(R"({"values":[{"index":1,"type":"URL","data":"a"}]})"),
                HasSubstr("handle: missing field"));
}

std::string values_line(std::size_t n, std::uint32_t first_index = 1)
{
    std::string s = R"({"handle":"a/b","values":[)";
    for (std::size_t i = 0; i < n; ++i)
        s += (i ? "," : "") + std::string(R"({"index":)") + std::to_string(first_index + i) +
             R"(,"type":"T","data":"v"})";
    return s + "]}";
}

TEST(IdentifierLineTest, ValueList)
{
    EXPECT_EQ(parse_ok(values_line(2048)).values.size(), 2048u);
    EXPECT_THAT(parse_error(values_line(2049)),
                HasSubstr("values: must be an array of 1..2048 values"));
    EXPECT_THAT(parse_error(values_line(0)),
                HasSubstr("values: must be an array of 1..2048 values"));
    EXPECT_THAT(parse_error(R"({"handle":"a/b","values":{"index":1}})"),
                HasSubstr("values: must be an array"));
    EXPECT_THAT(parse_error(R"({"handle":"a/b"})"), HasSubstr("values: missing field"));
    EXPECT_THAT(parse_error(R"({"handle":"a/b","values":[5]})"),
                HasSubstr("values[0]: must be an object, got an integer"));
}

TEST(IdentifierLineTest, DuplicateIndexes)
{
    EXPECT_THAT(
        parse_error(
            R"({"handle":"a/b","values":[{"index":7,"type":"A","data":""},{"index":1,"type":"B","data":""},)"
            R"({"index":7,"type":"C","data":""}]})"),
        HasSubstr("values[2].index: index 7 is also used by values[0]"));
}

TEST(IdentifierLineTest, RecordMustFitOneResponse)
{
    const std::string big(200000, 'a');
    EXPECT_EQ(
        parse_ok(one_value(R"("index":1,"type":"T","data":")" + big + "\"")).values[0].data.size(),
        big.size());
    const std::string two = R"({"handle":"a/b","values":[{"index":1,"type":"T","data":")" + big +
                            R"("},{"index":2,"type":"T","data":")" + big + R"("}]})";
    EXPECT_THAT(parse_error(two), HasSubstr("values: encode to"));
    EXPECT_THAT(parse_error(two), HasSubstr("262144-octet message limit"));
}

TEST(IdentifierLineTest, ManyProblemsAreSummarised)
{
    std::string s = R"({"handle":"a/b","values":[)";
    for (int i = 0; i < 8; ++i)
        s += (i ? "," : "") + std::string(R"({"index":-1,"type":"T","data":"v"})");
    const std::string e = parse_error(s + "]}");
    EXPECT_THAT(e, HasSubstr("values[0].index"));
    EXPECT_THAT(e, HasSubstr("values[4].index"));
    EXPECT_THAT(e, ::testing::Not(HasSubstr("values[5].index")));
    EXPECT_THAT(e, HasSubstr("; and 3 more problems"));
}

// ---- JSON-level problems ----------------------------------------------------------------------

TEST(IdentifierLineTest, InvalidJson)
{
    EXPECT_THAT(parse_error(R"({"handle":"a/b","values":[)"), HasSubstr("invalid JSON at byte"));
    EXPECT_THAT(parse_error(R"({"handle":"a/b",})"), HasSubstr("invalid JSON"));
    EXPECT_THAT(parse_error("{\"handle\":\"a/\xff\",\"values\":[]}"), HasSubstr("invalid JSON"));
    EXPECT_THAT(
        parse_error(R"({"handle":"a/b","values":[{"index":1,"type":"T","data":"x"}]} trailing)"),
        HasSubstr("invalid JSON"));
    EXPECT_THAT(parse_error("[1,2]"), HasSubstr("must be an object, got an array"));
    EXPECT_THAT(parse_error("\"a/b\""), HasSubstr("must be an object, got a string"));
    EXPECT_THAT(parse_error(""), HasSubstr("invalid JSON"));
}

TEST(IdentifierLineTest, DuplicateJsonKeys)
{
    EXPECT_THAT(
        parse_error(
            R"({"handle":"a/b","handle":"a/c","values":[{"index":1,"type":"T","data":""}]})"),
        HasSubstr("key \"handle\" appears twice in one object"));
    EXPECT_THAT(
        parse_error(R"({"handle":"a/b","values":[{"index":1,"type":"T","data":"","index":2}]})"),
        HasSubstr("key \"index\" appears twice"));
    EXPECT_THAT(
        parse_error(
            R"({"handle":"a/b","values":[{"index":1,"type":"HS_ADMIN","admin":{"handle":"x/y","index":1,"index":2}}]})"),
        HasSubstr("key \"index\" appears twice"));
    // The same key in sibling objects is fine.
    EXPECT_EQ(
        parse_ok(
            R"({"handle":"a/b","values":[{"index":1,"type":"T","data":""},{"index":2,"type":"T","data":""}]})")
            .values.size(),
        2u);
}

TEST(IdentifierLineTest, LineTooLong)
{
    const std::string line(kMaxLineBytes + 1, ' ');
    EXPECT_THAT(parse_error(line), HasSubstr("more than the limit of 4194304"));
}

} // namespace
} // namespace idpath::load
