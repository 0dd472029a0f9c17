#include "kv/mvcc_codec.h"

#include <climits>

namespace synod::kv {
namespace {

using synodpb::CommandResult;

// Where each response kind sits in a CommandResult.
template <typename Response>
struct Slot;
template <>
struct Slot<etcdserverpb::RangeResponse> {
  static auto* mut(CommandResult& result) { return result.mutable_range(); }
  static const auto& get(const CommandResult& result) { return result.range(); }
  static constexpr auto kCase = CommandResult::kRange;
};
template <>
struct Slot<etcdserverpb::PutResponse> {
  static auto* mut(CommandResult& result) { return result.mutable_put(); }
  static const auto& get(const CommandResult& result) { return result.put(); }
  static constexpr auto kCase = CommandResult::kPut;
};
template <>
struct Slot<etcdserverpb::DeleteRangeResponse> {
  static auto* mut(CommandResult& result) { return result.mutable_delete_range(); }
  static const auto& get(const CommandResult& result) { return result.delete_range(); }
  static constexpr auto kCase = CommandResult::kDeleteRange;
};
template <>
struct Slot<etcdserverpb::TxnResponse> {
  static auto* mut(CommandResult& result) { return result.mutable_txn(); }
  static const auto& get(const CommandResult& result) { return result.txn(); }
  static constexpr auto kCase = CommandResult::kTxn;
};
template <>
struct Slot<etcdserverpb::CompactionResponse> {
  static auto* mut(CommandResult& result) { return result.mutable_compaction(); }
  static const auto& get(const CommandResult& result) { return result.compaction(); }
  static constexpr auto kCase = CommandResult::kCompaction;
};

template <>
struct Slot<etcdserverpb::LeaseGrantResponse> {
  static auto* mut(CommandResult& result) { return result.mutable_lease_grant(); }
  static const auto& get(const CommandResult& result) { return result.lease_grant(); }
  static constexpr auto kCase = CommandResult::kLeaseGrant;
};
template <>
struct Slot<etcdserverpb::LeaseRevokeResponse> {
  static auto* mut(CommandResult& result) { return result.mutable_lease_revoke(); }
  static const auto& get(const CommandResult& result) { return result.lease_revoke(); }
  static constexpr auto kCase = CommandResult::kLeaseRevoke;
};
template <>
struct Slot<etcdserverpb::LeaseKeepAliveResponse> {
  static auto* mut(CommandResult& result) { return result.mutable_lease_renew(); }
  static const auto& get(const CommandResult& result) { return result.lease_renew(); }
  static constexpr auto kCase = CommandResult::kLeaseRenew;
};
template <>
struct Slot<etcdserverpb::AlarmResponse> {
  static auto* mut(CommandResult& result) { return result.mutable_alarm(); }
  static const auto& get(const CommandResult& result) { return result.alarm(); }
  static constexpr auto kCase = CommandResult::kAlarm;
};
template <>
struct Slot<synodpb::MemberAttributes> {
  static auto* mut(CommandResult& result) { return result.mutable_publish_member(); }
  static const auto& get(const CommandResult& result) { return result.publish_member(); }
  static constexpr auto kCase = CommandResult::kPublishMember;
};

template <typename Message>
bool parse(Message& message, std::string_view bytes) {
  return bytes.size() <= static_cast<size_t>(INT_MAX) &&
         message.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()));
}

}  // namespace

std::string encode_command(const etcdserverpb::PutRequest& request) {
  synodpb::Command command;
  *command.mutable_put() = request;
  return command.SerializeAsString();
}

std::string encode_command(const etcdserverpb::DeleteRangeRequest& request) {
  synodpb::Command command;
  *command.mutable_delete_range() = request;
  return command.SerializeAsString();
}

std::string encode_command(const etcdserverpb::TxnRequest& request) {
  synodpb::Command command;
  *command.mutable_txn() = request;
  return command.SerializeAsString();
}

