#include "storage/disk_storage.h"

#include <algorithm>
#include <string>
#include <utility>

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
  // A snapshot whose sink finished is written out; the next open finds its file and adopts it.
  if (background_) {
    std::lock_guard lock(background_->mutex);
    if (!background_->finished) background_->abandoned = true;
    background_->wake.notify_all();
  }
  if (writer_.joinable()) writer_.join();
}

void DiskStorage::write_stream(SnapshotStore& snapshots, size_t keep, Stream& stream) {
  Result<std::unique_ptr<SnapshotFileWriter>> started = SnapshotFileWriter::start(snapshots, stream.meta);
  Status status = started.status();
  std::unique_ptr<SnapshotFileWriter> file = started.is_ok() ? std::move(started).value() : nullptr;
  while (status.is_ok()) {
    std::string slice;
    {
      std::unique_lock lock(stream.mutex);
      stream.wake.wait(lock, [&] { return stream.abandoned || stream.finished || !stream.queue.empty(); });
      if (stream.abandoned) {
        status = Status(ErrorCode::kAborted,
                        "the snapshot at index " + std::to_string(stream.meta.index) + " was abandoned");
        break;
      }
      if (stream.queue.empty()) break;  // finished, and everything written
      slice = std::move(stream.queue.front());
      stream.queue.pop_front();
      stream.queued_bytes -= slice.size();
    }
    status = file->append(slice);
  }
  if (status.is_ok()) status = file->commit();
  file.reset();  // unless committed, removes its temporary file
  // Older files go here too, off the node loop: a large file's unlink can hold a thread for long. The
  // marker still names the previous snapshot, which is one of those kept.
  Result<Index> oldest = status.is_ok() ? snapshots.retain(keep) : Result<Index>(status);
  std::lock_guard lock(stream.mutex);
  stream.result = oldest.status();
  if (oldest.is_ok()) stream.oldest_kept = oldest.value();
  stream.queue.clear();
  stream.queued_bytes = 0;
}

Status DiskStorage::settle_background(bool wait) {
  if (!background_) return Status::ok();
  {
    std::lock_guard lock(background_->mutex);
    if (!background_->result) {
      if (!wait) return Status::ok();
      if (!background_->finished) background_->abandoned = true;
      background_->wake.notify_all();
    }
  }
  writer_.join();
  std::shared_ptr<Stream> stream = std::move(background_);
  background_.reset();
  // The thread has stopped: nothing else touches the stream's state now.
  if (stream->abandoned) return Status::ok();
  Status written = *stream->result;
  if (written.is_ok()) written = mark_snapshot(stream->meta, stream->oldest_kept);
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

// Writes the file as the slices come, on the node's thread.
class DiskStorage::DirectSink final : public SnapshotSink {
 public:
  DirectSink(DiskStorage& storage, std::unique_ptr<SnapshotFileWriter> file)
      : storage_(storage), file_(std::move(file)) {}
  Status append(std::string bytes) override { return check(file_->append(bytes)); }
  Status finish() override {
    Status status = file_->commit();
    if (status.is_ok()) status = storage_.mark_snapshot(file_->meta(), std::nullopt);
    return check(status);
  }

 private:
  Status check(Status status) {
    if (!status.is_ok()) storage_.failure_ = status;
    return status;
  }
  DiskStorage& storage_;
  std::unique_ptr<SnapshotFileWriter> file_;
};

// Queues the slices for the writer thread.
class DiskStorage::BackgroundSink final : public SnapshotSink {
 public:
  explicit BackgroundSink(std::shared_ptr<Stream> stream) : stream_(std::move(stream)) {}
  ~BackgroundSink() override {
    std::lock_guard lock(stream_->mutex);
    if (!stream_->finished) stream_->abandoned = true;
    stream_->wake.notify_all();
  }
  BackgroundSink(const BackgroundSink&) = delete;
  BackgroundSink& operator=(const BackgroundSink&) = delete;

  Status append(std::string bytes) override {
    std::lock_guard lock(stream_->mutex);
    if (Status refused = refused_locked(); !refused.is_ok()) return refused;
    stream_->queued_bytes += bytes.size();
    stream_->queue.push_back(std::move(bytes));
    stream_->wake.notify_all();
    return Status::ok();
  }
  size_t backlog_bytes() const override {
    std::lock_guard lock(stream_->mutex);
    return stream_->queued_bytes;
  }
  Status finish() override {
    std::lock_guard lock(stream_->mutex);
    if (Status refused = refused_locked(); !refused.is_ok()) return refused;
    stream_->finished = true;
    stream_->wake.notify_all();
    return Status::ok();
  }

 private:
  Status refused_locked() const {
    if (stream_->result && !stream_->result->is_ok()) return *stream_->result;
    if (stream_->abandoned) {
      return Status(ErrorCode::kAborted, "the snapshot at index " + std::to_string(stream_->meta.index) +
                                             " was abandoned by the storage");
    }
    return Status::ok();
  }
  std::shared_ptr<Stream> stream_;
};

Result<std::unique_ptr<SnapshotSink>> DiskStorage::begin_snapshot(const SnapshotMeta& meta) {
  if (!failure_.is_ok()) return failure_;
  if (options_.read_only) return Status(ErrorCode::kInvalidArgument, "the storage was opened read-only");
  Status settled = settle_background(/*wait=*/true);
  if (!settled.is_ok()) return settled;
  if (!options_.background_snapshots) {
    Result<std::unique_ptr<SnapshotFileWriter>> file = SnapshotFileWriter::start(snapshots_, meta);
    if (!file.is_ok()) return failure_ = file.status();
    return std::unique_ptr<SnapshotSink>(std::make_unique<DirectSink>(*this, std::move(file).value()));
  }
  background_ = std::make_shared<Stream>(meta);
  writer_ = std::thread(
      [this, stream = background_] { write_stream(snapshots_, options_.snapshots_kept, *stream); });
  return std::unique_ptr<SnapshotSink>(std::make_unique<BackgroundSink>(background_));
}

Status DiskStorage::save_snapshot(SnapshotPtr snapshot) {
  SYNOD_TRY_ASSIGN(std::unique_ptr<SnapshotSink> sink, begin_snapshot(snapshot->meta));
  Status appended = sink->append(snapshot->data);
  return appended.is_ok() ? sink->finish() : appended;
}

Status DiskStorage::keep_snapshot(const Snapshot& snapshot) {
  // The file first, then the marker: a marker never points at a snapshot that is not durable.
  Status status = snapshots_.save(snapshot);
  if (!status.is_ok()) return status;
  return mark_snapshot(snapshot.meta, std::nullopt);
}

Status DiskStorage::mark_snapshot(const SnapshotMeta& meta, std::optional<Index> oldest_kept) {
  Status status = wal_->append_snapshot(SnapshotRecord{meta.index, meta.term});
  if (!status.is_ok()) return status;
  // Entries after the oldest snapshot kept must stay, so that one can stand in for a damaged newer one.
  marked_snapshot_index_ = std::max(marked_snapshot_index_, meta.index);
  Index oldest = 0;
  if (oldest_kept) {
    oldest = *oldest_kept;
  } else {
    SYNOD_TRY_ASSIGN(oldest, snapshots_.retain(options_.snapshots_kept));
  }
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
