// QueueCall: the gRPC side of a Lock or Campaign call. It runs a QueueEntry (api/recipe_queue.h) and
// finishes the call with the hold (`fill` writes the response) or the error. A client that cancels, or
// a server that stops, abandons the entry, which deletes its key: a waiter that is gone never takes
// the lock. Callback API only: no thread waits while the call does.
//
// Lifetime: gRPC holds the call (self_) from its start until OnDone; the entry's completion holds it
// weakly.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <utility>

#include <grpcpp/grpcpp.h>

#include "api/backend.h"
#include "api/recipe_calls.h"
#include "api/recipe_errors.h"
#include "api/recipe_queue.h"
#include "api/response_header.h"
#include "kv/mvcc_store.h"

namespace synod::api::recipe {

template <typename Response>
class QueueCall final : public grpc::ServerUnaryReactor,
                        public Closable,
                        public std::enable_shared_from_this<QueueCall<Response>> {
 public:
  // Writes the hold into the response (the header's member fields are filled in already).
  using Fill = std::function<void(const Held&, Response&)>;

  static grpc::ServerUnaryReactor* start(Backend& backend, const kv::MvccStore& store, OpenCalls& open,
                                         Contender contender, Response* response, Fill fill) {
    auto call = std::make_shared<QueueCall>(backend, response, std::move(fill));
    call->self_ = call;
    open.add(call);
    std::weak_ptr<QueueCall> weak = call;
    std::shared_ptr<QueueEntry> entry =
        QueueEntry::start(backend, store, std::move(contender), [weak](Result<Held> result) {
          if (std::shared_ptr<QueueCall> self = weak.lock()) self->done(std::move(result));
        });
    std::lock_guard lock(call->mutex_);
    call->entry_ = std::move(entry);
    return call.get();
  }

  QueueCall(Backend& backend, Response* response, Fill fill)
      : backend_(backend), response_(response), fill_(std::move(fill)) {}

  void OnCancel() override { give_up(grpc::Status(grpc::StatusCode::CANCELLED, "context canceled")); }
  void close() override {
    give_up(grpc::Status(grpc::StatusCode::UNAVAILABLE, "etcdserver: server stopped"));
  }
  void OnDone() override {
    std::shared_ptr<QueueCall> self;
    {
      std::lock_guard lock(mutex_);
      self = std::move(self_);
      entry_.reset();
    }
    // `self` may be the last reference: the call goes when this returns.
  }

 private:
  void done(Result<Held> result) {
    std::lock_guard lock(mutex_);
    if (finished_) return;
    finished_ = true;
    if (!result.is_ok()) {
      Finish(to_grpc(result.status()));
      return;
    }
    fill_header(*response_->mutable_header(), backend_.header());
    fill_(result.value(), *response_);
    Finish(grpc::Status::OK);
  }

  // The client or the server gave up. If the entry already completed, done() finishes the call.
  void give_up(const grpc::Status& status) {
    std::shared_ptr<QueueEntry> entry;
    {
      std::lock_guard lock(mutex_);
      if (finished_) return;
      entry = entry_;
    }
    if (entry && !entry->abandon()) return;
    std::lock_guard lock(mutex_);
    if (finished_) return;
    finished_ = true;
    Finish(status);
  }

  Backend& backend_;
  Response* response_;  // gRPC's, valid until OnDone
  const Fill fill_;
  std::mutex mutex_;
  std::shared_ptr<QueueEntry> entry_;
  bool finished_ = false;
  std::shared_ptr<QueueCall> self_;
};

}  // namespace synod::api::recipe
