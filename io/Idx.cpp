//===- Idx.cpp - IDX reader -----------------------------------------------===//
#include "tg/Idx.h"

#include "absl/strings/str_cat.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <unistd.h>
#include <zlib.h>

namespace tg {

static int sizeOfType(uint8_t code) {
  switch (code) {
  case 0x08:
  case 0x09:
    return 1;
  case 0x0B:
    return 2;
  case 0x0C:
  case 0x0D:
    return 4;
  case 0x0E:
    return 8;
  default:
    return 0;
  }
}

int64_t IdxArray::count() const {
  int64_t n = 1;
  for (int64_t d : dims)
    n *= d;
  return n;
}

int IdxArray::elementSize() const { return sizeOfType(typeCode); }

std::string findIdxFile(const std::string &dir, const std::string &stem) {
  for (const char *ext : {".gz", ""}) {
    std::string p = dir + "/" + stem + ext;
    if (::access(p.c_str(), R_OK) == 0)
      return p;
  }
  return "";
}

double IdxArray::value(int64_t i) const {
  const uint8_t *p = bytes.data() + i * elementSize();
  uint64_t bits = 0;
  for (int k = 0; k < elementSize(); ++k)
    bits = (bits << 8) | p[k];
  switch (typeCode) {
  case 0x08:
    return double(uint8_t(bits));
  case 0x09:
    return double(int8_t(bits));
  case 0x0B:
    return double(int16_t(bits));
  case 0x0C:
    return double(int32_t(bits));
  case 0x0D: {
    uint32_t b = uint32_t(bits);
    float f;
    std::memcpy(&f, &b, 4);
    return f;
  }
  default: {
    double d;
    std::memcpy(&d, &bits, 8);
    return d;
  }
  }
}

namespace {
struct GzCloser {
  void operator()(gzFile_s *f) const { gzclose(f); }
};

/// Reads exactly n bytes; returns how many were read (fewer at end of file).
absl::StatusOr<int64_t> readFully(gzFile f, uint8_t *out, int64_t n, const std::string &path) {
  int64_t done = 0;
  while (done < n) {
    unsigned chunk = unsigned(std::min<int64_t>(n - done, 1 << 30));
    int got = gzread(f, out + done, chunk);
    if (got < 0) {
      int errnum;
      const char *msg = gzerror(f, &errnum);
      return absl::DataLossError(
          absl::StrCat(path, ": read error at byte offset ", done, ": ", msg ? msg : "unknown"));
    }
    if (got == 0)
      break;
    done += got;
  }
  return done;
}
} // namespace

absl::StatusOr<IdxArray> readIdx(const std::string &path) {
  std::unique_ptr<gzFile_s, GzCloser> f(gzopen(path.c_str(), "rb"));
  if (!f)
    return absl::NotFoundError(
        absl::StrCat("cannot open IDX file '", path, "': ", std::strerror(errno)));
  uint8_t header[4];
  auto got = readFully(f.get(), header, 4, path);
  if (!got.ok())
    return got.status();
  if (*got < 4)
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": truncated IDX header (", *got, " of 4 bytes)"));
  if (header[0] != 0 || header[1] != 0)
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": bad IDX magic: the first two bytes must be 0, got ", int(header[0]),
                     " ", int(header[1]), " (not an IDX file?)"));
  IdxArray a;
  a.typeCode = header[2];
  if (sizeOfType(a.typeCode) == 0)
    return absl::InvalidArgumentError(absl::StrCat(path, ": unknown IDX element type code 0x",
                                                   absl::Hex(a.typeCode), " at byte offset 2"));
  int rank = header[3];
  if (rank == 0)
    return absl::InvalidArgumentError(absl::StrCat(path, ": IDX rank 0 at byte offset 3"));
  std::vector<uint8_t> dimBytes(size_t(rank) * 4);
  got = readFully(f.get(), dimBytes.data(), int64_t(dimBytes.size()), path);
  if (!got.ok())
    return got.status();
  if (*got < int64_t(dimBytes.size()))
    return absl::InvalidArgumentError(absl::StrCat(path, ": truncated IDX header: ", rank,
                                                   " dimensions need ", dimBytes.size(),
                                                   " bytes at offset 4, got ", *got));
  // The size, overflow-checked against a cap far beyond any dataset (a
  // corrupt header must not wrap around).
  const int64_t kMaxBytes = int64_t(1) << 36;
  int64_t total = sizeOfType(a.typeCode);
  for (int d = 0; d < rank; ++d) {
    const uint8_t *p = dimBytes.data() + 4 * d;
    int64_t dim = (int64_t(p[0]) << 24) | (p[1] << 16) | (p[2] << 8) | p[3];
    a.dims.push_back(dim);
    if (dim != 0 && total > kMaxBytes / dim)
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": IDX dimensions are implausibly large (dimension ", d, " = ", dim,
                       " at byte offset ", 4 + 4 * d, " makes more than ", kMaxBytes, " bytes)"));
    total *= dim;
  }
  // Read in growing chunks: memory follows what the file really holds, not
  // what its header claims (a tiny file claiming gigabytes fails fast).
  int64_t dataOffset = 4 + 4 * int64_t(rank), done = 0;
  while (done < total) {
    int64_t chunk = std::min<int64_t>(total - done, std::clamp<int64_t>(done, 1 << 20, 64 << 20));
    a.bytes.resize(size_t(done + chunk));
    got = readFully(f.get(), a.bytes.data() + done, chunk, path);
    if (!got.ok())
      return got.status();
    done += *got;
    if (*got < chunk)
      return absl::InvalidArgumentError(absl::StrCat(
          path, ": truncated IDX data: the header promises ", total, " bytes from offset ",
          dataOffset, ", the file ends after ", done, " (at offset ", dataOffset + done, ")"));
  }
  uint8_t extra;
  got = readFully(f.get(), &extra, 1, path);
  if (!got.ok())
    return got.status();
  if (*got != 0)
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": trailing bytes after the IDX data at offset ", dataOffset + total,
                     " (the header's dimensions do not match the file)"));
  return a;
}

} // namespace tg
