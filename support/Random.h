//===- Random.h - Philox-4x32-10, the generator behind tg.random_* ---------===//
//
// Counter-based (Salmon et al., SC'11): the value at a position depends only
// on (seed, position, stream), so every backend can reproduce it without
// state. The same generator initializes params.
//
//===----------------------------------------------------------------------===//
#ifndef TG_SUPPORT_RANDOM_H
#define TG_SUPPORT_RANDOM_H

#include <array>
#include <cmath>
#include <cstdint>

namespace tg {

inline std::array<uint32_t, 4> philox4x32(uint64_t seed, uint64_t counter, uint32_t stream) {
  uint32_t c[4] = {uint32_t(counter), uint32_t(counter >> 32), stream, 0};
  uint32_t k0 = uint32_t(seed), k1 = uint32_t(seed >> 32);
  for (int round = 0; round < 10; ++round) {
    uint64_t p0 = uint64_t(0xD2511F53u) * c[0];
    uint64_t p1 = uint64_t(0xCD9E8D57u) * c[2];
    uint32_t n0 = uint32_t(p1 >> 32) ^ c[1] ^ k0;
    uint32_t n2 = uint32_t(p0 >> 32) ^ c[3] ^ k1;
    c[0] = n0;
    c[1] = uint32_t(p1);
    c[2] = n2;
    c[3] = uint32_t(p0);
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  return {c[0], c[1], c[2], c[3]};
}

/// Uniform in [0, 1) with 24 random bits (exact in f32).
inline double philoxUniform(uint64_t seed, uint64_t counter, uint32_t stream = 0) {
  return double(philox4x32(seed, counter, stream)[0] >> 8) * 0x1p-24;
}

/// Standard normal by Box-Muller on the first two words.
inline double philoxNormal(uint64_t seed, uint64_t counter, uint32_t stream = 0) {
  auto r = philox4x32(seed, counter, stream);
  double u1 = (double(r[0] >> 8) + 1.0) * 0x1p-24; // (0, 1]
  double u2 = double(r[1] >> 8) * 0x1p-24;
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
}

} // namespace tg

#endif // TG_SUPPORT_RANDOM_H
