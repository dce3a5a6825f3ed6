//===- KernelAbi.h - the ABI between generated code and libtgrt -*- C++ -*-===//
//
// The one place where the compiler (codegen/host/LibraryBufferization.cpp,
// the manifest's kernel list) and the runtime (runtime/cpu/, libtgrt_cuda's
// call check) agree on kernel symbols, arities, activation codes and argument
// order.
//
// Every kernel is called through MLIR's C interface:
//   _mlir_ciface_<symbol>(UnrankedMemRef *operands..., UnrankedMemRef *result,
//                         <integer params>...)
// with operands in the op's operand order, the result last, then the integer
// parameters (kKernelSignatures: how many of each, and their width).
//
//===----------------------------------------------------------------------===//
#ifndef TG_SUPPORT_KERNELABI_H
#define TG_SUPPORT_KERNELABI_H

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tg::abi {

/// Prefix of every runtime kernel symbol (the manifest lists calls to them).
inline constexpr std::string_view kKernelPrefix = "tgrt_";
/// Prefix MLIR's C interface adds to an external function.
inline constexpr std::string_view kCInterfacePrefix = "_mlir_ciface_";
/// Exported entry point of an artifact: `void tg_entry_<name>(void **descriptors)`.
inline constexpr std::string_view kEntryPrefix = "tg_entry_";
/// The manifest's symbols in an artifact (a NUL-terminated JSON text and its size).
inline constexpr const char *kManifestSymbol = "tg_manifest";
inline constexpr const char *kManifestSizeSymbol = "tg_manifest_size";
/// CUDA artifacts: the fatbin (SASS per arch + PTX) libtgrt_cuda loads.
inline constexpr const char *kCudaFatbinSymbol = "tg_cuda_fatbin";
inline constexpr const char *kCudaFatbinSizeSymbol = "tg_cuda_fatbin_size";

// Kernel symbols (their operands and parameters: kKernelSignatures).
inline constexpr std::string_view kMatmulF32 = "tgrt_matmul_f32";
inline constexpr std::string_view kFusedMatmulF32 = "tgrt_fused_matmul_f32";
inline constexpr std::string_view kConv2dF32 = "tgrt_conv2d_f32";
inline constexpr std::string_view kFusedConv2dF32 = "tgrt_fused_conv2d_f32";
inline constexpr std::string_view kConv2dBackpropInputF32 = "tgrt_conv2d_backprop_input_f32";
inline constexpr std::string_view kConv2dBackpropFilterF32 = "tgrt_conv2d_backprop_filter_f32";
/// The filter and bias gradients in one pass.
inline constexpr std::string_view kConv2dBackpropFilterBiasF32 =
    "tgrt_conv2d_backprop_filter_bias_f32";
inline constexpr std::string_view kMaxPool2dF32 = "tgrt_max_pool2d_f32";
inline constexpr std::string_view kAvgPool2dF32 = "tgrt_avg_pool2d_f32";
inline constexpr std::string_view kMaxPool2dGradF32 = "tgrt_max_pool2d_grad_f32";
inline constexpr std::string_view kAvgPool2dGradF32 = "tgrt_avg_pool2d_grad_f32";
/// tg.relayout: plain NCHW to nChw<block>c or back.
inline constexpr std::string_view kRelayoutF32 = "tgrt_relayout_f32";

/// The convolution parameters: stride h/w, pad top/bottom/left/right,
/// dilation h/w, groups.
inline constexpr int kConvParams = 9;
/// The pooling parameters: kernel h/w, stride h/w, pad top/bottom/left/right.
inline constexpr int kPoolParams = 8;

/// A library kernel's C-interface signature: `memrefs` unranked memrefs (the
/// operands, then the results), then `params` integer parameters, i32 when
/// `i32Params`, else i64. The compiler builds its calls, and the runtime
/// checks and replays them (prepareKernel), by this.
struct KernelSignature {
  std::string_view symbol;
  int memrefs;
  int params;
  bool i32Params;
};

inline constexpr KernelSignature kKernelSignatures[] = {
    // (a, b, c; transpose_a, transpose_b)
    {kMatmulF32, 3, 2, true},
    // (a, b, bias, c; transpose_a, transpose_b, activation)
    {kFusedMatmulF32, 4, 3, true},
    // (x, w, y; the conv params)
    {kConv2dF32, 3, kConvParams, false},
    // (x, w, bias, y; the conv params, activation)
    {kFusedConv2dF32, 4, kConvParams + 1, false},
    // (dy, w, dx; the conv params)
    {kConv2dBackpropInputF32, 3, kConvParams, false},
    // (x, dy, dw; the conv params)
    {kConv2dBackpropFilterF32, 3, kConvParams, false},
    // (x, dy, dw, db; the conv params)
    {kConv2dBackpropFilterBiasF32, 4, kConvParams, false},
    // (x, y; the pool params)
    {kMaxPool2dF32, 2, kPoolParams, false},
    // (x, y; the pool params, count_include_pad)
    {kAvgPool2dF32, 2, kPoolParams + 1, false},
    // (x, dy, dx; the pool params)
    {kMaxPool2dGradF32, 3, kPoolParams, false},
    // (dy, dx; the pool params, count_include_pad)
    {kAvgPool2dGradF32, 2, kPoolParams + 1, false},
    // (x, y; to_blocked, block)
    {kRelayoutF32, 2, 2, false},
};

/// The signature of kernel `symbol` (a base form, not *_ext); null for any
/// other symbol.
constexpr const KernelSignature *kernelSignature(std::string_view symbol) {
  for (const KernelSignature &s : kKernelSignatures)
    if (s.symbol == symbol)
      return &s;
  return nullptr;
}

/// A matmul, convolution or pooling kernel with this suffix takes
/// kExtParams more parameters, and all its parameters are i64: the mask of
/// its NCHW ports (activation operands, then the result) stored blocked and
/// the channel block (tg-assign-layouts), and the compute type (Compute:
/// tg-mixed-precision).
inline constexpr std::string_view kExtSuffix = "_ext";
inline constexpr int kExtParams = 3;
/// How a kernel computes: f32 throughout, or its inputs rounded to bf16 with
/// f32 accumulation and f32 outputs (oneDNN on AVX512_BF16).
enum class Compute : int64_t { F32 = 0, Bf16 = 1 };

// Collectives (tg.allreduce_start / tg.allreduce_wait), calls into the
// session's communicator rather than kernels: not listed in the manifest.
/// (bucket: a 1-D f32 buffer; bucket id, reduce op), i64 params.
inline constexpr std::string_view kAllreduceStart = "tgrt_allreduce_start";
/// (bucket; bucket id), i64 params.
inline constexpr std::string_view kAllreduceWait = "tgrt_allreduce_wait";
/// The reduce op parameter of kAllreduceStart. GradientMean: a mean of
/// gradients, which the artifact's --compress applies to.
enum class CollectiveOp : int64_t { Sum = 0, Mean = 1, GradientMean = 2 };

/// The sharded ops (tg.reduce_scatter, tg.allgather, tg.local_shard): (in,
/// out: 1-D f32 buffers), the first with the reduce op as an i64 param.
inline constexpr std::string_view kReduceScatter = "tgrt_reduce_scatter";
inline constexpr std::string_view kAllgather = "tgrt_allgather";
inline constexpr std::string_view kLocalShard = "tgrt_local_shard";

/// Pipeline transfers (tg.send_start/wait, tg.recv_start/wait): (buffer: a
/// 1-D memref of any element type; peer stage offset, tag, element bytes)
/// for the starts, (buffer; tag) for the waits, i64 params.
inline constexpr std::string_view kSendStart = "tgrt_send_start";
inline constexpr std::string_view kSendWait = "tgrt_send_wait";
inline constexpr std::string_view kRecvStart = "tgrt_recv_start";
inline constexpr std::string_view kRecvWait = "tgrt_recv_wait";

inline bool isCollective(std::string_view symbol) {
  return symbol == kAllreduceStart || symbol == kAllreduceWait || symbol == kReduceScatter ||
         symbol == kAllgather || symbol == kLocalShard || symbol == kSendStart ||
         symbol == kSendWait || symbol == kRecvStart || symbol == kRecvWait;
}

/// Whether kernel `symbol` takes i32 parameters (the matmuls' base forms);
/// every other call, *_ext forms and collectives included, takes i64.
constexpr bool hasI32Params(std::string_view symbol) {
  const KernelSignature *s = kernelSignature(symbol);
  return s && s->i32Params;
}

/// The activation applied by a fused kernel (its `activation` parameter).
enum class Activation : int64_t { None = 0, Relu = 1, Tanh = 2, Sigmoid = 3 };

/// "", "relu", "tanh", "sigmoid" (the spelling of tg.fused_* ops' attribute).
inline std::string_view activationName(Activation a) {
  switch (a) {
  case Activation::Relu:
    return "relu";
  case Activation::Tanh:
    return "tanh";
  case Activation::Sigmoid:
    return "sigmoid";
  case Activation::None:
    break;
  }
  return "";
}

/// The activation spelled `name` ("" or "none" is None); nullopt if unknown.
inline std::optional<Activation> parseActivation(std::string_view name) {
  for (Activation a : {Activation::None, Activation::Relu, Activation::Tanh, Activation::Sigmoid})
    if (activationName(a) == name)
      return a;
  if (name == "none")
    return Activation::None;
  return std::nullopt;
}

/// The activation of a kernel's integer parameter; nullopt when out of range.
inline std::optional<Activation> activationOfCode(int64_t code) {
  if (code < 0 || code > int64_t(Activation::Sigmoid))
    return std::nullopt;
  return Activation(code);
}

/// libtgrt_cuda's name of library call `symbol` ("tgrt_matmul_f32" ->
/// "tgrt_cuda_matmul_f32"): tg-cuda-lower-launches renames the calls so.
inline std::string cudaSymbol(std::string_view symbol) {
  constexpr std::string_view prefix = "tgrt_";
  if (symbol.substr(0, prefix.size()) != prefix)
    return std::string(symbol);
  return "tgrt_cuda_" + std::string(symbol.substr(prefix.size()));
}

/// Whether `n` window paddings [top, bottom, left, right] pad both sides of
/// each dimension alike: all cuDNN's 2-D descriptors can express.
inline bool symmetricPadding(const int64_t *p, size_t n) {
  return n >= 4 && p[0] == p[1] && p[2] == p[3];
}

/// Why libtgrt_cuda cannot serve library call `symbol` (its tgrt_cuda_* name)
/// with these integer parameters, or "" when it can. The compiler warns with
/// it; the device runtime refuses a session with it.
inline std::string cudaUnsupportedCall(std::string_view symbol, const int64_t *params,
                                       size_t numParams) {
  if (symbol == "tgrt_cuda_matmul_f32")
    return "";
  if (symbol == "tgrt_cuda_fused_matmul_f32") {
    // (transpose_a, transpose_b, activation): cuBLASLt's epilogues are bias
    // and bias+ReLU.
    constexpr size_t arity = size_t(kernelSignature(kFusedMatmulF32)->params);
    if (numParams == arity && params[arity - 1] > int64_t(Activation::Relu))
      return std::string(symbol) + " with a " + std::string(activationName(Activation(params[2]))) +
             " epilogue (cuBLASLt has bias and bias+ReLU only)";
    return "";
  }
  auto symmetric = [&](size_t top) {
    return numParams >= top && symmetricPadding(params + top, numParams - top);
  };
  bool conv = symbol == "tgrt_cuda_conv2d_f32" || symbol == "tgrt_cuda_fused_conv2d_f32" ||
              symbol == "tgrt_cuda_conv2d_backprop_input_f32" ||
              symbol == "tgrt_cuda_conv2d_backprop_filter_f32";
  bool pool = symbol == "tgrt_cuda_max_pool2d_f32" || symbol == "tgrt_cuda_avg_pool2d_f32" ||
              symbol == "tgrt_cuda_max_pool2d_grad_f32" ||
              symbol == "tgrt_cuda_avg_pool2d_grad_f32";
  if (conv || pool) {
    if (!symmetric(conv ? 2 : 4))
      return std::string(symbol) +
             " with asymmetric padding (cuDNN's 2-D descriptors pad both sides alike)";
    return "";
  }
  if (symbol == "tgrt_cuda_allreduce_start" || symbol == "tgrt_cuda_allreduce_wait")
    return ""; // NCCL
  return std::string(symbol) + " (libtgrt_cuda does not implement it)";
}

} // namespace tg::abi

#endif // TG_SUPPORT_KERNELABI_H
