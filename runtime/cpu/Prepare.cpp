//===- Prepare.cpp - creating a session's primitives ahead of its steps ---===//
//
// tg::prepareKernel replays a manifest kernel call in prepare-only mode: the
// kernel creates and caches its primitive and returns without running it.
// Operand and parameter counts come from support/KernelAbi.h's
// kKernelSignatures, which a compile-time check holds to the kernels' C
// signatures.
//
//===----------------------------------------------------------------------===//
#include "runtime/KernelStatus.h"
#include "runtime/cpu/Dnnl.h"
#include "runtime/cpu/Kernels.h"
#include "support/KernelAbi.h"

#include <cstddef>
#include <string_view>
#include <type_traits>
#include <utility>

using namespace tg::cpu;

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

/// Calls kernel `Fn` with memrefs `m` and integer parameters `p`, each
/// parameter converted to the kernel's type; what it reads of the two, and
/// in which order, is deduced from its C signature.
template <auto Fn> struct Invoke;
template <typename... Args, void (*Fn)(Args...)> struct Invoke<Fn> {
  static constexpr int memrefs = (0 + ... + int(std::is_same_v<Args, UnrankedMemRef *>));
  static constexpr int params = int(sizeof...(Args)) - memrefs;
  static constexpr bool i32 = (false || ... || std::is_same_v<Args, int32_t>);
  /// Whether the memrefs come first and every parameter is i32 or every one
  /// i64: the shape of every kernel's C interface (support/KernelAbi.h).
  static constexpr bool wellFormed() {
    constexpr bool isRef[] = {std::is_same_v<Args, UnrankedMemRef *>...};
    for (size_t i = 0; i < sizeof...(Args); ++i)
      if (isRef[i] != (int(i) < memrefs))
        return false;
    return (... && (std::is_same_v<Args, UnrankedMemRef *> ||
                    std::is_same_v<Args, std::conditional_t<i32, int32_t, int64_t>>));
  }

  template <size_t I, typename T> static T arg(UnrankedMemRef *const *m, const int64_t *p) {
    if constexpr (std::is_same_v<T, UnrankedMemRef *>)
      return m[I];
    else
      return T(p[I - memrefs]);
  }
  template <size_t... I>
  static void call(UnrankedMemRef *const *m, const int64_t *p, std::index_sequence<I...>) {
    Fn(arg<I, Args>(m, p)...);
  }
  static void call(UnrankedMemRef *const *m, const int64_t *p) {
    call(m, p, std::index_sequence_for<Args...>());
  }
};

/// A kernel prepareKernel can replay, with the arity its C signature has.
struct Preparer {
  std::string_view symbol;
  void (*call)(UnrankedMemRef *const *memrefs, const int64_t *params);
  int memrefs, params;
  bool i32;
};

template <auto Fn> constexpr Preparer preparer(std::string_view symbol) {
  using I = Invoke<Fn>;
  static_assert(I::wellFormed(), "a kernel's memrefs come first, then i32 or i64 parameters");
  return {symbol, &I::call, I::memrefs, I::params, I::i32};
}

namespace abi = tg::abi;

constexpr Preparer kPreparers[] = {
    preparer<_mlir_ciface_tgrt_matmul_f32>(abi::kMatmulF32),
    preparer<_mlir_ciface_tgrt_fused_matmul_f32>(abi::kFusedMatmulF32),
    preparer<_mlir_ciface_tgrt_conv2d_f32>(abi::kConv2dF32),
    preparer<_mlir_ciface_tgrt_fused_conv2d_f32>(abi::kFusedConv2dF32),
    preparer<_mlir_ciface_tgrt_conv2d_backprop_input_f32>(abi::kConv2dBackpropInputF32),
    preparer<_mlir_ciface_tgrt_conv2d_backprop_filter_f32>(abi::kConv2dBackpropFilterF32),
    preparer<_mlir_ciface_tgrt_conv2d_backprop_filter_bias_f32>(abi::kConv2dBackpropFilterBiasF32),
    preparer<_mlir_ciface_tgrt_max_pool2d_f32>(abi::kMaxPool2dF32),
    preparer<_mlir_ciface_tgrt_avg_pool2d_f32>(abi::kAvgPool2dF32),
    preparer<_mlir_ciface_tgrt_max_pool2d_grad_f32>(abi::kMaxPool2dGradF32),
    preparer<_mlir_ciface_tgrt_avg_pool2d_grad_f32>(abi::kAvgPool2dGradF32),
    preparer<_mlir_ciface_tgrt_relayout_f32>(abi::kRelayoutF32),
};

