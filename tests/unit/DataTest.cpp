//===- DataTest.cpp - data files, columns, text streams, batches ----------===//
#include "tg/Data.h"
#include "tg/Npy.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <set>

using ::testing::HasSubstr;
using namespace tg::data;

namespace {

const std::string kDir = "/usr/share/datasets/fashion-mnist";

std::string temp(const std::string &name) { return ::testing::TempDir() + "/" + name; }

std::string errorOf(const absl::Status &s) { return std::string(s.message()); }

/// Every row of a column as fed to its argument.
template <typename T> std::vector<T> asVector(const Column &c) {
  std::vector<int64_t> rows(size_t(c.rows));
  for (int64_t i = 0; i < c.rows; ++i)
    rows[size_t(i)] = i;
  std::vector<uint8_t> out(c.rowBytes() * rows.size());
  EXPECT_TRUE(c.gather(rows.data(), rows.size(), out.data()).ok());
  std::vector<T> v(out.size() / sizeof(T));
  std::memcpy(v.data(), out.data(), out.size());
  return v;
}

TEST(Data, FashionMnistIdxIntoImageAndLabelColumns) {
  auto images = readArray(kDir + "/t10k-images-idx3-ubyte.gz");
  ASSERT_TRUE(images.ok()) << images.status();
  EXPECT_EQ(images->sourceType, "IDX u8");
  // [10000, 28, 28] feeds a [B, 784] argument and a [B, 1, 28, 28] one.
  for (std::vector<int64_t> shape : {std::vector<int64_t>{128, 784}, {64, 1, 28, 28}}) {
    auto col = makeColumn(*images, {"image", "f32", shape});
    ASSERT_TRUE(col.ok()) << col.status();
    EXPECT_EQ(col->rows, 10000);
    std::vector<float> v = asVector<float>(*col);
    EXPECT_EQ(*std::max_element(v.begin(), v.end()), 1.0f); // u8 pixels scaled by 1/255
    EXPECT_EQ(*std::min_element(v.begin(), v.end()), 0.0f);
    for (size_t i = 0; i < 784; ++i)
      ASSERT_FLOAT_EQ(v[i], float(images->value(i) / 255.0)) << "pixel " << i;
  }
  auto labels = readArray(kDir + "/t10k-labels-idx1-ubyte.gz");
  ASSERT_TRUE(labels.ok());
  auto col = makeColumn(*labels, {"label", "i32", {128}});
  ASSERT_TRUE(col.ok()) << col.status();
  std::vector<int32_t> y = asVector<int32_t>(*col);
  EXPECT_EQ(std::set<int32_t>(y.begin(), y.end()).size(), 10u);
  EXPECT_EQ(y[0], int32_t(labels->value(0)));
}

TEST(Data, NpyColumnsConvertAndCheck) {
  tg::NpyArray a{"i64", {3, 2}, {}};
  int64_t vals[6] = {0, 1, 2, 3, 4, 5};
  a.bytes.assign(reinterpret_cast<uint8_t *>(vals), reinterpret_cast<uint8_t *>(vals) + 48);
  ASSERT_TRUE(tg::writeNpy(temp("labels.npy"), a).ok());
  auto arr = readArray(temp("labels.npy"));
  ASSERT_TRUE(arr.ok()) << arr.status();
  EXPECT_EQ(arr->sourceType, ".npy i64");
  auto col = makeColumn(*arr, {"y", "i32", {4, 2}});
  ASSERT_TRUE(col.ok()) << col.status();
  EXPECT_EQ(asVector<int32_t>(*col), (std::vector<int32_t>{0, 1, 2, 3, 4, 5}));
  auto f = makeColumn(*arr, {"x", "f32", {4, 2}}); // npy ints are not rescaled
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(asVector<float>(*f)[5], 5.0f);

  // Wrong per-example size: names the file, the argument and both shapes.
  auto bad = makeColumn(*arr, {"y", "i32", {4, 3}});
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(errorOf(bad.status()), HasSubstr("labels.npy"));
  EXPECT_THAT(errorOf(bad.status()), HasSubstr("argument 'y' (i32 [4, 3])"));
  EXPECT_THAT(errorOf(bad.status()), HasSubstr("one example holds 2 values, the argument takes 3"));

  // Non-integral values into an integer argument.
  tg::NpyArray g{"f32", {2}, {}};
  float fv[2] = {1.0f, 2.5f};
  g.bytes.assign(reinterpret_cast<uint8_t *>(fv), reinterpret_cast<uint8_t *>(fv) + 8);
  ASSERT_TRUE(tg::writeNpy(temp("frac.npy"), g).ok());
  auto farr = readArray(temp("frac.npy"));
  ASSERT_TRUE(farr.ok());
  auto fcol = makeColumn(*farr, {"y", "i32", {2}});
  ASSERT_FALSE(fcol.ok());
  EXPECT_THAT(errorOf(fcol.status()), HasSubstr("value 2.5 at element 1 is not an integer"));
}

TEST(Data, MalformedFilesAreErrors) {
  auto missing = readArray(temp("no-such-file"));
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(errorOf(missing.status()), HasSubstr("cannot open data file"));
  std::ofstream(temp("junk.bin")) << "this is not a data file";
  auto junk = readArray(temp("junk.bin"));
  ASSERT_FALSE(junk.ok());
  EXPECT_THAT(errorOf(junk.status()), HasSubstr("junk.bin"));
  EXPECT_THAT(errorOf(junk.status()), HasSubstr("IDX"));
  // A truncated .npy: header says 6 elements, 2 present.
  tg::NpyArray a{"f32", {6}, std::vector<uint8_t>(24)};
  ASSERT_TRUE(tg::writeNpy(temp("trunc.npy"), a).ok());
  std::ifstream in(temp("trunc.npy"), std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), {});
  std::ofstream(temp("trunc.npy"), std::ios::binary) << bytes.substr(0, bytes.size() - 16);
  auto t = readArray(temp("trunc.npy"));
  ASSERT_FALSE(t.ok());
  EXPECT_THAT(errorOf(t.status()), HasSubstr("trunc.npy"));
  // A header whose shape product wraps around to the (empty) data's size.
  tg::NpyArray wrap{"f32", {int64_t(1) << 62, 4}, {}};
  ASSERT_TRUE(tg::writeNpy(temp("wrap.npy"), wrap).ok());
  auto w = readArray(temp("wrap.npy"));
  ASSERT_FALSE(w.ok());
  EXPECT_THAT(errorOf(w.status()), HasSubstr("implausibly large"));
  // Columns of different lengths.
  auto x = makeColumn(Array::ofValues("x", "npy", {4, 1}, {0, 1, 2, 3}), {"x", "f32", {2, 1}});
  auto y = makeColumn(Array::ofValues("y", "npy", {3}, {0, 1, 2}), {"y", "i32", {2}});
  ASSERT_TRUE(x.ok() && y.ok());
  auto ds = Dataset::fromColumns({*x, *y});
  ASSERT_FALSE(ds.ok());
  EXPECT_THAT(errorOf(ds.status()), HasSubstr("'x' has 4 examples but data for 'y' has 3"));
}

