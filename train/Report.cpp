//===- Report.cpp - training progress and metrics -------------------------===//
//
// What a run tells its user: the header line, a progress bar on a terminal or
// log lines otherwise, one summary line per epoch, and the metrics JSON-lines
// file (train every --log-every steps, eval, checkpoint events) that
// `tgc plot` draws. A resumed run drops the lines a killed run logged after
// the checkpoint it resumes from, so the file reads as one unbroken run.
//
//===----------------------------------------------------------------------===//
#include "train/Internal.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <unistd.h>

namespace tg {
namespace trainer {

using json = nlohmann::json;

//===----------------------------------------------------------------------===//
// The metrics file
//===----------------------------------------------------------------------===//

absl::Status MetricsLog::open(const std::string &path, std::optional<int64_t> keepUpTo) {
  if (path.empty())
    return absl::OkStatus();
  std::string kept;
  if (keepUpTo) {
    // Drop what a killed run logged after the checkpoint we resume from.
    std::ifstream in(path);
    for (std::string line; std::getline(in, line);) {
      json j = json::parse(line, nullptr, false);
      if (!j.is_discarded() && j.contains("step") && j["step"].get<int64_t>() <= *keepUpTo)
        kept += line + "\n";
    }
  }
  file_ = std::fopen(path.c_str(), "w");
  if (!file_)
    return absl::ErrnoToStatus(errno, absl::StrCat("cannot write metrics '", path, "'"));
  std::fputs(kept.c_str(), file_);
  std::fflush(file_);
  return absl::OkStatus();
}

MetricsLog::~MetricsLog() {
  if (file_)
    std::fclose(file_);
}

void MetricsLog::write(const json &j) {
  if (!file_)
    return;
  // Paths and names come from the user and may be any bytes: JSON holds
  // UTF-8 only, so invalid sequences become U+FFFD.
  std::fprintf(file_, "%s\n", j.dump(-1, ' ', false, json::error_handler_t::replace).c_str());
  std::fflush(file_);
}

std::string metricsPath(const TrainOptions &o) {
  if (o.metricsPath.empty() && !o.checkpointDir.empty())
    return o.checkpointDir + "/metrics.jsonl";
  return o.metricsPath;
}

//===----------------------------------------------------------------------===//
// Text
//===----------------------------------------------------------------------===//

namespace {

std::string clockText(double s) {
  if (!std::isfinite(s) || s < 0)
    return "--:--";
  long t = long(s + 0.5);
  return t >= 3600 ? absl::StrFormat("%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60)
                   : absl::StrFormat("%ld:%02ld", t / 60, t % 60);
}

/// "loss 0.1234 accuracy 0.9000", in `order`.
std::string metricsText(const Values &m, const std::vector<std::string> &order) {
  std::vector<std::string> parts;
  for (const std::string &k : order)
    if (m.count(k))
      parts.push_back(absl::StrFormat("%s %.4f", k, m.at(k)));
  return absl::StrJoin(parts, " ");
}

} // namespace

void printHeader(const TrainOptions &o, const LoadedData &data, const Schedule &s, bool resetsState,
                 const Manifest &manifest, const std::string &communicator) {
  const data::Dataset &ds = *data.dataset;
  int64_t partial = ds.rows() % s.globalBatch();
  std::string batches = partial == 0 ? "no partial batch"
                                     : absl::StrCat("last partial batch of ", partial,
                                                    o.pad ? " padded" : " dropped");
  std::fprintf(stderr, "training %s on %s: %lld steps of batch %lld (%lld per epoch, %s)%s%s\n",
               o.artifact.c_str(), data.description.c_str(), (long long)s.totalSteps,
               (long long)s.globalBatch(), (long long)s.perEpoch, batches.c_str(),
               s.shuffle       ? ", shuffled"
               : ds.shuffles() ? ""
                               : ", in stream order",
               resetsState ? "; recurrent state reset to zero at each epoch start" : "");
  if (!ds.excluded().empty())
    std::fprintf(stderr, "skipping %lld bad record(s) (--skip-bad-records); the first: %s\n",
                 (long long)ds.excluded().size(), data.firstSkipped.c_str());
  const DataParallelSpec &dp = manifest.dataParallel;
  if (s.world == 1 && dp.mode == "none")
    return;
  std::string mode = dp.mode == "average"
                         ? absl::StrCat("parameter averaging every ",
                                        o.averageEvery ? o.averageEvery : dp.averageEvery, " steps",
                                        dp.averageState ? " (with optimizer state)" : "")
                     : dp.mode == "allreduce"
                         ? absl::StrCat("gradient allreduce",
                                        dp.compress == "none" ? "" : " (" + dp.compress + " on the wire)",
                                        ", ", dp.buckets.size(),
                                        " bucket(s) with the loss and metrics")
                         : std::string("no collectives");
  std::fprintf(stderr,
               "data parallel: %d rank(s) (%s), batchSizePerWorker %lld, global batch %lld; %s; "
               "plan %s\n",
               s.world, communicator.c_str(), (long long)s.batch, (long long)s.globalBatch(),
               mode.c_str(), dp.planHash.empty() ? "-" : dp.planHash.c_str());
}

//===----------------------------------------------------------------------===//
// Progress
//===----------------------------------------------------------------------===//

void Means::add(const Values &v) {
  for (auto &[k, x] : v)
    sum[k] += x;
  ++n;
}

Values Means::get() const {
  Values m;
  for (auto &[k, x] : sum)
    m[k] = n ? x / double(n) : 0.0;
  return m;
}

Reporter::Reporter(const TrainOptions &o, const Schedule &s, const StepEntry &step, MetricsLog &log,
                   double priorSeconds, bool quiet)
    : s_(s), step_(step), log_(log), quiet_(quiet), priorSeconds_(priorSeconds),
      start_(Clock::now()), windowStart_(start_) {
  bool tty = ::isatty(2);
  mode_ = o.progress == TrainOptions::Progress::Auto
              ? (tty ? TrainOptions::Progress::Bar : TrainOptions::Progress::Lines)
              : o.progress;
  logEvery_ = o.logEvery > 0 ? o.logEvery : std::max<int64_t>(1, s.perEpoch / 10);
  if (quiet_)
    mode_ = TrainOptions::Progress::None;
}

double Reporter::elapsed() const {
  return std::chrono::duration<double>(Clock::now() - start_).count();
}

void Reporter::step(const Position &pos, bool epochEnd, const Values &v, int64_t stepsThisRun) {
  window_.add(v);
  epochMeans_.add(v);
  auto now = Clock::now();
  double rate = double(stepsThisRun) / std::max(elapsed(), 1e-9);
  double eta = double(s_.totalSteps - pos.step) / rate;
  if (pos.step % logEvery_ == 0 || epochEnd || pos.step == s_.totalSteps)
    logLine(pos, now, eta);
  if (mode_ == TrainOptions::Progress::Bar &&
      (now - lastBar_ > std::chrono::milliseconds(100) || epochEnd)) {
    lastBar_ = now;
    drawBar(pos, rate, eta);
  }
}

/// The window's means: a train line in the metrics file and, in lines mode,
/// on stderr.
void Reporter::logLine(const Position &pos, Clock::time_point now, double eta) {
  double sec = std::chrono::duration<double>(now - windowStart_).count();
  double examplesPerSecond = double(window_.n * s_.globalBatch()) / std::max(sec, 1e-9);
  Values m = window_.get();
  json j = {{"event", "train"},
            {"step", pos.step},
            {"epoch", pos.epoch + 1},
            {"examples_per_s", examplesPerSecond},
            {"time_s", priorSeconds_ + elapsed()}};
  for (auto &[k, x] : m)
    j[k] = x;
  log_.write(j);
  if (mode_ == TrainOptions::Progress::Lines)
    std::fprintf(stderr, "step %lld/%lld  epoch %lld/%lld  %s  %.0f ex/s  ETA %s\n",
                 (long long)pos.step, (long long)s_.totalSteps, (long long)pos.epoch + 1,
                 (long long)s_.totalEpochs, metricsText(m, step_.metrics).c_str(),
                 examplesPerSecond, clockText(eta).c_str());
  window_ = Means();
  windowStart_ = now;
}

void Reporter::drawBar(const Position &pos, double rate, double eta) {
  int width = 24, filled = int(width * pos.batch / s_.perEpoch);
  std::fprintf(stderr, "\r\033[Kepoch %lld/%lld [%s%s] %lld/%lld  %s  %.0f ex/s  ETA %s",
               (long long)pos.epoch + 1, (long long)s_.totalEpochs,
               std::string(size_t(filled), '#').c_str(),
               std::string(size_t(width - filled), '-').c_str(), (long long)pos.batch,
               (long long)s_.perEpoch, metricsText(epochMeans_.get(), step_.metrics).c_str(),
               rate * double(s_.globalBatch()), clockText(eta).c_str());
}

Values Reporter::endEpoch() {
  if (mode_ == TrainOptions::Progress::Bar)
    std::fprintf(stderr, "\n");
  Values means = epochMeans_.get();
  epochMeans_ = Means();
  return means;
}

void Reporter::epochSummary(const Position &pos, const Values &train, const Values *eval,
                            const StepEntry &evalStep) {
  if (quiet_)
    return;
  std::string line = absl::StrFormat("epoch %lld: train %s", (long long)pos.epoch + 1,
                                     metricsText(train, step_.metrics));
  if (eval) {
    json j = {{"event", "eval"}, {"step", pos.step}, {"epoch", pos.epoch + 1}};
    for (auto &[k, x] : *eval)
      j[k] = x;
    log_.write(j);
    absl::StrAppend(&line, absl::StrFormat(" | test %s (%lld examples)",
                                           metricsText(*eval, evalStep.metrics),
                                           (long long)eval->at("examples")));
  }
  std::fprintf(stderr, "%s  [%s]\n", line.c_str(), clockText(elapsed()).c_str());
}

void Reporter::finish(bool midEpoch) {
  if (mode_ == TrainOptions::Progress::Bar && midEpoch)
    std::fprintf(stderr, "\n");
}

} // namespace trainer
} // namespace tg
