//===- Data.cpp - tgc data: pack, inspect and verify packed data sets -----===//
//
// `tgc data pack` turns what `tgc train --data` reads whole (an MNIST-style
// directory, NAME=FILE arrays, many .npy files per field) into a packed
// directory of shards that training reads shard by shard (io/Shards.h);
// `inspect` prints its fields, counts, sizes and a label histogram; `verify`
// checks every shard's size and CRC-32.
//
//===----------------------------------------------------------------------===//
#include "tools/Commands.h"

#include "tg/Idx.h"
#include "io/Images.h"
#include "io/Shards.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <glob.h>
#include <map>
#include <memory>
#include <string>
#include <unistd.h>
#include <vector>

namespace tg {
namespace tools {
namespace {

const char *kDataUsage = R"(usage: tgc data pack --from SRC [--from SRC ...] -o DIR [--shard-mb N] [--split S]
                     [--size HxW] [--channels 1|3] [--skip-bad-records]
       tgc data inspect DIR
       tgc data verify DIR

Packed data sets: shards that tgc train --data DIR reads one at a time, so a
training process never holds the data set (or, under mpirun, more than its
share of the shards) in memory.

pack: writes DIR (new or empty) as shards of about N MiB (default 64) and an
index.json (fields, dtypes, shapes, records per shard, sizes and CRC-32s).
Each field of a shard is a NumPy .npy file in the source's dtype (np.load
with mmap_mode="r" reads it). SRC is:
  DIR                an MNIST-style directory: its train-images/labels (or
                     --split t10k) become fields "images" (data) and "labels"
                     (label)
  DIR                an image folder (DIR/CLASS/*.png|*.jpg|*.jpeg, as
                     torchvision's ImageFolder): fields "images" (u8 [C, H, W]:
                     each image decoded, its shorter side resized to --size
                     HxW with bilinear filtering and its center cropped;
                     --channels 3 RGB, default, or 1 gray) and "labels" (the
                     class folder's index, folders in name order); an image
                     that does not decode is an error naming the file, or
                     with --skip-bad-records left out (listed at the end)
  FILE               a text file for a character model: field "text" (role
                     text), one byte a record; tgc train streams it
  NAME=FILE          field NAME from an IDX (raw or gzipped) or .npy file
  NAME=GLOB          field NAME from many .npy/IDX files (a pattern with * or
                     ?, sorted by name), concatenated in that order
tgc train binds fields to the artifact's arguments by name, or, for one
data and one label argument, to the fields of roles data and label (NAME=
fields named label/labels/y get the role label, the others data).

inspect: the fields, records, shards and bytes, and for each integer field
of one value per record, a histogram of its values.

verify: reads every shard file and checks its size and CRC-32; the first
mismatch is an error naming the shard, the field and the file.
)";

/// What an image folder's images become (--size, --channels).
struct ImageShape {
  int height = 0, width = 0, channels = 3;
};

/// An image folder's fields: "images" (u8 [C, H, W], decoded, resized and
/// center-cropped in chunks as pack asks for them) and "labels" (the class
/// folder's index).
absl::Status addImageFolder(const std::string &dir, const ImageShape &shape,
                            std::shared_ptr<std::vector<std::string>> skipped,
                            std::vector<data::PackSource> &out) {
  if (shape.height <= 0)
    return absl::InvalidArgumentError(absl::StrCat(
        "--from ", dir, ": an image folder needs --size HxW (the model's input, e.g. 64x64)"));
  auto folder = data::listImageFolder(dir);
  if (!folder.ok())
    return folder.status();
  auto list = std::make_shared<data::ImageFolder>(std::move(*folder));
  std::fprintf(stderr, "pack: %s: %zu images in %zu classes (%s%s)\n", dir.c_str(),
               list->images.size(), list->classes.size(),
               absl::StrJoin(std::vector<std::string>(
                                 list->classes.begin(),
                                 list->classes.begin() + long(std::min<size_t>(list->classes.size(), 8))),
                             ", ")
                   .c_str(),
               list->classes.size() > 8 ? ", ..." : "");
  static constexpr size_t kChunk = 256;
  // pack() asks for a chunk of images (which finds the undecodable ones to
  // skip) before the chunk of labels of the same images (which skips them).
  auto bad = std::make_shared<std::vector<bool>>(list->images.size(), false);
  auto decoded = std::make_shared<size_t>(0); // images looked at
  auto images = [list, shape, skipped, bad, decoded,
                 at = size_t(0)]() mutable -> absl::StatusOr<std::optional<data::Array>> {
    if (at >= list->images.size())
      return std::optional<data::Array>();
    size_t n = std::min(kChunk, list->images.size() - at), kept = 0;
    *decoded = at + n;
    data::Array a;
    a.path = list->images[at].first;
    a.sourceType = "image u8";
    a.dtype = "u8";
    for (size_t i = 0; i < n; ++i, ++at) {
      auto image = data::decodeImage(list->images[at].first);
      if (!image.ok() && !skipped)
        return image.status();
      if (!image.ok()) { // --skip-bad-records
        (*bad)[at] = true;
        skipped->push_back(std::string(image.status().message()));
        continue;
      }
      std::vector<uint8_t> px =
          data::resizeCenterCrop(*image, shape.height, shape.width, shape.channels);
      a.bytes.insert(a.bytes.end(), px.begin(), px.end());
      ++kept;
    }
    a.shape = {int64_t(kept), shape.channels, shape.height, shape.width};
    return std::optional<data::Array>(std::move(a));
  };
  bool wide = list->classes.size() > 256;
  auto labels = [list, wide, bad, decoded,
                 at = size_t(0)]() mutable -> absl::StatusOr<std::optional<data::Array>> {
    if (at >= list->images.size())
      return std::optional<data::Array>();
    size_t n = std::min(kChunk, list->images.size() - at), kept = 0;
    if (*decoded < at + n)
      return absl::InternalError("an image folder's labels were packed before its images");
    data::Array a;
    a.path = list->images[at].first;
    a.sourceType = "image folder labels";
    a.dtype = wide ? "i32" : "u8";
    for (size_t i = 0; i < n; ++i, ++at) {
      if ((*bad)[at])
        continue;
      ++kept;
      int32_t label = list->images[at].second;
      const uint8_t *p = reinterpret_cast<const uint8_t *>(&label);
      a.bytes.insert(a.bytes.end(), p, p + (wide ? 4 : 1));
    }
    a.shape = {int64_t(kept)};
    return std::optional<data::Array>(std::move(a));
  };
  out.push_back({"images", "data", {}, images});
  out.push_back({"labels", "label", {}, labels});
  return absl::OkStatus();
}

/// A text file for a character model: field "text" (role text), one byte a
/// record, read in chunks of 16 MiB.
absl::Status addTextFile(const std::string &path, std::vector<data::PackSource> &out) {
  for (const data::PackSource &s : out)
    if (s.name == "text")
      return absl::InvalidArgumentError(
          absl::StrCat("--from ", path, ": one text file per packed data set"));
  auto file = std::shared_ptr<FILE>(std::fopen(path.c_str(), "rb"), [](FILE *f) {
    if (f)
      std::fclose(f);
  });
  auto text = [file, path]() -> absl::StatusOr<std::optional<data::Array>> {
    data::Array a;
    a.path = path;
    a.sourceType = "text";
    a.dtype = "u8";
    a.bytes.resize(size_t(16) << 20);
    size_t got = std::fread(a.bytes.data(), 1, a.bytes.size(), file.get());
    if (std::ferror(file.get()))
      return absl::DataLossError(absl::StrCat("reading '", path, "': ", std::strerror(errno)));
    if (got == 0)
      return std::optional<data::Array>();
    a.bytes.resize(got);
    a.shape = {int64_t(got)};
    return std::optional<data::Array>(std::move(a));
  };
  out.push_back({"text", "text", {}, text});
  return absl::OkStatus();
}

/// The sources of one --from.
absl::Status addSource(const std::string &spec, const std::string &split, const ImageShape &shape,
                       std::shared_ptr<std::vector<std::string>> skipped,
                       std::vector<data::PackSource> &out) {
  size_t eq = spec.find('=');
  if (eq == std::string::npos) {
    if (!data::isDirectory(spec)) {
      FILE *probe = std::fopen(spec.c_str(), "rb");
      if (!probe)
        return absl::NotFoundError(absl::StrCat("--from ", spec, ": cannot read it: ",
                                                std::strerror(errno),
                                                " (SRC is a directory, a text file, NAME=FILE "
                                                "or NAME=GLOB)"));
      std::fclose(probe);
      return addTextFile(spec, out);
    }
    std::string images = findIdxFile(spec, split + "-images-idx3-ubyte");
    std::string labels = findIdxFile(spec, split + "-labels-idx1-ubyte");
    if (images.empty() && labels.empty())
      return addImageFolder(spec, shape, skipped, out);
    if (images.empty() || labels.empty())
      return absl::NotFoundError(absl::StrCat("--from ", spec, ": no ", split,
                                              "-images-idx3-ubyte[.gz] and ", split,
                                              "-labels-idx1-ubyte[.gz] in this directory"));
    out.push_back({"images", "data", {images}});
    out.push_back({"labels", "label", {labels}});
    return absl::OkStatus();
  }
  std::string name = spec.substr(0, eq), pattern = spec.substr(eq + 1);
  if (name.empty() || name.find_first_of("/.") != std::string::npos)
    return absl::InvalidArgumentError(
        absl::StrCat("--from ", spec, ": the field name must be non-empty, without / or ."));
  data::PackSource src;
  src.name = name;
  src.role = (name == "label" || name == "labels" || name == "y") ? "label" : "data";
  if (pattern.find_first_of("*?[") != std::string::npos) {
    glob_t g;
    int rc = ::glob(pattern.c_str(), 0, nullptr, &g);
    if (rc == 0)
      for (size_t i = 0; i < g.gl_pathc; ++i)
        src.files.push_back(g.gl_pathv[i]);
    ::globfree(&g);
    if (src.files.empty())
      return absl::NotFoundError(absl::StrCat("--from ", spec, ": no file matches"));
    std::sort(src.files.begin(), src.files.end());
  } else {
    if (::access(pattern.c_str(), R_OK) != 0)
      return absl::NotFoundError(absl::StrCat("--from ", spec, ": cannot read '", pattern, "'"));
    src.files.push_back(pattern);
  }
  for (const data::PackSource &s : out)
    if (s.name == name)
      return absl::InvalidArgumentError(absl::StrCat("--from ", spec, ": field '", name,
                                                     "' is given twice"));
  out.push_back(std::move(src));
  return absl::OkStatus();
}

std::string mib(uint64_t bytes) { return absl::StrCat(double(bytes) / 1048576.0, " MiB"); }

int packCommand(int argc, char **argv) {
  std::vector<std::string> from;
  std::string out, split = "train", v;
  double shardMb = 64;
  ImageShape shape;
  std::shared_ptr<std::vector<std::string>> skipped; // --skip-bad-records
  for (int i = 3; i < argc; ++i) {
    std::string a = argv[i];
    if (takeValue(i, argc, argv, "--from", v)) {
      from.push_back(v);
    } else if (takeValue(i, argc, argv, "-o", v)) {
      out = v;
    } else if (takeValue(i, argc, argv, "--split", v)) {
      split = v;
    } else if (takeValue(i, argc, argv, "--size", v)) {
      int h = 0, w = 0;
      char x = 0, extra = 0;
      if (std::sscanf(v.c_str(), "%d%c%d%c", &h, &x, &w, &extra) != 3 || x != 'x' || h < 1 ||
          w < 1 || h > 65536 || w > 65536)
        return error("data pack: --size needs HxW (e.g. 64x64), got '" + v + "'");
      shape.height = h;
      shape.width = w;
    } else if (takeValue(i, argc, argv, "--channels", v)) {
      if (v != "1" && v != "3")
        return error("data pack: --channels needs 1 (gray) or 3 (RGB), got '" + v + "'");
      shape.channels = v[0] - '0';
    } else if (takeValue(i, argc, argv, "--shard-mb", v)) {
      char *end = nullptr;
      shardMb = std::strtod(v.c_str(), &end);
      if (v.empty() || *end || !(shardMb > 0 && shardMb <= 1048576))
        return error("data pack: --shard-mb needs a size in MiB in (0, 1048576], got '" + v +
                     "'");
    } else if (a == "--skip-bad-records") {
      skipped = std::make_shared<std::vector<std::string>>();
    } else if (a == "-h" || a == "--help") {
      std::printf("%s", kDataUsage);
      return 0;
    } else {
      return error("data pack: unknown argument '" + a + "' (see tgc data --help)");
    }
  }
  if (std::string missing = takeMissingValue(); !missing.empty())
    return error("data pack: " + missing);
  if (from.empty() || out.empty())
    return error("data pack: needs --from SRC and -o DIR (see tgc data --help)");
  std::vector<data::PackSource> sources;
  for (const std::string &f : from)
    if (absl::Status s = addSource(f, split, shape, skipped, sources); !s.ok())
      return error("data pack: " + std::string(s.message()));
  data::PackOptions options;
  options.shardMb = shardMb;
  options.progress = [](const std::string &line) { std::fprintf(stderr, "pack: %s\n", line.c_str()); };
  auto index = data::pack(sources, out, options);
  if (!index.ok())
    return error("data pack: " + std::string(index.status().message()));
  if (skipped && !skipped->empty()) {
    std::fprintf(stderr, "pack: skipped %zu image(s) that do not decode (--skip-bad-records):\n",
                 skipped->size());
    for (size_t i = 0; i < skipped->size() && i < 10; ++i)
      std::fprintf(stderr, "  %s\n", (*skipped)[i].c_str());
    if (skipped->size() > 10)
      std::fprintf(stderr, "  ... and %zu more\n", skipped->size() - 10);
  }
  std::printf("packed %lld records into %zu shards (%s) in %s\n", (long long)index->records,
              index->shards.size(), mib(index->bytes()).c_str(), out.c_str());
  return 0;
}

absl::StatusOr<data::ShardIndex> readIndexArg(int argc, char **argv, const char *command) {
  if (argc != 4 || std::string(argv[3]).rfind("-", 0) == 0)
    return absl::InvalidArgumentError(
        absl::StrCat("data ", command, ": needs one packed directory (tgc data ", command, " DIR)"));
  return data::ShardIndex::read(argv[3]);
}

int inspectDataCommand(int argc, char **argv) {
  auto index = readIndexArg(argc, argv, "inspect");
  if (!index.ok())
    return error(std::string(index.status().message()));
  int64_t smallest = index->shards.front().records, largest = smallest;
  for (const data::Shard &s : index->shards) {
    smallest = std::min(smallest, s.records);
    largest = std::max(largest, s.records);
  }
  std::printf("%s: %lld records in %zu shards (%lld to %lld records each), %s\n",
              index->dir.c_str(), (long long)index->records, index->shards.size(),
              (long long)smallest, (long long)largest, mib(index->bytes()).c_str());
  std::printf("fields:\n");
  for (const data::ShardField &f : index->fields)
    std::printf("  %-12s %-5s %-6s [%s] %zu bytes/record%s%s\n", f.name.c_str(),
                f.role.empty() ? "-" : f.role.c_str(), f.dtype.c_str(),
                absl::StrJoin(f.shape, ", ").c_str(), f.recordBytes(),
                f.scale != 1 ? absl::StrCat(", scale ", f.scale, " into floats").c_str() : "",
                f.source.empty() ? "" : (", from " + f.source).c_str());
  auto shards = data::ShardSet::open(*index);
  if (!shards.ok())
    return error(std::string(shards.status().message()));
  for (size_t fi = 0; fi < index->fields.size(); ++fi) {
    const data::ShardField &f = index->fields[fi];
    bool integral = f.dtype != "f32" && f.dtype != "f64";
    if (!integral || f.recordElements() != 1)
      continue;
    std::map<int64_t, int64_t> histogram;
    data::ArgSpec spec{f.name, "i64", {1}};
    for (int64_t s = 0; s < int64_t(index->shards.size()); ++s) {
      int64_t first = (*shards)->firstRecord(s);
      for (int64_t r = 0; r < index->shards[size_t(s)].records; ++r) {
        auto p = (*shards)->record(fi, first + r);
        if (!p.ok())
          return error(std::string(p.status().message()));
        int64_t value = 0;
        data::convertElements(f.dtype, *p, "i64", reinterpret_cast<uint8_t *>(&value), 1, 1);
        ++histogram[value];
      }
      (*shards)->release(s);
    }
    std::printf("%s histogram (%zu values):\n", f.name.c_str(), histogram.size());
    if (histogram.size() > 64) {
      std::printf("  (more than 64 distinct values: from %lld to %lld)\n",
                  (long long)histogram.begin()->first, (long long)histogram.rbegin()->first);
      continue;
    }
    for (auto [value, count] : histogram)
      std::printf("  %6lld: %lld (%.1f%%)\n", (long long)value, (long long)count,
                  100.0 * double(count) / double(index->records));
  }
  return 0;
}

int verifyCommand(int argc, char **argv) {
  auto index = readIndexArg(argc, argv, "verify");
  if (!index.ok())
    return error(std::string(index.status().message()));
  size_t n = index->shards.size();
  absl::Status s = data::verify(*index, [&](int64_t shard) {
    if (n >= 20 && (shard + 1) % int64_t(n / 10) == 0)
      std::fprintf(stderr, "verify: %lld of %zu shards\n", (long long)shard + 1, n);
  });
  if (!s.ok())
    return error("data verify: " + std::string(s.message()));
  std::printf("%s: %zu shards, %s, every size and CRC-32 as the index says\n",
              index->dir.c_str(), n, mib(index->bytes()).c_str());
  return 0;
}

} // namespace

int dataCommand(int argc, char **argv) {
  std::string sub = argc > 2 ? argv[2] : "";
  if (sub == "pack")
    return packCommand(argc, argv);
  if (sub == "inspect")
    return inspectDataCommand(argc, argv);
  if (sub == "verify")
    return verifyCommand(argc, argv);
  if (sub == "-h" || sub == "--help") {
    std::printf("%s", kDataUsage);
    return 0;
  }
  std::fprintf(stderr, "%s", kDataUsage);
  return error(sub.empty() ? "data: needs pack, inspect or verify"
                           : "data: unknown subcommand '" + sub + "' (pack, inspect, verify)");
}

} // namespace tools
} // namespace tg
