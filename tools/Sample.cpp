//===- Sample.cpp - tgc sample: text from a trained character model -----===//
//
// Loads an artifact of a character model, puts the trained params from a
// `tgc train` checkpoint into it, and generates text one character at a time
// from its predict entry's "logits" (row 0 of the batch). Two kinds of model:
//  - recurrent (tg-example char-lstm --batch 1 --steps 1): "chars" is [1, 1]
//    and predict carries the state in place;
//  - windowed (a causal model such as tg-example char-gpt; the training
//    artifact itself, or the model at --batch 1, which runs B times less):
//    "chars" is [B, T]; the last T characters go in left-aligned and the
//    logits of the last one's position are the next character's (a causal
//    model does not look at the padding after it).
// The vocabulary is the checkpoint's (a byte-level model's: the 256 bytes);
// a checkpoint without one (params from elsewhere) of a 256-class model is
// read as bytes.
//
//===----------------------------------------------------------------------===//
#include "tools/Commands.h"
#include "train/ParamFiles.h"

#include "support/Manifest.h"
#include "tg/Checkpoint.h"
#include "tg/Runtime.h"

#include "absl/status/status.h"
#include "absl/strings/numbers.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <functional>
#include <cstring>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

namespace tg {
namespace tools {
namespace {

const char *kUsage =
    "usage: tgc sample MODEL.tgx CHECKPOINT.safetensors [--length N] [--temperature T]\n"
    "                  [--top-k K] [--seed S] [--prime TEXT] [--score FILE]\n"
    "\n"
    "Writes text from a character model trained by tgc train on a text file: the\n"
    "checkpoint's params go into the artifact's session, and predict's \"logits\"\n"
    "give the next character, one at a time.\n"
    "\n"
    "  MODEL.tgx     the trained model, compiled with tgc compile: a causal windowed\n"
    "                model (tg-example char-gpt) as trained, or at --batch 1 (faster);\n"
    "                a recurrent one at --batch 1 --steps 1 (tg-example char-lstm\n"
    "                --batch 1 --steps 1 + the trained --hidden/--vocab)\n"
    "  CHECKPOINT    a checkpoint of `tgc train` on a text file (holds the vocabulary;\n"
    "                without one, a model of 256 classes reads bytes)\n"
    "  --length N    characters to generate (default 400)\n"
    "  --temperature T  softmax temperature (default 0.8; lower is more conservative)\n"
    "  --top-k K     sample among the K likeliest characters only (default 0: all)\n"
    "  --seed S      sampling seed (default 0)\n"
    "  --prime TEXT  text fed first (default: a newline)\n"
    "  --score FILE  instead of sampling, print the model's mean loss (nats per character)\n"
    "                on the first --length characters of FILE after --prime\n";

/// A number from the whole of `text` (an integer exactly, for an integral
/// T), or an error naming the flag.
template <typename T>
absl::Status parseNumber(const std::string &flag, const std::string &text, T &out) {
  if constexpr (std::is_integral_v<T>) {
    if (!absl::SimpleAtoi(text, &out))
      return absl::InvalidArgumentError(flag + " needs a whole number, got '" + text + "'");
    return absl::OkStatus();
  }
  char *end = nullptr;
  errno = 0;
  double v = std::strtod(text.c_str(), &end);
  if (text.empty() || *end || errno == ERANGE || !std::isfinite(v))
    return absl::InvalidArgumentError(flag + " needs a number, got '" + text + "'");
  out = T(v);
  return absl::OkStatus();
}

absl::Status sample(int argc, char **argv, bool &help) {
  std::vector<std::string> positional;
  long length = 400;
  double temperature = 0.8;
  long topK = 0;
  unsigned long seed = 0;
  std::string prime = "\n", scoreFile;
  std::string lengthText = "400", temperatureText = "0.8", topKText = "0", seedText = "0";
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "-h" || a == "--help") {
      help = true;
      return absl::OkStatus();
    }
    if (takeValue(i, argc, argv, "--length", lengthText) ||
        takeValue(i, argc, argv, "--temperature", temperatureText) ||
        takeValue(i, argc, argv, "--top-k", topKText) ||
        takeValue(i, argc, argv, "--seed", seedText) ||
        takeValue(i, argc, argv, "--score", scoreFile) ||
        takeValue(i, argc, argv, "--prime", prime))
      continue;
    if (!a.empty() && a[0] == '-')
      return absl::InvalidArgumentError("unknown option '" + a +
                                        "' (see tgc sample --help)");
    positional.push_back(a);
  }
  if (std::string missing = takeMissingValue(); !missing.empty())
    return absl::InvalidArgumentError(missing);
  if (positional.size() != 2)
    return absl::InvalidArgumentError(
        "needs MODEL.tgx and CHECKPOINT.safetensors (see tgc sample --help)");
  for (absl::Status s : {parseNumber("--length", lengthText, length),
                         parseNumber("--temperature", temperatureText, temperature),
                         parseNumber("--top-k", topKText, topK),
                         parseNumber("--seed", seedText, seed)})
    if (!s.ok())
      return s;
  if (length < 1 || !(temperature > 0) || topK < 0)
    return absl::InvalidArgumentError(
        "--length must be >= 1, --temperature > 0 and --top-k >= 0");
  auto artifact = tg::rt::Artifact::open(positional[0]);
  if (!artifact.ok())
    return absl::InvalidArgumentError(std::string(artifact.status().message()));
  auto ck = tg::readSafetensors(positional[1]);
  if (!ck.ok())
    return absl::InvalidArgumentError(std::string(ck.status().message()));
  // The vocabulary is checkpoint metadata, not the manifest; none: bytes
  // (checked against the model's 256 classes below).
  absl::StatusOr<std::string> saved = tg::checkpointVocabulary(*ck, positional[1]);
  if (!saved.ok())
    return absl::InvalidArgumentError(std::string(saved.status().message()));
  std::string vocab = *saved;
  bool bytes = vocab.empty();
  if (bytes)
    for (int b = 0; b < 256; ++b)
      vocab.push_back(char(b));

