// Random schedules for property tests: a list of actions (ticks, deliveries, drops, duplicates,
// partitions, crashes, restarts, proposals, reads, snapshots, leader transfers) run against an
// in-memory cluster with the invariant checker attached, then a liveness phase: heal everything and
// require the cluster to converge and commit a new entry.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "raft/config.h"

namespace synod::test {

struct Action {
  enum class Kind : uint8_t {
    kTick,
    kTickAll,
    kDeliver,
    kDeliverAll,
    kDrop,
    kDuplicate,
    kPropose,
    kReadIndex,
    kPartition,
    kIsolate,
    kCutOneWay,
    kHeal,
    kCrash,
    kRestart,
    kCompact,
    kTransferLeader,
  };
  Kind kind = Kind::kTick;
  uint8_t node = 0;       // taken modulo the cluster size
  uint8_t other = 0;      // second node, partition mask, or key
  uint16_t position = 0;  // which in-flight message, modulo how many there are
};

const char* action_kind_name(Action::Kind kind);
std::string describe(const Action& action);

struct ScheduleOptions {
  size_t nodes = 3;
  raft::Config config;  // id, voters and seed are filled in per node
  uint64_t seed = 1;
  bool check_liveness = true;
  // Every tick advances every node's clock together: the equal-rate clocks that lease reads assume.
  bool lockstep_clocks = false;
};

struct ScheduleOutcome {
  bool safe = true;
  std::string violation;  // "SAFETY: ..." or "LIVENESS: ..." when something failed
  bool live = true;
  uint64_t leaders_seen = 0;
  uint64_t entries_committed = 0;
  uint64_t reads_served = 0;
};

ScheduleOutcome run_schedule(const std::vector<Action>& actions, const ScheduleOptions& options);

}  // namespace synod::test
