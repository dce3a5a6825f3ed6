//===- StepCheck.cpp - tg-step-check: N train steps, saved or compared ----===//
//
// Runs an artifact's train_step N times on deterministic synthetic data and
// either writes the losses and final parameters (--out DIR) or compares them
// with a directory written before (--compare DIR). Made for GPU machines that
// have a driver but no MLIR or oneDNN: it needs only libtgrt (and
// libtgrt_cuda), so scripts/gpu-bundle.sh ships it with CUDA artifacts and
// references computed here by the CPU artifacts of the same models.
//
// Exit codes: 0 match/written, 1 mismatch or error, 77 the artifact cannot
// run on this machine (no GPU, driver or device runtime: a skip).
//
//===----------------------------------------------------------------------===//
#include "comm/Communicator.h"
#include "support/Manifest.h"
#include "tests/gpu/ToolUtil.h"
#include "tg/tg_runtime.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

namespace {

const char *kUsage =
    R"(usage: tg-step-check MODEL.tgx [--steps N] [--seed S] [--classes K]
                     (--out DIR | --compare DIR [--rtol R] [--atol A] [--norm T]
                      [--loss-only]) [--time N] [--memory]

Runs train_step N times (default 5) on synthetic data (floats in [0, 1),
labels in [0, K), K default 10, from a fixed generator) and writes DIR/loss.txt,
DIR/<param>.bin (after the steps) and DIR/<param>.delta.bin (what the steps
changed), or compares with them:
  default      every loss and parameter within atol + rtol |want|
  --norm T     each step's loss within relative error T, and each
               parameter's change within relative L2 norm T (after one SGD
               step the change is -lr times the gradient)
  --loss-only  the losses only (--rtol, --atol)
--time N then runs N more steps on the last batch and prints the median
train_step time. --memory prints the peak resident memory the session and
its steps added to the loaded artifact (Linux: VmHWM, reset before the
session). Exit 77: cannot run here (skip).
)";

int fail(const std::string &m) {
  std::fprintf(stderr, "tg-step-check: %s\n", m.c_str());
  return 1;
}

