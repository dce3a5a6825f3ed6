//===- Trainer.cpp - the training loop behind `tgc train` -----------------===//
#include "runtime/Trainer.h"

#include "runtime/Checkpoint.h"
#include "runtime/Data.h"
#include "runtime/Trailer.h"
#include "tg/Runtime.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sys/stat.h>
#include <unistd.h>

namespace tg {
namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

volatile std::sig_atomic_t gInterrupted = 0;
extern "C" void onInterrupt(int) { gInterrupted = 1; }

struct Arg {
  std::string name, role, dtype;
  std::vector<int64_t> shape;
  data::ArgSpec spec() const { return {name, dtype, shape}; }
};

struct Entry {
  std::vector<Arg> args;
  std::vector<std::string> metrics;  ///< f32 scalar results not updated in place
  std::vector<std::string> aliased;  ///< buffers the entry updates in place
  bool present = false;
};

Entry entryOf(const json &manifest, const std::string &name) {
  Entry e;
  for (const json &j : manifest["entries"]) {
    if (j["name"] != name)
      continue;
    e.present = true;
    for (const json &a : j["args"])
      e.args.push_back({a["name"].get<std::string>(), a.value("role", ""),
                        a["dtype"].get<std::string>(), a["shape"].get<std::vector<int64_t>>()});
    for (const json &r : j["results"]) {
      if (r.contains("alias"))
        e.aliased.push_back(e.args[r["alias"].get<size_t>()].name);
      else if (r["dtype"] == "f32" && r["shape"].empty())
        e.metrics.push_back(r["name"].get<std::string>());
    }
  }
  return e;
}

/// Writes a batch into the dataset's argument buffers, runs `entry` and
/// reads its scalar metrics.
absl::StatusOr<std::map<std::string, double>>
runBatch(rt::Session &session, const data::Dataset &ds,
         const std::vector<std::vector<uint8_t>> &buffers, const std::string &entry,
         const std::vector<std::string> &metrics) {
  for (size_t c = 0; c < ds.columns().size(); ++c)
    if (absl::Status s = session.write(ds.columns()[c].spec.name, buffers[c].data(),
                                       buffers[c].size());
        !s.ok())
      return s;
  if (absl::Status s = session.run(entry); !s.ok())
    return s;
  std::map<std::string, double> v;
  for (const std::string &m : metrics) {
    float x;
    if (absl::Status s = session.read(m, &x, sizeof x); !s.ok())
      return s;
    v[m] = x;
  }
  return v;
}

bool isDir(const std::string &p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::string findIdx(const std::string &dir, const std::string &stem) {
  for (const char *ext : {".gz", ""}) {
    std::string p = dir + "/" + stem + ext;
    if (::access(p.c_str(), R_OK) == 0)
      return p;
  }
  return "";
}

/// A loaded dataset and a description of where it came from.
struct LoadedData {
  std::optional<data::Dataset> dataset;
  std::string vocab, description;
};

/// Maps data specs onto `entry`'s data and label arguments.
absl::StatusOr<LoadedData> loadData(const std::vector<std::string> &specs, const Entry &entry,
                                    bool eval, const std::string &flag) {
  std::vector<const Arg *> dataArgs, labelArgs;
  for (const Arg &a : entry.args) {
    if (a.role == "data")
      dataArgs.push_back(&a);
    if (a.role == "label")
      labelArgs.push_back(&a);
  }
  auto argNamed = [&](const std::string &n) -> const Arg * {
    for (const Arg &a : entry.args)
      if (a.name == n && (a.role == "data" || a.role == "label"))
        return &a;
    return nullptr;
  };
  auto names = [&] {
    std::vector<std::string> n;
    for (const Arg &a : entry.args)
      if (a.role == "data" || a.role == "label")
        n.push_back(absl::StrCat(a.name, " (", a.role, " ", a.dtype, " [",
                                 absl::StrJoin(a.shape, ", "), "])"));
    return absl::StrJoin(n, ", ");
  };
  LoadedData out;
  std::map<std::string, std::string> files; // arg -> file
  std::string textFile;
  for (const std::string &s : specs) {
    size_t eq = s.find('=');
    if (eq != std::string::npos && argNamed(s.substr(0, eq))) {
      files[s.substr(0, eq)] = s.substr(eq + 1);
    } else if (eq != std::string::npos && eq > 0 && s.find('/') > eq) {
      return absl::InvalidArgumentError(absl::StrCat(flag, " ", s, ": the artifact has no data or label argument '",
                                                     s.substr(0, eq), "' (it has: ", names(), ")"));
    } else if (isDir(s)) {
      if (dataArgs.size() != 1 || labelArgs.size() != 1)
        return absl::InvalidArgumentError(absl::StrCat(
            flag, " ", s, ": a directory feeds one data and one label argument; this artifact has ",
            names(), "; use NAME=FILE"));
      std::string prefix = eval ? "t10k" : "train";
      std::string images = findIdx(s, prefix + "-images-idx3-ubyte");
      std::string labels = findIdx(s, prefix + "-labels-idx1-ubyte");
      if (images.empty() || labels.empty())
        return absl::NotFoundError(absl::StrCat(flag, " ", s, ": no ", prefix,
                                                "-images-idx3-ubyte[.gz] and ", prefix,
                                                "-labels-idx1-ubyte[.gz] in this directory"));
      files[dataArgs[0]->name] = images;
      files[labelArgs[0]->name] = labels;
    } else {
      if (::access(s.c_str(), R_OK) != 0)
        return absl::NotFoundError(absl::StrCat(flag, " ", s, ": ", std::strerror(errno)));
      textFile = s;
    }
  }
  if (!textFile.empty()) {
    if (!files.empty())
      return absl::InvalidArgumentError(
          absl::StrCat(flag, ": a text file feeds both the input and the target of a character "
                             "model; it cannot be mixed with NAME=FILE"));
    if (dataArgs.size() != 1 || labelArgs.size() != 1)
      return absl::InvalidArgumentError(absl::StrCat(
          flag, " ", textFile, ": text feeds one data argument and one label argument (the "
          "next characters); this artifact has ", names()));
    auto corpus = data::readText(textFile);
    if (!corpus.ok())
      return corpus.status();
    auto ds = data::Dataset::fromText(*corpus, dataArgs[0]->spec(), labelArgs[0]->spec());
    if (!ds.ok())
      return ds.status();
    out.vocab = corpus->vocab;
    out.description = absl::StrCat(textFile, " (", corpus->ids.size(), " characters, vocabulary of ",
                                   corpus->vocab.size(), ")");
    out.dataset = std::move(*ds);
    return out;
  }
  std::vector<data::Column> columns;
  std::vector<std::string> missing, desc;
  for (const Arg &a : entry.args) {
    if (a.role != "data" && a.role != "label")
      continue;
    auto it = files.find(a.name);
    if (it == files.end()) {
      missing.push_back(a.name);
      continue;
    }
    auto array = data::readArray(it->second);
    if (!array.ok())
      return array.status();
    auto column = data::makeColumn(*array, a.spec());
    if (!column.ok())
      return column.status();
    desc.push_back(absl::StrCat(a.name, "=", it->second));
    columns.push_back(std::move(*column));
  }
  if (!missing.empty())
    return absl::InvalidArgumentError(absl::StrCat(flag, ": no data for ", absl::StrJoin(missing, ", "),
                                                   " (the artifact's inputs: ", names(), ")"));
  auto ds = data::Dataset::fromColumns(std::move(columns));
  if (!ds.ok())
    return ds.status();
  out.description = absl::StrCat(absl::StrJoin(desc, ", "), " (", ds->rows(), " examples)");
  out.dataset = std::move(*ds);
  return out;
}

std::string clockText(double s) {
  if (!std::isfinite(s) || s < 0)
    return "--:--";
  long t = long(s + 0.5);
  return t >= 3600 ? absl::StrFormat("%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60)
                   : absl::StrFormat("%ld:%02ld", t / 60, t % 60);
}

/// Running means of the step results over a window.
struct Means {
  std::map<std::string, double> sum;
  int64_t n = 0;
  void add(const std::map<std::string, double> &v) {
    for (auto &[k, x] : v)
      sum[k] += x;
    ++n;
  }
  std::map<std::string, double> get() const {
    std::map<std::string, double> m;
    for (auto &[k, x] : sum)
      m[k] = n ? x / double(n) : 0.0;
    return m;
  }
};

std::string metricsText(const std::map<std::string, double> &m, const std::vector<std::string> &order) {
  std::vector<std::string> parts;
  for (const std::string &k : order)
    if (m.count(k))
      parts.push_back(absl::StrFormat("%s %.4f", k, m.at(k)));
  return absl::StrJoin(parts, " ");
}

class Metrics {
public:
  absl::Status open(const std::string &path, std::optional<int64_t> keepUpTo) {
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
      return absl::PermissionDeniedError(
          absl::StrCat("cannot write metrics '", path, "': ", std::strerror(errno)));
    std::fputs(kept.c_str(), file_);
    std::fflush(file_);
    return absl::OkStatus();
  }
  ~Metrics() {
    if (file_)
      std::fclose(file_);
  }
  void write(const json &j) {
    if (!file_)
      return;
    std::fprintf(file_, "%s\n", j.dump().c_str());
    std::fflush(file_);
  }

private:
  std::FILE *file_ = nullptr;
};

} // namespace

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
  json manifest = json::parse(artifact->manifest());
  Entry step = entryOf(manifest, "train_step");
  if (!step.present)
    return absl::FailedPreconditionError(absl::StrCat(
        "'", o.artifact, "' has no train_step: compile a model that has a training spec "
        "(Graph::minimize, or a tg.train module attribute)"));
  Entry evalStep = entryOf(manifest, "eval_step");

  // Data, checked against the artifact before anything runs.
  auto train = loadData(o.data, step, /*eval=*/false, "--data");
  if (!train.ok())
    return train.status();
  std::vector<std::string> evalSpecs = o.evalData;
  if (evalSpecs.empty() && o.data.size() == 1 && isDir(o.data[0]) &&
      !findIdx(o.data[0], "t10k-images-idx3-ubyte").empty())
    evalSpecs = o.data; // the MNIST layout's test split
  std::optional<LoadedData> eval;
  if (!evalSpecs.empty()) {
    if (!evalStep.present)
      return absl::FailedPreconditionError(
          absl::StrCat("'", o.artifact, "' has no eval_step to evaluate --eval-data with"));
    if (!train->vocab.empty())
      return absl::UnimplementedError("--eval-data for text models is not supported yet");
    auto e = loadData(evalSpecs, evalStep, /*eval=*/true, "--eval-data");
    if (!e.ok())
      return e.status();
    eval = std::move(*e);
  }
  const data::Dataset &ds = *train->dataset;
  int64_t batch = ds.columns()[0].spec.shape.empty() ? 1 : ds.columns()[0].spec.shape[0];
  int64_t perEpoch = data::Batcher::batchesPerEpoch(ds.rows(), batch, o.pad);
  if (perEpoch == 0)
    return absl::InvalidArgumentError(absl::StrCat("--data: ", ds.rows(),
                                                   " examples are fewer than one batch of ", batch,
                                                   " (pass --pad to pad it)"));
  int64_t totalSteps = o.steps ? o.steps : perEpoch * (o.epochs ? o.epochs : 1);
  bool shuffle = o.shuffle && ds.shuffles();

  auto session = rt::Session::create(*artifact, o.seed);
  if (!session.ok())
    return session.status();
  if (o.lr) {
    bool hasLr = false;
    for (const Arg &a : step.args)
      hasLr = hasLr || (a.name == "lr" && a.role == "hyper" && a.dtype == "f32" && a.shape.empty());
    if (!hasLr)
      return absl::InvalidArgumentError("--lr: train_step has no f32 hyper argument 'lr'");
    float lr = float(*o.lr);
    if (absl::Status s = session->write("lr", &lr, sizeof lr); !s.ok())
      return s;
  }

  // What a checkpoint holds: every param and state buffer of train_step.
  std::vector<const Arg *> saved;
  for (const Arg &a : step.args)
    if (a.role == "param" || a.role == "state")
      saved.push_back(&a);
  // Model state (recurrent h/c): the state that predict also takes, unlike
  // optimizer slots and the step counter. Text streams restart it at each
  // epoch, as Keras' reset_states: carried across epochs, it can grow into a
  // regime that a model run from a fresh state (sampling) never reaches.
  std::vector<const Arg *> modelState;
  Entry predict = entryOf(manifest, "predict");
  bool resetState = o.resetState == TrainOptions::ResetState::Epoch ||
                    (o.resetState == TrainOptions::ResetState::Auto && !ds.shuffles());
  for (const Arg &a : predict.args)
    if (a.role == "state" && resetState)
      modelState.push_back(&a);

  int64_t globalStep = 0, epoch = 0, position = 0;
  double priorSeconds = 0;
  std::optional<int64_t> resumedAt;
  if (!o.checkpointDir.empty()) {
    if (!isDir(o.checkpointDir) && ::mkdir(o.checkpointDir.c_str(), 0755) != 0)
      return absl::PermissionDeniedError(absl::StrCat("cannot create checkpoint directory '",
                                                      o.checkpointDir, "': ", std::strerror(errno)));
    std::vector<std::string> existing = listCheckpoints(o.checkpointDir);
    if (!o.resume && !existing.empty())
      return absl::AlreadyExistsError(absl::StrCat(
          "'", o.checkpointDir, "' already holds checkpoints (newest: ", existing.back(),
          "); pass --resume to continue from it, or choose another --checkpoint-dir"));
    if (o.resume && !existing.empty()) {
      const std::string &path = existing.back();
      auto ck = readSafetensors(path);
      if (!ck.ok())
        return ck.status();
      auto meta = [&](const std::string &k) {
        auto it = ck->metadata.find(k);
        return it == ck->metadata.end() ? std::string() : it->second;
      };
      if (meta("format") != "tgc-checkpoint/1")
        return absl::InvalidArgumentError(
            absl::StrCat("'", path, "' is not a tgc training checkpoint (metadata format '",
                         meta("format"), "')"));
      if (meta("artifact_hash") != *hash)
        return absl::FailedPreconditionError(absl::StrCat(
            "'", path, "' was written by another artifact (hash ", meta("artifact_hash"), ", '",
            meta("artifact"), "'); '", o.artifact, "' has hash ", *hash,
            ". Resume with the artifact that wrote it, or start a new --checkpoint-dir"));
      for (const Arg *a : saved) {
        const NamedTensor *t = ck->find(a->name);
        if (!t)
          return absl::InvalidArgumentError(
              absl::StrCat("'", path, "' lacks tensor '", a->name, "' (", a->role, ")"));
        if (t->dtype != a->dtype || t->shape != a->shape)
          return absl::InvalidArgumentError(absl::StrCat(
              "'", path, "': tensor '", a->name, "' is ", t->dtype, " [", absl::StrJoin(t->shape, ", "),
              "], the artifact's buffer is ", a->dtype, " [", absl::StrJoin(a->shape, ", "), "]"));
      }
      if (ck->tensors.size() != saved.size())
        return absl::InvalidArgumentError(absl::StrCat("'", path, "' holds ", ck->tensors.size(),
                                                       " tensors, the artifact has ", saved.size(),
                                                       " params and states"));
      try {
        globalStep = std::stoll(meta("step"));
        epoch = std::stoll(meta("epoch"));
        position = std::stoll(meta("position"));
        priorSeconds = std::stod(meta("train_seconds"));
      } catch (...) {
        return absl::InvalidArgumentError(
            absl::StrCat("'", path, "': metadata step/epoch/position/train_seconds are not numbers"));
      }
      if (meta("seed") != std::to_string(o.seed))
        return absl::InvalidArgumentError(absl::StrCat(
            "'", path, "' was trained with --seed ", meta("seed"), "; resume with the same seed"));
      if (position < 0 || position >= perEpoch)
        return absl::InvalidArgumentError(absl::StrCat("'", path, "': data position ", position,
                                                       " is past the ", perEpoch,
                                                       " batches of an epoch of this data"));
      for (const NamedTensor &t : ck->tensors)
        if (absl::Status s = session->write(t.name, t.bytes.data(), t.bytes.size()); !s.ok())
          return s;
      resumedAt = globalStep;
      std::fprintf(stderr, "resuming from %s: step %lld, epoch %lld, batch %lld\n", path.c_str(),
                   (long long)globalStep, (long long)epoch + 1, (long long)position);
    }
  }
  std::string metricsPath = o.metricsPath;
  if (metricsPath.empty() && !o.checkpointDir.empty())
    metricsPath = o.checkpointDir + "/metrics.jsonl";
  Metrics metrics;
  if (absl::Status s = metrics.open(metricsPath, resumedAt); !s.ok())
    return s;

  bool tty = ::isatty(2);
  auto mode = o.progress == TrainOptions::Progress::Auto
                  ? (tty ? TrainOptions::Progress::Bar : TrainOptions::Progress::Lines)
                  : o.progress;
  int64_t logEvery = o.logEvery > 0 ? o.logEvery : std::max<int64_t>(1, perEpoch / 10);
  int64_t totalEpochs = (totalSteps + perEpoch - 1) / perEpoch;
  std::fprintf(stderr, "training %s on %s: %lld steps of batch %lld (%lld per epoch, %s)%s%s\n",
               o.artifact.c_str(), train->description.c_str(), (long long)totalSteps,
               (long long)batch, (long long)perEpoch,
               ds.rows() % batch == 0 ? "no partial batch"
               : o.pad ? absl::StrCat("last partial batch of ", ds.rows() % batch, " padded").c_str()
                       : absl::StrCat("last partial batch of ", ds.rows() % batch, " dropped").c_str(),
               shuffle ? ", shuffled" : ds.shuffles() ? "" : ", in stream order",
               modelState.empty() ? "" : "; recurrent state reset to zero at each epoch start");

  TrainResult result;
  auto start = Clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(Clock::now() - start).count(); };
  int64_t stepsThisRun = 0;

