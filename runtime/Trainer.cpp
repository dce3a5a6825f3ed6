//===- Trainer.cpp - the training loop behind `tgc train` -----------------===//
//
// tg::train sets a run up in the order that reports every mistake before any
// state is touched: options, artifact, data (TrainData.cpp), session
// (TrainSession.cpp), checkpoint directory and resume (TrainCheckpoint.cpp),
// metrics file; then hands over to the step loop (TrainLoop.cpp).
//
//===----------------------------------------------------------------------===//
#include "runtime/Trainer.h"

#include "runtime/TrainInternal.h"
#include "support/Trailer.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

#include <cstring>
#include <fstream>

namespace tg {

using namespace trainer;

absl::StatusOr<std::string> artifactHash(const std::string &path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in || in.tellg() < std::streamoff(kTrailerSize))
    return absl::NotFoundError(absl::StrCat("cannot read artifact '", path, "'"));
  in.seekg(-std::streamoff(kTrailerSize), std::ios::end);
  char t[kTrailerSize];
  in.read(t, kTrailerSize);
  if (std::memcmp(t, kTrailerMagic, 8) != 0)
    return absl::InvalidArgumentError(absl::StrCat("'", path, "' has no .tgx trailer"));
  uint64_t h;
  std::memcpy(&h, t + 16, 8);
  return absl::StrFormat("%016x", h);
}

absl::StatusOr<TrainResult> train(const TrainOptions &o) {
  if (o.epochs && o.steps)
    return absl::InvalidArgumentError("give --epochs or --steps, not both");
  if (o.data.empty())
    return absl::InvalidArgumentError("no training data (--data)");
  auto artifact = rt::Artifact::open(o.artifact);
  if (!artifact.ok())
    return artifact.status();
  auto hash = artifactHash(o.artifact);
  if (!hash.ok())
    return hash.status();
  auto manifest = parseManifest(artifact->manifest(), o.artifact);
  if (!manifest.ok())
    return manifest.status();
  StepEntry step = stepEntry(*manifest, "train_step");
  if (!step)
    return absl::FailedPreconditionError(
        absl::StrCat("'", o.artifact,
                     "' has no train_step: compile a model that has a training spec "
                     "(Graph::minimize, or a tg.train module attribute)"));
  StepEntry evalStep = stepEntry(*manifest, "eval_step");

  // Data, checked against the artifact before anything runs.
  auto bound = bindData(o, step, evalStep);
  if (!bound.ok())
    return bound.status();
  const data::Dataset &ds = *bound->train.dataset;
  auto schedule = scheduleOf(o, ds);
  if (!schedule.ok())
    return schedule.status();

  auto session = createSession(*artifact, o, *step.spec);
  if (!session.ok())
    return session.status();
  std::vector<const BufferSpec *> modelState = modelStateArgs(*manifest, o, ds);
  Checkpointer checkpointer(o, *hash, checkpointedArgs(*step.spec), bound->train);
  Position start;
  auto resumedAt = checkpointer.open(*session, schedule->perEpoch, start);
  if (!resumedAt.ok())
    return resumedAt.status();
  MetricsLog metrics;
  if (absl::Status s = metrics.open(metricsPath(o), *resumedAt); !s.ok())
    return s;

  printHeader(o, bound->train, *schedule, !modelState.empty());
  TrainSetup setup{o,         *session,   step,         evalStep, *bound,
                   *schedule, modelState, checkpointer, metrics};
  return runLoop(setup, start);
}

} // namespace tg
