// ByteWriter and ByteReader: the small binary encoding Synod uses for commands, results and snapshots
// (unsigned LEB128 varints and length-prefixed strings). The reader is bounds-checked everywhere and
// reports a truncated or oversized field as an error: its input may come from the network or a disk.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace synod {

class ByteWriter {
 public:
  void put_u8(uint8_t value) { out_.push_back(static_cast<char>(value)); }
  // Fixed-width little-endian, for headers that are patched in place or read before their length.
  void put_fixed32(uint32_t value);
  void put_fixed64(uint64_t value);
  void put_bytes(std::string_view value) { out_.append(value); }
  void put_varint(uint64_t value);
  void put_string(std::string_view value);

  // Room for `bytes` more without reallocating: a large encoding that grows by doubling ends up with up
  // to twice the memory it needs, and copies itself on the way.
  void reserve(size_t bytes) { out_.reserve(out_.size() + bytes); }
  const std::string& data() const& { return out_; }
  std::string take() && { return std::move(out_); }
  size_t size() const { return out_.size(); }

 private:
  std::string out_;
};

class ByteReader {
 public:
  explicit ByteReader(std::string_view in) : in_(in) {}

  Result<uint8_t> u8();
  Result<uint32_t> fixed32();
  Result<uint64_t> fixed64();
  // Exactly `length` raw bytes.
  Result<std::string_view> bytes(size_t length);
  Result<uint64_t> varint();
  // A length-prefixed string; the length may not exceed what is left.
  Result<std::string_view> string();

  bool done() const { return position_ == in_.size(); }
  size_t position() const { return position_; }
  std::string_view rest() const { return in_.substr(position_); }

 private:
  Status truncated(const char* what) const;

  std::string_view in_;
  size_t position_ = 0;
};

}  // namespace synod
