//===- ImagesTest.cpp - PNG/JPEG decoding, resize+crop, image folders -----===//
#include "io/Images.h"
#include "io/Shards.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <jpeglib.h>
#include <png.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

using ::testing::HasSubstr;
using namespace tg::data;

namespace {

std::string temp(const std::string &name) { return ::testing::TempDir() + "/images-" + name; }

/// A PNG of `channels` (1 or 3) with pixel value (x + 3y + 50c) % 256.
void writePng(const std::string &path, int w, int h, int channels) {
  png_image png;
  std::memset(&png, 0, sizeof png);
  png.version = PNG_IMAGE_VERSION;
  png.width = png_uint_32(w);
  png.height = png_uint_32(h);
  png.format = channels == 3 ? PNG_FORMAT_RGB : PNG_FORMAT_GRAY;
  std::vector<uint8_t> px(size_t(w * h * channels));
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int c = 0; c < channels; ++c)
        px[size_t((y * w + x) * channels + c)] = uint8_t((x + 3 * y + 50 * c) % 256);
  ASSERT_TRUE(png_image_write_to_file(&png, path.c_str(), 0, px.data(), 0, nullptr)) << path;
}

/// A gray JPEG (quality 95) of a smooth gradient.
void writeJpeg(const std::string &path, int w, int h) {
  FILE *f = std::fopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  jpeg_compress_struct cinfo;
  jpeg_error_mgr err;
  cinfo.err = jpeg_std_error(&err);
  jpeg_create_compress(&cinfo);
  jpeg_stdio_dest(&cinfo, f);
  cinfo.image_width = JDIMENSION(w);
  cinfo.image_height = JDIMENSION(h);
  cinfo.input_components = 1;
  cinfo.in_color_space = JCS_GRAYSCALE;
  jpeg_set_defaults(&cinfo);
  jpeg_set_quality(&cinfo, 95, TRUE);
  jpeg_start_compress(&cinfo, TRUE);
  std::vector<uint8_t> row(static_cast<size_t>(w));
  while (cinfo.next_scanline < cinfo.image_height) {
    for (int x = 0; x < w; ++x)
      row[size_t(x)] = uint8_t(4 * x + 2 * int(cinfo.next_scanline));
    JSAMPROW r = row.data();
    jpeg_write_scanlines(&cinfo, &r, 1);
  }
  jpeg_finish_compress(&cinfo);
  jpeg_destroy_compress(&cinfo);
  std::fclose(f);
}

TEST(Images, PngAndJpegDecode) {
  writePng(temp("rgb.png"), 40, 30, 3);
  auto rgb = decodeImage(temp("rgb.png"));
  ASSERT_TRUE(rgb.ok()) << rgb.status();
  EXPECT_EQ(rgb->width, 40);
  EXPECT_EQ(rgb->height, 30);
  EXPECT_EQ(rgb->channels, 3);
  EXPECT_EQ(rgb->pixels[size_t((7 * 40 + 5) * 3 + 2)], uint8_t((5 + 21 + 100) % 256));
  writeJpeg(temp("gray.jpg"), 20, 10);
  auto gray = decodeImage(temp("gray.jpg"));
  ASSERT_TRUE(gray.ok()) << gray.status();
  EXPECT_EQ(gray->width, 20);
  EXPECT_EQ(gray->height, 10);
  EXPECT_EQ(gray->channels, 1);
  EXPECT_NEAR(gray->pixels[size_t(4 * 20 + 9)], 4 * 9 + 2 * 4, 6); // lossy
  // Not an image, and a truncated PNG: errors naming the file.
  std::ofstream(temp("junk.png")) << "not an image";
  auto junk = decodeImage(temp("junk.png"));
  ASSERT_FALSE(junk.ok());
  EXPECT_THAT(std::string(junk.status().message()), HasSubstr("images-junk.png"));
  std::filesystem::copy_file(temp("rgb.png"), temp("cut.png"),
                             std::filesystem::copy_options::overwrite_existing);
  std::filesystem::resize_file(temp("cut.png"), 60);
  auto cut = decodeImage(temp("cut.png"));
  ASSERT_FALSE(cut.ok());
  EXPECT_THAT(std::string(cut.status().message()), HasSubstr("images-cut.png"));
  // A truncated JPEG is an error too (libjpeg would fill in gray rows).
  writeJpeg(temp("whole.jpg"), 64, 48);
  std::filesystem::copy_file(temp("whole.jpg"), temp("cut.jpg"),
                             std::filesystem::copy_options::overwrite_existing);
  std::filesystem::resize_file(temp("cut.jpg"), std::filesystem::file_size(temp("whole.jpg")) / 2);
  auto cutJpeg = decodeImage(temp("cut.jpg"));
  ASSERT_FALSE(cutJpeg.ok());
  EXPECT_THAT(std::string(cutJpeg.status().message()), HasSubstr("images-cut.jpg"));
  // More pixels than allowed: an error before anything is allocated.
  for (const char *name : {"rgb.png", "whole.jpg"}) {
    auto big = decodeImage(temp(name), 1000);
    ASSERT_FALSE(big.ok()) << name;
    EXPECT_THAT(std::string(big.status().message()), HasSubstr("more than the 1000"));
  }
}

