//===- Targets.cpp - the fuzz targets: every reader of user files ---------===//
//
// One LLVMFuzzerTestOneInput per executable, chosen by TG_FUZZ_TARGET at
// compile time (tests/fuzz/CMakeLists.txt). The same targets also build as
// plain programs (StandaloneMain.cpp) that replay the committed corpus and
// every crash found so far: the regression tests of the normal suite.
// A reader may reject its input with an error; it may not crash, hang,
// abort or touch memory it does not own (ASan/UBSan in scripts/fuzz.sh).
//
//===----------------------------------------------------------------------===//
#include "tg/Checkpoint.h"
#include "tg/Data.h"
#include "tg/Idx.h"
#include "io/Images.h"
#include "tg/Npy.h"
#include "io/Shards.h"
#include "support/Manifest.h"
#include "tg/Module.h"
#include "tg/tg_runtime.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

/// The readers take paths: each input goes through one file per process.
/// (Unused by the targets that take bytes: each target is its own build.)
[[maybe_unused]] std::string asFile(const uint8_t *data, size_t size, const char *suffix) {
  static std::string path = [&] {
    const char *dir = std::getenv("TMPDIR");
    return std::string(dir && *dir ? dir : "/tmp") + "/tg-fuzz-" + std::to_string(getpid()) +
           suffix;
  }();
  FILE *f = std::fopen(path.c_str(), "wb");
  if (!f)
    std::abort(); // the harness itself is broken
  if (size)
    std::fwrite(data, 1, size, f);
  std::fclose(f);
  return path;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string bytes(reinterpret_cast<const char *>(data), size);
#if TG_FUZZ_TARGET == 1 // npy
  (void)tg::readNpy(asFile(data, size, ".npy"));
#elif TG_FUZZ_TARGET == 2 // idx (raw or gzip: the reader looks at the magic)
  (void)tg::readIdx(asFile(data, size, ".idx"));
#elif TG_FUZZ_TARGET == 3 // text corpus
  (void)tg::data::readText(asFile(data, size, ".txt"));
#elif TG_FUZZ_TARGET == 4 // safetensors checkpoint
  (void)tg::decodeSafetensors(bytes, "fuzz.safetensors");
#elif TG_FUZZ_TARGET == 5 // manifest JSON
  (void)tg::parseManifest(bytes, "fuzz.tgx");
#elif TG_FUZZ_TARGET == 6 // .tgx loader: trailer, ELF, manifest
  tg_artifact *a = nullptr;
  if (tg_artifact_open(asFile(data, size, ".tgx").c_str(), &a) == TG_OK)
    tg_artifact_close(a);
#elif TG_FUZZ_TARGET == 8 // a packed directory's index.json, then the shards' check
  static const std::string dir = [] {
    const char *tmp = std::getenv("TMPDIR");
    std::string d = std::string(tmp && *tmp ? tmp : "/tmp") + "/tg-fuzz-shards-" +
                    std::to_string(getpid());
    ::mkdir(d.c_str(), 0700);
    return d;
  }();
  if (FILE *f = std::fopen((dir + "/index.json").c_str(), "wb")) {
    if (size)
      std::fwrite(data, 1, size, f);
    std::fclose(f);
  }
  auto index = tg::data::ShardIndex::read(dir);
  if (index.ok())
    (void)tg::data::ShardSet::open(*index);
#elif TG_FUZZ_TARGET == 9 // a PNG or JPEG image (by its magic), then resize + center crop
  // At most 2^20 pixels, not decodeImage's 2^27: a few bytes of header claim
  // that many, and zero-filling hundreds of MB per input slows fuzzing 6x.
  auto image = tg::data::decodeImage(asFile(data, size, ".img"), int64_t(1) << 20);
  if (image.ok()) {
    // resizeCenterCrop indexes pixels by the decoder's dimensions: a decoder
    // that breaks them is a bug even where it reads no memory it does not own.
    if (image->width <= 0 || image->height <= 0 ||
        (image->channels != 1 && image->channels != 3) ||
        image->pixels.size() !=
            size_t(image->width) * size_t(image->height) * size_t(image->channels))
      std::abort();
    (void)tg::data::resizeCenterCrop(*image, 3, 5, 1); // shrink to gray
    (void)tg::data::resizeCenterCrop(*image, 7, 2, 3); // another aspect, as RGB
  }
#elif TG_FUZZ_TARGET == 7 // .tg.mlir parser + verifier + shape checks, then canonicalize
  auto m = tg::Module::parse(bytes, "fuzz.tg.mlir");
  if (m.ok())
    (void)m->transform("canonicalize");
#else
#error "TG_FUZZ_TARGET must name a target"
#endif
  return 0;
}