// A model without recurrent state reads a text as windows: row k is the T
// characters at kT + s and its targets the next T, shuffled like other rows,
// with a shift s in [0, T) drawn per epoch (windows are not always aligned).
TEST(Data, TextWindowsAreShuffledRowsOfTheText) {
  std::string text;
  for (int i = 0; i < 1000; ++i)
    text += char('a' + (i * 7) % 23);
  std::ofstream(temp("windows.txt")) << text;
  auto corpus = readText(temp("windows.txt"));
  ASSERT_TRUE(corpus.ok()) << corpus.status();
  const int64_t B = 4, T = 10;
  auto ds = Dataset::fromText(*corpus, {"chars", "i32", {B, T}}, {"targets", "i32", {B, T}},
                              /*windows=*/true);
  ASSERT_TRUE(ds.ok()) << ds.status();
  EXPECT_TRUE(ds->shuffles());
  EXPECT_EQ(ds->rows(), 98); // 999 usable characters / 10, less one for the shifts
  std::vector<int64_t> order = ds->order(7, 0, true);
  EXPECT_NE(order, ds->order(7, 1, true)); // another epoch, another order
  EXPECT_EQ(order, ds->order(7, 0, true)); // seeded: resume is exact
  // Unshuffled (held-out text): aligned, in order.
  std::vector<int64_t> aligned = ds->order(7, 0, false);
  for (int64_t k = 0; k < ds->rows(); ++k)
    EXPECT_EQ(ds->windowStart(aligned[size_t(k)]), k * T);
  // Each epoch one shift for all its windows; epochs draw several shifts.
  std::set<int64_t> shifts;
  for (int64_t epoch = 0; epoch < 12; ++epoch) {
    std::vector<int64_t> o = ds->order(7, epoch, true);
    int64_t s0 = ds->windowStart(o[0]) % T;
    std::set<int64_t> starts;
    for (int64_t v : o) {
      int64_t start = ds->windowStart(v);
      EXPECT_EQ(start % T, s0);
      EXPECT_LE(start + T + 1, int64_t(text.size())); // targets inside the text
      starts.insert(start);
    }
    EXPECT_EQ(int64_t(starts.size()), ds->rows()); // every window once
    shifts.insert(s0);
  }
  EXPECT_GE(shifts.size(), 3u);
  Batcher batcher(*ds, B, order, 0, false, 3);
  std::set<int64_t> seen;
  int64_t k = 0;
  while (auto b = batcher.next()) {
    std::vector<int32_t> chars(B * T), targets(B * T);
    std::memcpy(chars.data(), b->buffers[0].data(), chars.size() * 4);
    std::memcpy(targets.data(), b->buffers[1].data(), targets.size() * 4);
    for (int64_t r = 0; r < B; ++r) {
      int64_t start = ds->windowStart(order[size_t(k * B + r)]);
      seen.insert(start);
      for (int64_t t = 0; t < T; ++t) {
        EXPECT_EQ(corpus->vocab[size_t(chars[size_t(r * T + t)])], text[size_t(start + t)]);
        EXPECT_EQ(corpus->vocab[size_t(targets[size_t(r * T + t)])],
                  text[size_t(start + t + 1)]);
      }
    }
    ++k;
  }
  EXPECT_EQ(k, 24); // 98 windows, whole batches of 4
  EXPECT_EQ(seen.size(), 96u);

  // Held-out text reads with the training text's ids; a character the
  // training text lacks is an error naming it and where it is.
  std::ofstream(temp("heldout.txt")) << "cab";
  auto held = readText(temp("heldout.txt"));
  ASSERT_TRUE(held.ok());
  ASSERT_TRUE(held->useVocabulary(corpus->vocab, corpus->path).ok());
  EXPECT_EQ(held->id[size_t('c')], int32_t(corpus->vocab.find('c')));
  std::ofstream(temp("heldout2.txt")) << "ab~";
  auto bad = readText(temp("heldout2.txt"));
  ASSERT_TRUE(bad.ok());
  // Byte-level: every byte is its own id.
  bad->useBytes();
  EXPECT_EQ(bad->vocab.size(), 256u);
  EXPECT_EQ(bad->id[size_t('~')], int32_t('~'));
  bad = readText(temp("heldout2.txt"));
  ASSERT_TRUE(bad.ok());
  absl::Status s = bad->useVocabulary(corpus->vocab, corpus->path);
  EXPECT_THAT(errorOf(s), HasSubstr("has the character '~' at byte offset 2, which is not in the "
                                    "vocabulary of"));
}

