//===- Train.cpp - tgc train: train an artifact on data files -------------===//
//
// Parses the options into tg::TrainOptions, runs tg::train (tg/Train.h)
// and prints its summary. An interrupted run exits with 130, as a shell does
// for SIGINT.
//
//===----------------------------------------------------------------------===//
#include "tools/Commands.h"

#include "tg/Train.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

namespace tg {
namespace tools {
namespace {

const char *kTrainUsage =
    R"(usage: tgc train MODEL.tgx --data SPEC [--data SPEC ...] [--eval-data SPEC ...]
                      [--epochs N | --steps N] [--lr LR] [--seed S]
                      [--checkpoint-dir DIR] [--checkpoint-every N] [--keep K] [--resume[=required]]
                      [--init PARAMS.safetensors]
                      [--metrics FILE] [--pad] [--no-shuffle] [--prefetch N] [--data-threads N]
                      [--shuffle-buffer N] [--skip-bad-records]
                      [--reset-state=M]
                      [--progress=auto|bar|lines|none] [--log-every N]
                      [--emulate-world-size N] [--collective-timeout S] [--average-every K]
                      [--progress-thread] [--reduction=ordered|mpi] [--global-batch N]
       mpirun -np N tgc train MODEL.tgx ... (an artifact compiled with --data-parallel)

Runs the artifact's train_step over the data, evaluates with eval_step at each
epoch end, shows progress and writes metrics as JSON lines.

data (SPEC), mapped onto the artifact's data and label arguments:
  NAME=FILE          an IDX file (gzipped or raw; the MNIST family) or a NumPy
                     .npy file for argument NAME; the first dimension counts
                     examples, the rest is reshaped to the argument's (IDX u8
                     into a float argument is scaled to [0, 1])
  DIR                an MNIST-style directory: train-images-idx3-ubyte[.gz] and
                     train-labels-idx1-ubyte[.gz] feed the data and label
                     argument; its t10k-* files are the default --eval-data
  DIR                a packed data set (tgc data pack: shards + index.json):
                     read shard by shard, never whole; its fields feed the
                     arguments of their names (or: one data and one label
                     field, the data and label argument). Each epoch shuffles
                     the shards' order, cuts it into one contiguous range of
                     records per rank (a rank reads about 1/N of the shards)
                     and passes each range through a shuffle buffer
  FILE               plain text for a character model: the vocabulary is the
                     text's distinct bytes, the label is the next character;
                     the text is cut into batch-many streams read in order, so
                     recurrent state carries over (truncated BPTT)

