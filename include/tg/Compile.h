//===- Compile.h - compiling graphs in process ------------------*- C++ -*-===//
//
// The same pipeline as `tgc compile`, from C++:
//
//   tg::Graph g("mlp"); ... g.minimize(loss, tg::optim::Adam());
//   auto exe = tg::compile(g);                       // absl::StatusOr<Executable>
//   exe->set("image", images);                       // tg::Tensor, checked
//   exe->run("train_step");                          // params updated in place
//   auto loss = exe->get("loss");
//
//===----------------------------------------------------------------------===//
/// \file
/// tg::compile: runs the `tgc compile` pipeline in process and loads the
/// result as an Executable that exchanges tg::Tensor values.

#ifndef TG_COMPILE_H
#define TG_COMPILE_H

#include "tg/Checkpoint.h"
#include "tg/Graph.h"
#include "tg/Module.h"
#include "tg/Runtime.h"
#include "tg/Tensor.h"

#include <map>
#include <string>
#include <vector>

namespace tg {

/// Options of tg::compile: mostly `tgc compile` flags, plus the session's
/// seed.
struct CompileOptions {
  /// LLVM CPU to compile for (--target-cpu): "native" (this machine),
  /// "x86-64-v2", "x86-64-v3", ... or any LLVM CPU name. The artifact records
  /// the features it needs and will not open on a CPU without them.
  std::string targetCpu = "native";
  /// Where the .tgx goes; empty: a temporary file removed when done loading.
  std::string outputPath;
  uint64_t seed = 0;  ///< initializer seed of the session
  bool fusion = true; ///< false: the unfused path
  /// CPU: keep activations in oneDNN's blocked layout (nChw16c with AVX-512)
  /// between convolution and pooling calls (tg-assign-layouts); false keeps
  /// every tensor plain NCHW (tgc compile --layouts=plain).
  bool blockedLayouts = true;
  /// "f32", or "bf16-mixed": CPU matmuls and convolutions round their inputs
  /// to bf16 and accumulate in f32; params, optimizer state and the loss stay
  /// f32 (tgc compile --precision). Needs a CPU with AVX512_BF16.
  std::string precision = "f32";
  /// Data parallelism: none | allreduce | average:K (tgc compile --data-parallel).
  std::string dataParallel = "none";
  /// Functions to export as entry points besides train_step, eval_step and
  /// predict: the model function, or its gradient "<fn>_grad" (built by
  /// tg-autodiff), e.g. {"mlp_grad"} to read the compiled d loss / d param.
  std::vector<std::string> keepFunctions;
  /// Largest collective bucket of `dataParallel`, in MiB (--bucket-mb; 25 as
  /// in PyTorch DDP); must be in (0, 4096].
  double bucketCapMb = 25.0;
  /// Backend: "cpu" or "cuda" (tgc compile --target); with `cudaEmulate`
  /// the CUDA kernels run as loops on the CPU (--cuda-emulate).
  std::string target = "cpu";
  /// With target "cuda": run the kernels as loops on the CPU (a CPU artifact).
  bool cudaEmulate = false;
  std::string cudaArch; ///< e.g. "sm_80,sm_90"; empty: the default
  /// LLVM optimization level 0-3 of the generated code (--opt-level).
  int optLevel = 3;
  /// Identical loop nests compiled once, as one function (--share-loop-nests).
  bool shareLoopNests = true;
  /// Every entry point takes this many micro-batches of the model's batch;
  /// train_step sums their gradients before one update (--microbatches;
  /// 1: off).
  int microbatches = 1;
  /// Pipeline stages (--pipeline-stages; 1: off).
  int pipelineStages = 1;
  /// Their schedule (--schedule): "1f1b" or "gpipe".
  std::string schedule = "1f1b";
};

/// A loaded artifact with one session, exchanging tg::Tensor values. set()
/// and get() support f32, f64, i32, i64 and i1 buffers (Unimplemented for
/// f16 and bf16).
class Executable {
public:
  /// Copies `value` into argument buffer `name` (dtype and shape must match:
  /// InvalidArgument; NotFound for an unknown name).
  absl::Status set(const std::string &name, const Tensor &value);
  /// A buffer (argument of any entry point, or a result of the latest run
  /// that produced it); NotFound for an unknown name or a result not yet
  /// computed.
  absl::StatusOr<Tensor> get(const std::string &name) const;
  /// Runs entry point `entry` (train_step, eval_step, predict, ...); a train
  /// step updates params and state in place.
  absl::Status run(const std::string &entry);
  /// Copies every tensor of `checkpoint` whose name is a buffer of this
  /// executable into it (params, optimizer state: a tgc train checkpoint, or
  /// safetensors from elsewhere, tg/Checkpoint.h); other names are skipped.
  /// A dtype or shape that differs is InvalidArgument naming the tensor.
  /// Returns how many were copied.
  absl::StatusOr<int> load(const Checkpoint &checkpoint);
  /// The artifact's manifest (JSON): entry points and their buffers.
  const std::string &manifest() const { return manifest_; }
  /// The underlying session, for raw byte access or setCommunicator().
  rt::Session &session() { return session_; }

  /// Internal: wraps a loaded artifact and its session; use tg::compile().
  Executable(rt::Artifact artifact, rt::Session session);

private:
  struct Spec {
    DType dtype;
    std::vector<int64_t> shape;
  };
  rt::Artifact artifact_;
  rt::Session session_;
  std::string manifest_;
  std::map<std::string, Spec> specs_;
};

/// Compiles `module` (a tg.train spec gets train_step/eval_step/predict).
/// Errors carry the compiler's diagnostics. `module` itself is not changed;
/// the session's params and state are initialized from `options.seed`.
absl::StatusOr<Executable> compile(const Module &module, const CompileOptions &options = {});
/// Builds `graph` (Graph::build(); its errors are returned) and compiles the
/// module.
absl::StatusOr<Executable> compile(const Graph &graph, const CompileOptions &options = {});

} // namespace tg

#endif // TG_COMPILE_H
