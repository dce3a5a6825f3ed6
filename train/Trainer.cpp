//===- Trainer.cpp - the training loop behind `tgc train` -----------------===//
//
// tg::train sets a run up in the order that reports every mistake before any
// state is touched: options, artifact, data (DataBinding.cpp), session
// (Session.cpp), checkpoint directory and resume (Checkpointing.cpp),
// metrics file; then hands over to the step loop (Loop.cpp).
//
//===----------------------------------------------------------------------===//
#include "tg/Train.h"
#include "tg/tg_runtime.h"
#include "train/ParamFiles.h"

#include "train/Internal.h"
#include "support/Trailer.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <thread>

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

namespace {

/// The model before distribution (tg-distribute's model_hash) and the
/// tensors a checkpoint holds (names, dtypes, shapes; the shard buffers as
/// their named slots), hashed: equal for the same model compiled with
/// another data-parallel plan. Empty without a plan.
std::string stateSignature(const Manifest &manifest, const std::vector<const BufferSpec *> &saved,
                           const ShardSpec *shard) {
  // The model before distribution, or before micro-batching and pipeline
  // stages (so that --microbatches and --pipeline-stages artifacts of one
  // model resume each other's checkpoints).
  const std::string &model = !manifest.modelHash.empty() ? manifest.modelHash
                                                         : manifest.dataParallel.modelHash;
  if (model.empty())
    return "";
  std::vector<std::string> lines;
  for (const BufferSpec *a : saved)
    lines.push_back(absl::StrCat(a->name, " ", a->typeString()));
  if (shard) {
    const EntrySpec *step = manifest.findEntry("train_step");
    for (const auto &[param, elements] : shard->params)
      for (const std::string &slot : shard->slots) {
        const BufferSpec *p = step ? step->findArg(param) : nullptr;
        lines.push_back(absl::StrCat(param, ".", slot, " ", p ? p->typeString() : ""));
      }
  }
  std::sort(lines.begin(), lines.end());
  std::string text = model;
  for (const std::string &l : lines)
    absl::StrAppend(&text, "\n", l);
  return absl::StrFormat("%016x", fnv1a64(text.data(), text.size()));
}

/// One rank of a pipeline artifact (tgc compile --pipeline-stages): rank k
/// runs stage k's train_step.stageK on every batch (each rank reads the
/// whole batch; the first stage uses the data, the last the labels), and
/// the last stage, which computes the loss and the metrics, reports. The
/// others run the same loop silently. The transfers between stages are the
/// compiled step's own.
absl::StatusOr<TrainResult> trainPipelineRank(const TrainOptions &o, dist::Communicator &comm,
                                              const rt::Artifact &artifact,
                                              const Manifest &manifest, const std::string &hash) {
  const PipelineSpec &p = *manifest.pipeline;
  bool replicated = manifest.dataParallel.mode == "allreduce";
  if (comm.size() % p.stages != 0 || (!replicated && comm.size() != p.stages) ||
      comm.size() < p.stages)
    return absl::FailedPreconditionError(absl::StrCat(
        "'", o.artifact, "' is a pipeline of ", p.stages, " stages and runs with ",
        replicated ? absl::StrCat("a multiple of ", p.stages,
                                  " ranks (stages x data-parallel replicas)")
                   : absl::StrCat("a rank per stage (mpirun -np ", p.stages,
                                  " tgc train ..., or --emulate-world-size=", p.stages, ")"),
        ", not ", comm.size(), comm.size() == 1 ? " rank" : " ranks",
        !replicated && comm.size() > p.stages
            ? " (replicas of the pipeline need tgc compile --data-parallel=allreduce)"
            : ""));
  // Rank r runs stage r / D as replica r % D: a stage's replicas are
  // neighbours (their allreduce stays on a node), a replica's stages D apart.
  const int replicas = comm.size() / int(p.stages);
  if (!o.initFrom.empty())
    return absl::UnimplementedError(absl::StrCat(
        "'", o.artifact, "' is a pipeline artifact: --init is not supported for pipelines yet "
                         "(train one step on one process with the --microbatches artifact, then "
                         "--resume the pipeline from its checkpoint)"));
  if (o.averageEvery || o.globalBatch)
    return absl::InvalidArgumentError(
        "--average-every and --global-batch are data-parallel options; a pipeline artifact "
        "runs one replica");
  int stage = comm.rank() / replicas, replica = comm.rank() % replicas;
  bool last = stage + 1 == p.stages;
  // The replicas of this stage: the compiled allreduces and the loop's
  // collectives (stop flags, evaluation) run among them.
  auto group = comm.split(stage, replica);
  if (!group.ok())
    return group.status();
  // Every rank checks that all loaded the same artifact (its stage plan is
  // in the hash) before the first transfer.
  uint64_t h = std::strtoull(hash.c_str(), nullptr, 16);
  if (absl::Status s = comm.checkSame(absl::StrCat("the artifact '", o.artifact, "' (its hash)"),
                                      h, /*hex=*/true);
      !s.ok())
    return s;
  StepEntry step = stepEntry(manifest, absl::StrCat("train_step.stage", stage));
  StepEntry evalStep = stepEntry(manifest, absl::StrCat("eval_step.stage", stage));
  if (!step)
    return absl::InvalidArgumentError(
        absl::StrCat("'", o.artifact, "' has no train_step.stage", stage));
  // The data the whole pipeline reads: every stage's data and labels.
  auto withAllData = [&](const StepEntry &e, const char *kind) {
    EntrySpec all = *e.spec;
    for (const EntrySpec &other : manifest.entries)
      if (other.kind == kind && other.stage >= 0)
        for (const BufferSpec &a : other.args)
          if ((a.role == Role::Data || a.role == Role::Label) && !all.findArg(a.name))
            all.args.push_back(a);
    return all;
  };
  EntrySpec trainData = withAllData(step, "train_step");
  std::optional<EntrySpec> evalData;
  if (evalStep)
    evalData = withAllData(evalStep, "eval_step");
  StepEntry trainBinding = step, evalBinding = evalStep;
  trainBinding.spec = &trainData;
  if (evalData)
    evalBinding.spec = &*evalData;
  auto bound = bindData(o, trainBinding, evalBinding, replicas, false);
  if (!bound.ok())
    return bound.status();
  const data::Dataset &ds = *bound->train.dataset;
  auto schedule = scheduleOf(o, ds, trainBinding, replicas);
  if (!schedule.ok())
    return schedule.status();
  uint64_t steps = uint64_t(schedule->totalSteps);
  if (absl::Status s = comm.checkSame("the number of steps", steps); !s.ok())
    return s;
  auto session = createSession(artifact, o, *step.spec, stage);
  if (!session.ok())
    return session.status();
  if (absl::Status s = session->setCommunicator(&comm); !s.ok())
    return s;
  // The stage's replicas reduce among themselves (a group of one: the
  // identity); never across stages.
  if (absl::Status s = session->setDataCommunicator(group->get()); !s.ok())
    return s;
  // The loop's own collectives (stop flags, evaluation) run among the
  // stage's replicas; the stages stay in step through their transfers.
  Ranks one{**group, replica, replicas};
  TrainOptions quiet = o;
  if (!last) {
    quiet.progress = TrainOptions::Progress::None;
    quiet.metricsPath.clear();
  }
  if (comm.rank() != 0) // rank 0 reads and writes the checkpoints
    quiet.checkpointDir.clear();
  if (replica != 0) { // replica 0 of the last stage reports
    quiet.progress = TrainOptions::Progress::None;
    quiet.metricsPath.clear();
    last = false;
  }
  // Every stage's checkpointed buffers: one checkpoint holds them all, as a
  // one-process run of the model would (its step counter once).
  std::vector<std::vector<const BufferSpec *>> stageSaved(size_t(p.stages));
  for (const EntrySpec &e : manifest.entries)
    if (e.kind == "train_step" && e.stage >= 0)
      stageSaved[size_t(e.stage)] = checkpointedArgs(e);
  std::vector<const BufferSpec *> saved = stageSaved[size_t(stage)];
  // What rank 0 does not hold: the other stages' buffers (all but the step).
  std::vector<const BufferSpec *> all = stageSaved[0], elsewhere;
  auto held = [](const std::vector<const BufferSpec *> &list, const std::string &name) {
    return std::any_of(list.begin(), list.end(),
                       [&](const BufferSpec *b) { return b->name == name; });
  };
  for (int k = 1; k < p.stages; ++k)
    for (const BufferSpec *a : stageSaved[size_t(k)])
      if (!held(all, a->name)) {
        all.push_back(a);
        elsewhere.push_back(a);
      }
  constexpr int kTagBase = 20000; // above any compiled step's transfer tags
  auto tagOf = [&](size_t i) { return int64_t(kTagBase + i); };
  // Who holds each of them: replica 0 of its stage, under the tag of its
  // place in that stage's list.
  std::vector<std::pair<int, size_t>> source;
  for (const BufferSpec *a : elsewhere)
    for (int k = 1; k < p.stages; ++k)
      for (size_t i = 0; i < stageSaved[size_t(k)].size(); ++i)
        if (stageSaved[size_t(k)][i] == a)
          source.push_back({k * replicas, i});
  Checkpointer checkpointer(quiet, hash, saved, bound->train, *schedule);
  checkpointer.setStateSignature(stateSignature(manifest, all, nullptr));
  // A checkpoint on rank 0 receives the other stages' tensors one at a time,
  // as it writes them (gatherStages sends them).
  if (comm.rank() == 0)
    checkpointer.setElsewhere(elsewhere, [&](size_t j, std::vector<uint8_t> &bytes) -> absl::Status {
      const BufferSpec *a = elsewhere[j];
      bytes.resize(a->byteSize());
      auto r = comm.recvStart(bytes.data(), bytes.size(), source[j].first, tagOf(source[j].second),
                              absl::StrCat("checkpoint tensor '", a->name, "'"));
      if (!r.ok())
        return r.status();
      return comm.recvWait(*r);
    });
  Position start;
  auto resumedAt = checkpointer.open(*session, schedule->perEpoch, start);
  if (!resumedAt.ok())
    return resumedAt.status();
  // Rank 0's position, and each stage's buffers from its checkpoint.
  int64_t resumed[6] = {resumedAt->has_value(), resumedAt->value_or(0), start.step, start.epoch,
                        start.batch, start.globalBatch};
  double prior = start.priorSeconds;
  if (absl::Status s = comm.broadcast(resumed, sizeof resumed, 0); !s.ok())
    return s;
  if (absl::Status s = comm.broadcast(&prior, sizeof prior, 0); !s.ok())
    return s;
  if (resumed[0]) {
    *resumedAt = resumed[1];
    start = Position{resumed[2], resumed[3], resumed[4], prior, resumed[5]};
    if (comm.rank() == 0) {
      for (int r = 1; r < comm.size(); ++r)
        for (size_t i = 0; i < stageSaved[size_t(r / replicas)].size(); ++i) {
          int k = r;
          const BufferSpec *a = stageSaved[size_t(r / replicas)][i];
          // Read from the file (another stage's) or this session (the step
          // counter, stage 0's own), sent and delivered one at a time.
          std::vector<uint8_t> bytes(a->byteSize());
          if (held(elsewhere, a->name)) {
            if (absl::Status s = checkpointer.readElsewhere(a->name, bytes); !s.ok())
              return s;
          } else if (absl::Status s = session->read(a->name, bytes.data(), bytes.size());
                     !s.ok()) {
            return s;
          }
          if (absl::Status s = comm.send(bytes.data(), bytes.size(), k, tagOf(i),
                                         absl::StrCat("checkpoint tensor '", a->name, "'"));
              !s.ok())
            return s;
          if (absl::Status s = comm.flushSends(); !s.ok())
            return s;
        }
    } else {
      for (size_t i = 0; i < saved.size(); ++i) {
        const BufferSpec *a = saved[i];
        std::vector<uint8_t> bytes(a->byteSize());
        auto r = comm.recvStart(bytes.data(), bytes.size(), 0, tagOf(i),
                                absl::StrCat("checkpoint tensor '", a->name, "'"));
        if (!r.ok())
          return r.status();
        if (absl::Status s = comm.recvWait(*r); !s.ok())
          return s;
        if (absl::Status s = session->write(a->name, bytes.data(), bytes.size()); !s.ok())
          return s;
      }
    }
  }
  std::string note = resplit(start, *schedule, o);
  MetricsLog metrics;
  if (last) {
    if (absl::Status s = metrics.open(metricsPath(o), *resumedAt); !s.ok())
      return s;
    printHeader(o, bound->train, *schedule, false, manifest,
                absl::StrCat(comm.kind(), ", ", p.stages, " pipeline stages (", p.microbatches,
                             " micro-batches a step, ", p.schedule, ")"));
    if (!note.empty())
      std::fprintf(stderr, "resuming: %s\n", note.c_str());
  }
  std::vector<const BufferSpec *> none;
  TrainSetup setup{quiet,     one,  manifest.dataParallel, 0,    *session,     step, evalStep,
                   *bound,    *schedule, none,             none, none,         checkpointer,
                   metrics};
  setup.stopComm = &comm; // a stage stopping alone would leave the others waiting
  setup.quiet = !last;
  // A checkpoint: replica 0 of every other stage sends its buffers (not
  // the step counter, which rank 0 has too), one at a time, as rank 0's
  // checkpointer writes them.
  setup.gatherStages = [&]() -> absl::StatusOr<std::vector<NamedTensor>> {
    if (o.checkpointDir.empty() || comm.rank() == 0 || replica != 0)
      return std::vector<NamedTensor>();
    for (size_t i = 0; i < saved.size(); ++i) {
      const BufferSpec *a = saved[i];
      if (!held(elsewhere, a->name))
        continue;
      std::vector<uint8_t> bytes(a->byteSize());
      if (absl::Status s = session->read(a->name, bytes.data(), bytes.size()); !s.ok())
        return s;
      if (absl::Status s = comm.send(bytes.data(), bytes.size(), 0, tagOf(i),
                                     absl::StrCat("checkpoint tensor '", a->name, "'"));
          !s.ok())
        return s;
      if (absl::Status s = comm.flushSends(); !s.ok())
        return s;
    }
    return std::vector<NamedTensor>();
  };
  double waitedBefore = tg_pipeline_wait_seconds();
  absl::StatusOr<TrainResult> result = runLoop(setup, start);
  if (result.ok()) {
    // Each rank's idle share, for the report.
    double share = result->seconds > 0
                       ? (tg_pipeline_wait_seconds() - waitedBefore) / result->seconds
                       : 0.0;
    std::vector<double> shares(size_t(comm.size()));
    if (absl::Status s = comm.allgather(&share, sizeof share, shares.data()); !s.ok())
      return s;
    for (int k = 0; k < p.stages; ++k)
      result->stageWait.push_back(shares[size_t(k * replicas)]);
    result->idealBubble =
        double(p.stages - 1) / double(p.microbatches + p.stages - 1);
    result->rank = comm.rank();
    result->world = comm.size();
    result->reports = last;
    // Rank 0 wrote it; the last stage reports the run.
    if (!o.checkpointDir.empty() && result->steps > 0)
      result->lastCheckpoint = checkpointPath(o.checkpointDir, result->steps);
  }
  return result;
}

/// One rank's run: the whole of tg::train for a single process.
absl::StatusOr<TrainResult> trainRank(const TrainOptions &o, dist::Communicator &comm) {
  Ranks ranks{comm, comm.rank(), comm.size()};
  auto artifact = rt::Artifact::open(o.artifact);
  if (!artifact.ok())
    return artifact.status();
  auto hash = artifactHash(o.artifact);
  if (!hash.ok())
    return hash.status();
  auto manifest = parseManifest(artifact->manifest(), o.artifact);
  if (!manifest.ok())
    return manifest.status();
  if (manifest->pipeline)
    return trainPipelineRank(o, comm, *artifact, *manifest, *hash);
  StepEntry step = stepEntry(*manifest, "train_step");
  if (!step)
    return absl::FailedPreconditionError(
        absl::StrCat("'", o.artifact,
                     "' has no train_step: compile a model that has a training spec "
                     "(Graph::minimize, or a tg.train module attribute)"));
  StepEntry evalStep = stepEntry(*manifest, "eval_step");
  const DataParallelSpec &dp = manifest->dataParallel;
  if (ranks.world > 1 && dp.mode == "none")
    return absl::FailedPreconditionError(absl::StrCat(
        "'", o.artifact, "' was compiled without data parallelism, so ", ranks.world,
        " ranks would train ", ranks.world,
        " separate models; recompile it with tgc compile --data-parallel=allreduce (or "
        "average:K)"));
  if (o.averageEvery && dp.mode != "average")
    return absl::InvalidArgumentError(absl::StrCat("--average-every: '", o.artifact,
                                                   "' was compiled with --data-parallel=", dp.mode,
                                                   ", not average:K"));
  if (dp.mode == "average" && !manifest->findEntry("average_params"))
    return absl::InvalidArgumentError(
        absl::StrCat("'", o.artifact, "': data_parallel mode average without average_params"));
  std::optional<Compress> compress = parseCompress(dp.compress); // the manifest checked it
  // Before model_hash, gradient buckets reduced as "mean", which compression
  // now leaves alone: such an artifact would silently train uncompressed.
  if (compress && compress->kind != Compress::None && dp.modelHash.empty())
    return absl::FailedPreconditionError(absl::StrCat(
        "'", o.artifact, "' was compiled with --compress=", dp.compress,
        " by an older tgc whose gradient buckets this runtime does not compress; recompile it"));
  if (compress && compress->kind != Compress::None && o.mpiReduction)
    return absl::InvalidArgumentError(absl::StrCat(
        "--reduction=mpi: '", o.artifact, "' was compiled with --compress=", dp.compress,
        ", which the rank-ordered reduction carries out"));
  if (compress)
    comm.setCompression(compress->kind == Compress::Bf16        ? dist::Compression::Bf16
                        : compress->kind == Compress::Threshold ? dist::Compression::Threshold
                                                                : dist::Compression::None,
                        compress->threshold);

  // Data, checked against the artifact before anything runs.
  auto bound = bindData(o, step, evalStep, ranks.world, hasRecurrentState(*manifest));
  if (!bound.ok())
    return bound.status();
  const data::Dataset &ds = *bound->train.dataset;
  auto schedule = scheduleOf(o, ds, step, ranks.world);
  if (!schedule.ok())
    return schedule.status();
  if (o.globalBatch && o.globalBatch != schedule->globalBatch())
    return absl::InvalidArgumentError(
        o.globalBatch % ranks.world != 0
            ? absl::StrCat("--global-batch ", o.globalBatch, " is not divisible by the ",
                           ranks.world, " ranks")
            : absl::StrCat("--global-batch ", o.globalBatch, ": '", o.artifact, "' has a batch of ",
                           schedule->batch, " per rank, so ", ranks.world, " ranks make ",
                           schedule->globalBatch(), "; compile it with a batch of ",
                           o.globalBatch / ranks.world, " (tg-example --batch, or the model's)"));
  if (absl::Status s = checkRanksAgree(ranks, o, *hash, *manifest, *bound, *schedule); !s.ok())
    return s;

  auto session = createSession(*artifact, o, *step.spec);
  if (!session.ok())
    return session.status();
  if (ranks.world > 1)
    if (absl::Status s = session->setCommunicator(&comm); !s.ok())
      return s;
  std::vector<const BufferSpec *> modelState = modelStateArgs(*manifest, o, ds);
  std::vector<const BufferSpec *> saved = checkpointedArgs(*step.spec);
  // --shard-optimizer-state: each rank's shard buffers are its own; a
  // checkpoint holds them gathered, as the named slots of an unsharded run.
  const std::optional<ShardSpec> &shard = dp.shard;
  if (shard) {
    if (shard->world != ranks.world)
      return absl::FailedPreconditionError(absl::StrCat(
          "'", o.artifact, "' was compiled with --shard-optimizer-state=", shard->world,
          " and runs at exactly ", shard->world, " ranks, not ", ranks.world,
          "; recompile it for this world size (its checkpoints resume at any)"));
    // The plan against train_step: params of those sizes, shard buffers of
    // S floats, and shards MPI's byte-counted allgather carries.
    int64_t total = 0;
    for (const auto &[param, elements] : shard->params) {
      const BufferSpec *p = step.spec->findArg(param);
      if (!p || p->role != Role::Param || p->dtype != DType::f32 || p->numElements() != elements)
        return absl::InvalidArgumentError(absl::StrCat(
            "'", o.artifact, "': the shard plan's param '", param, "' (", elements,
            " elements) is not an f32 param of train_step of that size"));
      total += elements;
    }
    for (const std::string &b : shard->buffers) {
      const BufferSpec *a = step.spec->findArg(b);
      if (!a || a->role != Role::State || a->dtype != DType::f32 || a->numElements() != shard->size)
        return absl::InvalidArgumentError(
            absl::StrCat("'", o.artifact, "': the shard buffer '", b,
                         "' is not an f32 state argument of train_step of ", shard->size,
                         " elements"));
    }
    if (uint64_t(shard->size) * sizeof(float) * uint64_t(ranks.world) > uint64_t(INT_MAX))
      return absl::InvalidArgumentError(absl::StrCat(
          "'", o.artifact, "': shards of ", shard->size, " floats on ", ranks.world,
          " ranks are more than one MPI allgather carries (2 GiB in all)"));
    saved.erase(std::remove_if(saved.begin(), saved.end(),
                               [&](const BufferSpec *a) {
                                 return std::count(shard->buffers.begin(), shard->buffers.end(),
                                                   a->name) > 0;
                               }),
                saved.end());
  }
  // What every rank holds the same: not recurrent state (predict's state
  // arguments, each rank's own), and with average:K only what
  // average_params averages (without --average-state each rank keeps its
  // own optimizer state, as DL4J's workers do without saveUpdater).
  std::vector<const BufferSpec *> replicated;
  const EntrySpec *predict = manifest->findEntry("predict");
  const EntrySpec *average = manifest->findEntry("average_params");
  for (const BufferSpec *a : saved) {
    const BufferSpec *p = predict ? predict->findArg(a->name) : nullptr;
    bool averaged = !average || average->findArg(a->name) || a->name == "step";
    if ((!p || p->role != Role::State) && averaged)
      replicated.push_back(a);
  }
  // Only rank 0 reads and writes checkpoints and metrics; the others get its
  // state below (nodes need not share a file system).
  TrainOptions rankOptions = o;
  if (!ranks.root()) {
    rankOptions.checkpointDir.clear();
    rankOptions.metricsPath.clear();
  }
  Checkpointer checkpointer(rankOptions, *hash, saved, bound->train, *schedule);
  if (shard)
    checkpointer.setShards(*shard, *step.spec);
  checkpointer.setStateSignature(stateSignature(*manifest, saved, shard ? &*shard : nullptr));
  Position start;
  auto resumedAt = checkpointer.open(*session, schedule->perEpoch, start);
  if (!resumedAt.ok())
    return resumedAt.status();
  int initialized = 0;
  if (!o.initFrom.empty() && ranks.root()) { // the others get rank 0's below
    auto loaded = loadParams(o.initFrom, *step.spec, *session, ParamLoad::ParamsExactly);
    if (!loaded.ok())
      return absl::Status(loaded.status().code(),
                          absl::StrCat("--init: ", loaded.status().message()));
    initialized = *loaded;
  }
  if (absl::Status s = broadcastState(ranks, *session, saved, start); !s.ok())
    return s;
  if (shard)
    if (absl::Status s =
            scatterShards(ranks, *session, *shard, checkpointer, resumedAt->has_value());
        !s.ok())
      return s;
  std::vector<const BufferSpec *> rankState = perRankState(*manifest, saved);
  auto stateNote =
      scatterRankState(ranks, *session, rankState, checkpointer, resumedAt->has_value());
  if (!stateNote.ok())
    return stateNote.status();
  std::string note = resplit(start, *schedule, o);
  MetricsLog metrics;
  if (ranks.root())
    if (absl::Status s = metrics.open(metricsPath(o), *resumedAt); !s.ok())
      return s;

  if (ranks.root()) {
    printHeader(o, bound->train, *schedule, !modelState.empty(), *manifest,
                ranks.world == 1 ? std::string("one process") : comm.kind());
    for (const std::string &n : {note, *stateNote})
      if (!n.empty())
        std::fprintf(stderr, "resuming: %s\n", n.c_str());
    if (initialized)
      std::fprintf(stderr, "initialized %d params from %s\n", initialized, o.initFrom.c_str());
  }
  int64_t averageEvery = 0;
  if (dp.mode == "average" && ranks.world > 1)
    averageEvery = o.averageEvery ? o.averageEvery : dp.averageEvery;
  TrainSetup setup{o,      ranks,     dp,         averageEvery, *session,  step,         evalStep,
                   *bound, *schedule, modelState, replicated,   rankState, checkpointer, metrics};
  absl::StatusOr<TrainResult> result = runLoop(setup, start);
  if (result.ok()) {
    result->reports = ranks.root();
    result->allreduceBytes = comm.allreduceBytesSent();
    result->compress = dp.compress;
    result->skippedRecords = int64_t(ds.excluded().size());
    result->firstSkipped = bound->train.firstSkipped;
  }
  if (result.ok())
    if (const std::shared_ptr<data::ShardSet> &shards = ds.shards()) {
      result->shardsRead = shards->shardsOpened();
      result->shardsTotal = int64_t(shards->index().shards.size());
      result->bytesRead = shards->bytesOpened();
    }
  return result;
}

/// N ranks as threads of this process, joined by a thread group. A failed
/// rank aborts the group, so no other rank waits for it; the first error
/// that is not a consequence of another rank's is returned.
absl::StatusOr<TrainResult> trainEmulated(const TrainOptions &o) {
  dist::CommunicatorOptions co;
  co.timeoutSeconds = o.collectiveTimeout;
  auto group = dist::createThreadGroup(o.emulateWorldSize, co);
  std::vector<std::optional<absl::StatusOr<TrainResult>>> results(group.size());
  std::vector<std::thread> threads;
  for (size_t r = 0; r < group.size(); ++r)
    threads.emplace_back([&, r] {
      results[r] = trainRank(o, *group[r]);
      if (!results[r]->ok())
        group[r]->abort(std::string(results[r]->status().message()));
    });
  for (std::thread &t : threads)
    t.join();
  // The cause, not the ranks it stopped; named by rank like MPI's abort.
  for (int pass = 0; pass < 2; ++pass)
    for (size_t r = 0; r < results.size(); ++r) {
      const absl::Status &s = results[r]->status();
      if (!s.ok() && (pass == 1 || s.code() != absl::StatusCode::kAborted))
        return absl::Status(s.code(),
                            absl::StrCat("rank ", r, " of ", results.size(), ": ", s.message()));
    }
  for (auto &r : results)
    if ((*r)->reports)
      return std::move(*r);
  return std::move(*results[0]);
}

} // namespace

