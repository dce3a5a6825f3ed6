//===- Reduce.h - the rank-ordered reduction --------------------*- C++ -*-===//
//
// The one place the deterministic reduction is computed, shared by the MPI
// communicator (over gathered contributions) and the thread group that
// emulates N ranks in one process, so both give the same bits.
//
//===----------------------------------------------------------------------===//
#ifndef TG_COMM_REDUCE_H
#define TG_COMM_REDUCE_H

#include "comm/Communicator.h"

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace tg::dist {

/// `x` rounded to bfloat16 (to nearest, ties to even; NaN stays NaN), as
/// its 16 bits.
inline uint16_t toBf16(float x) {
  uint32_t u;
  std::memcpy(&u, &x, 4);
  if ((u & 0x7fffffffu) > 0x7f800000u) // NaN: keep it quiet, not rounded to inf
    return uint16_t((u >> 16) | 0x40);
  u += 0x7fffu + ((u >> 16) & 1u);
  return uint16_t(u >> 16);
}
inline float fromBf16(uint16_t b) {
  uint32_t u = uint32_t(b) << 16;
  float x;
  std::memcpy(&x, &u, 4);
  return x;
}
inline float roundBf16(float x) { return fromBf16(toBf16(x)); }

/// Bytes rank `rank` of `n` sends in a rank-ordered allreduce of `count`
/// elements of `elementBytes`: every other rank's chunk in the alltoall, its
/// own reduced chunk to each other rank in the allgather.
inline uint64_t wireBytes(size_t count, int n, int rank, size_t elementBytes) {
  if (n <= 1)
    return 0;
  size_t mine = count / size_t(n) + (size_t(rank) < count % size_t(n) ? 1 : 0);
  return uint64_t(count - mine + mine * size_t(n - 1)) * elementBytes;
}

/// out[i] = (parts[0][i] + parts[1][i] + ... + parts[n-1][i]), added left to
/// right in rank order, then divided by n for a mean. `out` may be one of
/// the parts only if it is parts[0]. With `bf16` (Compression::Bf16), each
/// contribution is first rounded to bfloat16, as it travels, and the f32
/// result too, as it travels back: roundBf16(sum of roundBf16(parts)).
inline void reduceInRankOrder(const float *const *parts, int n, size_t count, ReduceOp op,
                              float *out, bool bf16 = false) {
  const float scale = float(n);
  if (bf16) {
    for (size_t i = 0; i < count; ++i) {
      float s = roundBf16(parts[0][i]);
      for (int r = 1; r < n; ++r)
        s += roundBf16(parts[r][i]);
      out[i] = roundBf16(op == ReduceOp::Mean ? s / scale : s);
    }
    return;
  }
  for (size_t i = 0; i < count; ++i) {
    float s = parts[0][i];
    for (int r = 1; r < n; ++r)
      s += parts[r][i];
    out[i] = op == ReduceOp::Mean ? s / scale : s;
  }
}

} // namespace tg::dist

#endif // TG_COMM_REDUCE_H
