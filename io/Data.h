//===- Data.h - training data: columns, text corpora, batches ---*- C++ -*-===//
//
// A Dataset is a set of named columns with one row per example, each already
// converted to the dtype of the artifact argument it feeds. Sources: IDX files
// (gzipped or raw), NumPy .npy files and plain text for character models. A
// Batcher walks a dataset in a seeded order and assembles batches of the
// artifact's batch size on a background thread, a few batches ahead.
//
//===----------------------------------------------------------------------===//
#ifndef TG_IO_DATA_H
#define TG_IO_DATA_H

#include "absl/status/statusor.h"

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace tg {
namespace data {

/// What an artifact argument expects per batch.
struct ArgSpec {
  std::string name, dtype;     ///< dtype in MLIR spelling: f32, i32, ...
  std::vector<int64_t> shape;  ///< [batch, ...]
  int64_t classes = 0;         ///< > 0: values are class indices in [0, classes)
  int64_t rowElements() const; ///< product of shape[1:]
};

/// A numeric array read from a file, values as doubles (exact for every
/// source type: u8..i32, f32, f64; i64 up to 2^53).
struct Array {
  std::string path, sourceType; ///< e.g. "IDX u8", ".npy i64"
  std::vector<int64_t> shape;
  std::vector<double> values;
};

/// Reads an IDX (by content, gzipped or raw) or .npy file (by its magic).
absl::StatusOr<Array> readArray(const std::string &path);

/// One column: `rows` examples of `spec.rowElements()` values each, stored as
/// the bytes of spec.dtype.
struct Column {
  ArgSpec spec;
  int64_t rows = 0;
  std::vector<uint8_t> bytes;
  size_t rowBytes() const;
};

/// Converts an array to the argument's dtype and row shape. The array's first
/// dimension is the example count; the rest must hold as many elements as one
/// row of the argument (so [N, 28, 28] feeds [B, 784] and [B, 1, 28, 28]).
/// IDX u8 into a float argument is scaled to [0, 1] (pixels / 255).
/// Integer arguments need integral values in range. Errors name the file, the
/// argument and both shapes.
absl::StatusOr<Column> makeColumn(const Array &array, const ArgSpec &spec);

/// A character corpus: the vocabulary (sorted distinct bytes) and the text as
/// vocabulary indices.
struct Corpus {
  std::string path, vocab;
  std::vector<int32_t> ids;
};
absl::StatusOr<Corpus> readText(const std::string &path);

class Dataset {
public:
  /// Columns must have equal row counts (error naming both otherwise).
  static absl::StatusOr<Dataset> fromColumns(std::vector<Column> columns);

  /// Truncated-BPTT streams for a [B, T] input and its [B, T] targets (the
  /// input shifted by one character): the corpus is cut into B contiguous
  /// streams, and batch k holds characters [kT, (k+1)T) of every stream, so
  /// recurrent state carried from one batch to the next continues the text.
  /// Such a dataset is never shuffled.
  static absl::StatusOr<Dataset> fromText(const Corpus &corpus, const ArgSpec &input,
                                          const ArgSpec &target);

  int64_t rows() const { return rows_; }
  /// False for text streams: their order is fixed by the layout.
  bool shuffles() const { return shuffles_; }
  const std::vector<Column> &columns() const { return columns_; }
  /// The row order of an epoch: a permutation seeded with (seed, epoch) when
  /// `shuffle`, else 0..rows-1 (for streams, already interleaved per batch).
  std::vector<int64_t> order(uint64_t seed, int64_t epoch, bool shuffle) const;
  /// Copies rows `indices` of column `c` into `out` (indices.size() rows).
  void gather(size_t c, const int64_t *indices, size_t n, uint8_t *out) const;

private:
  std::vector<Column> columns_;
  int64_t rows_ = 0;
  bool shuffles_ = true;
};

/// A batch: one buffer per column of the dataset, in column order.
struct Batch {
  int64_t index = 0; ///< position in the epoch
  std::vector<std::vector<uint8_t>> buffers;
};

/// Produces the batches of one epoch, from batch `start` on, `prefetch`
/// batches ahead on a background thread. A partial last batch is dropped, or
/// with `pad` completed with rows from the start of the epoch's order.
class Batcher {
public:
  Batcher(const Dataset &dataset, int64_t batchSize, std::vector<int64_t> order, int64_t start,
          bool pad, int prefetch);
  ~Batcher();
  Batcher(const Batcher &) = delete;
  Batcher &operator=(const Batcher &) = delete;

  /// Batches in the epoch (after dropping or padding).
  static int64_t batchesPerEpoch(int64_t rows, int64_t batchSize, bool pad);
  /// The next batch, or nullptr at the end of the epoch.
  std::unique_ptr<Batch> next();

private:
  void produce();
  std::unique_ptr<Batch> make(int64_t index) const;

  const Dataset &dataset_;
  int64_t batchSize_, start_, count_;
  std::vector<int64_t> order_;
  size_t capacity_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::unique_ptr<Batch>> queue_;
  int64_t consumed_ = 0;
  bool stop_ = false;
  std::thread thread_;
};

} // namespace data
} // namespace tg

#endif // TG_IO_DATA_H