absl::StatusOr<TrainResult> train(const TrainOptions &o) {
  if (o.epochs && o.steps)
    return absl::InvalidArgumentError("give --epochs or --steps, not both");
  if (!o.initFrom.empty() && o.resume)
    return absl::InvalidArgumentError(
        "give --init or --resume, not both: --resume continues a checkpoint, --init starts a "
        "new run from given params");
  if (o.data.empty())
    return absl::InvalidArgumentError("no training data (--data)");
  if (o.emulateWorldSize < 0 || o.emulateWorldSize > 1024)
    return absl::InvalidArgumentError(
        absl::StrCat("--emulate-world-size must be in 1..1024, got ", o.emulateWorldSize));
  if (o.collectiveTimeout < 0 || o.collectiveTimeout > 1e7)
    return absl::InvalidArgumentError(
        absl::StrCat("--collective-timeout must be in [0, 1e7] seconds (0: no limit), got ",
                     o.collectiveTimeout));
  if (o.averageEvery < 0)
    return absl::InvalidArgumentError(
        absl::StrCat("--average-every must be >= 1, got ", o.averageEvery));
  InterruptGuard interrupts;
  if (o.emulateWorldSize > 1) {
    if (dist::launchedByMpiLauncher())
      return absl::InvalidArgumentError(
          "--emulate-world-size runs every rank in this one process; do not start it under "
          "mpirun/srun");
    if (o.mpiReduction)
      return absl::InvalidArgumentError(
          "--reduction=mpi needs MPI; --emulate-world-size reproduces the rank-ordered one");
    return trainEmulated(o);
  }
  // srun without an MPI plugin starts N independent single processes that
  // would each train alone and write the same checkpoints.
  // (SLURM_STEP_NUM_TASKS is srun's; a batch script's own shell has none.)
  if (const char *n = std::getenv("SLURM_STEP_NUM_TASKS");
      n && std::atoi(n) > 1 && !dist::launchedByMpiLauncher())
    return absl::FailedPreconditionError(absl::StrCat(
        "started by srun with SLURM_STEP_NUM_TASKS=", n,
        " but without an MPI launcher's environment (no PMI/PMIx rank), so every task would "
        "train alone; run it with srun --mpi=pmix (or mpirun)"));
  dist::CommunicatorOptions co;
  co.timeoutSeconds = o.collectiveTimeout;
  co.progressThread = o.progressThread;
  if (o.mpiReduction)
    co.reduction = dist::Reduction::Library;
  auto comm = dist::createCommunicator(co);
  if (!comm.ok())
    return comm.status();
  absl::StatusOr<TrainResult> result = trainRank(o, **comm);
  // A rank that fails alone would leave the others waiting in a collective:
  // end the job (Open MPI has no way to continue without it).
  if (!result.ok() && (*comm)->size() > 1 && result.status().code() != absl::StatusCode::kCancelled)
    (*comm)->abort(std::string(result.status().message()));
  return result;
}

} // namespace tg
