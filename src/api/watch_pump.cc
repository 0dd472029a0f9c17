#include "api/watch_pump.h"

#include <algorithm>
#include <utility>

namespace synod::api {

WatchPump::WatchPump(std::chrono::milliseconds progress_interval, std::chrono::milliseconds check_interval)
    : progress_interval_(progress_interval), check_interval_(check_interval), thread_([this] { run(); }) {}

WatchPump::~WatchPump() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void WatchPump::add(std::weak_ptr<Client> client) {
  std::lock_guard lock(mutex_);
  clients_.push_back(std::move(client));
}

void WatchPump::schedule(std::weak_ptr<Client> client) {
  {
    std::lock_guard lock(mutex_);
    ready_.push_back(std::move(client));
  }
  wake_.notify_one();
}

void WatchPump::close_all() {
  std::vector<std::shared_ptr<Client>> alive;
  {
    std::lock_guard lock(mutex_);
    for (const std::weak_ptr<Client>& client : clients_) {
      if (std::shared_ptr<Client> locked = client.lock()) alive.push_back(std::move(locked));
    }
  }
  for (const std::shared_ptr<Client>& client : alive) client->close();
}

void WatchPump::run() {
  using Clock = std::chrono::steady_clock;
  Clock::time_point next_tick = Clock::now() + progress_interval_;
  Clock::time_point next_check = Clock::now() + check_interval_;
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    wake_.wait_until(lock, std::min(next_tick, next_check), [&] { return stopping_ || !ready_.empty(); });
    if (stopping_) return;
    std::deque<std::weak_ptr<Client>> ready;
    ready.swap(ready_);
    Clock::time_point now = Clock::now();
    bool tick = now >= next_tick;
    bool check = now >= next_check;
    if (tick) next_tick = now + progress_interval_;
    if (check) next_check = now + check_interval_;
    std::vector<std::shared_ptr<Client>> due;
    if (tick || check) {
      std::erase_if(clients_, [](const std::weak_ptr<Client>& client) { return client.expired(); });
      for (const std::weak_ptr<Client>& client : clients_) {
        if (std::shared_ptr<Client> alive = client.lock()) due.push_back(std::move(alive));
      }
    }
    // The clients run without the lock, so they may schedule themselves again.
    lock.unlock();
    for (const std::weak_ptr<Client>& client : ready) {
      if (std::shared_ptr<Client> alive = client.lock()) alive->pump();
    }
    for (const std::shared_ptr<Client>& client : due) {
      if (check) client->check(now);
      if (tick) client->progress_tick();
    }
    ready.clear();
    due.clear();
    lock.lock();
  }
}

}  // namespace synod::api
