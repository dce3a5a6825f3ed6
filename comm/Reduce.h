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

namespace tg::dist {

/// out[i] = (parts[0][i] + parts[1][i] + ... + parts[n-1][i]), added left to
/// right in rank order, then divided by n for a mean. `out` may be one of
/// the parts only if it is parts[0].
inline void reduceInRankOrder(const float *const *parts, int n, size_t count, ReduceOp op,
                              float *out) {
  const float scale = float(n);
  for (size_t i = 0; i < count; ++i) {
    float s = parts[0][i];
    for (int r = 1; r < n; ++r)
      s += parts[r][i];
    out[i] = op == ReduceOp::Mean ? s / scale : s;
  }
}

} // namespace tg::dist

#endif // TG_COMM_REDUCE_H
