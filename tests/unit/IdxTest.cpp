//===- IdxTest.cpp - IDX reader on real and malformed files ---------------===//
#include "runtime/Idx.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
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
}

} // namespace
