//===- Checkpoint.cpp - safetensors checkpoints ---------------------------===//
#include "tg/Checkpoint.h"

#include "absl/strings/str_cat.h"
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <fstream>
#include <sys/stat.h>
#include <unistd.h>

namespace tg {
namespace {

using json = nlohmann::ordered_json;

struct DtypeName {
  const char *tg, *st;
  size_t size;
};
const DtypeName kDtypes[] = {{"f32", "F32", 4},   {"f64", "F64", 8}, {"f16", "F16", 2},
                             {"bf16", "BF16", 2}, {"i32", "I32", 4}, {"i64", "I64", 8},
                             {"i1", "BOOL", 1}};

const DtypeName *byTg(const std::string &d) {
  for (const DtypeName &n : kDtypes)
    if (d == n.tg)
      return &n;
  return nullptr;
}
const DtypeName *bySt(const std::string &d) {
  for (const DtypeName &n : kDtypes)
    if (d == n.st)
      return &n;
  return nullptr;
}

std::string errnoText() { return std::strerror(errno); }

std::string dirOf(const std::string &path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
}

} // namespace

const NamedTensor *Checkpoint::find(const std::string &name) const {
  for (const NamedTensor &t : tensors)
    if (t.name == name)
      return &t;
  return nullptr;
}

namespace {

/// The 8-byte length and JSON header of a safetensors file holding
/// `tensors` (their bytes need not be there: sizes come from dtype and
/// shape), and the bytes of their data.
absl::StatusOr<std::string> encodeHeader(const std::vector<NamedTensor> &tensors,
                                         const std::map<std::string, std::string> &metadata,
                                         size_t &dataBytes) {
  json header = json::object();
  if (!metadata.empty()) {
    json meta = json::object();
    for (auto &[k, v] : metadata)
      meta[k] = v;
    header["__metadata__"] = meta;
  }
  size_t offset = 0;
  for (const NamedTensor &t : tensors) {
    const DtypeName *d = byTg(t.dtype);
    if (!d)
      return absl::InvalidArgumentError(
          absl::StrCat("tensor '", t.name, "': dtype ", t.dtype, " has no safetensors name"));
    size_t n = 1;
    for (int64_t s : t.shape)
      n *= size_t(s);
    header[t.name] = {
        {"dtype", d->st}, {"shape", t.shape}, {"data_offsets", {offset, offset + n * d->size}}};
    offset += n * d->size;
  }
  // Tensor names come from a parsed manifest (valid UTF-8); metadata holds
  // paths, which may be any bytes: replaced by U+FFFD, they only inform.
  std::string text = header.dump(-1, ' ', false, json::error_handler_t::replace);
  // Pad the header with spaces so the tensor data starts 8-byte aligned.
  text.append((8 - text.size() % 8) % 8, ' ');
  std::string out(8, '\0');
  uint64_t len = text.size();
  for (int i = 0; i < 8; ++i)
    out[size_t(i)] = char((len >> (8 * i)) & 0xff);
  out += text;
  dataBytes = offset;
  return out;
}

size_t expectedBytes(const NamedTensor &t) {
  const DtypeName *d = byTg(t.dtype);
  size_t n = 1;
  for (int64_t s : t.shape)
    n *= size_t(s);
  return d ? n * d->size : 0;
}

} // namespace

absl::StatusOr<std::string> encodeSafetensors(const Checkpoint &checkpoint) {
  for (const NamedTensor &t : checkpoint.tensors)
    if (byTg(t.dtype) && expectedBytes(t) != t.bytes.size())
      return absl::InvalidArgumentError(absl::StrCat("tensor '", t.name, "' holds ", t.bytes.size(),
                                                     " bytes, its shape needs ", expectedBytes(t)));
  size_t dataBytes = 0;
  absl::StatusOr<std::string> out = encodeHeader(checkpoint.tensors, checkpoint.metadata, dataBytes);
  if (!out.ok())
    return out;
  out->reserve(out->size() + dataBytes);
  for (const NamedTensor &t : checkpoint.tensors)
    out->append(reinterpret_cast<const char *>(t.bytes.data()), t.bytes.size());
  return out;
}

namespace {

/// Parses the header of a safetensors file whose first `prefix.size()`
/// bytes (at least the length and the header) are `prefix` and whose size is
/// `fileSize`: the tensors without their bytes, each one's data offset (from
/// the file's start) in `offsets`.
absl::StatusOr<Checkpoint> parseHeader(const std::string &bytes, uint64_t fileSize,
                                       const std::string &what, std::vector<uint64_t> &offsets) {
  auto bad = [&](const std::string &why) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", what, "': not a valid safetensors checkpoint: ", why));
  };
  if (fileSize < 8 || bytes.size() < 8)
    return bad(
        absl::StrCat("the file has ", fileSize, " bytes, less than the 8-byte header length"));
  uint64_t len = 0;
  for (int i = 7; i >= 0; --i)
    len = (len << 8) | uint8_t(bytes[size_t(i)]);
  if (len > fileSize - 8 || len > bytes.size() - 8)
    return bad(absl::StrCat("header length ", len, " at offset 0 runs past the end of the file (",
                            fileSize, " bytes)"));
  json header = json::parse(bytes.begin() + 8, bytes.begin() + 8 + std::ptrdiff_t(len), nullptr,
                            /*allow_exceptions=*/false);
  if (header.is_discarded() || !header.is_object())
    return bad(absl::StrCat("the header (bytes 8..", 8 + len, ") is not a JSON object"));
  size_t dataStart = 8 + size_t(len), dataSize = size_t(fileSize) - dataStart;
  Checkpoint c;
  std::vector<std::pair<std::pair<uint64_t, uint64_t>, std::string>> ranges;
  for (auto it = header.begin(); it != header.end(); ++it) {
    const std::string &name = it.key();
    const json &v = it.value();
    if (name == "__metadata__") {
      if (!v.is_object())
        return bad("__metadata__ is not an object");
      for (auto m = v.begin(); m != v.end(); ++m) {
        if (!m.value().is_string())
          return bad(absl::StrCat("metadata '", m.key(), "' is not a string"));
        c.metadata[m.key()] = m.value().get<std::string>();
      }
      continue;
    }
    if (!v.is_object() || !v.contains("dtype") || !v["dtype"].is_string() || !v.contains("shape") ||
        !v["shape"].is_array() || !v.contains("data_offsets") || !v["data_offsets"].is_array() ||
        v["data_offsets"].size() != 2)
      return bad(
          absl::StrCat("tensor '", name, "' needs dtype, shape and data_offsets [begin, end]"));
    const DtypeName *d = bySt(v["dtype"].get<std::string>());
    if (!d)
      return bad(absl::StrCat("tensor '", name, "' has unsupported dtype ", v["dtype"].dump()));
    NamedTensor t;
    t.name = name;
    t.dtype = d->tg;
    uint64_t n = 1;
    for (const json &s : v["shape"]) {
      if (!s.is_number_unsigned())
        return bad(absl::StrCat("tensor '", name, "' has a bad dimension ", s.dump()));
      uint64_t dim = s.get<uint64_t>();
      if (dim > (uint64_t(1) << 40) || (dim && n > (uint64_t(1) << 40) / dim))
        return bad(absl::StrCat("tensor '", name, "' has an absurd shape ", v["shape"].dump()));
      n *= dim;
      t.shape.push_back(int64_t(dim));
    }
    const json &off = v["data_offsets"];
    if (!off[0].is_number_unsigned() || !off[1].is_number_unsigned())
      return bad(absl::StrCat("tensor '", name, "' has bad data_offsets ", off.dump()));
    uint64_t b = off[0].get<uint64_t>(), e = off[1].get<uint64_t>();
    if (b > e || e > dataSize)
      return bad(absl::StrCat("tensor '", name, "' has data_offsets [", b, ", ", e,
                              "] outside the ", dataSize, " data bytes (file offset ", dataStart,
                              "); the file may be truncated"));
    if (e - b != n * d->size)
      return bad(absl::StrCat("tensor '", name, "' spans ", e - b, " bytes but ",
                              v["dtype"].get<std::string>(), " ", v["shape"].dump(), " needs ",
                              n * d->size));
    offsets.push_back(dataStart + b);
    ranges.push_back({{b, e}, name});
    c.tensors.push_back(std::move(t));
  }
  std::sort(ranges.begin(), ranges.end());
  for (size_t i = 1; i < ranges.size(); ++i)
    if (ranges[i].first.first < ranges[i - 1].first.second)
      return bad(absl::StrCat("tensors '", ranges[i - 1].second, "' and '", ranges[i].second,
                              "' overlap"));
  return c;
}

} // namespace

