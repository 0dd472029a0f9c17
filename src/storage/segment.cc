#include "storage/segment.h"

#include <cstdio>

#include "base/bytes.h"
#include "base/crc32c.h"

namespace synod::storage {
namespace {

constexpr std::string_view kSegmentMagic = "SYNODWAL";

std::optional<uint64_t> parse_hex16(std::string_view text) {
  if (text.size() != 16) return std::nullopt;
  uint64_t value = 0;
  for (char c : text) {
    uint64_t digit = 0;
    if (c >= '0' && c <= '9') {
      digit = static_cast<uint64_t>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      digit = static_cast<uint64_t>(c - 'a') + 10;
    } else {
      return std::nullopt;
    }
    value = (value << 4U) | digit;
  }
  return value;
}

}  // namespace

std::string encode_segment_header(const SegmentHeader& header) {
  ByteWriter out;
  out.put_bytes(kSegmentMagic);
  out.put_fixed32(header.version);
  out.put_fixed64(header.cluster_id);
  out.put_fixed64(header.node_id);
  out.put_fixed64(header.sequence);
  out.put_fixed64(header.first_index);
  out.put_fixed32(crc32c(out.data()));
  std::string bytes = std::move(out).take();
  bytes.resize(kSegmentHeaderBytes, '\0');
  return bytes;
}

Result<SegmentHeader> decode_segment_header(std::string_view bytes) {
  if (bytes.size() < kSegmentHeaderBytes) {
    return Status(ErrorCode::kCorruption, "the segment header is cut short (" + std::to_string(bytes.size()) +
                                              " of " + std::to_string(kSegmentHeaderBytes) + " bytes)");
  }
  ByteReader in(bytes);
  SYNOD_TRY_ASSIGN(std::string_view magic, in.bytes(kSegmentMagic.size()));
  if (magic != kSegmentMagic) return Status(ErrorCode::kCorruption, "not a Synod WAL segment (bad magic)");
  SegmentHeader header;
  SYNOD_TRY_ASSIGN(header.version, in.fixed32());
  SYNOD_TRY_ASSIGN(header.cluster_id, in.fixed64());
  SYNOD_TRY_ASSIGN(header.node_id, in.fixed64());
  SYNOD_TRY_ASSIGN(header.sequence, in.fixed64());
  SYNOD_TRY_ASSIGN(header.first_index, in.fixed64());
  size_t checked = in.position();
  SYNOD_TRY_ASSIGN(uint32_t crc, in.fixed32());
  if (crc32c(bytes.substr(0, checked)) != crc)
    return Status(ErrorCode::kCorruption, "segment header checksum mismatch");
  if (header.version != kWalFormatVersion) {
    return Status(ErrorCode::kCorruption, "segment format version " + std::to_string(header.version) +
                                              " (this build reads version " +
                                              std::to_string(kWalFormatVersion) + ")");
  }
  return header;
}

std::string segment_name(uint64_t sequence, Index first_index) {
  char name[64];
  std::snprintf(name, sizeof(name), "%016llx-%016llx.wal", static_cast<unsigned long long>(sequence),
                static_cast<unsigned long long>(first_index));
  return name;
}

std::optional<std::pair<uint64_t, Index>> parse_segment_name(std::string_view name) {
  if (name.size() != 16 + 1 + 16 + 4 || name[16] != '-' || name.substr(33) != ".wal") return std::nullopt;
  std::optional<uint64_t> sequence = parse_hex16(name.substr(0, 16));
  std::optional<uint64_t> first = parse_hex16(name.substr(17, 16));
  if (!sequence || !first) return std::nullopt;
  return std::make_pair(*sequence, *first);
}

}  // namespace synod::storage
