#include "client/lease_keeper.h"

#include <algorithm>
#include <cstdio>

namespace synod::client {

using namespace std::chrono_literals;

std::string lease_hex(int64_t lease) {
  char text[32];
  std::snprintf(text, sizeof(text), "%llx", static_cast<unsigned long long>(lease));
  return text;
}

LeaseKeeper::LeaseKeeper(EtcdConnection& connection, int64_t lease, std::chrono::seconds ttl,
                         Clock::time_point granted_at)
    : connection_(connection),
      lease_(lease),
      ttl_(ttl),
      interval_(std::max<std::chrono::milliseconds>(
          std::chrono::duration_cast<std::chrono::milliseconds>(ttl) / 3, 100ms)),
      valid_until_(granted_at + ttl) {
  thread_ = std::thread([this, granted_at] { run(granted_at); });
}

LeaseKeeper::~LeaseKeeper() {
  stop();
}

void LeaseKeeper::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  stopped_.cancel("stopping");
  if (thread_.joinable()) thread_.join();
}

bool LeaseKeeper::valid() const {
  std::lock_guard lock(mutex_);
  return !lost_.cancelled() && Clock::now() < valid_until_;
}

Clock::time_point LeaseKeeper::valid_until() const {
  std::lock_guard lock(mutex_);
  return valid_until_;
}

void LeaseKeeper::pause_renewals() {
  std::lock_guard lock(mutex_);
  paused_ = true;
}

void LeaseKeeper::lose(const std::string& why) {
  lost_.cancel("lease " + lease_hex(lease_) + " is lost: " + why);
}

void LeaseKeeper::run(Clock::time_point granted_at) {
  std::unique_lock lock(mutex_);
  Clock::time_point next = granted_at + interval_;
  while (!stopping_) {
    wake_.wait_until(lock, std::min(next, valid_until_));
    if (stopping_) return;
    Clock::time_point now = Clock::now();
    if (now >= valid_until_) {
      lock.unlock();
      lose("no renewal was acknowledged within its TTL of " + std::to_string(ttl_.count()) + " s");
      return;
    }
    if (now < next) continue;
    if (paused_) {
      next = now + interval_;
      continue;
    }
    Deadline give_up = std::min(valid_until_, now + interval_);
    lock.unlock();
    Result<int64_t> renewed = connection_.keep_alive(lease_, give_up, &stopped_);
    lock.lock();
    if (renewed.is_ok() && renewed.value() > 0) {
      valid_until_ = std::max(valid_until_, now + std::chrono::seconds(renewed.value()));
      next = now + interval_;
    } else if (renewed.is_ok()) {
      lock.unlock();
      lose("the cluster says it no longer exists (it expired or was revoked)");
      return;
    } else {
      // Soon again, at whichever member the connection moved on to.
      next = Clock::now() + 100ms;
    }
  }
}

}  // namespace synod::client
