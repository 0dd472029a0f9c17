// Storage benchmarks with real fsync on this machine's disk (issue 5). Side by side in one run:
//   BM_RawFdatasync   pwrite of one record then fdatasync, in a loop: the floor for a durable append
//   BM_RawODsync      pwrite with O_DSYNC: the same floor measured the other way
//   BM_RawSequential  large writes then one fdatasync: the disk's sequential write bandwidth
//   BM_WalAppend      the WAL through its group-commit writer with N appenders in a closed loop, each
//                     submitting one record and waiting until it is durable
//   BM_WalAppendPipelined  one thread keeping N appends in flight (how the node loop uses it)
// Files go to $SYNOD_BENCH_DIR (default ./synod-bench-storage), which must be on the disk to measure
// (not tmpfs). Each benchmark deletes what it wrote.
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <benchmark/benchmark.h>

#include "storage/posix_file_system.h"
#include "storage/wal.h"
#include "storage/wal_writer.h"

namespace synod::storage {
namespace {

std::string bench_dir(const std::string& name) {
  const char* root = std::getenv("SYNOD_BENCH_DIR");
  std::string dir = std::string(root != nullptr ? root : "synod-bench-storage") + "/" + name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

void raw_loop(benchmark::State& state, bool o_dsync, bool zero_filled = false) {
  auto bytes = static_cast<size_t>(state.range(0));
  std::string dir = bench_dir(o_dsync ? "raw-odsync" : "raw-fdatasync");
  std::string path = dir + "/file";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC | (o_dsync ? O_DSYNC : 0), 0644);
  if (fd < 0 || ::posix_fallocate(fd, 0, 256 << 20) != 0) {
    state.SkipWithError("cannot create the file");
    return;
  }
  if (zero_filled) {
    // Written zeros, not just reserved space: later overwrites need no extent conversion.
    std::string zeros(1 << 20, '\0');
    for (off_t at = 0; at < (256 << 20); at += static_cast<off_t>(zeros.size())) {
      (void)::pwrite(fd, zeros.data(), zeros.size(), at);
    }
  }
  ::fdatasync(fd);
  std::string record(bytes, 'x');
  uint64_t offset = 0;
  for (auto _ : state) {
    if (::pwrite(fd, record.data(), record.size(), static_cast<off_t>(offset)) !=
        static_cast<ssize_t>(bytes)) {
      state.SkipWithError("write failed");
      break;
    }
    if (!o_dsync && ::fdatasync(fd) != 0) {
      state.SkipWithError("fdatasync failed");
      break;
    }
    offset = (offset + bytes) % (255 << 20);
  }
  ::close(fd);
  std::filesystem::remove_all(dir);
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(bytes));
}

void BM_RawFdatasync(benchmark::State& state) {
  raw_loop(state, false);
}
void BM_RawODsync(benchmark::State& state) {
  raw_loop(state, true);
}
void BM_RawFdatasyncZeroFilled(benchmark::State& state) {
  raw_loop(state, false, true);
}
BENCHMARK(BM_RawFdatasync)->ArgName("bytes")->Arg(256)->Arg(4096)->Arg(200 << 10)->UseRealTime();
BENCHMARK(BM_RawFdatasyncZeroFilled)->ArgName("bytes")->Arg(256)->Arg(4096)->Arg(200 << 10)->UseRealTime();
BENCHMARK(BM_RawODsync)->ArgName("bytes")->Arg(256)->Arg(4096)->UseRealTime();

void BM_RawSequential(benchmark::State& state) {
  std::string dir = bench_dir("raw-sequential");
  std::string path = dir + "/file";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  constexpr size_t kChunk = 1 << 20;
  constexpr size_t kChunks = 64;
  std::string chunk(kChunk, 'y');
  for (auto _ : state) {
    for (size_t i = 0; i < kChunks; ++i) {
      if (::pwrite(fd, chunk.data(), kChunk, static_cast<off_t>(i * kChunk)) !=
          static_cast<ssize_t>(kChunk)) {
        state.SkipWithError("write failed");
        break;
      }
    }
    ::fdatasync(fd);
  }
  ::close(fd);
  std::filesystem::remove_all(dir);
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(kChunk * kChunks));
}
BENCHMARK(BM_RawSequential)->UseRealTime()->Unit(benchmark::kMillisecond);

