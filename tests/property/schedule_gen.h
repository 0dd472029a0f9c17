// RapidCheck generators for schedules (see schedule.h). Weighted so that elections, replication and
// faults all happen within a few hundred actions.
#pragma once

#include <vector>

#include <rapidcheck.h>

#include "schedule.h"

namespace synod::test {

constexpr int kActionKinds = static_cast<int>(Action::Kind::kTransferLeader) + 1;

// Base weights: elections, replication and faults all happen within a few hundred actions.
inline std::vector<int> base_weights() {
  //       tick tick-all deliver deliver-all drop dup propose read partition isolate cut heal crash restart
  //       compact transfer
  return {30, 6, 30, 10, 3, 2, 8, 3, 1, 1, 1, 3, 1, 3, 2, 1};
}

// Picks an action kind by weight; `roll` is uniform in [0, sum of weights).
inline Action::Kind kind_for_roll(const std::vector<int>& weights, int roll) {
  for (int k = 0; k < kActionKinds; ++k) {
    if (roll < weights[static_cast<size_t>(k)]) return static_cast<Action::Kind>(k);
    roll -= weights[static_cast<size_t>(k)];
  }
  return Action::Kind::kTick;
}

inline rc::Gen<Action> action_gen(std::vector<int> weights) {
  int total = 0;
  for (int weight : weights) total += weight;
  return rc::gen::apply(
      [weights](int roll, uint8_t node, uint8_t other, uint16_t position) {
        return Action{kind_for_roll(weights, roll), node, other, position};
      },
      rc::gen::inRange(0, total), rc::gen::arbitrary<uint8_t>(), rc::gen::arbitrary<uint8_t>(),
      rc::gen::arbitrary<uint16_t>());
}

// Half the schedules use the base weights; the other half use swarm testing (Groce et al., ISSTA
// 2012): each schedule scales every fault's weight by its own random factor 0..4, dropping some kinds
// entirely, so rare combinations (many crashes and no drops, say) get explored too. Ticks and
// deliveries always stay, or nothing would happen.
inline rc::Gen<std::vector<Action>> schedule_gen(int min_actions, int max_actions) {
  // RapidCheck scales even gen::inRange by the test size, which starts near 0; fixing the size keeps
  // early schedules from aiming every action at node 1 and the first kind.
  return rc::gen::resize(
      100, rc::gen::mapcat(
               rc::gen::tuple(rc::gen::arbitrary<bool>(),
                              rc::gen::container<std::vector<int>>(kActionKinds, rc::gen::inRange(0, 5)),
                              rc::gen::inRange(min_actions, max_actions + 1)),
               [](const std::tuple<bool, std::vector<int>, int>& choice) {
                 const auto& [swarm, factors, count] = choice;
                 std::vector<int> weights = base_weights();
                 for (int k = 0; swarm && k < kActionKinds; ++k) {
                   auto kind = static_cast<Action::Kind>(k);
                   if (kind == Action::Kind::kTick || kind == Action::Kind::kDeliver) continue;
                   weights[static_cast<size_t>(k)] *= factors[static_cast<size_t>(k)];
                 }
                 return rc::gen::container<std::vector<Action>>(static_cast<size_t>(count),
                                                                action_gen(weights));
               }));
}

// The core configuration random schedules run with: short timeouts so a few hundred actions see many
// elections; small messages and windows to exercise batching, flow control and probing.
inline raft::Config schedule_config() {
  raft::Config config;
  config.election_tick = 4;
  config.heartbeat_tick = 1;
  config.max_bytes_per_message = 64;
  config.max_inflight_messages = 4;
  return config;
}

// How a batch of random schedules is run (see check_random_schedules).
struct ScheduleCheck {
  ScheduleOptions options;  // nodes, config, clocks; the cluster seed is drawn per schedule
  int cases = 1000;
  uint64_t seed = 1;                   // RapidCheck's seed: the same seed runs the same schedules
  bool vary_election_options = false;  // draw pre_vote and check_quorum per schedule
  bool safety_only = false;            // ignore liveness (for hunting injected bugs)
  bool shrink = true;                  // shrink a failing schedule to a minimal one
};

// Runs `check.cases` random schedules of 100-400 actions; fails on the first unsafe (or, unless
// safety_only, not live) one.
inline rc::detail::TestResult check_random_schedules(const ScheduleCheck& check) {
  rc::detail::TestParams params;
  params.seed = check.seed;
  params.maxSuccess = check.cases;
  params.disableShrinking = !check.shrink;
  rc::detail::TestMetadata metadata;
  metadata.id = "raft-" + std::to_string(check.options.nodes) + "-nodes";
  auto property = [check](bool pre_vote, bool check_quorum) {
    ScheduleOptions options = check.options;
    options.seed = *rc::gen::resize(100, rc::gen::arbitrary<uint64_t>());
    if (check.vary_election_options) {
      options.config.pre_vote = pre_vote;
      options.config.check_quorum = check_quorum;
    }
    // A core that never settles is not what a safety hunt is after.
    if (check.safety_only) options.check_liveness = false;
    std::vector<Action> actions = *schedule_gen(100, 400);
    ScheduleOutcome outcome = run_schedule(actions, options);
    RC_CLASSIFY(outcome.leaders_seen == 0, "no leader during the faults");
    RC_CLASSIFY(outcome.leaders_seen >= 3, "3+ leaders during the faults");
    RC_CLASSIFY(outcome.entries_committed >= 10, "10+ entries committed");
    RC_CLASSIFY(outcome.reads_served >= 3, "3+ reads served");
    if (!outcome.safe || (!check.safety_only && !outcome.live)) RC_FAIL(outcome.violation);
  };
  return rc::detail::checkTestable(property, metadata, params);
}

}  // namespace synod::test

namespace rc {
template <>
struct Arbitrary<synod::test::Action> {
  static Gen<synod::test::Action> arbitrary() { return synod::test::action_gen(synod::test::base_weights()); }
};
}  // namespace rc

inline void showValue(const synod::test::Action& action, std::ostream& os) {
  os << synod::test::describe(action);
}
