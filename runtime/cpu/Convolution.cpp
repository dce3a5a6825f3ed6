//===- Convolution.cpp - the oneDNN convolution kernels -------------------===//
//
// tgrt_conv2d_f32 and its fused (bias + activation), backward-data and
// backward-weights (filter, filter + bias) kernels, and their *_ext forms.
// Plain arguments are created with `any` so oneDNN picks its direct kernels'
// blocked layouts, and staged (Context.cpp).
//
//===----------------------------------------------------------------------===//
#include "runtime/Collectives.h"
#include "runtime/cpu/Dnnl.h"
#include "support/KernelAbi.h"

#include <optional>

using namespace tg::cpu;

namespace {

/// Weights [O, C/G, KH, KW] as oneDNN's grouped [G, O/G, C/G, KH, KW] view.
dnnl::memory::desc weightsDesc(const View &w, int64_t groups) {
  if (groups == 1)
    return descOf(w);
  dnnl::memory::dims dims = {groups, w.sizes[0] / groups, w.sizes[1], w.sizes[2], w.sizes[3]};
  dnnl::memory::dims strides = {w.strides[0] * (w.sizes[0] / groups), w.strides[0], w.strides[1],
                                w.strides[2], w.strides[3]};
  return dnnl::memory::desc(dims, dt::f32, strides);
}

struct ConvGeometry {
  dnnl::memory::dims strides, dilates, padL, padR;
  int64_t groups;
  ConvGeometry(int64_t sh, int64_t sw, int64_t pt, int64_t pb, int64_t pl, int64_t pr, int64_t dh,
               int64_t dw, int64_t g)
      : strides{sh, sw}, dilates{dh - 1, dw - 1}, padL{pt, pl}, padR{pb, pr}, groups(g) {}
};

dnnl::convolution_forward::primitive_desc
convForwardPd(Context &ctx, const dnnl::memory::desc &x, const dnnl::memory::desc &w,
              const dnnl::memory::desc &y, const ConvGeometry &g,
              const dnnl::memory::desc *bias = nullptr, int64_t activation = 0) {
  if (bias) {
    dnnl::convolution_forward::desc d(dnnl::prop_kind::forward_training,
                                      dnnl::algorithm::convolution_direct, x, w, *bias, y,
                                      g.strides, g.dilates, g.padL, g.padR);
    return dnnl::convolution_forward::primitive_desc(d, postOps(activation), ctx.engine);
  }
  dnnl::convolution_forward::desc d(dnnl::prop_kind::forward_training,
                                    dnnl::algorithm::convolution_direct, x, w, y, g.strides,
                                    g.dilates, g.padL, g.padR);
  return dnnl::convolution_forward::primitive_desc(d, userScratchpad(), ctx.engine);
}

/// Convolution backward-weights: dw, and with `dbm` the bias gradient too
/// (oneDNN's diff_bias, summed while it reads dy).
void convBackwardWeights(UnrankedMemRef *xm, UnrankedMemRef *dym, UnrankedMemRef *dwm,
                         UnrankedMemRef *dbm, TG_CONV_PARAMS) {
  View x = viewOf(xm), dy = viewOf(dym), dwt = viewOf(dwm);
  std::optional<View> db;
  if (dbm)
    db = viewOf(dbm);
  ConvGeometry g(TG_CONV_ARGS);
  std::vector<LayoutArg> args = {
      port(DNNL_ARG_SRC, true, x, 0), port(DNNL_ARG_DIFF_DST, true, dy, 1),
      plainArg(DNNL_ARG_DIFF_WEIGHTS, false, dwt.data, weightsDesc(dwt, groups))};
  // The bias gradient stays f32 under bf16 compute (f32 accumulation).
  dnnl::memory::desc dbd;
  if (db) {
    dbd = descOf(*db);
    args.push_back({DNNL_ARG_DIFF_BIAS, false, db->data, dbd, dbd});
  }
  runStaged(
      db ? keyOf("conv2d_bwd_weights_bias", {&x, &dy, &dwt, &*db}, {TG_CONV_ARGS})
         : keyOf("conv2d_bwd_weights", {&x, &dy, &dwt}, {TG_CONV_ARGS}),
      [&] {
        const auto &xd = args[0].create, &dyd = args[1].create, &dwd = args[2].create;
        auto hint = convForwardPd(context(), xd, computeDesc(dwd), dyd, g, db ? &dbd : nullptr);
        auto d = db ? dnnl::convolution_backward_weights::desc(
                          dnnl::algorithm::convolution_direct, xd, dwd, dbd, dyd, g.strides,
                          g.dilates, g.padL, g.padR)
                    : dnnl::convolution_backward_weights::desc(
                          dnnl::algorithm::convolution_direct, xd, dwd, dyd, g.strides,
                          g.dilates, g.padL, g.padR);
        return std::vector{stage(dnnl::convolution_backward_weights::primitive_desc(
                                     d, userScratchpad(), context().engine, hint),
                                 args)};
      },
      {args});
}

} // namespace

