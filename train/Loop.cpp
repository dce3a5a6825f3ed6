//===- Loop.cpp - the step loop of tg::train ------------------------------===//
//
// Runs train_step batch by batch from a (possibly resumed) position. The data
// order of an epoch is a function of (seed, epoch) and a batcher can start
// mid-epoch, so a resumed run feeds the same batches an unbroken one would.
// SIGINT/SIGTERM only set a flag: the current step finishes and a checkpoint
// is written before the loop returns CANCELLED.
//
//===----------------------------------------------------------------------===//
#include "train/Internal.h"

#include "absl/strings/str_cat.h"

#include <cmath>
#include <csignal>

namespace tg {
namespace trainer {

namespace {
volatile std::sig_atomic_t gInterrupted = 0;
extern "C" void onInterrupt(int) { gInterrupted = 1; }
} // namespace

InterruptGuard::InterruptGuard() {
  gInterrupted = 0;
  oldInt_ = std::signal(SIGINT, onInterrupt);
  oldTerm_ = std::signal(SIGTERM, onInterrupt);
}

InterruptGuard::~InterruptGuard() {
  std::signal(SIGINT, oldInt_);
  std::signal(SIGTERM, oldTerm_);
}

namespace {

class Loop {
public:
  Loop(const TrainSetup &setup, Position start)
      : t_(setup), o_(setup.options), s_(setup.schedule), pos_(start),
        report_(setup.options, setup.schedule, setup.step, setup.metrics, start.priorSeconds,
                /*quiet=*/!setup.ranks.root() || setup.quiet) {}

  absl::StatusOr<TrainResult> run();

private:
  absl::Status runEpoch();
  absl::Status afterStep(const data::Batch &batch, Values &v);
  absl::Status endEpoch();
  absl::Status checkpoint();
  absl::Status interrupted();
  absl::Status averageParams();

