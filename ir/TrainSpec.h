//===- TrainSpec.h - the tg.train module attribute --------------*- C++ -*-===//
//
// A module is self-describing for training: its `tg.train` attribute names the
// model function, its loss output and the optimizer, e.g.
//
//   module attributes {tg.train = {function = "mlp", loss = "loss",
//       optimizer = {kind = "rmsprop", lr = 0.1, rho = 0.95, eps = 1.0e-8,
//                    l2 = 1.0e-3, schedule = {kind = "cosine", decay_steps = 1000},
//                    groups = [{params = "*.bias", weight_decay = 0.0, lr_scale = 1.0}]}}}
//
// parseTrainSpec checks every field (name, type, range) and reports the first
// problem through `emitError`; the dialect verifier, the frontend and
// tg-build-train-step all go through it.
//
//===----------------------------------------------------------------------===//
#ifndef TG_IR_TRAINSPEC_H
#define TG_IR_TRAINSPEC_H

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Diagnostics.h"
#include "tg/Vocabulary.h"

#include <optional>
#include <string>
#include <vector>

namespace tg {

inline constexpr llvm::StringLiteral kTrainAttr = "tg.train";
/// On the module: the collective plan tg-distribute compiled in (it becomes
/// the manifest's data_parallel section).
inline constexpr llvm::StringLiteral kDataParallelAttr = "tg.data_parallel";
/// On the module: the pipeline plan tg-pipeline-split compiled in (stages,
/// micro-batches, schedule, per-stage costs; the manifest's pipeline section).
inline constexpr llvm::StringLiteral kPipelineAttr = "tg.pipeline";
/// On an op: the pipeline stage a user put it in (Graph::stage); on an entry
/// point: the stage that runs it.
inline constexpr llvm::StringLiteral kStageAttr = "tg.stage";
/// On the module: the model's identity (modelHash, passes/TrainStepBuilder.h)
/// when its steps run micro-batches; the manifest's model_hash.
inline constexpr llvm::StringLiteral kModelHashAttr = "tg.model_hash";
/// On a tg.add: it sums one micro-batch's gradient into the others' (an
/// unrolled pipeline step), so tg-batch-matmul-sums must not merge the
/// micro-batches' weight-gradient GEMMs into one: that would change the
/// order of the sums (the bits of --microbatches) and keep every
/// micro-batch's activations alive.
inline constexpr llvm::StringLiteral kMicrobatchSumAttr = "tg.microbatch_sum";

struct ScheduleSpec {
  std::string kind = "constant"; ///< constant | step | exponential | cosine
  int64_t stepSize = 0;          ///< step: decay every stepSize steps
  int64_t decaySteps = 0;        ///< exponential, cosine
  double gamma = 1.0;            ///< step, exponential: factor per period
  double alpha = 0.0;            ///< cosine: final factor
  int64_t warmupSteps = 0;       ///< linear warm-up, combined with any kind
};

/// Per-parameter settings: the first group whose `params` glob (llvm's
/// GlobPattern: *, ?, [...]) matches a param's name sets its weight decay
/// (when given) and scales its learning rate; other params take the
/// optimizer's; the coupled l2 still applies to every param. E.g. minGPT's:
/// no decay for biases, norms and embeddings.
struct ParamGroupSpec {
  std::string params;
  std::optional<double> weightDecay;
  double lrScale = 1.0;
};

struct OptimizerSpec {
  OptimizerKind kind = OptimizerKind::Sgd;
  double lr = 0.01;
  double momentum = 0.9;             ///< momentum, nesterov
  double rho = 0.95;                 ///< rmsprop (DL4J's rmsDecay)
  double beta1 = 0.9, beta2 = 0.999; ///< adam, adamw
  double eps = 1e-8;                 ///< rmsprop, adam, adamw
  double l2 = 0.0;                   ///< coupled L2: g += l2 * p
  double weightDecay = 0.0;          ///< decoupled: p -= lr * wd * p
  double clipNorm = 0.0;             ///< clip by global norm (0: off)
  ScheduleSpec schedule;
  std::vector<ParamGroupSpec> groups; ///< in order; the first match wins
};

struct TrainSpec {
  std::string function; ///< empty: the module's only function
  std::string loss = "loss";
  OptimizerSpec optimizer;
};

/// Parses and validates a `tg.train` dictionary.
mlir::FailureOr<TrainSpec> parseTrainSpec(mlir::Attribute attr,
                                          llvm::function_ref<mlir::InFlightDiagnostic()> emitError);

/// The group of `param` (the first whose glob matches), or null.
const ParamGroupSpec *groupOf(const OptimizerSpec &spec, llvm::StringRef param);

/// The dictionary form of `spec` (defaults written out, so files are explicit).
mlir::DictionaryAttr trainSpecToAttr(mlir::MLIRContext *ctx, const TrainSpec &spec);

} // namespace tg

#endif // TG_IR_TRAINSPEC_H
