//===- Trailer.h - the integrity trailer of .tgx files ----------*- C++ -*-===//
//
// A .tgx file is an ELF shared object followed by 24 bytes: "TGXSUM01", the
// ELF part's length and its FNV-1a-64 hash (little-endian). The loader ignores
// bytes after the ELF image, so the artifact stays loadable, and the runtime
// checks the trailer before dlopen: a truncated or corrupted file is reported
// instead of crashing the dynamic loader.
//
//===----------------------------------------------------------------------===//
#ifndef TG_SUPPORT_TRAILER_H
#define TG_SUPPORT_TRAILER_H

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

namespace tg {

inline constexpr char kTrailerMagic[8] = {'T', 'G', 'X', 'S', 'U', 'M', '0', '1'};
inline constexpr size_t kTrailerSize = 24;

/// FNV-1a, 64 bits, of `n` bytes; `h` continues an earlier hash (the
/// artifact checksum, plan and data fingerprints, initializer streams).
inline uint64_t fnv1a64(const void *data, size_t n, uint64_t h = 1469598103934665603ull) {
  const auto *p = static_cast<const unsigned char *>(data);
  for (size_t i = 0; i < n; ++i) {
    h ^= p[i];
    h *= 1099511628211ull;
  }
  return h;
}

inline std::string makeTrailer(const std::string &elf) {
  std::string t(kTrailerMagic, 8);
  uint64_t fields[2] = {uint64_t(elf.size()), fnv1a64(elf.data(), elf.size())};
  t.append(reinterpret_cast<const char *>(fields), sizeof fields);
  return t;
}

} // namespace tg

#endif // TG_SUPPORT_TRAILER_H
