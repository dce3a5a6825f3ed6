//===- Shards.cpp - packed data sets: shards and their index --------------===//
#include "io/Shards.h"

#include "tg/Npy.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

#include <nlohmann/json.hpp>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace tg {
namespace data {
namespace {

using json = nlohmann::json;

std::string join(const std::string &dir, const std::string &name) { return dir + "/" + name; }

absl::Status indexError(const std::string &dir, const std::string &what) {
  return absl::InvalidArgumentError(
      absl::StrCat(join(dir, kShardIndexFile), ": not a valid shard index: ", what));
}

/// CRC-32 (zlib's) of a whole file, read in chunks.
absl::StatusOr<uint32_t> fileCrc(const std::string &path, uint64_t *size) {
  FILE *f = std::fopen(path.c_str(), "rb");
  if (!f)
    return absl::NotFoundError(absl::StrCat("cannot open '", path, "': ", std::strerror(errno)));
  std::vector<unsigned char> buf(1 << 20);
  uLong crc = crc32(0L, Z_NULL, 0);
  uint64_t total = 0;
  size_t got;
  while ((got = std::fread(buf.data(), 1, buf.size(), f)) > 0) {
    crc = crc32(crc, buf.data(), uInt(got));
    total += got;
  }
  bool failed = std::ferror(f);
  std::fclose(f);
  if (failed)
    return absl::DataLossError(absl::StrCat("reading '", path, "' failed"));
  *size = total;
  return uint32_t(crc);
}

} // namespace

int64_t ShardField::recordElements() const {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

size_t ShardField::recordBytes() const { return size_t(recordElements()) * dtypeSize(dtype); }

uint64_t ShardIndex::bytes() const {
  uint64_t n = 0;
  for (const Shard &s : shards)
    for (const ShardFile &f : s.files)
      n += f.bytes;
  return n;
}

bool ShardIndex::isPacked(const std::string &dir) {
  return ::access(join(dir, kShardIndexFile).c_str(), F_OK) == 0;
}

int ShardIndex::fieldIndex(const std::string &name) const {
  for (size_t i = 0; i < fields.size(); ++i)
    if (fields[i].name == name)
      return int(i);
  return -1;
}

absl::StatusOr<ShardIndex> ShardIndex::read(const std::string &dir) {
  std::ifstream in(join(dir, kShardIndexFile));
  if (!in)
    return absl::NotFoundError(absl::StrCat("cannot open '", join(dir, kShardIndexFile),
                                            "': ", std::strerror(errno)));
  json j = json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object())
    return indexError(dir, "not a JSON object");
  if (j.value("format", "") != "tgc-shards" || j.value("version", 0) != 1)
    return indexError(dir, "\"format\" must be \"tgc-shards\" and \"version\" 1");
  ShardIndex index;
  index.dir = dir;
  try {
    for (const json &f : j.at("fields")) {
      ShardField field;
      field.name = f.at("name").get<std::string>();
      field.dtype = f.at("dtype").get<std::string>();
      field.shape = f.at("shape").get<std::vector<int64_t>>();
      field.role = f.value("role", "");
      field.scale = f.value("scale", 1.0);
      field.source = f.value("source", "");
      if (field.name.empty() || dtypeSize(field.dtype) == 0 ||
          std::any_of(field.shape.begin(), field.shape.end(), [](int64_t d) { return d < 1; }))
        return indexError(dir, absl::StrCat("field '", field.name, "' needs a name, a dtype of ",
                                            "u8 i8 i16 i32 i64 f32 f64 i1 and dimensions >= 1"));
      if (index.fieldIndex(field.name) >= 0)
        return indexError(dir, absl::StrCat("field '", field.name, "' appears twice"));
      index.fields.push_back(std::move(field));
    }
    if (index.fields.empty())
      return indexError(dir, "no fields");
    for (const json &sj : j.at("shards")) {
      Shard shard;
      shard.records = sj.at("records").get<int64_t>();
      for (const ShardField &field : index.fields) {
        const json &fj = sj.at("files").at(field.name);
        ShardFile file;
        file.path = fj.at("path").get<std::string>();
        file.bytes = fj.at("bytes").get<uint64_t>();
        file.dataOffset = fj.at("data_offset").get<uint64_t>();
        file.crc32 = fj.at("crc32").get<uint32_t>();
        if (file.path.empty() || file.path.find('/') != std::string::npos ||
            file.dataOffset + uint64_t(shard.records) * field.recordBytes() != file.bytes)
          return indexError(dir, absl::StrCat("shard ", index.shards.size(), " field '",
                                              field.name, "': file '", file.path, "' of ",
                                              file.bytes, " bytes cannot hold ", shard.records,
                                              " records of ", field.recordBytes(),
                                              " bytes after a header of ", file.dataOffset));
        shard.files.push_back(std::move(file));
      }
      if (shard.records < 1)
        return indexError(dir, absl::StrCat("shard ", index.shards.size(), " has no records"));
      index.records += shard.records;
      index.shards.push_back(std::move(shard));
    }
  } catch (const json::exception &e) {
    return indexError(dir, e.what());
  }
  if (index.shards.empty())
    return indexError(dir, "no shards");
  if (j.value("records", int64_t(-1)) != index.records)
    return indexError(dir, absl::StrCat("\"records\" is ", j.value("records", int64_t(-1)),
                                        " but the shards hold ", index.records));
  return index;
}

absl::StatusOr<ShardIndex> pack(const std::vector<PackSource> &sources, const std::string &dir,
                                const PackOptions &options) {
  if (sources.empty())
    return absl::InvalidArgumentError("nothing to pack (--from)");
  struct stat st;
  if (::stat(dir.c_str(), &st) == 0) {
    if (!S_ISDIR(st.st_mode))
      return absl::AlreadyExistsError(absl::StrCat("'", dir, "' exists and is not a directory"));
    if (ShardIndex::isPacked(dir))
      return absl::AlreadyExistsError(
          absl::StrCat("'", dir, "' already holds a packed data set (remove it first)"));
  } else if (::mkdir(dir.c_str(), 0755) != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot create '", dir, "': ", std::strerror(errno)));
  }
  ShardIndex index;
  index.dir = dir;
  // The fields' dtypes and record shapes from their first files, so that the
  // records per shard are known before any is written.
  // A source's first chunk is kept for its pass below.
  std::vector<std::optional<Array>> firstChunk(sources.size());
  for (const PackSource &src : sources) {
    absl::StatusOr<Array> a;
    if (src.chunks) {
      absl::StatusOr<std::optional<Array>> c = src.chunks();
      if (!c.ok())
        return c.status();
      if (!*c)
        return absl::InvalidArgumentError(absl::StrCat("field '", src.name, "' has no records"));
      a = **c;
      firstChunk[size_t(&src - sources.data())] = std::move(**c);
    } else {
      if (src.files.empty())
        return absl::InvalidArgumentError(absl::StrCat("field '", src.name, "' has no files"));
      a = readArray(src.files[0]);
    }
    if (!a.ok())
      return a.status();
    if (a->shape.empty())
      return absl::InvalidArgumentError(absl::StrCat(
          "'", a->path, "': a scalar has no records (the first dimension counts them)"));
    ShardField field;
    field.name = src.name;
    field.role = src.role;
    field.dtype = a->dtype;
    field.shape.assign(a->shape.begin() + 1, a->shape.end());
    // 8-bit pixels feed float arguments as [0, 1], as from IDX files.
    field.scale = a->sourceType == "IDX u8" || a->sourceType == "image u8" ? 1.0 / 255.0 : 1.0;
    field.source = a->sourceType;
    if (src.files.size() > 1)
      field.source = absl::StrCat(field.source, ", ", src.files.size(), " files");
    index.fields.push_back(std::move(field));
  }
  size_t recordBytes = 0;
  for (const ShardField &f : index.fields)
    recordBytes += f.recordBytes();
  int64_t perShard = std::max<int64_t>(
      1, int64_t(options.shardMb * 1048576.0 / double(std::max<size_t>(recordBytes, 1))));
  // Field by field, one source file at a time: a shard's file is written as
  // soon as its records are in, so packing holds one file and one shard.
  std::vector<std::vector<int64_t>> counts(sources.size());
  for (size_t f = 0; f < sources.size(); ++f) {
    const ShardField &field = index.fields[f];
    size_t rb = field.recordBytes();
    // Records of a shard that straddles two files (less than one shard).
    std::vector<uint8_t> carry;
    auto writeShard = [&](const uint8_t *data, int64_t records) -> absl::Status {
      int64_t s = int64_t(counts[f].size());
      std::vector<int64_t> shape = {records};
      shape.insert(shape.end(), field.shape.begin(), field.shape.end());
      ShardFile file;
      file.path = absl::StrFormat("shard-%05d.%s.npy", s, field.name);
      std::string tmp = join(dir, file.path + ".tmp");
      size_t size = size_t(records) * rb;
      if (absl::Status st = writeNpy(tmp, field.dtype, shape, data, size); !st.ok())
        return st;
      // Size and checksum from the bytes just written, not read back.
      absl::StatusOr<std::string> header = npyHeader(field.dtype, shape);
      if (!header.ok())
        return header.status();
      file.dataOffset = header->size();
      file.bytes = header->size() + size;
      uLong crc = crc32(0L, reinterpret_cast<const Bytef *>(header->data()), uInt(header->size()));
      for (size_t at = 0; at < size; at += size_t(1) << 30) // uInt lengths
        crc = crc32(crc, data + at, uInt(std::min(size - at, size_t(1) << 30)));
      file.crc32 = uint32_t(crc);
      if (std::rename(tmp.c_str(), join(dir, file.path).c_str()) != 0)
        return absl::InternalError(
            absl::StrCat("cannot rename '", tmp, "': ", std::strerror(errno)));
      if (f == 0)
        index.shards.push_back(Shard{records, {}});
      else if (s >= int64_t(index.shards.size()) || index.shards[size_t(s)].records != records)
        return absl::InvalidArgumentError(absl::StrCat(
            "field '", field.name, "' has more records than field '", index.fields[0].name,
            "' (", index.records, ")"));
      index.shards[size_t(s)].files.push_back(std::move(file));
      counts[f].push_back(records);
      if (options.progress)
        options.progress(absl::StrCat("field '", field.name, "': shard ", s + 1, " (", records,
                                      " records)"));
      return absl::OkStatus();
    };
    // The next array of the field: a file, or a chunk of the generator.
    size_t nextFile = 0;
    auto nextArray = [&]() -> absl::StatusOr<std::optional<Array>> {
      if (firstChunk[f]) {
        std::optional<Array> a = std::move(firstChunk[f]);
        firstChunk[f].reset();
        return a;
      }
      if (sources[f].chunks)
        return sources[f].chunks();
      if (nextFile >= sources[f].files.size())
        return std::optional<Array>();
      absl::StatusOr<Array> a = readArray(sources[f].files[nextFile++]);
      if (!a.ok())
        return a.status();
      return std::optional<Array>(std::move(*a));
    };
    for (;;) {
      absl::StatusOr<std::optional<Array>> next = nextArray();
      if (!next.ok())
        return next.status();
      if (!*next)
        break;
      std::optional<Array> a = std::move(*next);
      const std::string &path = a->path;
      std::vector<int64_t> shape(a->shape.begin() + (a->shape.empty() ? 0 : 1), a->shape.end());
      if (a->shape.empty() || a->dtype != field.dtype || shape != field.shape)
        return absl::InvalidArgumentError(absl::StrCat(
            "'", path, "' (", a->dtype, " records of [", absl::StrJoin(shape, ", "),
            "]) does not match the first file of field '", field.name, "' (", field.dtype, " [",
            absl::StrJoin(field.shape, ", "), "])"));
      // Shards straight from the file's bytes; one that straddles files
      // through `carry`.
      const std::vector<uint8_t> &bytes = a->bytes;
      size_t shardBytes = size_t(perShard) * rb, pos = 0;
      if (!carry.empty()) {
        size_t take = std::min(shardBytes - carry.size(), bytes.size());
        carry.insert(carry.end(), bytes.begin(), bytes.begin() + long(take));
        pos = take;
        if (carry.size() == shardBytes) {
          if (absl::Status st = writeShard(carry.data(), perShard); !st.ok())
            return st;
          carry.clear();
        }
      }
      for (; bytes.size() - pos >= shardBytes; pos += shardBytes)
        if (absl::Status st = writeShard(bytes.data() + pos, perShard); !st.ok())
          return st;
      carry.insert(carry.end(), bytes.begin() + long(pos), bytes.end());
    }
    if (!carry.empty())
      if (absl::Status st = writeShard(carry.data(), int64_t(carry.size() / rb)); !st.ok())
        return st;
    int64_t records = 0;
    for (int64_t c : counts[f])
      records += c;
    if (f == 0)
      index.records = records;
    else if (records != index.records)
      return absl::InvalidArgumentError(absl::StrCat("field '", field.name, "' has ", records,
                                                     " records but field '",
                                                     index.fields[0].name, "' has ",
                                                     index.records));
  }
  if (index.records == 0)
    return absl::InvalidArgumentError("the sources hold no records");
  json j;
  j["format"] = "tgc-shards";
  j["version"] = 1;
  j["records"] = index.records;
  for (const ShardField &f : index.fields)
    j["fields"].push_back({{"name", f.name},
                           {"dtype", f.dtype},
                           {"shape", f.shape},
                           {"role", f.role},
                           {"scale", f.scale},
                           {"source", f.source}});
  for (const Shard &s : index.shards) {
    json files;
    for (size_t f = 0; f < index.fields.size(); ++f)
      files[index.fields[f].name] = {{"path", s.files[f].path},
                                     {"bytes", s.files[f].bytes},
                                     {"data_offset", s.files[f].dataOffset},
                                     {"crc32", s.files[f].crc32}};
    j["shards"].push_back({{"records", s.records}, {"files", files}});
  }
  std::string tmp = join(dir, std::string(kShardIndexFile) + ".tmp");
  {
    std::ofstream out(tmp);
    out << j.dump(1) << "\n";
    if (!out)
      return absl::InternalError(absl::StrCat("writing '", tmp, "' failed"));
  }
  // The index last: a directory without one is not a data set yet.
  if (std::rename(tmp.c_str(), join(dir, kShardIndexFile).c_str()) != 0)
    return absl::InternalError(absl::StrCat("cannot rename '", tmp, "': ", std::strerror(errno)));
  return index;
}

absl::Status verify(const ShardIndex &index, const std::function<void(int64_t)> &progress) {
  for (size_t s = 0; s < index.shards.size(); ++s) {
    const Shard &shard = index.shards[s];
    for (size_t f = 0; f < shard.files.size(); ++f) {
      const ShardFile &file = shard.files[f];
      std::string path = join(index.dir, file.path);
      uint64_t size = 0;
      absl::StatusOr<uint32_t> crc = fileCrc(path, &size);
      if (!crc.ok())
        return absl::DataLossError(
            absl::StrCat("shard ", s, " field '", index.fields[f].name, "': ", crc.status().message()));
      if (size != file.bytes)
        return absl::DataLossError(absl::StrCat("shard ", s, " field '", index.fields[f].name,
                                                "': '", path, "' has ", size,
                                                " bytes, the index says ", file.bytes));
      if (*crc != file.crc32)
        return absl::DataLossError(absl::StrFormat(
            "shard %d field '%s': '%s' has CRC-32 %08x, the index says %08x (the file is "
            "corrupted)",
            s, index.fields[f].name, path, *crc, file.crc32));
    }
    if (progress)
      progress(int64_t(s));
  }
  return absl::OkStatus();
}

ShardSet::ShardSet(ShardIndex index) : index_(std::move(index)) {
  starts_.push_back(0);
  for (const Shard &s : index_.shards)
    starts_.push_back(starts_.back() + s.records);
  mappings_.resize(index_.shards.size());
  for (const ShardField &f : index_.fields) {
    fieldOffset_.push_back(slotBytes_);
    fieldBytes_.push_back(f.recordBytes());
    slotBytes_ += f.recordBytes();
  }
}

ShardSet::~ShardSet() {
  for (Mapping &m : mappings_)
    unmap(m);
}

absl::StatusOr<std::shared_ptr<ShardSet>> ShardSet::open(ShardIndex index) {
  for (size_t s = 0; s < index.shards.size(); ++s)
    for (size_t f = 0; f < index.fields.size(); ++f) {
      const ShardFile &file = index.shards[s].files[f];
      std::string path = join(index.dir, file.path);
      struct stat st;
      if (::stat(path.c_str(), &st) != 0)
        return absl::NotFoundError(absl::StrCat("shard ", s, " field '", index.fields[f].name,
                                                "': cannot open '", path,
                                                "': ", std::strerror(errno)));
      if (uint64_t(st.st_size) != file.bytes)
        return absl::DataLossError(absl::StrCat(
            "shard ", s, " field '", index.fields[f].name, "': '", path, "' has ", st.st_size,
            " bytes, the index says ", file.bytes, " (truncated or replaced: tgc data verify ",
            index.dir, ")"));
    }
  return std::shared_ptr<ShardSet>(new ShardSet(std::move(index)));
}

int64_t ShardSet::shardOf(int64_t r) const {
  return int64_t(std::upper_bound(starts_.begin(), starts_.end(), r) - starts_.begin()) - 1;
}

absl::Status ShardSet::map(int64_t shard) {
  Mapping &m = mappings_[size_t(shard)];
  m.base.assign(index_.fields.size(), nullptr);
  m.length.assign(index_.fields.size(), 0);
  for (size_t f = 0; f < index_.fields.size(); ++f) {
    const ShardFile &file = index_.shards[size_t(shard)].files[f];
    std::string path = join(index_.dir, file.path);
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || ::fstat(fd, &st) != 0 || uint64_t(st.st_size) != file.bytes) {
      std::string why = fd < 0 ? std::strerror(errno)
                               : absl::StrCat("it has ", st.st_size, " bytes, the index says ",
                                              file.bytes);
      if (fd >= 0)
        ::close(fd);
      unmap(m);
      return absl::DataLossError(absl::StrCat("shard ", shard, " field '", index_.fields[f].name,
                                              "': '", path, "': ", why));
    }
    void *p = ::mmap(nullptr, file.bytes, PROT_READ, MAP_PRIVATE, fd, 0);
    ::close(fd);
    if (p == MAP_FAILED) {
      unmap(m);
      return absl::InternalError(
          absl::StrCat("cannot map '", path, "': ", std::strerror(errno)));
    }
    m.base[f] = static_cast<const uint8_t *>(p);
    m.length[f] = file.bytes;
  }
  m.mapped = true;
  if (!m.everMapped) {
    m.everMapped = true;
    ++opened_;
    for (const ShardFile &file : index_.shards[size_t(shard)].files)
      openedBytes_ += file.bytes;
  }
  return absl::OkStatus();
}

