//===- tg/Train.h - the training loop behind `tgc train` --------*- C++ -*-===//
//
// Runs an artifact's train_step over a dataset for some epochs or steps,
// evaluates with eval_step at each epoch end, reports progress and JSON-lines
// metrics, and writes safetensors checkpoints it can resume from exactly: the
// data order is a function of (seed, epoch), the position is saved, and every
// param and state buffer (optimizer slots, step counter, recurrent state) is
// in the checkpoint, so a resumed run computes the same bits as an unbroken one.
//
//===----------------------------------------------------------------------===//
#ifndef TG_TRAIN_H
#define TG_TRAIN_H

#include "absl/status/statusor.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace tg {

/// What tg::train does: every `tgc train` flag, under its name.
struct TrainOptions {
  std::string artifact; ///< the .tgx to train (compiled with a tg.train spec)
  /// "NAME=FILE" (IDX or .npy for argument NAME), "DIR" (an MNIST-style
  /// directory: train-images/labels feed the data and label arguments; or a
  /// packed directory of shards, `tgc data pack`, read shard by shard) or
  /// "FILE" (plain text for a character model).
  std::vector<std::string> data;
  /// Held-out data in the same forms, evaluated (eval_step) at each epoch
  /// end; text is read with the training text's vocabulary.
  std::vector<std::string> evalData;
  int64_t epochs = 0; ///< epochs to train; at most one of epochs, steps set
  int64_t steps = 0;  ///< total steps to train to; neither set: 1 epoch
  std::optional<double> lr; ///< the "lr" hyperparameter (default: the model's)
  uint64_t seed = 0;  ///< initializers, data order, graph randomness
  bool shuffle = true; ///< a new seeded order each epoch (text streams: never)
  bool pad = false; ///< pad the last partial batch instead of dropping it
  int prefetch = 2; ///< batches assembled ahead of the step
  /// Threads assembling batches (reading, converting); 1 keeps up with the
  /// example models' steps (bench/README.md: 0.7M examples/s a thread).
  int dataThreads = 1;
  /// Sharded data: the shuffle buffer's records (shards are shuffled too).
  int64_t shuffleBuffer = 16384;
  /// Records with a bad value (a label that is no class of the model, a
  /// non-integer index) are left out, counted and reported, instead of
  /// being an error before step 1.
  bool skipBadRecords = false;
  /// Zero the model's recurrent state (predict's state arguments) at each
  /// epoch start: Auto does it for text streams only.
  /// When recurrent state is zeroed.
  enum class ResetState {
    Auto,  ///< text streams only
    Epoch, ///< every model with recurrent state
    Never  ///< the state carries on across epochs
  };
  ResetState resetState = ResetState::Auto; ///< when to zero recurrent state
  std::string checkpointDir; ///< where checkpoints go (empty: none are written)
  int64_t checkpointEvery = 0; ///< steps; 0: at each epoch end
  int keepCheckpoints = 3;     ///< the newest N are kept
  /// Continue from the newest checkpoint in checkpointDir (none: from step
  /// 0, said on the first line), to the same bits as an unbroken run.
  bool resume = false;
  /// --resume=required: no checkpoint to resume from is an error (a
  /// requeued job on a node that does not see the directory), not step 0.
  bool resumeRequired = false;
  /// Params to start from instead of the initializers: a safetensors file
  /// with exactly the artifact's params by name (tgc train --init; from
  /// tgc export or another framework). Not with `resume`.
  std::string initFrom;
  std::string metricsPath; ///< default: CHECKPOINT_DIR/metrics.jsonl
  /// How progress is shown.
  enum class Progress {
    Auto,  ///< a bar on a terminal, else lines
    Bar,   ///< one line redrawn
    Lines, ///< a line every logEvery steps
    None   ///< only errors and the summary
  };
  Progress progress = Progress::Auto; ///< how progress goes to stderr
  int64_t logEvery = 0; ///< steps between log lines; 0: ~10 per epoch

  /// Data parallelism (an artifact compiled with --data-parallel): under an
  /// MPI launcher every process is a rank; otherwise one process, or this
  /// many ranks as threads of this process when above 1.
  int emulateWorldSize = 0;
  /// Seconds a collective may take before the run is aborted (0: no limit).
  double collectiveTimeout = 300;
  /// MPI: a thread advances started allreduces during long kernels.
  bool progressThread = false;
  /// The global batch the run must have (ranks x the artifact's batch);
  /// 0: whatever the number of ranks makes.
  int64_t globalBatch = 0;
  /// average:K: local steps per averaging round (0: the artifact's K).
  int64_t averageEvery = 0;
  /// Rank-ordered reductions (bitwise reproducible, the bits of
  /// --emulate-world-size) or MPI's own algorithm (faster for large buckets
  /// and many ranks; the bits depend on the message size).
  bool mpiReduction = false;
};

/// What a tg::train run did.
struct TrainResult {
  int64_t steps = 0;         ///< total steps, including resumed ones
  int64_t epochs = 0;        ///< total epochs begun, including resumed ones
  int64_t stepsPerEpoch = 0; ///< batches of an epoch
  double seconds = 0;        ///< wall time of this run
  std::map<std::string, double> lastTrain; ///< train outputs' means over the last epoch
  std::map<std::string, double> lastEval;  ///< eval outputs' means (and "examples")
  std::string lastCheckpoint; ///< the path of the last checkpoint written
  int rank = 0;  ///< this process's rank (only rank 0 reports)
  int world = 1; ///< the number of ranks
  /// This rank reports for the run (prints the summary): rank 0, or a
  /// pipeline's last stage (which computes the loss).
  bool reports = true;
  int64_t shardsRead = 0;  ///< a packed --data: the shards this rank mapped
  int64_t shardsTotal = 0; ///< a packed --data: all its shards
  uint64_t bytesRead = 0;  ///< a packed --data: the bytes of the shards read
  /// Data parallel: the bytes of allreduced data this rank sent.
  uint64_t allreduceBytes = 0;
  std::string compress; ///< how they travelled (the artifact's --compress)
  /// A pipeline: each stage's share of the run spent waiting for its peers
  /// (replica 0's; tg_pipeline_wait_seconds), and the ideal bubble of its
  /// schedule, (S - 1) / (M + S - 1).
  std::vector<double> stageWait;
  double idealBubble = 0; ///< a pipeline: (S - 1) / (M + S - 1)
  /// --skip-bad-records: the records left out of --data.
  int64_t skippedRecords = 0;
  std::string firstSkipped; ///< the first record left out, and why
};

/// Trains; progress goes to stderr, the final summary to stdout. Errors (bad
/// data, bad checkpoint, failed write) come back before any state is lost.
absl::StatusOr<TrainResult> train(const TrainOptions &options);

/// The identity of an artifact file: its integrity trailer's FNV-1a hash, hex.
absl::StatusOr<std::string> artifactHash(const std::string &path);

} // namespace tg

#endif // TG_TRAIN_H
