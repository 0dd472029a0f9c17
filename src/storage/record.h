// The write-ahead log's records: how each is framed on disk and what each carries.
//
// Frame (every record starts at an 8-byte aligned offset; zero padding after it):
//
//   fixed32 length   of the payload
//   fixed32 crc      CRC32C of the type byte and the payload
//   u8      type     never 0, so zeroed space (a preallocated segment's tail) never parses as a record
//   payload          `length` bytes
//
// Records are written in batches, one write and one fdatasync each. A batch starts with a kBatch
// record saying how far the segment was already durable when the batch was written ("synced
// through"). Recovery uses it to tell a torn tail from corruption: bad bytes at offset X followed by a
// valid batch record that says X was already durable can only be damage to data that had been synced.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "base/status.h"
#include "consensus/types.h"

namespace synod::storage {

enum class RecordType : uint8_t {
  kBatch = 1,
  kEntry = 2,
  kHardState = 3,
  kSnapshot = 4,  // a snapshot at (index, term) is durable: entries up to it may be released
};

struct BatchRecord {
  uint64_t synced_through = 0;  // offset in this segment known durable before this batch was written
  uint64_t sequence = 0;        // batches numbered from 1 across the whole log
  bool operator==(const BatchRecord&) const = default;
};

struct SnapshotRecord {
  Index index = 0;
  Term term = 0;
  bool operator==(const SnapshotRecord&) const = default;
};

using Record = std::variant<BatchRecord, Entry, HardState, SnapshotRecord>;

inline constexpr size_t kRecordAlignment = 8;
inline constexpr size_t kRecordHeaderBytes = 9;
// Larger payloads are refused when written and treated as damage when read.
inline constexpr uint32_t kMaxRecordPayload = 64U << 20U;

// Appends the framed record (with padding) to `out`.
void encode_record(const Record& record, std::string& out);

// The outcome of reading one frame at an offset.
struct DecodedRecord {
  enum class Kind : uint8_t {
    kRecord,  // `record` is valid; the next frame starts `size` bytes later
    kZeros,   // the frame header is all zeros: where written data ends
    kBad,     // a frame that does not check out (`problem` says how)
  };
  Kind kind = Kind::kBad;
  Record record;
  size_t size = 0;
  std::string problem;
};

// Reads the frame at the start of `bytes` (which runs to the end of the readable data).
DecodedRecord decode_record(std::string_view bytes);

size_t aligned_record_size(size_t payload_bytes);

}  // namespace synod::storage
