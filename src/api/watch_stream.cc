#include "api/watch_stream.h"

#include <algorithm>
#include <optional>
#include <string>

#include "api/etcd_errors.h"
#include "api/response_header.h"
#include "api/watch_responses.h"

namespace synod::api {
namespace {

// etcd's texts for a create request it refuses.
constexpr std::string_view kEmptyRangeReason = "mvcc: watcher range is empty";
constexpr std::string_view kDuplicateIdReason = "mvcc: duplicate watch ID provided on the WatchStream";

}  // namespace

WatchStream* WatchStream::start(const Deps& deps, grpc::CallbackServerContext* context) {
  auto stream = std::make_shared<WatchStream>(deps, context);
  stream->self_ = stream;
  deps.pump.add(stream);
  std::lock_guard lock(stream->mutex_);
  stream->StartRead(&stream->request_);
  return stream.get();
}

void WatchStream::OnReadDone(bool ok) {
  CatchUps catch_ups;
  {
    std::lock_guard lock(mutex_);
    if (ok) {
      handle(request_);
    } else {
      client_done_ = true;
    }
    send_more(catch_ups);
    if (ok && !finished_) StartRead(&request_);
  }
  start_catch_ups(catch_ups);
}

void WatchStream::OnWriteDone(bool ok) {
  CatchUps catch_ups;
  {
    std::lock_guard lock(mutex_);
    writing_ = false;
    if (!queue_.empty()) queue_.pop_front();
    if (!ok) {
      // The call is broken (the client went away): nothing more can be sent.
      finish(grpc::Status(grpc::StatusCode::CANCELLED, "the watch stream was closed"));
    } else {
      send_more(catch_ups);
    }
  }
  start_catch_ups(catch_ups);
}

void WatchStream::OnCancel() {
  std::lock_guard lock(mutex_);
  finish(grpc::Status(grpc::StatusCode::CANCELLED, "the watch stream was canceled"));
}

void WatchStream::check(std::chrono::steady_clock::time_point now) {
  std::lock_guard lock(mutex_);
  if (finished_ || stalled_ || !writing_ || deps_.stall_timeout.count() == 0) return;
  if (now - write_started_ < deps_.stall_timeout) return;
  stalled_ = true;
  // Its watchers go now; the write in progress fails and OnCancel finishes the call. The client sees
  // CANCELLED, if it ever reads again: no status could get past the response it does not take.
  for (auto& [id, watch] : watches_) deps_.hub.remove(watch.watcher);
  watches_.clear();
  context_->TryCancel();
}

void WatchStream::OnDone() {
  std::shared_ptr<WatchStream> self;
  {
    std::lock_guard lock(mutex_);
    finish(grpc::Status::OK);  // already finished: only makes sure every watcher is gone
    self = std::move(self_);
  }
  // `self` may be the last reference: the stream goes when this returns.
}

void WatchStream::pump() {
  CatchUps catch_ups;
  {
    std::lock_guard lock(mutex_);
    scheduled_ = false;
    send_more(catch_ups);
  }
  start_catch_ups(catch_ups);
}

void WatchStream::progress_tick() {
  CatchUps catch_ups;
  {
    std::lock_guard lock(mutex_);
    bool due = false;
    for (auto& [id, watch] : watches_) {
      if (!watch.progress_notify) continue;
      if (watch.quiet) {
        watch.progress_due = true;
        due = true;
      }
      watch.quiet = true;
    }
    if (!due) return;
    send_more(catch_ups);
  }
  start_catch_ups(catch_ups);
}

void WatchStream::close() {
  std::lock_guard lock(mutex_);
  finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "etcdserver: server stopped"));
}

void WatchStream::wake() {
  {
    std::lock_guard lock(mutex_);
    // A stream that is writing refills itself when the write completes.
    if (finished_ || writing_ || scheduled_) return;
    scheduled_ = true;
  }
  deps_.pump.schedule(weak_from_this());
}

void WatchStream::handle(const etcdserverpb::WatchRequest& request) {
  switch (request.request_union_case()) {
    case etcdserverpb::WatchRequest::kCreateRequest: create(request.create_request()); break;
    case etcdserverpb::WatchRequest::kCancelRequest: cancel(request.cancel_request().watch_id()); break;
    case etcdserverpb::WatchRequest::kProgressRequest: progress_requested_ = true; break;
    // An unknown request is ignored, as etcd does, rather than ending the stream.
    case etcdserverpb::WatchRequest::REQUEST_UNION_NOT_SET: break;
  }
}

void WatchStream::create(const etcdserverpb::WatchCreateRequest& request) {
  auto refuse = [&](std::string_view reason) {
    etcdserverpb::WatchResponse out = response(-1, deps_.hub.revision());
    out.set_created(true);
    out.set_canceled(true);
    out.set_cancel_reason(std::string(reason));
    queue_.push_back(std::move(out));
  };
  kv::WatchSpec spec;
  spec.range = kv::KeyRange::of(request.key(), request.range_end());
  spec.start_revision = std::max<int64_t>(request.start_revision(), 0);
  spec.prev_kv = request.prev_kv();
  for (int filter : request.filters()) {
    if (filter == etcdserverpb::WatchCreateRequest::NOPUT) spec.no_put = true;
    if (filter == etcdserverpb::WatchCreateRequest::NODELETE) spec.no_delete = true;
  }
  if (spec.range.kind == kv::KeyRange::Kind::kRange && spec.range.end <= spec.range.begin) {
    return refuse(kEmptyRangeReason);
  }
  int64_t id = request.watch_id();
  if (id != 0 && watches_.contains(id)) return refuse(kDuplicateIdReason);
  if (id == 0) {
    while (watches_.contains(next_id_)) ++next_id_;
    id = next_id_++;
  }
  std::weak_ptr<WatchStream> weak = weak_from_this();
  kv::WatchHub::Added added = deps_.hub.add(std::move(spec), [weak] {
    if (std::shared_ptr<WatchStream> stream = weak.lock()) stream->wake();
  });
  // Queued before the watcher's events can be: they are taken under this same lock, later.
  etcdserverpb::WatchResponse created = response(id, added.revision);
  created.set_created(true);
  queue_.push_back(std::move(created));
  Watch watch;
  watch.watcher = std::move(added.watcher);
  watch.fragment = request.fragment();
  watch.progress_notify = request.progress_notify();
  watches_.emplace(id, std::move(watch));
}