constexpr const Preparer *findPreparer(std::string_view symbol) {
  for (const Preparer &p : kPreparers)
    if (p.symbol == symbol)
      return &p;
  return nullptr;
}

/// Whether kPreparers and abi::kKernelSignatures list the same kernels with
/// the same arities: a kernel added to one and not the other, or whose C
/// signature differs from its ABI entry, fails to compile here.
constexpr bool preparersMatchAbi() {
  for (const Preparer &p : kPreparers) {
    const abi::KernelSignature *s = abi::kernelSignature(p.symbol);
    if (!s || s->memrefs != p.memrefs || s->params != p.params || s->i32Params != p.i32)
      return false;
  }
  for (const abi::KernelSignature &s : abi::kKernelSignatures)
    if (!findPreparer(s.symbol))
      return false;
  return true;
}
static_assert(preparersMatchAbi(), "runtime/cpu kernels and support/KernelAbi.h disagree");

} // namespace

bool tg::prepareKernel(const std::string &symbol, const std::vector<KernelOperand> &operands,
                       const std::vector<int64_t> &params, std::string &error) {
  // An *_ext form: the base kernel; its last params set the layouts and the
  // compute type.
  std::string_view suffix = abi::kExtSuffix;
  if (symbol.size() > suffix.size() &&
      symbol.compare(symbol.size() - suffix.size(), suffix.size(), suffix) == 0) {
    if (params.size() < size_t(abi::kExtParams)) {
      error = "kernel '" + symbol + "': expected the blocked mask, block and compute parameters";
      return false;
    }
    static_assert(abi::kExtParams == 3, "the *_ext parameters are mask, block and compute");
    LayoutScope layouts(params[params.size() - 3], params[params.size() - 2], params.back());
    return prepareKernel(symbol.substr(0, symbol.size() - suffix.size()), operands,
                         std::vector<int64_t>(params.begin(), params.end() - abi::kExtParams),
                         error);
  }
  std::vector<FakeMemRef> fakes;
  for (const KernelOperand &op : operands) {
    if (op.sizes.size() != op.strides.size()) {
      error = "kernel '" + symbol + "': operand sizes and strides differ in rank";
      return false;
    }
    fakes.emplace_back(op);
  }
  std::vector<UnrankedMemRef *> refs;
  for (FakeMemRef &f : fakes)
    refs.push_back(&f.ref);
  struct PrepareMode { // on for this call only, whichever way it returns
    PrepareMode() { prepareOnly = true; }
    ~PrepareMode() { prepareOnly = false; }
  } prepareMode;
  takeKernelError();
  const abi::KernelSignature *signature = abi::kernelSignature(symbol);
  const Preparer *prepare = findPreparer(symbol);
  if (!signature || !prepare) {
    error = "unknown kernel '" + symbol + "' (this runtime is older than the artifact?)";
    return false;
  }
  if (fakes.size() != size_t(signature->memrefs) || params.size() != size_t(signature->params)) {
    error = "kernel '" + symbol + "': expected " + std::to_string(signature->memrefs) +
            " operands and " + std::to_string(signature->params) + " parameters";
    return false;
  }
  prepare->call(refs.data(), params.data());
  error = takeKernelError();
  return error.empty();
}

size_t tg::cachedPrimitiveCount() {
  Context &ctx = context();
  std::lock_guard<std::mutex> lock(ctx.mutex);
  return ctx.matmuls.size() + ctx.staged.size();
}
