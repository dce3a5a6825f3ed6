//===- Internal.h - the steps of tg::train ----------------------*- C++ -*-===//
//
// tg::train (Trainer.cpp) runs these steps in order: bind the data files to
// the artifact's data and label arguments (DataBinding.cpp), create the session
// and pick the buffers a checkpoint holds (Session.cpp), restore the
// newest checkpoint or start fresh (Checkpointing.cpp), then the step loop
// (Loop.cpp), which evaluates at each epoch end (Evaluate.cpp), reports
// progress and JSON-lines metrics (Report.cpp) and writes checkpoints.
// Internal to tgtrain; the public interface is tg/Train.h.
//
//===----------------------------------------------------------------------===//
#ifndef TG_TRAIN_INTERNAL_H
#define TG_TRAIN_INTERNAL_H

#include "comm/Communicator.h"
#include "tg/Checkpoint.h"
#include "tg/Data.h"
#include "io/Shards.h"
#include "tg/Train.h"
#include "support/Manifest.h"
#include "tg/Runtime.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <functional>
#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tg {
namespace trainer {

using Clock = std::chrono::steady_clock;
using Values = std::map<std::string, double>; ///< metric name -> value

//===----------------------------------------------------------------------===//
// The artifact side (Session.cpp)
//===----------------------------------------------------------------------===//

/// An entry point as the loop drives it.
struct StepEntry {
  const EntrySpec *spec = nullptr;  ///< null: the artifact has no such entry
  std::vector<std::string> metrics; ///< f32 scalar results not updated in place
  std::vector<std::string> aliased; ///< buffers the entry updates in place
  explicit operator bool() const { return spec != nullptr; }
};
StepEntry stepEntry(const Manifest &manifest, std::string_view name);

/// What the data pipeline needs of an argument (dtype in MLIR spelling).
data::ArgSpec argSpec(const BufferSpec &arg);

/// A session of the artifact, with --lr written into train_step's `lr` hyper.
/// `stage` >= 0: a session of that pipeline stage only.
absl::StatusOr<rt::Session> createSession(const rt::Artifact &artifact, const TrainOptions &o,
                                          const EntrySpec &step, int stage = -1);
/// What a checkpoint holds: every param and state buffer of train_step.
std::vector<const BufferSpec *> checkpointedArgs(const EntrySpec &step);
/// The recurrent state to zero at each epoch start (empty when not reset).
std::vector<const BufferSpec *> modelStateArgs(const Manifest &manifest, const TrainOptions &o,
                                               const data::Dataset &ds);
/// Writes zeros into `args`.
absl::Status zeroBuffers(rt::Session &session, const std::vector<const BufferSpec *> &args);

//===----------------------------------------------------------------------===//
// Data (DataBinding.cpp)
//===----------------------------------------------------------------------===//

/// A loaded dataset and a description of where it came from.
struct LoadedData {
  std::optional<data::Dataset> dataset;
  std::string vocab, description;
  std::string vocabPath; ///< text: where the vocabulary came from
  /// --skip-bad-records: why the first left-out record was bad.
  std::string firstSkipped;
};

/// The training data and, when there is any, the evaluation data.
struct BoundData {
  LoadedData train;
  std::optional<LoadedData> eval;
};

/// Loads --data and --eval-data (an MNIST directory's t10k split by default)
/// and checks them against train_step and eval_step before anything runs. A
/// text corpus is cut into `world` times the step's streams, so that each
/// rank carries its own recurrent state through its own streams.
/// A text feeds a model with recurrent state (`recurrent`) as
/// truncated-BPTT streams, and one without as shuffled windows.
absl::StatusOr<BoundData> bindData(const TrainOptions &o, const StepEntry &step,
                                   const StepEntry &evalStep, int world, bool recurrent);

/// Whether the model carries recurrent state: a state argument that
/// predict updates (optimizer slots and BatchNorm statistics are not).
bool hasRecurrentState(const Manifest &manifest);

/// The shape of the run: batch size (per rank), batches per epoch (global
/// batches of world * batch examples), steps in all.
struct Schedule {
  int64_t batch = 0, perEpoch = 0, totalSteps = 0, totalEpochs = 0;
  int world = 1;
  bool shuffle = false;
  int64_t globalBatch() const { return batch * world; }
};
absl::StatusOr<Schedule> scheduleOf(const TrainOptions &o, const data::Dataset &ds,
                                    const StepEntry &step, int world);


//===----------------------------------------------------------------------===//
// Checkpoints (Checkpointing.cpp)
//===----------------------------------------------------------------------===//

/// Where training stands; what a checkpoint records besides the tensors.
struct Position {
  int64_t step = 0, epoch = 0, batch = 0; ///< global step, epoch, batch in the epoch
  double priorSeconds = 0;                ///< training time of earlier runs
  /// The global batch `batch` counts in: a checkpoint of another world size
  /// (or batch) has another, and its position is re-split (resplit()).
  int64_t globalBatch = 0;
};

/// Moves a resumed position to this run's global batch (the same examples
/// of the epoch's order done, rounded down) and, for --epochs, recomputes
/// the steps to train. Returns a note for the log ("" when nothing moved).
std::string resplit(Position &pos, Schedule &s, const TrainOptions &o);

//===----------------------------------------------------------------------===//
// Data parallelism (Parallel.cpp)
//===----------------------------------------------------------------------===//

class Checkpointer;

/// This process's (or thread's) place in the run.
struct Ranks {
  dist::Communicator &comm;
  int rank = 0, world = 1;
  bool root() const { return rank == 0; }
};

/// Checks collectively that every rank loaded the same artifact, plan and
/// data with the same options; a mismatch is an error on every rank naming
/// each rank's value.
absl::Status checkRanksAgree(const Ranks &ranks, const TrainOptions &o, const std::string &hash,
                             const Manifest &manifest, const BoundData &bound, const Schedule &s);

/// Rank 0's params, state and position (fresh or resumed) to every rank.
absl::Status broadcastState(const Ranks &ranks, rt::Session &session,
                            const std::vector<const BufferSpec *> &saved, Position &pos);

/// Checks collectively that every rank holds the same bits in `replicated`
/// (params and optimizer state; not recurrent state, which is per rank): a
/// difference means the replicas diverged, an error naming `when`.
absl::Status checkReplicas(const Ranks &ranks, const rt::Session &session,
                           const std::vector<const BufferSpec *> &replicated,
                           const std::string &when);

/// Recurrent state (predict's state arguments among `saved`): each rank's own.
std::vector<const BufferSpec *> perRankState(const Manifest &manifest,
                                             const std::vector<const BufferSpec *> &saved);

/// Every rank's recurrent state, for rank 0's checkpoint: the tensors
/// "NAME@rank<r>" of ranks 1..N-1 (empty on the other ranks). Collective.
absl::StatusOr<std::vector<NamedTensor>>
gatherRankState(const Ranks &ranks, const rt::Session &session,
                const std::vector<const BufferSpec *> &state);

/// After a resume: gives rank r its own recurrent state from rank 0's
/// checkpoint when it was written by as many ranks; otherwise (another world
/// size: the streams are cut anew) every rank starts from zeros. Returns a
/// note for the log ("" when nothing to say). Collective.
absl::StatusOr<std::string> scatterRankState(const Ranks &ranks, rt::Session &session,
                                             const std::vector<const BufferSpec *> &state,
                                             const Checkpointer &checkpointer, bool resumed);

/// --shard-optimizer-state: every rank's shard buffers gathered and cut into
/// rank 0's named "<param>.<slot>" tensors, the checkpoint format of an
/// unsharded run (empty on the other ranks). Collective.
absl::StatusOr<std::vector<NamedTensor>> gatherShards(const Ranks &ranks,
                                                      const rt::Session &session,
                                                      const ShardSpec &shard,
                                                      const EntrySpec &step);

/// After a resume: each rank's shard of the optimizer state restored by rank
/// 0 (from a sharded or an unsharded run). Collective.
absl::Status scatterShards(const Ranks &ranks, rt::Session &session, const ShardSpec &shard,
                           const Checkpointer &checkpointer, bool resumed);

/// This rank's rows of an epoch's `order`, like PyTorch's DistributedSampler:
/// global batch k is rows [k*world*batch, (k+1)*world*batch) of the order
/// (wrapped around to fill the last one with `pad`), and rank r takes its
/// r-th slice of each, so every rank runs the same number of steps.
std::vector<int64_t> shardOrder(const std::vector<int64_t> &order, const Schedule &s, int rank,
                                bool pad);

class Checkpointer {
public:
  Checkpointer(const TrainOptions &o, std::string artifactHash,
               std::vector<const BufferSpec *> saved, const LoadedData &data, const Schedule &s)
      : o_(o), hash_(std::move(artifactHash)), saved_(std::move(saved)), data_(data), s_(s) {}
  ~Checkpointer();
  Checkpointer(const Checkpointer &) = delete;
  Checkpointer &operator=(const Checkpointer &) = delete;

