//===- Copies.cpp - tgrt_relayout_f32 and memrefCopy ----------------------===//
//
// The kernels that move data without computing: tg.relayout's oneDNN reorder
// between plain NCHW and nChw<block>c, and the strided memref.copy of MLIR's
// runner-utils ABI.
//
//===----------------------------------------------------------------------===//
#include "runtime/Collectives.h"
#include "runtime/cpu/Dnnl.h"
#include "support/KernelAbi.h"

#include <cstring>

using namespace tg::cpu;

/// tg.relayout: plain NCHW to nChw<block>c (toBlocked) or back, one cached
/// oneDNN reorder.
extern "C" void _mlir_ciface_tgrt_relayout_f32(UnrankedMemRef *xm, UnrankedMemRef *ym,
                                               int64_t toBlocked, int64_t block) {
  tg::rt::progressCollectives(); // started collectives advance between kernels
  ProfileScope scope(tg::abi::kRelayoutF32.data());
  View x = viewOf(xm), y = viewOf(ym);
  dnnl::memory::desc blocked(x.sizes, dt::f32,
                             block == 8 ? dnnl::memory::format_tag::nChw8c
                                        : dnnl::memory::format_tag::nChw16c);
  dnnl::memory::desc from = toBlocked ? descOf(x) : blocked, to = toBlocked ? blocked : descOf(y);
  std::vector<LayoutArg> args = {{DNNL_ARG_FROM, true, x.data, from, from},
                                 {DNNL_ARG_TO, false, y.data, to, to}};
  runStaged(
      keyOf("relayout", {&x, &y}, {toBlocked, block}),
      [&] {
        Context::Staged st;
        st.primitive = dnnl::reorder(
            dnnl::reorder::primitive_desc(context().engine, from, context().engine, to));
        for (const LayoutArg &a : args)
          st.args.push_back({a.id, a.input, a.user, {}, {}});
        return std::vector{std::move(st)};
      },
      {args});
}

/// memref.copy between non-identity layouts lowers to this call (MLIR's
/// runner-utils ABI): a strided copy of `elemSize`-byte elements, one memcpy
/// per run of contiguous trailing dimensions.
extern "C" void memrefCopy(int64_t elemSize, UnrankedMemRef *src, UnrankedMemRef *dst) {
  ProfileScope scope("memrefCopy");
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
  // Trailing dimensions that are contiguous in both go as one block.
  int64_t inner = 1, dims = rank;
  while (dims > 0 && sStrides[dims - 1] == inner && dStrides[dims - 1] == inner) {
    inner *= sizes[dims - 1];
    --dims;
  }
  size_t block = size_t(inner * elemSize);
  std::vector<int64_t> index(size_t(dims), 0);
  for (int64_t n = 0; n < total / inner; ++n) {
    int64_t so = 0, dof = 0;
    for (int64_t i = 0; i < dims; ++i) {
      so += index[size_t(i)] * sStrides[i];
      dof += index[size_t(i)] * dStrides[i];
    }
    std::memcpy(dp + dof * elemSize, sp + so * elemSize, block);
    for (int64_t i = dims - 1; i >= 0; --i) {
      if (++index[size_t(i)] < sizes[i])
        break;
      index[size_t(i)] = 0;
    }
  }
}
