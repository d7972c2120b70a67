#pragma once

#include <cstdint>

namespace regsuite::common {

/// Seeded pseudo-random numbers for draws that must be reproducible and auditable
/// (双随机): the same seed always gives the same sequence, on every platform.
///
/// Generator: SplitMix64 (Steele, Lea & Flood 2014), state starting at the seed:
///   state += 0x9E3779B97F4A7C15; z = state;
///   z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9; z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
///   return z ^ (z >> 31);
/// Uniform(bound) draws Next() until the value is >= (2^64 - bound) % bound and returns
/// value % bound, so every result in [0, bound) is equally likely (no modulo bias).
/// Not for secrets: it is predictable by design. Not thread-safe; one per draw.
class RandomSource {
 public:
  explicit RandomSource(uint64_t seed);

  /// Seeded from the operating system's entropy; seed() tells which seed was used so the
  /// draw can be recorded and replayed.
  static RandomSource FromOs();

  /// The seed this source started from.
  uint64_t seed() const { return seed_; }

  /// The next 64 random bits.
  uint64_t Next();

  /// A uniformly distributed value in [0, bound). bound must be > 0 (checked).
  uint64_t Uniform(uint64_t bound);

 private:
  uint64_t seed_;
  uint64_t state_;
};

}  // namespace regsuite::common
