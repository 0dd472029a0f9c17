#include "storage/wal_writer.h"

namespace synod::storage {

WalWriter::WalWriter(Wal& wal) : wal_(wal), thread_([this] { run(); }) {}

WalWriter::~WalWriter() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

std::future<Result<Index>> WalWriter::submit(std::vector<Entry> entries,
                                             std::optional<HardState> hard_state) {
  Pending pending{std::move(entries), hard_state, {}};
  std::future<Result<Index>> future = pending.done.get_future();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    queue_.push_back(std::move(pending));
    ++submissions_;
  }
  wake_.notify_one();
  return future;
}

uint64_t WalWriter::submissions() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return submissions_;
}

uint64_t WalWriter::groups_written() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return groups_;
}

void WalWriter::run() {
  while (true) {
    std::vector<Pending> group;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and nothing left to write
      while (!queue_.empty()) {
        group.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      ++groups_;
    }
    write_group(group);
  }
}

void WalWriter::write_group(std::vector<Pending>& group) {
  // Merge in order: a later batch's entries replace an earlier one's from its first index on, exactly
  // as two appends would; the last hard state wins.
  std::vector<Entry> entries;
  std::optional<HardState> hard_state;
  for (Pending& pending : group) {
    if (!pending.entries.empty()) {
      Index first = pending.entries.front().index;
      while (!entries.empty() && entries.back().index >= first) entries.pop_back();
      if (!entries.empty() && entries.back().index + 1 != first) {
        // Not contiguous (the caller skipped ahead): write what we have first; the Wal will judge.
        Status status = wal_.append(entries, hard_state);
        if (!status.is_ok()) break;
        entries.clear();
        hard_state.reset();
      }
      for (Entry& entry : pending.entries) entries.push_back(std::move(entry));
    }
    if (pending.hard_state) hard_state = pending.hard_state;
  }
  Status status = wal_.failure().is_ok() ? wal_.append(entries, hard_state) : wal_.failure();
  for (Pending& pending : group) {
    if (status.is_ok()) {
      pending.done.set_value(wal_.last_index());
    } else {
      pending.done.set_value(status);
    }
  }
}

}  // namespace synod::storage
