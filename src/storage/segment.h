// A write-ahead log segment file: its name and its header.
//
// Name: "<sequence>-<first index>.wal", both as 16 hex digits, so names sort in log order.
// Header (kSegmentHeaderBytes, records follow it):
//   8 bytes "SYNODWAL", fixed32 format version, fixed64 cluster id, fixed64 node id,
//   fixed64 sequence, fixed64 first index (the index the next entry was expected to have when the
//   segment was started), fixed32 CRC32C of everything before it, zero padding.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "consensus/types.h"

namespace synod::storage {

inline constexpr uint32_t kWalFormatVersion = 1;
inline constexpr size_t kSegmentHeaderBytes = 64;

struct SegmentHeader {
  uint32_t version = kWalFormatVersion;
  uint64_t cluster_id = 0;
  NodeId node_id = kNoNode;
  uint64_t sequence = 0;
  Index first_index = 0;
  bool operator==(const SegmentHeader&) const = default;
};

std::string encode_segment_header(const SegmentHeader& header);
Result<SegmentHeader> decode_segment_header(std::string_view bytes);

std::string segment_name(uint64_t sequence, Index first_index);
// The (sequence, first index) in a segment file name, or nullopt for any other name.
std::optional<std::pair<uint64_t, Index>> parse_segment_name(std::string_view name);

}  // namespace synod::storage
