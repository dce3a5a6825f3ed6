//===- Matmul.cpp - tgrt_matmul_f32, tgrt_fused_matmul_f32 ----------------===//
//
// c = act(op(a) @ op(b) [+ bias]) with one cached oneDNN matmul per shape,
// strides, epilogue and compute type, and the kernels' *_ext forms.
//
//===----------------------------------------------------------------------===//
#include "runtime/Collectives.h"
#include "runtime/cpu/Dnnl.h"
#include "support/KernelAbi.h"

#include <algorithm>
#include <optional>

using namespace tg::cpu;

namespace {

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

/// Row-major strides of `sizes`.
dnnl::memory::dims denseStrides(const dnnl::memory::dims &sizes) {
  dnnl::memory::dims s(sizes.size(), 1);
  for (size_t i = sizes.size(); i-- > 1;)
    s[i - 1] = s[i] * sizes[i];
  return s;
}

/// c = act(op(a) @ op(b) [+ bias]) with one cached oneDNN matmul; with bf16
/// compute, a and b are rounded into dense bf16 copies first.
void matmul(UnrankedMemRef *a, UnrankedMemRef *b, UnrankedMemRef *bias, UnrankedMemRef *c,
            int32_t transposeA, int32_t transposeB, int64_t activation) {
  View va = viewOf(a), vb = viewOf(b), vc = viewOf(c);
  size_t rank = vc.sizes.size();
  normalize(va, rank, transposeA != 0);
  normalize(vb, rank, transposeB != 0);
  std::optional<View> vbias;
  if (bias) {
    // [N] broadcast over every row: dims [1, ..., 1, N].
    View v = viewOf(bias);
    vbias = View{v.data, dnnl::memory::dims(rank, 1), dnnl::memory::dims(rank, 0)};
    vbias->sizes.back() = vc.sizes.back();
    vbias->strides.back() = 1;
    for (size_t i = 0; i + 1 < rank; ++i)
      vbias->strides[i] = vc.sizes.back();
  }
  // The key: every size and stride, whether there is a bias, the activation.
  std::string key;
  auto word = [&](int64_t w) { key.append(reinterpret_cast<const char *>(&w), sizeof w); };
  for (const View *v : {&va, &vb, &vc, vbias ? &*vbias : nullptr})
    if (v)
      for (size_t i = 0; i < rank; ++i) {
        word(v->sizes[i]);
        word(v->strides[i]);
      }
  word(vbias ? 1 : 0);
  word(activation);
  bool bf16 = bf16Compute();
  word(bf16 ? 1 : 0);
  Context &ctx = context();
  std::lock_guard<std::mutex> lock(ctx.mutex);
  auto it = ctx.matmuls.find(key);
  if (it == ctx.matmuls.end()) {
    try {
      using dt = dnnl::memory::data_type;
      dnnl::memory::desc da(va.sizes, dt::f32, va.strides), db(vb.sizes, dt::f32, vb.strides),
          dc(vc.sizes, dt::f32, vc.strides);
      dnnl::memory::desc dbias =
          vbias ? dnnl::memory::desc(vbias->sizes, dt::f32, vbias->strides) : dnnl::memory::desc();
      dnnl::memory::desc a16(va.sizes, dt::bf16, denseStrides(va.sizes)),
          b16(vb.sizes, dt::bf16, denseStrides(vb.sizes));
      auto desc = vbias ? dnnl::matmul::desc(bf16 ? a16 : da, bf16 ? b16 : db, dbias, dc)
                        : dnnl::matmul::desc(bf16 ? a16 : da, bf16 ? b16 : db, dc);
      dnnl::matmul::primitive_desc pd(desc, postOps(activation), ctx.engine); // oneDNN 2.x API
      Context::Matmul m{dnnl::matmul(pd), {}, {}, {}, {}, {}};
      m.args = {{DNNL_ARG_DST, dnnl::memory(dc, ctx.engine, nullptr)}};
      if (bf16) {
        m.userA = dnnl::memory(da, ctx.engine, nullptr);
        m.userB = dnnl::memory(db, ctx.engine, nullptr);
        m.args[DNNL_ARG_SRC] = dnnl::memory(a16, ctx.engine);
        m.args[DNNL_ARG_WEIGHTS] = dnnl::memory(b16, ctx.engine);
        m.toA = dnnl::reorder(m.userA, m.args[DNNL_ARG_SRC]);
        m.toB = dnnl::reorder(m.userB, m.args[DNNL_ARG_WEIGHTS]);
      } else {
        m.args[DNNL_ARG_SRC] = dnnl::memory(da, ctx.engine, nullptr);
        m.args[DNNL_ARG_WEIGHTS] = dnnl::memory(db, ctx.engine, nullptr);
      }
      if (vbias)
        m.args[DNNL_ARG_BIAS] = dnnl::memory(dbias, ctx.engine, nullptr);
      it = ctx.matmuls.emplace(std::move(key), std::move(m)).first;
    } catch (const dnnl::error &e) {
      // Shapes were verified at compile time, so this is an internal error;
      // tg_session_run reports it after the entry point returns.
      std::ostringstream os;
      for (const View *v : {&va, &vb, &vc})
        tg::cpu::key(os, *v);
      tg::setKernelError(std::string("oneDNN matmul ") + os.str() + ": " + e.what());
      return;
    }
  }
  if (prepareOnly)
    return;
  Context::Matmul &mm = it->second;
  auto &args = mm.args;
  if (bf16) {
    mm.userA.set_data_handle(va.data);
    mm.userB.set_data_handle(vb.data);
    mm.toA.execute(ctx.stream, {{DNNL_ARG_FROM, mm.userA}, {DNNL_ARG_TO, args[DNNL_ARG_SRC]}});
    mm.toB.execute(ctx.stream, {{DNNL_ARG_FROM, mm.userB}, {DNNL_ARG_TO, args[DNNL_ARG_WEIGHTS]}});
  } else {
    args[DNNL_ARG_SRC].set_data_handle(va.data);
    args[DNNL_ARG_WEIGHTS].set_data_handle(vb.data);
  }
  args[DNNL_ARG_DST].set_data_handle(vc.data);
  if (vbias)
    args[DNNL_ARG_BIAS].set_data_handle(vbias->data);
  addScratchpad(ctx, it->second.primitive, args);
  it->second.primitive.execute(ctx.stream, args);
  ctx.stream.wait();
}

} // namespace

