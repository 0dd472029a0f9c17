#include "check/mc_world.h"

namespace synod::check {

void McSpent::spend(const McStep& step) {
  switch (step.kind) {
    case McStep::Kind::kPropose: ++proposals; break;
    case McStep::Kind::kRestart: ++restarts; break;
    case McStep::Kind::kDuplicate: ++duplicates; break;
    case McStep::Kind::kRead: ++reads; break;
    case McStep::Kind::kTick: ++ticks; break;
    default: break;
  }
}

void McSpent::encode(StateEncoder& out) const {
  out.u64(proposals);
  out.u64(restarts);
  out.u64(duplicates);
  out.u64(reads);
  out.u64(ticks);
}

McWorld::McWorld(size_t nodes) {
  for (size_t i = 1; i <= nodes; ++i) ids_.push_back(static_cast<NodeId>(i));
}

bool McWorld::take(const McStep& step, std::string& violation) {
  if (!apply(step, violation)) return false;
  spent_.spend(step);
  return true;
}

std::unique_ptr<McWorld> make_world(const McSetup& setup) {
  return setup.engine == McEngine::kSingleDecree ? make_single_decree_world(setup) : make_engine_world(setup);
}

}  // namespace synod::check