  auto manifest = tg::parseManifest(artifact->manifest(), positional[0]);
  if (!manifest.ok())
    return absl::InvalidArgumentError(std::string(manifest.status().message()));
  const tg::EntrySpec *predict = manifest->findEntry("predict");
  if (!predict)
    return absl::InvalidArgumentError("'" + positional[0] + "' has no predict entry");
  auto session = tg::rt::Session::create(*artifact, 0);
  if (!session.ok())
    return absl::InvalidArgumentError(std::string(session.status().message()));
  // Every param of the sampler comes from the checkpoint, dtypes and shapes
  // checked (not its states: a sampler at batch 1 has other ones).
  auto loaded = tg::loadParams(*ck, positional[1], *predict, *session, tg::ParamLoad::Params);
  if (!loaded.ok())
    return absl::InvalidArgumentError(
        std::string(loaded.status().message()) +
        " (compile the sampler with the trained model's --hidden and --vocab)");
  // "chars" [B, T] i32 and "logits" [B*T, V] f32 (results get buffers on
  // the first run: sizes from the manifest); row 0 is the sample's.
  const tg::BufferSpec *chars = predict->findArg("chars");
  const tg::BufferSpec *out = predict->findResult("logits");
  int64_t B = chars && chars->shape.size() == 2 ? chars->shape[0] : 0;
  int64_t T = chars && chars->shape.size() == 2 ? chars->shape[1] : 0;
  int64_t V = out && out->dtype == tg::DType::f32 && out->shape.size() == 2 &&
                      out->shape[0] == B * T
                  ? out->shape[1]
                  : 0;
  if (B < 1 || T < 1 || !chars || chars->dtype != tg::DType::i32 || V < int64_t(vocab.size()))
    return absl::InvalidArgumentError("'" + positional[0] + "' is not a character model with a vocabulary of " +
                (bytes ? "256 (the checkpoint has no vocabulary: a byte-level model)"
                       : "at least " + std::to_string(vocab.size())) +
                " (predict: \"chars\" i32 [B, T] -> \"logits\" f32 [B*T, V]; tg-example "
                "char-gpt, or char-lstm --batch 1 --steps 1)");
  if (bytes && V != 256)
    return absl::InvalidArgumentError("'" + positional[1] + "' has no vocabulary and the model has " +
                std::to_string(V) + " classes, not 256 (bytes): train it on a text file");
  bool recurrent = false;
  for (const tg::BufferSpec &r : predict->results)
    recurrent |= r.alias >= 0 && predict->args[size_t(r.alias)].role == tg::Role::State;
  if (recurrent && (T != 1 || B != 1))
    return absl::InvalidArgumentError("'" + positional[0] +
                "' carries recurrent state: compile it with --batch 1 --steps 1");
  std::vector<float> all(static_cast<size_t>(B * T * V)), logits(static_cast<size_t>(V));
  std::vector<int32_t> context; // windowed: the last T characters
  auto feed = [&](int32_t id) -> absl::Status {
    int64_t at = 0;
    if (recurrent) {
      context.assign(1, id);
    } else {
      context.push_back(id);
      if (int64_t(context.size()) > T)
        context.erase(context.begin());
      at = int64_t(context.size()) - 1;
    }
    std::vector<int32_t> window(size_t(B * T), 0); // row 0; the rest padding
    std::copy(context.begin(), context.end(), window.begin());
    if (absl::Status s = session->write("chars", window.data(), window.size() * 4); !s.ok())
      return s;
    if (absl::Status s = session->run("predict"); !s.ok())
      return s;
    if (absl::Status s = session->read("logits", all.data(), all.size() * 4); !s.ok())
      return s;
    std::copy(all.begin() + at * V, all.begin() + (at + 1) * V, logits.begin());
    return absl::OkStatus();
  };
  for (char c : prime) {
    size_t id = vocab.find(c);
    if (id == std::string::npos)
      return absl::InvalidArgumentError(std::string("--prime: character '") + c + "' is not in the trained vocabulary");
    if (absl::Status s = feed(int32_t(id)); !s.ok())
      return absl::InvalidArgumentError(std::string(s.message()));
  }
  if (!scoreFile.empty()) {
    // Mean cross-entropy of the file's characters (teacher forcing), the
    // quantity train_step's loss estimates.
    std::FILE *f = std::fopen(scoreFile.c_str(), "rb");
    if (!f)
      return absl::InvalidArgumentError("cannot open '" + scoreFile + "'");
    std::string text;
    for (int c; (c = std::fgetc(f)) != EOF;)
      text += char(c);
    std::fclose(f);
    double total = 0;
    long n = 0;
    for (size_t i = 0; i + 1 < text.size() && n < length; ++i, ++n) {
      size_t id = vocab.find(text[i]), next = vocab.find(text[i + 1]);
      if (id == std::string::npos || next == std::string::npos)
        return absl::InvalidArgumentError("'" + scoreFile + "' has characters outside the trained vocabulary");
      if (absl::Status s = feed(int32_t(id)); !s.ok())
        return absl::InvalidArgumentError(std::string(s.message()));
      double mx = -INFINITY, sum = 0;
      for (size_t k = 0; k < vocab.size(); ++k)
        mx = std::max(mx, double(logits[k]));
      for (size_t k = 0; k < vocab.size(); ++k)
        sum += std::exp(double(logits[k]) - mx);
      total += std::log(sum) + mx - double(logits[next]);
    }
    std::printf("%.4f nats per character over %ld characters of '%s'\n", total / double(n), n,
                scoreFile.c_str());
    return absl::OkStatus();
  }
  std::fputs(prime.c_str(), stdout);
  std::mt19937_64 rng(seed);
  std::vector<double> p(vocab.size());
  for (long n = 0; n < length; ++n) {
    // Softmax with temperature over the trained vocabulary only; with
    // --top-k, over its K likeliest characters.
    double cut = -INFINITY;
    if (topK > 0 && size_t(topK) < p.size()) {
      std::vector<float> sorted(logits.begin(), logits.begin() + long(p.size()));
      std::nth_element(sorted.begin(), sorted.begin() + (topK - 1), sorted.end(),
                       std::greater<float>());
      cut = sorted[size_t(topK - 1)];
    }
    double mx = -INFINITY, sum = 0;
    for (size_t k = 0; k < p.size(); ++k)
      mx = std::max(mx, double(logits[k]) / temperature);
    for (size_t k = 0; k < p.size(); ++k)
      sum += p[k] = logits[k] >= cut ? std::exp(double(logits[k]) / temperature - mx) : 0.0;
    double u = std::uniform_real_distribution<double>(0, sum)(rng);
    size_t next = 0;
    while (next + 1 < p.size() && u > p[next])
      u -= p[next++];
    std::fputc(vocab[next], stdout);
    if (absl::Status s = feed(int32_t(next)); !s.ok())
      return absl::InvalidArgumentError(std::string(s.message()));
  }
  std::fputc('\n', stdout);
  return absl::OkStatus();
}

} // namespace

int sampleCommand(int argc, char **argv) {
  bool help = false;
  absl::Status s = sample(argc, argv, help);
  if (help) {
    std::printf("%s", kUsage);
    return 0;
  }
  return s.ok() ? 0 : error("sample: " + std::string(s.message()));
}

} // namespace tools
} // namespace tg
