//===- Kernels.cpp - oneDNN kernels called by compiled code ---------------===//
//
// Compiled artifacts call these through MLIR's C interface with unranked
// memrefs: {rank, descriptor*}, the descriptor being {allocated, aligned,
// offset, sizes[rank], strides[rank]}. Each distinct shape/stride signature
// gets one oneDNN primitive, created on first use and cached for the life of
// the process.
//
//===----------------------------------------------------------------------===//
#include "runtime/KernelError.h"

#include "dnnl.hpp"

#include <cstdint>
#include <cstring>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

namespace {

struct UnrankedMemRef {
  int64_t rank;
  void *descriptor;
};

struct View {
  float *data;
  dnnl::memory::dims sizes, strides;
};

View viewOf(const UnrankedMemRef *m) {
  auto *d = static_cast<char *>(m->descriptor);
  float *aligned = *reinterpret_cast<float **>(d + sizeof(void *));
  int64_t offset = *reinterpret_cast<int64_t *>(d + 2 * sizeof(void *));
  auto *rest = reinterpret_cast<int64_t *>(d + 2 * sizeof(void *) + sizeof(int64_t));
  View v{aligned + offset, {}, {}};
  for (int64_t i = 0; i < m->rank; ++i) {
    v.sizes.push_back(rest[i]);
    v.strides.push_back(rest[m->rank + i]);
  }
  return v;
}

/// Pads to `rank` with leading size-1 dims; optionally swaps the last two.
void normalize(View &v, size_t rank, bool transpose) {
  if (transpose) {
    std::swap(v.sizes[v.sizes.size() - 1], v.sizes[v.sizes.size() - 2]);
    std::swap(v.strides[v.strides.size() - 1], v.strides[v.strides.size() - 2]);
  }
  while (v.sizes.size() < rank) {
    v.sizes.insert(v.sizes.begin(), 1);
    v.strides.insert(v.strides.begin(), v.sizes[1] * v.strides[0]);
  }
}

struct Context {
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  dnnl::stream stream{engine};
  std::mutex mutex;
  std::map<std::string, dnnl::matmul> matmuls;
};

Context &context() {
  static Context *c = new Context(); // never destroyed: kernels may run at exit
  return *c;
}

void key(std::ostringstream &os, const View &v) {
  for (auto s : v.sizes)
    os << s << ',';
  os << '/';
  for (auto s : v.strides)
    os << s << ',';
  os << ';';
}

} // namespace

extern "C" void _mlir_ciface_tgrt_matmul_f32(UnrankedMemRef *a, UnrankedMemRef *b,
                                             UnrankedMemRef *c, int32_t transposeA,
                                             int32_t transposeB) {
  View va = viewOf(a), vb = viewOf(b), vc = viewOf(c);
  size_t rank = vc.sizes.size();
  normalize(va, rank, transposeA != 0);
  normalize(vb, rank, transposeB != 0);
  std::ostringstream os;
  key(os, va);
  key(os, vb);
  key(os, vc);
  Context &ctx = context();
  std::lock_guard<std::mutex> lock(ctx.mutex);
  using dt = dnnl::memory::data_type;
  dnnl::memory::desc da(va.sizes, dt::f32, va.strides), db(vb.sizes, dt::f32, vb.strides),
      dc(vc.sizes, dt::f32, vc.strides);
  auto it = ctx.matmuls.find(os.str());
  if (it == ctx.matmuls.end()) {
    try {
      dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(da, db, dc), ctx.engine); // oneDNN 2.x API
      it = ctx.matmuls.emplace(os.str(), dnnl::matmul(pd)).first;
    } catch (const dnnl::error &e) {
      // Shapes were verified at compile time, so this is an internal error;
      // tg_session_run reports it after the entry point returns.
      tg::setKernelError(std::string("oneDNN matmul ") + os.str() + ": " + e.what());
      return;
    }
  }
  dnnl::memory ma(da, ctx.engine, va.data), mb(db, ctx.engine, vb.data), mc(dc, ctx.engine, vc.data);
  it->second.execute(ctx.stream, {{DNNL_ARG_SRC, ma}, {DNNL_ARG_WEIGHTS, mb}, {DNNL_ARG_DST, mc}});
  ctx.stream.wait();
}

/// memref.copy between non-contiguous layouts lowers to this call (MLIR's
/// runner-utils ABI): a strided copy of `elemSize`-byte elements.
extern "C" void memrefCopy(int64_t elemSize, UnrankedMemRef *src, UnrankedMemRef *dst) {
  auto *s = static_cast<char *>(src->descriptor), *d = static_cast<char *>(dst->descriptor);
  int64_t rank = src->rank;
  char *sp = *reinterpret_cast<char **>(s + sizeof(void *)) +
             *reinterpret_cast<int64_t *>(s + 2 * sizeof(void *)) * elemSize;
  char *dp = *reinterpret_cast<char **>(d + sizeof(void *)) +
             *reinterpret_cast<int64_t *>(d + 2 * sizeof(void *)) * elemSize;
  auto *sizes = reinterpret_cast<int64_t *>(s + 2 * sizeof(void *) + sizeof(int64_t));
  auto *sStrides = sizes + rank;
  auto *dStrides = reinterpret_cast<int64_t *>(d + 2 * sizeof(void *) + sizeof(int64_t)) + rank;
  int64_t total = 1;
  for (int64_t i = 0; i < rank; ++i)
    total *= sizes[i];
  if (total == 0)
    return;
  std::vector<int64_t> index(size_t(rank), 0);
  for (int64_t n = 0; n < total; ++n) {
    int64_t so = 0, dof = 0;
    for (int64_t i = 0; i < rank; ++i) {
      so += index[size_t(i)] * sStrides[i];
      dof += index[size_t(i)] * dStrides[i];
    }
    std::memcpy(dp + dof * elemSize, sp + so * elemSize, size_t(elemSize));
    for (int64_t i = rank - 1; i >= 0; --i) {
      if (++index[size_t(i)] < sizes[i])
        break;
      index[size_t(i)] = 0;
    }
  }
}
