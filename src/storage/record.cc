#include "storage/record.h"

#include "base/bytes.h"
#include "base/crc32c.h"

namespace synod::storage {
namespace {

// Makes a stray 8-byte-aligned frame that happens to check out as a batch record astronomically
// unlikely when recovery scans forward for one.
constexpr uint64_t kBatchMagic = 0x5359'4e4f'4442'4154ULL;  // "SYNODBAT"

std::string payload_of(const Record& record, RecordType& type) {
  ByteWriter out;
  if (const auto* batch = std::get_if<BatchRecord>(&record)) {
    type = RecordType::kBatch;
    out.put_fixed64(kBatchMagic);
    out.put_varint(batch->synced_through);
    out.put_varint(batch->sequence);
  } else if (const auto* entry = std::get_if<Entry>(&record)) {
    type = RecordType::kEntry;
    out.put_varint(entry->term);
    out.put_varint(entry->index);
    out.put_u8(static_cast<uint8_t>(entry->type));
    out.put_bytes(entry->data);
  } else if (const auto* hard = std::get_if<HardState>(&record)) {
    type = RecordType::kHardState;
    out.put_varint(hard->term);
    out.put_varint(hard->vote);
    out.put_varint(hard->commit);
  } else {
    const auto& snapshot = std::get<SnapshotRecord>(record);
    type = RecordType::kSnapshot;
    out.put_varint(snapshot.index);
    out.put_varint(snapshot.term);
  }
  return std::move(out).take();
}

Result<Record> parse_payload(RecordType type, std::string_view payload) {
  ByteReader in(payload);
  switch (type) {
    case RecordType::kBatch: {
      SYNOD_TRY_ASSIGN(uint64_t magic, in.fixed64());
      if (magic != kBatchMagic) return Status(ErrorCode::kCorruption, "batch record without its magic");
      BatchRecord batch;
      SYNOD_TRY_ASSIGN(batch.synced_through, in.varint());
      SYNOD_TRY_ASSIGN(batch.sequence, in.varint());
      if (!in.done()) break;
      return Record(batch);
    }
    case RecordType::kEntry: {
      Entry entry;
      SYNOD_TRY_ASSIGN(entry.term, in.varint());
      SYNOD_TRY_ASSIGN(entry.index, in.varint());
      SYNOD_TRY_ASSIGN(uint8_t entry_type, in.u8());
      if (entry_type > static_cast<uint8_t>(EntryType::kVacant)) {
        return Status(ErrorCode::kCorruption, "unknown entry type " + std::to_string(entry_type));
      }
      entry.type = static_cast<EntryType>(entry_type);
      entry.data = in.rest();
      return Record(std::move(entry));
    }
    case RecordType::kHardState: {
      HardState hard;
      SYNOD_TRY_ASSIGN(hard.term, in.varint());
      SYNOD_TRY_ASSIGN(hard.vote, in.varint());
      SYNOD_TRY_ASSIGN(hard.commit, in.varint());
      if (!in.done()) break;
      return Record(hard);
    }
    case RecordType::kSnapshot: {
      SnapshotRecord snapshot;
      SYNOD_TRY_ASSIGN(snapshot.index, in.varint());
      SYNOD_TRY_ASSIGN(snapshot.term, in.varint());
      if (!in.done()) break;
      return Record(snapshot);
    }
  }
  return Status(ErrorCode::kCorruption, "unexpected bytes after the record's fields");
}

}  // namespace

size_t aligned_record_size(size_t payload_bytes) {
  size_t raw = kRecordHeaderBytes + payload_bytes;
  return (raw + kRecordAlignment - 1) / kRecordAlignment * kRecordAlignment;
}

void encode_record(const Record& record, std::string& out) {
  RecordType type{};
  std::string payload = payload_of(record, type);
  SYNOD_ASSERT_MSG(payload.size() <= kMaxRecordPayload, "a record larger than the log accepts");
  std::string checked(1, static_cast<char>(type));
  checked += payload;
  ByteWriter frame;
  frame.put_fixed32(static_cast<uint32_t>(payload.size()));
  frame.put_fixed32(crc32c(checked));
  out += frame.data();
  out += checked;
  out.append(aligned_record_size(payload.size()) - kRecordHeaderBytes - payload.size(), '\0');
}

DecodedRecord decode_record(std::string_view bytes) {
  DecodedRecord decoded;
  if (bytes.size() < kRecordHeaderBytes) {
    bool zeros = bytes.find_first_not_of('\0') == std::string_view::npos;
    decoded.kind = zeros ? DecodedRecord::Kind::kZeros : DecodedRecord::Kind::kBad;
    decoded.problem = "a frame header cut short";
    return decoded;
  }
  if (bytes.substr(0, kRecordHeaderBytes).find_first_not_of('\0') == std::string_view::npos) {
    decoded.kind = DecodedRecord::Kind::kZeros;
    return decoded;
  }
  ByteReader in(bytes);
  uint32_t length = in.fixed32().value();
  uint32_t crc = in.fixed32().value();
  auto type = static_cast<uint8_t>(bytes[8]);
  if (length > kMaxRecordPayload) {
    decoded.problem = "a record length of " + std::to_string(length) + " bytes";
    return decoded;
  }
  size_t size = aligned_record_size(length);
  if (size > bytes.size()) {
    decoded.problem = "a record of " + std::to_string(size) + " bytes runs past the end of the data";
    return decoded;
  }
  if (crc32c(bytes.substr(8, 1 + length)) != crc) {
    decoded.problem = "a checksum mismatch";
    return decoded;
  }
  if (type < static_cast<uint8_t>(RecordType::kBatch) || type > static_cast<uint8_t>(RecordType::kSnapshot)) {
    decoded.problem = "an unknown record type " + std::to_string(type);
    return decoded;
  }
  Result<Record> record =
      parse_payload(static_cast<RecordType>(type), bytes.substr(kRecordHeaderBytes, length));
  if (!record.is_ok()) {
    decoded.problem = "a record that does not parse: " + record.status().message();
    return decoded;
  }
  decoded.kind = DecodedRecord::Kind::kRecord;
  decoded.record = std::move(record).value();
  decoded.size = size;
  return decoded;
}

}  // namespace synod::storage