void WatchStream::cancel(int64_t id) {
  auto found = watches_.find(id);
  // etcd answers nothing for a watcher it does not have.
  if (found == watches_.end()) return;
  deps_.hub.remove(found->second.watcher);
  watches_.erase(found);
  etcdserverpb::WatchResponse out = response(id, deps_.hub.revision());
  out.set_canceled(true);
  queue_.push_back(std::move(out));
}

void WatchStream::send_more(CatchUps& catch_ups) {
  if (finished_ || writing_) return;
  if (queue_.empty() && !client_done_) refill(catch_ups);
  if (!queue_.empty()) {
    writing_ = true;
    write_started_ = std::chrono::steady_clock::now();
    StartWrite(&queue_.front());
  } else if (client_done_) {
    finish(grpc::Status::OK);
  }
}

void WatchStream::refill(CatchUps& catch_ups) {
  std::optional<int64_t> reached;  // the revision every watcher has reached
  for (auto it = watches_.begin(); it != watches_.end();) {
    int64_t id = it->first;
    Watch& watch = it->second;
    kv::WatchDelivery delivery = deps_.hub.take(*watch.watcher);
    reached = std::min(reached.value_or(delivery.revision), delivery.revision);
    bool sent = !delivery.batches.empty();
    if (sent) {
      etcdserverpb::WatchResponse header = response(id, delivery.revision);
      for (etcdserverpb::WatchResponse& out : event_responses(
               id, header.header(), std::move(delivery.batches), deps_.max_response_bytes, watch.fragment)) {
        queue_.push_back(std::move(out));
      }
      watch.quiet = false;
    }
    if (delivery.canceled) {
      etcdserverpb::WatchResponse out = response(id, delivery.revision);
      out.set_canceled(true);
      out.set_compact_revision(delivery.compact_revision);
      out.set_cancel_reason(delivery.cancel_reason);
      queue_.push_back(std::move(out));
      deps_.hub.remove(watch.watcher);
      it = watches_.erase(it);
      continue;
    }
    if (watch.progress_due) {
      watch.progress_due = false;
      // etcd notifies synced watchers only; one that just got events needs no notification.
      if (delivery.synced && !sent) queue_.push_back(response(id, delivery.revision));
    }
    // The next window once this one is sent (queued responses go first), one query at a time.
    if (delivery.needs_catch_up && !sent && !watch.catch_up_running) {
      watch.catch_up_running = true;
      catch_ups.emplace_back(id, watch.watcher);
    }
    ++it;
  }
  if (progress_requested_) {
    progress_requested_ = false;
    queue_.push_back(response(-1, reached.value_or(deps_.hub.revision())));
  }
}

void WatchStream::start_catch_ups(const CatchUps& catch_ups) {
  for (const auto& [id, watcher] : catch_ups) {
    kv::WatchHub* hub = &deps_.hub;
    const kv::MvccStore* store = &deps_.store;
    std::weak_ptr<WatchStream> weak = weak_from_this();
    deps_.backend.read(
        [hub, store, watcher] {
          hub->catch_up(*watcher, *store);
          return std::string();
        },
        /*linearizable=*/false,
        [weak, id, watcher](Result<std::string> result) {
          if (std::shared_ptr<WatchStream> stream = weak.lock()) {
            stream->catch_up_done(id, watcher, result.status());
          }
        });
  }
}

void WatchStream::catch_up_done(int64_t id, const kv::WatchHub::WatcherPtr& watcher, const Status& status) {
  {
    std::lock_guard lock(mutex_);
    auto found = watches_.find(id);
    if (found == watches_.end() || found->second.watcher != watcher) return;
    found->second.catch_up_running = false;
    if (!status.is_ok()) {
      // The node could not run the query (it is stopping): the watcher cannot catch up here.
      deps_.hub.remove(watcher);
      watches_.erase(found);
      etcdserverpb::WatchResponse out = response(id, deps_.hub.revision());
      out.set_canceled(true);
      out.set_cancel_reason(to_grpc_status(status).error_message());
      queue_.push_back(std::move(out));
    }
  }
  // On the node loop: the pump does the sending.
  wake();
}

etcdserverpb::WatchResponse WatchStream::response(int64_t watch_id, int64_t revision) const {
  etcdserverpb::WatchResponse out;
  fill_header(*out.mutable_header(), deps_.backend.header());
  out.mutable_header()->set_revision(revision);
  out.set_watch_id(watch_id);
  return out;
}

void WatchStream::finish(const grpc::Status& status) {
  for (auto& [id, watch] : watches_) deps_.hub.remove(watch.watcher);
  watches_.clear();
  if (finished_) return;
  finished_ = true;
  Finish(status);
}

}  // namespace synod::api