  auto checkpoint = [&]() -> absl::Status {
    if (o.checkpointDir.empty())
      return absl::OkStatus();
    Checkpoint ck;
    for (const Arg *a : saved) {
      NamedTensor t{a->name, a->dtype, a->shape, {}};
      t.bytes.resize(session->size(a->name));
      if (absl::Status s = session->read(a->name, t.bytes.data(), t.bytes.size()); !s.ok())
        return s;
      ck.tensors.push_back(std::move(t));
    }
    ck.metadata = {{"format", "tgc-checkpoint/1"},
                   {"artifact", o.artifact},
                   {"artifact_hash", *hash},
                   {"step", std::to_string(globalStep)},
                   {"epoch", std::to_string(epoch)},
                   {"position", std::to_string(position)},
                   {"seed", std::to_string(o.seed)},
                   {"rng", absl::StrCat("data order: mt19937_64 Fisher-Yates keyed by (seed ", o.seed,
                                        ", epoch ", epoch, "); graph randomness: stateless "
                                        "Philox keyed by the step counter")},
                   {"data", train->description},
                   {"train_seconds", absl::StrFormat("%.3f", priorSeconds + elapsed())}};
    if (!train->vocab.empty())
      ck.metadata["vocab"] = json(train->vocab).dump();
    if (o.lr)
      ck.metadata["lr"] = absl::StrFormat("%.9g", *o.lr);
    std::string path = checkpointPath(o.checkpointDir, globalStep);
    if (absl::Status s = writeSafetensors(path, ck); !s.ok())
      return s;
    pruneCheckpoints(o.checkpointDir, o.keepCheckpoints);
    result.lastCheckpoint = path;
    metrics.write({{"event", "checkpoint"}, {"step", globalStep}, {"path", path}});
    return absl::OkStatus();
  };

