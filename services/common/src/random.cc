#include "regsuite/common/random.h"

#include <random>

#include "regsuite/common/check.h"

namespace regsuite::common {

RandomSource::RandomSource(uint64_t seed) : seed_(seed), state_(seed) {}

RandomSource RandomSource::FromOs() {
  std::random_device device;
  const uint64_t high = device();
  const uint64_t low = device();
  return RandomSource((high << 32) ^ low);
}

uint64_t RandomSource::Next() {
  state_ += 0x9E3779B97F4A7C15ULL;
  uint64_t z = state_;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

uint64_t RandomSource::Uniform(uint64_t bound) {
  RS_CHECK(bound > 0) << "RandomSource::Uniform: bound must be > 0";
  // Values below `threshold` would make the low results more likely than the high ones.
  const uint64_t threshold = (0 - bound) % bound;
  while (true) {
    const uint64_t value = Next();
    if (value >= threshold) return value % bound;
  }
}

}  // namespace regsuite::common