  /// Creates --checkpoint-dir and takes its lock (one writer per directory:
  /// a second run on it is an error naming the holder); with --resume
  /// restores its newest checkpoint into `session` and `pos`. Returns the
  /// step resumed at, if any.
  absl::StatusOr<std::optional<int64_t>> open(rt::Session &session, int64_t perEpoch,
                                              Position &pos);
  /// Writes a checkpoint of `session` at `pos`, with `ranks` (the other
  /// ranks' recurrent state, "NAME@rank<r>"); returns its path ("" without
  /// --checkpoint-dir).
  absl::StatusOr<std::string> write(const rt::Session &session, const Position &pos,
                                    double trainSeconds,
                                    const std::vector<NamedTensor> &ranks = {}) const;
  /// The other ranks' recurrent state of the restored checkpoint, and the
  /// number of ranks that wrote it (1: none stored).
  const std::vector<NamedTensor> &restoredRankState() const { return rankState_; }
  int restoredWorld() const { return restoredWorld_; }

  /// --shard-optimizer-state: the checkpoint holds the shard buffers as the
  /// named "<param>.<slot>" tensors of `step`'s params (gatherShards), which
  /// a resume keeps for scatterShards.
  void setShards(const ShardSpec &shard, const EntrySpec &step) {
    shard_ = &shard;
    step_ = &step;
  }
  const std::vector<NamedTensor> &restoredShards() const { return shards_; }
  /// What a resume from a checkpoint of another artifact must agree on: the
  /// names, dtypes and shapes of its tensors and the training spec (another
  /// world size, bucket plan or sharding of the same model resumes).
  void setStateSignature(std::string signature) { signature_ = std::move(signature); }
  /// A pipeline's checkpointer (rank 0's): the buffers the other stages
  /// hold, in the checkpoint after this rank's own. write() asks `fetch`
  /// for each one's bytes in that order (received one at a time, so rank 0
  /// never holds the other stages' state); restore() checks them and leaves
  /// them in the file for readElsewhere().
  using Fetch = std::function<absl::Status(size_t index, std::vector<uint8_t> &bytes)>;
  void setElsewhere(std::vector<const BufferSpec *> specs, Fetch fetch) {
    elsewhere_ = std::move(specs);
    fetch_ = std::move(fetch);
  }
  /// The restored checkpoint's tensor `name` (a pipeline's rank 0).
  absl::Status readElsewhere(const std::string &name, std::vector<uint8_t> &bytes) const;

private:
  /// A checkpoint's vocabulary (checkpointVocabulary) against the data's.
  absl::Status checkVocabulary(const std::string &path, const std::string &vocab) const;
  absl::Status restore(const std::string &path, rt::Session &session, int64_t perEpoch,
                       Position &pos);

