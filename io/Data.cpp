//===- Data.cpp - training data: columns, text corpora, batches -----------===//
#include "io/Data.h"

#include "io/Idx.h"
#include "io/Npy.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <random>

namespace tg {
namespace data {
namespace {

std::string shapeStr(const std::vector<int64_t> &shape) {
  return absl::StrCat("[", absl::StrJoin(shape, ", "), "]");
}

size_t dtypeBytes(const std::string &dtype) {
  if (dtype == "f64" || dtype == "i64")
    return 8;
  if (dtype == "i1")
    return 1;
  if (dtype == "f16" || dtype == "bf16")
    return 2;
  return 4;
}

template <typename T> void store(uint8_t *out, double v) {
  T t = static_cast<T>(v);
  std::memcpy(out, &t, sizeof t);
}

} // namespace

int64_t ArgSpec::rowElements() const {
  int64_t n = 1;
  for (size_t i = 1; i < shape.size(); ++i)
    n *= shape[i];
  return n;
}

size_t Column::rowBytes() const { return size_t(spec.rowElements()) * dtypeBytes(spec.dtype); }

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
    a.shape = npy->shape;
    size_t size = dtypeBytes(npy->dtype);
    size_t n = npy->bytes.size() / size;
    a.values.resize(n);
    const uint8_t *p = npy->bytes.data();
    for (size_t i = 0; i < n; ++i, p += size) {
      if (npy->dtype == "f32") {
        float f;
        std::memcpy(&f, p, 4);
        a.values[i] = f;
      } else if (npy->dtype == "f64") {
        std::memcpy(&a.values[i], p, 8);
      } else if (npy->dtype == "i32") {
        int32_t v;
        std::memcpy(&v, p, 4);
        a.values[i] = v;
      } else if (npy->dtype == "i64") {
        int64_t v;
        std::memcpy(&v, p, 8);
        a.values[i] = double(v);
      } else {
        a.values[i] = *p ? 1.0 : 0.0;
      }
    }
    return a;
  }
  auto idx = readIdx(path);
  if (!idx.ok())
    return absl::InvalidArgumentError(absl::StrCat(
        idx.status().message(), " (data files are IDX, gzipped or raw, or NumPy .npy)"));
  static const std::map<uint8_t, const char *> kNames = {
      {0x08, "u8"}, {0x09, "i8"}, {0x0B, "i16"}, {0x0C, "i32"}, {0x0D, "f32"}, {0x0E, "f64"}};
  a.sourceType = absl::StrCat("IDX ", kNames.at(idx->typeCode));
  a.shape = idx->dims;
  a.values.resize(size_t(idx->count()));
  for (int64_t i = 0; i < idx->count(); ++i)
    a.values[size_t(i)] = idx->value(i);
  return a;
}

absl::StatusOr<Column> makeColumn(const Array &array, const ArgSpec &spec) {
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
  double scale = isFloat && array.sourceType == "IDX u8" ? 1.0 / 255.0 : 1.0;
  size_t size = dtypeBytes(spec.dtype);
  c.bytes.resize(array.values.size() * size);
  double lo = spec.dtype == "i32" ? -2147483648.0 : spec.dtype == "i1" ? 0.0 : -9.007e15;
  double hi = spec.dtype == "i32" ? 2147483647.0 : spec.dtype == "i1" ? 1.0 : 9.007e15;
  for (size_t i = 0; i < array.values.size(); ++i) {
    double v = array.values[i] * scale;
    uint8_t *out = c.bytes.data() + i * size;
    if (isInt && (v != std::floor(v) || v < lo || v > hi))
      return fail(absl::StrCat("value ", v, " at element ", i,
                               " is not an integer in the range of ", spec.dtype));
    if (spec.classes > 0 && (v < 0 || v >= double(spec.classes)))
      return fail(absl::StrCat("value ", v, " of example ", i / size_t(perRow),
                               " is not a class of the model (labels are in [0, ",
                               spec.classes, "))"));
    if (spec.dtype == "f32")
      store<float>(out, v);
    else if (spec.dtype == "f64")
      store<double>(out, v);
    else if (spec.dtype == "i32")
      store<int32_t>(out, v);
    else if (spec.dtype == "i64")
      store<int64_t>(out, v);
    else
      *out = v != 0.0;
  }
  return c;
}

