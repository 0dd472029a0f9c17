// The second part of synod-demo: a real three-member cluster (server/local_cluster.h) in one process,
// over TCP on loopback with its data on disk, serving clients while its leader is killed and brought
// back; every client operation is recorded and the history is checked for linearizability.
#pragma once

#include <iosfwd>
#include <string>

namespace synod::demo {

// Returns true when the history is linearizable and the cluster served the workload. Data goes under
// a fresh directory in `tmp_root`, removed at the end unless `keep`.
bool run_real_cluster(std::ostream& out, const std::string& tmp_root, bool keep);

}  // namespace synod::demo
