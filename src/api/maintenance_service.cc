#include "api/maintenance_service.h"

#include <algorithm>
#include <cstdio>
#include <string>
#include <utility>

#include "api/backup.h"
#include "api/etcd_errors.h"
#include "api/response_header.h"
#include "kv/mvcc_codec.h"
#include "kv/mvcc_errors.h"
#include "kv/mvcc_hash.h"

namespace synod::api {

MaintenanceService::MaintenanceService(Backend& backend, const kv::MvccStore& store, ServiceOptions options)
    : backend_(backend), store_(store), options_(std::move(options)) {}

grpc::ServerUnaryReactor* MaintenanceService::Status(grpc::CallbackServerContext* context,
                                                     const etcdserverpb::StatusRequest* /*request*/,
                                                     etcdserverpb::StatusResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  const kv::MvccStore& store = store_;
  // The store's part, read where the store lives; serializable, as etcd's Status is local.
  auto query = [&store] {
    etcdserverpb::StatusResponse part;
    part.mutable_header()->set_revision(store.revision());
    part.set_dbsize(static_cast<int64_t>(store.approximate_bytes()));
    part.set_dbsizeinuse(static_cast<int64_t>(store.approximate_bytes()));
    part.set_raftappliedindex(store.applied_index());
    // etcd lists the raised alarms as errors, in the text form of its AlarmMember messages.
    for (const etcdserverpb::AlarmMember& alarm : store.alarms().list()) {
      part.add_errors("memberID:" + std::to_string(alarm.memberid()) +
                      " alarm:" + etcdserverpb::AlarmType_Name(alarm.alarm()) + " ");
    }
    return part.SerializeAsString();
  };
  backend_.read(std::move(query), false, [this, reactor, response](Result<std::string> result) {
    if (!result.is_ok()) {
      reactor->Finish(to_grpc_status(result.status()));
      return;
    }
    if (!response->ParseFromString(result.value())) {
      reactor->Finish(to_grpc_status(synod::Status(ErrorCode::kCorruption, "bad status answer")));
      return;
    }
    RaftInfo raft = backend_.raft();
    fill_header(*response->mutable_header(), backend_.header());
    response->set_version(options_.version);
    response->set_leader(raft.leader);
    response->set_raftindex(raft.commit_index);
    response->set_raftterm(raft.term);
    response->set_islearner(raft.is_learner);
    reactor->Finish(grpc::Status::OK);
  });
  return reactor;
}

}  // namespace synod::api

namespace synod::api {

namespace {

// Answers a unary call with the header filled in, or with the error.
template <typename Response>
void finish(grpc::ServerUnaryReactor* reactor, Backend& backend, Response* response, int64_t revision,
            const synod::Status& status) {
  if (!status.is_ok()) {
    reactor->Finish(to_grpc_status(status));
    return;
  }
  fill_header(*response->mutable_header(), backend.header());
  response->mutable_header()->set_revision(revision);
  reactor->Finish(grpc::Status::OK);
}

// The store's state as "revision hash" text, computed on the loop thread.
Backend::Query hash_query(const kv::MvccStore& store, int64_t revision) {
  return [&store, revision] {
    Result<uint32_t> hash = kv::hash_kv(store, revision);
    if (!hash.is_ok()) return "E" + hash.status().message();
    return std::to_string(store.revision()) + " " + std::to_string(store.compact_revision()) + " " +
           std::to_string(hash.value());
  };
}

struct HashAnswer {
  synod::Status status;
  int64_t revision = 0;
  int64_t compact_revision = 0;
  uint32_t hash = 0;
};

HashAnswer parse_hash(const Result<std::string>& result) {
  HashAnswer answer;
  if (!result.is_ok()) {
    answer.status = result.status();
    return answer;
  }
  const std::string& text = result.value();
  if (!text.empty() && text[0] == 'E') {
    std::string message = text.substr(1);
    bool compacted = message == kv::kCompactedMessage;
    answer.status = synod::Status(compacted ? ErrorCode::kCompacted : ErrorCode::kInvalidArgument, message);
    return answer;
  }
  unsigned long long revision = 0;
  unsigned long long compact = 0;
  unsigned long hash = 0;
  if (std::sscanf(text.c_str(), "%llu %llu %lu", &revision, &compact, &hash) != 3) {
    answer.status = synod::Status(ErrorCode::kCorruption, "bad hash answer");
    return answer;
  }
  answer.revision = static_cast<int64_t>(revision);
  answer.compact_revision = static_cast<int64_t>(compact);
  answer.hash = static_cast<uint32_t>(hash);
  return answer;
}

// Streams the snapshot in chunks; gRPC calls OnWriteDone after each, on its own threads.
class SnapshotWriter final : public grpc::ServerWriteReactor<etcdserverpb::SnapshotResponse> {
 public:
  static constexpr size_t kChunkBytes = 32 * 1024;  // etcd's chunk size