void ShardSet::unmap(Mapping &m) {
  for (size_t f = 0; f < m.base.size(); ++f)
    if (m.base[f])
      ::munmap(const_cast<uint8_t *>(m.base[f]), m.length[f]);
  m.base.clear();
  m.length.clear();
  m.mapped = false;
}

absl::StatusOr<const uint8_t *> ShardSet::record(size_t field, int64_t r) {
  const uint8_t *p = nullptr;
  if (absl::Status s = records(field, &r, 1, &p); !s.ok())
    return s;
  return p;
}

absl::Status ShardSet::records(size_t field, const int64_t *rs, size_t n, const uint8_t **out) {
  std::lock_guard<std::mutex> lock(mutex_);
  size_t recordBytes = fieldBytes_[field];
  for (size_t i = 0; i < n; ++i) {
    int64_t r = rs[i], shard = shardOf(r);
    if (shard < 0 || shard >= int64_t(mappings_.size()))
      return absl::OutOfRangeError(absl::StrCat("record ", r, " is not in the data set (",
                                                starts_.back(), " records)"));
    Mapping &m = mappings_[size_t(shard)];
    if (m.spilled && slotOf_[size_t(r)] != kNoSlot) {
      out[i] = slot(slotOf_[size_t(r)]) + fieldOffset_[field];
      continue;
    }
    if (!m.mapped)
      if (absl::Status s = map(shard); !s.ok())
        return s;
    out[i] = m.base[field] + index_.shards[size_t(shard)].files[field].dataOffset +
             size_t(r - starts_[size_t(shard)]) * recordBytes;
  }
  return absl::OkStatus();
}

