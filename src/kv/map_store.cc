#include "kv/map_store.h"

#include "base/assert.h"
#include "base/bytes.h"
#include "base/hash.h"

namespace synod::kv {
namespace {

constexpr std::string_view kSnapshotMagic = "synod-map-1";

}  // namespace

std::string MapStore::apply(const Entry& entry, std::string_view command) {
  SYNOD_ASSERT_MSG(entry.index == applied_index_ + 1, "entries are applied in order, once");
  applied_index_ = entry.index;
  // The values applied, not the term or ballot they were chosen at: a Multi-Paxos slot carries the
  // ballot each acceptor took it at, which differs between nodes for the same chosen value.
  chain_hash_ = hash_bytes(entry.data, chain_hash_ ^ static_cast<uint64_t>(entry.type));
  if (command.empty()) return {};

  Result<MapCommand> decoded = MapCommand::decode(command);
  if (!decoded.is_ok()) return MapResult{MapOutcome::kMalformed, false, std::nullopt}.encode();
  const MapCommand& request = decoded.value();
  if (request.client == 0) return execute(request).encode();
  // Sequences start at 1: a fresh session's 0 would make the first request look like a retry.
  if (request.sequence == 0) return MapResult{MapOutcome::kMalformed, false, std::nullopt}.encode();

  Session& session = sessions_[request.client];
  if (request.sequence < session.sequence) return MapResult{MapOutcome::kStale, false, std::nullopt}.encode();
  if (request.sequence == session.sequence) return session.result;  // a retry that reached the log again
  session.sequence = request.sequence;
  session.result = execute(request).encode();
  return session.result;
}

MapResult MapStore::execute(const MapCommand& command) {
  MapResult result;
  auto it = map_.find(command.key);
  switch (command.op) {
    case MapOp::kGet:
      if (it != map_.end()) result.value = it->second;
      break;
    case MapOp::kPut:
      map_[command.key] = command.value;
      result.succeeded = true;
      break;
    case MapOp::kDelete:
      result.succeeded = it != map_.end();
      if (it != map_.end()) map_.erase(it);
      break;
    case MapOp::kCas:
      result.succeeded = it != map_.end() && it->second == command.expect;
      if (result.succeeded) it->second = command.value;
      break;
  }
  return result;
}

std::optional<std::string> MapStore::get(const std::string& key) const {
  auto it = map_.find(key);
  if (it == map_.end()) return std::nullopt;
  return it->second;
}

std::string MapStore::snapshot() const {
  ByteWriter out;
  out.put_string(kSnapshotMagic);
  out.put_varint(applied_index_);
  out.put_varint(chain_hash_);
  out.put_varint(map_.size());
  for (const auto& [key, value] : map_) {
    out.put_string(key);
    out.put_string(value);
  }
  out.put_varint(sessions_.size());
  for (const auto& [client, session] : sessions_) {
    out.put_varint(client);
    out.put_varint(session.sequence);
    out.put_string(session.result);
  }
  return std::move(out).take();
}

Status MapStore::restore(std::string_view data) {
  MapStore restored;
  Status status = restored.decode_snapshot(data);
  if (!status.is_ok()) return Status(ErrorCode::kCorruption, "map snapshot: " + status.message());
  *this = std::move(restored);
  return Status::ok();
}

Status MapStore::decode_snapshot(std::string_view data) {
  ByteReader in(data);
  SYNOD_TRY_ASSIGN(std::string_view magic, in.string());
  if (magic != kSnapshotMagic) return Status(ErrorCode::kCorruption, "not a map snapshot");
  SYNOD_TRY_ASSIGN(applied_index_, in.varint());
  SYNOD_TRY_ASSIGN(chain_hash_, in.varint());
  SYNOD_TRY_ASSIGN(uint64_t keys, in.varint());
  for (uint64_t i = 0; i < keys; ++i) {
    SYNOD_TRY_ASSIGN(std::string_view key, in.string());
    SYNOD_TRY_ASSIGN(std::string_view value, in.string());
    map_.emplace(std::string(key), std::string(value));
  }
  SYNOD_TRY_ASSIGN(uint64_t sessions, in.varint());
  for (uint64_t i = 0; i < sessions; ++i) {
    SYNOD_TRY_ASSIGN(uint64_t client, in.varint());
    SYNOD_TRY_ASSIGN(uint64_t sequence, in.varint());
    SYNOD_TRY_ASSIGN(std::string_view result, in.string());
    sessions_[client] = Session{sequence, std::string(result)};
  }
  if (!in.done()) return Status(ErrorCode::kCorruption, "unexpected bytes at the end");
  return Status::ok();
}

}  // namespace synod::kv