TEST(Images, ResizeCoversThenCropsTheCenter) {
  // 4 wide, 2 high into 2x2: scale 1, columns 1 and 2 kept.
  Image im{4, 2, 1, {10, 20, 30, 40, 50, 60, 70, 80}};
  EXPECT_EQ(resizeCenterCrop(im, 2, 2, 1), (std::vector<uint8_t>{20, 30, 60, 70}));
  // Gray to 3 channels replicates; RGB to gray is its luma.
  EXPECT_EQ(resizeCenterCrop(im, 2, 2, 3),
            (std::vector<uint8_t>{20, 30, 60, 70, 20, 30, 60, 70, 20, 30, 60, 70}));
  Image rgb{1, 1, 3, {100, 200, 50}};
  EXPECT_EQ(resizeCenterCrop(rgb, 1, 1, 1)[0], uint8_t(std::lround(0.299 * 100 + 0.587 * 200 +
                                                                   0.114 * 50)));
  // Upscaling a 2x2 to 4x4 stays within the source's range, corners exact.
  Image small{2, 2, 1, {0, 100, 100, 200}};
  std::vector<uint8_t> big = resizeCenterCrop(small, 4, 4, 1);
  EXPECT_EQ(big.front(), 0);
  EXPECT_EQ(big.back(), 200);
}

TEST(Images, FoldersPackIntoShards) {
  std::string dir = temp("folder");
  std::filesystem::remove_all(dir);
  std::filesystem::remove_all(temp("packed"));
  for (const char *c : {"a", "b"})
    std::filesystem::create_directories(dir + "/" + c);
  writePng(dir + "/a/1.png", 30, 20, 3);
  writePng(dir + "/a/2.png", 12, 12, 1);
  writeJpeg(dir + "/b/1.jpg", 16, 24);
  std::ofstream(dir + "/b/readme.txt") << "not an image";
  auto folder = listImageFolder(dir);
  ASSERT_TRUE(folder.ok()) << folder.status();
  EXPECT_EQ(folder->classes, (std::vector<std::string>{"a", "b"}));
  ASSERT_EQ(folder->images.size(), 3u);
  EXPECT_EQ(folder->images[2].second, 1);
  // Packed through a chunk source, as tgc data pack does.
  size_t at = 0;
  PackSource images{"images", "data", {}, [&]() -> absl::StatusOr<std::optional<Array>> {
                      if (at == folder->images.size())
                        return std::optional<Array>();
                      auto im = decodeImage(folder->images[at++].first);
                      if (!im.ok())
                        return im.status();
                      Array a;
                      a.sourceType = "image u8";
                      a.dtype = "u8";
                      a.shape = {1, 1, 8, 8};
                      a.bytes = resizeCenterCrop(*im, 8, 8, 1);
                      return std::optional<Array>(std::move(a));
                    }};
  Array labels;
  labels.dtype = "u8";
  labels.shape = {3};
  labels.bytes = {0, 0, 1};
  bool given = false;
  PackSource labelSource{"labels", "label", {}, [&]() -> absl::StatusOr<std::optional<Array>> {
                           if (given)
                             return std::optional<Array>();
                           given = true;
                           return std::optional<Array>(labels);
                         }};
  PackOptions o;
  auto index = pack({images, labelSource}, temp("packed"), o);
  ASSERT_TRUE(index.ok()) << index.status();
  EXPECT_EQ(index->records, 3);
  EXPECT_EQ(index->fields[0].shape, (std::vector<int64_t>{1, 8, 8}));
  EXPECT_DOUBLE_EQ(index->fields[0].scale, 1.0 / 255.0); // pixels feed floats as [0, 1]
  auto shards = ShardSet::open(*index);
  ASSERT_TRUE(shards.ok());
  auto third = (*shards)->record(0, 2);
  ASSERT_TRUE(third.ok());
  std::vector<uint8_t> want = resizeCenterCrop(*decodeImage(dir + "/b/1.jpg"), 8, 8, 1);
  EXPECT_EQ(std::vector<uint8_t>(*third, *third + 64), want);
}

} // namespace