extern "C" void _mlir_ciface_tgrt_conv2d_f32(UnrankedMemRef *xm, UnrankedMemRef *wm,
                                             UnrankedMemRef *ym, TG_CONV_PARAMS) {
  tg::rt::progressCollectives(); // started collectives advance between kernels
  ProfileScope scope(tg::abi::kConv2dF32.data());
  View x = viewOf(xm), w = viewOf(wm), y = viewOf(ym);
  ConvGeometry g(TG_CONV_ARGS);
  std::vector<LayoutArg> args = {port(DNNL_ARG_SRC, true, x, 0),
                                 plainArg(DNNL_ARG_WEIGHTS, true, w.data, weightsDesc(w, groups)),
                                 port(DNNL_ARG_DST, false, y, 1)};
  runStaged(
      keyOf("conv2d", {&x, &w, &y}, {TG_CONV_ARGS}),
      [&] {
        return std::vector{stage(
            convForwardPd(context(), args[0].create, args[1].create, args[2].create, g), args)};
      },
      {args});
}

extern "C" void _mlir_ciface_tgrt_fused_conv2d_f32(UnrankedMemRef *xm, UnrankedMemRef *wm,
                                                   UnrankedMemRef *bm, UnrankedMemRef *ym,
                                                   TG_CONV_PARAMS, int64_t activation) {
  tg::rt::progressCollectives(); // started collectives advance between kernels
  ProfileScope scope(tg::abi::kFusedConv2dF32.data());
  View x = viewOf(xm), w = viewOf(wm), bias = viewOf(bm), y = viewOf(ym);
  ConvGeometry g(TG_CONV_ARGS);
  dnnl::memory::desc bd = descOf(bias);
  std::vector<LayoutArg> args = {port(DNNL_ARG_SRC, true, x, 0),
                                 plainArg(DNNL_ARG_WEIGHTS, true, w.data, weightsDesc(w, groups)),
                                 {DNNL_ARG_BIAS, true, bias.data, bd, bd},
                                 port(DNNL_ARG_DST, false, y, 1)};
  runStaged(
      keyOf("fused_conv2d", {&x, &w, &bias, &y}, {TG_CONV_ARGS, activation}),
      [&] {
        return std::vector{stage(convForwardPd(context(), args[0].create, args[1].create,
                                               args[3].create, g, &bd, activation),
                                 args)};
      },
      {args});
}

extern "C" void _mlir_ciface_tgrt_conv2d_backprop_input_f32(UnrankedMemRef *dym, UnrankedMemRef *wm,
                                                            UnrankedMemRef *dxm, TG_CONV_PARAMS) {
  tg::rt::progressCollectives(); // started collectives advance between kernels
  ProfileScope scope(tg::abi::kConv2dBackpropInputF32.data());
  View dy = viewOf(dym), w = viewOf(wm), dx = viewOf(dxm);
  ConvGeometry g(TG_CONV_ARGS);
  std::vector<LayoutArg> args = {port(DNNL_ARG_DIFF_DST, true, dy, 0),
                                 plainArg(DNNL_ARG_WEIGHTS, true, w.data, weightsDesc(w, groups)),
                                 port(DNNL_ARG_DIFF_SRC, false, dx, 1)};
  runStaged(
      keyOf("conv2d_bwd_data", {&dy, &w, &dx}, {TG_CONV_ARGS}),
      [&] {
        const auto &dyd = args[0].create, &wd = args[1].create, &dxd = args[2].create;
        auto hint = convForwardPd(context(), computeDesc(dxd), wd, dyd, g);
        dnnl::convolution_backward_data::desc d(dnnl::algorithm::convolution_direct, dxd, wd, dyd,
                                                g.strides, g.dilates, g.padL, g.padR);
        return std::vector{stage(dnnl::convolution_backward_data::primitive_desc(
                                     d, userScratchpad(), context().engine, hint),
                                 args)};
      },
      {args});
}

