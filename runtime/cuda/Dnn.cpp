//===- Dnn.cpp - libtgrt_cuda: convolutions and pooling through cuDNN -----===//
//
// NCHW tensors with their strides, OIHW filters (packed), the legacy cuDNN API
// with fixed deterministic algorithms (implicit GEMM forward, ALGO_1 for both
// backward passes) and FMA math (no TF32), so a step gives the same bits run
// to run. Bias and activation of a fused convolution are cudnnAddTensor and
// cudnnActivationForward in place. Max-pooling's gradient recomputes the
// forward output (cuDNN's backward reads it; tg.max_pool2d_grad has x only).
// cuDNN's 2-D descriptors take symmetric padding only: asymmetric padding is
// refused when the session opens (support/KernelAbi.h).
//
//===----------------------------------------------------------------------===//
#include "runtime/cuda/Session.h"
#include "runtime/cuda/Views.h"

#include <string>

namespace {

using tg::cuda::Session;
using tg::cuda::UnrankedMemRef;
using tg::cuda::View;
using tg::cuda::viewOf;

/// Destroys the descriptors of one call.
struct Descriptors {
  const tg::cuda::Cudnn &d;
  std::vector<cudnnTensorDescriptor_t> tensors;
  cudnnFilterDescriptor_t filter = nullptr;
  cudnnConvolutionDescriptor_t conv = nullptr;
  cudnnPoolingDescriptor_t pool = nullptr;
  cudnnActivationDescriptor_t act = nullptr;
  explicit Descriptors(const tg::cuda::Cudnn &d) : d(d) {}
  ~Descriptors() {
    for (auto t : tensors)
      d.cudnnDestroyTensorDescriptor(t);
    if (filter)
      d.cudnnDestroyFilterDescriptor(filter);
    if (conv)
      d.cudnnDestroyConvolutionDescriptor(conv);
    if (pool)
      d.cudnnDestroyPoolingDescriptor(pool);
    if (act)
      d.cudnnDestroyActivationDescriptor(act);
  }
};

/// Checks a cuDNN status; false (and the session's error) when it failed.
bool ok(Session &s, cudnnStatus_t st, const char *what) {
  if (st == CUDNN_STATUS_SUCCESS)
    return true;
  s.fail(std::string(what) + ": " + s.dnn->cudnnGetErrorString(st));
  return false;
}

/// A 4-D NCHW tensor descriptor with the view's strides.
cudnnTensorDescriptor_t tensor(Session &s, Descriptors &ds, const View &v) {
  cudnnTensorDescriptor_t t = nullptr;
  if (v.sizes.size() != 4) {
    s.fail("cuDNN call on a tensor of rank " + std::to_string(v.sizes.size()) + " (NCHW only)");
    return nullptr;
  }
  if (!ok(s, s.dnn->cudnnCreateTensorDescriptor(&t), "cudnnCreateTensorDescriptor"))
    return nullptr;
  ds.tensors.push_back(t);
  auto i = [&](size_t k) { return int(v.sizes[k]); };
  auto st = [&](size_t k) { return int(v.strides[k]); };
  if (!ok(s,
          s.dnn->cudnnSetTensor4dDescriptorEx(t, CUDNN_DATA_FLOAT, i(0), i(1), i(2), i(3), st(0),
                                              st(1), st(2), st(3)),
          "cudnnSetTensor4dDescriptorEx"))
    return nullptr;
  return t;
}

/// The bias [O] as a [1, O, 1, 1] tensor.
cudnnTensorDescriptor_t biasTensor(Session &s, Descriptors &ds, const View &b) {
  View v;
  v.data = b.data;
  v.sizes = {1, b.sizes.back(), 1, 1};
  v.strides = {b.sizes.back(), 1, 1, 1};
  return tensor(s, ds, v);
}

bool filter(Session &s, Descriptors &ds, const View &w) {
  if (w.sizes.size() != 4 || w.strides[3] != 1 || w.strides[2] != w.sizes[3] ||
      w.strides[1] != w.sizes[2] * w.sizes[3] || w.strides[0] != w.sizes[1] * w.strides[1]) {
    s.fail("cuDNN filter that is not a packed OIHW tensor");
    return false;
  }
  return ok(s, s.dnn->cudnnCreateFilterDescriptor(&ds.filter), "cudnnCreateFilterDescriptor") &&
         ok(s,
            s.dnn->cudnnSetFilter4dDescriptor(ds.filter, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW,
                                              int(w.sizes[0]), int(w.sizes[1]), int(w.sizes[2]),
                                              int(w.sizes[3])),
            "cudnnSetFilter4dDescriptor");
}

bool convolution(Session &s, Descriptors &ds, int64_t sh, int64_t sw, int64_t pt, int64_t pb,
                 int64_t pl, int64_t pr, int64_t dh, int64_t dw, int64_t groups) {
  if (pt != pb || pl != pr) {
    s.fail("cuDNN convolution with asymmetric padding");
    return false;
  }
  const tg::cuda::Cudnn &d = *s.dnn;
  return ok(s, d.cudnnCreateConvolutionDescriptor(&ds.conv), "cudnnCreateConvolutionDescriptor") &&
         ok(s,
            d.cudnnSetConvolution2dDescriptor(ds.conv, int(pt), int(pl), int(sh), int(sw), int(dh),
                                              int(dw), CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT),
            "cudnnSetConvolution2dDescriptor") &&
         ok(s, d.cudnnSetConvolutionGroupCount(ds.conv, int(groups)),
            "cudnnSetConvolutionGroupCount") &&
         ok(s, d.cudnnSetConvolutionMathType(ds.conv, CUDNN_FMA_MATH),
            "cudnnSetConvolutionMathType");
}

/// One convolution call on NCHW tensors `a` and `b` and the filter `f`:
/// `size` asks cuDNN for the algorithm's workspace, `run` makes the call with
/// it. The tensor descriptors are ds.tensors[0] (a) and [1] (b).
template <typename Size, typename Run>
bool convCall(Session &s, Descriptors &ds, const View &a, const View &b, const View &f, int64_t sh,
              int64_t sw, int64_t pt, int64_t pb, int64_t pl, int64_t pr, int64_t dh, int64_t dw,
              int64_t groups, const char *what, Size size, Run run) {
  cudnnTensorDescriptor_t ta = tensor(s, ds, a), tb = tensor(s, ds, b);
  if (!ta || !tb || !filter(s, ds, f) ||
      !convolution(s, ds, sh, sw, pt, pb, pl, pr, dh, dw, groups))
    return false;
  size_t bytes = 0;
  if (!ok(s, size(ta, tb, &bytes), "asking cuDNN for a convolution workspace"))
    return false;
  CUdeviceptr ws = s.scratch(bytes);
  bool done = ok(s, run(ta, tb, reinterpret_cast<void *>(ws), bytes), what);
  s.releaseScratch(ws);
  return done;
}

Session *ready() {
  Session *s = tg::cuda::current();
  if (!s || !s->error.empty())
    return nullptr;
  if (!s->dnn) {
    s->fail("a cuDNN call in a session that did not load cuDNN");
    return nullptr;
  }
  return s;
}

const float kOne = 1.0f, kZero = 0.0f;

void convForward(UnrankedMemRef *xm, UnrankedMemRef *wm, UnrankedMemRef *bm, UnrankedMemRef *ym,
                 int64_t sh, int64_t sw, int64_t pt, int64_t pb, int64_t pl, int64_t pr, int64_t dh,
                 int64_t dw, int64_t groups, int64_t activation) {
  Session *s = ready();
  if (!s)
    return;
  const tg::cuda::Cudnn &d = *s->dnn;
  Descriptors ds(d);
  View x = viewOf(xm), w = viewOf(wm), y = viewOf(ym);
  auto algo = CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM;
  if (!convCall(
          *s, ds, x, y, w, sh, sw, pt, pb, pl, pr, dh, dw, groups, "cudnnConvolutionForward",
          [&](auto tx, auto ty, size_t *bytes) {
            return d.cudnnGetConvolutionForwardWorkspaceSize(s->dnnHandle, tx, ds.filter, ds.conv,
                                                             ty, algo, bytes);
          },
          [&](auto tx, auto ty, void *ws, size_t bytes) {
            return d.cudnnConvolutionForward(s->dnnHandle, &kOne, tx, x.data, ds.filter, w.data,
                                             ds.conv, algo, ws, bytes, &kZero, ty, y.data);
          }))
    return;
  cudnnTensorDescriptor_t ty = ds.tensors[1];
  if (bm) {
    View b = viewOf(bm);
    cudnnTensorDescriptor_t tb = biasTensor(*s, ds, b);
    if (!tb || !ok(*s, d.cudnnAddTensor(s->dnnHandle, &kOne, tb, b.data, &kOne, ty, y.data),
                   "cudnnAddTensor"))
      return;
  }
  if (activation == 0)
    return;
  cudnnActivationMode_t mode = activation == 1   ? CUDNN_ACTIVATION_RELU
                               : activation == 2 ? CUDNN_ACTIVATION_TANH
                                                 : CUDNN_ACTIVATION_SIGMOID;
  if (ok(*s, d.cudnnCreateActivationDescriptor(&ds.act), "cudnnCreateActivationDescriptor") &&
      ok(*s, d.cudnnSetActivationDescriptor(ds.act, mode, CUDNN_NOT_PROPAGATE_NAN, 0.0),
         "cudnnSetActivationDescriptor"))
    ok(*s, d.cudnnActivationForward(s->dnnHandle, ds.act, &kOne, ty, y.data, &kZero, ty, y.data),
       "cudnnActivationForward");
}

bool pooling(Session &s, Descriptors &ds, bool isMax, int64_t includePad, int64_t kh, int64_t kw,
             int64_t sh, int64_t sw, int64_t pt, int64_t pb, int64_t pl, int64_t pr) {
  if (pt != pb || pl != pr) {
    s.fail("cuDNN pooling with asymmetric padding");
    return false;
  }
  cudnnPoolingMode_t mode = isMax        ? CUDNN_POOLING_MAX_DETERMINISTIC
                            : includePad ? CUDNN_POOLING_AVERAGE_COUNT_INCLUDE_PADDING
                                         : CUDNN_POOLING_AVERAGE_COUNT_EXCLUDE_PADDING;
  return ok(s, s.dnn->cudnnCreatePoolingDescriptor(&ds.pool), "cudnnCreatePoolingDescriptor") &&
         ok(s,
            s.dnn->cudnnSetPooling2dDescriptor(ds.pool, mode, CUDNN_NOT_PROPAGATE_NAN, int(kh),
                                               int(kw), int(pt), int(pl), int(sh), int(sw)),
            "cudnnSetPooling2dDescriptor");
}

void poolForward(UnrankedMemRef *xm, UnrankedMemRef *ym, bool isMax, int64_t includePad, int64_t kh,
                 int64_t kw, int64_t sh, int64_t sw, int64_t pt, int64_t pb, int64_t pl,
                 int64_t pr) {
  Session *s = ready();
  if (!s)
    return;
  Descriptors ds(*s->dnn);
  View x = viewOf(xm), y = viewOf(ym);
  cudnnTensorDescriptor_t tx = tensor(*s, ds, x), ty = tensor(*s, ds, y);
  if (!tx || !ty || !pooling(*s, ds, isMax, includePad, kh, kw, sh, sw, pt, pb, pl, pr))
    return;
  ok(*s, s->dnn->cudnnPoolingForward(s->dnnHandle, ds.pool, &kOne, tx, x.data, &kZero, ty, y.data),
     "cudnnPoolingForward");
}

/// dx from dy. cuDNN's backward reads the forward output y (for max pooling
/// the argmax) and x: y is recomputed into scratch; average pooling reads
/// neither, so dy and dx stand in for them.
void poolBackward(UnrankedMemRef *xm, UnrankedMemRef *dym, UnrankedMemRef *dxm, bool isMax,
                  int64_t includePad, int64_t kh, int64_t kw, int64_t sh, int64_t sw, int64_t pt,
                  int64_t pb, int64_t pl, int64_t pr) {
  Session *s = ready();
  if (!s)
    return;
  const tg::cuda::Cudnn &d = *s->dnn;
  Descriptors ds(d);
  View dy = viewOf(dym), dx = viewOf(dxm);
  View x = xm ? viewOf(xm) : dx;
  cudnnTensorDescriptor_t tdy = tensor(*s, ds, dy), tdx = tensor(*s, ds, dx);
  if (!tdy || !tdx || !pooling(*s, ds, isMax, includePad, kh, kw, sh, sw, pt, pb, pl, pr))
    return;
  // y: packed like dy, in scratch.
  View y = dy;
  int64_t n = 1;
  for (size_t i = 4; i-- > 0;) {
    y.strides[i] = n;
    n *= y.sizes[i];
  }
  CUdeviceptr yBuffer = isMax ? s->allocate(size_t(n) * sizeof(float)) : 0;
  if (isMax && !yBuffer)
    return;
  y.data = isMax ? reinterpret_cast<float *>(yBuffer) : dy.data;
  cudnnTensorDescriptor_t ty = isMax ? tensor(*s, ds, y) : tdy;
  cudnnTensorDescriptor_t tx = xm ? tensor(*s, ds, x) : tdx;
  if (ty && tx &&
      (!isMax ||
       ok(*s, d.cudnnPoolingForward(s->dnnHandle, ds.pool, &kOne, tx, x.data, &kZero, ty, y.data),
          "cudnnPoolingForward")))
    ok(*s,
       d.cudnnPoolingBackward(s->dnnHandle, ds.pool, &kOne, ty, y.data, tdy, dy.data, tx, x.data,
                              &kZero, tdx, dx.data),
       "cudnnPoolingBackward");
  if (yBuffer)
    s->release(yBuffer);
}

} // namespace

