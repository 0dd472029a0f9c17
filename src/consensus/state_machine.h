// StateMachine: what the node applies committed entries to. The node strips its own envelope (see
// node/node.h) and hands the application its command; the result goes back to whoever proposed it.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "base/status.h"
#include "consensus/types.h"

namespace synod {

// A snapshot being encoded a slice at a time, so that a large state machine never holds the node loop
// for the whole encoding: the node writes one slice per turn and applies entries in between. The
// snapshot is of the state when it began, whatever is applied meanwhile. Destroying the writer
// abandons it.
class SnapshotWriter {
 public:
  virtual ~SnapshotWriter() = default;
  // The applied index the snapshot holds: the state machine's when the writer began.
  virtual Index index() const = 0;
  // Encodes about `budget` more bytes; returns whether the snapshot is whole.
  virtual bool write_some(size_t budget) = 0;
  // Hands over the bytes encoded since the last call. Together, in order, the drains of a whole
  // snapshot are byte for byte what snapshot() would have returned when the writer began.
  virtual std::string drain() = 0;
};

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
  // A snapshot of the state now, encoded while apply() goes on. The default encodes it at once.
  virtual std::unique_ptr<SnapshotWriter> begin_snapshot();
};

}  // namespace synod
