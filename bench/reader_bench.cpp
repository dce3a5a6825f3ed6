//===- reader_bench.cpp - the packed-data reader alone ---------------------===//
//
// tg-bench-reader DIR [--batch B] [--epochs E] [--shuffle-buffer S] [--threads N]
// [--memory]: batches of
// a packed directory's "images" (into f32, scaled) and "labels" (into i32), as
// `tgc train` assembles them (rankOrder + Batcher, one rank), with nothing
// consuming them; prints examples/s and the source's MB/s. bench/run_data.sh
// runs it beside PyTorch's DataLoader on the same shards.
//
//===----------------------------------------------------------------------===//
#include "tg/Data.h"
#include "io/Shards.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

using namespace tg::data;

int main(int argc, char **argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: tg-bench-reader DIR [--batch B] [--epochs E] "
                         "[--shuffle-buffer S] [--prefetch P]\n");
    return 1;
  }
  std::string dir = argv[1];
  int64_t batch = 128, epochs = 3, buffer = 16384, prefetch = 2, threads = 1;
  bool memory = false;
  for (int i = 2; i < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--memory") { // the same records read whole first, as from IDX files
      memory = true;
      --i;
      continue;
    }
    if (i + 1 >= argc)
      break;
    int64_t v = std::atoll(argv[i + 1]);
    if (a == "--batch")
      batch = v;
    else if (a == "--epochs")
      epochs = v;
    else if (a == "--shuffle-buffer")
      buffer = v;
    else if (a == "--prefetch")
      prefetch = v;
    else if (a == "--threads")
      threads = v;
  }
  auto index = ShardIndex::read(dir);
  if (!index.ok()) {
    std::fprintf(stderr, "%s\n", std::string(index.status().message()).c_str());
    return 1;
  }
  int image = index->fieldIndex("images"), label = index->fieldIndex("labels");
  if (image < 0 || label < 0) {
    std::fprintf(stderr, "%s: needs fields images and labels\n", dir.c_str());
    return 1;
  }
  auto shards = ShardSet::open(*index);
  if (!shards.ok()) {
    std::fprintf(stderr, "%s\n", std::string(shards.status().message()).c_str());
    return 1;
  }
  std::vector<Column> columns(2);
  const ShardField &img = index->fields[size_t(image)], &lab = index->fields[size_t(label)];
  columns[0].spec = {"image", "f32", {batch, img.recordElements()}};
  columns[0].sourceDtype = img.dtype;
  columns[0].scale = img.scale;
  columns[0].field = size_t(image);
  columns[1].spec = {"label", "i32", {batch}};
  columns[1].sourceDtype = lab.dtype;
  columns[1].field = size_t(label);
  for (Column &c : columns) {
    c.rows = index->records;
    c.shards = *shards;
  }
  if (memory)
    for (Column &c : columns) {
      size_t rb = index->fields[c.field].recordBytes();
      c.bytes.resize(size_t(index->records) * rb);
      for (int64_t r = 0; r < index->records; ++r)
        std::memcpy(c.bytes.data() + size_t(r) * rb, *(*shards)->record(c.field, r), rb);
      c.shards = nullptr;
    }
  auto ds = memory ? Dataset::fromColumns(columns) : Dataset::fromShards(*shards, columns);
  if (!ds.ok())
    return 1;
  int64_t batches = index->records / batch, examples = 0;
  double checksum = 0;
  auto start = std::chrono::steady_clock::now();
  for (int64_t e = 0; e < epochs; ++e) {
    std::vector<SpillPoint> spills;
    std::vector<int64_t> order =
        memory ? ds->order(0, e, true)
               : ds->rankOrder(0, e, true, 0, 1, batch, batches, buffer, &spills);
    Batcher batcher(*ds, batch, std::move(order), 0, false, int(prefetch), int(threads),
                    std::move(spills));
    while (auto b = batcher.next()) {
      if (!b->status.ok()) {
        std::fprintf(stderr, "%s\n", std::string(b->status.message()).c_str());
        return 1;
      }
      checksum += double(reinterpret_cast<const float *>(b->buffers[0].data())[0]);
      examples += batch;
      batcher.recycle(std::move(b));
    }
  }
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  double mb = double(examples) * double(img.recordBytes() + lab.recordBytes()) / 1e6;
  std::printf("%s, %lld thread(s): %lld examples in %.3f s: %.0f examples/s, %.1f MB/s (checksum %g)\n",
              memory ? "tgc reader (in memory)" : "tgc reader", (long long)threads,
              (long long)examples, s,
              double(examples) / s, mb / s, checksum);
  return 0;
}