#define TG_CONV_PARAMS                                                                             \
  int64_t sh, int64_t sw, int64_t pt, int64_t pb, int64_t pl, int64_t pr, int64_t dh, int64_t dw,  \
      int64_t groups
#define TG_CONV_ARGS sh, sw, pt, pb, pl, pr, dh, dw, groups
#define TG_POOL_PARAMS                                                                             \
  int64_t kh, int64_t kw, int64_t sh, int64_t sw, int64_t pt, int64_t pb, int64_t pl, int64_t pr
#define TG_POOL_ARGS kh, kw, sh, sw, pt, pb, pl, pr

extern "C" void _mlir_ciface_tgrt_cuda_conv2d_f32(UnrankedMemRef *x, UnrankedMemRef *w,
                                                  UnrankedMemRef *y, TG_CONV_PARAMS) {
  convForward(x, w, nullptr, y, TG_CONV_ARGS, 0);
}

extern "C" void _mlir_ciface_tgrt_cuda_fused_conv2d_f32(UnrankedMemRef *x, UnrankedMemRef *w,
                                                        UnrankedMemRef *b, UnrankedMemRef *y,
                                                        TG_CONV_PARAMS, int64_t activation) {
  convForward(x, w, b, y, TG_CONV_ARGS, activation);
}