absl::StatusOr<Checkpoint> decodeSafetensors(const std::string &bytes, const std::string &what) {
  std::vector<uint64_t> offsets;
  absl::StatusOr<Checkpoint> c = parseHeader(bytes, bytes.size(), what, offsets);
  if (!c.ok())
    return c;
  for (size_t i = 0; i < c->tensors.size(); ++i) {
    NamedTensor &t = c->tensors[i];
    size_t n = expectedBytes(t);
    t.bytes.assign(bytes.begin() + std::ptrdiff_t(offsets[i]),
                   bytes.begin() + std::ptrdiff_t(offsets[i] + n));
  }
  return c;
}

absl::StatusOr<SafetensorsReader> SafetensorsReader::open(const std::string &path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return absl::NotFoundError(absl::StrCat("cannot open checkpoint '", path, "': ", errnoText()));
  SafetensorsReader r;
  r.fd_ = std::shared_ptr<int>(new int(fd), [](int *f) {
    ::close(*f);
    delete f;
  });
  r.path_ = path;
  struct stat st;
  if (::fstat(fd, &st) != 0)
    return absl::ErrnoToStatus(errno, absl::StrCat("cannot stat '", path, "'"));
  uint64_t size = uint64_t(st.st_size);
  std::string prefix(8, '\0');
  ssize_t got = size >= 8 ? ::pread(fd, prefix.data(), 8, 0) : 0;
  uint64_t len = 0;
  for (int i = 7; got == 8 && i >= 0; --i)
    len = (len << 8) | uint8_t(prefix[size_t(i)]);
  if (got == 8 && len <= size - 8 && len < (uint64_t(1) << 32)) {
    prefix.resize(8 + size_t(len));
    if (::pread(fd, prefix.data() + 8, size_t(len), 8) != ssize_t(len))
      return absl::DataLossError(absl::StrCat("cannot read the header of '", path, "'"));
  }
  absl::StatusOr<Checkpoint> header = parseHeader(prefix, size, path, r.offsets_);
  if (!header.ok())
    return header.status();
  r.header_ = std::move(*header);
  return r;
}