  --epochs N         passes over the data (default 1)
  --steps N          train steps in all instead of epochs
  --lr LR            learning rate (overrides the compiled default)
  --seed S           initializer and shuffling seed (default 0)
  --pad              pad the last partial batch (wrapping around) instead of dropping it
  --no-shuffle       keep the data in file order
  --prefetch N       batches prepared ahead (default 2)
  --data-threads N   threads that read and convert the batches (default 1,
                     which keeps up with the example models; the batches are
                     the same with any N)
  --shuffle-buffer N a packed DIR: records in the shuffle buffer (default
                     16384): a record moves at most N places from its spot in
                     the shuffled shards' stream, so records of one shard stay
                     closer together than a full shuffle would put them
  --skip-bad-records leave out the records with a bad value (a label that is
                     no class of the model, a non-integer index) instead of
                     stopping before step 1; they are counted and reported
  --reset-state=M    zero the recurrent state (predict's state arguments) at
                     each epoch start: epoch, never, or auto (text streams only)

checkpoints (safetensors: params and optimizer state, written atomically):
  --checkpoint-dir DIR  where DIR/ckpt-<step>.safetensors go; metrics default
                        to DIR/metrics.jsonl
  --checkpoint-every N  every N steps (default: at each epoch end) and at the end
  --keep K           keep the newest K checkpoints (default 3)
  --resume           continue from the newest checkpoint in DIR, exactly; with
                     none there, say so and start from step 0
  --resume=required  the same, but no checkpoint is an error (requeued jobs)
  --init FILE        start from these params instead of the initializers: a
                     safetensors file with exactly the artifact's params by
                     name and shape (tgc export writes one; README: weights
                     from PyTorch). The optimizer state starts fresh

output:
  --metrics FILE     JSON lines: train (every --log-every steps), eval, checkpoint
  --progress=MODE    bar on a terminal, lines otherwise (auto); none
  --log-every N      steps between metric lines (default: a tenth of an epoch)

data parallelism (artifacts compiled with tgc compile --data-parallel=MODE):
  Under mpirun or srun every process is a rank. The artifact's batch is the
  batch per rank (batchSizePerWorker); a global batch of ranks x batch takes a
  slice of the epoch's shuffled order per rank (like PyTorch's
  DistributedSampler). Rank 0 alone prints, evaluates and writes metrics and
  checkpoints; a checkpoint resumes at any number of ranks.
  --emulate-world-size N  run N ranks as threads of this one process: the bits
                     of mpirun -np N (for checks without MPI)
  --collective-timeout S  abort the job when a collective waits longer than S
                     seconds (a dead or hung rank, a broken link; default 300, 0: never)
  --progress-thread  MPI: a thread moves started allreduces on while kernels run
                     (Open MPI has no asynchronous progress; needs
                     MPI_THREAD_MULTIPLE; the bits are the same)
  --average-every K  average:K artifacts: average every K steps instead
  --global-batch N   fail unless ranks x the artifact's batch is N
  --reduction=MODE   ordered (default): every rank adds the contributions in rank
                     order, bitwise reproducible and equal to --emulate-world-size;
                     mpi: MPI's own allreduce (faster for large buckets and many
                     ranks; its bits depend on the message size)

pipeline stages (artifacts compiled with tgc compile --pipeline-stages=S):
  Run with S ranks (mpirun -np S, or --emulate-world-size S), or S x D with
  --data-parallel=allreduce (rank r runs stage r / D). Every rank reads the
  whole batch; the last stage prints and writes metrics, rank 0 writes the
  checkpoints (one file, the one-process format). At the end each stage's
  share of the run spent waiting for its peers is reported (docs/pipeline.md).

Ctrl-C stops after the current step and saves a checkpoint (with --checkpoint-dir).
)";

bool parseCount(const std::string &flag, const std::string &text, int64_t min, int64_t &out) {
  char *end = nullptr;
  errno = 0;
  long long v = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end || v < min || errno == ERANGE) {
    error("train: " + flag + " needs an integer >= " + std::to_string(min) + ", got '" + text +
          "'");
    return false;
  }
  out = v;
  return true;
}

/// Options with a count as the value. Returns whether argv[i] was one; `ok`
/// is false when its value is bad (the error is printed).
bool takeCount(int &i, int argc, char **argv, TrainOptions &o, bool &ok) {
  std::string v;
  int64_t n = 0;
  auto count = [&](const char *flag, int64_t min, int64_t &out) {
    if (!takeValue(i, argc, argv, flag, v))
      return false;
    ok = parseCount(flag, v, min, out);
    return true;
  };
  if (count("--epochs", 1, o.epochs) || count("--steps", 1, o.steps) ||
      count("--checkpoint-every", 1, o.checkpointEvery) || count("--log-every", 1, o.logEvery))
    return true;
  if (count("--seed", 0, n)) {
    o.seed = uint64_t(n);
    return true;
  }
  if (count("--keep", 1, n)) {
    o.keepCheckpoints = int(n);
    return true;
  }
  if (count("--shuffle-buffer", 1, n)) {
    o.shuffleBuffer = n;
    return true;
  }
  if (count("--data-threads", 1, n)) {
    if (n > 64) {
      ok = false;
      std::fprintf(stderr, "tgc: error: --data-threads must be in [1, 64], got %lld\n",
                   (long long)n);
      return true;
    }
    o.dataThreads = int(n);
    return true;
  }
  if (count("--prefetch", 1, n)) {
    o.prefetch = int(n);
    return true;
  }
  if (count("--emulate-world-size", 1, n)) {
    o.emulateWorldSize = int(std::min<int64_t>(n, 1 << 20));
    return true;
  }
  if (count("--average-every", 1, o.averageEvery) || count("--global-batch", 1, o.globalBatch))
    return true;
  return false;
}

