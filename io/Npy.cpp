//===- Npy.cpp - NumPy .npy files -----------------------------------------===//
#include "tg/Npy.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <regex>
#include <sstream>

namespace tg {
namespace {

struct DtypeInfo {
  const char *descr, *name;
  size_t size;
};
const DtypeInfo kDtypes[] = {{"<f4", "f32", 4}, {"<f8", "f64", 8}, {"<i4", "i32", 4},
                             {"<i8", "i64", 8}, {"|b1", "i1", 1},  {"|u1", "u8", 1},
                             {"|i1", "i8", 1},  {"<i2", "i16", 2}};

absl::Status bad(const std::string &path, const std::string &what) {
  return absl::InvalidArgumentError(absl::StrCat("'", path, "': not a valid .npy file: ", what));
}

} // namespace

absl::StatusOr<NpyArray> readNpy(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return absl::NotFoundError(absl::StrCat("cannot open '", path, "': ", std::strerror(errno)));
  // The header first; the data section is read straight into the array (a
  // large file is never held twice).
  in.seekg(0, std::ios::end);
  size_t fileSize = size_t(std::max<std::streamoff>(in.tellg(), 0));
  in.seekg(0);
  std::string data(std::min<size_t>(fileSize, 12), '\0');
  in.read(data.data(), long(data.size()));
  if (data.size() < 10 || data.compare(0, 6, "\x93NUMPY") != 0)
    return bad(path, "no \\x93NUMPY magic at offset 0");
  uint8_t major = uint8_t(data[6]);
  size_t headerLen, headerStart;
  if (major == 1) {
    headerLen = uint8_t(data[8]) | (size_t(uint8_t(data[9])) << 8);
    headerStart = 10;
  } else if (major == 2 || major == 3) {
    if (data.size() < 12)
      return bad(path, "truncated header length at offset 8");
    headerLen = 0;
    for (int i = 0; i < 4; ++i)
      headerLen |= size_t(uint8_t(data[8 + size_t(i)])) << (8 * i);
    headerStart = 12;
  } else {
    return bad(path, absl::StrCat("unsupported format version ", int(major)));
  }
  if (fileSize < headerStart + headerLen)
    return bad(path, absl::StrCat("header of ", headerLen, " bytes at offset ", headerStart,
                                  " runs past the end of the file (", fileSize, " bytes)"));
  std::string header(headerLen, '\0');
  in.seekg(long(headerStart));
  in.read(header.data(), long(headerLen));
  std::smatch m;
  if (!std::regex_search(header, m, std::regex("'descr'\\s*:\\s*'([^']*)'")))
    return bad(path, "header has no 'descr'");
  std::string descr = m[1];
  const DtypeInfo *info = nullptr;
  for (const DtypeInfo &d : kDtypes)
    if (descr == d.descr)
      info = &d;
  if (!info)
    return bad(path, absl::StrCat("unsupported dtype '", descr,
                                  "' (supported: <f4 <f8 <i4 <i8 <i2 |b1 |u1 |i1, little-endian)"));
  if (std::regex_search(header, m, std::regex("'fortran_order'\\s*:\\s*True")))
    return bad(path, "Fortran-order arrays are not supported (use numpy.ascontiguousarray)");
  if (!std::regex_search(header, m, std::regex("'shape'\\s*:\\s*\\(([^)]*)\\)")))
    return bad(path, "header has no 'shape'");
  NpyArray a;
  a.dtype = info->name;
  std::stringstream dims(m[1].str());
  std::string item;
  size_t count = 1;
  while (std::getline(dims, item, ',')) {
    item.erase(0, item.find_first_not_of(" "));
    if (item.empty())
      continue;
    char *end = nullptr;
    long long d = std::strtoll(item.c_str(), &end, 10);
    if (d < 0 || (end && *end && *end != ' '))
      return bad(path, absl::StrCat("bad dimension '", item, "' in the shape"));
    a.shape.push_back(d);
    // Overflow-checked: a shape whose product wraps around could otherwise
    // match a short file.
    if (__builtin_mul_overflow(count, size_t(d), &count) || count > (size_t(1) << 40))
      return bad(path, absl::StrCat("shape [", item,
                                    "...] in the header is implausibly large "
                                    "(more than 2^40 elements)"));
  }
  size_t offset = headerStart + headerLen, need = 0;
  if (__builtin_mul_overflow(count, size_t(info->size), &need))
    return bad(path, "the header's shape needs more bytes than a 64-bit size holds");
  if (fileSize - offset != need)
    return bad(path, absl::StrCat("shape [", absl::StrJoin(a.shape, ", "), "] of ", a.dtype,
                                  " needs ", need, " data bytes after offset ", offset,
                                  ", the file has ", fileSize - offset));
  a.bytes.resize(need);
  in.seekg(long(offset));
  in.read(reinterpret_cast<char *>(a.bytes.data()), long(need));
  if (size_t(in.gcount()) != need)
    return absl::DataLossError(absl::StrCat("reading '", path, "' failed at offset ",
                                            offset + size_t(std::max<std::streamsize>(in.gcount(), 0))));
  return a;
}

absl::Status writeNpy(const std::string &path, const NpyArray &array) {
  return writeNpy(path, array.dtype, array.shape, array.bytes.data(), array.bytes.size());
}

absl::StatusOr<std::string> npyHeader(const std::string &dtype,
                                      const std::vector<int64_t> &dims) {
  const DtypeInfo *info = nullptr;
  for (const DtypeInfo &d : kDtypes)
    if (dtype == d.name)
      info = &d;
  if (!info)
    return absl::InvalidArgumentError(absl::StrCat("cannot write dtype '", dtype, "' to .npy"));
  std::string shape = absl::StrJoin(dims, ", ");
  if (dims.size() == 1)
    shape += ",";
  std::string header = absl::StrCat("{'descr': '", info->descr,
                                    "', 'fortran_order': False, 'shape': (", shape, "), }");
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  char len[2] = {char(header.size() & 0xff), char(header.size() >> 8)};
  return std::string("\x93NUMPY\x01\x00", 8) + std::string(len, 2) + header;
}

absl::Status writeNpy(const std::string &path, const std::string &dtype,
                      const std::vector<int64_t> &dims, const uint8_t *data, size_t size) {
  absl::StatusOr<std::string> header = npyHeader(dtype, dims);
  if (!header.ok())
    return header.status();
  std::ofstream out(path, std::ios::binary);
  if (!out)
    return absl::InvalidArgumentError(
        absl::StrCat("cannot write '", path, "': ", std::strerror(errno)));
  out << *header;
  out.write(reinterpret_cast<const char *>(data), long(size));
  if (!out)
    return absl::InternalError(absl::StrCat("writing '", path, "' failed"));
  return absl::OkStatus();
}

} // namespace tg