extern "C" void _mlir_ciface_tgrt_matmul_f32(UnrankedMemRef *a, UnrankedMemRef *b,
                                             UnrankedMemRef *c, int32_t transposeA,
                                             int32_t transposeB) {
  tg::rt::progressCollectives(); // started collectives advance between kernels
  ProfileScope scope(tg::abi::kMatmulF32.data());
  matmul(a, b, nullptr, c, transposeA, transposeB, 0);
}

extern "C" void _mlir_ciface_tgrt_fused_matmul_f32(UnrankedMemRef *a, UnrankedMemRef *b,
                                                   UnrankedMemRef *bias, UnrankedMemRef *c,
                                                   int32_t transposeA, int32_t transposeB,
                                                   int32_t activation) {
  tg::rt::progressCollectives(); // started collectives advance between kernels
  ProfileScope scope(tg::abi::kFusedMatmulF32.data());
  matmul(a, b, bias, c, transposeA, transposeB, activation);
}

// The *_ext forms (support/KernelAbi.h): i64 parameters, then the layouts
// and compute type for this call.
extern "C" void _mlir_ciface_tgrt_matmul_f32_ext(UnrankedMemRef *a, UnrankedMemRef *b,
                                                 UnrankedMemRef *c, int64_t transposeA,
                                                 int64_t transposeB, TG_LAYOUT_PARAMS) {
  LayoutScope layouts(blockedMask, block, compute);
  _mlir_ciface_tgrt_matmul_f32(a, b, c, int32_t(transposeA), int32_t(transposeB));
}

extern "C" void _mlir_ciface_tgrt_fused_matmul_f32_ext(UnrankedMemRef *a, UnrankedMemRef *b,
                                                       UnrankedMemRef *bias, UnrankedMemRef *c,
                                                       int64_t transposeA, int64_t transposeB,
                                                       int64_t activation, TG_LAYOUT_PARAMS) {
  LayoutScope layouts(blockedMask, block, compute);
  _mlir_ciface_tgrt_fused_matmul_f32(a, b, bias, c, int32_t(transposeA), int32_t(transposeB),
                                     int32_t(activation));
}
