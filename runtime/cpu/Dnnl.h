//===- Dnnl.h - what the oneDNN kernels of runtime/cpu/ share ---*- C++ -*-===//
//
// Internal to libtgrt. Compiled artifacts call the kernels through MLIR's C
// interface with unranked memrefs: {rank, descriptor*}, the descriptor being
// {allocated, aligned, offset, sizes[rank], strides[rank]}. Each distinct
// shape/stride signature gets one oneDNN primitive, created on first use and
// cached for the life of the process in the Context (Context.cpp), which also
// stages arguments between the caller's layouts and the ones oneDNN chose.
//
//===----------------------------------------------------------------------===//
#ifndef TG_RUNTIME_CPU_DNNL_H
#define TG_RUNTIME_CPU_DNNL_H

#include "runtime/KernelStatus.h"

#include "dnnl.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <unordered_map>
#include <vector>

namespace tg::cpu {

struct UnrankedMemRef {
  int64_t rank;
  void *descriptor;
};

struct View {
  float *data;
  dnnl::memory::dims sizes, strides;
};

inline View viewOf(const UnrankedMemRef *m) {
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

/// Set while prepareKernel runs: kernels create their primitives and return.
extern thread_local bool prepareOnly;

/// TGRT_PROFILE=1: adds the time until the scope ends to kernel `name`'s
/// total, printed at exit.
struct ProfileScope {
  const char *name;
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
  explicit ProfileScope(const char *n) : name(n) {}
  ~ProfileScope();
};

struct Context {
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  dnnl::stream stream{engine};
  std::mutex mutex;
  /// One scratchpad for every primitive (they run one at a time, under the
  /// mutex). oneDNN's own ("library") scratchpad is per creating thread, so
  /// a primitive created on one thread overruns it on another (ranks as
  /// threads, tgc train --emulate-world-size).
  std::vector<uint8_t> scratchpad;
  /// A matmul primitive with its memory objects, made once per shape and
  /// layout key; each call only points them at its buffers (small products
  /// run at every step of a recurrent loop, so per-call setup counts).
  struct Matmul {
    dnnl::matmul primitive;
    std::unordered_map<int, dnnl::memory> args;
    /// bf16 compute: the caller's f32 operands, their dense bf16 copies (the
    /// matmul's SRC and WEIGHTS) and the reorders that make them.
    dnnl::memory userA, userB;
    dnnl::primitive toA, toB;
  };
  std::unordered_map<std::string, Matmul> matmuls;
  /// A convolution or pooling primitive on the layouts it runs fastest on,
  /// with each argument staged: where the caller's buffer has another layout
  /// (plain NCHW where oneDNN chose nChw16c), a buffer of the chosen layout
  /// and the reorder between the two. `internal` holds what the primitive
  /// needs besides the caller's buffers (a pooling workspace, a recomputed
  /// forward output).
  struct Staged {
    dnnl::primitive primitive;
    struct Arg {
      int id;
      bool input;
      dnnl::memory::desc user;
      dnnl::memory staged; ///< empty when the chosen layout is the caller's
      dnnl::primitive reorder;
    };
    std::vector<Arg> args;
    std::unordered_map<int, dnnl::memory> internal;
  };
  std::map<std::string, Staged> staged;
  /// Max pooling's workspaces (the argmax positions), shared by the forward
  /// kernel and the gradient kernel of the same geometry and workspace
  /// layout, with the source each last described: a gradient whose input is
  /// that source skips recomputing the forward pass. Checked and set under
  /// the mutex; a source buffer is not rewritten before its gradient reads
  /// it (it is that op's operand), and another source means a recompute.
  std::vector<std::pair<std::string, dnnl::memory>> poolWorkspaces;
  std::unordered_map<void *, const void *> poolSources;
};

/// The process's context (never destroyed: kernels may run at exit).
Context &context();

using dt = dnnl::memory::data_type;

inline dnnl::memory::desc descOf(const View &v) {
  return dnnl::memory::desc(v.sizes, dt::f32, v.strides);
}

/// `plain`'s dims and type, its layout left to oneDNN.
inline dnnl::memory::desc anyDesc(const dnnl::memory::desc &plain) {
  return dnnl::memory::desc(plain.dims(), plain.data_type(), dnnl::memory::format_tag::any);
}

/// Appends `v`'s sizes and strides to a cache key.
void key(std::ostringstream &os, const View &v);
/// A primitive's cache key: `op`, the views' sizes and strides, the params.
std::string keyOf(const char *op, std::initializer_list<const View *> views,
                  std::initializer_list<int64_t> params);

/// Every primitive takes its scratchpad from the caller (Context::scratchpad).
dnnl::primitive_attr userScratchpad();
/// Adds the context's scratchpad, grown to what `p` needs, to `args`.
/// Called with the context's mutex held.
void addScratchpad(Context &ctx, const dnnl::primitive &p,
                   std::unordered_map<int, dnnl::memory> &args);
/// The post-op of a fused kernel's activation code (support/KernelAbi.h).
dnnl::primitive_attr postOps(int64_t activation);

/// The layouts of the current call's NCHW ports (tg-assign-layouts' mask)
/// and its compute type (tg-mixed-precision: 1 = inputs rounded to bf16,
/// f32 accumulation and outputs), set by the *_ext entry points for one call.
struct CallLayouts {
  int64_t mask = 0, block = 0, compute = 0;
};
extern thread_local CallLayouts callLayouts;

/// Sets callLayouts for one call (an *_ext entry point, or prepareKernel).
struct LayoutScope {
  LayoutScope(int64_t mask, int64_t block, int64_t compute) {
    callLayouts = {mask, block, compute};
  }
  ~LayoutScope() { callLayouts = {}; }
  LayoutScope(const LayoutScope &) = delete;
  LayoutScope &operator=(const LayoutScope &) = delete;
};

/// Whether the current call rounds its inputs to bf16.
bool bf16Compute();
/// Whether the current call's port `port` is stored blocked.
bool blocked(int port);
/// The desc an input is created with under the call's compute type.
dnnl::memory::desc computeDesc(const dnnl::memory::desc &d);

/// An argument of a staged primitive: its oneDNN id, whether the primitive
/// reads it, the caller's buffer and its layout, and the layout to create
/// the primitive with (the caller's, or `any` to let oneDNN choose).
struct LayoutArg {
  int id;
  bool input;
  void *data;
  dnnl::memory::desc user, create;
};

/// Port `port`'s argument: the caller's buffer (blocked when the mask says
/// so), created as is when blocked, else with `any` (TGRT_CONV_LAYOUT).
LayoutArg port(int id, bool input, const View &v, int port);
/// An argument that is never blocked (weights, bias): created with `any`
/// too, so oneDNN picks its weight layout (a per-call reorder of a few KB).
LayoutArg plainArg(int id, bool input, void *data, const dnnl::memory::desc &d);
/// The layout part of a primitive's cache key.
std::string layoutKey();

/// Stages `args` for the primitive `pd` describes: each argument whose
/// chosen layout differs from the caller's gets a buffer and a reorder.
template <typename Pd> Context::Staged stage(const Pd &pd, const std::vector<LayoutArg> &args) {
  Context &ctx = context();
  Context::Staged st;
  st.primitive = dnnl::primitive(pd);
  for (const LayoutArg &a : args) {
    dnnl::memory::desc chosen = pd.query_md(dnnl::query::exec_arg_md, a.id);
    Context::Staged::Arg arg{a.id, a.input, a.user, {}, {}};
    if (chosen != a.user) {
      arg.staged = dnnl::memory(chosen, ctx.engine);
      dnnl::memory user(a.user, ctx.engine, nullptr);
      arg.reorder = a.input ? dnnl::primitive(dnnl::reorder(user, arg.staged))
                            : dnnl::primitive(dnnl::reorder(arg.staged, user));
    }
    st.args.push_back(std::move(arg));
  }
  return st;
}

/// Runs a staged primitive on the caller's buffers (context mutex held):
/// reorders in, the primitive, reorders out.
void execute(Context &ctx, Context::Staged &st, const std::vector<LayoutArg> &args);

/// Runs the staged primitives `make()` creates once under `key` (one, or a
/// forward and a backward sharing a workspace), each on its `args`. `skip`,
/// when given, sees them first (under the mutex) and returns which to leave
/// out of this call.
using SkipHook = std::function<std::vector<bool>(Context &, std::vector<Context::Staged *> &)>;
template <typename Make>
void runStaged(const std::string &key, Make make,
               const std::vector<std::vector<LayoutArg>> &args, const SkipHook &skip = {}) {
  Context &ctx = context();
  std::lock_guard<std::mutex> lock(ctx.mutex);
  try {
    std::string k = key + layoutKey();
    if (!ctx.staged.count(k + "#0")) {
      std::vector<Context::Staged> made = make();
      for (size_t i = 0; i < made.size(); ++i)
        ctx.staged.emplace(k + "#" + std::to_string(i), std::move(made[i]));
    }
    if (prepareOnly)
      return;
    std::vector<Context::Staged *> staged;
    for (size_t i = 0; i < args.size(); ++i)
      staged.push_back(&ctx.staged.at(k + "#" + std::to_string(i)));
    std::vector<bool> left = skip ? skip(ctx, staged) : std::vector<bool>(args.size(), false);
    for (size_t i = 0; i < args.size(); ++i)
      if (!left[i])
        execute(ctx, *staged[i], args[i]);
    ctx.stream.wait();
  } catch (const dnnl::error &e) {
    tg::setKernelError("oneDNN " + key + ": " + e.what());
  }
}

} // namespace tg::cpu

// The kernels' integer parameters (support/KernelAbi.h): a convolution's,
// a pooling's, and the three an *_ext form adds.
#define TG_CONV_PARAMS                                                                             \
  int64_t sh, int64_t sw, int64_t pt, int64_t pb, int64_t pl, int64_t pr, int64_t dh, int64_t dw,  \
      int64_t groups
#define TG_CONV_ARGS sh, sw, pt, pb, pl, pr, dh, dw, groups
#define TG_POOL_PARAMS                                                                             \
  int64_t kh, int64_t kw, int64_t sh, int64_t sw, int64_t pt, int64_t pb, int64_t pl, int64_t pr
#define TG_POOL_ARGS kh, kw, sh, sw, pt, pb, pl, pr
#define TG_LAYOUT_PARAMS int64_t blockedMask, int64_t block, int64_t compute

// The kernels' base forms, defined in Matmul.cpp, Convolution.cpp,
// Pooling.cpp and Copies.cpp. Declared here so that each definition is
// checked against the declaration prepareKernel calls (C functions have no
// mangled signature to catch a mismatch at link time).
extern "C" {
void _mlir_ciface_tgrt_matmul_f32(tg::cpu::UnrankedMemRef *a, tg::cpu::UnrankedMemRef *b,
                                  tg::cpu::UnrankedMemRef *c, int32_t transposeA,
                                  int32_t transposeB);
void _mlir_ciface_tgrt_fused_matmul_f32(tg::cpu::UnrankedMemRef *a, tg::cpu::UnrankedMemRef *b,
                                        tg::cpu::UnrankedMemRef *bias, tg::cpu::UnrankedMemRef *c,
                                        int32_t transposeA, int32_t transposeB, int32_t activation);
void _mlir_ciface_tgrt_conv2d_f32(tg::cpu::UnrankedMemRef *x, tg::cpu::UnrankedMemRef *w,
                                  tg::cpu::UnrankedMemRef *y, TG_CONV_PARAMS);
void _mlir_ciface_tgrt_fused_conv2d_f32(tg::cpu::UnrankedMemRef *x, tg::cpu::UnrankedMemRef *w,
                                        tg::cpu::UnrankedMemRef *b, tg::cpu::UnrankedMemRef *y,
                                        TG_CONV_PARAMS, int64_t activation);
void _mlir_ciface_tgrt_conv2d_backprop_input_f32(tg::cpu::UnrankedMemRef *dy,
                                                 tg::cpu::UnrankedMemRef *w,
                                                 tg::cpu::UnrankedMemRef *dx, TG_CONV_PARAMS);
void _mlir_ciface_tgrt_conv2d_backprop_filter_f32(tg::cpu::UnrankedMemRef *x,
                                                  tg::cpu::UnrankedMemRef *dy,
                                                  tg::cpu::UnrankedMemRef *dwm, TG_CONV_PARAMS);
void _mlir_ciface_tgrt_conv2d_backprop_filter_bias_f32(tg::cpu::UnrankedMemRef *x,
                                                       tg::cpu::UnrankedMemRef *dy,
                                                       tg::cpu::UnrankedMemRef *dwm,
                                                       tg::cpu::UnrankedMemRef *dbm,
                                                       TG_CONV_PARAMS);
void _mlir_ciface_tgrt_max_pool2d_f32(tg::cpu::UnrankedMemRef *x, tg::cpu::UnrankedMemRef *y,
                                      TG_POOL_PARAMS);
void _mlir_ciface_tgrt_avg_pool2d_f32(tg::cpu::UnrankedMemRef *x, tg::cpu::UnrankedMemRef *y,
                                      TG_POOL_PARAMS, int64_t includePad);
void _mlir_ciface_tgrt_max_pool2d_grad_f32(tg::cpu::UnrankedMemRef *x, tg::cpu::UnrankedMemRef *dy,
                                           tg::cpu::UnrankedMemRef *dx, TG_POOL_PARAMS);
void _mlir_ciface_tgrt_avg_pool2d_grad_f32(tg::cpu::UnrankedMemRef *dy, tg::cpu::UnrankedMemRef *dx,
                                           TG_POOL_PARAMS, int64_t includePad);
void _mlir_ciface_tgrt_relayout_f32(tg::cpu::UnrankedMemRef *x, tg::cpu::UnrankedMemRef *y,
                                    int64_t toBlocked, int64_t block);
}

#endif // TG_RUNTIME_CPU_DNNL_H
