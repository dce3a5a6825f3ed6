//===- tgc.cpp - the tgc command line: compile, run, inspect --------------===//
#include "codegen/cpu/Artifact.h"
#include "codegen/cpu/Passes.h"
#include "frontend/ModuleImpl.h"
#include "runtime/Checkpoint.h"
#include "runtime/Npy.h"
#include "runtime/Trainer.h"
#include "tg/Module.h"
#include "tg/Runtime.h"
#include "tools/Commands.h"

#include "mlir/Pass/PassManager.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/raw_ostream.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include <nlohmann/json.hpp>

#include <cctype>
#include <cmath>
#include <chrono>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

using json = nlohmann::json;

namespace {

using tg::tools::error;

const char *kUsage = R"(usage: tgc <command> [options]

Compiles tg dataflow graphs ahead of time and runs the artifacts.

commands:
  compile MODEL.tg.mlir   compile a model (with its training step) into a .tgx artifact
  run MODEL.tgx           run an entry point of an artifact on .npy inputs
  train MODEL.tgx         train an artifact on data files, with checkpoints and metrics
  inspect MODEL.tgx       print an artifact's manifest
  plot METRICS.jsonl      draw training curves (SVG or PNG)
  viz MODEL.tg.mlir       draw a model's graph (Graphviz)

'tgc <command> --help' describes each command.
)";

const char *kCompileUsage = R"(usage: tgc compile MODEL.tg.mlir [-o OUT] [--emit=PHASE] [--target-cpu=CPU] [--no-fusion]
                   [--opt-level=N] [--timing]

Compiles a tg module into one artifact (.tgx: a shared object with every entry
point and an embedded manifest). A module with a tg.train spec (Graph::minimize)
gets train_step, eval_step and predict first (tg-build-train-step).

  -o OUT             output file (default: MODEL.tgx, or stdout for text phases)
  --emit=PHASE       stop after a phase and write it:
                       tg        the input module
                       trained   after tg-build-train-step
                       fused     after tg-fuse-epilogues (matmul/conv + bias + activation)
                       linalg    lowered to linalg on tensors (fused)
                       bufferized  on buffers, in-place updates resolved
                       llvm      LLVM IR (optimized)
                       obj       the .tgx artifact (default)
  --target-cpu=CPU   native (default), x86-64, x86-64-v2, x86-64-v3, x86-64-v4, or an
                     LLVM CPU name; the artifact records the features it needs
  --no-fusion        keep every op its own loop nest (tg-fuse-elementwise off)
  --opt-level=N      LLVM optimization level 0-3 (default 3)
  --timing           print the time of each phase
)";

const char *kRunUsage = R"(usage: tgc run MODEL.tgx [--fn NAME] [--input NAME=FILE.npy ...] [--output DIR]
                    [--seed S] [--repeat N] [--checkpoint FILE.safetensors]

Creates a session (params and state from their initializers with the seed,
hypers at their defaults), binds the inputs, runs the entry point and writes
every result to DIR/<name>.npy.

  --fn NAME          entry point (default: predict, else the only one)
  --input NAME=FILE  a .npy file for argument NAME (dtype and shape must match)
  --output DIR       where results go (default: print a summary only)
  --seed S           initializer seed (default 0)
  --repeat N         run the entry point N times (a train step N steps)
  --checkpoint FILE  params (and state) from a tgc train checkpoint, matched by
                     name; dtypes and shapes must agree
)";

const char *kTrainUsage = R"(usage: tgc train MODEL.tgx --data SPEC [--data SPEC ...] [--eval-data SPEC ...]
                      [--epochs N | --steps N] [--lr LR] [--seed S]
                      [--checkpoint-dir DIR] [--checkpoint-every N] [--keep K] [--resume]
                      [--metrics FILE] [--pad] [--no-shuffle] [--prefetch N] [--reset-state=M]
                      [--progress=auto|bar|lines|none] [--log-every N]

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
  --prefetch N       batches prepared ahead on a background thread (default 2)
  --reset-state=M    zero the recurrent state (predict's state arguments) at
                     each epoch start: epoch, never, or auto (text streams only)

checkpoints (safetensors: params and optimizer state, written atomically):
  --checkpoint-dir DIR  where DIR/ckpt-<step>.safetensors go; metrics default
                        to DIR/metrics.jsonl
  --checkpoint-every N  every N steps (default: at each epoch end) and at the end
  --keep K           keep the newest K checkpoints (default 3)
  --resume           continue from the newest checkpoint in DIR, exactly

output:
  --metrics FILE     JSON lines: train (every --log-every steps), eval, checkpoint
  --progress=MODE    bar on a terminal, lines otherwise (auto); none
  --log-every N      steps between metric lines (default: a tenth of an epoch)

Ctrl-C stops after the current step and saves a checkpoint (with --checkpoint-dir).
)";