/// Options with a word or a number as the value: --lr, --reset-state, --progress.
/// Returns whether argv[i] was one; `message` is set when its value is bad.
bool takeChoice(int &i, int argc, char **argv, TrainOptions &o, std::string &message) {
  std::string v;
  if (takeValue(i, argc, argv, "--lr", v)) {
    char *end = nullptr;
    double lr = std::strtod(v.c_str(), &end);
    if (v.empty() || *end || !(lr > 0) || !std::isfinite(lr))
      message = "train: --lr needs a positive number, got '" + v + "'";
    o.lr = lr;
  } else if (takeValue(i, argc, argv, "--collective-timeout", v)) {
    char *end = nullptr;
    double t = std::strtod(v.c_str(), &end);
    if (v.empty() || *end || !(t >= 0) || !std::isfinite(t))
      message = "train: --collective-timeout needs a number of seconds >= 0, got '" + v + "'";
    o.collectiveTimeout = t;
  } else if (takeValue(i, argc, argv, "--reduction", v)) {
    if (v != "ordered" && v != "mpi")
      message = "train: --reduction needs ordered or mpi, got '" + v + "'";
    o.mpiReduction = v == "mpi";
  } else if (takeValue(i, argc, argv, "--reset-state", v)) {
    using R = TrainOptions::ResetState;
    static const std::map<std::string, R> modes = {
        {"auto", R::Auto}, {"epoch", R::Epoch}, {"never", R::Never}};
    if (!modes.count(v))
      message = "train: --reset-state needs auto, epoch or never, got '" + v + "'";
    else
      o.resetState = modes.at(v);
  } else if (takeValue(i, argc, argv, "--progress", v)) {
    using P = TrainOptions::Progress;
    static const std::map<std::string, P> modes = {
        {"auto", P::Auto}, {"bar", P::Bar}, {"lines", P::Lines}, {"none", P::None}};
    if (!modes.count(v))
      message = "train: --progress needs auto, bar, lines or none, got '" + v + "'";
    else
      o.progress = modes.at(v);
  } else {
    return false;
  }
  return true;
}

/// Parses train's options into `o`; an exit status when tgc should stop
/// (help: 0, a bad option: 1), else -1.
int parseTrainArgs(int argc, char **argv, TrainOptions &o) {
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i], v, message;
    bool ok = true;
    if (a == "-h" || a == "--help") {
      std::printf("%s", kTrainUsage);
      return 0;
    }
    if (takeValue(i, argc, argv, "--data", v)) {
      o.data.push_back(v);
    } else if (takeValue(i, argc, argv, "--eval-data", v)) {
      o.evalData.push_back(v);
    } else if (takeCount(i, argc, argv, o, ok)) {
      if (!ok)
        return 1;
    } else if (takeChoice(i, argc, argv, o, message)) {
      if (!message.empty())
        return error(message);
    } else if (takeValue(i, argc, argv, "--checkpoint-dir", o.checkpointDir) ||
               takeValue(i, argc, argv, "--metrics", o.metricsPath) ||
               takeValue(i, argc, argv, "--init", o.initFrom)) {
    } else if (a == "--resume" || a == "--resume=auto") {
      o.resume = true;
    } else if (a == "--resume=required") {
      o.resume = o.resumeRequired = true;
    } else if (a == "--pad") {
      o.pad = true;
    } else if (a == "--progress-thread") {
      o.progressThread = true;
    } else if (a == "--skip-bad-records") {
      o.skipBadRecords = true;
    } else if (a == "--no-shuffle") {
      o.shuffle = false;
    } else if (!a.empty() && a[0] == '-') {
      return error("train: unknown option '" + a + "' (see tgc train --help)");
    } else if (!o.artifact.empty()) {
      return error("train: more than one artifact ('" + o.artifact + "', '" + a + "')");
    } else {
      o.artifact = a;
    }
  }
  if (std::string missing = takeMissingValue(); !missing.empty())
    return error("train: " + missing);
  if (o.artifact.empty())
    return error("train: no artifact (see tgc train --help)");
  if (o.resume && o.checkpointDir.empty())
    return error("train: --resume needs --checkpoint-dir");
  return -1;
}

