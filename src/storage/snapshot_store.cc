#include "storage/snapshot_store.h"

#include <algorithm>
#include <cstdio>

#include "base/assert.h"
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

constexpr uint32_t kStreamedVersion = 2;  // the data's length after it (kVersion: before it)
constexpr size_t kTrailerBytes = 8 + 4;   // data length, CRC

// A snapshot file is this header, the data, and a trailer: the data's length and a CRC-32C of all.
std::string encode_snapshot_header(const SnapshotMeta& meta) {
  ByteWriter out;
  out.put_bytes(kMagic);
  out.put_fixed32(kStreamedVersion);
  out.put_fixed64(meta.index);
  out.put_fixed64(meta.term);
  out.put_varint(meta.conf.voters.size());
  for (NodeId voter : meta.conf.voters) out.put_varint(voter);
  return std::move(out).take();
}

}  // namespace

std::string encode_snapshot_file(const Snapshot& snapshot) {
  ByteWriter out;
  out.put_bytes(encode_snapshot_header(snapshot.meta));
  out.put_bytes(snapshot.data);
  out.put_fixed64(snapshot.data.size());
  uint32_t crc = crc32c(out.data());
  out.put_fixed32(crc);
  return std::move(out).take();
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
  if (version != kVersion && version != kStreamedVersion)
    return Status(ErrorCode::kCorruption, "snapshot format version " + std::to_string(version));
  Snapshot snapshot;
  SYNOD_TRY_ASSIGN(snapshot.meta.index, in.fixed64());
  SYNOD_TRY_ASSIGN(snapshot.meta.term, in.fixed64());
  SYNOD_TRY_ASSIGN(uint64_t voters, in.varint());
  for (uint64_t i = 0; i < voters; ++i) {
    SYNOD_TRY_ASSIGN(NodeId voter, in.varint());
    snapshot.meta.conf.voters.push_back(voter);
  }
  if (version == kVersion) {
    SYNOD_TRY_ASSIGN(uint64_t length, in.fixed64());
    SYNOD_TRY_ASSIGN(snapshot.data, in.bytes(length));
    if (!in.done()) return Status(ErrorCode::kCorruption, "unexpected bytes after the snapshot data");
    return snapshot;
  }
  size_t data_begin = in.position();
  if (body - data_begin < 8) return Status(ErrorCode::kCorruption, "the snapshot has no data length");
  ByteReader length_reader(bytes.substr(body - 8, 8));
  uint64_t length = length_reader.fixed64().value();
  if (length != body - 8 - data_begin) {
    return Status(ErrorCode::kCorruption, "the snapshot's data length " + std::to_string(length) +
                                              " is not the " + std::to_string(body - 8 - data_begin) +
                                              " bytes it holds");
  }
  snapshot.data = std::string(bytes.substr(data_begin, length));
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

Result<std::unique_ptr<File>> SnapshotStore::create_temp(const std::string& temp) {
  if (fs_.exists(temp)) {
    Status removed = fs_.remove(temp);
    if (!removed.is_ok()) return removed;
  }
  return fs_.open(temp, OpenMode::kCreateNew);
}

Status SnapshotStore::save(const Snapshot& snapshot) {
  SYNOD_TRY_ASSIGN(std::unique_ptr<SnapshotFileWriter> writer,
                   SnapshotFileWriter::start(*this, snapshot.meta));
  // Written in place from the snapshot's own bytes, a slice at a time: a copy of a large store would
  // double the memory.
  constexpr size_t kSliceBytes = size_t{1} << 20U;
  std::string_view data = snapshot.data;
  for (size_t offset = 0; offset < data.size(); offset += kSliceBytes) {
    Status appended = writer->append(data.substr(offset, kSliceBytes));
    if (!appended.is_ok()) return appended;
  }
  return writer->commit();
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

SnapshotFileWriter::SnapshotFileWriter(SnapshotStore& store, SnapshotMeta meta, std::unique_ptr<File> file,
                                       std::string temp)
    : store_(store), meta_(std::move(meta)), file_(std::move(file)), temp_(std::move(temp)) {}

Result<std::unique_ptr<SnapshotFileWriter>> SnapshotFileWriter::start(SnapshotStore& store,
                                                                      const SnapshotMeta& meta) {
  std::string temp = store.path(meta.index, meta.term) + ".tmp";
  SYNOD_TRY_ASSIGN(std::unique_ptr<File> file, store.create_temp(temp));
  std::unique_ptr<SnapshotFileWriter> writer(new SnapshotFileWriter(store, meta, std::move(file), temp));
  std::string header = encode_snapshot_header(meta);
  Status written = writer->file_->write_at(0, header);
  if (!written.is_ok()) return written;
  writer->header_bytes_ = header.size();
  writer->crc_ = crc32c(header);
  return writer;
}

SnapshotFileWriter::~SnapshotFileWriter() {
  if (committed_) return;
  // Abandoned (or failed): the next open would remove the file anyway; a failure here changes nothing.
  file_.reset();
  (void)store_.fs_.remove(temp_);
}

Status SnapshotFileWriter::append(std::string_view data) {
  SYNOD_ASSERT_MSG(!committed_, "append after commit");
  constexpr uint64_t kSyncEvery = uint64_t{4} << 20U;
  Status status = file_->write_at(header_bytes_ + data_bytes_, data);
  if (!status.is_ok()) return status;
  data_bytes_ += data.size();
  unsynced_ += data.size();
  crc_ = crc32c_extend(crc_, data);
  if (unsynced_ >= kSyncEvery) {
    status = file_->sync();
    unsynced_ = 0;
  }
  return status;
}

Status SnapshotFileWriter::commit() {
  SYNOD_ASSERT_MSG(!committed_, "commit twice");
  ByteWriter length;
  length.put_fixed64(data_bytes_);
  crc_ = crc32c_extend(crc_, length.data());
  ByteWriter trailer;
  trailer.put_bytes(length.data());
  trailer.put_fixed32(crc_);
  SYNOD_ASSERT(trailer.size() == kTrailerBytes);
  Status status = file_->write_at(header_bytes_ + data_bytes_, trailer.data());
  if (status.is_ok()) status = file_->sync();
  if (status.is_ok()) status = store_.fs_.rename(temp_, store_.path(meta_.index, meta_.term));
  if (status.is_ok()) status = store_.fs_.sync_dir(store_.dir_);
  if (status.is_ok()) committed_ = true;
  return status;
}

SnapshotReceiver::SnapshotReceiver(SnapshotStore& store, SnapshotMeta meta, std::unique_ptr<File> file,
                                   std::string temp)
    : store_(store), meta_(std::move(meta)), file_(std::move(file)), temp_(std::move(temp)) {}

Result<std::unique_ptr<SnapshotReceiver>> SnapshotReceiver::start(SnapshotStore& store,
                                                                  const SnapshotMeta& meta) {
  std::string temp = store.path(meta.index, meta.term) + ".tmp";
  SYNOD_TRY_ASSIGN(std::unique_ptr<File> file, store.create_temp(temp));
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
