//===- Matmul.cpp - libtgrt_cuda: matmuls through cuBLASLt ----------------===//
//
// c = act(op(a) @ op(b) [+ bias]) on row-major views (rank 2, or rank 3 with
// a batch dimension, broadcast when its size is 1), in full FP32
// (CUBLAS_COMPUTE_32F: no TF32). cuBLASLt is column-major, so the product is
// computed transposed: c^T = op(b)^T op(a)^T, where a row-major view with unit
// column stride is the column-major transpose with the same leading dimension.
// One plan (descriptors + heuristic algorithm) per shape/stride signature.
//
//===----------------------------------------------------------------------===//
#include "runtime/cuda/Session.h"
#include "runtime/cuda/Views.h"

#include <cstring>
#include <optional>
#include <string>

namespace tg {
namespace cuda {

struct MatmulPlan {
  const CublasLt *lt = nullptr;
  cublasLtMatmulDesc_t desc = nullptr;
  cublasLtMatrixLayout_t x = nullptr, y = nullptr, c = nullptr;
  cublasLtMatmulAlgo_t algo;
  ~MatmulPlan() {
    if (!lt)
      return;
    for (auto l : {x, y, c})
      if (l)
        lt->cublasLtMatrixLayoutDestroy(l);
    if (desc)
      lt->cublasLtMatmulDescDestroy(desc);
  }
};

Session::Session() = default;

/// Here, where MatmulPlan is complete.
Session::~Session() {
  if (!cu)
    return;
  if (stream)
    cu->cuStreamSynchronize(stream);
  matmuls.clear();
  leaveCollectives();
  for (auto &[name, g] : graphs) {
    if (g.exec)
      cu->cuGraphExecDestroy(g.exec);
    for (CUdeviceptr p : g.reserved)
      cu->cuMemFree(p), sizes.erase(p);
  }
  for (auto &[host, p] : constants)
    cu->cuMemFree(p);
  for (Staging &slot : staging) {
    if (slot.sent)
      cu->cuEventDestroy(slot.sent);
    if (slot.host)
      cu->cuMemFreeHost(slot.host);
  }
  if (dnnHandle)
    dnn->cudnnDestroy(dnnHandle);
  for (auto &[p, size] : sizes)
    cu->cuMemFree(p);
  if (workspace)
    cu->cuMemFree(workspace);
  if (blas)
    lt->cublasLtDestroy(blas);
  if (module)
    cu->cuModuleUnload(module);
  if (stream)
    cu->cuStreamDestroy(stream);
  if (context)
    cu->cuDevicePrimaryCtxRelease(device);
}

} // namespace cuda
} // namespace tg

