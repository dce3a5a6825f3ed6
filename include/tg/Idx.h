//===- Idx.h - IDX files (the MNIST family), raw or gzipped -----*- C++ -*-===//
#ifndef TG_IDX_H
#define TG_IDX_H

#include "absl/status/statusor.h"

#include <cstdint>
#include <string>
#include <vector>

namespace tg {

/// An IDX array: big-endian header (0, 0, type code, rank, dims) then data.
struct IdxArray {
  uint8_t typeCode = 0x08; ///< 0x08 u8, 0x09 i8, 0x0B i16, 0x0C i32, 0x0D f32, 0x0E f64
  std::vector<int64_t> dims;  ///< dimensions, outermost first
  std::vector<uint8_t> bytes; ///< the data section as stored (big-endian)

  /// Number of elements (the product of dims).
  int64_t count() const;
  /// Bytes per element of typeCode.
  int elementSize() const;
  /// Element `i` converted to double.
  double value(int64_t i) const;
};

/// `dir`/`stem`.gz, else `dir`/`stem` when readable (the MNIST family ships
/// both); "" when neither is.
std::string findIdxFile(const std::string &dir, const std::string &stem);

/// Reads an IDX file; gzip-compressed files are recognised by their content.
/// Errors name the file and what is wrong (bad magic, unknown type, truncated
/// data with the byte offset, trailing bytes).
absl::StatusOr<IdxArray> readIdx(const std::string &path);

} // namespace tg

#endif // TG_IDX_H
