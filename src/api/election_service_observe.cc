#include "api/election_service_observe.h"

#include <utility>

#include "api/recipe_errors.h"
#include "api/recipe_keys.h"
#include "api/response_header.h"

namespace synod::api {

ObserveStream* ObserveStream::start(Backend& backend, const kv::MvccStore& store, recipe::OpenCalls& open,
                                    std::string name) {
  auto stream = std::make_shared<ObserveStream>(backend, store, std::move(name));
  stream->self_ = stream;
  open.add(stream);
  stream->look(/*linearizable=*/true);
  return stream.get();
}

ObserveStream::ObserveStream(Backend& backend, const kv::MvccStore& store, std::string name)
    : backend_(backend), store_(store), prefix_(recipe::queue_prefix(name)) {}

void ObserveStream::look(bool linearizable) {
  std::shared_ptr<ObserveStream> self = shared_from_this();
  backend_.read(
      [self] {
        self->probe();
        return std::string();
      },
      linearizable,
      [self](Result<std::string> result) {
        std::lock_guard lock(self->mutex_);
        if (!result.is_ok()) return self->finish(recipe::to_grpc(result.status()));
        self->send_more();
      });
}

void ObserveStream::probe() {
  std::lock_guard lock(mutex_);
  if (finished_) return;
  Result<etcdserverpb::RangeResponse> leader = store_.range(recipe::first_created(prefix_));
  if (!leader.is_ok()) return finish(recipe::to_grpc(leader.status()));
  kv::WatchSpec spec;
  if (leader.value().kvs_size() > 0) {
    const mvccpb::KeyValue& kv = leader.value().kvs(0);
    queue(store_.revision(), kv);
    spec.range = kv::KeyRange::of(kv.key(), "");
    watching_leader_ = true;
  } else {
    spec.range = kv::KeyRange::of(prefix_, recipe::prefix_end(prefix_));
    spec.no_delete = true;
    watching_leader_ = false;
  }
  uint64_t generation = ++generation_;
  std::weak_ptr<ObserveStream> weak = weak_from_this();
  // From the next write: this runs on the loop thread, so nothing is applied before the watcher exists.
  watcher_ = backend_.watch_hub()
                 .add(std::move(spec),
                      [weak, generation] {
                        if (std::shared_ptr<ObserveStream> self = weak.lock()) self->on_wake(generation);
                      })
                 .watcher;
}

void ObserveStream::on_wake(uint64_t generation) {
  kv::WatchHub::WatcherPtr watcher;
  {
    std::lock_guard lock(mutex_);
    if (finished_ || generation != generation_ || !watcher_) return;
    watcher = watcher_;
  }
  kv::WatchDelivery delivery = backend_.watch_hub().take(*watcher);
  bool again = delivery.needs_catch_up || delivery.canceled;
  {
    std::lock_guard lock(mutex_);
    if (finished_ || generation != generation_) return;
    for (const kv::EventBatch& batch : delivery.batches) {
      for (const mvccpb::Event& event : batch.events) {
        if (again) break;
        // On the prefix, any put may be the first campaigner; on the leader's key a delete ends its term.
        if (!watching_leader_ || event.type() == mvccpb::Event::DELETE) {
          again = true;
        } else {
          queue(event.kv().mod_revision(), event.kv());
        }
      }
    }
    if (again) {
      ++generation_;
      watcher_.reset();
    }
    send_more();
  }
  if (!again) return;
  backend_.watch_hub().remove(watcher);
  look(/*linearizable=*/false);  // this member already applied the change
}

void ObserveStream::queue(int64_t revision, const mvccpb::KeyValue& kv) {
  if (kv.key() == last_key_ && kv.mod_revision() == last_mod_revision_) return;
  last_key_ = kv.key();
  last_mod_revision_ = kv.mod_revision();
  v3electionpb::LeaderResponse response;
  fill_header(*response.mutable_header(), backend_.header());
  response.mutable_header()->set_revision(revision);
  *response.mutable_kv() = kv;
  queue_.push_back(std::move(response));
  // Drop the oldest values not being written; the newest always stays.
  size_t first_droppable = writing_ ? 1 : 0;
  while (queue_.size() > kMaxQueued + first_droppable) queue_.erase(queue_.begin() + first_droppable);
}

void ObserveStream::send_more() {
  if (finished_ || writing_ || queue_.empty()) return;
  writing_ = true;
  StartWrite(&queue_.front());
}

void ObserveStream::OnWriteDone(bool ok) {
  std::lock_guard lock(mutex_);
  writing_ = false;
  if (!queue_.empty()) queue_.pop_front();
  if (!ok) return finish(grpc::Status(grpc::StatusCode::CANCELLED, "the observe stream was closed"));
  send_more();
}

void ObserveStream::OnCancel() {
  std::lock_guard lock(mutex_);
  finish(grpc::Status(grpc::StatusCode::CANCELLED, "context canceled"));
}

void ObserveStream::close() {
  std::lock_guard lock(mutex_);
  finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "etcdserver: server stopped"));
}

void ObserveStream::OnDone() {
  std::shared_ptr<ObserveStream> self;
  {
    std::lock_guard lock(mutex_);
    finish(grpc::Status::OK);  // already finished: only makes sure the watcher is gone
    self = std::move(self_);
  }
  // `self` may be the last reference: the stream goes when this returns.
}

void ObserveStream::finish(const grpc::Status& status) {
  if (watcher_) {
    backend_.watch_hub().remove(watcher_);
    watcher_.reset();
  }
  ++generation_;
  if (finished_) return;
  finished_ = true;
  Finish(status);
}

}  // namespace synod::api
