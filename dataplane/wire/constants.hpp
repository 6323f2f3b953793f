#pragma once
/// Handle System protocol constants (RFC 3652 as extended by CNRI HANDLE.NET 9.x, protocol 2.11,
/// and the Chinese SDKs). Names follow CNRI's hdllib; numbers are in
/// shared/research/handle-protocol.md sections 1.5-1.7.

#include <cstddef>
#include <cstdint>

namespace idpath::wire {

inline constexpr std::size_t kEnvelopeSize = 20;
inline constexpr std::size_t kHeaderSize = 24;
inline constexpr std::size_t kCredentialLengthSize = 4;
/// RFC 3652 section 2.3.1: a UDP datagram carries at most 512 octets, envelope included.
inline constexpr std::size_t kMaxUdpDatagram = 512;
inline constexpr std::size_t kMaxUdpChunk = kMaxUdpDatagram - kEnvelopeSize; // 492
/// HANDLE.NET's sanity limits (Common.java); a decoder rejects anything larger.
inline constexpr std::size_t kMaxHandleLength = 2048;
inline constexpr std::size_t kMaxValues = 2048;
inline constexpr std::size_t kMaxMessageLength = 262144;
inline constexpr std::size_t kMaxArraySize = 1048576;

/// The protocol version idpath implements and advertises as "suggested".
inline constexpr std::uint8_t kImplMajor = 2;
inline constexpr std::uint8_t kImplMinor = 11;
inline constexpr std::uint16_t kDefaultPort = 2641;
/// HANDLE.NET's default lifetime of a message it sends (12 hours).
inline constexpr std::uint32_t kDefaultExpirationSeconds = 43200;

enum class OpCode : std::uint32_t {
    Reserved = 0,
    Resolution = 1,
    GetSiteInfo = 2,
    CreateHandle = 100,
    DeleteHandle = 101,
    AddValue = 102,
    RemoveValue = 103,
    ModifyValue = 104,
    ListHandles = 105,
    ListNas = 106,
    ChallengeResponse = 200,
    VerifyChallenge = 201,
    HomeNa = 300,
    UnhomeNa = 301,
    ListHomedNas = 302,
    SessionSetup = 400,
    SessionTerminate = 401,
    SessionExchangeKey = 402,
    GetNextTxnId = 1000,
    RetrieveTxnLog = 1001,
    DumpHandles = 1002,
    BackupServer = 1003,
    Login = 2000,          // CAICT ID-SDK password login
    LoginIdSystem = 2001,  // CAICT ID-SDK / Teleinfo key login
};

enum class ResponseCode : std::uint32_t {
    Reserved = 0, // every request carries 0
    Success = 1,
    Error = 2,
    ServerTooBusy = 3,
    ProtocolError = 4,
    OperationNotSupported = 5,
    RecursionCountTooHigh = 6,
    ServerBackup = 7,
    HandleNotFound = 100,
    HandleAlreadyExists = 101,
    InvalidHandle = 102,
    ValuesNotFound = 200,
    ValueAlreadyExists = 201,
    InvalidValue = 202,
    OutOfDateSiteInfo = 300,
    ServerNotResponsible = 301,
    ServiceReferral = 302,
    PrefixReferral = 303,
    InvalidAdmin = 400,
    InsufficientPermissions = 401,
    AuthenticationNeeded = 402,
    AuthenticationFailed = 403,
    InvalidCredential = 404,
    AuthenticationTimeout = 405,
    AuthenticationError = 406,
    Relogin = 407,    // CAICT ID-SDK
    LoginFirst = 408, // CAICT ID-SDK
    SessionTimeout = 500,
    SessionFailed = 501,
    InvalidSessionKey = 502,
    NeedRsaKeyForSessionExchange = 503,
    InvalidSessionSetupRequest = 504,
    SessionMessageRejected = 505,
    ClientChannelError = 601, // Teleinfo, client side
    ClientTimeout = 602,      // Teleinfo, client side
    RequestLimitDaily = 603,  // Teleinfo server quotas
    RegisterCountLimit = 604,
    PrefixLimit = 605,
    Trying = 900, // RFC 3652 only
    Forwarded = 901,
    Queued = 902,
    VerifyCredentialFailed = 3001, // CAICT ID-SDK
};

/// OpFlag bits (header offset 8).
namespace opflag {
inline constexpr std::uint32_t kAuthoritative = 0x80000000; // AT
inline constexpr std::uint32_t kCertify = 0x40000000;       // CT
inline constexpr std::uint32_t kEncrypt = 0x20000000;       // ENC
inline constexpr std::uint32_t kRecursive = 0x10000000;     // REC
inline constexpr std::uint32_t kCacheCertify = 0x08000000;  // CA
inline constexpr std::uint32_t kContinuous = 0x04000000;    // CN
inline constexpr std::uint32_t kKeepAlive = 0x02000000;     // KC
inline constexpr std::uint32_t kPublicOnly = 0x01000000;    // PO
inline constexpr std::uint32_t kReturnDigest = 0x00800000;  // RD
inline constexpr std::uint32_t kOverwrite = 0x00400000;     // OVRW (CNRI 2.3+)
inline constexpr std::uint32_t kMintSuffix = 0x00200000;    // MINT
inline constexpr std::uint32_t kDoNotRefer = 0x00100000;    // DNRF
inline constexpr std::uint32_t kRecursiveAuth = 0x00000004; // Teleinfo RECU_AUTH
} // namespace opflag

/// MessageFlag high byte (envelope offset 2): the top three bits; the low five carry the
/// suggested major version (DO-IRP 3.0; CNRI reads it with mask 0x03).
namespace envflag {
inline constexpr std::uint8_t kCompressed = 0x80; // CP
inline constexpr std::uint8_t kEncrypted = 0x40;  // EC
inline constexpr std::uint8_t kTruncated = 0x20;  // TC
inline constexpr std::uint8_t kSuggestedMajorMask = 0x1f;
} // namespace envflag

/// Handle value permission bits.
namespace perm {
inline constexpr std::uint8_t kAdminRead = 0x08;
inline constexpr std::uint8_t kAdminWrite = 0x04;
inline constexpr std::uint8_t kPublicRead = 0x02;
inline constexpr std::uint8_t kPublicWrite = 0x01;
inline constexpr std::uint8_t kDefault = kAdminRead | kAdminWrite | kPublicRead; // "rwr-"
} // namespace perm

enum class TtlType : std::uint8_t { Relative = 0, Absolute = 1 };

/// Hash type byte of the request-digest prefix (RD) and of challenges.
enum class DigestType : std::uint8_t { LegacyMd5 = 0, Md5 = 1, Sha1 = 2, Sha256 = 3 };

/// HS_SITE interface fields.
namespace site {
inline constexpr std::uint8_t kPrimaryMask = 0x80;
inline constexpr std::uint8_t kMultiPrimaryMask = 0x40;
inline constexpr std::uint8_t kHashByPrefix = 0;
inline constexpr std::uint8_t kHashBySuffix = 1;
inline constexpr std::uint8_t kHashByHandle = 2;
inline constexpr std::uint8_t kInterfaceOutOfService = 0;
inline constexpr std::uint8_t kInterfaceAdmin = 1;
inline constexpr std::uint8_t kInterfaceQuery = 2;
inline constexpr std::uint8_t kInterfaceAdminAndQuery = 3;
inline constexpr std::uint8_t kProtocolUdp = 0;
inline constexpr std::uint8_t kProtocolTcp = 1;
inline constexpr std::uint8_t kProtocolHttp = 2;
inline constexpr std::uint8_t kProtocolHttps = 3;
} // namespace site

/// CNRI name of an opcode ("OC_RESOLUTION"), or nullptr when unknown.
const char* opcode_name(std::uint32_t opcode) noexcept;
/// CNRI name of a response code ("RC_HANDLE_NOT_FOUND"), or nullptr when unknown.
const char* response_code_name(std::uint32_t rc) noexcept;
/// True for the opcodes HANDLE.NET serves only on admin interfaces (100-105, 300-302, 1000-1002).
bool is_admin_opcode(std::uint32_t opcode) noexcept;

} // namespace idpath::wire