std::string encode_command(const etcdserverpb::CompactionRequest& request) {
  synodpb::Command command;
  *command.mutable_compaction() = request;
  return command.SerializeAsString();
}

std::string encode_command(const etcdserverpb::LeaseGrantRequest& request) {
  synodpb::Command command;
  *command.mutable_lease_grant() = request;
  return command.SerializeAsString();
}

std::string encode_command(const etcdserverpb::LeaseRevokeRequest& request) {
  synodpb::Command command;
  *command.mutable_lease_revoke() = request;
  return command.SerializeAsString();
}

std::string encode_command(const etcdserverpb::LeaseKeepAliveRequest& request) {
  synodpb::Command command;
  *command.mutable_lease_renew() = request;
  return command.SerializeAsString();
}

std::string encode_command(const etcdserverpb::AlarmRequest& request) {
  synodpb::Command command;
  *command.mutable_alarm() = request;
  return command.SerializeAsString();
}

std::string encode_command(const synodpb::MemberAttributes& request) {
  synodpb::Command command;
  *command.mutable_publish_member() = request;
  return command.SerializeAsString();
}

Result<synodpb::Command> decode_command(std::string_view bytes) {
  synodpb::Command command;
  if (!parse(command, bytes)) return Status(ErrorCode::kInvalidArgument, "not an MVCC command");
  if (command.op_case() == synodpb::Command::OP_NOT_SET) {
    return Status(ErrorCode::kInvalidArgument, "an MVCC command without an operation");
  }
  return command;
}

std::string encode_error(const Status& error) {
  SYNOD_ASSERT(!error.is_ok());
  CommandResult out;
  out.mutable_error()->set_code(static_cast<uint32_t>(error.code()));
  out.mutable_error()->set_message(error.message());
  return out.SerializeAsString();
}

template <typename Response>
std::string encode_result(const Result<Response>& result) {
  if (!result.is_ok()) return encode_error(result.status());
  CommandResult out;
  *Slot<Response>::mut(out) = result.value();
  return out.SerializeAsString();
}

template <typename Response>
Result<Response> decode_result(std::string_view bytes) {
  CommandResult result;
  if (!parse(result, bytes)) return Status(ErrorCode::kCorruption, "not an MVCC result");
  if (result.has_error()) {
    auto code = static_cast<ErrorCode>(result.error().code());
    // An error result always carries an error, whatever its code says.
    if (result.error().code() == 0 || result.error().code() > INT_MAX) code = ErrorCode::kCorruption;
    return Status(code, result.error().message());
  }
  if (result.result_case() != Slot<Response>::kCase) {
    return Status(ErrorCode::kCorruption, "an MVCC result of another kind");
  }
  return Slot<Response>::get(result);
}

#define SYNOD_MVCC_RESULT(Response)                                   \
  template std::string encode_result(const Result<Response>& result); \
  template Result<Response> decode_result(std::string_view bytes);
SYNOD_MVCC_RESULT(etcdserverpb::RangeResponse)
SYNOD_MVCC_RESULT(etcdserverpb::PutResponse)
SYNOD_MVCC_RESULT(etcdserverpb::DeleteRangeResponse)
SYNOD_MVCC_RESULT(etcdserverpb::TxnResponse)
SYNOD_MVCC_RESULT(etcdserverpb::CompactionResponse)
SYNOD_MVCC_RESULT(etcdserverpb::LeaseGrantResponse)
SYNOD_MVCC_RESULT(etcdserverpb::LeaseRevokeResponse)
SYNOD_MVCC_RESULT(etcdserverpb::LeaseKeepAliveResponse)
SYNOD_MVCC_RESULT(etcdserverpb::AlarmResponse)
SYNOD_MVCC_RESULT(synodpb::MemberAttributes)
#undef SYNOD_MVCC_RESULT

}  // namespace synod::kv
