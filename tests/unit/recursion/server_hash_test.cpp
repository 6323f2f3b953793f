// dataplane/wire/server_hash: HANDLE.NET's server choice, checked against vectors computed by an
// independent Python model of the Java code (hashlib.md5 of the a-z-uppercased part, last four
// octets as a signed big-endian int, Math.abs, Java %).

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <limits>
#include <string_view>

#include "dataplane/wire/constants.hpp"
#include "dataplane/wire/server_hash.hpp"

namespace {

using namespace idpath::wire;

struct Vector {
    std::string_view handle;
    std::array<std::int32_t, 3> hash;   // hash options 0 (prefix), 1 (suffix), 2 (handle)
    std::array<std::int32_t, 4> server; // option 2, with 1, 2, 3 and 7 servers
};

// The raw int32 of "88.200/item-1" and "20.500.12345/test" is negative before Math.abs.
constexpr Vector kVectors[] = {
    {"88.100.1/abc", {626612451, 891676978, 1235060187}, {0, 1, 0, 4}},
    {"88.100.1/ABC", {626612451, 891676978, 1235060187}, {0, 1, 0, 4}},
    {"88.200/item-1", {920383632, 435301841, 265571203}, {0, 1, 1, 2}},
    {"0.NA/88.100.1", {36223079, 626612451, 252776214}, {0, 0, 0, 5}},
    {"88.100.1", {36223079, 626612451, 626612451}, {0, 1, 0, 3}},
    {"a/b/c", {783072809, 430050597, 881557188}, {0, 0, 0, 1}},
    {"86.1000.23/产品-001", {646961466, 1839250310, 434820797}, {0, 1, 2, 5}},
    {"10.1000/xyz", {2091615925, 1906389438, 1150514628}, {0, 0, 0, 4}},
    {"20.500.12345/test", {1502227973, 916572737, 1682125814}, {0, 0, 2, 5}},
    // Non-ASCII letters are not uppercased: ä and Ä hash differently.
    {"86.1000.23/ärger", {646961466, 909058767, 2007382391}, {0, 1, 2, 0}},
    {"86.1000.23/ÄRGER", {646961466, 294181280, 1320701319}, {0, 1, 0, 0}},
};

TEST(ServerHash, HashPartPerOption)
{
    EXPECT_EQ(hash_part("88.100.1/a/b", site::kHashByPrefix), "88.100.1");
    EXPECT_EQ(hash_part("88.100.1/a/b", site::kHashBySuffix), "a/b");
    EXPECT_EQ(hash_part("88.100.1/a/b", site::kHashByHandle), "88.100.1/a/b");
    EXPECT_EQ(hash_part("88.100.1", site::kHashByPrefix), "0.NA");
    EXPECT_EQ(hash_part("88.100.1", site::kHashBySuffix), "88.100.1");
    EXPECT_EQ(hash_part("88.100.1/a", 9), "88.100.1/a");
}

TEST(ServerHash, MatchesJavaForEveryOption)
{
    for (const Vector& v : kVectors) {
        for (std::uint8_t opt = 0; opt < 3; ++opt)
            EXPECT_EQ(handle_hash(v.handle, opt), v.hash[opt])
                << v.handle << " option " << int(opt);
        // Unknown options hash the whole handle.
        EXPECT_EQ(handle_hash(v.handle, 7), v.hash[2]) << v.handle;
    }
}

TEST(ServerHash, ServerNumberIsJavaModulo)
{
    constexpr std::uint32_t kCounts[] = {1, 2, 3, 7};
    for (const Vector& v : kVectors)
        for (std::size_t i = 0; i < 4; ++i)
            EXPECT_EQ(server_number(v.handle, site::kHashByHandle, kCounts[i]), v.server[i])
                << v.handle << " servers " << kCounts[i];
}

TEST(ServerHash, ComputedModuloAgreesWithVectors)
{
    for (const Vector& v : kVectors)
        for (std::uint8_t opt = 0; opt < 3; ++opt)
            EXPECT_EQ(server_number(v.handle, opt, 5), v.hash[opt] % 5);
}

TEST(ServerHash, MinValueStaysNegativeAsInJava)
{
    constexpr std::int32_t kMin = std::numeric_limits<std::int32_t>::min();
    EXPECT_EQ(java_abs(kMin), kMin);
    EXPECT_EQ(java_abs(-5), 5);
    EXPECT_EQ(java_abs(5), 5);
    // Java: Integer.MIN_VALUE % n keeps the dividend's sign; 2^31 mod 3 = 2, mod 7 = 2.
    EXPECT_EQ(java_abs_mod(kMin, 1), 0);
    EXPECT_EQ(java_abs_mod(kMin, 2), 0);
    EXPECT_EQ(java_abs_mod(kMin, 3), -2);
    EXPECT_EQ(java_abs_mod(kMin, 7), -2);
    EXPECT_EQ(java_abs_mod(-10, 3), 1);
    EXPECT_EQ(java_abs_mod(10, 3), 1);
}

TEST(ServerHash, NoServers)
{
    EXPECT_EQ(server_number("88.100.1/abc", 2, 0), -1);
    EXPECT_EQ(java_abs_mod(12, 0), -1);
}

} // namespace
