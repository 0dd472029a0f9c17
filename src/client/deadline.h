// Deadlines for the client helpers: callers think in steady-clock time points (immune to the wall clock
// being set), gRPC wants a system-clock one, so the remaining time is carried over at the moment of use.
#pragma once

#include <algorithm>
#include <chrono>

namespace synod::client {

using Clock = std::chrono::steady_clock;
using Deadline = Clock::time_point;

// A deadline far enough away to mean "no deadline" without overflowing when a duration is added to it.
inline Deadline no_deadline() {
  return Clock::now() + std::chrono::hours(24 * 365);
}

inline std::chrono::system_clock::time_point to_system(Deadline deadline) {
  return std::chrono::system_clock::now() +
         std::chrono::duration_cast<std::chrono::system_clock::duration>(deadline - Clock::now());
}

inline Deadline earlier(Deadline a, Deadline b) {
  return std::min(a, b);
}

}  // namespace synod::client
