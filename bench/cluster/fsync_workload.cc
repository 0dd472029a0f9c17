#include "bench/cluster/fsync_workload.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>

namespace synod::bench {

FsyncResult run_fsync(const BenchOptions& options) {
  using Clock = std::chrono::steady_clock;
  FsyncResult result;
  std::string path = options.dir + "/synod-bench-fsync.tmp";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    result.error = "cannot create " + path + ": " + std::strerror(errno);
    return result;
  }
  size_t size = static_cast<size_t>(std::max(options.value_size, 1));
  // Preallocated and flushed once, as a WAL segment is, so each fdatasync writes data but no metadata.
  off_t span = static_cast<off_t>(64) << 20;
  if (::posix_fallocate(fd, 0, span) != 0 || ::fsync(fd) != 0) {
    result.error = "cannot preallocate " + path;
    ::close(fd);
    ::unlink(path.c_str());
    return result;
  }
  std::string block(size, 'f');
  off_t offset = 0;
  Clock::time_point start = Clock::now();
  Clock::time_point end =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(options.duration_s));
  for (uint64_t i = 0;; ++i) {
    if (options.duration_s > 0 ? Clock::now() >= end : i >= options.total) break;
    if (offset + static_cast<off_t>(size) > span) offset = 0;
    Clock::time_point before = Clock::now();
    if (::pwrite(fd, block.data(), size, offset) != static_cast<ssize_t>(size) || ::fdatasync(fd) != 0) {
      result.error = std::string("write or fdatasync failed: ") + std::strerror(errno);
      break;
    }
    auto nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - before).count();
    result.latency.record(static_cast<uint64_t>(nanos));
    offset += static_cast<off_t>(size);
    ++result.ops;
  }
  result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  ::close(fd);
  ::unlink(path.c_str());
  return result;
}

}  // namespace synod::bench
