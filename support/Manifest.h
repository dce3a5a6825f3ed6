//===- Manifest.h - the typed manifest of a .tgx artifact -------*- C++ -*-===//
//
// The manifest is the JSON text embedded in every artifact (symbol
// `tg_manifest`): entry points, every buffer's name/role/dtype/shape/
// initializer/alias, the library kernel calls to prepare, the target and the
// training spec. The compiler fills a Manifest and writes it with toJson();
// everything that reads one (libtgrt, tgtrain, tgc, the examples) goes through
// parseManifest(), which validates every field and names the one it rejects.
// No other code reads manifest JSON.
//
//===----------------------------------------------------------------------===//
#ifndef TG_SUPPORT_MANIFEST_H
#define TG_SUPPORT_MANIFEST_H

#include "support/Init.h"
#include "tg/Tensor.h"
#include "tg/Vocabulary.h"

#include "absl/status/statusor.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tg {

/// Version of the manifest schema this code writes and reads.
inline constexpr int kManifestVersion = 1;

/// Bytes of one element of `dtype`.
size_t dtypeSize(DType dtype);

/// One argument or result of an entry point.
struct BufferSpec {
  std::string name;
  Role role = Role::None; ///< arguments only
  DType dtype = DType::f32;
  std::vector<int64_t> shape;
  std::optional<InitSpec> init;       ///< params (and state) with tg.init
  std::optional<double> defaultValue; ///< hypers with tg.default
  int alias = -1;                     ///< results: the argument index updated in place (tg.alias)
  /// Integer arguments a softmax cross-entropy reads as class indices: every
  /// value must be in [0, classes) (0: not known to be class indices).
  int64_t classes = 0;

  int64_t numElements() const;
  size_t byteSize() const { return size_t(numElements()) * dtypeSize(dtype); }
  /// "f32 [784, 256]".
  std::string typeString() const;
};

struct EntrySpec {
  std::string name;
  std::string symbol;            ///< tg_entry_<name>
  std::string kind = "function"; ///< train_step | eval_step | predict | function
  int stage = -1; ///< the pipeline stage that runs it (--pipeline-stages); -1: every rank
  std::vector<BufferSpec> args, results;
  /// Temporaries (tg-plan-memory): the bytes of the arena each call uses,
  /// and what its planned buffers would take without reuse (0: not planned).
  int64_t arenaBytes = 0, tempBytes = 0;

  const BufferSpec *findArg(std::string_view name) const;
  const BufferSpec *findResult(std::string_view name) const;
  /// The buffer a result lives in: its aliased argument's name, or its own.
  const std::string &bufferOf(const BufferSpec &result) const;
};

/// One operand of a library kernel call: sizes and strides of its memref.
struct KernelOperand {
  std::vector<int64_t> sizes, strides;
};

/// A library kernel call the runtime prepares when a session starts.
struct KernelCall {
  std::string symbol;
  std::vector<KernelOperand> operands;
  std::vector<int64_t> params;
};

/// What the training step was built from (the tg.train attribute).
struct TrainInfo {
  std::string function;
  std::string loss;
  OptimizerKind optimizer = OptimizerKind::Sgd;
  double lr = 0;
  /// The whole spec as compact JSON, for display.
  std::string json;
};

/// One bucket of the collective plan: buffers reduced together, packed in
/// this order into one f32 vector of `elements`.
struct BucketSpec {
  int64_t id = 0;
  std::string entry;                ///< the entry point that runs it
  std::vector<std::string> buffers; ///< gradients (by param name) or buffers
  int64_t elements = 0;
};

/// --shard-optimizer-state=N (ZeRO stage 1): train_step updates this rank's
/// shard of S elements of the params (concatenated in `params` order, zero
/// padded to N * S) with one state buffer of S floats per optimizer slot
/// (`buffers[j]`, holding the shard of every "<param>.<slots[j]>").
struct ShardSpec {
  int64_t world = 0, size = 0;
  std::vector<std::pair<std::string, int64_t>> params; ///< name, elements
  std::vector<std::string> slots, buffers;
};

/// The data-parallel plan tg-distribute compiled in (the tg.data_parallel
/// module attribute).
struct DataParallelSpec {
  std::string mode = "none"; ///< none | allreduce | average
  int64_t averageEvery = 0;  ///< average: K local steps per averaging round
  bool averageState = false; ///< average: optimizer state averaged too
  /// allreduce: none | bf16 | threshold:T (how gradients travel)
  std::string compress = "none";
  int64_t bucketCapBytes = 0;
  std::vector<BucketSpec> buckets;
  std::string planHash; ///< 16 hex digits; ranks compare it at start
  /// The module before tg-distribute: artifacts that differ only in their
  /// plan resume each other's checkpoints.
  std::string modelHash;
  std::optional<ShardSpec> shard;
};

