// FaultyFileSystem: an in-memory disk with a page cache, for tests of the write-ahead log and for the
// simulator. Everything a real disk can do to the storage code happens here on demand and
// deterministically: a crash loses, keeps or tears every unsynced page and reverts unsynced directory
// entries; writes fail with ENOSPC past a space limit; writes and syncs fail with EIO when told to (or
// at a seeded random rate); a failed sync loses its pages silently (fsyncgate); bits rot.
//
// The model. Each file is an inode with two states:
//   - volatile: what reads see now (the page cache);
//   - durable:  what survives a crash (the platters).
// Content is kept sparsely in 4096-byte pages, so preallocating 64 MiB costs nothing; bytes inside the
// size that were never written read as zeros. write_at() changes the volatile state and marks the
// pages it touched dirty; truncate() and preallocate() change the volatile size. sync() copies the
// dirty pages and the size (and any truncation) to the durable state and marks the pages clean.
//
// Directories hold names of inodes, so a rename keeps the data and a file that comes back after a
// crash comes back with its durable content. Each directory has a volatile entry set (changed at once
// by create, rename and remove) and a synced one (set by sync_dir()). Directories themselves are made
// by make_dirs() and are durable at once, and are never removed: the storage code creates its
// directories at startup, so modelling their own durability would buy nothing.
//
// A crash (power loss) does this:
//   - every open File dies: any later call on it fails with kIoError;
//   - each directory ends up with its synced entry set or its volatile one (whole sets, not single
//     changes). A rename across directories is two changes, so the file may then have both names (the
//     same inode) or neither;
//   - each dirty page of each surviving file ends up new (its volatile content), old (its durable
//     content) or torn (its first k 512-byte sectors new, the rest old);
//   - each file's size is its durable size, grown to cover the new bytes of any kept or torn page past
//     it (never past the volatile size); lost pages in between read as zeros, like a hole;
//   - afterwards the result is both the volatile and the durable state, and the file system is used as
//     before through new handles. Fault settings (space limit, scheduled and random failures) stay.
//
// Paths are plain strings split at the last '/': "dir/name". "" and "/" are roots that always exist;
// trailing slashes of directory arguments are ignored; nothing else is normalised ("a/./b" is not
// "a/b"). The file system must outlive the handles it opened. Results never depend on pointer values
// or hash order, so a run replays from the seeds it was given.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "base/random.h"
#include "base/status.h"
#include "storage/file_system.h"

namespace synod::sim {

// What a crash does to one dirty page.
enum class PageFate : uint8_t {
  kLost,  // the page keeps its durable content
  kKept,  // the page gets its volatile content
  kTorn,  // crash_with(): the first half of its sectors get new content, the rest stay old
};

// An operation that can be made to fail with kIoError.
enum class FaultOp : uint8_t { kWrite, kSync, kSyncDir };

// A page written since its file's last sync. `path` names the file in the volatile namespace, or in
// the synced one if the file was removed or renamed away without a sync_dir().
struct DirtyPage {
  std::string path;
  uint64_t page = 0;  // byte offset / kPageSize

  bool operator==(const DirtyPage&) const = default;
  bool operator<(const DirtyPage& other) const {
    return std::tie(path, page) < std::tie(other.path, other.page);
  }
};

// Counts of calls that succeeded, plus every failure this file system injected.
struct FaultyFileSystemStats {
  uint64_t writes = 0;
  uint64_t bytes_written = 0;
  uint64_t syncs = 0;
  uint64_t sync_dirs = 0;
  uint64_t injected_failures = 0;  // EIO from fail_after() or set_random_failures(); not ENOSPC
  uint64_t crashes = 0;
};

class FaultyFileSystem final : public storage::FileSystem {
 public:
  static constexpr uint64_t kPageSize = 4096;
  static constexpr uint64_t kSectorSize = 512;
  static constexpr uint32_t kSectorsPerPage = kPageSize / kSectorSize;

  FaultyFileSystem();
  ~FaultyFileSystem() override;
  FaultyFileSystem(const FaultyFileSystem&) = delete;
  FaultyFileSystem& operator=(const FaultyFileSystem&) = delete;

  // storage::FileSystem. Opening or removing a directory, and renaming from or onto one, fail with
  // kInvalidArgument; a missing parent directory is kNotFound.
  Result<std::unique_ptr<storage::File>> open(const std::string& path, storage::OpenMode mode) override;
  Status remove(const std::string& path) override;
  Status rename(const std::string& from, const std::string& to) override;
  Result<std::vector<std::string>> list(const std::string& dir) override;
  Status make_dirs(const std::string& dir) override;
  Status sync_dir(const std::string& dir) override;
  bool exists(const std::string& path) override;