TEST(Data, TextStreamsContinueAcrossBatches) {
  std::string text;
  for (int i = 0; i < 1000; ++i)
    text += char('a' + (i * 7) % 23);
  std::ofstream(temp("corpus.txt")) << text;
  auto corpus = readText(temp("corpus.txt"));
  ASSERT_TRUE(corpus.ok()) << corpus.status();
  EXPECT_EQ(corpus->vocab.size(), 23u);
  EXPECT_TRUE(std::is_sorted(corpus->vocab.begin(), corpus->vocab.end()));
  const int64_t B = 4, T = 10;
  auto ds = Dataset::fromText(*corpus, {"chars", "i32", {B, T}}, {"targets", "i32", {B, T}});
  ASSERT_TRUE(ds.ok()) << ds.status();
  EXPECT_FALSE(ds->shuffles());
  // 999 usable characters / 4 streams = 249 each = 24 windows of 10.
  EXPECT_EQ(ds->rows(), B * 24);
  Batcher batcher(*ds, B, ds->order(7, 0, true), 0, false, 3);
  std::vector<std::string> streams(B);
  int64_t batches = 0;
  while (auto b = batcher.next()) {
    std::vector<int32_t> chars(B * T), targets(B * T);
    std::memcpy(chars.data(), b->buffers[0].data(), chars.size() * 4);
    std::memcpy(targets.data(), b->buffers[1].data(), targets.size() * 4);
    for (int64_t r = 0; r < B; ++r)
      for (int64_t t = 0; t < T; ++t) {
        streams[size_t(r)] += corpus->vocab[size_t(chars[size_t(r * T + t)])];
        // The target is the next character of the text.
        if (t + 1 < T) {
          EXPECT_EQ(targets[size_t(r * T + t)], chars[size_t(r * T + t + 1)]);
        }
      }
    ++batches;
  }
  EXPECT_EQ(batches, 24);
  // Row r of consecutive batches reads stream r of the text without gaps.
  for (int64_t r = 0; r < B; ++r)
    EXPECT_EQ(streams[size_t(r)], text.substr(size_t(r * 249), 240)) << "stream " << r;

  auto tooShort =
      Dataset::fromText(*corpus, {"chars", "i32", {200, 10}}, {"targets", "i32", {200, 10}});
  ASSERT_FALSE(tooShort.ok());
  EXPECT_THAT(errorOf(tooShort.status()), HasSubstr("too few for one batch"));
}

