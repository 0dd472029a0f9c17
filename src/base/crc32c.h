// CRC32C (Castagnoli): the checksum of everything Synod stores on disk.
//
// Why CRC32C and not xxHash: a CRC detects every burst error up to 32 bits and every error of up to
// a few bits in records of the sizes we write, which is the damage disks and transfers cause; a hash
// like xxHash is faster in software but gives no such guarantee. With the SSE4.2 crc32 instruction
// (every x86-64 server since 2008) CRC32C runs at several GB/s, far above any disk, so the guarantee
// costs nothing. A table-driven version is used where the instruction is missing.
#pragma once

#include <cstdint>
#include <string_view>

namespace synod {

// Extends `crc` (0 for a fresh checksum) with `data`.
uint32_t crc32c_extend(uint32_t crc, std::string_view data);
inline uint32_t crc32c(std::string_view data) {
  return crc32c_extend(0, data);
}

// Which implementation runs here: "sse4.2" or "table".
const char* crc32c_implementation();

}  // namespace synod
