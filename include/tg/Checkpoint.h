//===- tg/Checkpoint.h - safetensors checkpoints ----------------*- C++ -*-===//
//
// Checkpoints are safetensors files (8-byte little-endian header length, a
// JSON header of {name: {dtype, shape, data_offsets}} plus "__metadata__" of
// string pairs, then the tensor bytes), so PyTorch and Hugging Face tools read
// them. Writes are atomic: a temp file in the same directory, fsync, rename,
// fsync of the directory; a crash leaves the previous checkpoints intact.
//
//===----------------------------------------------------------------------===//
#ifndef TG_CHECKPOINT_H
#define TG_CHECKPOINT_H

#include "absl/status/statusor.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <map>
#include <string>
#include <vector>

namespace tg {

/// One tensor of a safetensors file.
struct NamedTensor {
  std::string name;  ///< e.g. "fc1.kernel", "fc1.kernel.m" (an optimizer slot)
  std::string dtype; ///< in MLIR spelling (f32, i64, ...)
  std::vector<int64_t> shape; ///< dimensions, outermost first
  std::vector<uint8_t> bytes; ///< C order, little-endian
};

/// A safetensors file: tensors and string metadata. A `tgc train`
/// checkpoint's metadata holds format, step, epoch, data position, seed,
/// artifact hash and (text models) the vocabulary.
struct Checkpoint {
  std::vector<NamedTensor> tensors;            ///< written in this order
  std::map<std::string, std::string> metadata; ///< "__metadata__" of the header
  /// The tensor named `name`, or null.
  const NamedTensor *find(const std::string &name) const;
};

/// Serializes to the safetensors format.
absl::StatusOr<std::string> encodeSafetensors(const Checkpoint &checkpoint);
/// Parses safetensors bytes; errors say what is wrong with `what` (the file
/// name): header length past the end, bad JSON, unknown dtype, offsets out
/// of range, overlapping or not matching the shape.
absl::StatusOr<Checkpoint> decodeSafetensors(const std::string &bytes, const std::string &what);

/// Writes `contents` to `path` atomically (temp file, fsync, rename, fsync of
/// the directory). On failure the temp file is removed and `path` is as before.
absl::Status writeFileAtomically(const std::string &path, const std::string &contents);

/// Writes `checkpoint` atomically (writeFileAtomically of encodeSafetensors).
absl::Status writeSafetensors(const std::string &path, const Checkpoint &checkpoint);
/// Reads and decodes a whole safetensors file.
absl::StatusOr<Checkpoint> readSafetensors(const std::string &path);

/// Writes a safetensors file atomically with the tensors of `layout` (names,
/// dtypes, shapes; their bytes unused), asking `produce(i, bytes)` for each
/// one's bytes in order, so that only one tensor is in memory at a time (a
/// pipeline's rank 0 receiving the other stages' tensors one by one).
absl::Status writeSafetensorsStreamed(
    const std::string &path, const std::vector<NamedTensor> &layout,
    const std::map<std::string, std::string> &metadata,
    const std::function<absl::Status(size_t, std::vector<uint8_t> &)> &produce);

/// A safetensors file opened for reading tensor by tensor: its header parsed
/// and checked (as decodeSafetensors checks it), the data read on demand.
class SafetensorsReader {
public:
  /// Opens `path` and parses its header (NotFound if it cannot be opened,
  /// InvalidArgument for a bad header, as decodeSafetensors says).
  static absl::StatusOr<SafetensorsReader> open(const std::string &path);
  /// The tensors (without their bytes) and the metadata.
  const Checkpoint &header() const { return header_; }
  /// Reads tensor `i` of header() into `bytes`.
  absl::Status read(size_t i, std::vector<uint8_t> &bytes) const;

private:
  std::shared_ptr<int> fd_;
  std::string path_;
  Checkpoint header_;
  std::vector<uint64_t> offsets_;
};

/// The checkpoints of a training directory: DIR/ckpt-<step, 10 digits>.safetensors.
std::string checkpointPath(const std::string &dir, int64_t step);
/// Complete checkpoints in `dir`, oldest first (temp files are ignored).
std::vector<std::string> listCheckpoints(const std::string &dir);
/// Removes all but the newest `keep` checkpoints and stale temp files.
void pruneCheckpoints(const std::string &dir, int keep);

} // namespace tg

#endif // TG_CHECKPOINT_H
