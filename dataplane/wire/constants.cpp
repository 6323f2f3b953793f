#include "dataplane/wire/constants.hpp"

namespace idpath::wire {

// Names are CNRI hdllib's (AbstractMessage.java); numbers HANDLE.NET does not define carry the
// name of the SDK or RFC that does (handle-protocol.md sections 1.6 and 1.7).
const char* opcode_name(std::uint32_t opcode) noexcept
{
    switch (static_cast<OpCode>(opcode)) {
    case OpCode::Reserved:
        return "OC_RESERVED";
    case OpCode::Resolution:
        return "OC_RESOLUTION";
    case OpCode::GetSiteInfo:
        return "OC_GET_SITE_INFO";
    case OpCode::CreateHandle:
        return "OC_CREATE_HANDLE";
    case OpCode::DeleteHandle:
        return "OC_DELETE_HANDLE";
    case OpCode::AddValue:
        return "OC_ADD_VALUE";
    case OpCode::RemoveValue:
        return "OC_REMOVE_VALUE";
    case OpCode::ModifyValue:
        return "OC_MODIFY_VALUE";
    case OpCode::ListHandles:
        return "OC_LIST_HANDLES";
    case OpCode::ListNas:
        return "OC_LIST_NA"; // RFC 3652; not in HANDLE.NET
    case OpCode::ChallengeResponse:
        return "OC_RESPONSE_TO_CHALLENGE";
    case OpCode::VerifyChallenge:
        return "OC_VERIFY_CHALLENGE";
    case OpCode::HomeNa:
        return "OC_HOME_NA";
    case OpCode::UnhomeNa:
        return "OC_UNHOME_NA";
    case OpCode::ListHomedNas:
        return "OC_LIST_HOMED_NAS";
    case OpCode::SessionSetup:
        return "OC_SESSION_SETUP";
    case OpCode::SessionTerminate:
        return "OC_SESSION_TERMINATE";
    case OpCode::SessionExchangeKey:
        return "OC_SESSION_EXCHANGEKEY";
    case OpCode::GetNextTxnId:
        return "OC_GET_NEXT_TXN_ID";
    case OpCode::RetrieveTxnLog:
        return "OC_RETRIEVE_TXN_LOG";
    case OpCode::DumpHandles:
        return "OC_DUMP_HANDLES";
    case OpCode::BackupServer:
        return "OC_BACKUP_SERVER";
    case OpCode::Login:
        return "OC_LOGIN";
    case OpCode::LoginIdSystem:
        return "OC_LOGIN_ID_SYSTEM";
    }
    return nullptr;
}

const char* response_code_name(std::uint32_t rc) noexcept
{
    switch (static_cast<ResponseCode>(rc)) {
    case ResponseCode::Reserved:
        return "RC_RESERVED";
    case ResponseCode::Success:
        return "RC_SUCCESS";
    case ResponseCode::Error:
        return "RC_ERROR";
    case ResponseCode::ServerTooBusy:
        return "RC_SERVER_TOO_BUSY";
    case ResponseCode::ProtocolError:
        return "RC_PROTOCOL_ERROR";
    case ResponseCode::OperationNotSupported:
        return "RC_OPERATION_NOT_SUPPORTED";
    case ResponseCode::RecursionCountTooHigh:
        return "RC_RECURSION_COUNT_TOO_HIGH";
    case ResponseCode::ServerBackup:
        return "RC_SERVER_BACKUP";
    case ResponseCode::HandleNotFound:
        return "RC_HANDLE_NOT_FOUND";
    case ResponseCode::HandleAlreadyExists:
        return "RC_HANDLE_ALREADY_EXISTS";
    case ResponseCode::InvalidHandle:
        return "RC_INVALID_HANDLE";
    case ResponseCode::ValuesNotFound:
        return "RC_VALUES_NOT_FOUND";
    case ResponseCode::ValueAlreadyExists:
        return "RC_VALUE_ALREADY_EXISTS";
    case ResponseCode::InvalidValue:
        return "RC_INVALID_VALUE";
    case ResponseCode::OutOfDateSiteInfo:
        return "RC_OUT_OF_DATE_SITE_INFO";
    case ResponseCode::ServerNotResponsible:
        return "RC_SERVER_NOT_RESP";
    case ResponseCode::ServiceReferral:
        return "RC_SERVICE_REFERRAL";
    case ResponseCode::PrefixReferral:
        return "RC_PREFIX_REFERRAL";
    case ResponseCode::InvalidAdmin:
        return "RC_INVALID_ADMIN";
    case ResponseCode::InsufficientPermissions:
        return "RC_INSUFFICIENT_PERMISSIONS";
    case ResponseCode::AuthenticationNeeded:
        return "RC_AUTHENTICATION_NEEDED";
    case ResponseCode::AuthenticationFailed:
        return "RC_AUTHENTICATION_FAILED";
    case ResponseCode::InvalidCredential:
        return "RC_INVALID_CREDENTIAL";
    case ResponseCode::AuthenticationTimeout:
        return "RC_AUTHEN_TIMEOUT";
    case ResponseCode::AuthenticationError:
        return "RC_AUTHEN_ERROR";
    case ResponseCode::Relogin:
        return "RC_RELOGIN";
    case ResponseCode::LoginFirst:
        return "RC_LOGIN_FIRST";
    case ResponseCode::SessionTimeout:
        return "RC_SESSION_TIMEOUT";
    case ResponseCode::SessionFailed:
        return "RC_SESSION_FAILED";
    case ResponseCode::InvalidSessionKey:
        return "RC_INVALID_SESSION_KEY";
    case ResponseCode::NeedRsaKeyForSessionExchange:
        return "RC_NEED_RSAKEY_FOR_SESSIONEXCHANGE";
    case ResponseCode::InvalidSessionSetupRequest:
        return "RC_INVALID_SESSIONSETUP_REQUEST";
    case ResponseCode::SessionMessageRejected:
        return "RC_SESSION_MESSAGE_REJECTED";
    case ResponseCode::ClientChannelError:
        return "RC_CLIENT_CHANNEL_ERROR";
    case ResponseCode::ClientTimeout:
        return "RC_CLIENT_TIME_OUT";
    case ResponseCode::RequestLimitDaily:
        return "RC_REQUEST_LIMIT_DAILY";
    case ResponseCode::RegisterCountLimit:
        return "RC_REGISTER_COUNT_LIMIT";
    case ResponseCode::PrefixLimit:
        return "RC_PREFIX_LIMIT";
    case ResponseCode::Trying:
        return "RC_TRYING";
    case ResponseCode::Forwarded:
        return "RC_FORWARDED";
    case ResponseCode::Queued:
        return "RC_QUEUED";
    case ResponseCode::VerifyCredentialFailed:
        return "RC_VERIFY_CREDENTIAL_FAILED";
    }
    return nullptr;
}

// Interface.canHandleRequest / AbstractRequest.isAdminRequest in HANDLE.NET 9.x.
bool is_admin_opcode(std::uint32_t opcode) noexcept
{
    return (opcode >= 100 && opcode <= 105) || (opcode >= 300 && opcode <= 302) ||
           (opcode >= 1000 && opcode <= 1002);
}

} // namespace idpath::wire
