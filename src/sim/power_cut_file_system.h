// PowerCutFileSystem: wraps a FileSystem and cuts the power at a chosen mutating call: that call and
// every later one fail with kIoError, as if the machine stopped there. Tests enumerate every cut point
// of a workload (then crash the FaultyFileSystem underneath to lose, keep or tear unsynced pages); the
// simulator cuts at random points so a crash can land in the middle of a write.
//
// Mutating calls: creating open, write_at, sync, truncate, preallocate, remove, rename, sync_dir. A
// write that is cut still reaches the page cache (unsynced): the crash decides what of it survives.
#pragma once

#include <cstdint>
#include <limits>
#include <memory>

#include "storage/file_system.h"

namespace synod::sim {

class PowerCutFileSystem final : public storage::FileSystem {
 public:
  explicit PowerCutFileSystem(storage::FileSystem& inner) : inner_(inner) {}

  // The `n`th mutating call from now (1 = the next) fails, and so does everything after it.
  void cut_at(uint64_t n) { cut_at_ = mutations_ + n; }
  void never_cut() { cut_at_ = std::numeric_limits<uint64_t>::max(); }
  bool cut() const { return mutations_ >= cut_at_; }
  // Mutating calls seen so far, including the one that was cut.
  uint64_t mutations() const { return mutations_; }

  Result<std::unique_ptr<storage::File>> open(const std::string& path, storage::OpenMode mode) override;
  Status remove(const std::string& path) override;
  Status rename(const std::string& from, const std::string& to) override;
  Result<std::vector<std::string>> list(const std::string& dir) override;
  Status make_dirs(const std::string& dir) override;
  Status sync_dir(const std::string& dir) override;
  bool exists(const std::string& path) override { return inner_.exists(path); }

  // Counts a mutating call; false once the power is cut.
  bool pass();
  Status power_is_off() const;

 private:
  storage::FileSystem& inner_;
  uint64_t mutations_ = 0;
  uint64_t cut_at_ = std::numeric_limits<uint64_t>::max();
};

}  // namespace synod::sim