// N appenders in a closed loop through the group-commit writer: each submits one record and waits
// for it to be durable. One benchmark iteration is `kAppendsPerIteration` appends in total.
void BM_WalAppend(benchmark::State& state) {
  auto bytes = static_cast<size_t>(state.range(0));
  auto appenders = static_cast<int>(state.range(1));
  constexpr int kAppendsPerIteration = 512;
  PosixFileSystem fs;
  std::string dir = bench_dir("wal");
  WalOptions options{dir, 1, 1, uint64_t{64} << 20U};
  WalContents contents;
  Result<std::unique_ptr<Wal>> wal = Wal::open(fs, options, contents);
  if (!wal.is_ok()) {
    state.SkipWithError(wal.status().to_string().c_str());
    return;
  }
  uint64_t groups_before = 0;
  uint64_t submissions_before = 0;
  {
    WalWriter writer(*wal.value());
    Index next = 1;
    std::mutex order;
    std::string payload(bytes, 'z');
    std::atomic<bool> failed{false};
    for (auto _ : state) {
      std::atomic<int> left{kAppendsPerIteration};
      auto start = std::chrono::steady_clock::now();
      std::vector<std::thread> threads;
      for (int t = 0; t < appenders; ++t) {
        threads.emplace_back([&] {
          while (left.fetch_sub(1) > 0) {
            std::future<Result<Index>> done;
            {
              std::lock_guard<std::mutex> lock(order);
              done = writer.submit({Entry{1, next, EntryType::kNormal, payload}}, std::nullopt);
              ++next;
            }
            if (!done.get().is_ok()) failed = true;
          }
        });
      }
      for (std::thread& thread : threads) thread.join();
      state.SetIterationTime(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
      if (failed) {
        state.SkipWithError("an append failed");
        break;
      }
    }
    groups_before = writer.groups_written();
    submissions_before = writer.submissions();
  }
  wal.value().reset();
  std::filesystem::remove_all(dir);
  state.SetItemsProcessed(state.iterations() * kAppendsPerIteration);
  state.SetBytesProcessed(state.iterations() * kAppendsPerIteration * static_cast<int64_t>(bytes));
  state.counters["appends_per_fsync"] =
      groups_before == 0 ? 0 : static_cast<double>(submissions_before) / static_cast<double>(groups_before);
}
BENCHMARK(BM_WalAppend)
    ->ArgNames({"bytes", "appenders"})
    ->ArgsProduct({{256, 4096}, {1, 8, 64}})
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

// Times the writes and syncs underneath the log, to see where a group's time goes.
class TimedFileSystem final : public FileSystem {
 public:
  explicit TimedFileSystem(FileSystem& inner) : inner_(inner) {}
  struct Totals {
    std::atomic<uint64_t> write_ns{0};
    std::atomic<uint64_t> sync_ns{0};
    std::atomic<uint64_t> syncs{0};
  };
  Totals totals;

  Result<std::unique_ptr<File>> open(const std::string& path, OpenMode mode) override {
    Result<std::unique_ptr<File>> file = inner_.open(path, mode);
    if (!file.is_ok()) return file;
    return std::unique_ptr<File>(std::make_unique<TimedFile>(std::move(file).value(), totals));
  }
  Status remove(const std::string& path) override { return inner_.remove(path); }
  Status rename(const std::string& from, const std::string& to) override { return inner_.rename(from, to); }
  Result<std::vector<std::string>> list(const std::string& dir) override { return inner_.list(dir); }
  Status make_dirs(const std::string& dir) override { return inner_.make_dirs(dir); }
  Status sync_dir(const std::string& dir) override { return inner_.sync_dir(dir); }
  bool exists(const std::string& path) override { return inner_.exists(path); }

 private:
  class TimedFile final : public File {
   public:
    TimedFile(std::unique_ptr<File> inner, Totals& totals) : inner_(std::move(inner)), totals_(totals) {}
    Status write_at(uint64_t offset, std::string_view data) override {
      auto start = std::chrono::steady_clock::now();
      Status status = inner_->write_at(offset, data);
      totals_.write_ns += elapsed(start);
      return status;
    }
    Result<std::string> read_at(uint64_t offset, size_t length) override {
      return inner_->read_at(offset, length);
    }
    Status sync() override {
      auto start = std::chrono::steady_clock::now();
      Status status = inner_->sync();
      totals_.sync_ns += elapsed(start);
      ++totals_.syncs;
      return status;
    }
    Status truncate(uint64_t size) override { return inner_->truncate(size); }
    Status preallocate(uint64_t size) override { return inner_->preallocate(size); }
    Result<uint64_t> size() override { return inner_->size(); }

   private:
    static uint64_t elapsed(std::chrono::steady_clock::time_point start) {
      return static_cast<uint64_t>(
          std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start)
              .count());
    }
    std::unique_ptr<File> inner_;
    Totals& totals_;
  };
  FileSystem& inner_;
};