extern "C" void _mlir_ciface_tgrt_cuda_conv2d_backprop_input_f32(UnrankedMemRef *dym,
                                                                 UnrankedMemRef *wm,
                                                                 UnrankedMemRef *dxm,
                                                                 TG_CONV_PARAMS) {
  Session *s = ready();
  if (!s)
    return;
  const tg::cuda::Cudnn &d = *s->dnn;
  Descriptors ds(d);
  View dy = viewOf(dym), w = viewOf(wm), dx = viewOf(dxm);
  auto algo = CUDNN_CONVOLUTION_BWD_DATA_ALGO_1;
  convCall(
      *s, ds, dy, dx, w, TG_CONV_ARGS, "cudnnConvolutionBackwardData",
      [&](auto tdy, auto tdx, size_t *bytes) {
        return d.cudnnGetConvolutionBackwardDataWorkspaceSize(s->dnnHandle, ds.filter, tdy, ds.conv,
                                                              tdx, algo, bytes);
      },
      [&](auto tdy, auto tdx, void *ws, size_t bytes) {
        return d.cudnnConvolutionBackwardData(s->dnnHandle, &kOne, ds.filter, w.data, tdy, dy.data,
                                              ds.conv, algo, ws, bytes, &kZero, tdx, dx.data);
      });
}