/// "loss 0.1234, accuracy 0.9000": loss first, "examples" left out.
std::string summaryText(const std::map<std::string, double> &m) {
  std::vector<std::string> parts;
  if (m.count("loss"))
    parts.push_back(absl::StrFormat("loss %.4f", m.at("loss")));
  for (auto &[k, v] : m)
    if (k != "examples" && k != "loss")
      parts.push_back(absl::StrFormat("%s %.4f", k, v));
  return absl::StrJoin(parts, ", ");
}

} // namespace

int trainCommand(int argc, char **argv) {
  TrainOptions o;
  if (int status = parseTrainArgs(argc, argv, o); status >= 0)
    return status;
  auto r = train(o);
  if (!r.ok()) {
    error("train: " + std::string(r.status().message()));
    return r.status().code() == absl::StatusCode::kCancelled ? 130 : 1;
  }
  if (r->shardsTotal > 0) // each rank: how much of a packed data set it read
    std::fprintf(stderr, "data: rank %d read %lld of %lld shards (%.1f MiB)\n", r->rank,
                 (long long)r->shardsRead, (long long)r->shardsTotal,
                 double(r->bytesRead) / 1048576.0);
  if (!r->reports) // rank 0 (a pipeline: its last stage) reports for the run
    return 0;
  if (r->allreduceBytes > 0)
    std::fprintf(stderr, "data parallel: rank 0 sent %.1f MiB of allreduced data (%s)\n",
                 double(r->allreduceBytes) / 1048576.0,
                 r->compress == "none" ? "f32" : (r->compress + " on the wire").c_str());
  if (!r->stageWait.empty()) {
    std::string shares;
    for (size_t k = 0; k < r->stageWait.size(); ++k)
      absl::StrAppend(&shares, k ? ", " : "", absl::StrFormat("%.1f%%", 100 * r->stageWait[k]));
    std::fprintf(stderr,
                 "pipeline: stages 0..%zu waited for their peers %s of the run (the schedule's "
                 "ideal bubble: %.1f%%)\n",
                 r->stageWait.size() - 1, shares.c_str(), 100 * r->idealBubble);
  }
  if (r->skippedRecords > 0)
    std::fprintf(stderr, "data: skipped %lld bad record(s) of --data in every epoch; the first: %s\n",
                 (long long)r->skippedRecords, r->firstSkipped.c_str());
  std::printf("trained %lld steps (%.3g epochs) in %.2f s: train %s\n", (long long)r->steps,
              double(r->steps) / double(r->stepsPerEpoch), r->seconds,
              summaryText(r->lastTrain).c_str());
  if (!r->lastEval.empty())
    std::printf("test %s (%lld examples)\n", summaryText(r->lastEval).c_str(),
                (long long)r->lastEval.at("examples"));
  if (!r->lastCheckpoint.empty())
    std::printf("checkpoint: %s\n", r->lastCheckpoint.c_str());
  return 0;
}

} // namespace tools
} // namespace tg