// One thread keeps N appends in flight (submit, and when the oldest is durable submit another), as
// the server's node loop does: the same group commit without a thread per appender.
void BM_WalAppendPipelined(benchmark::State& state) {
  auto bytes = static_cast<size_t>(state.range(0));
  auto in_flight = static_cast<size_t>(state.range(1));
  constexpr int kAppendsPerIteration = 2048;
  PosixFileSystem posix;
  TimedFileSystem fs(posix);
  std::string dir = bench_dir("wal-pipelined");
  WalOptions options{dir, 1, 1, uint64_t{64} << 20U};
  options.zero_fill = std::getenv("SYNOD_BENCH_NO_ZERO_FILL") == nullptr;
  WalContents contents;
  Result<std::unique_ptr<Wal>> wal = Wal::open(fs, options, contents);
  if (!wal.is_ok()) {
    state.SkipWithError(wal.status().to_string().c_str());
    return;
  }
  double groups = 0;
  double submissions = 0;
  {
    WalWriter writer(*wal.value());
    std::string payload(bytes, 'p');
    Index next = 1;
    for (auto _ : state) {
      std::deque<std::future<Result<Index>>> pending;
      int submitted = 0;
      bool failed = false;
      while (submitted < kAppendsPerIteration || !pending.empty()) {
        while (submitted < kAppendsPerIteration && pending.size() < in_flight) {
          pending.push_back(writer.submit({Entry{1, next++, EntryType::kNormal, payload}}, std::nullopt));
          ++submitted;
        }
        failed = failed || !pending.front().get().is_ok();
        pending.pop_front();
      }
      if (failed) {
        state.SkipWithError("an append failed");
        break;
      }
    }
    groups = static_cast<double>(writer.groups_written());
    submissions = static_cast<double>(writer.submissions());
  }
  wal.value().reset();
  std::filesystem::remove_all(dir);
  state.SetItemsProcessed(state.iterations() * kAppendsPerIteration);
  state.SetBytesProcessed(state.iterations() * kAppendsPerIteration * static_cast<int64_t>(bytes));
  state.counters["appends_per_fsync"] = groups == 0 ? 0 : submissions / groups;
  double syncs = static_cast<double>(fs.totals.syncs.load());
  if (syncs > 0) {
    state.counters["write_us_per_sync"] = static_cast<double>(fs.totals.write_ns.load()) / 1000.0 / syncs;
    state.counters["sync_us_per_sync"] = static_cast<double>(fs.totals.sync_ns.load()) / 1000.0 / syncs;
  }
}
BENCHMARK(BM_WalAppendPipelined)
    ->ArgNames({"bytes", "in_flight"})
    ->ArgsProduct({{4096}, {64, 256}})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace synod::storage
