// A small deterministic pseudo-random generator (SplitMix64). Protocol cores and the simulator take all
// their randomness from one of these, seeded by their caller, so a run replays exactly from its seed.
#pragma once

#include <cstdint>

#include "base/assert.h"

namespace synod {

class Random {
 public:
  explicit Random(uint64_t seed) : state_(seed) {}

  uint64_t next() {
    state_ += 0x9e3779b97f4a7c15ULL;
    uint64_t z = state_;
    z = (z ^ (z >> 30U)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27U)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31U);
  }

  // Uniform in [0, bound). The modulo bias is below 2^-40 for the small bounds used here.
  uint64_t uniform(uint64_t bound) {
    SYNOD_ASSERT(bound > 0);
    return next() % bound;
  }

  // Uniform in [low, high].
  uint64_t between(uint64_t low, uint64_t high) {
    SYNOD_ASSERT(low <= high);
    return low + uniform(high - low + 1);
  }

  // True with probability numerator/denominator.
  bool chance(uint64_t numerator, uint64_t denominator) { return uniform(denominator) < numerator; }

  uint64_t state() const { return state_; }

 private:
  uint64_t state_;
};

}  // namespace synod