  auto runEval = [&]() -> absl::StatusOr<std::map<std::string, double>> {
    // eval_step may advance recurrent state; training must not see that.
    std::map<std::string, std::vector<uint8_t>> keep;
    for (const std::string &b : evalStep.aliased) {
      keep[b].resize(session->size(b));
      if (absl::Status s = session->read(b, keep[b].data(), keep[b].size()); !s.ok())
        return s;
    }
    const data::Dataset &eds = *eval->dataset;
    auto evalBatch = [&](const std::vector<std::vector<uint8_t>> &buffers) {
      return runBatch(*session, eds, buffers, "eval_step", evalStep.metrics);
    };
    std::vector<int64_t> order = eds.order(o.seed, 0, false);
    data::Batcher batcher(eds, batch, order, 0, /*pad=*/false, o.prefetch);
    std::map<std::string, double> sums; // metric x examples
    int64_t examples = 0;
    while (auto b = batcher.next()) {
      auto v = evalBatch(b->buffers);
      if (!v.ok())
        return v.status();
      for (auto &[k, x] : *v)
        sums[k] += x * double(batch);
      examples += batch;
    }
    // The last r < batch examples, exactly: fill the batch with copies of one
    // of them, and subtract what the copies contribute, measured on a batch
    // of nothing but that example. Valid for metrics that are means over
    // examples (loss, accuracy) of a stateless eval_step.
    int64_t r = eds.rows() - examples;
    if (r > 0 && evalStep.aliased.empty()) {
      std::vector<int64_t> mixed(order.begin() + examples, order.end());
      mixed.resize(size_t(batch), mixed.front());
      std::vector<int64_t> same(size_t(batch), mixed.front());
      std::vector<std::vector<uint8_t>> bm, bs;
      for (size_t c = 0; c < eds.columns().size(); ++c) {
        bm.emplace_back(eds.columns()[c].rowBytes() * size_t(batch));
        bs.emplace_back(eds.columns()[c].rowBytes() * size_t(batch));
        eds.gather(c, mixed.data(), mixed.size(), bm.back().data());
        eds.gather(c, same.data(), same.size(), bs.back().data());
      }
      auto vm = evalBatch(bm);
      if (!vm.ok())
        return vm.status();
      auto vs = evalBatch(bs);
      if (!vs.ok())
        return vs.status();
      for (auto &[k, x] : *vm)
        sums[k] += x * double(batch) - (*vs)[k] * double(batch - r);
      examples += r;
    }
    for (auto &[b, bytes] : keep)
      if (absl::Status s = session->write(b, bytes.data(), bytes.size()); !s.ok())
        return s;
    std::map<std::string, double> m;
    for (auto &[k, x] : sums)
      m[k] = x / double(std::max<int64_t>(examples, 1));
    m["examples"] = double(examples);
    return m;
  };