absl::StatusOr<Corpus> readText(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return absl::NotFoundError(
        absl::StrCat("cannot open text file '", path, "': ", std::strerror(errno)));
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (text.size() < 2)
    return absl::InvalidArgumentError(absl::StrCat("text file '", path, "' has ", text.size(),
                                                   " bytes; a character model needs more"));
  Corpus c;
  c.path = path;
  bool seen[256] = {};
  for (unsigned char ch : text)
    seen[ch] = true;
  int32_t index[256];
  for (int b = 0; b < 256; ++b)
    if (seen[b]) {
      index[b] = int32_t(c.vocab.size());
      c.vocab.push_back(char(b));
    }
  c.ids.reserve(text.size());
  for (unsigned char ch : text)
    c.ids.push_back(index[ch]);
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

absl::StatusOr<Dataset> Dataset::fromText(const Corpus &corpus, const ArgSpec &input,
                                          const ArgSpec &target) {
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
  int64_t perStream = (int64_t(corpus.ids.size()) - 1) / B;
  int64_t chunks = perStream / T;
  if (chunks < 1)
    return absl::InvalidArgumentError(
        absl::StrCat("text '", corpus.path, "' has ", corpus.ids.size(),
                     " characters, too few for one batch of ", B, " streams x ", T,
                     " steps (needs ", B * T + 1, ")"));
  Dataset d;
  d.shuffles_ = false;
  d.rows_ = B * chunks;
  for (const ArgSpec *s : {&input, &target}) {
    Column c;
    c.spec = *s;
    c.rows = d.rows_;
    size_t size = dtypeBytes(s->dtype);
    c.bytes.resize(size_t(d.rows_ * T) * size);
    int64_t shift = s == &target ? 1 : 0;
    // Row e = stream e / chunks, chunk e % chunks.
    for (int64_t e = 0; e < d.rows_; ++e) {
      int64_t start = (e / chunks) * perStream + (e % chunks) * T + shift;
      for (int64_t t = 0; t < T; ++t) {
        uint8_t *out = c.bytes.data() + size_t(e * T + t) * size;
        if (size == 4)
          store<int32_t>(out, corpus.ids[size_t(start + t)]);
        else
          store<int64_t>(out, corpus.ids[size_t(start + t)]);
      }
    }
    d.columns_.push_back(std::move(c));
  }
  return d;
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
  for (int64_t i = 0; i < rows_; ++i)
    perm[size_t(i)] = i;
  if (!shuffle)
    return perm;
  // Fisher-Yates with a generator of fixed definition (std::shuffle's use of
  // the generator is implementation-defined; resume must be exact).
  std::mt19937_64 rng(seed * 0x9E3779B97F4A7C15ull + uint64_t(epoch) + 1);
  for (int64_t i = rows_ - 1; i > 0; --i) {
    unsigned __int128 m = (unsigned __int128)rng() * uint64_t(i + 1);
    std::swap(perm[size_t(i)], perm[size_t(uint64_t(m >> 64))]);
  }
  return perm;
}

void Dataset::gather(size_t c, const int64_t *indices, size_t n, uint8_t *out) const {
  const Column &col = columns_[c];
  size_t rb = col.rowBytes();
  for (size_t i = 0; i < n; ++i)
    std::memcpy(out + i * rb, col.bytes.data() + size_t(indices[i]) * rb, rb);
}

int64_t Batcher::batchesPerEpoch(int64_t rows, int64_t batchSize, bool pad) {
  return pad ? (rows + batchSize - 1) / batchSize : rows / batchSize;
}

Batcher::Batcher(const Dataset &dataset, int64_t batchSize, std::vector<int64_t> order,
                 int64_t start, bool pad, int prefetch)
    : dataset_(dataset), batchSize_(batchSize), start_(start),
      count_(batchesPerEpoch(int64_t(order.size()), batchSize, pad)), order_(std::move(order)),
      capacity_(size_t(std::max(prefetch, 1))) {
  consumed_ = start_;
  thread_ = std::thread([this] { produce(); });
}

Batcher::~Batcher() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

std::unique_ptr<Batch> Batcher::make(int64_t index) const {
  auto batch = std::make_unique<Batch>();
  batch->index = index;
  std::vector<int64_t> rows(static_cast<size_t>(batchSize_));
  for (int64_t i = 0; i < batchSize_; ++i) {
    int64_t pos = index * batchSize_ + i;
    // Padding wraps around to the start of the epoch's order.
    rows[size_t(i)] = order_[size_t(pos % int64_t(order_.size()))];
  }
  for (size_t c = 0; c < dataset_.columns().size(); ++c) {
    std::vector<uint8_t> buf(dataset_.columns()[c].rowBytes() * size_t(batchSize_));
    dataset_.gather(c, rows.data(), rows.size(), buf.data());
    batch->buffers.push_back(std::move(buf));
  }
  return batch;
}

void Batcher::produce() {
  for (int64_t i = start_; i < count_; ++i) {
    auto batch = make(i);
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return stop_ || queue_.size() < capacity_; });
    if (stop_)
      return;
    queue_.push_back(std::move(batch));
    cv_.notify_all();
  }
}

std::unique_ptr<Batch> Batcher::next() {
  std::unique_lock<std::mutex> lock(mu_);
  if (consumed_ >= count_)
    return nullptr;
  cv_.wait(lock, [&] { return !queue_.empty(); });
  auto batch = std::move(queue_.front());
  queue_.pop_front();
  ++consumed_;
  cv_.notify_all();
  return batch;
}

} // namespace data
} // namespace tg
