//===- Data.cpp - training data: columns, text corpora, batches -----------===//
#include "tg/Data.h"

#include "tg/Idx.h"
#include "tg/Npy.h"
#include "io/Shards.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <mutex>
#include <random>
#include <type_traits>
#include <sys/stat.h>

namespace tg {
namespace data {
namespace {

std::string shapeStr(const std::vector<int64_t> &shape) {
  return absl::StrCat("[", absl::StrJoin(shape, ", "), "]");
}

template <typename T> void store(uint8_t *out, double v) {
  T t = static_cast<T>(v);
  std::memcpy(out, &t, sizeof t);
}

template <typename T> T load(const uint8_t *p) {
  T t;
  std::memcpy(&t, p, sizeof t);
  return t;
}

/// One source element as a double (i1: 0 or 1).
template <typename From> double sourceValue(const uint8_t *p) {
  if constexpr (std::is_same_v<From, bool>)
    return *p ? 1.0 : 0.0;
  else
    return double(load<From>(p));
}

template <typename From, typename To>
void convertRun(const uint8_t *src, uint8_t *dst, size_t n, double scale) {
  for (size_t i = 0; i < n; ++i) {
    double v = sourceValue<From>(src + i * sizeof(From));
    if constexpr (std::is_floating_point_v<To>)
      v *= scale;
    if constexpr (std::is_same_v<To, bool>)
      dst[i] = v != 0.0;
    else
      store<To>(dst + i * sizeof(To), v);
  }
}

using ConvertFn = void (*)(const uint8_t *, uint8_t *, size_t, double);

template <typename From> ConvertFn converterTo(const std::string &to) {
  if (to == "f32")
    return convertRun<From, float>;
  if (to == "f64")
    return convertRun<From, double>;
  if (to == "i32")
    return convertRun<From, int32_t>;
  if (to == "i64")
    return convertRun<From, int64_t>;
  return convertRun<From, bool>;
}

/// The conversion of a run of elements, chosen once per batch rather than
/// per element.
ConvertFn converter(const std::string &from, const std::string &to) {
  if (from == "u8")
    return converterTo<uint8_t>(to);
  if (from == "i8")
    return converterTo<int8_t>(to);
  if (from == "i16")
    return converterTo<int16_t>(to);
  if (from == "i32")
    return converterTo<int32_t>(to);
  if (from == "i64")
    return converterTo<int64_t>(to);
  if (from == "f32")
    return converterTo<float>(to);
  if (from == "i1")
    return converterTo<bool>(to);
  return converterTo<double>(to);
}


} // namespace

bool isDirectory(const std::string &path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

size_t dtypeSize(const std::string &dtype) {
  if (dtype == "f64" || dtype == "i64")
    return 8;
  if (dtype == "f32" || dtype == "i32")
    return 4;
  if (dtype == "f16" || dtype == "bf16" || dtype == "i16")
    return 2;
  if (dtype == "u8" || dtype == "i8" || dtype == "i1")
    return 1;
  return 0;
}

int64_t ArgSpec::rowElements() const {
  int64_t n = 1;
  for (size_t i = 1; i < shape.size(); ++i)
    n *= shape[i];
  return n;
}

int64_t Array::count() const {
  size_t size = dtypeSize(dtype);
  return size ? int64_t(bytes.size() / size) : 0;
}

double Array::value(int64_t i) const {
  double v;
  converter(dtype, "f64")(bytes.data() + size_t(i) * dtypeSize(dtype),
                          reinterpret_cast<uint8_t *>(&v), 1, 1);
  return v;
}

Array Array::ofValues(std::string path, std::string sourceType, std::vector<int64_t> shape,
                      const std::vector<double> &values) {
  Array a;
  a.path = std::move(path);
  a.sourceType = std::move(sourceType);
  a.dtype = "f64";
  a.shape = std::move(shape);
  a.bytes.resize(values.size() * 8);
  std::memcpy(a.bytes.data(), values.data(), a.bytes.size());
  return a;
}

/// Row e of a text column holds characters [start(e), start(e) + T) of the
/// corpus as vocabulary indices (the target's shifted by one).
struct TextWindows {
  Corpus corpus;
  int64_t chunks = 0, perStream = 0, T = 0;
  bool windows = false; ///< rows are windows at offsets rT, not stream chunks
  /// From shards: per shard the last chunk that reads it; a shard's pages
  /// are dropped a few chunks after (streams read their text once, in order).
  std::vector<int64_t> lastChunk;
  std::mutex mu;
  std::vector<bool> dropped;
  int64_t highest = -1; ///< the latest chunk read (lower again: a new epoch)

  /// `shift`: the target's one character. A window's row is k + s * chunks
  /// (Dataset::order's encoding of the epoch's shift s).
  int64_t start(int64_t row, int64_t shift) const {
    if (windows)
      return (row % chunks) * T + row / chunks + shift;
    return (row / chunks) * perStream + (row % chunks) * T + shift;
  }
};

size_t Column::rowBytes() const { return size_t(spec.rowElements()) * dtypeSize(spec.dtype); }

size_t Column::sourceRowBytes() const {
  return size_t(spec.rowElements()) * dtypeSize(sourceDtype);
}

void convertElements(const std::string &from, const uint8_t *src, const std::string &to,
                     uint8_t *dst, size_t n, double scale) {
  if (from == to && scale == 1) {
    std::memcpy(dst, src, n * dtypeSize(to));
    return;
  }
  converter(from, to)(src, dst, n, scale);
}

absl::Status Column::gatherText(const int64_t *indices, size_t n, uint8_t *out) const {
  TextWindows &w = *text;
  const Corpus &c = w.corpus;
  bool wide = spec.dtype == "i64";
  std::vector<int64_t> at(size_t(w.T));
  std::vector<const uint8_t *> bytes(size_t(w.T));
  for (size_t i = 0; i < n; ++i) {
    int64_t start = w.start(indices[i], int64_t(field));
    const uint8_t *run = nullptr;
    if (!c.shards) {
      run = reinterpret_cast<const uint8_t *>(c.text.data()) + start;
    } else {
      for (int64_t t = 0; t < w.T; ++t)
        at[size_t(t)] = start + t;
      if (absl::Status s = c.shards->records(c.field, at.data(), at.size(), bytes.data()); !s.ok())
        return s;
    }
    for (int64_t t = 0; t < w.T; ++t) {
      int32_t id = c.id[run ? run[t] : *bytes[size_t(t)]];
      uint8_t *o = out + (i * size_t(w.T) + size_t(t)) * (wide ? 8 : 4);
      if (wide)
        store<int64_t>(o, id);
      else
        store<int32_t>(o, id);
    }
  }
  if (c.shards && n > 0 && w.windows) {
    // Windows are read at random: nothing is read past for good, so every
    // batch gives back the pages it read (they stay in the page cache; a
    // later window faults them in again), or a process would map the whole
    // text over an epoch.
    std::vector<int64_t> read;
    for (size_t i = 0; i < n; ++i)
      for (int64_t at : {w.start(indices[i], int64_t(field)),
                         w.start(indices[i], int64_t(field)) + w.T - 1})
        read.push_back(c.shards->shardOf(at));
    std::sort(read.begin(), read.end());
    read.erase(std::unique(read.begin(), read.end()), read.end());
    for (int64_t sh : read)
      c.shards->drop(sh);
  }
  if (c.shards && n > 0 && !w.windows) {
    // Every stream has read past the shards whose last chunk is a few
    // behind this one (a margin for batches made out of order).
    int64_t chunk = indices[0] % w.chunks;
    std::lock_guard<std::mutex> lock(w.mu);
    // The next epoch reads from the start again (batches come out of order
    // by a few at most).
    int64_t margin = std::min<int64_t>(16, w.chunks / 2);
    bool again = chunk + margin < w.highest;
    if (again)
      w.dropped.assign(w.dropped.size(), false);
    w.highest = again ? chunk : std::max(w.highest, chunk);
    for (size_t sh = 0; sh < w.lastChunk.size(); ++sh)
      if (!w.dropped[sh] && w.lastChunk[sh] + 8 < chunk) {
        c.shards->drop(int64_t(sh));
        w.dropped[sh] = true;
      }
  }
  return absl::OkStatus();
}

absl::Status Column::gather(const int64_t *indices, size_t n, uint8_t *out) const {
  if (text)
    return gatherText(indices, n, out);
  size_t rb = rowBytes(), srb = sourceRowBytes(), elems = size_t(spec.rowElements());
  bool isFloat = spec.dtype == "f32" || spec.dtype == "f64";
  double s = isFloat ? scale : 1;
  const uint8_t *stackSrc[256];
  std::vector<const uint8_t *> heapSrc(n > 256 ? n : 0);
  const uint8_t **src = n > 256 ? heapSrc.data() : stackSrc;
  if (shards) {
    if (absl::Status st = shards->records(field, indices, n, src); !st.ok())
      return st;
  } else {
    for (size_t i = 0; i < n; ++i)
      src[i] = bytes.data() + size_t(indices[i]) * srb;
  }
  if (sourceDtype == "u8" && spec.dtype == "f32") {
    // Pixels through a table of the 256 values, each rounded as the general
    // case rounds (in double, then to float): the bits do not depend on the
    // path.
    float table[256];
    for (int v = 0; v < 256; ++v)
      table[v] = static_cast<float>(double(v) * s);
    for (size_t i = 0; i < n; ++i) {
      // The rows are scattered (a shuffle): fetch the next one's lines
      // while this one converts.
      if (i + 1 < n)
        for (size_t k = 0; k < srb; k += 64)
          __builtin_prefetch(src[i + 1] + k);
      float *o = reinterpret_cast<float *>(out + i * rb);
      const uint8_t *p = src[i];
      for (size_t k = 0; k < elems; ++k)
        o[k] = table[p[k]];
    }
    return absl::OkStatus();
  }
  if (sourceDtype == spec.dtype && s == 1) {
    for (size_t i = 0; i < n; ++i)
      std::memcpy(out + i * rb, src[i], rb);
    return absl::OkStatus();
  }
  ConvertFn convert = converter(sourceDtype, spec.dtype);
  for (size_t i = 0; i < n; ++i)
    convert(src[i], out + i * rb, elems, s);
  return absl::OkStatus();
}

absl::StatusOr<Array> readArray(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return absl::NotFoundError(
        absl::StrCat("cannot open data file '", path, "': ", std::strerror(errno)));
  char magic[6] = {};
  in.read(magic, 6);
  Array a;
  a.path = path;
  if (in.gcount() == 6 && std::memcmp(magic, "\x93NUMPY", 6) == 0) {
    auto npy = readNpy(path);
    if (!npy.ok())
      return npy.status();
    a.sourceType = ".npy " + npy->dtype;
    a.dtype = npy->dtype;
    a.shape = npy->shape;
    a.bytes = std::move(npy->bytes);
    return a;
  }
  auto idx = readIdx(path);
  if (!idx.ok())
    return absl::InvalidArgumentError(absl::StrCat(
        idx.status().message(), " (data files are IDX, gzipped or raw, or NumPy .npy)"));
  static const std::map<uint8_t, const char *> kNames = {
      {0x08, "u8"}, {0x09, "i8"}, {0x0B, "i16"}, {0x0C, "i32"}, {0x0D, "f32"}, {0x0E, "f64"}};
  a.dtype = kNames.at(idx->typeCode);
  a.sourceType = absl::StrCat("IDX ", a.dtype);
  a.shape = idx->dims;
  // IDX is big-endian: bytes reversed in place per element (u8/i8 as they are).
  int size = idx->elementSize();
  if (size > 1)
    for (size_t i = 0; i + size_t(size) <= idx->bytes.size(); i += size_t(size))
      std::reverse(idx->bytes.begin() + long(i), idx->bytes.begin() + long(i) + size);
  a.bytes = std::move(idx->bytes);
  return a;
}

absl::StatusOr<Column> makeColumn(Array array, const ArgSpec &spec,
                                  std::vector<int64_t> *badRows) {
  auto fail = [&](const std::string &why) {
    return absl::InvalidArgumentError(absl::StrCat(
        "data '", array.path, "' (", array.sourceType, " ", shapeStr(array.shape),
        ") for argument '", spec.name, "' (", spec.dtype, " ", shapeStr(spec.shape), "): ", why));
  };
  if (array.shape.empty())
    return fail("a scalar has no examples; the first dimension counts examples");
  int64_t perRow = 1;
  for (size_t i = 1; i < array.shape.size(); ++i)
    perRow *= array.shape[i];
  if (perRow != spec.rowElements())
    return fail(absl::StrCat("one example holds ", perRow, " values, the argument takes ",
                             spec.rowElements(), " per example"));
  Column c;
  c.spec = spec;
  c.rows = array.shape[0];
  if (c.rows == 0)
    return fail("no examples");
  bool isFloat = spec.dtype == "f32" || spec.dtype == "f64";
  bool isInt = spec.dtype == "i32" || spec.dtype == "i64" || spec.dtype == "i1";
  if (!isFloat && !isInt)
    return fail("arguments of this dtype cannot be fed from files yet");
  c.scale = isFloat && array.sourceType == "IDX u8" ? 1.0 / 255.0 : 1.0;
  if (absl::Status s = checkValues(array.dtype, array.bytes.data(), array.count(), spec, 0, badRows);
      !s.ok() && !badRows)
    return fail(std::string(s.message()));
  c.sourceDtype = array.dtype;
  c.bytes = std::move(array.bytes);
  return c;
}

absl::Status checkValues(const std::string &dtype, const uint8_t *p, int64_t n,
                         const ArgSpec &spec, int64_t first, std::vector<int64_t> *badRows) {
  bool isInt = spec.dtype == "i32" || spec.dtype == "i64" || spec.dtype == "i1";
  if (!isInt)
    return absl::OkStatus();
  double lo = spec.dtype == "i32" ? -2147483648.0 : spec.dtype == "i1" ? 0.0 : -9.007e15;
  double hi = spec.dtype == "i32" ? 2147483647.0 : spec.dtype == "i1" ? 1.0 : 9.007e15;
  int64_t perRow = std::max<int64_t>(spec.rowElements(), 1);
  size_t size = dtypeSize(dtype);
  absl::Status firstBad;
  // As doubles, a chunk at a time (every label of a data set is checked
  // before step 1).
  ConvertFn toDouble = converter(dtype, "f64");
  std::vector<double> chunk(size_t(std::min<int64_t>(n, 4096)));
  for (int64_t k = 0; k < n; ++k) {
    if (k % int64_t(chunk.size()) == 0)
      toDouble(p + size_t(k) * size, reinterpret_cast<uint8_t *>(chunk.data()),
               size_t(std::min<int64_t>(n - k, int64_t(chunk.size()))), 1);
    double v = chunk[size_t(k % int64_t(chunk.size()))];
    int64_t i = first + k;
    absl::Status bad;
    if (v != std::floor(v) || v < lo || v > hi)
      bad = absl::InvalidArgumentError(absl::StrCat(
          "value ", v, " at element ", i, " is not an integer in the range of ", spec.dtype));
    else if (spec.classes > 0 && (v < 0 || v >= double(spec.classes)))
      bad = absl::InvalidArgumentError(absl::StrCat(
          "value ", v, " of example ", i / perRow, " is not a class of the model (labels are in [0, ",
          spec.classes, "))"));
    if (bad.ok())
      continue;
    if (!badRows)
      return bad;
    if (firstBad.ok())
      firstBad = bad;
    if (badRows->empty() || badRows->back() != i / perRow)
      badRows->push_back(i / perRow);
  }
  return firstBad;
}

void Corpus::setVocabulary(const bool seen[256]) {
  vocab.clear();
  for (int b = 0; b < 256; ++b)
    if (seen[b]) {
      id[b] = int32_t(vocab.size());
      vocab.push_back(char(b));
    }
}

void Corpus::useBytes() {
  vocab.resize(256);
  for (int b = 0; b < 256; ++b) {
    vocab[size_t(b)] = char(b);
    id[b] = b;
  }
}

absl::Status Corpus::useVocabulary(const std::string &otherVocab, const std::string &otherPath) {
  for (unsigned char ch : vocab)
    if (otherVocab.find(char(ch)) == std::string::npos) {
      std::string at;
      if (size_t pos = text.find(char(ch)); pos != std::string::npos)
        at = absl::StrCat(" at byte offset ", pos);
      std::string shown = ch >= 32 && ch < 127 ? absl::StrCat("'", std::string(1, char(ch)), "'")
                                               : absl::StrCat("byte 0x", absl::Hex(ch));
      return absl::InvalidArgumentError(
          absl::StrCat("text '", path, "' has the character ", shown, at,
                       ", which is not in the vocabulary of '", otherPath, "' (",
                       otherVocab.size(), " characters)"));
    }
  vocab = otherVocab;
  std::fill(std::begin(id), std::end(id), 0);
  for (size_t i = 0; i < vocab.size(); ++i)
    id[static_cast<unsigned char>(vocab[i])] = int32_t(i);
  return absl::OkStatus();
}

absl::StatusOr<Corpus> readText(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return absl::NotFoundError(
        absl::StrCat("cannot open text file '", path, "': ", std::strerror(errno)));
  Corpus c;
  c.path = path;
  c.text.assign((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (c.text.size() < 2)
    return absl::InvalidArgumentError(absl::StrCat("text file '", path, "' has ", c.text.size(),
                                                   " bytes; a character model needs more"));
  c.size = int64_t(c.text.size());
  bool seen[256] = {};
  for (unsigned char ch : c.text)
    seen[ch] = true;
  c.setVocabulary(seen);
  return c;
}

absl::StatusOr<Corpus> textFromShards(std::shared_ptr<ShardSet> shards, size_t field) {
  const ShardIndex &ix = shards->index();
  const ShardField &f = ix.fields[field];
  if (f.recordBytes() != 1)
    return absl::InvalidArgumentError(absl::StrCat(
        "'", ix.dir, "' field '", f.name, "' is not text (one byte a record; it is ", f.dtype,
        " [", absl::StrJoin(f.shape, ", "), "])"));
  Corpus c;
  c.path = ix.dir;
  c.shards = shards;
  c.field = field;
  c.size = ix.records;
  bool seen[256] = {};
  for (int64_t s = 0; s < int64_t(ix.shards.size()); ++s) {
    auto p = shards->record(field, shards->firstRecord(s)); // a shard's bytes are contiguous
    if (!p.ok())
      return p.status();
    for (int64_t i = 0; i < ix.shards[size_t(s)].records; ++i)
      seen[(*p)[i]] = true;
    shards->release(s);
  }
  if (c.size < 2)
    return absl::InvalidArgumentError(absl::StrCat("the text in '", ix.dir, "' has ", c.size,
                                                   " bytes; a character model needs more"));
  c.setVocabulary(seen);
  shards->resetStats();
  return c;
}


absl::StatusOr<Dataset> Dataset::fromColumns(std::vector<Column> columns) {
  if (columns.empty())
    return absl::InvalidArgumentError("no data columns");
  for (const Column &c : columns)
    if (c.rows != columns[0].rows)
      return absl::InvalidArgumentError(absl::StrCat("data for '", columns[0].spec.name, "' has ",
                                                     columns[0].rows, " examples but data for '",
                                                     c.spec.name, "' has ", c.rows));
  Dataset d;
  d.rows_ = columns[0].rows;
  d.columns_ = std::move(columns);
  return d;
}

absl::StatusOr<Dataset> Dataset::fromShards(std::shared_ptr<ShardSet> shards,
                                            std::vector<Column> columns) {
  auto d = fromColumns(std::move(columns));
  if (!d.ok())
    return d.status();
  d->shards_ = std::move(shards);
  return d;
}

absl::StatusOr<Dataset> Dataset::fromText(Corpus corpus, const ArgSpec &input,
                                          const ArgSpec &target, bool windowed) {
  for (const ArgSpec *s : {&input, &target})
    if (s->shape.size() != 2 || (s->dtype != "i32" && s->dtype != "i64"))
      return absl::InvalidArgumentError(
          absl::StrCat("text '", corpus.path, "' feeds [batch, steps] integer arguments; '",
                       s->name, "' is ", s->dtype, " ", shapeStr(s->shape)));
  if (input.shape != target.shape)
    return absl::InvalidArgumentError(
        absl::StrCat("text input '", input.name, "' ", shapeStr(input.shape), " and target '",
                     target.name, "' ", shapeStr(target.shape), " differ in shape"));
  if (target.classes > 0 && int64_t(corpus.vocab.size()) > target.classes)
    return absl::InvalidArgumentError(absl::StrCat(
        "text '", corpus.path, "' has ", corpus.vocab.size(),
        " distinct characters, more than the model's ", target.classes,
        " classes for '", target.name, "' (build the model with a vocabulary of ",
        corpus.vocab.size(), ")"));
  int64_t B = input.shape[0], T = input.shape[1];
  if (windowed) {
    int64_t rows = T > 0 ? (corpus.size - 1) / T : 0;
    if (rows < 1)
      return absl::InvalidArgumentError(absl::StrCat("text '", corpus.path, "' has ", corpus.size,
                                                     " characters, too few for one window of ", T,
                                                     " (needs ", T + 1, ")"));
    // One window less than fits, so that every epoch's shift in [0, T)
    // keeps all of them (and their targets) inside the text.
    if (rows > 1)
      --rows;
    Dataset d;
    d.rows_ = rows;
    d.windowShifts_ = std::min(T, corpus.size - rows * T);
    auto w = std::make_shared<TextWindows>();
    w->corpus = std::move(corpus);
    w->windows = true;
    w->chunks = rows;
    w->T = T;
    for (const ArgSpec *s : {&input, &target}) {
      Column c;
      c.spec = *s;
      c.sourceDtype = s->dtype;
      c.rows = rows;
      c.text = w;
      c.field = s == &target ? 1 : 0; // the window's shift
      d.columns_.push_back(std::move(c));
    }
    return d;
  }
  int64_t perStream = (corpus.size - 1) / B;
  int64_t chunks = perStream / T;
  if (chunks < 1)
    return absl::InvalidArgumentError(
        absl::StrCat("text '", corpus.path, "' has ", corpus.size,
                     " characters, too few for one batch of ", B, " streams x ", T,
                     " steps (needs ", B * T + 1, ")"));
  Dataset d;
  d.shuffles_ = false;
  d.rows_ = B * chunks;
  auto windows = std::make_shared<TextWindows>();
  windows->corpus = std::move(corpus);
  windows->chunks = chunks;
  windows->perStream = perStream;
  windows->T = T;
  if (windows->corpus.shards) {
    const ShardSet &set = *windows->corpus.shards;
    size_t n = set.index().shards.size();
    windows->lastChunk.assign(n, -1);
    windows->dropped.assign(n, false);
    // A shard's last reader: the chunk at its last byte, or at the last
    // byte of a stream that ends inside it.
    for (size_t sh = 0; sh < n; ++sh) {
      int64_t lo = set.firstRecord(int64_t(sh)), hi = lo + set.index().shards[sh].records;
      auto chunkAt = [&](int64_t x) {
        int64_t b = std::min(x / perStream, B - 1);
        return std::min((x - b * perStream) / T, chunks - 1);
      };
      int64_t last = chunkAt(hi - 1);
      for (int64_t b = lo / perStream + 1; b * perStream < hi && b <= B; ++b)
        last = std::max(last, chunkAt(b * perStream - 1));
      windows->lastChunk[sh] = last;
    }
  }
  for (const ArgSpec *s : {&input, &target}) {
    Column c;
    c.spec = *s;
    c.sourceDtype = s->dtype;
    c.rows = d.rows_;
    c.text = windows;
    c.field = s == &target ? 1 : 0; // the window's shift
    d.columns_.push_back(std::move(c));
  }
  return d;
}

void Dataset::exclude(std::vector<int64_t> rows) {
  rows.insert(rows.end(), excluded_.begin(), excluded_.end());
  std::sort(rows.begin(), rows.end());
  rows.erase(std::unique(rows.begin(), rows.end()), rows.end());
  rows_ += int64_t(excluded_.size()) - int64_t(rows.size());
  excluded_ = std::move(rows);
}

std::vector<int64_t> Dataset::order(uint64_t seed, int64_t epoch, bool shuffle) const {
  std::vector<int64_t> perm(static_cast<size_t>(rows_));
  if (!shuffles_) {
    // Stream layout: batch k = chunk k of every stream.
    int64_t B = columns_[0].spec.shape[0], chunks = rows_ / B;
    for (int64_t k = 0, i = 0; k < chunks; ++k)
      for (int64_t b = 0; b < B; ++b)
        perm[size_t(i++)] = b * chunks + k;
    return perm;
  }
  for (int64_t i = 0, r = 0, x = 0; i < rows_; ++i, ++r) {
    for (; x < int64_t(excluded_.size()) && excluded_[size_t(x)] == r; ++x)
      ++r; // skipped bad records
    perm[size_t(i)] = r;
  }
  if (!shuffle)
    return perm;
  // Fisher-Yates with a generator of fixed definition (std::shuffle's use of
  // the generator is implementation-defined; resume must be exact).
  std::mt19937_64 rng(seed * 0x9E3779B97F4A7C15ull + uint64_t(epoch) + 1);
  for (int64_t i = rows_ - 1; i > 0; --i) {
    unsigned __int128 m = (unsigned __int128)rng() * uint64_t(i + 1);
    std::swap(perm[size_t(i)], perm[size_t(uint64_t(m >> 64))]);
  }
  if (windowShifts_ > 1) {
    int64_t shift = int64_t(((unsigned __int128)rng() * uint64_t(windowShifts_)) >> 64);
    int64_t chunks = columns_.front().text->chunks; // TextWindows::start decodes by it
    for (int64_t &v : perm)
      v += shift * chunks;
  }
  return perm;
}

int64_t Dataset::windowStart(int64_t v) const {
  return !columns_.empty() && columns_.front().text ? columns_.front().text->start(v, 0) : -1;
}

namespace {
/// The generator of an epoch's shuffles (fixed definition: resume and the
/// ranks' agreement depend on it).
std::mt19937_64 epochRng(uint64_t seed, int64_t epoch, uint64_t stream = 0) {
  return std::mt19937_64(seed * 0x9E3779B97F4A7C15ull + uint64_t(epoch) + 1 +
                         stream * 0xD1B54A32D192ED03ull);
}
/// Uniform in [0, n) from one draw (Lemire's multiply-shift).
uint64_t below(std::mt19937_64 &rng, uint64_t n) {
  return uint64_t(((unsigned __int128)rng() * n) >> 64);
}
} // namespace

std::vector<int64_t> Dataset::rankOrder(uint64_t seed, int64_t epoch, bool shuffle, int rank,
                                        int world, int64_t batch, int64_t batches,
                                        int64_t shuffleBuffer,
                                        std::vector<SpillPoint> *spills) const {
  const ShardIndex &index = shards_->index();
  int64_t nShards = int64_t(index.shards.size());
  std::vector<int64_t> shardSeq(static_cast<size_t>(nShards));
  for (int64_t i = 0; i < nShards; ++i)
    shardSeq[size_t(i)] = i;
  std::mt19937_64 rng = epochRng(seed, epoch);
  if (shuffle)
    for (int64_t i = nShards - 1; i > 0; --i)
      std::swap(shardSeq[size_t(i)], shardSeq[size_t(below(rng, uint64_t(i + 1)))]);
  // Rank r reads records [r*N/world, (r+1)*N/world) of the shards' stream.
  int64_t n = rows_ + int64_t(excluded_.size()), lo = n * rank / world, hi = n * (rank + 1) / world;
  std::vector<int64_t> order;
  size_t want = size_t(batch * batches);
  order.reserve(size_t(std::max(hi - lo, int64_t(want))));
  // tf.data's shuffle buffer over the stream of records (generated as it is
  // consumed: the order is the only per-record memory): fill, then emit a
  // random slot and refill it.
  bool buffered = shuffle && shuffleBuffer > 1;
  std::mt19937_64 srng = epochRng(seed, epoch, uint64_t(rank) + 1);
  std::vector<int64_t> buffer;
  size_t cap = size_t(std::max<int64_t>(shuffleBuffer, 1));
  int64_t at = 0;
  for (int64_t sh : shardSeq) {
    int64_t count = index.shards[size_t(sh)].records, first = shards_->firstRecord(sh);
    for (int64_t k = std::max(lo, at); k < std::min(hi, at + count); ++k) {
      int64_t r = first + (k - at);
      if (!excluded_.empty() && std::binary_search(excluded_.begin(), excluded_.end(), r))
        continue;
      if (!buffered) {
        order.push_back(r);
      } else if (buffer.size() < cap) {
        buffer.push_back(r);
      } else {
        size_t j = size_t(below(srng, buffer.size()));
        order.push_back(buffer[j]);
        buffer[j] = r;
      }
    }
    if (buffered && spills && std::min(hi, at + count) > std::max(lo, at))
      spills->push_back({int64_t(order.size()), sh});
    at += count;
    if (at >= hi)
      break;
  }
  for (size_t i = buffer.size(); i > 1; --i)
    std::swap(buffer[i - 1], buffer[size_t(below(srng, i))]);
  order.insert(order.end(), buffer.begin(), buffer.end());
  // Exactly `batches` batches: every rank steps alike (wrapping when short).
  if (order.size() > want)
    order.resize(want);
  if (spills && order.size() < want)
    for (SpillPoint &sp : *spills)
      sp.end = int64_t(order.size());
  for (size_t i = 0, have = order.size(); have > 0 && order.size() < want; ++i)
    order.push_back(order[i % have]);
  return order;
}

absl::Status Dataset::gather(size_t c, const int64_t *indices, size_t n, uint8_t *out) const {
  return columns_[c].gather(indices, n, out);
}

int64_t Batcher::batchesPerEpoch(int64_t rows, int64_t batchSize, bool pad) {
  return pad ? (rows + batchSize - 1) / batchSize : rows / batchSize;
}

Batcher::Batcher(const Dataset &dataset, int64_t batchSize, std::vector<int64_t> order,
                 int64_t start, bool pad, int prefetch, int threads,
                 std::vector<SpillPoint> spills)
    : dataset_(dataset), batchSize_(batchSize), start_(start),
      count_(batchesPerEpoch(int64_t(order.size()), batchSize, pad)), order_(std::move(order)),
      capacity_(size_t(std::max(prefetch, 1))) {
  consumed_ = claimed_ = forgotten_ = start_;
  padRows_ = std::max<int64_t>(0, count_ * batchSize_ - int64_t(order_.size()));
  if (const std::shared_ptr<ShardSet> &shards = dataset_.shards()) {
    // Each shard's last use in this epoch's order, to unmap it after.
    lastPos_.assign(shards->index().shards.size(), -1);
    spillFrom_.assign(lastPos_.size(), std::numeric_limits<int64_t>::max());
    int64_t end = std::min<int64_t>(count_ * batchSize_, int64_t(order_.size()));
    for (int64_t p = start_ * batchSize_; p < end; ++p)
      lastPos_[size_t(shards->shardOf(order_[size_t(p)]))] = p;
    for (size_t shard = 0; shard < lastPos_.size(); ++shard)
      if (lastPos_[shard] >= 0)
        lastUse_.push_back({lastPos_[shard], int64_t(shard)});
    std::sort(lastUse_.begin(), lastUse_.end());
    spills_ = std::move(spills);
    for (const SpillPoint &sp : spills_)
      spillEnd_ = std::min(spillEnd_, sp.end);
    std::sort(spills_.begin(), spills_.end(),
              [](const SpillPoint &a, const SpillPoint &b) { return a.position < b.position; });
  }
  for (int t = 0; t < std::max(threads, 1); ++t)
    threads_.emplace_back([this] { produce(); });
}

Batcher::~Batcher() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  for (std::thread &t : threads_)
    t.join();
  if (!spills_.empty())
    dataset_.shards()->forgetAll();
}

std::unique_ptr<Batch> Batcher::make(int64_t index) {
  auto batch = std::make_unique<Batch>();
  batch->index = index;
  std::vector<std::vector<uint8_t>> spare;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!spare_.empty()) {
      spare = std::move(spare_.back());
      spare_.pop_back();
    }
  }
  std::vector<int64_t> rows(static_cast<size_t>(batchSize_));
  for (int64_t i = 0; i < batchSize_; ++i) {
    int64_t pos = index * batchSize_ + i;
    // Padding wraps around to the start of the epoch's order.
    rows[size_t(i)] = order_[size_t(pos % int64_t(order_.size()))];
  }
  for (size_t c = 0; c < dataset_.columns().size(); ++c) {
    std::vector<uint8_t> buf = c < spare.size() ? std::move(spare[c]) : std::vector<uint8_t>();
    buf.resize(dataset_.columns()[c].rowBytes() * size_t(batchSize_)); // every byte is written
    batch->status = dataset_.gather(c, rows.data(), rows.size(), buf.data());
    if (!batch->status.ok())
      break;
    batch->buffers.push_back(std::move(buf));
  }
  return batch;
}

void Batcher::recycle(std::unique_ptr<Batch> batch) {
  if (!batch)
    return;
  std::lock_guard<std::mutex> lock(mu_);
  if (spare_.size() < capacity_ + threads_.size())
    spare_.push_back(std::move(batch->buffers));
}

void Batcher::releaseShards(int64_t index) {
  if (!dataset_.shards())
    return;
  int64_t done = (index + 1) * batchSize_; // positions before it are read
  for (; released_ < lastUse_.size() && lastUse_[released_].first < done; ++released_)
    dataset_.shards()->release(lastUse_[released_].second);
}

absl::Status Batcher::spillAndForget(int64_t index) {
  ShardSet &shards = *dataset_.shards();
  std::vector<SpillPoint> due; // position: where the copy starts
  std::vector<int64_t> done;
  {
    std::lock_guard<std::mutex> lock(mu_);
    // Slots count the positions they serve, from where their spill began:
    // the positions consumed since the last call give theirs back (not the
    // ones the padded last batch reads again).
    for (int64_t p = std::max(forgotten_ * batchSize_, padRows_),
                 end = std::min(consumed_ * batchSize_, int64_t(order_.size()));
         p < end; ++p) {
      int64_t r = order_[size_t(p)];
      if (p >= spillFrom_[size_t(shards.shardOf(r))] && p < spillEnd_)
        done.push_back(r);
    }
    forgotten_ = consumed_;
    for (; spilled_ < spills_.size() && spills_[spilled_].position <= index * batchSize_;
         ++spilled_) {
      int64_t shard = spills_[spilled_].shard;
      if (shard >= 0 && shard < int64_t(spillFrom_.size()) && lastPos_[size_t(shard)] >= 0) {
        spillFrom_[size_t(shard)] = index * batchSize_;
        due.push_back({index * batchSize_, shard, spills_[spilled_].end});
      }
    }
  }
  if (!done.empty())
    shards.forget(done.data(), done.size());
  for (const SpillPoint &sp : due) {
    // The shard's records from this batch on (earlier batches, made by
    // other threads, read the mapping), up to where the order repeats.
    int64_t shard = sp.shard;
    std::vector<int64_t> rest;
    for (int64_t p = sp.position; p <= std::min(lastPos_[size_t(shard)], sp.end - 1); ++p)
      if (shards.shardOf(order_[size_t(p)]) == shard)
        rest.push_back(order_[size_t(p)]);
    if (!rest.empty())
      if (absl::Status s = shards.spill(shard, std::move(rest)); !s.ok())
        return s;
  }
  return absl::OkStatus();
}

void Batcher::produce() {
  for (;;) {
    int64_t index;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] {
        return stop_ || claimed_ >= count_ || claimed_ < consumed_ + int64_t(capacity_);
      });
      if (stop_ || claimed_ >= count_)
        return;
      index = claimed_++;
    }
    std::unique_ptr<Batch> batch;
    if (absl::Status s = spills_.empty() ? absl::OkStatus() : spillAndForget(index); !s.ok()) {
      batch = std::make_unique<Batch>();
      batch->index = index;
      batch->status = s;
    } else {
      batch = make(index);
    }
    std::lock_guard<std::mutex> lock(mu_);
    ready_[index] = std::move(batch);
    cv_.notify_all();
  }
}

std::unique_ptr<Batch> Batcher::next() {
  std::unique_ptr<Batch> batch;
  {
    std::unique_lock<std::mutex> lock(mu_);
    if (consumed_ >= count_)
      return nullptr;
    cv_.wait(lock, [&] { return ready_.count(consumed_) > 0; });
    auto it = ready_.find(consumed_);
    batch = std::move(it->second);
    ready_.erase(it);
    ++consumed_;
    cv_.notify_all();
  }
  // Every batch up to this one is made, and the later ones read later
  // positions only: the shards whose last record is behind it can go.
  releaseShards(batch->index);
  return batch;
}

} // namespace data
} // namespace tg