  SnapshotWriter(Backend& backend, const kv::MvccStore& store) {
    const kv::MvccStore* from = &store;
    backend.read([from] { return encode_backup(from->snapshot()); }, false,
                 [this, info = backend.header()](Result<std::string> result) {
                   if (!result.is_ok()) {
                     Finish(to_grpc_status(result.status()));
                     return;
                   }
                   data_ = std::move(result).value();
                   info_ = info;
                   next();
                 });
  }
  void OnWriteDone(bool ok) override {
    if (!ok) {
      Finish(grpc::Status(grpc::StatusCode::CANCELLED, "the client went away"));
      return;
    }
    next();
  }
  void OnDone() override { delete this; }

 private:
  void next() {
    if (sent_ >= data_.size() && sent_any_) {
      Finish(grpc::Status::OK);
      return;
    }
    size_t length = std::min(kChunkBytes, data_.size() - sent_);
    chunk_.Clear();
    fill_header(*chunk_.mutable_header(), info_);
    chunk_.set_blob(data_.substr(sent_, length));
    sent_ += length;
    sent_any_ = true;
    chunk_.set_remaining_bytes(data_.size() - sent_);
    StartWrite(&chunk_);
  }

  std::string data_;
  HeaderInfo info_;
  size_t sent_ = 0;
  bool sent_any_ = false;
  etcdserverpb::SnapshotResponse chunk_;
};

}  // namespace

grpc::ServerUnaryReactor* MaintenanceService::Alarm(grpc::CallbackServerContext* context,
                                                    const etcdserverpb::AlarmRequest* request,
                                                    etcdserverpb::AlarmResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  // Every action goes through the log, listing too (as in etcd): the answer is the cluster's alarms as
  // of a point in the log, not one member's possibly stale view.
  backend_.propose(kv::encode_command(*request), [this, reactor, response](Result<std::string> result) {
    Result<etcdserverpb::AlarmResponse> decoded =
        result.is_ok() ? kv::decode_result<etcdserverpb::AlarmResponse>(result.value())
                       : Result<etcdserverpb::AlarmResponse>(result.status());
    if (!decoded.is_ok()) {
      reactor->Finish(to_grpc_status(decoded.status()));
      return;
    }
    *response = std::move(decoded).value();
    fill_header(*response->mutable_header(), backend_.header());
    reactor->Finish(grpc::Status::OK);
  });
  return reactor;
}

grpc::ServerUnaryReactor* MaintenanceService::Defragment(grpc::CallbackServerContext* context,
                                                         const etcdserverpb::DefragmentRequest* /*request*/,
                                                         etcdserverpb::DefragmentResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  fill_header(*response->mutable_header(), backend_.header());
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerUnaryReactor* MaintenanceService::Hash(grpc::CallbackServerContext* context,
                                                   const etcdserverpb::HashRequest* /*request*/,
                                                   etcdserverpb::HashResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  backend_.read(hash_query(store_, 0), false, [this, reactor, response](Result<std::string> result) {
    HashAnswer answer = parse_hash(result);
    response->set_hash(answer.hash);
    finish(reactor, backend_, response, answer.revision, answer.status);
  });
  return reactor;
}

grpc::ServerUnaryReactor* MaintenanceService::HashKV(grpc::CallbackServerContext* context,
                                                     const etcdserverpb::HashKVRequest* request,
                                                     etcdserverpb::HashKVResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  backend_.read(hash_query(store_, request->revision()), false,
                [this, reactor, response](Result<std::string> result) {
                  HashAnswer answer = parse_hash(result);
                  response->set_hash(answer.hash);
                  // etcd reports -1 for a store never compacted.
                  response->set_compact_revision(answer.compact_revision == 0 ? -1 : answer.compact_revision);
                  finish(reactor, backend_, response, answer.revision, answer.status);
                });
  return reactor;
}

grpc::ServerWriteReactor<etcdserverpb::SnapshotResponse>* MaintenanceService::Snapshot(
    grpc::CallbackServerContext* /*context*/, const etcdserverpb::SnapshotRequest* /*request*/) {
  return new SnapshotWriter(backend_, store_);
}

grpc::ServerUnaryReactor* MaintenanceService::MoveLeader(grpc::CallbackServerContext* context,
                                                         const etcdserverpb::MoveLeaderRequest* request,
                                                         etcdserverpb::MoveLeaderResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  bool member = false;
  for (const MemberInfo& info : backend_.members()) member = member || info.id == request->targetid();
  if (!member) {
    reactor->Finish(grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "etcdserver: bad leader transferee"));
    return reactor;
  }
  backend_.transfer_leader(request->targetid(), [this, reactor, response](Result<std::string> result) {
    if (!result.is_ok() && result.status().code() == ErrorCode::kTimedOut) {
      reactor->Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE,
                                   "etcdserver: request timed out, leader transfer took too long"));
      return;
    }
    finish(reactor, backend_, response, 0, result.is_ok() ? synod::Status::ok() : result.status());
  });
  return reactor;
}

}  // namespace synod::api