/// One stage of a pipeline plan, as the compiler's cost model saw it.
struct StageCost {
  int64_t ops = 0;       ///< the model's ops it runs
  double flops = 0;      ///< its forward's FLOPs per micro-batch
  double bytes = 0;      ///< its forward's bytes read and written per micro-batch
  double paramBytes = 0; ///< its params
  double sendBytes = 0;  ///< activations it sends per step
  double seconds = 0;    ///< the estimate of its share of a step
};

/// The pipeline plan tg-pipeline-split compiled in (the tg.pipeline module
/// attribute): rank r runs stage r / (ranks / stages).
struct PipelineSpec {
  int64_t stages = 1;
  int64_t microbatches = 1;
  std::string schedule = "1f1b";
  std::vector<StageCost> plan;
};

/// A --compress value: none, bf16, or threshold:T with T in [1.2e-38, 1e30]
/// (a normal f32 whose largest quantum, T * 2^15, is finite). std::nullopt
/// when malformed.
struct Compress {
  enum Kind { None, Bf16, Threshold } kind = None;
  float threshold = 0;
};
std::optional<Compress> parseCompress(std::string_view value);

/// What ptxas reported for one kernel on one arch.
struct CudaResources {
  int64_t registers = 0, sharedBytes = 0, spillBytes = 0, stackBytes = 0;
};

/// One generated kernel: its index is its position in CudaSpec::kernels.
struct CudaKernelSpec {
  std::string name;
  int64_t blockSize = 0;
  int64_t params = 0; ///< 64-bit parameters (a memref: 3 + 2 * rank)
  std::map<std::string, CudaResources> resources; ///< by arch (sm_80, ...)
};

/// A CUDA artifact (tgc compile --target=cuda): the fatbin's archs, its
/// kernels and the library calls of the host code.
struct CudaSpec {
  std::vector<std::string> archs; ///< SASS images
  std::string ptxArch;            ///< the PTX image (JIT on newer GPUs)
  std::string toolkit;            ///< the CUDA version that built it
  int64_t fatbinBytes = 0;
  std::vector<CudaKernelSpec> kernels;
  std::vector<std::string> libraryCalls; ///< tgrt_cuda_* (cuBLASLt, cuDNN)
};

struct Manifest {
  int version = kManifestVersion;
  std::string compiler;
  std::string triple, cpu;
  std::vector<std::string> features; ///< CPU features the code needs
  std::string targetCpu;             ///< the --target-cpu it was compiled with
  bool fusion = true;
  std::optional<TrainInfo> train;
  DataParallelSpec dataParallel;
  std::optional<PipelineSpec> pipeline; ///< set for --pipeline-stages > 1
  /// The model's identity when its steps run micro-batches (--microbatches,
  /// --pipeline-stages): such artifacts of one model resume each other.
  std::string modelHash;
  std::vector<EntrySpec> entries;
  std::vector<KernelCall> kernels;
  std::optional<CudaSpec> cuda; ///< set for CUDA artifacts

  const EntrySpec *findEntry(std::string_view name) const;
  std::vector<std::string> entryNames() const;

  /// The JSON text (what the compiler embeds). A string that is not valid
  /// UTF-8 (a name from a module, JSON cannot hold it) is an error.
  absl::StatusOr<std::string> serialize() const;
  /// serialize(), with invalid UTF-8 replaced by U+FFFD (for tests, logs).
  std::string toJson() const { return dump(/*replaceInvalidUtf8=*/true); }

private:
  /// Throws nlohmann::json::type_error on invalid UTF-8 unless replacing.
  std::string dump(bool replaceInvalidUtf8) const;
};

/// Parses and validates a manifest's JSON text. Errors name `source` (the
/// artifact's path), the field and the value. A version other than
/// kManifestVersion is FAILED_PRECONDITION.
absl::StatusOr<Manifest> parseManifest(std::string_view text, std::string_view source);

/// Parses and validates the pipeline section alone (the compiler's copy of
/// the tg.pipeline attribute).
absl::StatusOr<PipelineSpec> parsePipeline(std::string_view text, std::string_view source);

/// Parses and validates the data_parallel section alone (the compiler's
/// check of the plan it records).
absl::StatusOr<DataParallelSpec> parseDataParallel(std::string_view text, std::string_view source);

} // namespace tg

#endif // TG_SUPPORT_MANIFEST_H
