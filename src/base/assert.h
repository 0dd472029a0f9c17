// SYNOD_ASSERT states an invariant of Synod's own code. It is never used for input from the network,
// the disk or a caller: such input is validated and rejected with a Status instead.
//
// Assertions stay on in every build: a broken invariant in a consensus system means corrupted state, and
// crashing loudly beats replicating the damage.
#pragma once

namespace synod::detail {
[[noreturn]] void assert_failed(const char* expr, const char* file, int line, const char* message);
}  // namespace synod::detail

#define SYNOD_ASSERT(expr)                                                \
  do {                                                                    \
    if (!(expr)) [[unlikely]] {                                           \
      ::synod::detail::assert_failed(#expr, __FILE__, __LINE__, nullptr); \
    }                                                                     \
  } while (false)

#define SYNOD_ASSERT_MSG(expr, message)                                     \
  do {                                                                      \
    if (!(expr)) [[unlikely]] {                                             \
      ::synod::detail::assert_failed(#expr, __FILE__, __LINE__, (message)); \
    }                                                                       \
  } while (false)
