#include "kv/map_command.h"

#include "base/bytes.h"

namespace synod::kv {
namespace {

constexpr uint8_t kCommandVersion = 1;

bool has_value(MapOp op) {
  return op == MapOp::kPut || op == MapOp::kCas;
}

}  // namespace

std::string MapCommand::encode() const {
  ByteWriter out;
  out.put_u8(kCommandVersion);
  out.put_u8(static_cast<uint8_t>(op));
  out.put_varint(client);
  out.put_varint(sequence);
  out.put_string(key);
  if (has_value(op)) out.put_string(value);
  if (op == MapOp::kCas) out.put_string(expect);
  return std::move(out).take();
}

Result<MapCommand> MapCommand::decode(std::string_view bytes) {
  ByteReader in(bytes);
  SYNOD_TRY_ASSIGN(uint8_t version, in.u8());
  if (version != kCommandVersion) {
    return Status(ErrorCode::kInvalidArgument, "unknown command version " + std::to_string(version));
  }
  SYNOD_TRY_ASSIGN(uint8_t op, in.u8());
  if (op < static_cast<uint8_t>(MapOp::kPut) || op > static_cast<uint8_t>(MapOp::kGet)) {
    return Status(ErrorCode::kInvalidArgument, "unknown operation " + std::to_string(op));
  }
  MapCommand command;
  command.op = static_cast<MapOp>(op);
  SYNOD_TRY_ASSIGN(command.client, in.varint());
  SYNOD_TRY_ASSIGN(command.sequence, in.varint());
  SYNOD_TRY_ASSIGN(command.key, in.string());
  if (has_value(command.op)) {
    SYNOD_TRY_ASSIGN(command.value, in.string());
  }
  if (command.op == MapOp::kCas) {
    SYNOD_TRY_ASSIGN(command.expect, in.string());
  }
  if (!in.done()) {
    return Status(ErrorCode::kInvalidArgument,
                  std::to_string(in.rest().size()) + " unexpected bytes after the command");
  }
  return command;
}

std::string MapResult::encode() const {
  ByteWriter out;
  out.put_u8(static_cast<uint8_t>(outcome));
  out.put_u8(succeeded ? 1 : 0);
  out.put_u8(value.has_value() ? 1 : 0);
  if (value) out.put_string(*value);
  return std::move(out).take();
}

Result<MapResult> MapResult::decode(std::string_view bytes) {
  ByteReader in(bytes);
  MapResult result;
  SYNOD_TRY_ASSIGN(uint8_t outcome, in.u8());
  if (outcome > static_cast<uint8_t>(MapOutcome::kMalformed)) {
    return Status(ErrorCode::kInvalidArgument, "unknown outcome " + std::to_string(outcome));
  }
  result.outcome = static_cast<MapOutcome>(outcome);
  SYNOD_TRY_ASSIGN(uint8_t succeeded, in.u8());
  result.succeeded = succeeded != 0;
  SYNOD_TRY_ASSIGN(uint8_t present, in.u8());
  if (present != 0) {
    SYNOD_TRY_ASSIGN(result.value, in.string());
  }
  if (!in.done()) return Status(ErrorCode::kInvalidArgument, "unexpected bytes after the result");
  return result;
}

}  // namespace synod::kv
