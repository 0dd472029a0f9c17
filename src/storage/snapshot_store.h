// SnapshotStore: snapshot files in a directory, written so that a crash at any point leaves either
// the old set of snapshots or the new one, never a half-written file under a final name.
//
// Save: write "<index>-<term>.snap.tmp", fdatasync, rename to "<index>-<term>.snap", sync the
// directory. Format: "SYNODSNP", fixed32 version, fixed64 index, fixed64 term, varint voter count and
// voters, fixed64 data length, the data, fixed32 CRC32C of everything before it.
//
// Load: the newest file that checks out. Damaged ones are skipped with a note, and the caller decides
// whether the log still covers the gap to an older one (storage/disk_storage.h).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "consensus/types.h"
#include "storage/file_system.h"

namespace synod::storage {

std::string encode_snapshot_file(const Snapshot& snapshot);
Result<Snapshot> decode_snapshot_file(std::string_view bytes);

class SnapshotStore {
 public:
  SnapshotStore(FileSystem& fs, std::string dir) : fs_(fs), dir_(std::move(dir)) {}

  // Creates the directory and removes temporary files a crash left behind.
  Status open(std::vector<std::string>& notes);
  Status save(const Snapshot& snapshot);
  // The newest snapshot that checks out (nullopt if none); each damaged newer one adds a note.
  Result<std::optional<Snapshot>> load_newest(std::vector<std::string>& notes);
  // The snapshot file named by `meta`, checked (kCorruption if damaged or not what its name says).
  Result<Snapshot> load(const SnapshotMeta& meta);
  // The (index, term) of every snapshot file, newest first, without reading them.
  Result<std::vector<SnapshotMeta>> list();
  // Removes every snapshot file older than the `keep` newest. Returns the index of the oldest one kept
  // (0 if none).
  Result<Index> retain(size_t keep);

  // Streaming to a follower that fell behind: the stored file of the snapshot at `meta`, in chunks.
  // The follower rebuilds it with a SnapshotReceiver, which checks the whole file's checksum.
  Result<uint64_t> file_size(const SnapshotMeta& meta);
  Result<std::string> read_chunk(const SnapshotMeta& meta, uint64_t offset, size_t max_bytes);

 private:
  friend class SnapshotReceiver;
  std::string path(Index index, Term term) const;

  FileSystem& fs_;
  std::string dir_;
};

// Rebuilds a snapshot file from the chunks of a SnapshotStore::read_chunk stream, in order, into a
// temporary file; finish() syncs it, checks it (checksum, and that it is the snapshot announced),
// renames it into place and syncs the directory. A receiver dropped before finish() leaves only a
// temporary file, which the next SnapshotStore::open() removes.
class SnapshotReceiver {
 public:
  // Starts receiving the snapshot at `meta` into `store`'s directory.
  static Result<std::unique_ptr<SnapshotReceiver>> start(SnapshotStore& store, const SnapshotMeta& meta);

  // The chunk at `offset`, which must be where the previous one ended (a resent or skipped chunk is
  // refused, so the caller can restart the stream).
  Status append(uint64_t offset, std::string_view chunk);
  uint64_t received() const { return received_; }
  Result<Snapshot> finish();

 private:
  SnapshotReceiver(SnapshotStore& store, SnapshotMeta meta, std::unique_ptr<File> file, std::string temp);

  SnapshotStore& store_;
  SnapshotMeta meta_;
  std::unique_ptr<File> file_;
  std::string temp_;
  uint64_t received_ = 0;
};

}  // namespace synod::storage
