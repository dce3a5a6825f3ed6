//===- Pooling.cpp - the oneDNN max and average pooling kernels -----------===//
//
// tgrt_max_pool2d_f32, tgrt_avg_pool2d_f32, their gradients and their *_ext
// forms. Max pooling's forward kernel and gradient share its workspace (the
// argmax positions), so a gradient of the source last pooled skips
// recomputing the forward pass.
//
//===----------------------------------------------------------------------===//
#include "runtime/Collectives.h"
#include "runtime/cpu/Dnnl.h"
#include "support/KernelAbi.h"

using namespace tg::cpu;

namespace {

/// The workspace of max pooling geometry `key` with layout `desc`, shared
/// between the forward and gradient primitives that want this layout.
dnnl::memory sharedPoolWorkspace(Context &ctx, const std::string &key,
                                 const dnnl::memory::desc &desc) {
  for (auto &[k, m] : ctx.poolWorkspaces)
    if (k == key && m.get_desc() == desc)
      return m;
  ctx.poolWorkspaces.emplace_back(key, dnnl::memory(desc, ctx.engine));
  return ctx.poolWorkspaces.back().second;
}

dnnl::algorithm poolAlgorithm(bool isMax, int64_t includePad) {
  return isMax        ? dnnl::algorithm::pooling_max
         : includePad ? dnnl::algorithm::pooling_avg_include_padding
                      : dnnl::algorithm::pooling_avg_exclude_padding;
}

dnnl::pooling_forward::primitive_desc poolForwardPd(const dnnl::memory::desc &x,
                                                    const dnnl::memory::desc &y, bool isMax,
                                                    int64_t includePad, int64_t kh, int64_t kw,
                                                    int64_t sh, int64_t sw, int64_t pt, int64_t pb,
                                                    int64_t pl, int64_t pr) {
  dnnl::pooling_forward::desc d(dnnl::prop_kind::forward_training, poolAlgorithm(isMax, includePad),
                                x, y, {sh, sw}, {kh, kw}, {pt, pl}, {pb, pr});
  return dnnl::pooling_forward::primitive_desc(d, userScratchpad(), context().engine);
}

void poolForward(UnrankedMemRef *xm, UnrankedMemRef *ym, bool isMax, int64_t includePad,
                 TG_POOL_PARAMS) {
  View x = viewOf(xm), y = viewOf(ym);
  std::vector<LayoutArg> args = {port(DNNL_ARG_SRC, true, x, 0), port(DNNL_ARG_DST, false, y, 1)};
  runStaged(
      keyOf(isMax ? "max_pool" : "avg_pool", {&x, &y}, {TG_POOL_ARGS, includePad}),
      [&] {
        // The source as it is (pooling takes no `any` source); a plain
        // output created as `any` follows the source's layout (oneDNN pools
        // within one layout).
        auto pd = poolForwardPd(args[0].user, args[1].create == args[1].user && !blocked(1)
                                                  ? anyDesc(args[1].user)
                                                  : args[1].create,
                                isMax, includePad, TG_POOL_ARGS);
        Context::Staged st = stage(pd, args);
        // Training-mode max pooling writes a workspace, which the gradient
        // of this source reads if its layout is the gradient's.
        if (pd.workspace_desc().get_size() > 0)
          st.internal[DNNL_ARG_WORKSPACE] =
              sharedPoolWorkspace(context(), keyOf("max_pool_ws", {&x, &y}, {TG_POOL_ARGS}),
                                  pd.workspace_desc());
        return std::vector{std::move(st)};
      },
      {args}, [&](Context &ctx, std::vector<Context::Staged *> &st) {
        auto ws = st[0]->internal.find(DNNL_ARG_WORKSPACE);
        if (ws != st[0]->internal.end())
          ctx.poolSources[ws->second.get_data_handle()] = x.data;
        return std::vector<bool>{false};
      });
}

/// dx from dy: max pooling recomputes the forward pass for its workspace
/// (the argmax positions), as tg.max_pool2d_grad takes the input; the
/// forward's output and workspace are the primitive pair's own buffers.
void poolBackward(UnrankedMemRef *xm, UnrankedMemRef *dym, UnrankedMemRef *dxm, bool isMax,
                  int64_t includePad, TG_POOL_PARAMS) {
  View dy = viewOf(dym), dx = viewOf(dxm);
  int dyPort = isMax ? 1 : 0, dxPort = isMax ? 2 : 1;
  std::vector<LayoutArg> bwd = {port(DNNL_ARG_DIFF_DST, true, dy, dyPort),
                                port(DNNL_ARG_DIFF_SRC, false, dx, dxPort)};
  std::vector<LayoutArg> fwd;
  View x = xm ? viewOf(xm) : dx;
  if (isMax)
    fwd = {port(DNNL_ARG_SRC, true, x, 0)};
  // The forward it is the gradient of: on the source's layout (the input's,
  // or for average pooling, which has none, the result's).
  dnnl::memory::desc srcDesc = isMax ? fwd[0].user : bwd[1].user;
  auto make = [&] {
    auto fwdPd = poolForwardPd(srcDesc, anyDesc(descOf(dy)), isMax, includePad, TG_POOL_ARGS);
    dnnl::pooling_backward::desc d(poolAlgorithm(isMax, includePad), bwd[1].user,
                                   blocked(dyPort) ? bwd[0].user : fwdPd.dst_desc(),
                                   {sh, sw}, {kh, kw}, {pt, pl}, {pb, pr});
    dnnl::pooling_backward::primitive_desc bwdPd(d, userScratchpad(), context().engine, fwdPd);
    std::vector<Context::Staged> made;
    dnnl::memory ws;
    if (isMax) {
      Context::Staged f = stage(fwdPd, fwd);
      f.internal[DNNL_ARG_DST] = dnnl::memory(fwdPd.dst_desc(), context().engine);
      ws = sharedPoolWorkspace(context(), keyOf("max_pool_ws", {&x, &dy}, {TG_POOL_ARGS}),
                               fwdPd.workspace_desc());
      f.internal[DNNL_ARG_WORKSPACE] = ws;
      made.push_back(std::move(f));
    }
    Context::Staged b = stage(bwdPd, bwd);
    if (isMax)
      b.internal[DNNL_ARG_WORKSPACE] = ws;
    made.push_back(std::move(b));
    return made;
  };
  std::vector<std::vector<LayoutArg>> runs;
  if (isMax)
    runs.push_back(fwd);
  runs.push_back(bwd);
  // The forward pass is recomputed only when the shared workspace does not
  // describe this source (another source ran since, or another layout).
  SkipHook reuse = [&](Context &ctx, std::vector<Context::Staged *> &st) {
    std::vector<bool> skip(st.size(), false);
    void *ws = st[0]->internal.at(DNNL_ARG_WORKSPACE).get_data_handle();
    const void *&source = ctx.poolSources[ws];
    skip[0] = source == x.data;
    source = x.data;
    return skip;
  };
  runStaged(keyOf(isMax ? "max_pool_bwd" : "avg_pool_bwd", {&x, &dy, &dx},
                  {TG_POOL_ARGS, includePad}),
            make, runs, isMax ? reuse : SkipHook());
}

} // namespace