namespace {

using tg::cuda::MatmulPlan;
using tg::cuda::Session;

using tg::cuda::UnrankedMemRef;
using tg::cuda::View;
using tg::cuda::viewOf;

/// Rank 3 with a leading batch of 1 for rank 2; the last two swapped for op.
void normalize(View &v, bool transpose) {
  size_t r = v.sizes.size();
  if (transpose) {
    std::swap(v.sizes[r - 1], v.sizes[r - 2]);
    std::swap(v.strides[r - 1], v.strides[r - 2]);
  }
  if (r == 2) {
    v.sizes.insert(v.sizes.begin(), 1);
    v.strides.insert(v.strides.begin(), 0);
  }
}

/// A logical row-major matrix [rows, cols] (strides sr, sc) as a cuBLASLt
/// column-major operand of the transposed product: its layout (rows, cols,
/// ld) and whether cuBLASLt must transpose it to get view^T.
struct Operand {
  uint64_t rows, cols;
  int64_t ld;
  bool transpose;
};

std::optional<Operand> operandOf(int64_t rows, int64_t cols, int64_t sr, int64_t sc) {
  if (sc == 1 || cols == 1) // row-major: stored as view^T, column-major
    return Operand{uint64_t(cols), uint64_t(rows), std::max<int64_t>(sr, cols), false};
  if (sr == 1 || rows == 1) // column-major already: cuBLASLt transposes
    return Operand{uint64_t(rows), uint64_t(cols), std::max<int64_t>(sc, rows), true};
  return std::nullopt;
}

bool setLayout(Session &s, cublasLtMatrixLayout_t &l, const Operand &o, int64_t batch,
               int64_t batchStride) {
  const tg::cuda::CublasLt &lt = *s.lt;
  if (lt.cublasLtMatrixLayoutCreate(&l, CUDA_R_32F, o.rows, o.cols, o.ld) != CUBLAS_STATUS_SUCCESS)
    return false;
  int32_t count = int32_t(batch);
  return lt.cublasLtMatrixLayoutSetAttribute(l, CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT, &count,
                                             sizeof count) == CUBLAS_STATUS_SUCCESS &&
         lt.cublasLtMatrixLayoutSetAttribute(l, CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET,
                                             &batchStride,
                                             sizeof batchStride) == CUBLAS_STATUS_SUCCESS;
}

void matmul(UnrankedMemRef *a, UnrankedMemRef *b, UnrankedMemRef *bias, UnrankedMemRef *c,
            int32_t transposeA, int32_t transposeB, int64_t activation) {
  Session *s = tg::cuda::current();
  if (!s || !s->error.empty())
    return;
  if (a->rank < 2 || a->rank > 3 || b->rank < 2 || b->rank > 3 || c->rank < 2 || c->rank > 3) {
    s->fail("cuBLASLt matmul of rank other than 2 or 3");
    return;
  }
  View va = viewOf(a), vb = viewOf(b), vc = viewOf(c);
  normalize(va, transposeA != 0);
  normalize(vb, transposeB != 0);
  normalize(vc, false);
  int64_t batch = vc.sizes[0], m = vc.sizes[1], n = vc.sizes[2], k = va.sizes[2];
  auto batchStride = [&](const View &v) { return v.sizes[0] == 1 ? 0 : v.strides[0]; };
  // c^T [n, m] = op(b)^T [n, k] * op(a)^T [k, m]
  std::optional<Operand> ox = operandOf(k, n, vb.strides[1], vb.strides[2]);
  std::optional<Operand> oy = operandOf(m, k, va.strides[1], va.strides[2]);
  std::optional<Operand> oc = operandOf(m, n, vc.strides[1], vc.strides[2]);
  if (!ox || !oy || !oc || oc->transpose) {
    s->fail("cuBLASLt matmul on a view without a unit stride");
    return;
  }
  std::string key;
  auto word = [&](int64_t w) { key.append(reinterpret_cast<const char *>(&w), sizeof w); };
  for (const View *v : {&va, &vb, &vc})
    for (size_t i = 0; i < 3; ++i) {
      word(v->sizes[i]);
      word(v->strides[i]);
    }
  word(bias ? 1 : 0);
  word(activation);
  auto &plan = s->matmuls[key];
  const tg::cuda::CublasLt &lt = *s->lt;
  if (!plan) {
    auto p = std::make_unique<MatmulPlan>();
    p->lt = &lt;
    bool ok = lt.cublasLtMatmulDescCreate(&p->desc, CUBLAS_COMPUTE_32F, CUDA_R_32F) ==
              CUBLAS_STATUS_SUCCESS;
    cublasOperation_t tx = ox->transpose ? CUBLAS_OP_T : CUBLAS_OP_N;
    cublasOperation_t ty = oy->transpose ? CUBLAS_OP_T : CUBLAS_OP_N;
    ok = ok &&
         lt.cublasLtMatmulDescSetAttribute(p->desc, CUBLASLT_MATMUL_DESC_TRANSA, &tx, sizeof tx) ==
             CUBLAS_STATUS_SUCCESS &&
         lt.cublasLtMatmulDescSetAttribute(p->desc, CUBLASLT_MATMUL_DESC_TRANSB, &ty, sizeof ty) ==
             CUBLAS_STATUS_SUCCESS;
    if (bias) {
      cublasLtEpilogue_t e = activation == 1 ? CUBLASLT_EPILOGUE_RELU_BIAS : CUBLASLT_EPILOGUE_BIAS;
      ok = ok && lt.cublasLtMatmulDescSetAttribute(p->desc, CUBLASLT_MATMUL_DESC_EPILOGUE, &e,
                                                   sizeof e) == CUBLAS_STATUS_SUCCESS;
    }
    ok = ok && setLayout(*s, p->x, *ox, batch, batchStride(vb)) &&
         setLayout(*s, p->y, *oy, batch, batchStride(va)) &&
         setLayout(*s, p->c, *oc, batch, batchStride(vc));
    cublasLtMatmulPreference_t pref = nullptr;
    int found = 0;
    cublasLtMatmulHeuristicResult_t result;
    if (ok && lt.cublasLtMatmulPreferenceCreate(&pref) == CUBLAS_STATUS_SUCCESS) {
      uint64_t ws = s->workspaceBytes;
      lt.cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws,
                                              sizeof ws);
      ok = lt.cublasLtMatmulAlgoGetHeuristic(s->blas, p->desc, p->x, p->y, p->c, p->c, pref, 1,
                                             &result, &found) == CUBLAS_STATUS_SUCCESS &&
           found > 0;
      lt.cublasLtMatmulPreferenceDestroy(pref);
    }
    if (!ok) {
      s->fail("cuBLASLt has no algorithm for a " + std::to_string(m) + "x" + std::to_string(k) +
              " by " + std::to_string(k) + "x" + std::to_string(n) + " f32 matmul");
      return;
    }
    p->algo = result.algo;
    plan = std::move(p);
  }
  if (bias) {
    void *ptr = viewOf(bias).data;
    lt.cublasLtMatmulDescSetAttribute(plan->desc, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &ptr,
                                      sizeof ptr);
  }
  float one = 1.0f, zero = 0.0f;
  cublasStatus_t st =
      lt.cublasLtMatmul(s->blas, plan->desc, &one, vb.data, plan->x, va.data, plan->y, &zero,
                        vc.data, plan->c, vc.data, plan->c, &plan->algo,
                        reinterpret_cast<void *>(s->workspace), s->workspaceBytes, s->stream);
  if (st != CUBLAS_STATUS_SUCCESS)
    s->fail("cublasLtMatmul failed (status " + std::to_string(int(st)) + ")");
}

} // namespace

extern "C" void _mlir_ciface_tgrt_cuda_matmul_f32(UnrankedMemRef *a, UnrankedMemRef *b,
                                                  UnrankedMemRef *c, int32_t transposeA,
                                                  int32_t transposeB) {
  matmul(a, b, nullptr, c, transposeA, transposeB, 0);
}

extern "C" void _mlir_ciface_tgrt_cuda_fused_matmul_f32(UnrankedMemRef *a, UnrankedMemRef *b,
                                                        UnrankedMemRef *bias, UnrankedMemRef *c,
                                                        int32_t transposeA, int32_t transposeB,
                                                        int32_t activation) {
  matmul(a, b, bias, c, transposeA, transposeB, activation);
}
