#include "storage/snapshot_store.h"

#include <algorithm>
#include <cstdio>

#include "base/bytes.h"
#include "base/crc32c.h"

namespace synod::storage {
namespace {

constexpr std::string_view kMagic = "SYNODSNP";
constexpr uint32_t kVersion = 1;
constexpr std::string_view kSuffix = ".snap";
constexpr std::string_view kTempSuffix = ".snap.tmp";

bool ends_with(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

std::optional<SnapshotMeta> parse_name(std::string_view name) {
  if (name.size() != 16 + 1 + 16 + kSuffix.size() || name[16] != '-' || !ends_with(name, kSuffix))
    return std::nullopt;
  unsigned long long index = 0;
  unsigned long long term = 0;
  std::string text(name);
  if (std::sscanf(text.c_str(), "%16llx-%16llx.snap", &index, &term) != 2) return std::nullopt;
  SnapshotMeta meta;
  meta.index = index;
  meta.term = term;
  return meta;
}

}  // namespace

namespace {

// A snapshot file is this header, the data, and a CRC-32C of both.
std::string encode_snapshot_header(const Snapshot& snapshot) {
  ByteWriter out;
  out.put_bytes(kMagic);
  out.put_fixed32(kVersion);
  out.put_fixed64(snapshot.meta.index);
  out.put_fixed64(snapshot.meta.term);
  out.put_varint(snapshot.meta.conf.voters.size());
  for (NodeId voter : snapshot.meta.conf.voters) out.put_varint(voter);
  out.put_fixed64(snapshot.data.size());
  return std::move(out).take();
}

std::string encode_snapshot_trailer(const std::string& header, const Snapshot& snapshot) {
  ByteWriter out;
  out.put_fixed32(crc32c_extend(crc32c(header), snapshot.data));
  return std::move(out).take();
}

}  // namespace

std::string encode_snapshot_file(const Snapshot& snapshot) {
  std::string header = encode_snapshot_header(snapshot);
  std::string trailer = encode_snapshot_trailer(header, snapshot);
  return header + snapshot.data + trailer;
}

Result<Snapshot> decode_snapshot_file(std::string_view bytes) {
  if (bytes.size() < 4) return Status(ErrorCode::kCorruption, "the file is too short to be a snapshot");
  size_t body = bytes.size() - 4;
  ByteReader crc_reader(bytes.substr(body));
  if (crc32c(bytes.substr(0, body)) != crc_reader.fixed32().value()) {
    return Status(ErrorCode::kCorruption, "checksum mismatch");
  }
  ByteReader in(bytes.substr(0, body));
  SYNOD_TRY_ASSIGN(std::string_view magic, in.bytes(kMagic.size()));
  if (magic != kMagic) return Status(ErrorCode::kCorruption, "not a Synod snapshot (bad magic)");
  SYNOD_TRY_ASSIGN(uint32_t version, in.fixed32());
  if (version != kVersion)
    return Status(ErrorCode::kCorruption, "snapshot format version " + std::to_string(version));
  Snapshot snapshot;
  SYNOD_TRY_ASSIGN(snapshot.meta.index, in.fixed64());
  SYNOD_TRY_ASSIGN(snapshot.meta.term, in.fixed64());
  SYNOD_TRY_ASSIGN(uint64_t voters, in.varint());
  for (uint64_t i = 0; i < voters; ++i) {
    SYNOD_TRY_ASSIGN(NodeId voter, in.varint());
    snapshot.meta.conf.voters.push_back(voter);
  }
  SYNOD_TRY_ASSIGN(uint64_t length, in.fixed64());
  SYNOD_TRY_ASSIGN(snapshot.data, in.bytes(length));
  if (!in.done()) return Status(ErrorCode::kCorruption, "unexpected bytes after the snapshot data");
  return snapshot;
}

std::string SnapshotStore::path(Index index, Term term) const {
  char name[64];
  std::snprintf(name, sizeof(name), "%016llx-%016llx.snap", static_cast<unsigned long long>(index),
                static_cast<unsigned long long>(term));
  return join_path(dir_, name);
}

Status SnapshotStore::open(std::vector<std::string>& notes) {
  Status made = fs_.make_dirs(dir_);
  if (!made.is_ok()) return made;
  SYNOD_TRY_ASSIGN(std::vector<std::string> names, fs_.list(dir_));
  for (const std::string& name : names) {
    if (!ends_with(name, kTempSuffix)) continue;
    Status removed = fs_.remove(join_path(dir_, name));
    if (!removed.is_ok()) return removed;
    notes.push_back("removed " + join_path(dir_, name) + ", a snapshot left unfinished by a crash");
  }
  return Status::ok();
}

Status SnapshotStore::save(const Snapshot& snapshot) {
  std::string final_path = path(snapshot.meta.index, snapshot.meta.term);
  std::string temp = final_path + ".tmp";
  if (fs_.exists(temp)) {
    Status removed = fs_.remove(temp);
    if (!removed.is_ok()) return removed;
  }
  SYNOD_TRY_ASSIGN(std::unique_ptr<File> file, fs_.open(temp, OpenMode::kCreateNew));
  // Written in place from the snapshot's own bytes: a copy of a large store would double the memory.
  std::string header = encode_snapshot_header(snapshot);
  std::string trailer = encode_snapshot_trailer(header, snapshot);
  Status status = file->write_at(0, header);
  // In slices, each synced before the next: a store's snapshot is tens of megabytes, and left to pile up
  // in the page cache they stall the WAL's fsyncs behind them (an ext4 journal commit writes out the
  // dirty data of every file it covers), which every client then waits for. Bounded, the WAL's fsync
  // waits for one slice at most.
  constexpr size_t kSliceBytes = size_t{4} << 20U;
  std::string_view data = snapshot.data;
  for (size_t offset = 0; status.is_ok() && offset < data.size(); offset += kSliceBytes) {
    status = file->write_at(header.size() + offset, data.substr(offset, kSliceBytes));
    if (status.is_ok() && offset + kSliceBytes < data.size()) status = file->sync();
  }
  if (status.is_ok()) status = file->write_at(header.size() + snapshot.data.size(), trailer);
  if (status.is_ok()) status = file->sync();
  if (status.is_ok()) status = fs_.rename(temp, final_path);
  if (status.is_ok()) status = fs_.sync_dir(dir_);
  return status;
}

Result<std::vector<SnapshotMeta>> SnapshotStore::list() {
  SYNOD_TRY_ASSIGN(std::vector<std::string> names, fs_.list(dir_));
  std::vector<SnapshotMeta> metas;
  for (const std::string& name : names) {
    if (std::optional<SnapshotMeta> meta = parse_name(name)) metas.push_back(*meta);
  }
  std::sort(metas.begin(), metas.end(), [](const SnapshotMeta& a, const SnapshotMeta& b) {
    return a.index != b.index ? a.index > b.index : a.term > b.term;
  });
  return metas;
}

Result<Snapshot> SnapshotStore::load(const SnapshotMeta& meta) {
  std::string file_path = path(meta.index, meta.term);
  SYNOD_TRY_ASSIGN(std::unique_ptr<File> file, fs_.open(file_path, OpenMode::kReadOnly));
  SYNOD_TRY_ASSIGN(uint64_t size, file->size());
  SYNOD_TRY_ASSIGN(std::string bytes, file->read_at(0, size));
  Result<Snapshot> snapshot = decode_snapshot_file(bytes);
  if (!snapshot.is_ok()) {
    return Status(ErrorCode::kCorruption,
                  "the snapshot " + file_path + " is damaged: " + snapshot.status().message());
  }
  if (snapshot.value().meta.index != meta.index || snapshot.value().meta.term != meta.term) {
    return Status(ErrorCode::kCorruption, "the snapshot " + file_path + " does not hold what its name says");
  }
  return snapshot;
}

Result<std::optional<Snapshot>> SnapshotStore::load_newest(std::vector<std::string>& notes) {
  SYNOD_TRY_ASSIGN(std::vector<SnapshotMeta> metas, list());
  for (const SnapshotMeta& meta : metas) {
    Result<Snapshot> snapshot = load(meta);
    if (snapshot.is_ok()) return std::optional<Snapshot>(std::move(snapshot).value());
    // Only damage is skipped: an I/O error is the disk failing, not one file.
    if (snapshot.status().code() != ErrorCode::kCorruption) return snapshot.status();
    notes.push_back("skipped a damaged snapshot: " + snapshot.status().message());
  }
  return std::optional<Snapshot>();
}

Result<Index> SnapshotStore::retain(size_t keep) {
  SYNOD_TRY_ASSIGN(std::vector<SnapshotMeta> metas, list());
  for (size_t i = keep; i < metas.size(); ++i) {
    Status removed = fs_.remove(path(metas[i].index, metas[i].term));
    if (!removed.is_ok()) return removed;
  }
  if (metas.size() > keep) {
    Status synced = fs_.sync_dir(dir_);
    if (!synced.is_ok()) return synced;
  }
  size_t kept = std::min(keep, metas.size());
  return kept == 0 ? Index{0} : metas[kept - 1].index;
}

Result<uint64_t> SnapshotStore::file_size(const SnapshotMeta& meta) {
  SYNOD_TRY_ASSIGN(std::unique_ptr<File> file, fs_.open(path(meta.index, meta.term), OpenMode::kReadOnly));
  return file->size();
}

Result<std::string> SnapshotStore::read_chunk(const SnapshotMeta& meta, uint64_t offset, size_t max_bytes) {
  SYNOD_TRY_ASSIGN(std::unique_ptr<File> file, fs_.open(path(meta.index, meta.term), OpenMode::kReadOnly));
  return file->read_at(offset, max_bytes);
}

SnapshotReceiver::SnapshotReceiver(SnapshotStore& store, SnapshotMeta meta, std::unique_ptr<File> file,
                                   std::string temp)
    : store_(store), meta_(std::move(meta)), file_(std::move(file)), temp_(std::move(temp)) {}

Result<std::unique_ptr<SnapshotReceiver>> SnapshotReceiver::start(SnapshotStore& store,
                                                                  const SnapshotMeta& meta) {
  std::string temp = store.path(meta.index, meta.term) + ".tmp";
  if (store.fs_.exists(temp)) {
    Status removed = store.fs_.remove(temp);
    if (!removed.is_ok()) return removed;
  }
  SYNOD_TRY_ASSIGN(std::unique_ptr<File> file, store.fs_.open(temp, OpenMode::kCreateNew));
  return std::unique_ptr<SnapshotReceiver>(new SnapshotReceiver(store, meta, std::move(file), temp));
}

Status SnapshotReceiver::append(uint64_t offset, std::string_view chunk) {
  if (offset != received_) {
    return Status(ErrorCode::kInvalidArgument, "snapshot chunk at offset " + std::to_string(offset) +
                                                   ", expected " + std::to_string(received_));
  }
  Status written = file_->write_at(offset, chunk);
  if (!written.is_ok()) return written;
  received_ += chunk.size();
  return Status::ok();
}

Result<Snapshot> SnapshotReceiver::finish() {
  Status synced = file_->sync();
  if (!synced.is_ok()) return synced;
  SYNOD_TRY_ASSIGN(std::string bytes, file_->read_at(0, received_));
  Result<Snapshot> snapshot = decode_snapshot_file(bytes);
  if (!snapshot.is_ok()) {
    return Status(ErrorCode::kCorruption, "received snapshot " + std::to_string(meta_.index) +
                                              " does not check out: " + snapshot.status().message());
  }
  if (snapshot.value().meta.index != meta_.index || snapshot.value().meta.term != meta_.term) {
    return Status(ErrorCode::kCorruption, "received a different snapshot than announced");
  }
  Status status = store_.fs_.rename(temp_, store_.path(meta_.index, meta_.term));
  if (status.is_ok()) status = store_.fs_.sync_dir(store_.dir_);
  if (!status.is_ok()) return status;
  return snapshot;
}

}  // namespace synod::storage
