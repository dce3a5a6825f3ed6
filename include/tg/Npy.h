//===- Npy.h - NumPy .npy files ---------------------------------*- C++ -*-===//
#ifndef TG_NPY_H
#define TG_NPY_H

#include "absl/status/statusor.h"

#include <cstdint>
#include <string>
#include <vector>

namespace tg {

/// A C-order array as stored: dtype in tg names (f32, f64, i32, i64, i1, u8,
/// i8, i16), little-endian bytes.
struct NpyArray {
  std::string dtype;          ///< f32, f64, i32, i64, i1, u8, i8 or i16
  std::vector<int64_t> shape; ///< dimensions, outermost first
  std::vector<uint8_t> bytes; ///< C order, little-endian
};

/// Reads a .npy file (format 1.0-3.0, little-endian <f4 <f8 <i4 <i8 <i2 |b1
/// |u1 |i1, C order). Errors name the file and what is wrong (magic, header, dtype,
/// Fortran order, size with the byte counts).
absl::StatusOr<NpyArray> readNpy(const std::string &path);

/// Writes `array` as .npy format 1.0.
absl::Status writeNpy(const std::string &path, const NpyArray &array);
/// The bytes a .npy file (format 1.0) of this dtype and shape starts with:
/// magic, header length and header, padded so the data is 64-byte aligned.
absl::StatusOr<std::string> npyHeader(const std::string &dtype, const std::vector<int64_t> &shape);
/// The same for `size` bytes at `data` (no copy into an NpyArray).
absl::Status writeNpy(const std::string &path, const std::string &dtype,
                      const std::vector<int64_t> &shape, const uint8_t *data, size_t size);

} // namespace tg

#endif // TG_NPY_H
