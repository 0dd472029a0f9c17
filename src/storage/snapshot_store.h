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
  // The (index, term) of every snapshot file, newest first, without reading them.
  Result<std::vector<SnapshotMeta>> list();
  // Removes every snapshot file older than the `keep` newest.
  Status retain(size_t keep);

 private:
  std::string path(Index index, Term term) const;

  FileSystem& fs_;
  std::string dir_;
};

}  // namespace synod::storage