void ShardSet::release(int64_t shard) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (shard >= 0 && shard < int64_t(mappings_.size()))
    unmap(mappings_[size_t(shard)]);
}

void ShardSet::drop(int64_t shard) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (shard < 0 || shard >= int64_t(mappings_.size()) || !mappings_[size_t(shard)].mapped)
    return;
  Mapping &m = mappings_[size_t(shard)];
  for (size_t f = 0; f < m.base.size(); ++f)
    ::madvise(const_cast<uint8_t *>(m.base[f]), m.length[f], MADV_DONTNEED);
}

absl::Status ShardSet::spill(int64_t shard, std::vector<int64_t> rs) {
  // In file order, so the copy reads the shard front to back.
  std::sort(rs.begin(), rs.end());
  std::vector<const uint8_t *> base;
  std::vector<uint32_t> at(rs.size());
  std::vector<uint8_t *> dst(rs.size());
  {
    std::lock_guard<std::mutex> lock(mutex_);
    Mapping &m = mappings_[size_t(shard)];
    if (!m.mapped)
      if (absl::Status s = map(shard); !s.ok())
        return s;
    base = m.base;
    if (slotOf_.empty())
      slotOf_.assign(size_t(starts_.back()), kNoSlot);
    for (size_t i = 0; i < rs.size(); ++i) {
      if (freeSlots_.empty()) {
        uint32_t first = uint32_t(chunks_.size()) * kSlotsPerChunk;
        chunks_.push_back(std::make_unique<uint8_t[]>(size_t(kSlotsPerChunk) * slotBytes_));
        reads_.resize(size_t(first) + kSlotsPerChunk, 0);
        for (uint32_t k = kSlotsPerChunk; k > 0; --k)
          freeSlots_.push_back(first + k - 1);
      }
      at[i] = freeSlots_.back();
      freeSlots_.pop_back();
      // Taken under the lock: another spill may grow chunks_ (the vector of
      // chunk pointers moves; the chunks do not).
      dst[i] = slot(at[i]);
    }
  }
  // Copied unlocked into slots no reader knows yet: the shard stays mapped
  // until its last record is read, later than now.
  const Shard &sh = index_.shards[size_t(shard)];
  for (size_t i = 0; i < rs.size(); ++i)
    for (size_t f = 0; f < index_.fields.size(); ++f) {
      size_t rb = fieldBytes_[f];
      std::memcpy(dst[i] + fieldOffset_[f],
                  base[f] + sh.files[f].dataOffset + size_t(rs[i] - starts_[size_t(shard)]) * rb,
                  rb);
    }
  std::lock_guard<std::mutex> lock(mutex_);
  for (size_t i = 0; i < rs.size(); ++i) {
    uint32_t &to = slotOf_[size_t(rs[i])];
    if (to == kNoSlot) {
      to = at[i];
      ++spilledNow_;
    } else { // a record read twice, or spilled already
      freeSlots_.push_back(at[i]);
    }
    ++reads_[to];
  }
  spilledPeak_ = std::max(spilledPeak_, spilledNow_);
  Mapping &m = mappings_[size_t(shard)];
  m.spilled = true;
  if (m.mapped) // reads under way fault pages back from the page cache
    for (size_t f = 0; f < m.base.size(); ++f)
      ::madvise(const_cast<uint8_t *>(m.base[f]), m.length[f], MADV_DONTNEED);
  return absl::OkStatus();
}

