// WalWriter: group commit for the write-ahead log. Callers on any thread submit batches; one writer
// thread takes everything queued since its last write, merges it into a single Wal::append (one write,
// one fdatasync) and then tells every caller the outcome and how far the log is durable. A lone
// caller pays one fsync; many concurrent callers share each fsync, so throughput grows with load
// until the disk's bandwidth is the limit.
//
// While a WalWriter runs, only its thread touches the Wal. A failed write or sync fails every batch
// in that group and every later one (the Wal refuses everything after a failure).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <future>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "base/status.h"
#include "consensus/types.h"
#include "storage/wal.h"

namespace synod::storage {

class WalWriter {
 public:
  explicit WalWriter(Wal& wal);
  ~WalWriter();  // writes what is queued, then stops
  WalWriter(const WalWriter&) = delete;
  WalWriter& operator=(const WalWriter&) = delete;

  // Queues a batch (entries continuing or overwriting the log, and/or a hard state). The future gives
  // the index through which the log is durable once the batch is, or the error that stopped the log.
  std::future<Result<Index>> submit(std::vector<Entry> entries, std::optional<HardState> hard_state);

  uint64_t submissions() const;
  uint64_t groups_written() const;  // fsyncs: submissions / groups is the batching factor

 private:
  struct Pending {
    std::vector<Entry> entries;
    std::optional<HardState> hard_state;
    std::promise<Result<Index>> done;
  };

  void run();
  void write_group(std::vector<Pending>& group);

  Wal& wal_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Pending> queue_;
  bool stopping_ = false;
  uint64_t submissions_ = 0;
  uint64_t groups_ = 0;
  std::thread thread_;  // last: starts after everything above is ready
};

}  // namespace synod::storage
