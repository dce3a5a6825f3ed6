//===- Checkpointing.cpp - training checkpoints: write and resume ---------===//
//
// A checkpoint holds every param and state buffer of train_step (optimizer
// slots, the step counter, recurrent state) and the data position, so a run
// resumed from it computes the same bits as an unbroken one. Resuming checks
// that the checkpoint belongs to this artifact, seed and data before any
// buffer is overwritten.
//
//===----------------------------------------------------------------------===//
#include "tg/Checkpoint.h"
#include "train/Internal.h"
#include "train/ParamFiles.h"

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <sys/file.h>
#include <sys/stat.h>
#include <system_error>
#include <unistd.h>

namespace tg {
namespace trainer {

Checkpointer::~Checkpointer() {
  if (lockFd_ >= 0)
    ::close(lockFd_); // releases the flock
}

absl::StatusOr<std::optional<int64_t>> Checkpointer::open(rt::Session &session, int64_t perEpoch,
                                                          Position &pos) {
  if (o_.checkpointDir.empty())
    return std::optional<int64_t>();
  // Missing parents are created too (mkdir -p), as `--checkpoint-dir runs/x`
  // in a fresh directory expects.
  if (!data::isDirectory(o_.checkpointDir)) {
    std::error_code ec;
    std::filesystem::create_directories(o_.checkpointDir, ec);
    if (ec || !data::isDirectory(o_.checkpointDir)) {
      std::string what = absl::StrCat("cannot create checkpoint directory '", o_.checkpointDir, "'");
      return ec ? absl::ErrnoToStatus(ec.value(), what)
                : absl::FailedPreconditionError(absl::StrCat(what, ": not a directory"));
    }
  }
  // One writer per directory: an exclusive flock on .lock, held until this
  // run ends (the kernel drops it if the process dies). The holder's pid is
  // in the file, for the error.
  std::string lockPath = o_.checkpointDir + "/.lock";
  lockFd_ = ::open(lockPath.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lockFd_ < 0)
    return absl::ErrnoToStatus(errno, absl::StrCat("cannot open the lock file '", lockPath, "'"));
  if (::flock(lockFd_, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    char holder[32] = {};
    ssize_t n = ::pread(lockFd_, holder, sizeof holder - 1, 0);
    std::string who = n > 0 ? absl::StrCat(" (pid ", absl::StripAsciiWhitespace(holder), ")") : "";
    ::close(lockFd_);
    lockFd_ = -1;
    if (err == EWOULDBLOCK)
      return absl::FailedPreconditionError(absl::StrCat(
          "checkpoint directory '", o_.checkpointDir, "' is in use by another tgc train", who,
          "; wait for it to finish or choose another --checkpoint-dir"));
    return absl::ErrnoToStatus(err, absl::StrCat("cannot lock '", lockPath, "'"));
  }
  std::string pid = absl::StrCat(::getpid(), "\n");
  if (::ftruncate(lockFd_, 0) != 0 || ::pwrite(lockFd_, pid.data(), pid.size(), 0) < 0) {
    // The pid is only for the message of a second run; the lock holds.
  }
  std::vector<std::string> existing = listCheckpoints(o_.checkpointDir);
  if (!o_.resume && !existing.empty())
    return absl::AlreadyExistsError(absl::StrCat(
        "'", o_.checkpointDir, "' already holds checkpoints (newest: ", existing.back(),
        "); pass --resume to continue from it, or choose another --checkpoint-dir"));
  if (o_.resume && existing.empty()) {
    if (o_.resumeRequired)
      return absl::NotFoundError(absl::StrCat(
          "--resume=required: no checkpoint in '", o_.checkpointDir,
          "' (a requeued job on a node that does not see the first run's directory?)"));
    std::fprintf(stderr, "resuming: no checkpoint in '%s' yet: starting from step 0\n",
                 o_.checkpointDir.c_str());
  }
  if (!o_.resume || existing.empty())
    return std::optional<int64_t>();
  if (absl::Status s = restore(existing.back(), session, perEpoch, pos); !s.ok())
    return s;
  std::fprintf(stderr, "resuming from %s: step %lld, epoch %lld, batch %lld\n",
               existing.back().c_str(), (long long)pos.step, (long long)pos.epoch + 1,
               (long long)pos.batch);
  return std::optional<int64_t>(pos.step);
}

namespace {

/// Checks that `ck` holds exactly the buffers `saved`, with their dtypes and shapes.
absl::Status checkTensors(const std::string &path, const Checkpoint &ck,
                          const std::vector<const BufferSpec *> &saved, size_t others) {
  for (const BufferSpec *a : saved) {
    const NamedTensor *t = ck.find(a->name);
    if (!t)
      return absl::InvalidArgumentError(absl::StrCat("'", path, "' lacks tensor '", a->name, "' (",
                                                     std::string(roleName(a->role)), ")"));
    if (t->dtype != dtypeName(a->dtype) || t->shape != a->shape)
      return absl::InvalidArgumentError(
          absl::StrCat("'", path, "': tensor '", a->name, "' is ", t->dtype, " ",
                       shapeToString(t->shape), ", the artifact's buffer is ", a->typeString()));
  }
  if (ck.tensors.size() != saved.size() + others)
    return absl::InvalidArgumentError(absl::StrCat("'", path, "' holds ", ck.tensors.size(),
                                                   " tensors, the artifact has ", saved.size(),
                                                   " params and states"));
  return absl::OkStatus();
}

} // namespace

absl::Status Checkpointer::checkVocabulary(const std::string &path,
                                           const std::string &vocab) const {
  // The ids a character model learned are the vocabulary's: another text
  // with as many distinct characters would silently remap them.
  if (vocab == data_.vocab)
    return absl::OkStatus();
  auto show = [](unsigned char c) {
    return c >= 32 && c < 127 ? absl::StrCat("'", std::string(1, char(c)), "'")
                              : absl::StrCat("byte ", int(c));
  };
  std::string where;
  if (vocab.empty() || data_.vocab.empty()) {
    where = vocab.empty() ? "the checkpoint has none (not trained on text)"
                          : "the data has none (it is not text)";
  } else if (vocab.size() != data_.vocab.size()) {
    where = absl::StrCat("the checkpoint's has ", vocab.size(), " characters, the data's ",
                         data_.vocab.size());
  } else {
    size_t i = 0;
    while (vocab[i] == data_.vocab[i])
      ++i;
    where = absl::StrCat("id ", i, " is ", show(vocab[i]), " in the checkpoint and ",
                         show(data_.vocab[i]), " in ", data_.vocabPath);
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "'", path, "' was trained on a text with another vocabulary: ", where,
      ". Resume with the text it was trained on (its characters), or start a new "
      "--checkpoint-dir"));
}

absl::Status Checkpointer::readElsewhere(const std::string &name,
                                        std::vector<uint8_t> &bytes) const {
  if (!restoredFile_)
    return absl::FailedPreconditionError("no checkpoint was restored");
  const std::vector<NamedTensor> &all = restoredFile_->header().tensors;
  for (size_t i = 0; i < all.size(); ++i)
    if (all[i].name == name)
      return restoredFile_->read(i, bytes);
  return absl::NotFoundError(absl::StrCat("the checkpoint has no tensor '", name, "'"));
}

absl::Status Checkpointer::restore(const std::string &path, rt::Session &session, int64_t perEpoch,
                                   Position &pos) {
  // A pipeline's rank 0 reads the file tensor by tensor: the other stages'
  // state stays in the file until it is sent to them.
  absl::StatusOr<Checkpoint> ck;
  restoredFile_.reset();
  if (!elsewhere_.empty()) {
    auto file = SafetensorsReader::open(path);
    if (!file.ok())
      return file.status();
    restoredFile_ = std::move(*file);
    ck = restoredFile_->header();
  } else {
    ck = readSafetensors(path);
  }
  if (!ck.ok())
    return ck.status();
  auto meta = [&](const std::string &k) {
    auto it = ck->metadata.find(k);
    return it == ck->metadata.end() ? std::string() : it->second;
  };
  // "tgc-checkpoint/<version>": a newer version is a clear precondition
  // error (nothing in the directory is touched), anything else is not ours.
  std::string format = meta("format");
  constexpr std::string_view kFormat = "tgc-checkpoint/";
  int64_t version = 0;
  if (format.rfind(kFormat, 0) != 0 || !absl::SimpleAtoi(format.substr(kFormat.size()), &version))
    return absl::InvalidArgumentError(absl::StrCat(
        "'", path, "' is not a tgc training checkpoint (metadata format '", format, "')"));
  if (version != 1)
    return absl::FailedPreconditionError(absl::StrCat(
        "'", path, "' has checkpoint format version ", version,
        version > 1 ? " (written by a newer tgc)" : "",
        "; this tgc reads version 1. Resume it with the tgc that wrote it, or train into "
        "another --checkpoint-dir (the directory is left as it is)"));
  if (meta("artifact_hash") != hash_) {
    // Another world size, bucket plan or sharding of the same model and
    // optimizer: the same tensors, so it continues (not with an unbroken
    // run's bits when the reductions differ).
    if (signature_.empty() || meta("state_signature") != signature_)
      return absl::FailedPreconditionError(absl::StrCat(
          "'", path, "' was written by another artifact (hash ", meta("artifact_hash"), ", '",
          meta("artifact"), "'); '", o_.artifact, "' has hash ", hash_,
          signature_.empty() || meta("state_signature").empty()
              ? ""
              : " and another model, params or optimizer state",
          ". Resume with the artifact that wrote it, or start a new --checkpoint-dir"));
    std::fprintf(stderr,
                 "resuming: '%s' was written by another artifact ('%s') with the same params and "
                 "optimizer state\n",
                 path.c_str(), meta("artifact").c_str());
  }
  // Other ranks' recurrent state ("NAME@rank<r>") is kept for scatterRankState.
  std::vector<NamedTensor> mine;
  rankState_.clear();
  for (NamedTensor &t : ck->tensors)
    (t.name.find("@rank") != std::string::npos ? rankState_ : mine).push_back(std::move(t));
  ck->tensors = std::move(mine);
  // A pipeline: the other stages' buffers, checked here, read later.
  if (!elsewhere_.empty()) {
    Checkpoint ours, others;
    for (NamedTensor &t : ck->tensors)
      (std::any_of(elsewhere_.begin(), elsewhere_.end(),
                   [&](const BufferSpec *a) { return a->name == t.name; })
           ? others
           : ours)
          .tensors.push_back(std::move(t));
    if (absl::Status s = checkTensors(path, others, elsewhere_, 0); !s.ok())
      return s;
    ck->tensors = std::move(ours.tensors);
  }
  // --shard-optimizer-state: the slots are named tensors, as in any run.
  shards_.clear();
  if (shard_) {
    for (const auto &[param, elements] : shard_->params)
      for (const std::string &slot : shard_->slots) {
        std::string name = absl::StrCat(param, ".", slot);
        auto it = std::find_if(ck->tensors.begin(), ck->tensors.end(),
                               [&](const NamedTensor &t) { return t.name == name; });
        if (it == ck->tensors.end())
          return absl::InvalidArgumentError(
              absl::StrCat("'", path, "' lacks tensor '", name, "' (optimizer state)"));
        const BufferSpec *p = step_->findArg(param);
        if (it->dtype != "f32" || it->bytes.size() != size_t(elements) * sizeof(float) ||
            (p && it->shape != p->shape))
          return absl::InvalidArgumentError(absl::StrCat(
              "'", path, "': tensor '", name, "' is ", it->dtype, " ", shapeToString(it->shape),
              ", the param's optimizer state is ",
              p ? p->typeString() : absl::StrCat("f32 of ", elements, " elements")));
        shards_.push_back(std::move(*it));
        ck->tensors.erase(it);
      }
  }
  restoredWorld_ = 1;
  if (!meta("world_size").empty()) {
    try {
      restoredWorld_ = std::stoi(meta("world_size"));
    } catch (...) {
      restoredWorld_ = 0;
    }
    if (restoredWorld_ < 1)
      return absl::InvalidArgumentError(
          absl::StrCat("'", path, "': metadata world_size '", meta("world_size"), "' is bad"));
  }
  if (absl::Status s = checkTensors(path, *ck, saved_, 0); !s.ok())
    return s;
  try {
    pos.step = std::stoll(meta("step"));
    pos.epoch = std::stoll(meta("epoch"));
    pos.batch = std::stoll(meta("position"));
    pos.priorSeconds = std::stod(meta("train_seconds"));
  } catch (...) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", path, "': metadata step/epoch/position/train_seconds are not numbers"));
  }
  absl::StatusOr<std::string> vocab = checkpointVocabulary(*ck, path);
  if (!vocab.ok())
    return vocab.status();
  if (absl::Status s = checkVocabulary(path, *vocab); !s.ok())
    return s;
  if (meta("seed") != std::to_string(o_.seed))
    return absl::InvalidArgumentError(absl::StrCat("'", path, "' was trained with --seed ",
                                                   meta("seed"), "; resume with the same seed"));
  pos.globalBatch = s_.batch; // checkpoints before data parallelism: one rank
  if (!meta("global_batch").empty()) {
    try {
      pos.globalBatch = std::stoll(meta("global_batch"));
    } catch (...) {
      pos.globalBatch = 0;
    }
    if (pos.globalBatch < 1)
      return absl::InvalidArgumentError(absl::StrCat("'", path, "': metadata global_batch '",
                                                     meta("global_batch"),
                                                     "' is not a positive number"));
  }
  if (pos.batch < 0 || pos.step < 0 || pos.epoch < 0 ||
      (pos.globalBatch != s_.globalBatch() &&
       (pos.batch > (int64_t(1) << 40) / pos.globalBatch ||
        pos.batch * pos.globalBatch > data_.dataset->rows())))
    return absl::InvalidArgumentError(
        absl::StrCat("'", path, "': data position ", pos.batch, " of batches of ", pos.globalBatch,
                     " (step ", pos.step, ", epoch ", pos.epoch, ") does not fit the ",
                     data_.dataset->rows(), " examples of this data"));
  if (pos.globalBatch == s_.globalBatch() && (pos.batch < 0 || pos.batch >= perEpoch))
    return absl::InvalidArgumentError(absl::StrCat("'", path, "': data position ", pos.batch,
                                                   " is past the ", perEpoch,
                                                   " batches of an epoch of this data"));
  for (const NamedTensor &t : ck->tensors) {
    std::vector<uint8_t> lazy;
    if (restoredFile_)
      if (absl::Status s = readElsewhere(t.name, lazy); !s.ok())
        return s;
    const std::vector<uint8_t> &bytes = restoredFile_ ? lazy : t.bytes;
    if (absl::Status s = session.write(t.name, bytes.data(), bytes.size()); !s.ok())
      return s;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> Checkpointer::write(const rt::Session &session, const Position &pos,
                                                double trainSeconds,
                                                const std::vector<NamedTensor> &ranks) const {
  if (o_.checkpointDir.empty())
    return std::string();
  Checkpoint ck;
  // A pipeline's rank 0 streams every tensor (its own read when written).
  bool streamed = !elsewhere_.empty();
  for (const BufferSpec *a : saved_) {
    NamedTensor t{a->name, std::string(dtypeName(a->dtype)), a->shape, {}};
    if (!streamed) {
      t.bytes.resize(session.size(a->name));
      if (absl::Status s = session.read(a->name, t.bytes.data(), t.bytes.size()); !s.ok())
        return s;
    }
    ck.tensors.push_back(std::move(t));
  }
  ck.tensors.insert(ck.tensors.end(), ranks.begin(), ranks.end());
  ck.metadata = {{"format", "tgc-checkpoint/1"},
                 {"artifact", o_.artifact},
                 {"artifact_hash", hash_},
                 {"step", std::to_string(pos.step)},
                 {"epoch", std::to_string(pos.epoch)},
                 {"position", std::to_string(pos.batch)},
                 {"global_batch", std::to_string(s_.globalBatch())},
                 {"world_size", std::to_string(s_.world)},
                 {"seed", std::to_string(o_.seed)},
                 {"rng", absl::StrCat("data order: mt19937_64 Fisher-Yates keyed by (seed ",
                                      o_.seed, ", epoch ", pos.epoch,
                                      "); graph randomness: stateless "
                                      "Philox keyed by the step counter")},
                 {"data", data_.description},
                 {"train_seconds", absl::StrFormat("%.3f", trainSeconds)}};
  if (!signature_.empty())
    ck.metadata["state_signature"] = signature_;
  if (!data_.vocab.empty())
    // The vocabulary is bytes, which need not be UTF-8 (a JSON string must):
    // a JSON list of byte values.
    ck.metadata["vocab"] =
        nlohmann::json(std::vector<unsigned char>(data_.vocab.begin(), data_.vocab.end())).dump();
  if (o_.lr)
    ck.metadata["lr"] = absl::StrFormat("%.9g", *o_.lr);
  std::string path = checkpointPath(o_.checkpointDir, pos.step);
  if (streamed) {
    // This rank's tensors, then the other stages', one at a time.
    std::vector<NamedTensor> layout = ck.tensors;
    for (const BufferSpec *a : elsewhere_)
      layout.push_back({a->name, std::string(dtypeName(a->dtype)), a->shape, {}});
    size_t mine = ck.tensors.size();
    absl::Status s = writeSafetensorsStreamed(
        path, layout, ck.metadata, [&](size_t i, std::vector<uint8_t> &bytes) -> absl::Status {
          if (i >= mine)
            return fetch_(i - mine, bytes);
          bytes.resize(session.size(layout[i].name));
          return session.read(layout[i].name, bytes.data(), bytes.size());
        });
    if (!s.ok())
      return s;
    pruneCheckpoints(o_.checkpointDir, o_.keepCheckpoints);
    return path;
  }
  if (absl::Status s = writeSafetensors(path, ck); !s.ok())
    return s;
  pruneCheckpoints(o_.checkpointDir, o_.keepCheckpoints);
  return path;
}

std::string resplit(Position &pos, Schedule &s, const TrainOptions &o) {
  if (pos.globalBatch == 0 || pos.globalBatch == s.globalBatch())
    return "";
  int64_t examples = pos.batch * pos.globalBatch;
  int64_t from = pos.batch;
  pos.batch = examples / s.globalBatch();
  if (pos.batch >= s.perEpoch) {
    ++pos.epoch;
    pos.batch = 0;
  }
  if (!o.steps)
    s.totalSteps = pos.step + (s.perEpoch - pos.batch) +
                   std::max<int64_t>(0, (o.epochs ? o.epochs : 1) - pos.epoch - 1) * s.perEpoch;
  s.totalEpochs = std::max(s.totalEpochs, pos.epoch + 1);
  std::string note = absl::StrCat(
      "the checkpoint counts batches of ", pos.globalBatch, " examples, this run of ",
      s.globalBatch(), " (", s.world, " rank(s) x ", s.batch, "): batch ", from, " (", examples,
      " examples into the epoch) continues at batch ", pos.batch, " of ", s.perEpoch);
  pos.globalBatch = s.globalBatch();
  return note;
}

} // namespace trainer
} // namespace tg
