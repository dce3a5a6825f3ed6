//===- Context.cpp - oneDNN's engine, primitive cache and staging ---------===//
//
// What every kernel of runtime/cpu/ uses: the process's oneDNN context, the
// cache keys, the shared scratchpad, the per-call layouts of the *_ext forms
// and the staging of arguments between the caller's layouts and the ones
// oneDNN chose, and the TGRT_PROFILE profile.
//
//===----------------------------------------------------------------------===//
#include "runtime/cpu/Dnnl.h"
#include "support/KernelAbi.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>

namespace tg::cpu {

thread_local bool prepareOnly = false;
thread_local CallLayouts callLayouts;

namespace {

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

/// `d` with element type `t` (same dims and layout, or still `any`).
dnnl::memory::desc retype(const dnnl::memory::desc &d, dnnl::memory::data_type t) {
  dnnl_memory_desc_t c = d.data;
  c.data_type = dnnl::memory::convert_to_c(t);
  return dnnl::memory::desc(c);
}

} // namespace

ProfileScope::~ProfileScope() {
  KernelProfile &p = profile();
  if (!p.enabled || prepareOnly)
    return;
  double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::lock_guard<std::mutex> lock(p.mutex);
  auto &t = p.totals[name];
  t.first += sec;
  ++t.second;
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

dnnl::primitive_attr userScratchpad() {
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return attr;
}

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

bool bf16Compute() { return callLayouts.compute == int64_t(tg::abi::Compute::Bf16); }

bool blocked(int port) { return callLayouts.mask >> port & 1; }

dnnl::memory::desc computeDesc(const dnnl::memory::desc &d) {
  return bf16Compute() ? retype(d, dt::bf16) : d;
}

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

LayoutArg plainArg(int id, bool input, void *data, const dnnl::memory::desc &d) {
  // With blocked activations the weights must be blocked too (oneDNN's
  // direct kernels take no plain weights: its reference kernel would run).
  dnnl::memory::desc create = chooseLayouts() || callLayouts.mask || bf16Compute() ? anyDesc(d) : d;
  return {id, input, data, d, input ? computeDesc(create) : create};
}

std::string layoutKey() {
  return "|mask " + std::to_string(callLayouts.mask) + " block " +
         std::to_string(callLayouts.block) + " compute " + std::to_string(callLayouts.compute) +
         (chooseLayouts() ? "" : " plain");
}

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

} // namespace tg::cpu
