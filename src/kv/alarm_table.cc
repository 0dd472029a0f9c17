#include "kv/alarm_table.h"

#include <algorithm>
#include <string>

namespace synod::kv {
namespace {

bool known(int type) {
  return type == etcdserverpb::NOSPACE || type == etcdserverpb::CORRUPT;
}

// What one more record of a key costs besides its key and value (kv/mvcc_key_index.h's KeyRecord and
// its share of the key's node); a lease is about as much.
constexpr uint64_t kRecordBytes = 128;

uint64_t ops_added_bytes(const google::protobuf::RepeatedPtrField<etcdserverpb::RequestOp>& ops) {
  uint64_t bytes = 0;
  for (const etcdserverpb::RequestOp& op : ops) {
    if (op.has_request_put()) bytes += added_bytes(op.request_put());
    // etcd 3.4 counts only the top level; a nested put would slip past a full store there.
    if (op.has_request_txn()) bytes += added_bytes(op.request_txn());
  }
  return bytes;
}

}  // namespace

bool AlarmTable::raise(uint64_t member, etcdserverpb::AlarmType type) {
  return alarms_.emplace(member, static_cast<int>(type)).second;
}

bool AlarmTable::clear(uint64_t member, etcdserverpb::AlarmType type) {
  return alarms_.erase({member, static_cast<int>(type)}) > 0;
}

bool AlarmTable::active(etcdserverpb::AlarmType type) const {
  for (const auto& [member, raised] : alarms_) {
    if (raised == static_cast<int>(type)) return true;
  }
  return false;
}

std::vector<etcdserverpb::AlarmMember> AlarmTable::list() const {
  std::vector<etcdserverpb::AlarmMember> out;
  out.reserve(alarms_.size());
  for (const auto& [member, type] : alarms_) {
    etcdserverpb::AlarmMember& alarm = out.emplace_back();
    alarm.set_memberid(member);
    alarm.set_alarm(static_cast<etcdserverpb::AlarmType>(type));
  }
  return out;
}

void AlarmTable::encode(ByteWriter& out) const {
  out.put_varint(alarms_.size());
  for (const auto& [member, type] : alarms_) {
    out.put_varint(member);
    out.put_varint(static_cast<uint64_t>(type));
  }
}

Status AlarmTable::decode(ByteReader& in) {
  auto bad = [](const std::string& what) { return Status(ErrorCode::kCorruption, "alarms: " + what); };
  if (!alarms_.empty()) return bad("decoded into a table in use");
  SYNOD_TRY_ASSIGN(uint64_t count, in.varint());
  if (count > in.rest().size()) return bad("a count beyond the data");
  for (uint64_t i = 0; i < count; ++i) {
    SYNOD_TRY_ASSIGN(uint64_t member, in.varint());
    SYNOD_TRY_ASSIGN(uint64_t type, in.varint());
    if (member == 0) return bad("member 0");
    if (type > 2 || !known(static_cast<int>(type))) return bad("unknown alarm type " + std::to_string(type));
    std::pair<uint64_t, int> alarm(member, static_cast<int>(type));
    if (!alarms_.empty() && !(*alarms_.rbegin() < alarm)) return bad("alarms out of order");
    alarms_.insert(alarm);
  }
  return Status::ok();
}

uint64_t added_bytes(const etcdserverpb::PutRequest& put) {
  return put.key().size() + put.value().size() + kRecordBytes;
}

uint64_t added_bytes(const etcdserverpb::TxnRequest& txn) {
  // Only one branch runs; which is not known before the compares are, so the larger counts.
  return std::max(ops_added_bytes(txn.success()), ops_added_bytes(txn.failure()));
}

uint64_t added_bytes(const etcdserverpb::LeaseGrantRequest& /*grant*/) {
  return kRecordBytes;
}

uint64_t added_bytes(const synodpb::Command& command) {
  switch (command.op_case()) {
    case synodpb::Command::kPut: return added_bytes(command.put());
    case synodpb::Command::kLeaseGrant: return added_bytes(command.lease_grant());
    case synodpb::Command::kTxn: return added_bytes(command.txn());
    default: return 0;
  }
}

bool writes(const synodpb::Command& command) {
  switch (command.op_case()) {
    case synodpb::Command::kAlarm:
    case synodpb::Command::kPublishMember:
    case synodpb::Command::OP_NOT_SET: return false;
    default: return true;
  }
}

}  // namespace synod::kv
