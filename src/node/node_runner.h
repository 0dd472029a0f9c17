// NodeRunner: the node loop of a real server. One thread owns a Node (node/node.h) and everything it
// drives; other threads hand it peer messages, proposals and reads through a queue and get futures
// back. Each turn the loop drains everything queued (so inputs are batched), ticks when a tick is due,
// and handles the resulting Ready once.
//
// The deterministic work stays in Node, which the simulator drives directly; this class only adds the
// thread, the queue and the clock. A storage error stops the loop (an fsync is never retried): every
// pending and later request fails with that error, and the process must restart from its disk.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "base/status.h"
#include "node/node.h"

namespace synod::node {

class NodeRunner {
 public:
  // A read runs `query` against the state machine on the loop thread once it may: after a read index
  // was confirmed and applied (linearizable), or at once (serializable: possibly stale).
  using Query = std::function<std::string()>;
  // Called exactly once, on the loop thread (or on the caller's thread if the loop has stopped).
  // Must not block: the whole node waits for it.
  using Done = std::function<void(Result<std::string>)>;
  enum class Consistency { kLinearizable, kSerializable };

  // How long one turn of the loop took, and in what: handing the queued inputs to the node, its tick, and
  // process_ready() (persist, send, apply, snapshot slice).
  struct TurnTiming {
    std::chrono::nanoseconds inputs{0};
    std::chrono::nanoseconds tick{0};
    std::chrono::nanoseconds ready{0};
    size_t inputs_handled = 0;
    std::chrono::nanoseconds total() const { return inputs + tick + ready; }
  };
  // Called on the loop thread after every turn (the time it waited for input is not counted). Must be
  // cheap: a long turn holds heartbeats, and followers call an election after one election timeout.
  using TurnObserver = std::function<void(const TurnTiming&)>;

  NodeRunner(std::unique_ptr<Node> node, std::chrono::milliseconds tick_interval,
             TurnObserver observer = nullptr);
  ~NodeRunner();  // stops the loop; pending requests fail with kUnavailable
  NodeRunner(const NodeRunner&) = delete;
  NodeRunner& operator=(const NodeRunner&) = delete;

  // Thread-safe inputs.
  void deliver(Message message);
  void propose(std::string command, Done done);
  void read(Query query, Consistency consistency, Done done);
  // Hands leadership to `to` (this node must lead). `done` gets ok once `to` leads, kTimedOut if it
  // does not within `timeout_ticks`, or why the transfer could not start (not the leader, not a voter).
  void transfer_leader(NodeId to, uint64_t timeout_ticks, Done done);
  // The same, for callers that wait.
  std::future<Result<std::string>> propose(std::string command);
  std::future<Result<std::string>> read(Query query);
  // The engine's status as of the loop's last turn.
  EngineStatus status() const;
  // Why the loop stopped (ok while it runs).
  Status failure() const;

  // Stops the loop and waits for it. Never call it from a query (it runs on the loop thread).
  void stop();

 private:
  struct ProposeRequest {
    std::string command;
    Done done;
  };
  struct ReadRequest {
    Query query;
    Consistency consistency;
    Done done;
  };
  struct TransferRequest {
    NodeId to = kNoNode;
    uint64_t timeout_ticks = 0;
    Done done;
  };
  using Input = std::variant<Message, ProposeRequest, ReadRequest, TransferRequest>;
  struct PendingTransfer {
    NodeId to = kNoNode;
    uint64_t deadline = 0;  // in ticks of this loop
    Done done;
  };

  // Queues a request, or answers it at once if the loop has stopped.
  template <typename Request>
  void enqueue(Request request);
  void run();
  void handle(Input& input);
  void fail_everything(const Status& status);
  // Answers the transfers whose target now leads or whose time ran out.
  void settle_transfers();

  std::unique_ptr<Node> node_;
  std::chrono::milliseconds tick_interval_;
  TurnObserver observer_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Input> inbox_;
  bool stopping_ = false;
  Status failure_;
  EngineStatus status_;
  // Loop-thread state.
  uint64_t ticks_ = 0;
  std::vector<PendingTransfer> transfers_;
  std::thread thread_;  // last: starts once everything above is ready
};

}  // namespace synod::node