  const TrainOptions &o_;
  std::string hash_;
  std::vector<const BufferSpec *> saved_;
  const LoadedData &data_;
  const Schedule &s_;
  std::vector<NamedTensor> rankState_;
  const ShardSpec *shard_ = nullptr;
  const EntrySpec *step_ = nullptr;
  std::vector<NamedTensor> shards_; ///< the restored "<param>.<slot>" tensors
  std::string signature_;
  std::vector<const BufferSpec *> elsewhere_;
  Fetch fetch_;
  std::optional<SafetensorsReader> restoredFile_;
  int restoredWorld_ = 1;
  int lockFd_ = -1; ///< the directory's .lock, flock'ed while training
};

//===----------------------------------------------------------------------===//
// Running entries and evaluating (Evaluate.cpp)
//===----------------------------------------------------------------------===//

/// Writes a batch into the dataset's argument buffers, runs `entry` and
/// reads its scalar metrics.
absl::StatusOr<Values> runBatch(rt::Session &session, const data::Dataset &ds,
                                const std::vector<std::vector<uint8_t>> &buffers,
                                const EntrySpec &entry, const std::vector<std::string> &metrics);

/// Means of eval_step's metrics over every example of `ds` (plus
/// "examples"), leaving the session's buffers as they were. Collective: with
/// several ranks each evaluates its share of the batches.
absl::StatusOr<Values> evaluate(rt::Session &session, const data::Dataset &ds,
                                const StepEntry &evalStep, int64_t batch, const TrainOptions &o,
                                const Ranks &ranks);

//===----------------------------------------------------------------------===//
// Reporting (Report.cpp)
//===----------------------------------------------------------------------===//

/// The metrics JSON-lines file (nothing when the path is empty).
class MetricsLog {
public:
  MetricsLog() = default;
  MetricsLog(const MetricsLog &) = delete;
  MetricsLog &operator=(const MetricsLog &) = delete;
  ~MetricsLog();
  /// Opens `path`; resuming at step `keepUpTo`, keeps the lines up to it.
  absl::Status open(const std::string &path, std::optional<int64_t> keepUpTo);
  void write(const nlohmann::json &line);

private:
  std::FILE *file_ = nullptr;
};

/// --metrics, or CHECKPOINT_DIR/metrics.jsonl.
std::string metricsPath(const TrainOptions &o);

/// "training X on Y: N steps of batch B (...)", and the data-parallel plan.
void printHeader(const TrainOptions &o, const LoadedData &data, const Schedule &s, bool resetsState,
                 const Manifest &manifest, const std::string &communicator);

/// Running means of the step results over a window.
struct Means {
  Values sum;
  int64_t n = 0;
  void add(const Values &v);
  Values get() const;
};

/// Progress on stderr (a bar or log lines) and the train/eval metric lines.
class Reporter {
public:
  /// A `quiet` reporter (ranks other than 0) prints and logs nothing.
  Reporter(const TrainOptions &o, const Schedule &s, const StepEntry &step, MetricsLog &log,
           double priorSeconds, bool quiet);
  /// Seconds since this run started.
  double elapsed() const;
  /// After train step `pos.step` (pos already advanced) returned `v`.
  void step(const Position &pos, bool epochEnd, const Values &v, int64_t stepsThisRun);
  /// At an epoch end: ends the bar's line and returns the epoch's train means.
  Values endEpoch();
  /// Logs the evaluation and prints the epoch's summary line.
  void epochSummary(const Position &pos, const Values &train, const Values *eval,
                    const StepEntry &evalStep);
  /// Ends the bar's line when stopping mid-epoch (`midEpoch`) or interrupted.
  void finish(bool midEpoch);
  /// The means of the current, unfinished epoch.
  Values epochMeans() const { return epochMeans_.get(); }

private:
  void logLine(const Position &pos, Clock::time_point now, double eta);
  void drawBar(const Position &pos, double rate, double eta);

