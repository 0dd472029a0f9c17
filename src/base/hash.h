// A fast non-cryptographic hash for test oracles and in-memory tables (FNV-1a, mixed with a seed).
// Not a checksum for data at rest: storage uses its own.
#pragma once

#include <cstdint>
#include <string_view>

namespace synod {

inline uint64_t hash_bytes(std::string_view bytes, uint64_t seed = 0) {
  uint64_t hash = 0xcbf29ce484222325ULL ^ (seed * 0x9e3779b97f4a7c15ULL);
  for (unsigned char c : bytes) {
    hash ^= c;
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

}  // namespace synod
