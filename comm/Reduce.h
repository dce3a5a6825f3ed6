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

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

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
  const bool mean = op != ReduceOp::Sum;
  if (bf16) {
    for (size_t i = 0; i < count; ++i) {
      float s = roundBf16(parts[0][i]);
      for (int r = 1; r < n; ++r)
        s += roundBf16(parts[r][i]);
      out[i] = roundBf16(mean ? s / scale : s);
    }
    return;
  }
  for (size_t i = 0; i < count; ++i) {
    float s = parts[0][i];
    for (int r = 1; r < n; ++r)
      s += parts[r][i];
    out[i] = mean ? s / scale : s;
  }
}

/// Threshold encoding (Compression::Threshold; after Strom 2015 and DL4J's
/// encoded gradients). Each element a = data + residual with |a| >= t is
/// sent as one quantum q = +-t * 2^k, the largest such with |q| <= |a| (k
/// at most 15), and q is taken off the residual (exactly, for k < 15); the
/// rest stays in the residual for later steps. DL4J sends +-t only, which
/// leaves an element whose gradient stays above t a backlog that outlives
/// its sign: measured on the Fashion MLP with Adam, 1.5% below f32 after 5
/// epochs at the best t; the power of two drains it. A message is one
/// header word, then the sent elements as (index << 5 | sign << 4 | k) or,
/// when that is longer, a byte an element (0x80 | sign << 4 | k, 0: not
/// sent), so it is never more than a quarter of the f32 bytes (plus the
/// header). A non-finite element travels as 0xc0 (the byte form) and decodes
/// to NaN, so a diverging run shows in the params and the loss as it does
/// uncompressed, instead of hiding in a residual.
inline constexpr uint32_t kThresholdSparse = 0, kThresholdBytes = 1;
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "the byte form puts element i in byte i % 4 of word i / 4 by memcpy");
/// The sparse form's index field.
inline constexpr size_t kThresholdMaxCount = size_t(1) << 27;
/// The most words a message of `count` elements takes (header included).
inline size_t thresholdMaxWords(size_t count) { return 1 + (count + 3) / 4; }

/// Clamped into parseCompress's range, so that a direct caller with another
/// T cannot reach undefined behaviour (encode and decode clamp alike).
inline float thresholdQuantum(float t) { return std::min(std::max(t, 1.2e-38f), 1e30f); }

inline void thresholdEncode(const float *data, float *residual, size_t count, float t,
                            std::vector<uint32_t> &message) {
  t = thresholdQuantum(t);
  // One pass makes every element's code (a byte); the shorter form is built
  // from them. k is the difference of the exponents of |a| and t, less one
  // when t's mantissa is the larger; for a normal t (not near the top of the
  // range) t * 2^k is t's bits with k added to the exponent, exactly.
  std::vector<uint8_t> codes(count, 0);
  size_t sent = 0;
  bool nonFinite = false;
  uint32_t tb;
  std::memcpy(&tb, &t, 4);
  const int et = int((tb >> 23) & 0xffu);
  const bool fast = et > 0 && et + 15 < 255;
  for (size_t i = 0; i < count; ++i) {
    float a = data[i] + residual[i];
    float m = a < 0 ? -a : a;
    if (!std::isfinite(a)) {
      codes[i] = 0xc0;
      residual[i] = 0;
      nonFinite = true;
      ++sent;
      continue;
    }
    if (!(m >= t)) {
      residual[i] = a;
      continue;
    }
    int k;
    float q;
    if (fast) {
      uint32_t mb;
      std::memcpy(&mb, &m, 4);
      k = std::min(15, int((mb >> 23) & 0xffu) - et); // >= 0 as m >= t
      uint32_t qb = tb + (uint32_t(k) << 23);
      std::memcpy(&q, &qb, 4);
      if (q > m) { // only when k > 0: t's mantissa is the larger
        qb -= 1u << 23;
        --k;
        std::memcpy(&q, &qb, 4);
      }
    } else { // t outside parseCompress's range: the same, by libm
      k = std::min(15, std::max(0, std::ilogb(m) - std::ilogb(t)));
      q = std::ldexp(t, k);
      if (q > m)
        q = std::ldexp(t, --k);
    }
    uint32_t sign = a < 0 ? 1 : 0;
    residual[i] = sign ? a + q : a - q;
    codes[i] = uint8_t(0x80u | sign << 4 | uint32_t(k));
    ++sent;
  }
  message.clear();
  size_t words = (count + 3) / 4;
  if (count > kThresholdMaxCount || words < sent || nonFinite) {
    message.resize(1 + words, 0);
    message[0] = kThresholdBytes;
    std::memcpy(message.data() + 1, codes.data(), count); // little-endian: byte i of word i / 4
    return;
  }
  message.reserve(1 + sent);
  message.push_back(kThresholdSparse);
  for (size_t i = 0; i < count; ++i)
    if (codes[i])
      message.push_back(uint32_t(i) << 5 | (codes[i] & 0x1fu));
}

/// out[i] = the decoded quanta of messages[0], ..., messages[n-1] at i,
/// added in rank order from 0 (then divided by n for a mean): the bits of
/// reduceInRankOrder over the decoded dense arrays, as an element no rank
/// sent adds nothing. `sizes[r]` counts message r's words. False if a
/// message is malformed.
inline bool thresholdReduce(const uint32_t *const *messages, const size_t *sizes, int n,
                            size_t count, ReduceOp op, float t, float *out) {
  std::fill(out, out + count, 0.0f);
  t = thresholdQuantum(t);
  float quanta[32]; // by the code's low 5 bits: sign << 4 | k
  for (int k = 0; k < 16; ++k) {
    quanta[k] = std::ldexp(t, k);
    quanta[16 + k] = -quanta[k];
  }
  auto quantum = [&](uint32_t code) { return quanta[code & 31]; };
  for (int r = 0; r < n; ++r) {
    const uint32_t *m = messages[r];
    size_t words = sizes[r];
    if (words == 0)
      return false;
    if (m[0] == kThresholdSparse) {
      for (size_t k = 1; k < words; ++k) {
        size_t i = m[k] >> 5;
        if (i >= count)
          return false;
        out[i] += quantum(m[k]);
      }
    } else if (m[0] == kThresholdBytes && words == 1 + (count + 3) / 4) {
      for (size_t w = 1; w < words; ++w)
        for (uint32_t bits = m[w], j = 0; bits; bits >>= 8, ++j)
          if (bits & 0x80) {
            size_t i = (w - 1) * 4 + j;
            if (i >= count)
              return false;
            out[i] += (bits & 0x40) ? std::numeric_limits<float>::quiet_NaN() : quantum(bits);
          }
    } else {
      return false;
    }
  }
  if (op != ReduceOp::Sum)
    for (size_t i = 0; i < count; ++i)
      out[i] /= float(n);
  return true;
}

} // namespace tg::dist

#endif // TG_COMM_REDUCE_H