extern "C" void _mlir_ciface_tgrt_conv2d_backprop_filter_f32(UnrankedMemRef *xm,
                                                             UnrankedMemRef *dym,
                                                             UnrankedMemRef *dwm, TG_CONV_PARAMS) {
  tg::rt::progressCollectives(); // started collectives advance between kernels
  ProfileScope scope(tg::abi::kConv2dBackpropFilterF32.data());
  convBackwardWeights(xm, dym, dwm, nullptr, TG_CONV_ARGS);
}

extern "C" void _mlir_ciface_tgrt_conv2d_backprop_filter_bias_f32(UnrankedMemRef *xm,
                                                                  UnrankedMemRef *dym,
                                                                  UnrankedMemRef *dwm,
                                                                  UnrankedMemRef *dbm,
                                                                  TG_CONV_PARAMS) {
  tg::rt::progressCollectives(); // started collectives advance between kernels
  ProfileScope scope(tg::abi::kConv2dBackpropFilterBiasF32.data());
  convBackwardWeights(xm, dym, dwm, dbm, TG_CONV_ARGS);
}

// The *_ext forms (support/KernelAbi.h): the layouts and compute type of
// this call after the kernel's own parameters.
extern "C" void _mlir_ciface_tgrt_conv2d_f32_ext(UnrankedMemRef *x, UnrankedMemRef *w,
                                                 UnrankedMemRef *y, TG_CONV_PARAMS,
                                                 TG_LAYOUT_PARAMS) {
  LayoutScope layouts(blockedMask, block, compute);
  _mlir_ciface_tgrt_conv2d_f32(x, w, y, TG_CONV_ARGS);
}

extern "C" void _mlir_ciface_tgrt_fused_conv2d_f32_ext(UnrankedMemRef *x, UnrankedMemRef *w,
                                                       UnrankedMemRef *b, UnrankedMemRef *y,
                                                       TG_CONV_PARAMS, int64_t activation,
                                                       TG_LAYOUT_PARAMS) {
  LayoutScope layouts(blockedMask, block, compute);
  _mlir_ciface_tgrt_fused_conv2d_f32(x, w, b, y, TG_CONV_ARGS, activation);
}

extern "C" void _mlir_ciface_tgrt_conv2d_backprop_input_f32_ext(UnrankedMemRef *dy,
                                                                UnrankedMemRef *w,
                                                                UnrankedMemRef *dx, TG_CONV_PARAMS,
                                                                TG_LAYOUT_PARAMS) {
  LayoutScope layouts(blockedMask, block, compute);
  _mlir_ciface_tgrt_conv2d_backprop_input_f32(dy, w, dx, TG_CONV_ARGS);
}

extern "C" void _mlir_ciface_tgrt_conv2d_backprop_filter_f32_ext(UnrankedMemRef *x,
                                                                 UnrankedMemRef *dy,
                                                                 UnrankedMemRef *dwm,
                                                                 TG_CONV_PARAMS, TG_LAYOUT_PARAMS) {
  LayoutScope layouts(blockedMask, block, compute);
  _mlir_ciface_tgrt_conv2d_backprop_filter_f32(x, dy, dwm, TG_CONV_ARGS);
}

extern "C" void _mlir_ciface_tgrt_conv2d_backprop_filter_bias_f32_ext(
    UnrankedMemRef *x, UnrankedMemRef *dy, UnrankedMemRef *dwm, UnrankedMemRef *dbm,
    TG_CONV_PARAMS, TG_LAYOUT_PARAMS) {
  LayoutScope layouts(blockedMask, block, compute);
  _mlir_ciface_tgrt_conv2d_backprop_filter_bias_f32(x, dy, dwm, dbm, TG_CONV_ARGS);
}
