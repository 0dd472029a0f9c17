#include "base/bytes.h"

namespace synod {

void ByteWriter::put_varint(uint64_t value) {
  while (value >= 0x80U) {
    out_.push_back(static_cast<char>((value & 0x7fU) | 0x80U));
    value >>= 7U;
  }
  out_.push_back(static_cast<char>(value));
}

void ByteWriter::put_fixed32(uint32_t value) {
  for (int i = 0; i < 4; ++i) out_.push_back(static_cast<char>((value >> (8U * i)) & 0xffU));
}

void ByteWriter::put_fixed64(uint64_t value) {
  for (int i = 0; i < 8; ++i) out_.push_back(static_cast<char>((value >> (8U * i)) & 0xffU));
}

void ByteWriter::put_string(std::string_view value) {
  put_varint(value.size());
  out_.append(value);
}

Status ByteReader::truncated(const char* what) const {
  return Status(ErrorCode::kCorruption, std::string(what) + " at byte " + std::to_string(position_) + " of " +
                                            std::to_string(in_.size()) + " runs past the end");
}

Result<uint8_t> ByteReader::u8() {
  if (position_ >= in_.size()) return truncated("a byte");
  return static_cast<uint8_t>(in_[position_++]);
}

Result<uint32_t> ByteReader::fixed32() {
  if (in_.size() - position_ < 4) return truncated("a 32-bit field");
  uint32_t value = 0;
  for (int i = 0; i < 4; ++i)
    value |= static_cast<uint32_t>(static_cast<uint8_t>(in_[position_ + i])) << (8U * i);
  position_ += 4;
  return value;
}

Result<uint64_t> ByteReader::fixed64() {
  if (in_.size() - position_ < 8) return truncated("a 64-bit field");
  uint64_t value = 0;
  for (int i = 0; i < 8; ++i)
    value |= static_cast<uint64_t>(static_cast<uint8_t>(in_[position_ + i])) << (8U * i);
  position_ += 8;
  return value;
}

Result<std::string_view> ByteReader::bytes(size_t length) {
  if (in_.size() - position_ < length) return truncated("a byte run");
  std::string_view value = in_.substr(position_, length);
  position_ += length;
  return value;
}

Result<uint64_t> ByteReader::varint() {
  uint64_t value = 0;
  for (unsigned shift = 0; shift < 64; shift += 7) {
    if (position_ >= in_.size()) return truncated("a varint");
    auto byte = static_cast<uint8_t>(in_[position_++]);
    if (shift == 63 && byte > 1) {
      return Status(ErrorCode::kCorruption,
                    "a varint at byte " + std::to_string(position_ - 1) + " does not fit in 64 bits");
    }
    value |= static_cast<uint64_t>(byte & 0x7fU) << shift;
    if ((byte & 0x80U) == 0) return value;
  }
  return Status(ErrorCode::kCorruption, "a varint at byte " + std::to_string(position_) + " is too long");
}

Result<std::string_view> ByteReader::string() {
  size_t start = position_;
  Result<uint64_t> length = varint();
  if (!length.is_ok()) return length.status();
  if (length.value() > in_.size() - position_) {
    position_ = start;
    return truncated("a string");
  }
  std::string_view value = in_.substr(position_, length.value());
  position_ += length.value();
  return value;
}

}  // namespace synod
