//===- DataBinding.cpp - binding data files to an artifact's inputs -------===//
//
// Maps --data/--eval-data specs (NAME=FILE, an MNIST-style directory, or a
// text file) onto an entry point's data and label arguments and loads them,
// so that every mismatch is reported before a session exists.
//
//===----------------------------------------------------------------------===//
#include "train/Internal.h"

#include "tg/Idx.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

#include <cerrno>
#include <cstring>
#include <unistd.h>

namespace tg {
namespace trainer {

namespace {

/// The data and label arguments of an entry point.
struct Inputs {
  explicit Inputs(const EntrySpec &entry) : entry(entry) {
    for (const BufferSpec &a : entry.args) {
      if (a.role == Role::Data)
        data.push_back(&a);
      if (a.role == Role::Label)
        labels.push_back(&a);
    }
  }
  const BufferSpec *named(const std::string &n) const {
    const BufferSpec *a = entry.findArg(n);
    return a && isBatchInput(a->role) ? a : nullptr;
  }
  /// "image (data f32 [32, 784]), label (label i32 [32])", for messages.
  std::string names() const {
    std::vector<std::string> n;
    for (const BufferSpec &a : entry.args)
      if (isBatchInput(a.role))
        n.push_back(
            absl::StrCat(a.name, " (", std::string(roleName(a.role)), " ", a.typeString(), ")"));
    return absl::StrJoin(n, ", ");
  }
  const EntrySpec &entry;
  std::vector<const BufferSpec *> data, labels;
};

/// The files the specs name: argument -> file, one text file, or one
/// packed directory.
struct Sources {
  std::map<std::string, std::string> files;
  std::string textFile, packedDir;
};

absl::StatusOr<Sources> resolveSpecs(const std::vector<std::string> &specs, const Inputs &in,
                                     bool eval, const std::string &flag) {
  Sources out;
  for (const std::string &s : specs) {
    size_t eq = s.find('=');
    if (eq != std::string::npos && in.named(s.substr(0, eq))) {
      out.files[s.substr(0, eq)] = s.substr(eq + 1);
    } else if (eq != std::string::npos && eq > 0 && s.find('/') > eq) {
      return absl::InvalidArgumentError(
          absl::StrCat(flag, " ", s, ": the artifact has no data or label argument '",
                       s.substr(0, eq), "' (it has: ", in.names(), ")"));
    } else if (data::isDirectory(s) && data::ShardIndex::isPacked(s)) {
      if (specs.size() != 1)
        return absl::InvalidArgumentError(absl::StrCat(
            flag, " ", s, ": a packed directory holds every input; it cannot be mixed with "
                          "other data specs"));
      out.packedDir = s;
    } else if (data::isDirectory(s)) {
      if (in.data.size() != 1 || in.labels.size() != 1)
        return absl::InvalidArgumentError(absl::StrCat(
            flag, " ", s, ": a directory feeds one data and one label argument; this artifact has ",
            in.names(), "; use NAME=FILE"));
      std::string prefix = eval ? "t10k" : "train";
      std::string images = findIdxFile(s, prefix + "-images-idx3-ubyte");
      std::string labels = findIdxFile(s, prefix + "-labels-idx1-ubyte");
      if (images.empty() || labels.empty())
        return absl::NotFoundError(absl::StrCat(flag, " ", s, ": no ", prefix,
                                                "-images-idx3-ubyte[.gz] and ", prefix,
                                                "-labels-idx1-ubyte[.gz] in this directory"));
      out.files[in.data[0]->name] = images;
      out.files[in.labels[0]->name] = labels;
    } else {
      if (::access(s.c_str(), R_OK) != 0)
        return absl::NotFoundError(absl::StrCat(flag, " ", s, ": ", std::strerror(errno)));
      out.textFile = s;
    }
  }
  return out;
}

/// How a text feeds a character model: as truncated-BPTT streams (a model
/// with recurrent state) or as shuffled windows (one without), and, for
/// held-out text, the training text's vocabulary.
struct TextMode {
  bool windows = false;
  const LoadedData *vocabOf = nullptr; ///< set: read with this vocabulary
};

absl::StatusOr<LoadedData> textData(data::Corpus corpus, const Inputs &in, int world,
                                    const std::string &where, const TextMode &mode);

/// A text corpus for a character model.
absl::StatusOr<LoadedData> loadText(const std::string &textFile, const Inputs &in,
                                    const std::string &flag, int world, const TextMode &mode) {
  if (in.data.size() != 1 || in.labels.size() != 1)
    return absl::InvalidArgumentError(
        absl::StrCat(flag, " ", textFile,
                     ": text feeds one data argument and one label argument (the "
                     "next characters); this artifact has ",
                     in.names()));
  auto corpus = data::readText(textFile);
  if (!corpus.ok())
    return corpus.status();
  return textData(std::move(*corpus), in, world, textFile, mode);
}

/// A corpus (in memory or packed) as truncated-BPTT streams.
absl::StatusOr<LoadedData> textData(data::Corpus corpus, const Inputs &in, int world,
                                    const std::string &where, const TextMode &mode) {
  data::ArgSpec input = argSpec(*in.data[0]), target = argSpec(*in.labels[0]);
  // Streams: with N ranks, N times the streams (rank r takes streams
  // [rB, (r+1)B)). Windows are rows, split between ranks like any others.
  if (!mode.windows && !input.shape.empty() && !target.shape.empty()) {
    input.shape[0] *= world;
    target.shape[0] *= world;
  }
  // A model of 256 classes reads bytes: no vocabulary to match between
  // texts. Else the text's own characters, or (held-out text) the training's.
  bool bytes = target.classes == 256;
  if (bytes)
    corpus.useBytes();
  else if (mode.vocabOf)
    if (absl::Status s = corpus.useVocabulary(mode.vocabOf->vocab, mode.vocabOf->vocabPath);
        !s.ok())
      return s;
  LoadedData out;
  out.vocab = corpus.vocab;
  out.vocabPath = where;
  out.description = absl::StrCat(
      where, " (", corpus.size, " characters", corpus.shards ? " in shards" : "",
      bytes         ? ", byte-level (256 classes)"
      : mode.vocabOf ? absl::StrCat(", the training text's vocabulary of ", corpus.vocab.size())
                     : absl::StrCat(", vocabulary of ", corpus.vocab.size()),
      mode.windows ? "; shuffled windows" : "", ")");
  auto ds = data::Dataset::fromText(std::move(corpus), input, target, mode.windows);
  if (!ds.ok())
    return ds.status();
  out.dataset = std::move(*ds);
  return out;
}

/// A bad value's error, with the way around it.
absl::Status withSkipHint(const absl::Status &s) {
  if (s.code() != absl::StatusCode::kInvalidArgument ||
      (s.message().find("not a class of the model") == absl::string_view::npos &&
       s.message().find("is not an integer in the range") == absl::string_view::npos))
    return s;
  return absl::InvalidArgumentError(
      absl::StrCat(s.message(), " (--skip-bad-records trains without such records)"));
}

/// One column per data and label argument, each from its file.
absl::StatusOr<LoadedData> loadColumns(const std::map<std::string, std::string> &files,
                                       const Inputs &in, const std::string &flag, bool skipBad) {
  std::vector<data::Column> columns;
  std::vector<std::string> missing, desc;
  std::vector<int64_t> bad;
  std::string firstBad;
  for (const BufferSpec &a : in.entry.args) {
    if (!isBatchInput(a.role))
      continue;
    auto it = files.find(a.name);
    if (it == files.end()) {
      missing.push_back(a.name);
      continue;
    }
    auto array = data::readArray(it->second);
    if (!array.ok())
      return array.status();
    std::vector<int64_t> badHere;
    std::string path = array->path, type = array->sourceType;
    auto column = data::makeColumn(std::move(*array), argSpec(a), skipBad ? &badHere : nullptr);
    if (!column.ok())
      return withSkipHint(column.status());
    if (!badHere.empty() && firstBad.empty()) { // its value's error again, for the report
      const data::Column &c = *column;
      int64_t row = badHere.front(), perRow = c.spec.rowElements();
      absl::Status why = data::checkValues(c.sourceDtype, c.bytes.data() + size_t(row) * c.sourceRowBytes(),
                                           perRow, c.spec, row * perRow);
      firstBad = absl::StrCat(flag, " '", path, "' (", type, ") for argument '", a.name,
                              "': ", why.message());
    }
    bad.insert(bad.end(), badHere.begin(), badHere.end());
    desc.push_back(absl::StrCat(a.name, "=", it->second));
    columns.push_back(std::move(*column));
  }
  if (!missing.empty())
    return absl::InvalidArgumentError(absl::StrCat(flag, ": no data for ",
                                                   absl::StrJoin(missing, ", "),
                                                   " (the artifact's inputs: ", in.names(), ")"));
  auto ds = data::Dataset::fromColumns(std::move(columns));
  if (!ds.ok())
    return ds.status();
  if (!bad.empty())
    ds->exclude(std::move(bad));
  LoadedData out;
  out.firstSkipped = firstBad;
  out.description = absl::StrCat(absl::StrJoin(desc, ", "), " (", ds->rows(), " examples)");
  out.dataset = std::move(*ds);
  return out;
}

/// A packed directory: each data and label argument from the field of its
/// name, or (one data and one label argument) from the fields of those
/// roles. Nothing is read but the index, each shard file's size, and the
/// label fields (checked against the model's classes now, not at step N).
absl::StatusOr<LoadedData> loadPacked(const std::string &dir, const Inputs &in,
                                      const std::string &flag, bool skipBad, int world,
                                      const TextMode &mode) {
  std::vector<int64_t> bad;
  std::string firstBad;
  auto index = data::ShardIndex::read(dir);
  if (!index.ok())
    return index.status();
  if (int f = index->fieldIndex("text"); f >= 0 && index->fields[size_t(f)].role == "text") {
    // A packed text file: streamed for a character model.
    if (in.data.size() != 1 || in.labels.size() != 1)
      return absl::InvalidArgumentError(
          absl::StrCat(flag, " ", dir, ": packed text feeds one data argument and one label "
                                       "argument (the next characters); this artifact has ",
                       in.names()));
    auto shards = data::ShardSet::open(std::move(*index));
    if (!shards.ok())
      return shards.status();
    auto corpus = data::textFromShards(*shards, size_t(f));
    if (!corpus.ok())
      return corpus.status();
    return textData(std::move(*corpus), in, world, dir, mode);
  }
  std::vector<std::string> fieldNames;
  for (const data::ShardField &f : index->fields)
    fieldNames.push_back(absl::StrCat(f.name, " (", f.role.empty() ? "" : f.role + " ", f.dtype,
                                      " [", absl::StrJoin(f.shape, ", "), "])"));
  auto byRole = [&](const std::string &role) {
    int found = -1;
    for (size_t i = 0; i < index->fields.size(); ++i)
      if (index->fields[i].role == role)
        found = found < 0 ? int(i) : -2;
    return found;
  };
  std::vector<std::pair<const BufferSpec *, int>> bindings;
  for (const BufferSpec &a : in.entry.args) {
    if (!isBatchInput(a.role))
      continue;
    int f = index->fieldIndex(a.name);
    if (f < 0 && in.data.size() == 1 && in.labels.size() == 1)
      f = byRole(a.role == Role::Label ? "label" : "data");
    if (f < 0)
      return absl::InvalidArgumentError(absl::StrCat(
          flag, " ", dir, ": no field for argument '", a.name, "' (the fields: ",
          absl::StrJoin(fieldNames, ", "), "; the artifact's inputs: ", in.names(),
          "); pack the fields under the arguments' names"));
    bindings.push_back({&a, f});
  }
  auto shards = data::ShardSet::open(std::move(*index));
  if (!shards.ok())
    return shards.status();
  const data::ShardIndex &ix = (*shards)->index();
  std::vector<data::Column> columns;
  std::vector<std::string> desc;
  for (auto [a, f] : bindings) {
    const data::ShardField &field = ix.fields[size_t(f)];
    data::ArgSpec spec = argSpec(*a);
    if (field.recordElements() != spec.rowElements())
      return absl::InvalidArgumentError(absl::StrCat(
          flag, " ", dir, ": field '", field.name, "' holds ", field.recordElements(),
          " values per record, argument '", a->name, "' (", a->typeString(), ") takes ",
          spec.rowElements(), " per example"));
    bool isFloat = spec.dtype == "f32" || spec.dtype == "f64";
    bool isInt = spec.dtype == "i32" || spec.dtype == "i64" || spec.dtype == "i1";
    if (!isFloat && !isInt)
      return absl::InvalidArgumentError(absl::StrCat(flag, " ", dir, ": argument '", a->name,
                                                     "' (", a->typeString(),
                                                     ") cannot be fed from files yet"));
    if (isInt)
      for (int64_t s = 0; s < int64_t(ix.shards.size()); ++s) {
        int64_t first = (*shards)->firstRecord(s);
        auto p = (*shards)->record(size_t(f), first);
        if (!p.ok())
          return p.status();
        size_t had = bad.size();
        absl::Status st = data::checkValues(
            field.dtype, *p, ix.shards[size_t(s)].records * field.recordElements(), spec,
            first * field.recordElements(), skipBad ? &bad : nullptr);
        (*shards)->release(s);
        std::string where = absl::StrCat(flag, " ", dir, ": shard ", s, " field '", field.name,
                                         "' for argument '", a->name, "'");
        if (!st.ok() && !skipBad)
          return withSkipHint(
              absl::InvalidArgumentError(absl::StrCat(where, ": ", st.message())));
        if (bad.size() > had && firstBad.empty())
          firstBad = absl::StrCat(where, ": ", st.message());
      }
    data::Column c;
    c.spec = spec;
    c.rows = ix.records;
    c.sourceDtype = field.dtype;
    c.scale = field.scale;
    c.shards = *shards;
    c.field = size_t(f);
    columns.push_back(std::move(c));
    desc.push_back(absl::StrCat(a->name, "=", field.name));
  }
  // The label check read a little of every shard; training is what counts.
  (*shards)->resetStats();
  auto ds = data::Dataset::fromShards(*shards, std::move(columns));
  if (!ds.ok())
    return ds.status();
  if (!bad.empty())
    ds->exclude(std::move(bad));
  LoadedData out;
  out.firstSkipped = firstBad;
  out.description = absl::StrCat(dir, ": ", absl::StrJoin(desc, ", "), " (", ds->rows(),
                                 " examples in ", ix.shards.size(), " shards)");
  out.dataset = std::move(*ds);
  return out;
}

/// Maps data specs onto `entry`'s data and label arguments and loads them.
absl::StatusOr<LoadedData> loadData(const std::vector<std::string> &specs, const EntrySpec &entry,
                                    bool eval, const std::string &flag, int world, bool skipBad,
                                    const TextMode &mode) {
  Inputs in(entry);
  auto sources = resolveSpecs(specs, in, eval, flag);
  if (!sources.ok())
    return sources.status();
  if (!sources->packedDir.empty())
    return loadPacked(sources->packedDir, in, flag, skipBad, world, mode);
  if (sources->textFile.empty())
    return loadColumns(sources->files, in, flag, skipBad);
  if (!sources->files.empty())
    return absl::InvalidArgumentError(
        absl::StrCat(flag, ": a text file feeds both the input and the target of a character "
                           "model; it cannot be mixed with NAME=FILE"));
  return loadText(sources->textFile, in, flag, world, mode);
}

} // namespace

absl::StatusOr<BoundData> bindData(const TrainOptions &o, const StepEntry &step,
                                   const StepEntry &evalStep, int world, bool recurrent) {
  BoundData out;
  TextMode text;
  text.windows = !recurrent;
  auto train =
      loadData(o.data, *step.spec, /*eval=*/false, "--data", world, o.skipBadRecords, text);
  if (!train.ok())
    return train.status();
  out.train = std::move(*train);
  std::vector<std::string> evalSpecs = o.evalData;
  if (evalSpecs.empty() && o.data.size() == 1 && data::isDirectory(o.data[0]) &&
      !findIdxFile(o.data[0], "t10k-images-idx3-ubyte").empty())
    evalSpecs = o.data; // the MNIST layout's test split
  if (evalSpecs.empty())
    return out;
  if (!evalStep)
    return absl::FailedPreconditionError(
        absl::StrCat("'", o.artifact, "' has no eval_step to evaluate --eval-data with"));
  if (!out.train.vocab.empty() && recurrent)
    return absl::UnimplementedError(
        "--eval-data for a model with recurrent state (truncated-BPTT streams) is not supported "
        "yet; models without state (e.g. tg-example char-gpt) evaluate held-out text");
  text.vocabOf = out.train.vocab.empty() ? nullptr : &out.train;
  auto eval = loadData(evalSpecs, *evalStep.spec, /*eval=*/true, "--eval-data", 1,
                       o.skipBadRecords, text);
  if (!eval.ok())
    return eval.status();
  out.eval = std::move(*eval);
  return out;
}

absl::StatusOr<Schedule> scheduleOf(const TrainOptions &o, const data::Dataset &ds,
                                    const StepEntry &step, int world) {
  Schedule s;
  s.world = world;
  s.batch = 1;
  for (const BufferSpec &a : step.spec->args)
    if (isBatchInput(a.role)) {
      s.batch = a.shape.empty() ? 1 : a.shape[0];
      break;
    }
  // Sharded data: whole batches of each rank's share (a rank never pads).
  s.perEpoch = data::Batcher::batchesPerEpoch(ds.rows(), s.globalBatch(), o.pad && !ds.shards());
  if (s.perEpoch == 0)
    return absl::InvalidArgumentError(
        world == 1
            ? absl::StrCat("--data: ", ds.rows(), " examples are fewer than one batch of ", s.batch,
                           " (pass --pad to pad it)")
            : absl::StrCat("--data: ", ds.rows(), " examples are fewer than one global batch",
                           " of ", s.globalBatch(), " (", world, " ranks x ", s.batch,
                           "; pass --pad to pad it)"));
  s.totalSteps = o.steps ? o.steps : s.perEpoch * (o.epochs ? o.epochs : 1);
  s.totalEpochs = (s.totalSteps + s.perEpoch - 1) / s.perEpoch;
  s.shuffle = o.shuffle && ds.shuffles();
  return s;
}

} // namespace trainer
} // namespace tg
