// SnapshotStore: snapshot files in a directory, written so that a crash at any point leaves either
// the old set of snapshots or the new one, never a half-written file under a final name.
//
// Save: write "<index>-<term>.snap.tmp", fdatasync, rename to "<index>-<term>.snap", sync the
// directory. A snapshot is written as its data is encoded (SnapshotFileWriter), so its length comes
// last. Format 2: "SYNODSNP", fixed32 version, fixed64 index, fixed64 term, varint voter count and
// voters, the data, fixed64 data length, fixed32 CRC32C of everything before it. Format 1 (still
// read) had the length before the data.
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

class SnapshotFileWriter;

class SnapshotStore {
 public:
  SnapshotStore(FileSystem& fs, std::string dir) : fs_(fs), dir_(std::move(dir)) {}

  // Creates the directory and removes temporary files a crash left behind.
  Status open(std::vector<std::string>& notes);
  // A whole snapshot in memory, through a SnapshotFileWriter.
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
  friend class SnapshotFileWriter;
  std::string path(Index index, Term term) const;
  // Removes a temporary file a crash or an abandoned write left at `temp`, then creates it anew.
  Result<std::unique_ptr<File>> create_temp(const std::string& temp);

  FileSystem& fs_;
  std::string dir_;
};

// Writes one snapshot file as its data arrives, so that memory never holds the whole encoding of a
// large store: the header into a temporary file, then the data in order, each 4 MiB synced before the
// next (left to pile up in the page cache they stall the WAL's fsyncs behind them: an ext4 journal
// commit writes out the dirty data of every file it covers), then the trailer, a sync, the rename and
// the directory's sync. Dropped before commit(), it removes its temporary file.
class SnapshotFileWriter {
 public:
  static Result<std::unique_ptr<SnapshotFileWriter>> start(SnapshotStore& store, const SnapshotMeta& meta);
  ~SnapshotFileWriter();
  SnapshotFileWriter(const SnapshotFileWriter&) = delete;
  SnapshotFileWriter& operator=(const SnapshotFileWriter&) = delete;

  Status append(std::string_view data);
  // The snapshot is durable under its final name once this returns ok.
  Status commit();
  const SnapshotMeta& meta() const { return meta_; }

 private:
  SnapshotFileWriter(SnapshotStore& store, SnapshotMeta meta, std::unique_ptr<File> file, std::string temp);

  SnapshotStore& store_;
  SnapshotMeta meta_;
  std::unique_ptr<File> file_;
  std::string temp_;
  uint64_t header_bytes_ = 0;
  uint64_t data_bytes_ = 0;  // data appended so far
  uint64_t unsynced_ = 0;    // bytes written since the last sync
  uint32_t crc_ = 0;         // of everything written so far
  bool committed_ = false;
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
