#include "sim/cluster_view.h"

namespace synod::sim {

std::optional<NodeId> current_leader(const ClusterView& cluster) {
  Term highest = 0;
  std::optional<NodeId> leader;
  for (NodeId id : cluster.ids()) {
    if (!cluster.is_up(id)) continue;
    EngineStatus status = cluster.engine(id).status();
    if (status.term > highest) {
      highest = status.term;
      leader.reset();
    }
    if (status.term == highest && status.role == Role::kLeader) leader = id;
  }
  return leader;
}

}  // namespace synod::sim
