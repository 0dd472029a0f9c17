// The replicated state machine the in-memory cluster applies committed entries to: a small key-value
// map driven by "set KEY VALUE" / "del KEY" commands, plus a hash chain over every applied entry so a
// checker can prove two nodes applied the same sequence without keeping it.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "base/hash.h"
#include "consensus/types.h"

namespace synod::sim {

class KvStateMachine {
 public:
  void apply(const Entry& entry);
  std::string snapshot() const;
  // Returns false (and changes nothing) if `data` is not a snapshot this class wrote.
  bool restore(const std::string& data);

  Index applied_index() const { return applied_index_; }
  // Hash of the whole applied sequence up to applied_index().
  uint64_t chain_hash() const { return chain_hash_; }
  const std::map<std::string, std::string>& data() const { return kv_; }
  std::optional<std::string> get(const std::string& key) const;

  static std::string set_command(const std::string& key, const std::string& value);
  static std::string delete_command(const std::string& key);

 private:
  Index applied_index_ = 0;
  uint64_t chain_hash_ = 0;
  std::map<std::string, std::string> kv_;
};

}  // namespace synod::sim