const char *kInspectUsage = R"(usage: tgc inspect MODEL.tgx [--json]

Prints the artifact's manifest: format version, target CPU and features, the
training spec, and every entry point with its buffers (name, role, dtype,
shape, initializer, in-place aliasing). --json prints the raw manifest.
)";

bool takeValue(int &i, int argc, char **argv, const std::string &flag, std::string &out) {
  std::string a = argv[i];
  if (a.rfind(flag + "=", 0) == 0) {
    out = a.substr(flag.size() + 1);
    return true;
  }
  if (a == flag) {
    if (i + 1 >= argc) {
      error(flag + " needs a value");
      std::exit(1);
    }
    out = argv[++i];
    return true;
  }
  return false;
}

std::string shapeString(const json &shape) {
  std::vector<std::string> dims;
  for (const json &d : shape)
    dims.push_back(std::to_string(d.get<int64_t>()));
  return "[" + absl::StrJoin(dims, ", ") + "]";
}

//===----------------------------------------------------------------------===//
// compile
//===----------------------------------------------------------------------===//

int compile(int argc, char **argv) {
  std::string input, output, emit = "obj";
  tg::ArtifactOptions options;
  bool timing = false;
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i], v;
    if (a == "-h" || a == "--help") {
      std::printf("%s", kCompileUsage);
      return 0;
    }
    if (takeValue(i, argc, argv, "-o", output))
      continue;
    if (takeValue(i, argc, argv, "--emit", emit))
      continue;
    if (takeValue(i, argc, argv, "--target-cpu", options.targetCpu))
      continue;
    if (a == "--timing") {
      timing = true;
      continue;
    }
    if (a == "--no-fusion") {
      options.fusion = false;
      continue;
    }
    std::string level;
    if (takeValue(i, argc, argv, "--opt-level", level)) {
      if (level.size() != 1 || level[0] < '0' || level[0] > '3')
        return error("compile: --opt-level needs 0, 1, 2 or 3, got '" + level + "'");
      options.optLevel = level[0] - '0';
      continue;
    }
    if (!a.empty() && a[0] == '-')
      return error("compile: unknown option '" + a + "' (see tgc compile --help)");
    if (!input.empty())
      return error("compile: more than one input file ('" + input + "', '" + a + "')");
    input = a;
  }
  if (input.empty())
    return error("compile: no input file (see tgc compile --help)");
  static const char *phases[] = {"tg", "trained", "fused", "linalg", "bufferized", "llvm", "obj"};
  if (std::find(std::begin(phases), std::end(phases), emit) == std::end(phases))
    return error("compile: unknown --emit=" + emit +
                 " (tg, trained, fused, linalg, bufferized, llvm, obj)");
  bool text = emit != "obj";
  if (output.empty() && !text) {
    output = input;
    for (const char *ext : {".tg.mlir", ".mlir"})
      if (output.size() > strlen(ext) && output.compare(output.size() - strlen(ext), strlen(ext), ext) == 0) {
        output.resize(output.size() - strlen(ext));
        break;
      }
    output += ".tgx";
  }

  std::vector<std::pair<std::string, double>> timings;
  auto t0 = std::chrono::steady_clock::now();
  auto module = tg::Module::load(input);
  if (!module.ok())
    return error(std::string(module.status().message()));
  timings.push_back({"parse and verify",
                     std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()});
  auto write = [&](const std::string &s) -> int {
    if (output.empty() || output == "-") {
      std::fwrite(s.data(), 1, s.size(), stdout);
      return 0;
    }
    std::error_code ec;
    llvm::raw_fd_ostream os(output, ec);
    if (ec)
      return error("cannot write '" + output + "': " + ec.message());
    os << s;
    return 0;
  };
  if (emit == "tg")
    return write(module->str());

  mlir::ModuleOp m = *module->impl().module;
  bool hasTrain = m->hasAttr("tg.train");
  bool built = false;
  for (auto fn : m.getOps<mlir::func::FuncOp>())
    built = built || fn.getSymName() == "train_step";
  if (hasTrain && !built) {
    t0 = std::chrono::steady_clock::now();
    auto trained = module->transform("tg-build-train-step");
    if (!trained.ok())
      return error(std::string(trained.status().message()));
    module = std::move(trained);
    timings.push_back({"tg-build-train-step",
                       std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()});
  }
  if (emit == "trained")
    return write(module->str());
  m = *module->impl().module;
  {
    mlir::DialectRegistry registry;
    tg::registerCpuCodegen(registry);
    m.getContext()->appendDialectRegistry(registry);
    m.getContext()->loadAllAvailableDialects();
  }
  if (emit == "fused" || emit == "linalg" || emit == "bufferized") {
    mlir::PassManager pm(m.getContext(), mlir::ModuleOp::getOperationName());
    tg::CpuPipelineOptions po;
    po.stopAfter = emit;
    po.fusion = options.fusion;
    tg::buildCpuPipeline(pm, po);
    if (mlir::failed(pm.run(m)))
      return error("compile: lowering '" + input + "' failed");
    std::string s;
    llvm::raw_string_ostream os(s);
    m.print(os);
    return write(s);
  }
  options.emit = emit;
  options.timings = &timings;
  if (emit == "llvm" && (output.empty() || output == "-"))
    output = "/dev/stdout";
  absl::Status s = tg::writeArtifact(m, options, output);
  if (!s.ok())
    return error(std::string(s.message()));
  if (timing) {
    double total = 0;
    for (auto &[phase, sec] : timings)
      total += sec;
    std::fprintf(stderr, "tgc compile timing (%s):\n", input.c_str());
    for (auto &[phase, sec] : timings)
      std::fprintf(stderr, "  %-24s %8.3f s\n", phase.c_str(), sec);
    std::fprintf(stderr, "  %-24s %8.3f s\n", "total", total);
  }
  if (emit == "obj")
    std::fprintf(stderr, "tgc: wrote %s\n", output.c_str());
  return 0;
}

