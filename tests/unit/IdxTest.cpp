//===- IdxTest.cpp - IDX reader on real and malformed files ---------------===//
#include "tg/Idx.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sys/resource.h>
#include <zlib.h>

using ::testing::HasSubstr;

namespace {

const char *kDir = "/usr/share/datasets/fashion-mnist";

std::string writeFile(const std::string &name, const std::vector<uint8_t> &bytes, bool gzip) {
  std::string path = ::testing::TempDir() + "/" + name;
  if (gzip) {
    gzFile f = gzopen(path.c_str(), "wb");
    gzwrite(f, bytes.data(), unsigned(bytes.size()));
    gzclose(f);
  } else {
    std::ofstream(path, std::ios::binary)
        .write(reinterpret_cast<const char *>(bytes.data()), std::streamsize(bytes.size()));
  }
  return path;
}

std::string errorOf(const std::string &path) {
  auto r = tg::readIdx(path);
  return r.ok() ? "" : std::string(r.status().message());
}

TEST(Idx, ReadsFashionMnist) {
  auto images = tg::readIdx(std::string(kDir) + "/t10k-images-idx3-ubyte.gz");
  ASSERT_TRUE(images.ok()) << images.status();
  EXPECT_EQ(images->dims, (std::vector<int64_t>{10000, 28, 28}));
  EXPECT_EQ(images->typeCode, 0x08);
  double sum = 0;
  for (int64_t i = 0; i < 784; ++i)
    sum += images->value(i);
  EXPECT_GT(sum, 0); // the first image is not blank
  auto labels = tg::readIdx(std::string(kDir) + "/t10k-labels-idx1-ubyte.gz");
  ASSERT_TRUE(labels.ok()) << labels.status();
  EXPECT_EQ(labels->dims, std::vector<int64_t>{10000});
  std::vector<int> counts(10);
  for (int64_t i = 0; i < labels->count(); ++i)
    ++counts[size_t(labels->value(i))];
  for (int c : counts)
    EXPECT_EQ(c, 1000); // Fashion-MNIST's test split is balanced
}

TEST(Idx, RawAndGzipAndTypes) {
  // 2 x 2 big-endian int16: 1, -2, 300, -32768
  std::vector<uint8_t> bytes = {0, 0, 0x0B, 2,    0,    0,    0,    2,    0,    0,
                                0, 2, 0x00, 0x01, 0xFF, 0xFE, 0x01, 0x2C, 0x80, 0x00};
  for (bool gz : {false, true}) {
    auto r = tg::readIdx(writeFile(gz ? "i16.gz" : "i16", bytes, gz));
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->dims, (std::vector<int64_t>{2, 2}));
    EXPECT_EQ(r->value(0), 1);
    EXPECT_EQ(r->value(1), -2);
    EXPECT_EQ(r->value(2), 300);
    EXPECT_EQ(r->value(3), -32768);
  }
  // float32 1.5 = 0x3FC00000
  auto f = tg::readIdx(writeFile("f32", {0, 0, 0x0D, 1, 0, 0, 0, 1, 0x3F, 0xC0, 0, 0}, false));
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->value(0), 1.5);
}

TEST(Idx, MalformedFilesGiveClearErrors) {
  EXPECT_THAT(errorOf("/nonexistent/file"), HasSubstr("cannot open IDX file"));
  EXPECT_THAT(errorOf(writeFile("short", {0, 0}, false)), HasSubstr("truncated IDX header"));
  EXPECT_THAT(errorOf(writeFile("magic", {1, 2, 8, 1, 0, 0, 0, 0}, false)),
              HasSubstr("bad IDX magic"));
  EXPECT_THAT(errorOf(writeFile("type", {0, 0, 0x42, 1, 0, 0, 0, 0}, false)),
              HasSubstr("unknown IDX element type code 0x42"));
  EXPECT_THAT(errorOf(writeFile("dims", {0, 0, 8, 3, 0, 0, 0, 1}, false)),
              HasSubstr("3 dimensions need 12 bytes"));
  EXPECT_THAT(errorOf(writeFile("trunc.gz", {0, 0, 8, 1, 0, 0, 0, 5, 1, 2, 3}, true)),
              HasSubstr("the file ends after 3 (at offset 11)"));
  EXPECT_THAT(errorOf(writeFile("extra", {0, 0, 8, 1, 0, 0, 0, 1, 1, 2}, false)),
              HasSubstr("trailing bytes after the IDX data at offset 9"));
  EXPECT_THAT(errorOf(writeFile(
                  "huge", {0, 0, 8, 2, 0x7F, 0xFF, 0xFF, 0xFF, 0x7F, 0xFF, 0xFF, 0xFF}, false)),
              HasSubstr("implausibly large"));
  // A product that would overflow int64 is caught before it wraps around.
  EXPECT_THAT(errorOf(writeFile("wrap",
                                {0, 0, 0x0E, 3, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                                 0xFF, 0xFF, 0xFF, 0xFF},
                                false)),
              HasSubstr("implausibly large"));
}

// An 80-byte file whose header claims 0xffffffff x 3 bytes (12.9 GB) is
// rejected at once, holding only what the file has: the reader grows its
// buffer with the data instead of allocating what the header promises.
TEST(Idx, ATinyFileClaimingGigabytesFailsFastInLittleMemory) {
  std::vector<uint8_t> bytes = {0, 0, 8, 2, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 3};
  bytes.resize(80, 7);
  for (bool gzip : {false, true}) {
    std::string path = writeFile(gzip ? "claims.gz" : "claims", bytes, gzip);
    struct rusage before {};
    getrusage(RUSAGE_SELF, &before);
    auto start = std::chrono::steady_clock::now();
    std::string error = errorOf(path);
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    struct rusage after {};
    getrusage(RUSAGE_SELF, &after);
    EXPECT_THAT(error, HasSubstr("the file ends after 68 (at offset 80)"));
    EXPECT_LT(seconds, 1.0);
    // ru_maxrss is in KiB: the peak grew by at most a few MB.
    EXPECT_LT(after.ru_maxrss - before.ru_maxrss, 8 * 1024) << (gzip ? "gzip" : "raw");
  }
}

} // namespace
