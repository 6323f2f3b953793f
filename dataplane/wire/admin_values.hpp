#pragma once
/// HS_ADMIN and HS_VLIST value data (handle-protocol.md section 1.10.2).

#include <cstdint>
#include <string>
#include <vector>

#include "dataplane/base/byte_writer.hpp"
#include "dataplane/base/bytes.hpp"
#include "dataplane/base/result.hpp"
#include "dataplane/wire/errors.hpp"
#include "dataplane/wire/value.hpp"

namespace idpath::wire {

/// HS_ADMIN permission bits.
namespace admin_perm {
inline constexpr std::uint16_t kAddHandle = 0x0001;
inline constexpr std::uint16_t kDeleteHandle = 0x0002;
inline constexpr std::uint16_t kAddDerivedPrefix = 0x0004;
inline constexpr std::uint16_t kDeleteDerivedPrefix = 0x0008;
inline constexpr std::uint16_t kModifyValue = 0x0010;
inline constexpr std::uint16_t kRemoveValue = 0x0020;
inline constexpr std::uint16_t kAddValue = 0x0040;
inline constexpr std::uint16_t kModifyAdmin = 0x0080;
inline constexpr std::uint16_t kRemoveAdmin = 0x0100;
inline constexpr std::uint16_t kAddAdmin = 0x0200;
inline constexpr std::uint16_t kAuthorizedRead = 0x0400;
inline constexpr std::uint16_t kListHandles = 0x0800;
inline constexpr std::uint16_t kListDerivedPrefixes = 0x1000; // DO-IRP
inline constexpr std::uint16_t kAll = 0x0fff;
} // namespace admin_perm

struct AdminRecord {
    std::uint16_t permissions = admin_perm::kAll;
    std::string admin_handle;
    std::uint32_t admin_index = 0;
    bool operator==(const AdminRecord&) const = default;
};

/// Decodes HS_ADMIN data: int2 permissions (or CNRI's legacy int4), String handle, int4 index.
Result<AdminRecord, WireError> decode_admin_record(ByteSpan data);
void encode_admin_record(ByteWriter& w, const AdminRecord& a) noexcept;
std::vector<std::uint8_t> encode_admin_record(const AdminRecord& a);

/// HS_VLIST data: int4 count, then count x (String handle, int4 index).
Result<std::vector<Reference>, WireError> decode_value_reference_list(ByteSpan data);
std::vector<std::uint8_t> encode_value_reference_list(const std::vector<Reference>& refs);

} // namespace idpath::wire