//===----------------------------------------------------------------------===//
// run
//===----------------------------------------------------------------------===//

struct ManifestEntry {
  std::string name;
  json args, results;
};

std::vector<ManifestEntry> entriesOf(const json &manifest) {
  std::vector<ManifestEntry> out;
  for (const json &e : manifest["entries"])
    out.push_back({e["name"].get<std::string>(), e["args"], e["results"]});
  return out;
}

int run(int argc, char **argv) {
  std::string path, fn, outputDir, seedText = "0", repeatText = "1", checkpoint;
  std::vector<std::pair<std::string, std::string>> inputs;
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i], v;
    if (a == "-h" || a == "--help") {
      std::printf("%s", kRunUsage);
      return 0;
    }
    if (takeValue(i, argc, argv, "--fn", fn) || takeValue(i, argc, argv, "--output", outputDir) ||
        takeValue(i, argc, argv, "--seed", seedText) ||
        takeValue(i, argc, argv, "--repeat", repeatText) ||
        takeValue(i, argc, argv, "--checkpoint", checkpoint))
      continue;
    if (takeValue(i, argc, argv, "--input", v)) {
      size_t eq = v.find('=');
      if (eq == std::string::npos || eq == 0 || eq + 1 == v.size())
        return error("run: --input needs NAME=FILE.npy, got '" + v + "'");
      inputs.push_back({v.substr(0, eq), v.substr(eq + 1)});
      continue;
    }
    if (!a.empty() && a[0] == '-')
      return error("run: unknown option '" + a + "' (see tgc run --help)");
    if (!path.empty())
      return error("run: more than one artifact ('" + path + "', '" + a + "')");
    path = a;
  }
  if (path.empty())
    return error("run: no artifact (see tgc run --help)");
  char *end = nullptr;
  unsigned long long seed = std::strtoull(seedText.c_str(), &end, 10);
  if (seedText.empty() || *end || !std::isdigit(static_cast<unsigned char>(seedText[0])))
    return error("run: --seed needs a non-negative integer, got '" + seedText + "'");
  long repeat = std::strtol(repeatText.c_str(), &end, 10);
  if (repeatText.empty() || *end || repeat < 1)
    return error("run: --repeat needs an integer >= 1, got '" + repeatText + "'");

  auto artifact = tg::rt::Artifact::open(path);
  if (!artifact.ok())
    return error(std::string(artifact.status().message()));
  json manifest = json::parse(artifact->manifest());
  auto entries = entriesOf(manifest);
  if (fn.empty()) {
    for (auto &e : entries)
      if (e.name == "predict")
        fn = e.name;
    if (fn.empty() && entries.size() == 1)
      fn = entries[0].name;
    if (fn.empty())
      return error("run: '" + path + "' has several entry points; choose one with --fn");
  }
  const ManifestEntry *entry = nullptr;
  for (auto &e : entries)
    if (e.name == fn)
      entry = &e;
  if (!entry) {
    std::vector<std::string> names;
    for (auto &e : entries)
      names.push_back(e.name);
    return error("run: no entry point '" + fn + "' in '" + path + "' (it has: " +
                 absl::StrJoin(names, ", ") + ")");
  }
  auto session = tg::rt::Session::create(*artifact, seed);
  if (!session.ok())
    return error(std::string(session.status().message()));
  if (!checkpoint.empty()) {
    // Trained params (and state) by name; the entry's own buffers must all be there.
    auto ck = tg::readSafetensors(checkpoint);
    if (!ck.ok())
      return error(std::string(ck.status().message()));
    int loaded = 0;
    for (const json &a : entry->args) {
      std::string role = a.value("role", ""), name = a["name"].get<std::string>();
      if (role != "param" && role != "state")
        continue;
      const tg::NamedTensor *t = ck->find(name);
      if (!t) {
        if (role == "param")
          return error("run: checkpoint '" + checkpoint + "' has no param '" + name + "'");
        continue; // a state the checkpoint lacks keeps its initial value
      }
      if (t->dtype != a["dtype"].get<std::string>() || t->shape != a["shape"].get<std::vector<int64_t>>())
        return error("run: checkpoint '" + checkpoint + "': '" + name + "' is " + t->dtype + " " +
                     shapeString(json(t->shape)) + ", the artifact's is " +
                     a["dtype"].get<std::string>() + " " + shapeString(a["shape"]));
      if (absl::Status s = session->write(name, t->bytes.data(), t->bytes.size()); !s.ok())
        return error(std::string(s.message()));
      ++loaded;
    }
    std::printf("loaded %d tensors from %s\n", loaded, checkpoint.c_str());
  }
  for (auto &[name, file] : inputs) {
    const json *spec = nullptr;
    for (const json &a : entry->args)
      if (a["name"] == name)
        spec = &a;
    if (!spec)
      return error("run: '" + fn + "' has no argument named '" + name + "'");
    auto array = tg::readNpy(file);
    if (!array.ok())
      return error(std::string(array.status().message()));
    std::vector<int64_t> shape = (*spec)["shape"].get<std::vector<int64_t>>();
    std::string dtype = (*spec)["dtype"].get<std::string>();
    if (array->dtype != dtype || array->shape != shape)
      return error("run: '" + file + "' holds " + array->dtype + " " +
                   shapeString(json(array->shape)) + ", but argument '" + name + "' of '" + fn +
                   "' is " + dtype + " " + shapeString((*spec)["shape"]));
    if (absl::Status s = session->write(name, array->bytes.data(), array->bytes.size()); !s.ok())
      return error(std::string(s.message()));
  }
  auto t0 = std::chrono::steady_clock::now();
  for (long r = 0; r < repeat; ++r)
    if (absl::Status s = session->run(fn); !s.ok())
      return error(std::string(s.message()));
  double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("ran %s %ld time(s) in %.3f ms (%.3f ms each)\n", fn.c_str(), repeat, sec * 1e3,
              sec * 1e3 / double(repeat));
  if (!outputDir.empty()) {
    if (std::error_code ec = llvm::sys::fs::create_directories(outputDir))
      return error("run: cannot create '" + outputDir + "': " + ec.message());
  }
  for (const json &r : entry->results) {
    std::string name = r["name"].get<std::string>();
    std::string dtype = r["dtype"].get<std::string>();
    // A result updated in place lives in its argument's buffer.
    std::string buffer = r.contains("alias") ? entry->args[r["alias"].get<size_t>()]["name"].get<std::string>() : name;
    tg::NpyArray a{dtype, r["shape"].get<std::vector<int64_t>>(), {}};
    a.bytes.resize(session->size(buffer));
    if (absl::Status s = session->read(buffer, a.bytes.data(), a.bytes.size()); !s.ok())
      return error(std::string(s.message()));
    if (a.shape.empty() && dtype == "f32") {
      float v;
      std::memcpy(&v, a.bytes.data(), 4);
      std::printf("  %s = %g\n", name.c_str(), double(v));
    } else {
      std::printf("  %s: %s %s\n", name.c_str(), dtype.c_str(), shapeString(r["shape"]).c_str());
    }
    if (!outputDir.empty())
      if (absl::Status s = tg::writeNpy(outputDir + "/" + name + ".npy", a); !s.ok())
        return error(std::string(s.message()));
  }
  return 0;
}