absl::Status SafetensorsReader::read(size_t i, std::vector<uint8_t> &bytes) const {
  const NamedTensor &t = header_.tensors.at(i);
  bytes.resize(expectedBytes(t));
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::pread(*fd_, bytes.data() + done, bytes.size() - done,
                        off_t(offsets_[i] + done));
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return absl::DataLossError(absl::StrCat("reading tensor '", t.name, "' of '", path_,
                                              "': ", n < 0 ? errnoText() : "end of file"));
    done += size_t(n);
  }
  return absl::OkStatus();
}

namespace {

/// A file being written atomically: a temp file in the same directory.
class AtomicFile {
public:
  absl::Status open(const std::string &path) {
    path_ = path;
    dir_ = dirOf(path);
    std::string base = path.substr(path.rfind('/') == std::string::npos ? 0 : path.rfind('/') + 1);
    tmp_ = absl::StrCat(dir_, "/.", base, ".tmp-", getpid());
    fd_ = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd_ < 0)
      return absl::ErrnoToStatus(errno, absl::StrCat("cannot write checkpoint in '", dir_, "'"));
    return absl::OkStatus();
  }
  ~AtomicFile() {
    if (fd_ >= 0) { // not committed: nothing of it stays
      ::close(fd_);
      ::unlink(tmp_.c_str());
    }
  }
  absl::Status write(const void *data, size_t size) {
    size_t done = 0;
    while (done < size) {
      ssize_t n = ::write(fd_, static_cast<const char *>(data) + done, size - done);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return failed("writing");
      done += size_t(n);
    }
    return absl::OkStatus();
  }
  /// Writes what is written so far out and drops it from the page cache:
  /// dirty pages count against a memory-limited process (a cgroup).
  absl::Status flush() {
    if (::fdatasync(fd_) != 0)
      return failed("syncing");
    ::posix_fadvise(fd_, 0, 0, POSIX_FADV_DONTNEED);
    return absl::OkStatus();
  }
  /// fsync, rename over `path`, fsync of the directory.
  absl::Status commit() {
    if (::fsync(fd_) != 0)
      return failed("syncing");
    int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) {
      ::unlink(tmp_.c_str());
      return absl::ResourceExhaustedError(absl::StrCat("closing '", tmp_, "': ", errnoText()));
    }
    if (::rename(tmp_.c_str(), path_.c_str()) != 0) {
      std::string msg = absl::StrCat("renaming '", tmp_, "' to '", path_, "': ", errnoText());
      // A directory that became read-only after the temp file was opened
      // refuses the unlink too; pruneCheckpoints of the next run removes it.
      if (::unlink(tmp_.c_str()) != 0)
        absl::StrAppend(&msg, " (the temporary file stays: ", errnoText(),
                        "; the next run in this directory removes it)");
      return absl::InternalError(msg);
    }
    int dfd = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
      ::fsync(dfd);
      ::close(dfd);
    }
    return absl::OkStatus();
  }

