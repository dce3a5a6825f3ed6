//===- tg/Data.h - training data: columns, text, batches --------*- C++ -*-===//
//
// A Dataset is a set of named columns with one row per example, each already
// converted to the dtype of the artifact argument it feeds. Sources: IDX files
// (gzipped or raw), NumPy .npy files and plain text for character models. A
// Batcher walks a dataset in a seeded order and assembles batches of the
// artifact's batch size on a background thread, a few batches ahead.
//
//===----------------------------------------------------------------------===//
#ifndef TG_DATA_H
#define TG_DATA_H

#include "absl/status/statusor.h"

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace tg {
namespace data {

/// What an artifact argument expects per batch.
struct ArgSpec {
  std::string name;            ///< the argument's name
  std::string dtype;           ///< in MLIR spelling: f32, i32, ...
  std::vector<int64_t> shape;  ///< [batch, ...]
  int64_t classes = 0;         ///< > 0: values are class indices in [0, classes)
  int64_t rowElements() const; ///< product of shape[1:]
};

/// A numeric array read from a file, its elements as stored (converted to
/// little-endian): the data set is never widened to doubles in memory.
struct Array {
  std::string path;             ///< the file it was read from
  std::string sourceType;       ///< e.g. "IDX u8", ".npy i64"
  std::string dtype;            ///< of `bytes`: u8 i8 i16 i32 i64 f32 f64 i1
  std::vector<int64_t> shape;   ///< dimensions, examples first
  std::vector<uint8_t> bytes;   ///< C order, little-endian
  /// Number of elements (the product of shape).
  int64_t count() const;
  /// Element `i` as a double (exact for every dtype but i64 beyond 2^53).
  double value(int64_t i) const;
  /// An f64 array of `values` (tests, generated data).
  static Array ofValues(std::string path, std::string sourceType, std::vector<int64_t> shape,
                        const std::vector<double> &values);
};

/// Reads an IDX (by content, gzipped or raw) or .npy file (by its magic).
absl::StatusOr<Array> readArray(const std::string &path);

/// Whether `path` is a directory.
bool isDirectory(const std::string &path);

/// Bytes per element of a dtype (u8 ... f64, i1), 0 for an unknown one.
size_t dtypeSize(const std::string &dtype);

class ShardSet;
/// How a text column reads its windows (Dataset::fromText).
struct TextWindows;

/// One column: `rows` examples of `spec.rowElements()` values each, kept in
/// the source's dtype (`bytes`, or the shards of a packed directory, mapped
/// while a batch reads them) and converted to spec.dtype row by row when a
/// batch is assembled.
struct Column {
  ArgSpec spec;                    ///< the argument it feeds
  int64_t rows = 0;                ///< examples
  std::string sourceDtype = "f64"; ///< the dtype of the stored values
  /// Applied to the values fed to a float argument (IDX u8 pixels: 1/255).
  double scale = 1;
  std::vector<uint8_t> bytes; ///< in memory: the rows in sourceDtype
  std::shared_ptr<ShardSet> shards; ///< set: the rows are field `field` of these shards
  /// The shards' field; for a text column, the window's shift (the
  /// target's 1).
  size_t field = 0;
  std::shared_ptr<TextWindows> text; ///< set: the rows are windows of a text
  /// Bytes of one row as fed (spec.dtype).
  size_t rowBytes() const;
  /// Bytes of one row as stored (sourceDtype).
  size_t sourceRowBytes() const;
  /// Rows `indices` converted into `out` (n * rowBytes()). Errors name the
  /// shard and the record (a shard that vanished or shrank since it was
  /// checked).
  absl::Status gather(const int64_t *indices, size_t n, uint8_t *out) const;

private:
  absl::Status gatherText(const int64_t *indices, size_t n, uint8_t *out) const;
};

/// Checks an array against the argument's dtype and row shape and keeps its
/// bytes as the column's source. The array's first dimension is the example
/// count; the rest must hold as many elements as one row of the argument (so
/// [N, 28, 28] feeds [B, 784] and [B, 1, 28, 28]). IDX u8 into a float
/// argument is scaled to [0, 1] (pixels / 255). Integer arguments need
/// integral values in range, labels a class of the model: every value is
/// checked here, before training starts. Errors name the file, the argument
/// and both shapes. With `badRows`, rows holding a bad value are listed
/// there instead (the caller skips them).
absl::StatusOr<Column> makeColumn(Array array, const ArgSpec &spec,
                                  std::vector<int64_t> *badRows = nullptr);

/// Checks `n` values of `dtype` at `p` (elements `first`, ... of a source)
/// for integer argument `spec`: integral, in its range, a class of the
/// model. Float arguments take any value. With `badRows`, every value is
/// checked and the rows of the bad ones appended there (ascending); the
/// first error is returned all the same.
absl::Status checkValues(const std::string &dtype, const uint8_t *p, int64_t n,
                         const ArgSpec &spec, int64_t first = 0,
                         std::vector<int64_t> *badRows = nullptr);

/// The element conversion of a batch: `n` values of `from` at `src` into
/// `to` at `dst`, times `scale` into a float type. Integer targets take
/// values already checked to be integral and in range.
void convertElements(const std::string &from, const uint8_t *src, const std::string &to,
                     uint8_t *dst, size_t n, double scale);

/// A character corpus: its bytes, in memory (`text`) or field `field` of
/// packed shards (one byte a record, read as batches need them), and its
/// vocabulary (the sorted distinct bytes).
struct Corpus {
  std::string path;  ///< the file (or packed directory) read
  std::string vocab; ///< the characters, in id order
  std::string text;  ///< in memory: the bytes
  std::shared_ptr<ShardSet> shards; ///< set: the bytes are field `field` of these shards
  size_t field = 0;                 ///< the shards' field of the text
  int64_t size = 0;    ///< characters
  int32_t id[256] = {}; ///< a byte's index in the vocabulary
  /// Sets vocab and id from the bytes seen.
  void setVocabulary(const bool seen[256]);
  /// Byte-level: every byte is its own id (vocab: the 256 bytes in order),
  /// for models with 256 classes; no text is ever outside it.
  void useBytes();
  /// Reads this text with another's vocabulary `otherVocab` (its characters
  /// in id order; a held-out text with the training text's ids, from
  /// `otherPath`); an error names a character it lacks.
  absl::Status useVocabulary(const std::string &otherVocab, const std::string &otherPath);
};
/// Reads a text file into memory (one byte a character).
absl::StatusOr<Corpus> readText(const std::string &path);
/// The text in field `field` of `shards` (`tgc data pack` of a text file):
/// one pass over it finds the vocabulary; nothing stays in memory.
absl::StatusOr<Corpus> textFromShards(std::shared_ptr<ShardSet> shards, size_t field);



/// Where a shuffle buffer has taken in the last record of a shard: from
/// output position `position` of the epoch's order on, the shard's records
/// still to come are all in the buffer (at most its size).
struct SpillPoint {
  int64_t position = 0; ///< in the epoch's order
  int64_t shard = 0;    ///< the shard taken in whole
  /// Positions from here on repeat earlier ones (a short range wrapped
  /// around to fill its batches): they read the shard, not the slots.
  int64_t end = std::numeric_limits<int64_t>::max();
};

/// Training or evaluation data: named columns of equal row counts (from
/// arrays, a text, or packed shards), read row by row in an epoch's order.
class Dataset {
public:
  /// Columns must have equal row counts (error naming both otherwise).
  static absl::StatusOr<Dataset> fromColumns(std::vector<Column> columns);

  /// Truncated-BPTT streams for a [B, T] input and its [B, T] targets (the
  /// input shifted by one character): the corpus is cut into B contiguous
  /// streams, and batch k holds characters [kT, (k+1)T) of every stream, so
  /// recurrent state carried from one batch to the next continues the text.
  /// Such a dataset is never shuffled.
  /// With `windows` (for models without recurrent state, e.g. a GPT), row r
  /// is instead the window of T characters at offset rT (its targets the
  /// next T), (size - 1) / T - 1 rows (one window left for the per-epoch
  /// shift, below; at least 1), shuffled and split between ranks like any
  /// other rows.
  /// (`corpus` by value: move an in-memory text in rather than copy it.)
  static absl::StatusOr<Dataset> fromText(Corpus corpus, const ArgSpec &input,
                                          const ArgSpec &target, bool windows = false);

  /// A data set read from the shards of a packed directory: the columns'
  /// rows are its records (`tgc data pack`).
  static absl::StatusOr<Dataset> fromShards(std::shared_ptr<ShardSet> shards,
                                            std::vector<Column> columns);

  /// Rows read in an epoch (without the excluded ones).
  int64_t rows() const { return rows_; }
  /// Leaves rows out of every order (bad records a user chose to skip).
  void exclude(std::vector<int64_t> rows);
  /// The rows left out (sorted).
  const std::vector<int64_t> &excluded() const { return excluded_; }
  /// False for text streams: their order is fixed by the layout.
  bool shuffles() const { return shuffles_; }
  /// The shards the rows come from (null: the rows are in memory).
  const std::shared_ptr<ShardSet> &shards() const { return shards_; }
  /// This rank's rows of an epoch of a sharded data set: the shards in a
  /// seeded order (each epoch another) as one stream of records, of which
  /// rank r reads the r-th of `world` contiguous ranges (so it opens about
  /// 1/world of the shards), passed through a shuffle buffer of
  /// `shuffleBuffer` records (seeded by seed, epoch and rank): a record
  /// moves at most that far from its place in the stream. Exactly
  /// `batches * batch` rows (the last wrapped around when short). With a
  /// shuffle buffer, `spills` (when given) gets where each shard has
  /// entered it whole, for the Batcher.
  std::vector<int64_t> rankOrder(uint64_t seed, int64_t epoch, bool shuffle, int rank, int world,
                                 int64_t batch, int64_t batches, int64_t shuffleBuffer,
                                 std::vector<SpillPoint> *spills = nullptr) const;
  /// The columns, one per argument fed.
  const std::vector<Column> &columns() const { return columns_; }
  /// The row order of an epoch: a permutation seeded with (seed, epoch) when
  /// `shuffle`, else 0..rows-1 (for streams, already interleaved per batch).
  /// Text windows shuffled: the windows of an epoch start at kT + s, with a
  /// shift s in [0, T) drawn per epoch (so windows are not always aligned),
  /// encoded in the values as k + s * (the windows before exclude())
  /// (windowStart() decodes them).
  std::vector<int64_t> order(uint64_t seed, int64_t epoch, bool shuffle) const;
  /// Text windows: the offset in the text of the window of order value `v`.
  int64_t windowStart(int64_t v) const;
  /// Rows `indices` of column `c`, converted, into `out`.
  absl::Status gather(size_t c, const int64_t *indices, size_t n, uint8_t *out) const;

private:
  std::vector<Column> columns_;
  std::shared_ptr<ShardSet> shards_;
  int64_t rows_ = 0;
  std::vector<int64_t> excluded_; ///< sorted
  bool shuffles_ = true;
  /// Text windows: the shifts an epoch may draw (1: aligned only).
  int64_t windowShifts_ = 0;
};

/// A batch: one buffer per column of the dataset, in column order, or the
/// error that kept it from being read.
struct Batch {
  int64_t index = 0; ///< position in the epoch
  std::vector<std::vector<uint8_t>> buffers; ///< one per column, batch rows in spec.dtype
  absl::Status status; ///< not OK: the buffers are not valid
};

/// Produces the batches of one epoch, from batch `start` on, up to `prefetch`
/// batches ahead, assembled by `threads` background threads (each batch is
/// the same whichever thread makes it; they come out in order). A partial last batch is dropped, or
/// with `pad` completed with rows from the start of the epoch's order. From
/// a sharded data set, a shard is unmapped once the batch holding its last
/// record of the epoch is assembled, and at each of `spills` (rankOrder's)
/// the shard's records still to come are copied out (a shuffle buffer's
/// worth at most) and its pages dropped: resident memory stays about one
/// shard plus the buffer, and the stragglers cost one copy, not a page
/// fault each.
class Batcher {
public:
  /// Starts the threads on `order` (Dataset::order or rankOrder) from batch
  /// `start` (a resumed epoch's position).
  Batcher(const Dataset &dataset, int64_t batchSize, std::vector<int64_t> order, int64_t start,
          bool pad, int prefetch, int threads = 1, std::vector<SpillPoint> spills = {});
  ~Batcher();
  Batcher(const Batcher &) = delete;
  Batcher &operator=(const Batcher &) = delete;

  /// Batches in the epoch (after dropping or padding).
  static int64_t batchesPerEpoch(int64_t rows, int64_t batchSize, bool pad);
  /// The next batch, or nullptr at the end of the epoch.
  std::unique_ptr<Batch> next();
  /// Gives a used batch's buffers back for a later batch (saves allocating
  /// and faulting in fresh pages for every batch).
  void recycle(std::unique_ptr<Batch> batch);

private:
  void produce();
  std::unique_ptr<Batch> make(int64_t index);
  void releaseShards(int64_t index);
  /// Spills what is due before batch `index` and frees the slots of the
  /// batches consumed since the last call (on a producer thread).
  absl::Status spillAndForget(int64_t index);

  const Dataset &dataset_;
  int64_t batchSize_, start_, count_;
  std::vector<int64_t> order_;
  /// Sharded data: (last position in order_, shard), by position.
  std::vector<std::pair<int64_t, int64_t>> lastUse_;
  size_t released_ = 0;
  std::vector<SpillPoint> spills_;
  std::vector<int64_t> lastPos_; ///< per shard: its last position, -1 if unread
  std::vector<int64_t> spillFrom_; ///< per shard: first position its slots serve
  int64_t spillEnd_ = std::numeric_limits<int64_t>::max(); ///< SpillPoint::end
  size_t spilled_ = 0;           ///< spills_ done or claimed
  int64_t forgotten_ = 0;        ///< batches whose slots are freed
  int64_t padRows_ = 0;          ///< positions read again by the padded last batch
  size_t capacity_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<int64_t, std::unique_ptr<Batch>> ready_; ///< made, by index
  std::vector<std::vector<std::vector<uint8_t>>> spare_; ///< recycled buffers
  int64_t claimed_ = 0;                             ///< the next batch to make
  int64_t consumed_ = 0;
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

} // namespace data
} // namespace tg

#endif // TG_DATA_H
