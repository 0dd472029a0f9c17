#include "storage/disk_storage.h"

#include <algorithm>

namespace synod::storage {

DiskStorage::DiskStorage(FileSystem& fs, DiskStorageOptions options)
    : fs_(fs), options_(std::move(options)), snapshots_(fs, join_path(options_.dir, "snap")) {}

Result<std::unique_ptr<DiskStorage>> DiskStorage::open(FileSystem& fs, const DiskStorageOptions& options,
                                                       DurableState& state, std::vector<std::string>& notes) {
  std::unique_ptr<DiskStorage> storage(new DiskStorage(fs, options));
  WalOptions wal_options;
  wal_options.dir = join_path(options.dir, "wal");
  wal_options.cluster_id = options.cluster_id;
  wal_options.node_id = options.node_id;
  wal_options.segment_bytes = options.segment_bytes;
  wal_options.read_only = options.read_only;
  wal_options.on_sync = options.on_sync;
  wal_options.keep_entries_after_snapshot = options.keep_entries_after_snapshot;
#if SYNOD_BUG_INJECTION
  wal_options.bug_skip_sync = options.bug_skip_sync;
#endif
  WalContents contents;
  Result<std::unique_ptr<Wal>> wal = Wal::open(fs, wal_options, contents);
  if (!wal.is_ok()) return wal.status();
  storage->wal_ = std::move(wal).value();
  if (options.read_only) {
    storage->options_.cluster_id = contents.cluster_id;
    storage->options_.node_id = contents.node_id;
  }
  notes.insert(notes.end(), contents.notes.begin(), contents.notes.end());
  if (!options.read_only) {
    Status opened = storage->snapshots_.open(notes);
    if (!opened.is_ok()) return opened;
  }
  SYNOD_TRY_ASSIGN(std::optional<Snapshot> snapshot, storage->snapshots_.load_newest(notes));

  // Which snapshot to start from, and the entries after it. The log's newest marker says how far a
  // snapshot was known durable; a damaged newest file leaves an older snapshot, usable only if the
  // log still holds every entry from it up to the marker.
  Index base = snapshot ? snapshot->meta.index : 0;
  Term base_term = snapshot ? snapshot->meta.term : 0;
  const std::vector<Entry>& entries = contents.entries;
  Index first = entries.empty() ? 0 : entries.front().index;
  Index last = entries.empty() ? 0 : entries.back().index;
  auto fail = [&](const std::string& why) {
    return Status(
        ErrorCode::kCorruption,
        "cannot recover " + options.dir + ": " + why +
            ". Synod will not start with a hole in its log. To recover, remove this member's data "
            "directory and add the member back to the cluster, so it copies the state from its peers.");
  };
  if (contents.snapshot.index > base) {
    bool covered = !entries.empty() && first <= base + 1 && last >= contents.snapshot.index;
    if (!covered) {
      return fail("the log's snapshot marker is at index " + std::to_string(contents.snapshot.index) +
                  " but the newest readable snapshot is at " + std::to_string(base) +
                  " and the log does not hold the entries in between");
    }
  }
  std::vector<Entry> kept;
  if (!entries.empty()) {
    if (first > base + 1) {
      return fail("the log starts at index " + std::to_string(first) +
                  " but the newest readable snapshot is at " + std::to_string(base));
    }
    auto at_base =
        std::find_if(entries.begin(), entries.end(), [&](const Entry& e) { return e.index == base; });
    bool continues = base == 0 || at_base == entries.end() || at_base->term == base_term ||
                     options.keep_entries_after_snapshot;
    // A log that does not continue the snapshot (a snapshot from the leader saved just before the
    // crash, its marker not yet written) is replaced by it, as the marker would have done.
    if (continues) {
      for (const Entry& e : entries) {
        if (e.index > base) kept.push_back(e);
      }
    } else {
      notes.push_back("dropped the log after index " + std::to_string(base) +
                      ": it does not continue the newest snapshot");
    }
  }
  if (snapshot && !options.read_only &&
      (contents.snapshot.index != base || contents.snapshot.term != base_term)) {
    // The snapshot recovery starts from is not the log's marker (a crash between saving the file and
    // writing the marker, or a fall back to an older file): bring the log in line with it.
    Status marked = storage->wal_->append_snapshot(SnapshotRecord{base, base_term});
    if (!marked.is_ok()) return marked;
  }
  state = DurableState{};
  state.hard_state = contents.hard_state;
  if (snapshot) {
    storage->marked_snapshot_index_ = snapshot->meta.index;
    state.snapshot = std::make_shared<const Snapshot>(std::move(*snapshot));
  }
  state.entries = std::move(kept);
  return storage;
}

DiskStorage::~DiskStorage() {
  // A snapshot file written but not yet marked is found and adopted by the next open.
  if (writer_.joinable()) writer_.join();
}

Status DiskStorage::settle_background(bool wait) {
  if (!background_) return Status::ok();
  {
    std::lock_guard lock(writer_mutex_);
    if (!written_ && !wait) return Status::ok();
  }
  writer_.join();
  Status written = *written_;
  written_.reset();
  SnapshotPtr snapshot = std::move(background_);
  background_.reset();
  if (written.is_ok()) written = mark_snapshot(*snapshot);
  if (!written.is_ok()) failure_ = written;
  return written;
}

Status DiskStorage::persist(const Ready& ready) {
  if (!failure_.is_ok()) return failure_;
  if (options_.read_only) return Status(ErrorCode::kInvalidArgument, "the storage was opened read-only");
  // An installed snapshot's marker must follow any older snapshot's, so that one is settled first.
  Status settled = settle_background(/*wait=*/ready.snapshot != nullptr);
  if (!settled.is_ok()) return settled;
  if (ready.snapshot) {
    Status kept = keep_snapshot(*ready.snapshot);
    if (!kept.is_ok()) return failure_ = kept;
  }
  Status appended = wal_->append(ready.entries, ready.hard_state);
  if (!appended.is_ok()) failure_ = appended;
  return appended;
}

Status DiskStorage::save_snapshot(SnapshotPtr snapshot) {
  if (!failure_.is_ok()) return failure_;
  if (options_.read_only) return Status(ErrorCode::kInvalidArgument, "the storage was opened read-only");
  if (!options_.background_snapshots) {
    Status kept = keep_snapshot(*snapshot);
    if (!kept.is_ok()) failure_ = kept;
    return kept;
  }
  // One at a time: a newer snapshot waits for the older one's file (rare: snapshots are far apart).
  Status settled = settle_background(/*wait=*/true);
  if (!settled.is_ok()) return settled;
  background_ = snapshot;
  writer_ = std::thread([this, snapshot = std::move(snapshot)] {
    Status status = snapshots_.save(*snapshot);
    std::lock_guard lock(writer_mutex_);
    written_ = status;
  });
  return Status::ok();
}

Status DiskStorage::keep_snapshot(const Snapshot& snapshot) {
  // The file first, then the marker: a marker never points at a snapshot that is not durable.
  Status status = snapshots_.save(snapshot);
  if (!status.is_ok()) return status;
  return mark_snapshot(snapshot);
}

Status DiskStorage::mark_snapshot(const Snapshot& snapshot) {
  Status status = wal_->append_snapshot(SnapshotRecord{snapshot.meta.index, snapshot.meta.term});
  if (!status.is_ok()) return status;
  // Entries after the oldest snapshot kept must stay, so that one can stand in for a damaged newer one.
  marked_snapshot_index_ = std::max(marked_snapshot_index_, snapshot.meta.index);
  SYNOD_TRY_ASSIGN(Index oldest, snapshots_.retain(options_.snapshots_kept));
  return wal_->release_through(oldest);
}

Result<SnapshotPtr> DiskStorage::reload_snapshot(const SnapshotMeta& meta) {
  if (meta.index == 0 || meta.index > marked_snapshot_index_) {
    return Status(ErrorCode::kNotFound, "no durable snapshot at index " + std::to_string(meta.index));
  }
  SYNOD_TRY_ASSIGN(Snapshot snapshot, snapshots_.load(meta));
  return std::make_shared<const Snapshot>(std::move(snapshot));
}

}  // namespace synod::storage