//===----------------------------------------------------------------------===//
// train
//===----------------------------------------------------------------------===//

bool parseCount(const std::string &flag, const std::string &text, int64_t min, int64_t &out) {
  char *end = nullptr;
  long long v = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end || v < min) {
    error("train: " + flag + " needs an integer >= " + std::to_string(min) + ", got '" + text + "'");
    return false;
  }
  out = v;
  return true;
}

int train(int argc, char **argv) {
  tg::TrainOptions o;
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i], v;
    if (a == "-h" || a == "--help") {
      std::printf("%s", kTrainUsage);
      return 0;
    }
    int64_t n = 0;
    if (takeValue(i, argc, argv, "--data", v)) {
      o.data.push_back(v);
    } else if (takeValue(i, argc, argv, "--eval-data", v)) {
      o.evalData.push_back(v);
    } else if (takeValue(i, argc, argv, "--epochs", v)) {
      if (!parseCount("--epochs", v, 1, o.epochs))
        return 1;
    } else if (takeValue(i, argc, argv, "--steps", v)) {
      if (!parseCount("--steps", v, 1, o.steps))
        return 1;
    } else if (takeValue(i, argc, argv, "--seed", v)) {
      if (!parseCount("--seed", v, 0, n))
        return 1;
      o.seed = uint64_t(n);
    } else if (takeValue(i, argc, argv, "--lr", v)) {
      char *end = nullptr;
      double lr = std::strtod(v.c_str(), &end);
      if (v.empty() || *end || !(lr > 0) || !std::isfinite(lr))
        return error("train: --lr needs a positive number, got '" + v + "'");
      o.lr = lr;
    } else if (takeValue(i, argc, argv, "--checkpoint-dir", o.checkpointDir)) {
    } else if (takeValue(i, argc, argv, "--checkpoint-every", v)) {
      if (!parseCount("--checkpoint-every", v, 1, o.checkpointEvery))
        return 1;
    } else if (takeValue(i, argc, argv, "--keep", v)) {
      if (!parseCount("--keep", v, 1, n))
        return 1;
      o.keepCheckpoints = int(n);
    } else if (takeValue(i, argc, argv, "--prefetch", v)) {
      if (!parseCount("--prefetch", v, 1, n))
        return 1;
      o.prefetch = int(n);
    } else if (takeValue(i, argc, argv, "--log-every", v)) {
      if (!parseCount("--log-every", v, 1, o.logEvery))
        return 1;
    } else if (takeValue(i, argc, argv, "--metrics", o.metricsPath)) {
    } else if (takeValue(i, argc, argv, "--reset-state", v)) {
      using R = tg::TrainOptions::ResetState;
      static const std::map<std::string, R> modes = {
          {"auto", R::Auto}, {"epoch", R::Epoch}, {"never", R::Never}};
      if (!modes.count(v))
        return error("train: --reset-state needs auto, epoch or never, got '" + v + "'");
      o.resetState = modes.at(v);
    } else if (takeValue(i, argc, argv, "--progress", v)) {
      using P = tg::TrainOptions::Progress;
      static const std::map<std::string, P> modes = {
          {"auto", P::Auto}, {"bar", P::Bar}, {"lines", P::Lines}, {"none", P::None}};
      if (!modes.count(v))
        return error("train: --progress needs auto, bar, lines or none, got '" + v + "'");
      o.progress = modes.at(v);
    } else if (a == "--resume") {
      o.resume = true;
    } else if (a == "--pad") {
      o.pad = true;
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
  if (o.artifact.empty())
    return error("train: no artifact (see tgc train --help)");
  if (o.resume && o.checkpointDir.empty())
    return error("train: --resume needs --checkpoint-dir");
  auto r = tg::train(o);
  if (!r.ok()) {
    error("train: " + std::string(r.status().message()));
    return r.status().code() == absl::StatusCode::kCancelled ? 130 : 1;
  }
  auto fmt = [](const std::map<std::string, double> &m) {
    std::vector<std::string> parts;
    if (m.count("loss"))
      parts.push_back(absl::StrFormat("loss %.4f", m.at("loss")));
    for (auto &[k, v] : m)
      if (k != "examples" && k != "loss")
        parts.push_back(absl::StrFormat("%s %.4f", k, v));
    return absl::StrJoin(parts, ", ");
  };
  std::printf("trained %lld steps (%.3g epochs) in %.1f s: train %s\n", (long long)r->steps,
              double(r->steps) / double(r->stepsPerEpoch), r->seconds, fmt(r->lastTrain).c_str());
  if (!r->lastEval.empty())
    std::printf("test %s (%lld examples)\n", fmt(r->lastEval).c_str(),
                (long long)r->lastEval.at("examples"));
  if (!r->lastCheckpoint.empty())
    std::printf("checkpoint: %s\n", r->lastCheckpoint.c_str());
  return 0;
}

