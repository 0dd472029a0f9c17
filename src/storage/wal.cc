#include "storage/wal.h"

#include <algorithm>

#include "base/assert.h"
#include "storage/segment.h"

namespace synod::storage {
namespace {

constexpr std::string_view kTempSuffix = ".tmp";

bool ends_with(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

// Looks past `from` for a batch record that says `from` was already durable: proof that the bytes at
// `from` are damaged synced data, not the torn tail of an unfinished write.
std::optional<uint64_t> later_batch_proving_durable(std::string_view data, uint64_t from) {
  uint64_t start = (from / kRecordAlignment + 1) * kRecordAlignment;
  for (uint64_t at = start; at + kRecordHeaderBytes <= data.size(); at += kRecordAlignment) {
    // Cheap filters before a checksum: the type byte, and a batch record's small payload.
    if (static_cast<uint8_t>(data[at + 8]) != static_cast<uint8_t>(RecordType::kBatch)) continue;
    if (static_cast<uint8_t>(data[at]) > 64 || data[at + 1] != 0 || data[at + 2] != 0 || data[at + 3] != 0)
      continue;
    DecodedRecord decoded = decode_record(data.substr(at));
    if (decoded.kind != DecodedRecord::Kind::kRecord) continue;
    const auto* batch = std::get_if<BatchRecord>(&decoded.record);
    if (batch != nullptr && batch->synced_through > from) return at;
  }
  return std::nullopt;
}

}  // namespace

Wal::Wal(FileSystem& fs, WalOptions options) : fs_(fs), options_(std::move(options)) {}
Wal::~Wal() = default;

Result<std::unique_ptr<Wal>> Wal::open(FileSystem& fs, const WalOptions& options, WalContents& contents) {
  SYNOD_ASSERT(options.segment_bytes > kSegmentHeaderBytes);
  contents = WalContents{};
  std::unique_ptr<Wal> wal(new Wal(fs, options));
  Status recovered = wal->recover(contents);
  if (!recovered.is_ok()) return recovered;
  return wal;
}

Status Wal::recover(WalContents& contents) {
  if (!options_.read_only) {
    Status made = fs_.make_dirs(options_.dir);
    if (!made.is_ok()) return made;
  }
  SYNOD_TRY_ASSIGN(std::vector<std::string> names, fs_.list(options_.dir));
  for (const std::string& name : names) {
    if (ends_with(name, kTempSuffix)) {
      // A segment that was being started at the crash: nothing in it was ever acknowledged.
      if (options_.read_only) {
        contents.notes.push_back("would remove " + path(name) + ", a segment left unfinished by a crash");
        continue;
      }
      Status removed = fs_.remove(path(name));
      if (!removed.is_ok()) return removed;
      contents.notes.push_back("removed " + path(name) + ", a segment left unfinished by a crash");
      continue;
    }
    std::optional<std::pair<uint64_t, Index>> parsed = parse_segment_name(name);
    if (parsed) segments_.push_back(Segment{parsed->first, parsed->second, name, 0});
  }
  std::sort(segments_.begin(), segments_.end(),
            [](const Segment& a, const Segment& b) { return a.sequence < b.sequence; });
  if (segments_.empty()) {
    if (options_.read_only) return Status(ErrorCode::kNotFound, "no WAL segments in " + options_.dir);
    return start_segment(1);
  }
  for (size_t i = 1; i < segments_.size(); ++i) {
    if (segments_[i].sequence != segments_[i - 1].sequence + 1) {
      return corruption(segments_[i], 0,
                        "segment " + std::to_string(segments_[i - 1].sequence + 1) + " is missing before it");
    }
  }
  recovered_last_ = segments_.front().first_index - 1;
  for (size_t i = 0; i < segments_.size(); ++i) {
    Status status = recover_segment(segments_[i], i + 1 == segments_.size(), contents);
    if (!status.is_ok()) return status;
  }
  hard_state_ = contents.hard_state;
  snapshot_ = contents.snapshot;
  last_index_ = recovered_last_;
  return Status::ok();
}

Status Wal::recover_segment(Segment& segment, bool last, WalContents& contents) {
  std::string file_path = path(segment.name);
  SYNOD_TRY_ASSIGN(
      std::unique_ptr<File> file,
      fs_.open(file_path, last && !options_.read_only ? OpenMode::kOpenExisting : OpenMode::kReadOnly));
  SYNOD_TRY_ASSIGN(uint64_t size, file->size());
  SYNOD_TRY_ASSIGN(std::string data, file->read_at(0, size));
  Result<SegmentHeader> header = decode_segment_header(data);
  if (!header.is_ok()) return corruption(segment, 0, header.status().message());
  if (options_.read_only && segment.sequence == segments_.front().sequence) {
    contents.cluster_id = header.value().cluster_id;
    contents.node_id = header.value().node_id;
  } else if (header.value().cluster_id != (options_.read_only ? contents.cluster_id : options_.cluster_id) ||
             header.value().node_id != (options_.read_only ? contents.node_id : options_.node_id)) {
    return Status(ErrorCode::kInvalidArgument,
                  file_path + " belongs to cluster " + std::to_string(header.value().cluster_id) + " node " +
                      std::to_string(header.value().node_id) + ", not cluster " +
                      std::to_string(options_.cluster_id) + " node " + std::to_string(options_.node_id) +
                      ": wrong data directory?");
  }
  if (header.value().sequence != segment.sequence || header.value().first_index != segment.first_index) {
    return corruption(segment, 0, "the header does not match the file name");
  }

  uint64_t offset = kSegmentHeaderBytes;
  std::string problem;
  while (true) {
    DecodedRecord decoded = decode_record(std::string_view(data).substr(offset));
    if (decoded.kind != DecodedRecord::Kind::kRecord) {
      problem = decoded.kind == DecodedRecord::Kind::kBad ? decoded.problem : "stray bytes after the records";
      break;
    }
    Status applied = apply_record(decoded.record, segment, offset, decoded.size, contents);
    if (!applied.is_ok()) return applied;
    offset += decoded.size;
  }

  bool residue = data.find_first_not_of('\0', offset) != std::string::npos;
  if (residue) {
    if (std::optional<uint64_t> proof = later_batch_proving_durable(data, offset)) {
      return corruption(
          segment, offset,
          problem + "; a later batch at offset " + std::to_string(*proof) + " shows it had been synced");
    }
    if (!last) return corruption(segment, offset, problem + " in a sealed segment");
    // The torn tail of the batch being written at the crash: it was never acknowledged.
    uint64_t end = data.find_last_not_of('\0') + 1;
    contents.notes.push_back((options_.read_only ? "would truncate" : "truncated") +
                             std::string(" a torn tail of ") + std::to_string(end - offset) + " bytes in " +
                             file_path + " at offset " + std::to_string(offset) + " (" + problem + ")");
    if (options_.read_only) return Status::ok();
    Status status = file->truncate(offset);
    if (status.is_ok()) status = file->preallocate(options_.segment_bytes);
    if (status.is_ok()) status = file->sync();
    if (!status.is_ok()) return status;
  }
  if (last) {
    current_ = std::move(file);
    write_offset_ = offset;
    synced_offset_ = offset;
  }
  return Status::ok();
}

Status Wal::apply_record(const Record& record, const Segment& segment, uint64_t offset, uint64_t size,
                         WalContents& contents) {
  if (const auto* batch = std::get_if<BatchRecord>(&record)) {
    batch_sequence_ = std::max(batch_sequence_, batch->sequence);
  } else if (const auto* hard = std::get_if<HardState>(&record)) {
    contents.hard_state = *hard;
  } else if (const auto* snapshot = std::get_if<SnapshotRecord>(&record)) {
    contents.snapshot = *snapshot;
    std::vector<Entry>& entries = contents.entries;
    auto at = std::find_if(entries.begin(), entries.end(),
                           [&](const Entry& e) { return e.index == snapshot->index; });
    if (snapshot->index > recovered_last_ || (at != entries.end() && at->term != snapshot->term)) {
      // A snapshot from the leader that the log does not continue: it replaced the whole log (or, for
      // an acceptor's slots, what it covers).
      if (options_.keep_entries_after_snapshot) {
        std::erase_if(entries, [&](const Entry& e) { return e.index <= snapshot->index; });
        index_.erase_through(snapshot->index);
        recovered_last_ = std::max(recovered_last_, snapshot->index);
      } else {
        entries.clear();
        index_.clear();
        recovered_last_ = snapshot->index;
      }
    }
    // Otherwise the entries stay: if the newest snapshot file turns out damaged, they let recovery
    // fall back to an older one.
  } else {
    const Entry& entry = std::get<Entry>(record);
    std::vector<Entry>& entries = contents.entries;
    // An entry may also land below every entry still held: an overwrite written into a segment that
    // started later than the entries it replaces, whose older segments were released. It replaces
    // them all; whether a snapshot covers what precedes it is DiskStorage::open's check.
    if (entry.index > recovered_last_ + 1) {
      return corruption(segment, offset,
                        "entry " + std::to_string(entry.index) + " leaves a gap after entry " +
                            std::to_string(recovered_last_));
    }
    while (!entries.empty() && entries.back().index >= entry.index) entries.pop_back();
    index_.erase_from(entry.index);
    entries.push_back(entry);
    index_.push(entry.index, Location{segment.sequence, offset, size, entry.term});
    recovered_last_ = entry.index;
    for (Segment& s : segments_) {
      if (s.sequence == segment.sequence) s.max_index = std::max(s.max_index, entry.index);
    }
  }
  return Status::ok();
}

Status Wal::corruption(const Segment& segment, uint64_t offset, const std::string& problem) const {
  return Status(
      ErrorCode::kCorruption,
      "WAL corruption in " + path(segment.name) + " at offset " + std::to_string(offset) +
          " (last good entry: index " + std::to_string(recovered_last_) + "): " + problem +
          ". Synod will not start on a damaged log. To recover, remove this member's data directory "
          "and add the member back to the cluster, so it copies the log from its peers.");
}

Status Wal::fail(const Status& status) {
  SYNOD_ASSERT(!status.is_ok());
  failure_ = Status(status.code(), "the write-ahead log stopped: " + status.message() +
                                       " (never retried: the node must restart and recover from disk)");
  return failure_;
}

void Wal::encode_batch_header(std::string& out) {
  encode_record(BatchRecord{synced_offset_, ++batch_sequence_}, out);
}

Status Wal::start_segment(Index first_index) {
  uint64_t sequence = segments_.empty() ? 1 : segments_.back().sequence + 1;
  std::string name = segment_name(sequence, first_index);
  std::string temp = path(name) + std::string(kTempSuffix);
  Result<std::unique_ptr<File>> opened = fs_.open(temp, OpenMode::kCreateNew);
  if (!opened.is_ok()) return fail(opened.status());
  std::unique_ptr<File> file = std::move(opened).value();
  SegmentHeader header{kWalFormatVersion, options_.cluster_id, options_.node_id, sequence, first_index};
  std::string bytes = encode_segment_header(header);
  // The new segment repeats the hard state and the snapshot marker, so older segments can go.
  synced_offset_ = 0;
  encode_batch_header(bytes);
  encode_record(hard_state_, bytes);
  if (snapshot_.index != 0) encode_record(snapshot_, bytes);
  Status status = file->preallocate(std::max<uint64_t>(options_.segment_bytes, bytes.size()));
  if (status.is_ok() && options_.zero_fill) {
    // Written zeros, not only reserved space: a later sync then flushes data alone, where reserved
    // (unwritten) extents would need a journal update on every sync.
    const std::string zeros(std::min<uint64_t>(uint64_t{1} << 20U, options_.segment_bytes), '\0');
    for (uint64_t at = bytes.size(); status.is_ok() && at < options_.segment_bytes; at += zeros.size()) {
      status = file->write_at(at, std::string_view(zeros).substr(
                                      0, std::min<uint64_t>(zeros.size(), options_.segment_bytes - at)));
    }
  }
  if (status.is_ok()) status = file->write_at(0, bytes);
  if (status.is_ok()) status = file->sync();
  if (status.is_ok()) status = fs_.rename(temp, path(name));
  if (status.is_ok()) status = fs_.sync_dir(options_.dir);
  if (!status.is_ok()) return fail(status);
  current_ = std::move(file);
  write_offset_ = bytes.size();
  synced_offset_ = bytes.size();
  segments_.push_back(Segment{sequence, first_index, name, 0});
  return Status::ok();
}

Status Wal::write_batch(const std::string& bytes, bool sync) {
  std::chrono::steady_clock::time_point started;
  if (options_.on_sync) started = std::chrono::steady_clock::now();
  Status status = current_->write_at(write_offset_, bytes);
#if SYNOD_BUG_INJECTION
  bool skip_sync = options_.bug_skip_sync;
#else
  bool skip_sync = false;
#endif
  if (status.is_ok() && sync && !skip_sync) status = current_->sync();
  if (!status.is_ok()) return fail(status);
  write_offset_ += bytes.size();
  // An unsynced batch becomes durable with the next synced one; until then later batch headers do not
  // vouch for it, so recovery treats its loss as a torn tail.
  if (sync) {
    if (options_.on_sync) options_.on_sync(bytes.size(), std::chrono::steady_clock::now() - started);
    synced_offset_ = write_offset_;
  }
  return Status::ok();
}

Status Wal::append(const std::vector<Entry>& entries, const std::optional<HardState>& hard_state) {
  if (!failure_.is_ok()) return failure_;
  if (options_.read_only) return Status(ErrorCode::kInvalidArgument, "the log was opened read-only");
  if (entries.empty() && !hard_state) return Status::ok();
  if (!entries.empty()) {
    SYNOD_ASSERT_MSG(entries.front().index > snapshot_.index && entries.front().index <= last_index_ + 1,
                     "appended entries must continue the log or overwrite part of it");
  }
  // Where each entry's record sits in the batch, noted while encoding it.
  std::vector<std::pair<uint64_t, uint64_t>> spans;  // (offset in the batch, size)
  auto encode = [&] {
    std::string bytes;
    spans.clear();
    encode_batch_header(bytes);
    for (const Entry& entry : entries) {
      size_t start = bytes.size();
      encode_record(entry, bytes);
      spans.emplace_back(start, bytes.size() - start);
    }
    if (hard_state) encode_record(*hard_state, bytes);
    return bytes;
  };
  std::string bytes = encode();
  if (write_offset_ + bytes.size() > options_.segment_bytes) {
    Status started = start_segment(entries.empty() ? last_index_ + 1 : entries.front().index);
    if (!started.is_ok()) return started;
    bytes = encode();  // its batch record now speaks of the new segment
  }
  uint64_t base = write_offset_;
  // Only entries, term and vote must be durable before the node acts on them (they are its promises). The
  // commit index can be relearned after a crash, so a batch that only moves it is written but not synced:
  // otherwise every commit would cost each member a second fdatasync per write (etcd's MustSync rule).
  bool must_sync =
      !entries.empty() ||
      (hard_state && (hard_state->term != hard_state_.term || hard_state->vote != hard_state_.vote));
  Status written = write_batch(bytes, must_sync);
  if (!written.is_ok()) return written;

  if (!entries.empty()) {
    index_.erase_from(entries.front().index);
    for (size_t i = 0; i < entries.size(); ++i) {
      index_.push(entries[i].index, Location{segments_.back().sequence, base + spans[i].first,
                                             spans[i].second, entries[i].term});
    }
    last_index_ = entries.back().index;
    segments_.back().max_index = std::max(segments_.back().max_index, last_index_);
  }
  if (hard_state) hard_state_ = *hard_state;
  return Status::ok();
}

Status Wal::append_snapshot(const SnapshotRecord& snapshot) {
  if (!failure_.is_ok()) return failure_;
  if (options_.read_only) return Status(ErrorCode::kInvalidArgument, "the log was opened read-only");
  std::string bytes;
  encode_batch_header(bytes);
  encode_record(snapshot, bytes);
  if (write_offset_ + bytes.size() > options_.segment_bytes) {
    Status started = start_segment(std::max(last_index_, snapshot.index) + 1);
    if (!started.is_ok()) return started;
    bytes.clear();
    encode_batch_header(bytes);
    encode_record(snapshot, bytes);
  }
  Status written = write_batch(bytes, /*sync=*/true);
  if (!written.is_ok()) return written;
  snapshot_ = snapshot;
  // The same rule as recovery's (apply_record).
  const Location* at = index_.find(snapshot.index);
  if (snapshot.index > last_index_ || (at != nullptr && at->term != snapshot.term)) {
    if (options_.keep_entries_after_snapshot) {
      index_.erase_through(snapshot.index);
      last_index_ = std::max(last_index_, snapshot.index);
    } else {
      index_.clear();
      last_index_ = snapshot.index;
    }
  }
  return Status::ok();
}

Status Wal::release_through(Index index) {
  if (!failure_.is_ok()) return failure_;
  if (options_.read_only) return Status(ErrorCode::kInvalidArgument, "the log was opened read-only");
  while (segments_.size() > 1 && segments_.front().max_index <= index) {
    const Segment& oldest = segments_.front();
    Status status = fs_.remove(path(oldest.name));
    // Oldest first, one directory sync each: a crash leaves a run of segments without a gap.
    if (status.is_ok()) status = fs_.sync_dir(options_.dir);
    if (!status.is_ok()) return fail(status);
    uint64_t sequence = oldest.sequence;
    readers_.erase(sequence);
    index_.release_segment(sequence);
    segments_.erase(segments_.begin());
  }
  return Status::ok();
}

Result<std::vector<Entry>> Wal::read(Index from, Index to) {
  std::vector<Entry> entries;
  for (Index i = from; i < to; ++i) {
    const Location* at = index_.find(i);
    if (at == nullptr) {
      return Status(i <= snapshot_.index ? ErrorCode::kCompacted : ErrorCode::kNotFound,
                    "the log holds no entry " + std::to_string(i));
    }
    const Location& location = *at;
    File* file = nullptr;
    if (location.sequence == segments_.back().sequence) {
      file = current_.get();
    } else {
      auto reader = readers_.find(location.sequence);
      if (reader == readers_.end()) {
        auto segment = std::find_if(segments_.begin(), segments_.end(),
                                    [&](const Segment& s) { return s.sequence == location.sequence; });
        SYNOD_ASSERT(segment != segments_.end());
        SYNOD_TRY_ASSIGN(std::unique_ptr<File> opened, fs_.open(path(segment->name), OpenMode::kReadOnly));
        reader = readers_.emplace(location.sequence, std::move(opened)).first;
      }
      file = reader->second.get();
    }
    SYNOD_TRY_ASSIGN(std::string bytes, file->read_at(location.offset, location.size));
    DecodedRecord decoded = decode_record(bytes);
    const Entry* entry =
        decoded.kind == DecodedRecord::Kind::kRecord ? std::get_if<Entry>(&decoded.record) : nullptr;
    if (entry == nullptr || entry->index != i) {
      return Status(ErrorCode::kCorruption,
                    "entry " + std::to_string(i) + " no longer reads back from the log");
    }
    entries.push_back(*entry);
  }
  return entries;
}

std::vector<std::string> Wal::segment_names() const {
  std::vector<std::string> names;
  for (const Segment& segment : segments_) names.push_back(segment.name);
  return names;
}

Index Wal::first_index() const {
  return index_.empty() ? last_index_ + 1 : index_.first();
}

Index Wal::last_index() const {
  return last_index_;
}

void Wal::Locations::erase_from(Index index) {
  if (index <= first_) {
    all_.clear();
  } else if (index - first_ < all_.size()) {
    all_.resize(index - first_);
  }
}

void Wal::Locations::erase_through(Index index) {
  while (!all_.empty() && first_ <= index) {
    all_.pop_front();
    ++first_;
  }
}

void Wal::Locations::push(Index index, const Location& location) {
  if (all_.empty()) first_ = index;
  SYNOD_ASSERT_MSG(index == first_ + all_.size(), "the entries held are a run without a gap");
  all_.push_back(location);
}

void Wal::Locations::release_segment(uint64_t sequence) {
  while (!all_.empty() && all_.front().sequence == sequence) {
    all_.pop_front();
    ++first_;
  }
  // Segments hold their runs in order: none of the rest can be in the released one.
  SYNOD_ASSERT(all_.empty() || all_.front().sequence > sequence);
}

}  // namespace synod::storage