TEST(Data, BadRecordsAreListedAndLeftOutOfEveryOrder) {
  // Labels of a 3-class model: rows 2 and 5 hold no class, row 4 no integer.
  std::vector<double> v = {0, 1, 7, 2, 1.5, -1, 2, 0};
  ArgSpec spec{"y", "i32", {2}, 3};
  Array labels = Array::ofValues("y.npy", "npy", {8}, v);
  auto strict = makeColumn(labels, spec);
  ASSERT_FALSE(strict.ok());
  EXPECT_THAT(errorOf(strict.status()), HasSubstr("value 7 of example 2"));
  std::vector<int64_t> bad;
  auto col = makeColumn(labels, spec, &bad);
  ASSERT_TRUE(col.ok()) << col.status();
  EXPECT_EQ(bad, (std::vector<int64_t>{2, 4, 5}));
  auto ds = Dataset::fromColumns({*col});
  ASSERT_TRUE(ds.ok());
  ds->exclude(bad);
  EXPECT_EQ(ds->rows(), 5);
  EXPECT_EQ(ds->order(0, 0, false), (std::vector<int64_t>{0, 1, 3, 6, 7}));
  for (int64_t epoch = 0; epoch < 4; ++epoch) {
    std::vector<int64_t> o = ds->order(9, epoch, true);
    EXPECT_EQ(std::set<int64_t>(o.begin(), o.end()), (std::set<int64_t>{0, 1, 3, 6, 7}));
  }
}

TEST(Data, ShuffleIsASeededPermutationAndBatchesDropOrPad) {
  std::vector<double> v(10);
  for (int i = 0; i < 10; ++i)
    v[size_t(i)] = i;
  auto col = makeColumn(Array::ofValues("x", "npy", {10}, v), {"x", "i32", {4}});
  ASSERT_TRUE(col.ok());
  auto ds = Dataset::fromColumns({*col});
  ASSERT_TRUE(ds.ok());
  auto a = ds->order(1, 0, true), b = ds->order(1, 0, true), c = ds->order(1, 1, true),
       d = ds->order(2, 0, true);
  EXPECT_EQ(a, b); // same seed and epoch: same order (resume depends on it)
  EXPECT_NE(a, c); // a new order each epoch
  EXPECT_NE(a, d); // and per seed
  EXPECT_EQ(std::set<int64_t>(a.begin(), a.end()).size(), 10u);
  EXPECT_EQ(ds->order(1, 0, false), (std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));

  auto rowsOf = [&](bool pad, int64_t start) {
    std::vector<int32_t> all;
    Batcher batcher(*ds, 4, ds->order(0, 0, false), start, pad, 1);
    while (auto batch = batcher.next()) {
      std::vector<int32_t> x(4);
      std::memcpy(x.data(), batch->buffers[0].data(), 16);
      all.insert(all.end(), x.begin(), x.end());
    }
    return all;
  };
  EXPECT_EQ(Batcher::batchesPerEpoch(10, 4, false), 2);
  EXPECT_EQ(Batcher::batchesPerEpoch(10, 4, true), 3);
  EXPECT_EQ(rowsOf(false, 0), (std::vector<int32_t>{0, 1, 2, 3, 4, 5, 6, 7}));
  EXPECT_EQ(rowsOf(true, 0), (std::vector<int32_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1}));
  EXPECT_EQ(rowsOf(true, 2), (std::vector<int32_t>{8, 9, 0, 1})); // resume mid-epoch
}

} // namespace
