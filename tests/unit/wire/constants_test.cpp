#include <gtest/gtest.h>

#include <set>
#include <string>

#include "dataplane/wire/constants.hpp"
#include "dataplane/wire/errors.hpp"

namespace idpath::wire {
namespace {

TEST(Constants, OpcodeNamesAreCnriNames)
{
    EXPECT_STREQ(opcode_name(0), "OC_RESERVED");
    EXPECT_STREQ(opcode_name(1), "OC_RESOLUTION");
    EXPECT_STREQ(opcode_name(2), "OC_GET_SITE_INFO");
    EXPECT_STREQ(opcode_name(105), "OC_LIST_HANDLES");
    EXPECT_STREQ(opcode_name(106), "OC_LIST_NA");
    EXPECT_STREQ(opcode_name(200), "OC_RESPONSE_TO_CHALLENGE");
    EXPECT_STREQ(opcode_name(201), "OC_VERIFY_CHALLENGE");
    EXPECT_STREQ(opcode_name(302), "OC_LIST_HOMED_NAS");
    EXPECT_STREQ(opcode_name(402), "OC_SESSION_EXCHANGEKEY");
    EXPECT_STREQ(opcode_name(1001), "OC_RETRIEVE_TXN_LOG");
    EXPECT_STREQ(opcode_name(1003), "OC_BACKUP_SERVER");
    EXPECT_STREQ(opcode_name(2000), "OC_LOGIN");
    EXPECT_STREQ(opcode_name(2001), "OC_LOGIN_ID_SYSTEM");
    EXPECT_EQ(opcode_name(3), nullptr);
    EXPECT_EQ(opcode_name(0xffffffff), nullptr);
}

TEST(Constants, ResponseCodeNamesIncludeChineseSdkCodes)
{
    EXPECT_STREQ(response_code_name(0), "RC_RESERVED");
    EXPECT_STREQ(response_code_name(1), "RC_SUCCESS");
    EXPECT_STREQ(response_code_name(3), "RC_SERVER_TOO_BUSY");
    EXPECT_STREQ(response_code_name(7), "RC_SERVER_BACKUP");
    EXPECT_STREQ(response_code_name(100), "RC_HANDLE_NOT_FOUND");
    EXPECT_STREQ(response_code_name(200), "RC_VALUES_NOT_FOUND");
    EXPECT_STREQ(response_code_name(301), "RC_SERVER_NOT_RESP");
    EXPECT_STREQ(response_code_name(303), "RC_PREFIX_REFERRAL");
    EXPECT_STREQ(response_code_name(405), "RC_AUTHEN_TIMEOUT");
    EXPECT_STREQ(response_code_name(406), "RC_AUTHEN_ERROR");
    EXPECT_STREQ(response_code_name(407), "RC_RELOGIN");
    EXPECT_STREQ(response_code_name(408), "RC_LOGIN_FIRST");
    EXPECT_STREQ(response_code_name(503), "RC_NEED_RSAKEY_FOR_SESSIONEXCHANGE");
    EXPECT_STREQ(response_code_name(601), "RC_CLIENT_CHANNEL_ERROR");
    EXPECT_STREQ(response_code_name(602), "RC_CLIENT_TIME_OUT");
    EXPECT_STREQ(response_code_name(603), "RC_REQUEST_LIMIT_DAILY");
    EXPECT_STREQ(response_code_name(604), "RC_REGISTER_COUNT_LIMIT");
    EXPECT_STREQ(response_code_name(605), "RC_PREFIX_LIMIT");
    EXPECT_STREQ(response_code_name(900), "RC_TRYING");
    EXPECT_STREQ(response_code_name(3001), "RC_VERIFY_CREDENTIAL_FAILED");
    EXPECT_EQ(response_code_name(8), nullptr);
    EXPECT_EQ(response_code_name(606), nullptr);
}

TEST(Constants, AdminOpcodesAreThoseHandleNetServesOnAdminInterfaces)
{
    for (std::uint32_t op : {100u, 101u, 102u, 103u, 104u, 105u, 300u, 301u, 302u, 1000u, 1001u,
                             1002u})
        EXPECT_TRUE(is_admin_opcode(op)) << op;
    for (std::uint32_t op : {0u, 1u, 2u, 106u, 200u, 201u, 400u, 1003u, 2000u, 2001u})
        EXPECT_FALSE(is_admin_opcode(op)) << op;
}

TEST(Constants, EveryWireErrorHasItsOwnName)
{
    std::set<std::string> names;
    for (int i = 0; i < static_cast<int>(WireError::Count_); ++i) {
        const std::string name = to_string(static_cast<WireError>(i));
        EXPECT_NE(name, "unknown");
        names.insert(name);
    }
    EXPECT_EQ(names.size(), static_cast<std::size_t>(WireError::Count_));
    EXPECT_STREQ(to_string(WireError::Truncated), "truncated");
}

} // namespace
} // namespace idpath::wire
