// Clients of a ProcessCluster over the etcd v3 gRPC API, and the history they record.
//
// EtcdChannels holds one gRPC channel per member (shared by every thread; channels are thread-safe),
// set to redial quickly so that a restarted member is reachable again within a fraction of a second.
// A RecordingClient runs get/put/delete/cas against a chosen member with a per-call deadline and records
// each call in a HistoryRecorder (docs/history-format.md), with call and return times in microseconds of
// one steady clock.
//
// What counts as "fail" (the operation definitely took no effect): only answers that the server gives
// before proposing anything or after the proposal's log slot went to another entry, and requests the
// server refused as malformed. Timeouts, UNAVAILABLE after sending, a lost connection, or any answer not
// known to be definite are "unknown": the write may still be applied, once. Reads take no effect, so a
// read that did not succeed is simply "fail".
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "api/proto/rpc.grpc.pb.h"
#include "check/history.h"
#include "process/process_cluster.h"

namespace synod::process_test {

class EtcdChannels {
 public:
  explicit EtcdChannels(const ProcessCluster& cluster);
  etcdserverpb::KV::Stub& kv(int id);
  etcdserverpb::Maintenance::Stub& maintenance(int id);

 private:
  struct Member {
    std::shared_ptr<grpc::Channel> channel;
    std::unique_ptr<etcdserverpb::KV::Stub> kv;
    std::unique_ptr<etcdserverpb::Maintenance::Stub> maintenance;
  };
  std::vector<Member> members_;
};

// Whether a failed write is certain to have had no effect (see the top of this file).
bool definitely_not_applied(const grpc::Status& status);

class HistoryRecorder {
 public:
  HistoryRecorder() : start_(Clock::now()) {}
  int64_t now_us() const;
  void record(check::Operation operation);
  check::History history() const;
  size_t size() const;
  // Errors the clients were given, counted by what they were recorded as and the gRPC status.
  void count_error(const std::string& description);
  std::map<std::string, size_t> errors() const;

  // Writes the history to `path` and runs synod-check on it; returns whether it exited 0 (linearizable),
  // with its output in `report`.
  bool check(const std::string& path, std::string& report) const;

 private:
  Clock::time_point start_;
  mutable std::mutex mutex_;
  check::History history_;
  std::map<std::string, size_t> errors_;
};

struct OpResult {
  check::OpStatus status = check::OpStatus::kFail;
  grpc::StatusCode code = grpc::StatusCode::OK;
  std::string message;  // the gRPC status message when not ok
  int64_t call_us = 0;
  int64_t return_us = 0;
  std::optional<std::string> value;  // get: what was read (nullopt: absent)
  bool succeeded = false;            // cas: whether it wrote
  int64_t revision = 0;              // the response header's revision, when ok

  bool ok() const { return status == check::OpStatus::kOk; }
  std::string describe() const;  // "ok", "unknown (DEADLINE_EXCEEDED: ...)", ...
};

class RecordingClient {
 public:
  RecordingClient(EtcdChannels& channels, HistoryRecorder& history, int64_t id,
                  std::chrono::milliseconds deadline = std::chrono::seconds(3))
      : channels_(channels), history_(history), id_(id), deadline_(deadline) {}

  void set_deadline(std::chrono::milliseconds deadline) { deadline_ = deadline; }

  OpResult put(int member, const std::string& key, const std::string& value);
  // A linearizable get (etcd's default Range).
  OpResult get(int member, const std::string& key);
  // etcd Txn: if value(key) == expect then put(key, value). An absent key fails the compare (etcd
  // compares an absent key's value as never equal).
  OpResult cas(int member, const std::string& key, const std::string& expect, const std::string& value);
  OpResult del(int member, const std::string& key);

 private:
  std::unique_ptr<grpc::ClientContext> context() const;
  void finish(check::Operation& op, OpResult& result, const grpc::Status& status, bool is_write);

  EtcdChannels& channels_;
  HistoryRecorder& history_;
  int64_t id_;
  std::chrono::milliseconds deadline_;
};

// An unrecorded Range of [key, range_end) at one member (serializable or not), e.g. to compare members
// or collect everything written. nullopt (and `error` set) if it failed.
std::optional<std::map<std::string, mvccpb::KeyValue>> range_all(
    EtcdChannels& channels, int member, const std::string& key, const std::string& range_end,
    bool serializable, std::chrono::milliseconds deadline, std::string* error = nullptr);

// Retries range_all until it succeeds or `timeout` passes, trying every serving member in turn.
std::optional<std::map<std::string, mvccpb::KeyValue>> range_all_retrying(
    EtcdChannels& channels, ProcessCluster& cluster, const std::string& key, const std::string& range_end,
    Clock::duration timeout, std::string* error = nullptr);

// An unrecorded Put at one member (with `lease`, 0 for none), for tests that check what the server
// answers rather than a history. `response`, if given, gets the answer.
grpc::Status put_once(EtcdChannels& channels, int member, const std::string& key, const std::string& value,
                      std::chrono::milliseconds deadline, int64_t lease = 0,
                      etcdserverpb::PutResponse* response = nullptr);

// etcd's Maintenance.Status at one member.
std::optional<etcdserverpb::StatusResponse> member_status(EtcdChannels& channels, int member,
                                                          std::chrono::milliseconds deadline);

// Median of durations (the upper one of the two middle values for an even count).
Clock::duration median(std::vector<Clock::duration> values);

}  // namespace synod::process_test
