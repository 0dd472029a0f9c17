#include "sim/state_machine.h"

#include <sstream>

#include "base/assert.h"

namespace synod::sim {

std::string KvStateMachine::set_command(const std::string& key, const std::string& value) {
  return "set " + key + " " + value;
}

std::string KvStateMachine::delete_command(const std::string& key) {
  return "del " + key;
}

void KvStateMachine::apply(const Entry& entry) {
  SYNOD_ASSERT_MSG(entry.index == applied_index_ + 1, "entries are applied in order, once");
  applied_index_ = entry.index;
  // The values applied, not the term or ballot they were chosen at: a Multi-Paxos slot carries the
  // ballot each acceptor took it at, which differs between nodes for the same chosen value.
  chain_hash_ = hash_bytes(entry.data, chain_hash_ ^ static_cast<uint64_t>(entry.type));
  if (entry.type != EntryType::kNormal) return;
  std::istringstream in(entry.data);
  std::string verb;
  std::string key;
  in >> verb >> key;
  if (verb == "set") {
    std::string value;
    in >> value;
    kv_[key] = value;
  } else if (verb == "del") {
    kv_.erase(key);
  }
  // Anything else is an opaque command: part of the hash chain, no effect on the map.
}

std::optional<std::string> KvStateMachine::get(const std::string& key) const {
  auto it = kv_.find(key);
  if (it == kv_.end()) return std::nullopt;
  return it->second;
}

std::string KvStateMachine::snapshot() const {
  std::ostringstream out;
  out << "kv1 " << applied_index_ << ' ' << chain_hash_ << ' ' << kv_.size() << '\n';
  for (const auto& [key, value] : kv_) out << key << ' ' << value << '\n';
  return out.str();
}

bool KvStateMachine::restore(const std::string& data) {
  std::istringstream in(data);
  std::string magic;
  KvStateMachine restored;
  size_t count = 0;
  if (!(in >> magic >> restored.applied_index_ >> restored.chain_hash_ >> count) || magic != "kv1")
    return false;
  for (size_t i = 0; i < count; ++i) {
    std::string key;
    std::string value;
    if (!(in >> key >> value)) return false;
    restored.kv_[key] = value;
  }
  *this = std::move(restored);
  return true;
}

}  // namespace synod::sim
