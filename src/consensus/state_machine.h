// StateMachine: what the node applies committed entries to. The node strips its own envelope (see
// node/node.h) and hands the application its command; the result goes back to whoever proposed it.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"
#include "consensus/types.h"

namespace synod {

class StateMachine {
 public:
  virtual ~StateMachine() = default;

  // Applies the committed entry at applied_index() + 1. `command` is the application's part of it:
  // empty for a leader's no-op or a configuration entry. Bad commands must be answered with an error
  // result, never a crash: any client can propose bytes. The return value is the proposer's result.
  virtual std::string apply(const Entry& entry, std::string_view command) = 0;
  virtual Index applied_index() const = 0;

  // The whole state after applied_index(), and back. restore() of a snapshot that does not parse
  // returns an error and leaves the state as it was.
  virtual std::string snapshot() const = 0;
  virtual Status restore(std::string_view data) = 0;
};

}  // namespace synod
