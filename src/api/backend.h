// Backend: what Synod's etcd services (api/etcd_services.h) need from the server, implemented over
// node::NodeRunner. The services never block a gRPC thread: they hand a request over and finish the
// call from the completion, which runs on the node's loop thread (so it must not block either).
//
// The MVCC store lives on the loop thread too: the services touch it only inside a Query or through
// apply() (a proposal).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"

namespace synod::kv {
class WatchHub;
}

namespace synod::api {

// What every response header carries besides the store's revision.
struct HeaderInfo {
  uint64_t cluster_id = 0;
  uint64_t member_id = 0;
  uint64_t raft_term = 0;
};

// One member, as Cluster.MemberList reports it.
struct MemberInfo {
  uint64_t id = 0;
  std::string name;  // empty while the member has not started
  std::vector<std::string> peer_urls;
  std::vector<std::string> client_urls;
  bool is_learner = false;
};

// This member's view of consensus, for Maintenance.Status.
struct RaftInfo {
  uint64_t leader = 0;  // 0: none known
  uint64_t term = 0;
  uint64_t commit_index = 0;
  uint64_t applied_index = 0;
  bool is_learner = false;
};

class Backend {
 public:
  // Called exactly once, on the node loop thread (or the caller's, if the node has stopped). Must
  // not block.
  using Done = std::function<void(Result<std::string>)>;
  // Runs on the node loop thread against the applied state; returns the encoded answer.
  using Query = std::function<std::string()>;

  virtual ~Backend() = default;

  // Replicates `command`; `done` gets the state machine's result (MvccStore::apply's return) or why
  // there is none (kv errors, kTimedOut, kNoLeader, ...).
  virtual void propose(std::string command, Done done) = 0;
  // Runs `query` once it may: after a read index (linearizable) or at once (serializable).
  virtual void read(Query query, bool linearizable, Done done) = 0;

  // Thread-safe and quick: called from gRPC threads and from completions.
  virtual HeaderInfo header() const = 0;
  virtual std::vector<MemberInfo> members() const = 0;
  virtual RaftInfo raft() const = 0;
  // Where the store's applied writes reach watchers (kv/watch_hub.h); attached to the store before the
  // node applies anything. Lives as long as the Backend.
  virtual kv::WatchHub& watch_hub() = 0;
  // Hands leadership to member `to` (this member must lead); `done` gets ok once `to` leads.
  virtual void transfer_leader(uint64_t to, Done done) = 0;
  // How long lease `id` has left on this member's clock (server/lessor.h); nullopt when this member
  // does not time it (Lease.TimeToLive then reports the granted TTL). Thread-safe.
  virtual std::optional<std::chrono::milliseconds> lease_remaining(int64_t id) const {
    (void)id;
    return std::nullopt;
  }
};

}  // namespace synod::api