extern "C" void _mlir_ciface_tgrt_max_pool2d_f32(UnrankedMemRef *x, UnrankedMemRef *y,
                                                 TG_POOL_PARAMS) {
  tg::rt::progressCollectives(); // started collectives advance between kernels
  ProfileScope scope(tg::abi::kMaxPool2dF32.data());
  poolForward(x, y, true, 0, TG_POOL_ARGS);
}

extern "C" void _mlir_ciface_tgrt_avg_pool2d_f32(UnrankedMemRef *x, UnrankedMemRef *y,
                                                 TG_POOL_PARAMS, int64_t includePad) {
  tg::rt::progressCollectives(); // started collectives advance between kernels
  ProfileScope scope(tg::abi::kAvgPool2dF32.data());
  poolForward(x, y, false, includePad, TG_POOL_ARGS);
}

extern "C" void _mlir_ciface_tgrt_max_pool2d_grad_f32(UnrankedMemRef *x, UnrankedMemRef *dy,
                                                      UnrankedMemRef *dx, TG_POOL_PARAMS) {
  tg::rt::progressCollectives(); // started collectives advance between kernels
  ProfileScope scope(tg::abi::kMaxPool2dGradF32.data());
  poolBackward(x, dy, dx, true, 0, TG_POOL_ARGS);
}

extern "C" void _mlir_ciface_tgrt_avg_pool2d_grad_f32(UnrankedMemRef *dy, UnrankedMemRef *dx,
                                                      TG_POOL_PARAMS, int64_t includePad) {
  tg::rt::progressCollectives(); // started collectives advance between kernels
  ProfileScope scope(tg::abi::kAvgPool2dGradF32.data());
  poolBackward(nullptr, dy, dx, false, includePad, TG_POOL_ARGS);
}

// The *_ext forms (support/KernelAbi.h): the layouts and compute type of
// this call after the kernel's own parameters.
extern "C" void _mlir_ciface_tgrt_max_pool2d_f32_ext(UnrankedMemRef *x, UnrankedMemRef *y,
                                                     TG_POOL_PARAMS, TG_LAYOUT_PARAMS) {
  LayoutScope layouts(blockedMask, block, compute);
  _mlir_ciface_tgrt_max_pool2d_f32(x, y, TG_POOL_ARGS);
}

extern "C" void _mlir_ciface_tgrt_avg_pool2d_f32_ext(UnrankedMemRef *x, UnrankedMemRef *y,
                                                     TG_POOL_PARAMS, int64_t includePad,
                                                     TG_LAYOUT_PARAMS) {
  LayoutScope layouts(blockedMask, block, compute);
  _mlir_ciface_tgrt_avg_pool2d_f32(x, y, TG_POOL_ARGS, includePad);
}

extern "C" void _mlir_ciface_tgrt_max_pool2d_grad_f32_ext(UnrankedMemRef *x, UnrankedMemRef *dy,
                                                          UnrankedMemRef *dx, TG_POOL_PARAMS,
                                                          TG_LAYOUT_PARAMS) {
  LayoutScope layouts(blockedMask, block, compute);
  _mlir_ciface_tgrt_max_pool2d_grad_f32(x, dy, dx, TG_POOL_ARGS);
}

extern "C" void _mlir_ciface_tgrt_avg_pool2d_grad_f32_ext(UnrankedMemRef *dy, UnrankedMemRef *dx,
                                                          TG_POOL_PARAMS, int64_t includePad,
                                                          TG_LAYOUT_PARAMS) {
  LayoutScope layouts(blockedMask, block, compute);
  _mlir_ciface_tgrt_avg_pool2d_grad_f32(dy, dx, TG_POOL_ARGS, includePad);
}