void ShardSet::forget(const int64_t *rs, size_t n) {
  std::lock_guard<std::mutex> lock(mutex_);
  for (size_t i = 0; i < n && spilledNow_ > 0; ++i) {
    uint32_t &at = slotOf_[size_t(rs[i])];
    if (at != kNoSlot && --reads_[at] == 0) {
      freeSlots_.push_back(at);
      at = kNoSlot;
      --spilledNow_;
    }
  }
}

void ShardSet::forgetAll() {
  std::lock_guard<std::mutex> lock(mutex_);
  // The slots and the per-record index (4 bytes a record) stay for the next
  // epoch; only entries still holding a slot are cleared.
  if (spilledNow_ > 0)
    std::fill(slotOf_.begin(), slotOf_.end(), kNoSlot);
  std::fill(reads_.begin(), reads_.end(), 0);
  freeSlots_.clear();
  for (uint32_t k = uint32_t(chunks_.size()) * kSlotsPerChunk; k > 0; --k)
    freeSlots_.push_back(k - 1);
  spilledNow_ = 0;
  for (Mapping &m : mappings_)
    m.spilled = false;
}

int64_t ShardSet::spilledNow() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return spilledNow_;
}

int64_t ShardSet::spilledPeak() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return spilledPeak_;
}

void ShardSet::resetStats() {
  std::lock_guard<std::mutex> lock(mutex_);
  opened_ = 0;
  openedBytes_ = 0;
  for (Mapping &m : mappings_)
    m.everMapped = m.mapped;
}

int64_t ShardSet::shardsOpened() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return opened_;
}

uint64_t ShardSet::bytesOpened() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return openedBytes_;
}

} // namespace data
} // namespace tg