  // Crashes with every choice drawn from `random`: each dirty page is lost, kept or torn (1 to 7 new
  // sectors) with equal odds, then each directory with unsynced changes keeps them or not with equal
  // odds. The same state and the same Random give the same result.
  void crash(Random& random);
  // For exhaustive tests: the dirty pages of every file a crash could leave behind, sorted. Call
  // crash_with() to choose each one's fate, and whether every directory keeps its unsynced entries
  // (true) or reverts to its synced ones (false).
  std::vector<DirtyPage> dirty_pages() const;
  void crash_with(const std::function<PageFate(const DirtyPage&)>& fate, bool keep_unsynced_dir_changes);

  // ENOSPC: a write, preallocate or truncate that would take the sum of the sizes of the files in the
  // namespace past `bytes` fails with kNoSpace and changes nothing. No limit by default.
  void set_space_limit(uint64_t bytes);
  void clear_space_limit();
  // One-shot EIO: the next `count` calls of `op` proceed, the one after fails with kIoError (0: the
  // next call fails). Replaces an earlier schedule for the same op. A failed write changes nothing; a
  // failed sync_dir() leaves the directory's changes unsynced (a retry may make them durable). A
  // failed sync() is fsyncgate: the file's dirty pages are marked clean without reaching the durable
  // state. Reads still return their new content, but a later sync() succeeds without writing them
  // (unless they are written again), and the next crash reverts them to their durable content (the
  // pending size and truncation are still written by a later sync(), so a lost tail reads as zeros).
  // This is why a failed fsync must be treated as fatal and never retried. Random sync failures below
  // behave the same way.
  void fail_after(FaultOp op, uint64_t count);
  // Also fail writes, and syncs and sync_dirs, at random with these rates (per million calls), drawn
  // from `random`. Both rates 0 turn it off.
  void set_random_failures(Random random, uint32_t write_per_million, uint32_t sync_per_million);
  // Bit rot: flips bit `bit` (0-7) of the byte at `offset` in the file's volatile content and, if the
  // byte is inside its durable size, in its durable content. kNotFound, or kInvalidArgument past the
  // file's size.
  Status flip_bit(const std::string& path, uint64_t offset, uint32_t bit);

  // Inspection, by path in the volatile namespace (kNotFound if there is no such file).
  Result<std::string> contents(const std::string& path) const;
  Result<std::string> durable_contents(const std::string& path) const;
  // The sum of the sizes of the files in the namespace (what the space limit is checked against).
  uint64_t used_bytes() const;
  const FaultyFileSystemStats& stats() const { return stats_; }

 private:
  class Handle;
  struct Inode;
  using InodePtr = std::shared_ptr<Inode>;
  using Entries = std::map<std::string, InodePtr>;
  struct Directory {
    Entries entries;         // volatile: what open, list and exists see
    Entries synced_entries;  // what survives a crash
    std::set<std::string> subdirs;
  };
  struct DirtyRef {
    DirtyPage page;
    InodePtr inode;
  };
  struct RandomFailures {
    Random random;
    uint32_t write_per_million = 0;
    uint32_t sync_per_million = 0;
  };

  // A crash: `new_sectors` says how many sectors of a dirty page get their new content (0 to
  // kSectorsPerPage), `keep_dir_changes` whether a directory with unsynced changes keeps them.
  void crash_impl(const std::function<uint32_t(const DirtyPage&)>& new_sectors,
                  const std::function<bool(const std::string& dir)>& keep_dir_changes);
  std::vector<DirtyRef> dirty_refs() const;

  // The operations behind a Handle, after it checked that it is alive and allowed to do them.
  Status write(Inode& inode, const std::string& path, uint64_t offset, std::string_view data);
  Status sync(Inode& inode, const std::string& path);
  Status resize(Inode& inode, const std::string& path, uint64_t size);
  Status check_space(const Inode& inode, uint64_t new_size, const std::string& path) const;
  bool inject_failure(FaultOp op);

  Directory* find_dir(const std::string& dir);
  const Directory* find_dir(const std::string& dir) const;
  InodePtr find_file(const std::string& path) const;

  std::map<std::string, Directory> dirs_;
  uint64_t next_inode_id_ = 1;
  uint64_t generation_ = 0;  // bumped by each crash; handles from an older one are dead
  std::optional<uint64_t> space_limit_;
  std::array<std::optional<uint64_t>, 3> fail_countdown_;  // by FaultOp
  std::optional<RandomFailures> random_failures_;
  FaultyFileSystemStats stats_;
};

}  // namespace synod::sim
