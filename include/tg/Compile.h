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
#ifndef TG_COMPILE_H
#define TG_COMPILE_H

#include "tg/Graph.h"
#include "tg/Module.h"
#include "tg/Runtime.h"
#include "tg/Tensor.h"

#include <map>
#include <string>
#include <vector>

namespace tg {

struct CompileOptions {
  std::string targetCpu = "native";
  /// Where the .tgx goes; empty: a temporary file removed when done loading.
  std::string outputPath;
  uint64_t seed = 0;  ///< initializer seed of the session
  bool fusion = true; ///< false: the unfused path
  /// Data parallelism: none | allreduce | average:K (tgc compile --data-parallel).
  std::string dataParallel = "none";
  /// Functions to export as entry points besides train_step, eval_step and
  /// predict: the model function, or its gradient "<fn>_grad" (built by
  /// tg-autodiff), e.g. {"mlp_grad"} to read the compiled d loss / d param.
  std::vector<std::string> keepFunctions;
  double bucketCapMb = 25.0;
  /// Backend: "cpu" or "cuda" (tgc compile --target); with `cudaEmulate`
  /// the CUDA kernels run as loops on the CPU (--cuda-emulate).
  std::string target = "cpu";
  bool cudaEmulate = false;
  std::string cudaArch; ///< e.g. "sm_80,sm_90"; empty: the default
};

/// A loaded artifact with one session, exchanging tg::Tensor values.
class Executable {
public:
  /// Copies `value` into buffer `name` (dtype and shape must match).
  absl::Status set(const std::string &name, const Tensor &value);
  /// A buffer (argument of any entry point or result of the last run).
  absl::StatusOr<Tensor> get(const std::string &name) const;
  absl::Status run(const std::string &entry);
  const std::string &manifest() const { return manifest_; }
  rt::Session &session() { return session_; }

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
/// Errors carry the compiler's diagnostics.
absl::StatusOr<Executable> compile(const Module &module, const CompileOptions &options = {});
absl::StatusOr<Executable> compile(const Graph &graph, const CompileOptions &options = {});

} // namespace tg

#endif // TG_COMPILE_H