//===----------------------------------------------------------------------===//
// inspect
//===----------------------------------------------------------------------===//

int inspect(int argc, char **argv) {
  std::string path;
  bool raw = false;
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "-h" || a == "--help") {
      std::printf("%s", kInspectUsage);
      return 0;
    }
    if (a == "--json") {
      raw = true;
      continue;
    }
    if (!a.empty() && a[0] == '-')
      return error("inspect: unknown option '" + a + "' (see tgc inspect --help)");
    path = a;
  }
  if (path.empty())
    return error("inspect: no artifact (see tgc inspect --help)");
  auto artifact = tg::rt::Artifact::open(path);
  if (!artifact.ok())
    return error(std::string(artifact.status().message()));
  if (raw) {
    std::printf("%s\n", artifact->manifest().c_str());
    return 0;
  }
  json m = json::parse(artifact->manifest());
  std::printf("%s: tgx format %d, %s\n", path.c_str(), m["version"].get<int>(),
              m["compiler"].get<std::string>().c_str());
  std::vector<std::string> features = m["target"]["features"].get<std::vector<std::string>>();
  std::printf("target: %s, cpu %s, needs %s\n", m["target"]["triple"].get<std::string>().c_str(),
              m["target"]["cpu"].get<std::string>().c_str(),
              features.empty() ? "no optional features" : absl::StrJoin(features, " ").c_str());
  if (m.contains("train"))
    std::printf("training: %s\n", m["train"].dump().c_str());
  for (const json &e : m["entries"]) {
    std::printf("\nentry %s (%s)\n", e["name"].get<std::string>().c_str(),
                e["kind"].get<std::string>().c_str());
    for (const json &a : e["args"]) {
      std::string extra;
      if (a.contains("init"))
        extra = "  init " + a["init"].dump();
      if (a.contains("default"))
        extra = "  default " + a["default"].dump();
      std::printf("  in   %-28s %-6s %-7s %-16s%s\n", a["name"].get<std::string>().c_str(),
                  a.value("role", "").c_str(), a["dtype"].get<std::string>().c_str(),
                  shapeString(a["shape"]).c_str(), extra.c_str());
    }
    for (const json &r : e["results"]) {
      std::string extra;
      if (r.contains("alias"))
        extra = "  in place of " + e["args"][r["alias"].get<size_t>()]["name"].get<std::string>();
      std::printf("  out  %-28s %-6s %-7s %-16s%s\n", r["name"].get<std::string>().c_str(), "",
                  r["dtype"].get<std::string>().c_str(), shapeString(r["shape"]).c_str(),
                  extra.c_str());
    }
  }
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  if (argc < 2 || std::string(argv[1]) == "-h" || std::string(argv[1]) == "--help") {
    std::printf("%s", kUsage);
    return argc < 2 ? 1 : 0;
  }
  std::string command = argv[1];
  if (command == "compile")
    return compile(argc, argv);
  if (command == "run")
    return run(argc, argv);
  if (command == "inspect")
    return inspect(argc, argv);
  if (command == "train")
    return train(argc, argv);
  if (command == "plot")
    return tg::tools::plotCommand(argc, argv);
  if (command == "viz")
    return tg::tools::vizCommand(argc, argv);
  return error("unknown command '" + command + "' (compile, run, train, inspect, plot, viz; see tgc --help)");
}
