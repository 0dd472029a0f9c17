// MapStore: the replicated key-value map the node applies committed entries to (until the MVCC store of
// issue 7 takes its place): get, put, delete and compare-and-swap on string keys, with client sessions
// so a retried request takes effect once (kv/map_command.h).
//
// It also keeps a hash chain over every applied entry, so a checker can prove two replicas applied the
// same sequence without keeping it. Snapshots carry the map, the sessions and the chain.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "consensus/state_machine.h"
#include "kv/map_command.h"

namespace synod::kv {

class MapStore final : public StateMachine {
 public:
  std::string apply(const Entry& entry, std::string_view command) override;
  Index applied_index() const override { return applied_index_; }
  std::string snapshot() const override;
  Status restore(std::string_view data) override;

  // A read of the applied state (the node decides when that is linearizable).
  std::optional<std::string> get(const std::string& key) const;
  uint64_t chain_hash() const { return chain_hash_; }
  size_t size() const { return map_.size(); }
  size_t sessions() const { return sessions_.size(); }

 private:
  struct Session {
    uint64_t sequence = 0;
    std::string result;  // the encoded MapResult of request `sequence`
  };

  MapResult execute(const MapCommand& command);
  // Fills a fresh store from `data`.
  Status decode_snapshot(std::string_view data);

  Index applied_index_ = 0;
  uint64_t chain_hash_ = 0;
  std::map<std::string, std::string, std::less<>> map_;
  std::map<uint64_t, Session> sessions_;
};

}  // namespace synod::kv
