//===- Views.h - memref descriptors of the host code's library calls -*- C++ -*-===//
//
// Library calls get their operands through MLIR's C interface as unranked
// memrefs: {rank, descriptor*}, the descriptor being {allocated, aligned,
// offset, sizes[rank], strides[rank]} (here: device pointers).
//
//===----------------------------------------------------------------------===//
#ifndef TG_RUNTIME_CUDA_VIEWS_H
#define TG_RUNTIME_CUDA_VIEWS_H

#include <cstdint>
#include <vector>

namespace tg {
namespace cuda {

struct UnrankedMemRef {
  int64_t rank;
  void *descriptor;
};

struct View {
  float *data = nullptr;
  std::vector<int64_t> sizes, strides;
};

inline View viewOf(const UnrankedMemRef *m) {
  auto *d = static_cast<char *>(m->descriptor);
  float *aligned = *reinterpret_cast<float **>(d + sizeof(void *));
  int64_t offset = *reinterpret_cast<int64_t *>(d + 2 * sizeof(void *));
  auto *rest = reinterpret_cast<int64_t *>(d + 2 * sizeof(void *) + sizeof(int64_t));
  View v;
  v.data = aligned + offset;
  for (int64_t i = 0; i < m->rank; ++i) {
    v.sizes.push_back(rest[i]);
    v.strides.push_back(rest[m->rank + i]);
  }
  return v;
}

} // namespace cuda
} // namespace tg

#endif // TG_RUNTIME_CUDA_VIEWS_H
