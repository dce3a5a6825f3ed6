//===- Kernels.cpp - oneDNN kernels called by compiled code ---------------===//
//
// Compiled artifacts call these through MLIR's C interface with unranked
// memrefs: {rank, descriptor*}, the descriptor being {allocated, aligned,
// offset, sizes[rank], strides[rank]}. Each distinct shape/stride signature
// gets one oneDNN primitive, created on first use and cached for the life of
// the process.
//
//===----------------------------------------------------------------------===//
#include "runtime/Kernels.h"
#include "runtime/Collectives.h"
#include "runtime/KernelStatus.h"
#include "support/KernelAbi.h"

#include "dnnl.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <unordered_map>
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

/// Set while prepareKernel runs: kernels create their primitives and return.
thread_local bool prepareOnly = false;

/// TGRT_PROFILE=1: time spent in each kernel, printed at exit.
struct KernelProfile {
  std::mutex mutex;
  std::map<std::string, std::pair<double, long>> totals; ///< seconds, calls
  bool enabled = std::getenv("TGRT_PROFILE") != nullptr;
  ~KernelProfile() {
    if (!enabled)
      return;
    std::fprintf(stderr, "tgrt kernel profile (TGRT_PROFILE):\n");
    for (auto &[name, t] : totals)
      std::fprintf(stderr, "  %-34s %8ld calls %10.3f ms\n", name.c_str(), t.second, t.first * 1e3);
  }
};
KernelProfile &profile() {
  static KernelProfile p;
  return p;
}
struct ProfileScope {
  const char *name;
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
  explicit ProfileScope(const char *n) : name(n) {}
  ~ProfileScope() {
    KernelProfile &p = profile();
    if (!p.enabled || prepareOnly)
      return;
    double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::lock_guard<std::mutex> lock(p.mutex);
    auto &t = p.totals[name];
    t.first += sec;
    ++t.second;
  }
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

/// Every primitive takes its scratchpad from the caller (Context::scratchpad).
dnnl::primitive_attr userScratchpad() {
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return attr;
}

/// Adds the context's scratchpad, grown to what `p` needs, to `args`.
/// Called with the context's mutex held.
void addScratchpad(Context &ctx, const dnnl::primitive &p,
                   std::unordered_map<int, dnnl::memory> &args) {
  const dnnl_memory_desc_t *md =
      dnnl_primitive_desc_query_md(p.get_primitive_desc(), dnnl_query_scratchpad_md, 0);
  if (!md)
    return;
  dnnl::memory::desc desc(*md);
  size_t size = desc.get_size();
  if (size == 0)
    return;
  if (ctx.scratchpad.size() < size)
    ctx.scratchpad.resize(size);
  args[DNNL_ARG_SCRATCHPAD] = dnnl::memory(desc, ctx.engine, ctx.scratchpad.data());
}

/// The post-op of a fused kernel's activation code (support/KernelAbi.h).
dnnl::primitive_attr postOps(int64_t activation) {
  using tg::abi::Activation;
  dnnl::primitive_attr attr = userScratchpad();
  std::optional<Activation> act = tg::abi::activationOfCode(activation);
  if (!act || *act == Activation::None)
    return attr;
  dnnl::post_ops ops;
  auto alg = *act == Activation::Relu   ? dnnl::algorithm::eltwise_relu
             : *act == Activation::Tanh ? dnnl::algorithm::eltwise_tanh
                                        : dnnl::algorithm::eltwise_logistic;
  ops.append_eltwise(1.0f, alg, 0.0f, 0.0f);
  attr.set_post_ops(ops);
  return attr;
}

bool bf16Compute();

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
        ::key(os, *v);
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

namespace {

using dt = dnnl::memory::data_type;

dnnl::memory::desc descOf(const View &v) { return dnnl::memory::desc(v.sizes, dt::f32, v.strides); }

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

std::string keyOf(const char *op, std::initializer_list<const View *> views,
                  std::initializer_list<int64_t> params) {
  std::ostringstream os;
  os << op << ':';
  for (const View *v : views)
    key(os, *v);
  for (int64_t p : params)
    os << p << ',';
  return os.str();
}

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

dnnl::memory::desc anyDesc(const dnnl::memory::desc &plain) {
  return dnnl::memory::desc(plain.dims(), plain.data_type(), dnnl::memory::format_tag::any);
}

/// An argument of a staged primitive: its oneDNN id, whether the primitive
/// reads it, the caller's buffer and its layout, and the layout to create
/// the primitive with (the caller's, or `any` to let oneDNN choose).
struct LayoutArg {
  int id;
  bool input;
  void *data;
  dnnl::memory::desc user, create;
};

/// TGRT_CONV_LAYOUT=plain keeps the convolutions of an artifact compiled
/// with --layouts=plain on their plain NCHW buffers (oneDNN's GEMM-based
/// kernels), for comparison; by default plain arguments are created with
/// `any` and reordered per call.
bool chooseLayouts() {
  static const bool on = [] {
    const char *v = std::getenv("TGRT_CONV_LAYOUT");
    return !(v && std::strcmp(v, "plain") == 0);
  }();
  return on;
}

/// The layouts of the current call's NCHW ports (tg-assign-layouts' mask)
/// and its compute type (tg-mixed-precision: 1 = inputs rounded to bf16,
/// f32 accumulation and outputs), set by the *_ext entry points for one call.
struct CallLayouts {
  int64_t mask = 0, block = 0, compute = 0;
};
thread_local CallLayouts callLayouts;

bool bf16Compute() { return callLayouts.compute == int64_t(tg::abi::Compute::Bf16); }

/// `d` with element type `t` (same dims and layout, or still `any`).
dnnl::memory::desc retype(const dnnl::memory::desc &d, dnnl::memory::data_type t) {
  dnnl_memory_desc_t c = d.data;
  c.data_type = dnnl::memory::convert_to_c(t);
  return dnnl::memory::desc(c);
}

/// The desc an input is created with under the call's compute type.
dnnl::memory::desc computeDesc(const dnnl::memory::desc &d) {
  return bf16Compute() ? retype(d, dt::bf16) : d;
}

struct LayoutScope {
  LayoutScope(int64_t mask, int64_t block, int64_t compute) {
    callLayouts = {mask, block, compute};
  }
  ~LayoutScope() { callLayouts = {}; }
  LayoutScope(const LayoutScope &) = delete;
  LayoutScope &operator=(const LayoutScope &) = delete;
};

/// Whether the current call's port `port` is stored blocked.
bool blocked(int port) { return callLayouts.mask >> port & 1; }

/// Port `port`'s argument: the caller's buffer (blocked when the mask says
/// so), created as is when blocked, else with `any` (chooseLayouts()).
LayoutArg port(int id, bool input, const View &v, int port) {
  if (blocked(port)) {
    auto tag = callLayouts.block == 8 ? dnnl::memory::format_tag::nChw8c
                                      : dnnl::memory::format_tag::nChw16c;
    dnnl::memory::desc d(v.sizes, dt::f32, tag);
    return {id, input, v.data, d, input ? computeDesc(d) : d};
  }
  dnnl::memory::desc d = descOf(v);
  dnnl::memory::desc create = chooseLayouts() || bf16Compute() ? anyDesc(d) : d;
  return {id, input, v.data, d, input ? computeDesc(create) : create};
}

/// An argument that is never blocked (weights, bias): created with `any`
/// too, so oneDNN picks its weight layout (a per-call reorder of a few KB).
LayoutArg plainArg(int id, bool input, void *data, const dnnl::memory::desc &d) {
  // With blocked activations the weights must be blocked too (oneDNN's
  // direct kernels take no plain weights: its reference kernel would run).
  dnnl::memory::desc create = chooseLayouts() || callLayouts.mask || bf16Compute() ? anyDesc(d) : d;
  return {id, input, data, d, input ? computeDesc(create) : create};
}

/// The layout part of a primitive's cache key.
std::string layoutKey() {
  return "|mask " + std::to_string(callLayouts.mask) + " block " +
         std::to_string(callLayouts.block) + " compute " + std::to_string(callLayouts.compute) +
         (chooseLayouts() ? "" : " plain");
}

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
void execute(Context &ctx, Context::Staged &st, const std::vector<LayoutArg> &args) {
  std::unordered_map<int, dnnl::memory> run = st.internal;
  for (size_t i = 0; i < args.size(); ++i) {
    Context::Staged::Arg &a = st.args[i];
    dnnl::memory user(a.user, ctx.engine, args[i].data);
    if (!a.staged) {
      run[a.id] = user;
      continue;
    }
    if (a.input)
      a.reorder.execute(ctx.stream, {{DNNL_ARG_FROM, user}, {DNNL_ARG_TO, a.staged}});
    run[a.id] = a.staged;
  }
  addScratchpad(ctx, st.primitive, run);
  st.primitive.execute(ctx.stream, run);
  for (size_t i = 0; i < args.size(); ++i) {
    Context::Staged::Arg &a = st.args[i];
    if (a.staged && !a.input)
      a.reorder.execute(ctx.stream,
                        {{DNNL_ARG_FROM, a.staged},
                         {DNNL_ARG_TO, dnnl::memory(a.user, ctx.engine, args[i].data)}});
  }
}

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

} // namespace

#define TG_CONV_PARAMS                                                                             \
  int64_t sh, int64_t sw, int64_t pt, int64_t pb, int64_t pl, int64_t pr, int64_t dh, int64_t dw,  \
      int64_t groups
#define TG_CONV_ARGS sh, sw, pt, pb, pl, pr, dh, dw, groups

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

/// Convolution backward-weights: dw, and with `dbm` the bias gradient too
/// (oneDNN's diff_bias, summed while it reads dy).
static void convBackwardWeights(UnrankedMemRef *xm, UnrankedMemRef *dym, UnrankedMemRef *dwm,
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

namespace {

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

} // namespace

#define TG_POOL_PARAMS                                                                             \
  int64_t kh, int64_t kw, int64_t sh, int64_t sw, int64_t pt, int64_t pb, int64_t pl, int64_t pr
#define TG_POOL_ARGS kh, kw, sh, sw, pt, pb, pl, pr

static void poolForward(UnrankedMemRef *xm, UnrankedMemRef *ym, bool isMax, int64_t includePad,
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

/// dx from dy: max pooling recomputes the forward pass for its workspace
/// (the argmax positions), as tg.max_pool2d_grad takes the input; the
/// forward's output and workspace are the primitive pair's own buffers.
static void poolBackward(UnrankedMemRef *xm, UnrankedMemRef *dym, UnrankedMemRef *dxm, bool isMax,
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

// The kernels' *_ext forms: the same parameters, then the mask of NCHW ports
// stored blocked, the channel block and the compute type (support/KernelAbi.h).
#define TG_LAYOUT_PARAMS int64_t blockedMask, int64_t block, int64_t compute

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
                                                                    UnrankedMemRef *dx,
                                                                    TG_CONV_PARAMS,
                                                                    TG_LAYOUT_PARAMS) {
  LayoutScope layouts(blockedMask, block, compute);
  _mlir_ciface_tgrt_conv2d_backprop_input_f32(dy, w, dx, TG_CONV_ARGS);
}

extern "C" void _mlir_ciface_tgrt_conv2d_backprop_filter_f32_ext(UnrankedMemRef *x,
                                                                     UnrankedMemRef *dy,
                                                                     UnrankedMemRef *dwm,
                                                                     TG_CONV_PARAMS,
                                                                     TG_LAYOUT_PARAMS) {
  LayoutScope layouts(blockedMask, block, compute);
  _mlir_ciface_tgrt_conv2d_backprop_filter_f32(x, dy, dwm, TG_CONV_ARGS);
}

extern "C" void _mlir_ciface_tgrt_conv2d_backprop_filter_bias_f32_ext(
    UnrankedMemRef *x, UnrankedMemRef *dy, UnrankedMemRef *dwm, UnrankedMemRef *dbm,
    TG_CONV_PARAMS, TG_LAYOUT_PARAMS) {
  LayoutScope layouts(blockedMask, block, compute);
  _mlir_ciface_tgrt_conv2d_backprop_filter_bias_f32(x, dy, dwm, dbm, TG_CONV_ARGS);
}

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

extern "C" void _mlir_ciface_tgrt_max_pool2d_grad_f32_ext(UnrankedMemRef *x,
                                                              UnrankedMemRef *dy,
                                                              UnrankedMemRef *dx, TG_POOL_PARAMS,
                                                              TG_LAYOUT_PARAMS) {
  LayoutScope layouts(blockedMask, block, compute);
  _mlir_ciface_tgrt_max_pool2d_grad_f32(x, dy, dx, TG_POOL_ARGS);
}

extern "C" void _mlir_ciface_tgrt_avg_pool2d_grad_f32_ext(UnrankedMemRef *dy,
                                                              UnrankedMemRef *dx, TG_POOL_PARAMS,
                                                              int64_t includePad,
                                                              TG_LAYOUT_PARAMS) {
  LayoutScope layouts(blockedMask, block, compute);
  _mlir_ciface_tgrt_avg_pool2d_grad_f32(dy, dx, TG_POOL_ARGS, includePad);
}

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

namespace {

/// A memref descriptor {allocated, aligned, offset, sizes, strides} without
/// data, for prepare-only calls.
struct FakeMemRef {
  std::vector<int64_t> words;
  UnrankedMemRef ref;
  explicit FakeMemRef(const tg::KernelOperand &op) {
    words = {0, 0, 0};
    words.insert(words.end(), op.sizes.begin(), op.sizes.end());
    words.insert(words.end(), op.strides.begin(), op.strides.end());
    ref = {int64_t(op.sizes.size()), words.data()};
  }
};

} // namespace

bool tg::prepareKernel(const std::string &symbol, const std::vector<KernelOperand> &operands,
                       const std::vector<int64_t> &params, std::string &error) {
  // An *_ext form: the base kernel; its three last params set the layouts
  // and the compute type.
  std::string_view suffix = tg::abi::kExtSuffix;
  if (symbol.size() > suffix.size() &&
      symbol.compare(symbol.size() - suffix.size(), suffix.size(), suffix) == 0) {
    if (params.size() < 3) {
      error = "kernel '" + symbol + "': expected the blocked mask, block and compute parameters";
      return false;
    }
    LayoutScope layouts(params[params.size() - 3], params[params.size() - 2], params.back());
    return prepareKernel(symbol.substr(0, symbol.size() - suffix.size()), operands,
                         std::vector<int64_t>(params.begin(), params.end() - 3), error);
  }
  std::vector<FakeMemRef> fakes;
  for (const KernelOperand &op : operands) {
    if (op.sizes.size() != op.strides.size()) {
      error = "kernel '" + symbol + "': operand sizes and strides differ in rank";
      return false;
    }
    fakes.emplace_back(op);
  }
  auto m = [&](size_t i) { return &fakes[i].ref; };
  auto p = [&](size_t i) { return params[i]; };
  auto shape = [&](size_t memrefs, size_t ints) {
    if (fakes.size() == memrefs && params.size() == ints)
      return true;
    error = "kernel '" + symbol + "': expected " + std::to_string(memrefs) + " operands and " +
            std::to_string(ints) + " parameters";
    return false;
  };
  struct PrepareMode { // on for this call only, whichever way it returns
    PrepareMode() { prepareOnly = true; }
    ~PrepareMode() { prepareOnly = false; }
  } prepareMode;
  takeKernelError();
  bool known = true;
  if (symbol == tg::abi::kMatmulF32) {
    if (!shape(3, 2))
      return false;
    _mlir_ciface_tgrt_matmul_f32(m(0), m(1), m(2), int32_t(p(0)), int32_t(p(1)));
  } else if (symbol == tg::abi::kFusedMatmulF32) {
    if (!shape(4, 3))
      return false;
    _mlir_ciface_tgrt_fused_matmul_f32(m(0), m(1), m(2), m(3), int32_t(p(0)), int32_t(p(1)),
                                       int32_t(p(2)));
  } else if (symbol == tg::abi::kConv2dF32 || symbol == tg::abi::kConv2dBackpropInputF32 ||
             symbol == tg::abi::kConv2dBackpropFilterF32) {
    if (!shape(3, 9))
      return false;
    auto fn = symbol == tg::abi::kConv2dF32 ? _mlir_ciface_tgrt_conv2d_f32
              : symbol == tg::abi::kConv2dBackpropInputF32
                  ? _mlir_ciface_tgrt_conv2d_backprop_input_f32
                  : _mlir_ciface_tgrt_conv2d_backprop_filter_f32;
    fn(m(0), m(1), m(2), p(0), p(1), p(2), p(3), p(4), p(5), p(6), p(7), p(8));
  } else if (symbol == tg::abi::kConv2dBackpropFilterBiasF32) {
    if (!shape(4, 9))
      return false;
    _mlir_ciface_tgrt_conv2d_backprop_filter_bias_f32(m(0), m(1), m(2), m(3), p(0), p(1), p(2),
                                                      p(3), p(4), p(5), p(6), p(7), p(8));
  } else if (symbol == tg::abi::kFusedConv2dF32) {
    if (!shape(4, 10))
      return false;
    _mlir_ciface_tgrt_fused_conv2d_f32(m(0), m(1), m(2), m(3), p(0), p(1), p(2), p(3), p(4), p(5),
                                       p(6), p(7), p(8), p(9));
  } else if (symbol == tg::abi::kRelayoutF32) {
    if (!shape(2, 2))
      return false;
    _mlir_ciface_tgrt_relayout_f32(m(0), m(1), p(0), p(1));
  } else if (symbol == tg::abi::kMaxPool2dF32) {
    if (!shape(2, 8))
      return false;
    _mlir_ciface_tgrt_max_pool2d_f32(m(0), m(1), p(0), p(1), p(2), p(3), p(4), p(5), p(6), p(7));
  } else if (symbol == tg::abi::kAvgPool2dF32) {
    if (!shape(2, 9))
      return false;
    _mlir_ciface_tgrt_avg_pool2d_f32(m(0), m(1), p(0), p(1), p(2), p(3), p(4), p(5), p(6), p(7),
                                     p(8));
  } else if (symbol == tg::abi::kMaxPool2dGradF32) {
    if (!shape(3, 8))
      return false;
    _mlir_ciface_tgrt_max_pool2d_grad_f32(m(0), m(1), m(2), p(0), p(1), p(2), p(3), p(4), p(5),
                                          p(6), p(7));
  } else if (symbol == tg::abi::kAvgPool2dGradF32) {
    if (!shape(2, 9))
      return false;
    _mlir_ciface_tgrt_avg_pool2d_grad_f32(m(0), m(1), p(0), p(1), p(2), p(3), p(4), p(5), p(6),
                                          p(7), p(8));
  } else {
    known = false;
  }
  if (!known) {
    error = "unknown kernel '" + symbol + "' (this runtime is older than the artifact?)";
    return false;
  }
  error = takeKernelError();
  return error.empty();
}

size_t tg::cachedPrimitiveCount() {
  Context &ctx = context();
  std::lock_guard<std::mutex> lock(ctx.mutex);
  return ctx.matmuls.size() + ctx.staged.size();
}
