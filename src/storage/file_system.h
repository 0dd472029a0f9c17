// FileSystem and File: the narrow seam between Synod's storage code and the disk. The POSIX
// implementation (storage/posix_file_system.h) is what a server runs on; the fault-injecting in-memory
// one (sim/faulty_file_system.h) is what tests and the simulator run on, so the same write-ahead log
// and snapshot code can be crashed at every write and fsync, lose unsynced pages, tear writes, flip
// bits and fail with ENOSPC or EIO.
//
// Only what the storage code needs, with POSIX meaning:
//   - data written with write_at() is durable only after sync() of that file returned ok;
//   - a file created, renamed or removed is durable only after sync_dir() of its directory;
//   - a failed sync() leaves the file's unsynced data in an unknown state (it may be gone even if a
//     later sync() succeeds: "fsyncgate"), so callers must treat it as fatal, never retry.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace synod::storage {

class File {
 public:
  virtual ~File() = default;
  // Writes all of `data` at `offset`, extending the file if needed.
  virtual Status write_at(uint64_t offset, std::string_view data) = 0;
  // Reads up to `length` bytes at `offset`; fewer only at the end of the file.
  virtual Result<std::string> read_at(uint64_t offset, size_t length) = 0;
  // fdatasync: everything written so far is durable once this returns ok.
  virtual Status sync() = 0;
  virtual Status truncate(uint64_t size) = 0;
  // Reserves space up to `size` bytes (the file reads as zeros there), so later writes inside it do
  // not change the file's size and a sync need not update its metadata.
  virtual Status preallocate(uint64_t size) = 0;
  virtual Result<uint64_t> size() = 0;
};

enum class OpenMode : uint8_t {
  kCreateNew,     // create; fails with kInvalidArgument if it exists
  kOpenExisting,  // read and write an existing file; kNotFound if missing
  kReadOnly,      // read an existing file; kNotFound if missing
};

class FileSystem {
 public:
  virtual ~FileSystem() = default;
  virtual Result<std::unique_ptr<File>> open(const std::string& path, OpenMode mode) = 0;
  virtual Status remove(const std::string& path) = 0;
  // Atomically replaces `to` (if it exists) with `from`.
  virtual Status rename(const std::string& from, const std::string& to) = 0;
  // Names (not paths) of the entries in `dir`, sorted.
  virtual Result<std::vector<std::string>> list(const std::string& dir) = 0;
  // Creates `dir` (and its parents) if missing.
  virtual Status make_dirs(const std::string& dir) = 0;
  // Makes the directory's entries (creations, renames, removals) durable.
  virtual Status sync_dir(const std::string& dir) = 0;
  virtual bool exists(const std::string& path) = 0;
};

// "dir/name", for the few places that build paths.
std::string join_path(const std::string& dir, const std::string& name);

}  // namespace synod::storage
