//===- Shards.h - packed data sets: shards and their index ------*- C++ -*-===//
//
// A packed data set (`tgc data pack`) is a directory of shards and an
// index.json. Each shard holds a run of records; each field of a shard is
// one NumPy .npy file ([records, ...field shape], C order, the source's
// dtype), so NumPy and PyTorch users read a shard with np.load(mmap_mode=
// "r"). The index names the fields (dtype, record shape, role, the scale a
// float argument takes), and per shard the record count and, per file, its
// size and CRC-32. Training maps only the shards a rank reads, only while it
// reads them (ShardSet).
//
//===----------------------------------------------------------------------===//
#ifndef TG_IO_SHARDS_H
#define TG_IO_SHARDS_H

#include "tg/Data.h"

#include "absl/status/statusor.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace tg {
namespace data {

/// The name of a packed directory's index.
inline constexpr const char *kShardIndexFile = "index.json";

struct ShardField {
  std::string name, dtype;     ///< dtype as in Array (u8 ... f64, i1)
  std::vector<int64_t> shape;  ///< of one record
  std::string role;            ///< "data", "label" or "" (bound by name)
  double scale = 1;            ///< applied when feeding a float argument
  std::string source;          ///< what it was packed from (for inspect)
  int64_t recordElements() const;
  size_t recordBytes() const;
};

struct ShardFile {
  std::string path;       ///< relative to the directory
  uint64_t bytes = 0;     ///< the whole .npy file
  uint64_t dataOffset = 0; ///< where its records start (after the .npy header)
  uint32_t crc32 = 0;     ///< of the whole file
};

struct Shard {
  int64_t records = 0;
  std::vector<ShardFile> files; ///< one per field, in field order
};

struct ShardIndex {
  std::string dir;
  std::vector<ShardField> fields;
  std::vector<Shard> shards;
  int64_t records = 0;
  uint64_t bytes() const; ///< of every shard file

  /// Whether `dir` holds an index.json.
  static bool isPacked(const std::string &dir);
  /// Reads and checks `dir`/index.json: every field and shard well formed,
  /// record counts adding up. Errors name the file and the entry.
  static absl::StatusOr<ShardIndex> read(const std::string &dir);
  /// The index of field `name`, or -1.
  int fieldIndex(const std::string &name) const;
};

/// One field to pack: its name, role and the arrays that hold its records
/// (concatenated along the first dimension, in order).
struct PackSource {
  std::string name, role;
  std::vector<std::string> files; ///< IDX (raw or gz) or .npy
  /// Instead of files: the records in chunks made on demand (an image
  /// folder's decoded images); nullopt ends them.
  std::function<absl::StatusOr<std::optional<Array>>()> chunks;
};

struct PackOptions {
  double shardMb = 64; ///< target shard size (all fields of its records)
  /// Progress lines ("shard 3 of 10"), or none.
  std::function<void(const std::string &)> progress;
};

/// Packs `sources` (equal record counts) into `dir` (created; it must not
/// exist or be empty): shards of about `shardMb` MiB and index.json,
/// written under temporary names and renamed into place last. Reads one
/// source file at a time.
absl::StatusOr<ShardIndex> pack(const std::vector<PackSource> &sources, const std::string &dir,
                                const PackOptions &options);

/// Checks that every shard file exists with its size and CRC-32; errors name
/// the shard, the file and what differs. `progress` hears of each shard.
absl::Status verify(const ShardIndex &index,
                    const std::function<void(int64_t shard)> &progress = nullptr);

/// The shards of a packed directory, mapped on demand: a record's bytes are
/// read straight from the mapping while a batch is assembled, and a shard
/// is unmapped once released, so a reader holds only the shards in use.
class ShardSet {
public:
  /// Opens `index` after checking that every shard file has its size (a
  /// missing or truncated shard is an error now, before training).
  static absl::StatusOr<std::shared_ptr<ShardSet>> open(ShardIndex index);
  ~ShardSet();
  ShardSet(const ShardSet &) = delete;
  ShardSet &operator=(const ShardSet &) = delete;

  const ShardIndex &index() const { return index_; }
  /// The shard of record `r` (of the whole set) and its first record.
  int64_t shardOf(int64_t r) const;
  int64_t firstRecord(int64_t shard) const { return starts_[size_t(shard)]; }
  /// Record `r`'s bytes of field `field`, mapping its shard if needed;
  /// valid until its shard is released.
  absl::StatusOr<const uint8_t *> record(size_t field, int64_t r);
  /// The same for `n` records at once (one lock for a batch's column).
  absl::Status records(size_t field, const int64_t *rs, size_t n, const uint8_t **out);
  /// Unmaps `shard` (a later read maps it again).
  void release(int64_t shard);
  /// Drops `shard`'s resident pages but keeps it mapped (reads under way
  /// or later fault them back from the page cache).
  void drop(int64_t shard);
  /// Copies records `rs` (all of `shard`) out of the shard, into slots that
  /// later reads of them use, and drops the shard's resident pages: what a
  /// shuffle buffer still holds of a shard once the stream has moved past
  /// it, so that those stragglers do not keep the shard resident or fault
  /// its pages back one by one. Reads that are under way keep working.
  absl::Status spill(int64_t shard, std::vector<int64_t> rs);
  /// A slot serves as many reads as `rs` names its record; this gives back
  /// one read of each of `rs` and frees the slots with none left (records
  /// without one are skipped).
  void forget(const int64_t *rs, size_t n);
  /// Frees every slot (the end of an epoch).
  void forgetAll();
  /// Records held in slots now, and the most held at once.
  int64_t spilledNow() const;
  int64_t spilledPeak() const;

  /// Distinct shards mapped since open() or resetStats(), and the bytes of
  /// their files.
  int64_t shardsOpened() const;
  uint64_t bytesOpened() const;
  /// Counts from zero again (after the label check reads every shard's
  /// label field).
  void resetStats();

private:
  explicit ShardSet(ShardIndex index);
  struct Mapping {
    std::vector<const uint8_t *> base; ///< per field: the file's mapping
    std::vector<size_t> length;
    bool mapped = false, everMapped = false;
    bool spilled = false; ///< some of its records are in slots
  };
  absl::Status map(int64_t shard);
  void unmap(Mapping &m);
  uint8_t *slot(uint32_t i) { return chunks_[i / kSlotsPerChunk].get() + (i % kSlotsPerChunk) * slotBytes_; }

  ShardIndex index_;
  std::vector<int64_t> starts_; ///< first record of each shard, then the total
  mutable std::mutex mutex_;
  std::vector<Mapping> mappings_;
  int64_t opened_ = 0;
  uint64_t openedBytes_ = 0;
  /// Spilled records: every field's bytes of one record per slot, in chunks
  /// that are reused (never more than a shuffle buffer's worth).
  static constexpr uint32_t kSlotsPerChunk = 1024;
  size_t slotBytes_ = 0;
  std::vector<size_t> fieldOffset_, fieldBytes_;
  std::vector<std::unique_ptr<uint8_t[]>> chunks_;
  std::vector<uint32_t> freeSlots_;
  /// Per record of the set (4 bytes each, made at the first spill): its
  /// slot, or kNoSlot; and per slot the reads it still serves.
  static constexpr uint32_t kNoSlot = ~0u;
  std::vector<uint32_t> slotOf_;
  std::vector<uint32_t> reads_;
  int64_t spilledNow_ = 0, spilledPeak_ = 0;
};

} // namespace data
} // namespace tg

#endif // TG_IO_SHARDS_H