uint64_t next(uint64_t &s) { // splitmix64
  uint64_t z = (s += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

std::vector<char> synthetic(const tg::BufferSpec &b, uint64_t seed, int64_t classes) {
  size_t n = size_t(b.numElements());
  std::vector<char> bytes(b.byteSize());
  uint64_t s = seed;
  for (size_t i = 0; i < n; ++i) {
    uint64_t r = next(s);
    switch (b.dtype) {
    case tg::DType::f32:
      reinterpret_cast<float *>(bytes.data())[i] = float(r >> 40) / float(1 << 24);
      break;
    case tg::DType::i32:
      reinterpret_cast<int32_t *>(bytes.data())[i] = int32_t(r % uint64_t(classes));
      break;
    case tg::DType::i64:
      reinterpret_cast<int64_t *>(bytes.data())[i] = int64_t(r % uint64_t(classes));
      break;
    default:
      break;
    }
  }
  return bytes;
}

using tg::gpucheck::readFile;

/// A "VmRSS:"-style field of /proc/self/status, in KiB (0 if absent).
int64_t statusKib(const std::string &field) {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind(field + ":", 0) == 0)
      return std::atoll(line.c_str() + field.size() + 1);
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  std::string model, out, compare;
  int steps = 5;
  uint64_t seed = 1;
  int64_t classes = 10;
  double rtol = 1e-3, atol = 1e-5, norm = 0;
  bool lossOnly = false, memory = false;
  int timeSteps = 0;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "tg-step-check: %s needs a value\n", a.c_str());
        std::exit(1);
      }
      return argv[++i];
    };
    if (a == "-h" || a == "--help") {
      std::printf("%s", kUsage);
      return 0;
    } else if (a == "--steps") {
      steps = std::atoi(value().c_str());
    } else if (a == "--seed") {
      seed = std::strtoull(value().c_str(), nullptr, 10);
    } else if (a == "--classes") {
      classes = std::atoll(value().c_str());
    } else if (a == "--out") {
      out = value();
    } else if (a == "--compare") {
      compare = value();
    } else if (a == "--rtol") {
      rtol = std::atof(value().c_str());
    } else if (a == "--atol") {
      atol = std::atof(value().c_str());
    } else if (a == "--norm") {
      norm = std::atof(value().c_str());
      if (!(norm > 0))
        return fail("--norm needs a positive tolerance");
    } else if (a == "--loss-only") {
      lossOnly = true;
    } else if (a == "--memory") {
      memory = true;
    } else if (a == "--time") {
      timeSteps = std::atoi(value().c_str());
      if (timeSteps < 1)
        return fail("--time needs a positive number of steps");
    } else if (!a.empty() && a[0] == '-') {
      return fail("unknown option '" + a + "'\n" + kUsage);
    } else {
      model = a;
    }
  }
  if (model.empty() || out.empty() == compare.empty() || steps < 1 || classes < 1)
    return fail(std::string("bad arguments\n") + kUsage);

  auto opened = tg::gpucheck::openArtifact(model);
  if (!opened.ok())
    return fail(std::string(opened.status().message()));
  tg_artifact *artifact = opened->artifact.get();
  const tg::Manifest *manifest = &opened->manifest;
  const tg::EntrySpec *step = manifest->findEntry("train_step");
  if (!step)
    return fail(model + " has no train_step");
  // From here: parameters, optimizer state, temporaries, library caches.
  int64_t baseKib = 0;
  if (memory) {
    baseKib = statusKib("VmRSS");
    std::ofstream("/proc/self/clear_refs") << "5"; // VmHWM := the current RSS
  }
  tg_session *session = nullptr;
  if (tg_status st = tg_session_create(artifact, seed, &session); st != TG_OK) {
    std::printf("SKIP: %s\n", tg_last_error());
    return st == TG_FAILED_PRECONDITION ? 77 : 1;
  }
  std::unique_ptr<tg_session, void (*)(tg_session *)> sessionOwner(session, tg_session_destroy);
  // A data-parallel artifact as one rank: on a GPU its collectives then run
  // through NCCL with one rank, whose mean is the identity.
  std::unique_ptr<tg::dist::Communicator> comm;
  if (manifest->dataParallel.mode != "none") {
    comm = tg::dist::createSingleProcessCommunicator();
    if (tg_status st = tg_session_set_communicator(session, comm.get()); st != TG_OK) {
      std::printf("%s: %s\n", st == TG_FAILED_PRECONDITION ? "SKIP" : "ERROR", tg_last_error());
      return st == TG_FAILED_PRECONDITION ? 77 : 1;
    }
  }
  // The f32 parameters before the first step, for what the steps change.
  std::vector<const tg::BufferSpec *> params;
  std::vector<std::vector<float>> initial;
  for (const tg::BufferSpec &b : step->args) {
    if (b.role != tg::Role::Param || b.dtype != tg::DType::f32)
      continue;
    params.push_back(&b);
    initial.emplace_back(size_t(b.numElements()));
    if (tg_session_read(session, b.name.c_str(), initial.back().data(),
                        initial.back().size() * 4) != TG_OK)
      return fail(tg_last_error());
  }
  std::vector<double> losses;
  for (int s = 0; s < steps; ++s) {
    for (const tg::BufferSpec &b : step->args)
      if (b.role == tg::Role::Data || b.role == tg::Role::Label) {
        std::vector<char> bytes = synthetic(
            b, seed * 1000003u + uint64_t(s) * 7919u + std::hash<std::string>()(b.name) % 997,
            classes);
        if (tg_session_write(session, b.name.c_str(), bytes.data(), bytes.size()) != TG_OK)
          return fail(tg_last_error());
      }
    if (tg_session_run(session, "train_step") != TG_OK)
      return fail(tg_last_error());
    float loss = 0;
    if (tg_session_read(session, "loss", &loss, sizeof loss) != TG_OK)
      return fail(tg_last_error());
    losses.push_back(loss);
  }
  int bad = 0;
  double worstNorm = 0;
  auto check = [&](const std::string &what, double got, double want) {
    double err = std::fabs(got - want);
    bool ok = norm > 0 ? err <= norm * std::fabs(want) : err <= atol + rtol * std::fabs(want);
    if (!ok) {
      if (bad++ < 10)
        std::printf("MISMATCH %s: got %.9g, want %.9g\n", what.c_str(), got, want);
    }
  };
  std::string lossText;
  for (double l : losses) {
    char line[64];
    std::snprintf(line, sizeof line, "%.17g\n", l); // exact, for --rtol 0 --atol 0
    lossText += line;
  }
  if (!out.empty()) {
    std::ofstream(out + "/loss.txt") << lossText;
  } else {
    std::string want;
    if (!readFile(compare + "/loss.txt", want))
      return fail("cannot read " + compare + "/loss.txt");
    std::istringstream is(want);
    for (size_t i = 0; i < losses.size(); ++i) {
      double w = 0;
      if (!(is >> w))
        return fail(compare + "/loss.txt has fewer than " + std::to_string(steps) + " steps");
      check("loss at step " + std::to_string(i), losses[i], w);
    }
  }
  for (size_t k = 0; k < params.size() && !lossOnly; ++k) {
    const tg::BufferSpec &b = *params[k];
    std::vector<float> v(size_t(b.numElements())), delta(v.size());
    if (tg_session_read(session, b.name.c_str(), v.data(), v.size() * 4) != TG_OK)
      return fail(tg_last_error());
    for (size_t i = 0; i < v.size(); ++i)
      delta[i] = v[i] - initial[k][i];
    std::string base = (out.empty() ? compare : out) + "/" + b.name;
    if (!out.empty()) {
      std::ofstream(base + ".bin", std::ios::binary)
          .write(reinterpret_cast<const char *>(v.data()), std::streamsize(v.size() * 4));
      std::ofstream(base + ".delta.bin", std::ios::binary)
          .write(reinterpret_cast<const char *>(delta.data()), std::streamsize(v.size() * 4));
      continue;
    }
    std::string path = base + (norm > 0 ? ".delta.bin" : ".bin"), want;
    if (!readFile(path, want) || want.size() != v.size() * 4)
      return fail("cannot read " + path + " (or its size differs)");
    const float *w = reinterpret_cast<const float *>(want.data());
    if (norm > 0) { // ||got - want|| / ||want|| of the change
      double diff = 0, ref = 0;
      for (size_t i = 0; i < v.size(); ++i) {
        diff += (double(delta[i]) - w[i]) * (double(delta[i]) - w[i]);
        ref += double(w[i]) * w[i];
      }
      double rel = ref > 0 ? std::sqrt(diff / ref) : std::sqrt(diff);
      worstNorm = std::max(worstNorm, rel);
      if (!(rel <= norm) && bad++ < 10)
        std::printf("MISMATCH %s: change off by %.3g in relative norm\n", b.name.c_str(), rel);
      continue;
    }
    for (size_t i = 0; i < v.size(); ++i)
      check(b.name + "[" + std::to_string(i) + "]", v[i], w[i]);
  }
  // Then the median time of `timeSteps` more steps on the last batch (the device
  // finishes each step before tg_session_run returns).
  double medianMs = 0;
  std::vector<double> times;
  for (int s = 0; s < timeSteps; ++s) {
    auto t0 = std::chrono::steady_clock::now();
    if (tg_session_run(session, "train_step") != TG_OK)
      return fail(tg_last_error());
    times.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    if (s + 1 == timeSteps) {
      std::sort(times.begin(), times.end());
      medianMs = times[times.size() / 2];
    }
  }
  std::string verdict;
  if (out.empty())
    verdict = bad ? ", " + std::to_string(bad) + " MISMATCHES" : ", all within tolerance";
  if (out.empty() && norm > 0 && !lossOnly) {
    char worst[64];
    std::snprintf(worst, sizeof worst, " (worst change %.2g in relative norm)", worstNorm);
    verdict += worst;
  }
  std::printf("%s %s: %d steps, final loss %.6g, %zu params%s%s\n",
              out.empty() ? "compared" : "wrote", model.c_str(), steps, losses.back(),
              lossOnly ? size_t(0) : params.size(), lossOnly ? " (losses only)" : "",
              verdict.c_str());
  if (timeSteps > 0)
    std::printf("time %s: train step median %.3f ms over %d steps\n", model.c_str(), medianMs,
                timeSteps);
  if (memory)
    std::printf("memory %s: peak %.1f MiB above the loaded artifact\n", model.c_str(),
                double(statusKib("VmHWM") - baseKib) / 1024);
  return bad ? 1 : 0;
}