  const Schedule &s_;
  const StepEntry &step_;
  MetricsLog &log_;
  TrainOptions::Progress mode_;
  bool quiet_;
  int64_t logEvery_;
  double priorSeconds_;
  Means window_, epochMeans_;
  Clock::time_point start_, windowStart_, lastBar_{};
};

//===----------------------------------------------------------------------===//
// The step loop (Loop.cpp)
//===----------------------------------------------------------------------===//

/// Everything the loop works on, set up by tg::train.
struct TrainSetup {
  const TrainOptions &options;
  const Ranks &ranks;
  const DataParallelSpec &dataParallel;
  int64_t averageEvery; ///< average:K with more than one rank; else 0
  rt::Session &session;
  const StepEntry &step, &evalStep;
  const BoundData &data;
  const Schedule &schedule;
  const std::vector<const BufferSpec *> &modelState;
  /// What must be equal on every rank: the checkpointed buffers less the
  /// recurrent state.
  const std::vector<const BufferSpec *> &replicated;
  /// Recurrent state: each rank's own, all of it in rank 0's checkpoints.
  const std::vector<const BufferSpec *> &rankState;
  const Checkpointer &checkpointer;
  MetricsLog &metrics;
  /// A pipeline: collects the other stages' checkpointed buffers on rank 0
  /// (collective: every stage's rank calls it at the same step).
  std::function<absl::StatusOr<std::vector<NamedTensor>>()> gatherStages = {};
  /// A pipeline: every rank (all stages) agrees on stopping at each step.
  dist::Communicator *stopComm = nullptr;
  /// This rank does not report (a pipeline's stages but the last).
  bool quiet = false;
};

/// Trains from `start` to the schedule's last step; SIGINT/SIGTERM (while an
/// InterruptGuard lives) stop it after the current step with a checkpoint
/// (CANCELLED). With several ranks, all stop at the same step.
absl::StatusOr<TrainResult> runLoop(const TrainSetup &setup, Position start);

/// Catches SIGINT and SIGTERM while it lives (one per run, not per rank).
class InterruptGuard {
public:
  InterruptGuard();
  ~InterruptGuard();
  InterruptGuard(const InterruptGuard &) = delete;
  InterruptGuard &operator=(const InterruptGuard &) = delete;

private:
  void (*oldInt_)(int);
  void (*oldTerm_)(int);
};

} // namespace trainer
} // namespace tg

#endif // TG_TRAIN_INTERNAL_H