  gInterrupted = 0;
  auto oldInt = std::signal(SIGINT, onInterrupt);
  auto oldTerm = std::signal(SIGTERM, onInterrupt);
  struct Restore {
    void (*i)(int), (*t)(int);
    ~Restore() {
      std::signal(SIGINT, i);
      std::signal(SIGTERM, t);
    }
  } restore{oldInt, oldTerm};

  Means window, epochMeans;
  auto windowStart = Clock::now();
  auto lastBar = Clock::time_point{};
  while (globalStep < totalSteps) {
    if (position == 0)
      for (const Arg *a : modelState) {
        std::vector<uint8_t> zeros(session->size(a->name));
        if (absl::Status s = session->write(a->name, zeros.data(), zeros.size()); !s.ok())
          return s;
      }
    data::Batcher batcher(ds, batch, ds.order(o.seed, epoch, shuffle), position, o.pad, o.prefetch);
    while (globalStep < totalSteps) {
      auto b = batcher.next();
      if (!b)
        break;
      auto stepped = runBatch(*session, ds, b->buffers, "train_step", step.metrics);
      if (!stepped.ok())
        return stepped.status();
      std::map<std::string, double> &v = *stepped;
      if (!std::isfinite(v["loss"]))
        return absl::FailedPreconditionError(absl::StrCat(
            "the loss became ", v["loss"], " at step ", globalStep + 1,
            " (epoch ", epoch + 1, ", batch ", b->index + 1, "); try a smaller --lr"));
      window.add(v);
      epochMeans.add(v);
      ++globalStep;
      ++stepsThisRun;
      position = b->index + 1;
      bool epochEnd = position == perEpoch;

      auto now = Clock::now();
      double rate = double(stepsThisRun) / std::max(elapsed(), 1e-9);
      double eta = double(totalSteps - globalStep) / rate;
      if (globalStep % logEvery == 0 || epochEnd || globalStep == totalSteps) {
        double sec = std::chrono::duration<double>(now - windowStart).count();
        auto m = window.get();
        json j = {{"event", "train"}, {"step", globalStep}, {"epoch", epoch + 1},
                  {"examples_per_s", double(window.n * batch) / std::max(sec, 1e-9)},
                  {"time_s", priorSeconds + elapsed()}};
        for (auto &[k, x] : m)
          j[k] = x;
        metrics.write(j);
        if (mode == TrainOptions::Progress::Lines)
          std::fprintf(stderr, "step %lld/%lld  epoch %lld/%lld  %s  %.0f ex/s  ETA %s\n",
                       (long long)globalStep, (long long)totalSteps, (long long)epoch + 1,
                       (long long)totalEpochs, metricsText(m, step.metrics).c_str(),
                       double(window.n * batch) / std::max(sec, 1e-9), clockText(eta).c_str());
        window = Means();
        windowStart = now;
      }
      if (mode == TrainOptions::Progress::Bar &&
          (now - lastBar > std::chrono::milliseconds(100) || epochEnd)) {
        lastBar = now;
        int width = 24, filled = int(width * position / perEpoch);
        std::fprintf(stderr, "\r\033[Kepoch %lld/%lld [%s%s] %lld/%lld  %s  %.0f ex/s  ETA %s",
                     (long long)epoch + 1, (long long)totalEpochs, std::string(size_t(filled), '#').c_str(),
                     std::string(size_t(width - filled), '-').c_str(), (long long)position,
                     (long long)perEpoch, metricsText(epochMeans.get(), step.metrics).c_str(),
                     rate * double(batch), clockText(eta).c_str());
      }
      if (epochEnd) {
        if (mode == TrainOptions::Progress::Bar)
          std::fprintf(stderr, "\n");
        result.lastTrain = epochMeans.get();
        std::string line = absl::StrFormat("epoch %lld: train %s", (long long)epoch + 1,
                                           metricsText(result.lastTrain, step.metrics));
        if (eval) {
          auto em = runEval();
          if (!em.ok())
            return em.status();
          result.lastEval = *em;
          json j = {{"event", "eval"}, {"step", globalStep}, {"epoch", epoch + 1}};
          for (auto &[k, x] : *em)
            j[k] = x;
          metrics.write(j);
          absl::StrAppend(&line, absl::StrFormat(" | test %s (%lld examples)",
                                                 metricsText(*em, evalStep.metrics),
                                                 (long long)(*em)["examples"]));
        }
        std::fprintf(stderr, "%s  [%s]\n", line.c_str(), clockText(elapsed()).c_str());
        epochMeans = Means();
        ++epoch;
        position = 0;
      }
      bool due = o.checkpointEvery > 0 ? globalStep % o.checkpointEvery == 0 : epochEnd;
      if (due || globalStep == totalSteps || gInterrupted)
        if (absl::Status s = checkpoint(); !s.ok())
          return s;
      if (gInterrupted) {
        if (mode == TrainOptions::Progress::Bar)
          std::fprintf(stderr, "\n");
        return absl::CancelledError(absl::StrCat(
            "interrupted at step ", globalStep,
            o.checkpointDir.empty() ? std::string(" (no --checkpoint-dir: progress is lost)")
                                    : absl::StrCat("; saved ", result.lastCheckpoint,
                                                   ", continue with --resume")));
      }
    }
  }
  if (mode == TrainOptions::Progress::Bar && position != 0)
    std::fprintf(stderr, "\n");
  if (result.lastTrain.empty())
    result.lastTrain = epochMeans.get();
  result.steps = globalStep;
  result.epochs = epoch;
  result.stepsPerEpoch = perEpoch;
  result.seconds = elapsed();
  return result;
}

} // namespace tg
