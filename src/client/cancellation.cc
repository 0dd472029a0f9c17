#include "client/cancellation.h"

namespace synod::client {

void Cancellation::cancel(const std::string& reason) {
  std::lock_guard lock(mutex_);
  if (cancelled_.exchange(true)) return;
  reason_ = reason;
  // Under the lock: a Registration cannot go (and its context with it) while its callback runs.
  for (auto& [id, callback] : callbacks_) callback(reason_);
}

std::string Cancellation::reason() const {
  std::lock_guard lock(mutex_);
  return reason_;
}

Cancellation::Registration::Registration(Cancellation* owner, Callback on_cancel) : owner_(owner) {
  if (owner_ == nullptr) return;
  std::lock_guard lock(owner_->mutex_);
  if (owner_->cancelled_) {
    on_cancel(owner_->reason_);
    owner_ = nullptr;
    return;
  }
  id_ = owner_->next_id_++;
  owner_->callbacks_.emplace(id_, std::move(on_cancel));
}

Cancellation::Registration::Registration(Cancellation* owner, grpc::ClientContext* context)
    : Registration(owner, [context](const std::string&) { context->TryCancel(); }) {}

Cancellation::Registration::~Registration() {
  if (owner_ == nullptr) return;
  std::lock_guard lock(owner_->mutex_);
  owner_->callbacks_.erase(id_);
}

}  // namespace synod::client