  const TrainSetup &t_;
  const TrainOptions &o_;
  const Schedule &s_;
  Position pos_;
  Reporter report_;
  TrainResult result_;
  int64_t stepsThisRun_ = 0;
};

absl::StatusOr<TrainResult> Loop::run() {
  while (pos_.step < s_.totalSteps)
    if (absl::Status s = runEpoch(); !s.ok())
      return s;
  report_.finish(/*midEpoch=*/pos_.batch != 0);
  if (result_.lastTrain.empty())
    result_.lastTrain = report_.epochMeans();
  result_.steps = pos_.step;
  result_.epochs = pos_.epoch;
  result_.stepsPerEpoch = s_.perEpoch;
  result_.rank = t_.ranks.rank;
  result_.world = t_.ranks.world;
  result_.seconds = report_.elapsed();
  return result_;
}

/// The rest of the current epoch, or up to the last step.
absl::Status Loop::runEpoch() {
  const data::Dataset &ds = *t_.data.train.dataset;
  if (pos_.batch == 0)
    if (absl::Status s = zeroBuffers(t_.session, t_.modelState); !s.ok())
      return s;
  std::vector<int64_t> order;
  std::vector<data::SpillPoint> spills;
  bool pad = o_.pad;
  if (ds.shards()) { // this rank's range of the epoch's shards
    order = ds.rankOrder(o_.seed, pos_.epoch, s_.shuffle, t_.ranks.rank, s_.world, s_.batch,
                         s_.perEpoch, o_.shuffleBuffer, &spills);
    pad = false;
  } else {
    order = ds.order(o_.seed, pos_.epoch, s_.shuffle);
    if (s_.world > 1) { // this rank's slice of every global batch, padded already
      order = shardOrder(order, s_, t_.ranks.rank, o_.pad);
      pad = false;
    }
  }
  data::Batcher batcher(ds, s_.batch, std::move(order), pos_.batch, pad, o_.prefetch,
                        o_.dataThreads, std::move(spills));
  while (pos_.step < s_.totalSteps) {
    auto b = batcher.next();
    if (!b)
      break;
    if (!b->status.ok())
      return absl::Status(b->status.code(),
                          absl::StrCat("step ", pos_.step + 1, " (epoch ", pos_.epoch + 1,
                                       "): reading its batch: ", b->status.message()));
    if (s_.world > 1) // named by the collective watchdog
      t_.ranks.comm.setContext(
          absl::StrCat("step ", pos_.step + 1, " (epoch ", pos_.epoch + 1, ")"));
    auto v = runBatch(t_.session, ds, b->buffers, *t_.step.spec, t_.step.metrics);
    if (!v.ok())
      return absl::Status(v.status().code(),
                          absl::StrCat("step ", pos_.step + 1, " (epoch ", pos_.epoch + 1,
                                       "): ", v.status().message()));
    if (absl::Status s = afterStep(*b, *v); !s.ok())
      return s;
    batcher.recycle(std::move(b));
  }
  return absl::OkStatus();
}

/// Reports a step, ends the epoch, checkpoints when due, stops when interrupted.
absl::Status Loop::afterStep(const data::Batch &batch, Values &v) {
  double loss = v["loss"]; // a step without a loss result reports loss 0
  bool stop = gInterrupted, diverged = !std::isfinite(loss);
  dist::Communicator *agree = t_.stopComm ? t_.stopComm
                              : s_.world > 1   ? &t_.ranks.comm
                                               : nullptr;
  if (agree) { // every rank stops at the same step, or a collective would hang
    float flags[2] = {float(stop), float(diverged)};
    if (absl::Status s = agree->allreduce(
            flags, 2, dist::ReduceOp::Sum, absl::StrCat("the stop flags of step ", pos_.step + 1));
        !s.ok())
      return s;
    stop = flags[0] > 0;
    diverged = flags[1] > 0;
  }
  if (diverged)
    return absl::FailedPreconditionError(absl::StrCat(
        "the loss became ",
        std::isfinite(loss) ? std::string("non-finite on another rank") : absl::StrCat(loss),
        " at step ", pos_.step + 1, " (epoch ", pos_.epoch + 1, ", batch ", batch.index + 1,
        "); try a smaller --lr"));
  ++pos_.step;
  ++stepsThisRun_;
  pos_.batch = batch.index + 1;
  bool epochEnd = pos_.batch == s_.perEpoch;
  bool due = o_.checkpointEvery > 0 ? pos_.step % o_.checkpointEvery == 0 : epochEnd;
  bool last = pos_.step == s_.totalSteps;
  // average:K: a round every K steps, and before anything that reads the
  // params (evaluation, a checkpoint, the end).
  if (t_.averageEvery > 0 && (pos_.step % t_.averageEvery == 0 || epochEnd || due || last || stop))
    if (absl::Status s = averageParams(); !s.ok())
      return s;
  report_.step(pos_, epochEnd, v, stepsThisRun_);
  if (epochEnd)
    if (absl::Status s = endEpoch(); !s.ok())
      return s;
  if (due || last || stop)
    if (absl::Status s = checkpoint(); !s.ok())
      return s;
  return stop ? interrupted() : absl::OkStatus();
}

absl::Status Loop::averageParams() {
  if (absl::Status s = t_.session.run("average_params"); !s.ok())
    return absl::Status(
        s.code(), absl::StrCat("averaging the params after step ", pos_.step, ": ", s.message()));
  return absl::OkStatus();
}

/// The epoch's train means, the evaluation, the summary line.
absl::Status Loop::endEpoch() {
  result_.lastTrain = report_.endEpoch();
  const Values *eval = nullptr;
  if (t_.data.eval) { // every rank evaluates its share
    auto em = evaluate(t_.session, *t_.data.eval->dataset, t_.evalStep, s_.batch, o_, t_.ranks);
    if (!em.ok())
      return em.status();
    result_.lastEval = std::move(*em);
    eval = &result_.lastEval;
  }
  report_.epochSummary(pos_, result_.lastTrain, eval, t_.evalStep);
  ++pos_.epoch;
  pos_.batch = 0;
  return absl::OkStatus();
}

absl::Status Loop::checkpoint() {
  if (absl::Status s =
          checkReplicas(t_.ranks, t_.session, t_.replicated, absl::StrCat("step ", pos_.step));
      !s.ok())
    return s;
  auto others = gatherRankState(t_.ranks, t_.session, t_.rankState);
  if (!others.ok())
    return others.status();
  // (Every rank has the run's --checkpoint-dir; only rank 0 writes to it.)
  const std::optional<ShardSpec> &shard = t_.dataParallel.shard;
  if (shard && !t_.options.checkpointDir.empty()) {
    auto slots = gatherShards(t_.ranks, t_.session, *shard, *t_.step.spec);
    if (!slots.ok())
      return slots.status();
    others->insert(others->end(), slots->begin(), slots->end());
  }
  if (t_.gatherStages) {
    auto stages = t_.gatherStages();
    if (!stages.ok())
      return stages.status();
    others->insert(others->end(), stages->begin(), stages->end());
  }
  if (!t_.ranks.root())
    return absl::OkStatus();
  auto path =
      t_.checkpointer.write(t_.session, pos_, pos_.priorSeconds + report_.elapsed(), *others);
  if (!path.ok())
    return path.status();
  if (path->empty())
    return absl::OkStatus();
  result_.lastCheckpoint = *path;
  t_.metrics.write({{"event", "checkpoint"}, {"step", pos_.step}, {"path", *path}});
  return absl::OkStatus();
}

absl::Status Loop::interrupted() {
  report_.finish(/*midEpoch=*/true);
  return absl::CancelledError(absl::StrCat(
      "interrupted at step ", pos_.step,
      o_.checkpointDir.empty()
          ? std::string(" (no --checkpoint-dir: progress is lost)")
          : result_.lastCheckpoint.empty() // a rank other than 0: rank 0 saves
                ? absl::StrCat("; rank 0 saved a checkpoint in ", o_.checkpointDir,
                               ", continue with --resume")
                : absl::StrCat("; saved ", result_.lastCheckpoint, ", continue with --resume")));
}

} // namespace

absl::StatusOr<TrainResult> runLoop(const TrainSetup &setup, Position start) {
  return Loop(setup, start).run();
}

} // namespace trainer
} // namespace tg
