//===- ShardsTest.cpp - packed data sets: index, shards, rank orders ------===//
#include "tg/Data.h"
#include "tg/Npy.h"
#include "io/Shards.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>

using ::testing::HasSubstr;
using namespace tg::data;

namespace {

std::string temp(const std::string &name) { return ::testing::TempDir() + "/" + name; }

/// 1000 records: x = the record's index (i32), y = index % 10 (u8), packed
/// into shards of 104 records (0.0005 MiB of 5-byte records).
ShardIndex packCounting(const std::string &dir) {
  std::filesystem::remove_all(dir);
  tg::NpyArray x{"i32", {1000, 1}, std::vector<uint8_t>(4000)}, y{"u8", {1000}, {}};
  for (int32_t i = 0; i < 1000; ++i) {
    std::memcpy(x.bytes.data() + 4 * i, &i, 4);
    y.bytes.push_back(uint8_t(i % 10));
  }
  // Sources of this test's own (ctest runs the tests of a binary in
  // parallel, each in its own process, sharing TempDir()).
  std::string xs = dir + ".x.npy", ys = dir + ".y.npy";
  EXPECT_TRUE(tg::writeNpy(xs, x).ok());
  EXPECT_TRUE(tg::writeNpy(ys, y).ok());
  PackOptions o;
  o.shardMb = 0.0005;
  auto index = pack({{"x", "data", {xs}}, {"y", "label", {ys}}}, dir, o);
  EXPECT_TRUE(index.ok()) << index.status();
  return index.ok() ? *index : ShardIndex();
}

Dataset countingDataset(const ShardIndex &index) {
  auto shards = ShardSet::open(index);
  EXPECT_TRUE(shards.ok()) << shards.status();
  Column c;
  c.spec = {"x", "i32", {8, 1}};
  c.rows = index.records;
  c.sourceDtype = "i32";
  c.shards = *shards;
  c.field = 0;
  auto ds = Dataset::fromShards(*shards, {c});
  EXPECT_TRUE(ds.ok());
  return std::move(*ds);
}

/// Drains `batcher` (of the counting data set, batches of 8, recycling
/// them), checking that batch after batch holds the records of `order` from
/// position `at` on; returns where it ended.
size_t expectBatchesOf(Batcher &batcher, const std::vector<int64_t> &order, size_t at,
                       const std::string &what) {
  while (auto b = batcher.next()) {
    EXPECT_TRUE(b->status.ok()) << b->status << " (" << what << ")";
    if (!b->status.ok())
      break;
    std::vector<int32_t> x(8);
    std::memcpy(x.data(), b->buffers[0].data(), 32);
    for (int i = 0; i < 8; ++i, ++at) { // x holds the record's index
      EXPECT_LT(at, order.size()) << what;
      if (at >= order.size() || x[size_t(i)] != order[at]) {
        ADD_FAILURE() << what << ": position " << at << " holds record " << x[size_t(i)];
        return at;
      }
    }
    batcher.recycle(std::move(b));
  }
  return at;
}

TEST(Shards, PackReadAndVerify) {
  ShardIndex packed = packCounting(temp("counting"));
  auto index = ShardIndex::read(temp("counting"));
  ASSERT_TRUE(index.ok()) << index.status();
  EXPECT_EQ(index->records, 1000);
  EXPECT_EQ(index->shards.size(), 10u); // 104 records each, the last 64
  EXPECT_EQ(index->shards.back().records, 64);
  ASSERT_EQ(index->fields.size(), 2u);
  EXPECT_EQ(index->fields[1].role, "label");
  EXPECT_EQ(index->bytes(), packed.bytes());
  EXPECT_TRUE(verify(*index).ok());
  // A shard file is a plain .npy of its records.
  auto shard = tg::readNpy(temp("counting/") + index->shards[2].files[0].path);
  ASSERT_TRUE(shard.ok());
  EXPECT_EQ(shard->shape, (std::vector<int64_t>{104, 1}));
  int32_t first;
  std::memcpy(&first, shard->bytes.data(), 4);
  EXPECT_EQ(first, 208);
  // The index is checked: counts that do not add up, a bad dtype.
  std::string text;
  {
    std::ifstream in(temp("counting/index.json"));
    text.assign(std::istreambuf_iterator<char>(in), {});
  }
  std::string bad = text;
  bad.replace(bad.find("\"records\": 1000"), 15, "\"records\": 1001");
  std::filesystem::create_directories(temp("bad-index"));
  std::ofstream(temp("bad-index/index.json")) << bad;
  auto broken = ShardIndex::read(temp("bad-index"));
  ASSERT_FALSE(broken.ok());
  EXPECT_THAT(std::string(broken.status().message()), HasSubstr("the shards hold 1000"));
}

TEST(Shards, RanksReadDisjointContiguousRangesOfTheShuffledShards) {
  ShardIndex index = packCounting(temp("counting2"));
  Dataset ds = countingDataset(index);
  const int64_t batch = 8, batches = 1000 / (2 * batch); // 62 per rank
  for (int64_t epoch : {0, 1}) {
    std::vector<int64_t> r0 = ds.rankOrder(3, epoch, true, 0, 2, batch, batches, 100);
    std::vector<int64_t> r1 = ds.rankOrder(3, epoch, true, 1, 2, batch, batches, 100);
    ASSERT_EQ(r0.size(), size_t(batch * batches));
    ASSERT_EQ(r1.size(), size_t(batch * batches));
    EXPECT_EQ(r0, ds.rankOrder(3, epoch, true, 0, 2, batch, batches, 100)); // deterministic
    std::set<int64_t> a(r0.begin(), r0.end()), b(r1.begin(), r1.end());
    EXPECT_EQ(a.size(), r0.size()); // no record twice
    for (int64_t r : a)
      EXPECT_EQ(b.count(r), 0u) << "record " << r << " on both ranks";
    // Each rank reads about half of the 10 shards (a range may start or end
    // inside one).
    std::set<int64_t> s0, s1;
    for (int64_t r : r0)
      s0.insert(ds.shards()->shardOf(r));
    for (int64_t r : r1)
      s1.insert(ds.shards()->shardOf(r));
    EXPECT_LE(s0.size(), 6u);
    EXPECT_LE(s1.size(), 6u);
  }
  // Another epoch shuffles the shards (and the buffer) anew.
  EXPECT_NE(ds.rankOrder(3, 0, true, 0, 2, batch, batches, 100),
            ds.rankOrder(3, 1, true, 0, 2, batch, batches, 100));
  // Unshuffled, one rank reads the records in order; batches past the
  // data wrap around.
  std::vector<int64_t> plain = ds.rankOrder(0, 0, false, 0, 1, 8, 126, 100);
  ASSERT_EQ(plain.size(), 1008u);
  for (int64_t i = 0; i < 1000; ++i)
    ASSERT_EQ(plain[size_t(i)], i);
  EXPECT_EQ(plain[1000], 0);
  // Records left out (--skip-bad-records) are in no rank's order.
  Dataset fewer = countingDataset(index);
  fewer.exclude({3, 500, 999});
  EXPECT_EQ(fewer.rows(), 997);
  std::set<int64_t> seenBoth;
  for (int rank = 0; rank < 2; ++rank)
    for (int64_t r : fewer.rankOrder(3, 0, true, rank, 2, 8, 62, 100))
      seenBoth.insert(r);
  EXPECT_EQ(seenBoth.count(3) + seenBoth.count(500) + seenBoth.count(999), 0u);
  EXPECT_EQ(seenBoth.size(), 992u); // 2 x 62 batches of 8 of the 997
  // A shuffle buffer larger than the data shuffles all of it: a permutation.
  std::vector<int64_t> all = ds.rankOrder(5, 0, true, 0, 1, 8, 125, 4096);
  std::set<int64_t> distinct(all.begin(), all.end());
  EXPECT_EQ(distinct.size(), 1000u);
}

TEST(Shards, BatchesGatherTheRecordsAndReleaseTheShards) {
  ShardIndex index = packCounting(temp("counting3"));
  Dataset ds = countingDataset(index);
  std::vector<int64_t> order = ds.rankOrder(9, 0, true, 0, 1, 8, 125, 50);
  Batcher batcher(ds, 8, order, 0, false, 2);
  EXPECT_EQ(expectBatchesOf(batcher, order, 0, "1 thread"), 1000u);
  EXPECT_EQ(ds.shards()->shardsOpened(), 10);
  // Three threads assembling them: the same batches, in the same order.
  Batcher threaded(ds, 8, order, 0, false, 4, 3);
  EXPECT_EQ(expectBatchesOf(threaded, order, 0, "3 threads"), 1000u);
  // A shard that vanished after the start is an error naming it, not a crash.
  std::filesystem::remove(temp("counting3/") + index.shards[4].files[0].path);
  Batcher again(ds, 8, order, 0, false, 2);
  absl::Status failed;
  while (auto b = again.next())
    if (!b->status.ok()) {
      failed = b->status;
      break;
    }
  ASSERT_FALSE(failed.ok());
  EXPECT_THAT(std::string(failed.message()), HasSubstr("shard 4 field 'x'"));
}

TEST(Shards, ShuffleBufferStragglersAreSpilledOnceAndFreed) {
  ShardIndex index = packCounting(temp("counting4"));
  Dataset ds = countingDataset(index);
  ShardSet &set = *ds.shards();
  // A buffer of 300 records over shards of 104: when the stream leaves a
  // shard, most of its records are still in the buffer.
  std::vector<SpillPoint> spills;
  std::vector<int64_t> order = ds.rankOrder(4, 0, true, 0, 1, 8, 125, 300, &spills);
  ASSERT_EQ(spills.size(), 10u); // one per shard
  for (const SpillPoint &sp : spills)
    EXPECT_LE(sp.position, int64_t(order.size()));
  for (int threads : {1, 3}) {
    Batcher batcher(ds, 8, order, 0, false, 4, threads, spills);
    EXPECT_EQ(expectBatchesOf(batcher, order, 0, std::to_string(threads) + " threads"), 1000u);
    // The stragglers went through slots, never more than the buffer holds
    // plus the batches read since their slots were last freed (up to the
    // prefetched ones and one per thread).
    EXPECT_GT(set.spilledPeak(), 0) << threads << " threads";
    EXPECT_LE(set.spilledPeak(), 300 + (4 + threads) * 8) << threads << " threads";
  }
  EXPECT_EQ(set.spilledNow(), 0); // the epoch's end frees them
  // An order that reads some records twice (a rank's short range wraps
  // around): a slot serves both reads, from a resumed start too.
  std::vector<int64_t> twice = order;
  twice.resize(960);
  twice.insert(twice.end(), order.begin() + 900, order.begin() + 940);
  Batcher again(ds, 8, twice, 10, false, 2, 2, spills);
  EXPECT_EQ(expectBatchesOf(again, twice, 80, "records read twice, resumed"), 1000u);
  // A rank's short range wraps around to fill its batches (rankOrder): the
  // repeats read the shards, so the slots stay within the buffer.
  std::vector<SpillPoint> wrapSpills;
  std::vector<int64_t> wrapped = ds.rankOrder(4, 1, true, 1, 2, 8, 70, 300, &wrapSpills);
  ASSERT_EQ(wrapped.size(), 560u); // 500 records of rank 1, then 60 again
  ASSERT_FALSE(wrapSpills.empty());
  EXPECT_EQ(wrapSpills[0].end, 500);
  Batcher wrapping(ds, 8, wrapped, 0, false, 4, 2, wrapSpills);
  EXPECT_EQ(expectBatchesOf(wrapping, wrapped, 0, "wrapped order"), 560u);
  EXPECT_LE(set.spilledPeak(), 300 + (4 + 3) * 8);
}

TEST(Shards, PackedTextStreamsLikeTheTextInMemory) {
  std::string text;
  for (int i = 0; i < 5000; ++i)
    text += char('a' + (i * 7 + i / 13) % 26);
  std::ofstream(temp("stream.txt")) << text;
  // One byte a record, in shards of 300 (as tgc data pack packs a text file).
  std::string dir = temp("stream.packed");
  std::filesystem::remove_all(dir);
  bool given = false;
  PackSource src{"text", "text", {}, [&]() -> absl::StatusOr<std::optional<Array>> {
                   if (given)
                     return std::optional<Array>();
                   given = true;
                   Array a;
                   a.dtype = "u8";
                   a.shape = {int64_t(text.size())};
                   a.bytes.assign(text.begin(), text.end());
                   return std::optional<Array>(std::move(a));
                 }};
  PackOptions o;
  o.shardMb = 300.0 / 1048576.0;
  auto index = pack({src}, dir, o);
  ASSERT_TRUE(index.ok()) << index.status();
  ASSERT_EQ(index->shards.size(), 17u);
  auto shards = ShardSet::open(*index);
  ASSERT_TRUE(shards.ok());
  auto packed = textFromShards(*shards, 0);
  ASSERT_TRUE(packed.ok()) << packed.status();
  auto memory = readText(temp("stream.txt"));
  ASSERT_TRUE(memory.ok());
  EXPECT_EQ(packed->vocab, memory->vocab);
  EXPECT_EQ(packed->size, memory->size);
  const int64_t B = 4, T = 16;
  ArgSpec in{"chars", "i64", {B, T}}, target{"targets", "i64", {B, T}};
  auto a = Dataset::fromText(*packed, in, target), b = Dataset::fromText(*memory, in, target);
  ASSERT_TRUE(a.ok() && b.ok());
  // Two epochs: the second reads the shards whose pages the first dropped.
  for (int epoch = 0; epoch < 2; ++epoch) {
    Batcher fromShards(*a, B, a->order(0, epoch, true), 0, false, 2, 2);
    Batcher fromMemory(*b, B, b->order(0, epoch, true), 0, false, 2);
    int64_t batches = 0;
    while (auto x = fromShards.next()) {
      auto y = fromMemory.next();
      ASSERT_TRUE(y && x->status.ok() && y->status.ok()) << x->status;
      ASSERT_EQ(x->buffers, y->buffers) << "epoch " << epoch << " batch " << batches;
      ++batches;
    }
    EXPECT_EQ(batches, 4999 / B / T);
  }
}

} // namespace