private:
  absl::Status failed(const char *what) const {
    return absl::ResourceExhaustedError(absl::StrCat(what, " '", tmp_, "': ", errnoText(),
                                                     "; earlier checkpoints are untouched"));
  }
  std::string path_, dir_, tmp_;
  int fd_ = -1;
};

} // namespace

absl::Status writeFileAtomically(const std::string &path, const std::string &contents) {
  AtomicFile f;
  if (absl::Status s = f.open(path); !s.ok())
    return s;
  if (absl::Status s = f.write(contents.data(), contents.size()); !s.ok())
    return s;
  return f.commit();
}

absl::Status writeSafetensorsStreamed(
    const std::string &path, const std::vector<NamedTensor> &layout,
    const std::map<std::string, std::string> &metadata,
    const std::function<absl::Status(size_t, std::vector<uint8_t> &)> &produce) {
  size_t dataBytes = 0;
  absl::StatusOr<std::string> header = encodeHeader(layout, metadata, dataBytes);
  if (!header.ok())
    return header.status();
  AtomicFile f;
  if (absl::Status s = f.open(path); !s.ok())
    return s;
  if (absl::Status s = f.write(header->data(), header->size()); !s.ok())
    return s;
  std::vector<uint8_t> bytes;
  for (size_t i = 0; i < layout.size(); ++i) {
    bytes.clear();
    if (absl::Status s = produce(i, bytes); !s.ok())
      return s;
    if (bytes.size() != expectedBytes(layout[i]))
      return absl::InternalError(absl::StrCat("tensor '", layout[i].name, "' came with ",
                                              bytes.size(), " bytes, its shape needs ",
                                              expectedBytes(layout[i])));
    if (absl::Status s = f.write(bytes.data(), bytes.size()); !s.ok())
      return s;
    if (absl::Status s = f.flush(); !s.ok())
      return s;
  }
  return f.commit();
}

absl::Status writeSafetensors(const std::string &path, const Checkpoint &checkpoint) {
  auto bytes = encodeSafetensors(checkpoint);
  if (!bytes.ok())
    return bytes.status();
  return writeFileAtomically(path, *bytes);
}

absl::StatusOr<Checkpoint> readSafetensors(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return absl::NotFoundError(absl::StrCat("cannot open checkpoint '", path, "': ", errnoText()));
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return decodeSafetensors(bytes, path);
}

std::string checkpointPath(const std::string &dir, int64_t step) {
  char name[64];
  std::snprintf(name, sizeof name, "/ckpt-%010lld.safetensors", static_cast<long long>(step));
  return dir + name;
}

static bool isCheckpointName(const std::string &n) {
  return n.size() == 5 + 10 + 12 && n.compare(0, 5, "ckpt-") == 0 &&
         n.compare(15, 12, ".safetensors") == 0 &&
         std::all_of(n.begin() + 5, n.begin() + 15, [](char c) { return c >= '0' && c <= '9'; });
}

std::vector<std::string> listCheckpoints(const std::string &dir) {
  std::vector<std::string> names;
  if (DIR *d = ::opendir(dir.c_str())) {
    while (dirent *e = ::readdir(d))
      if (isCheckpointName(e->d_name))
        names.push_back(e->d_name);
    ::closedir(d);
  }
  std::sort(names.begin(), names.end()); // zero-padded steps sort numerically
  for (std::string &n : names)
    n = dir + "/" + n;
  return names;
}

void pruneCheckpoints(const std::string &dir, int keep) {
  std::vector<std::string> all = listCheckpoints(dir);
  for (size_t i = 0; keep > 0 && i + size_t(keep) < all.size(); ++i)
    ::unlink(all[i].c_str());
  // Temp files of writers that were killed (ours are ".ckpt-*.tmp-<pid>").
  if (DIR *d = ::opendir(dir.c_str())) {
    std::vector<std::string> stale;
    while (dirent *e = ::readdir(d)) {
      std::string n = e->d_name;
      size_t at = n.rfind(".tmp-");
      if (n.rfind(".ckpt-", 0) != 0 || at == std::string::npos)
        continue;
      // Only a writer that is gone leaves a stale file: another live
      // process may be writing its temp file right now.
      long pid = std::strtol(n.c_str() + at + 5, nullptr, 10);
      bool gone = pid > 0 && pid != long(getpid()) && ::kill(pid_t(pid), 0) != 0 && errno == ESRCH;
      if (gone)
        stale.push_back(dir + "/" + n);
    }
    ::closedir(d);
    for (const std::string &s : stale)
      ::unlink(s.c_str());
  }
}

} // namespace tg