extern "C" void _mlir_ciface_tgrt_cuda_conv2d_backprop_filter_f32(UnrankedMemRef *xm,
                                                                  UnrankedMemRef *dym,
                                                                  UnrankedMemRef *dwm,
                                                                  TG_CONV_PARAMS) {
  Session *s = ready();
  if (!s)
    return;
  const tg::cuda::Cudnn &d = *s->dnn;
  Descriptors ds(d);
  View x = viewOf(xm), dy = viewOf(dym), dwv = viewOf(dwm);
  auto algo = CUDNN_CONVOLUTION_BWD_FILTER_ALGO_1;
  convCall(
      *s, ds, x, dy, dwv, TG_CONV_ARGS, "cudnnConvolutionBackwardFilter",
      [&](auto tx, auto tdy, size_t *bytes) {
        return d.cudnnGetConvolutionBackwardFilterWorkspaceSize(s->dnnHandle, tx, tdy, ds.conv,
                                                                ds.filter, algo, bytes);
      },
      [&](auto tx, auto tdy, void *ws, size_t bytes) {
        return d.cudnnConvolutionBackwardFilter(s->dnnHandle, &kOne, tx, x.data, tdy, dy.data,
                                                ds.conv, algo, ws, bytes, &kZero, ds.filter,
                                                dwv.data);
      });
}

extern "C" void _mlir_ciface_tgrt_cuda_max_pool2d_f32(UnrankedMemRef *x, UnrankedMemRef *y,
                                                      TG_POOL_PARAMS) {
  poolForward(x, y, true, 0, TG_POOL_ARGS);
}

extern "C" void _mlir_ciface_tgrt_cuda_avg_pool2d_f32(UnrankedMemRef *x, UnrankedMemRef *y,
                                                      TG_POOL_PARAMS, int64_t includePad) {
  poolForward(x, y, false, includePad, TG_POOL_ARGS);
}

extern "C" void _mlir_ciface_tgrt_cuda_max_pool2d_grad_f32(UnrankedMemRef *x, UnrankedMemRef *dy,
                                                           UnrankedMemRef *dx, TG_POOL_PARAMS) {
  poolBackward(x, dy, dx, true, 0, TG_POOL_ARGS);
}

extern "C" void _mlir_ciface_tgrt_cuda_avg_pool2d_grad_f32(UnrankedMemRef *dy, UnrankedMemRef *dx,
                                                           TG_POOL_PARAMS, int64_t includePad) {
  poolBackward(nullptr, dy, dx, false, includePad, TG_POOL_ARGS);
}
