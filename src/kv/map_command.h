// The commands and results of MapStore (kv/map_store.h), in their binary form: what a client proposes
// through the log and what the proposer gets back once the entry is applied.
//
// A command carries the client's session: (client, sequence). A client numbers its requests 1, 2, 3...
// (never 0) and retries a request with the same number, so a request that reaches the log twice (the client
// timed out and asked another node) takes effect once and both copies answer with the first one's result
// (Raft thesis, section 6.3). Client 0 has no session: every copy takes effect.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"

namespace synod::kv {

enum class MapOp : uint8_t { kPut = 1, kDelete = 2, kCas = 3, kGet = 4 };

struct MapCommand {
  MapOp op = MapOp::kGet;
  uint64_t client = 0;
  uint64_t sequence = 0;
  std::string key;
  std::string value;   // put, cas: the value to write
  std::string expect;  // cas: the value the key must hold (an absent key never matches)

  std::string encode() const;
  static Result<MapCommand> decode(std::string_view bytes);
  bool operator==(const MapCommand&) const = default;
};

enum class MapOutcome : uint8_t {
  kOk = 0,
  // A copy of an older request of a client that has moved on: this copy did nothing, but an earlier
  // copy of the same request may have taken effect. Its proposer learns nothing about the outcome.
  kStale = 1,
  kMalformed = 2,  // the command did not parse (or had sequence 0 with a session): it took no effect
};

struct MapResult {
  MapOutcome outcome = MapOutcome::kOk;
  bool succeeded = false;            // cas: the compare matched; delete: the key existed
  std::optional<std::string> value;  // get: the value (nullopt when absent)

  std::string encode() const;
  static Result<MapResult> decode(std::string_view bytes);
  bool operator==(const MapResult&) const = default;
};

}  // namespace synod::kv
