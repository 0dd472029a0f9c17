#include "base/crc32c.h"

#include <array>
#include <cstring>

namespace synod {
namespace {

constexpr uint32_t kPolynomial = 0x82f63b78U;  // Castagnoli, reflected

constexpr std::array<uint32_t, 256> make_table() {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t crc = i;
    for (int bit = 0; bit < 8; ++bit) crc = (crc & 1U) != 0 ? (crc >> 1U) ^ kPolynomial : crc >> 1U;
    table[i] = crc;
  }
  return table;
}
constexpr std::array<uint32_t, 256> kTable = make_table();

uint32_t extend_table(uint32_t crc, const unsigned char* data, size_t size) {
  for (size_t i = 0; i < size; ++i) crc = kTable[(crc ^ data[i]) & 0xffU] ^ (crc >> 8U);
  return crc;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) uint32_t extend_sse42(uint32_t crc, const unsigned char* data,
                                                        size_t size) {
  uint64_t wide = crc;
  while (size >= 8) {
    uint64_t word = 0;
    std::memcpy(&word, data, 8);
    wide = __builtin_ia32_crc32di(wide, word);
    data += 8;
    size -= 8;
  }
  auto narrow = static_cast<uint32_t>(wide);
  while (size > 0) {
    narrow = __builtin_ia32_crc32qi(narrow, *data);
    ++data;
    --size;
  }
  return narrow;
}

bool has_sse42() {
  static const bool present = __builtin_cpu_supports("sse4.2");
  return present;
}
#endif

}  // namespace

uint32_t crc32c_extend(uint32_t crc, std::string_view data) {
  const auto* bytes = reinterpret_cast<const unsigned char*>(data.data());
  crc = ~crc;
#if defined(__x86_64__)
  if (has_sse42()) return ~extend_sse42(crc, bytes, data.size());
#endif
  return ~extend_table(crc, bytes, data.size());
}

const char* crc32c_implementation() {
#if defined(__x86_64__)
  if (has_sse42()) return "sse4.2";
#endif
  return "table";
}

}  // namespace synod
