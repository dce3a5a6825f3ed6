//===- Images.cpp - PNG and JPEG images for packed data sets --------------===//
#include "io/Images.h"

#include "io/Data.h"

#include "absl/strings/str_cat.h"

#include <jpeglib.h>
#include <png.h>

#include <algorithm>
#include <cmath>
#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <dirent.h>

namespace tg {
namespace data {
namespace {

absl::StatusOr<Image> decodePng(const std::string &path) {
  png_image png;
  std::memset(&png, 0, sizeof png);
  png.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_file(&png, path.c_str()))
    return absl::InvalidArgumentError(
        absl::StrCat("'", path, "': not a readable PNG image: ", png.message));
  Image image;
  bool color = png.format & PNG_FORMAT_FLAG_COLOR;
  png.format = color ? PNG_FORMAT_RGB : PNG_FORMAT_GRAY; // alpha composited on black
  image.width = int(png.width);
  image.height = int(png.height);
  image.channels = color ? 3 : 1;
  image.pixels.resize(PNG_IMAGE_SIZE(png));
  if (!png_image_finish_read(&png, nullptr, image.pixels.data(), 0, nullptr)) {
    std::string why = png.message;
    png_image_free(&png);
    return absl::InvalidArgumentError(absl::StrCat("'", path, "': PNG decoding failed: ", why));
  }
  return image;
}

struct JpegError {
  jpeg_error_mgr mgr;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

void onJpegError(j_common_ptr cinfo) {
  auto *err = reinterpret_cast<JpegError *>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, err->message);
  std::longjmp(err->jump, 1);
}

absl::StatusOr<Image> decodeJpeg(const std::string &path) {
  FILE *f = std::fopen(path.c_str(), "rb");
  if (!f)
    return absl::NotFoundError(absl::StrCat("cannot open '", path, "': ", std::strerror(errno)));
  jpeg_decompress_struct cinfo;
  JpegError err;
  cinfo.err = jpeg_std_error(&err.mgr);
  err.mgr.error_exit = onJpegError;
  Image image; // no C++ objects with destructors are created after the setjmp
  if (setjmp(err.jump)) {
    jpeg_destroy_decompress(&cinfo);
    std::fclose(f);
    return absl::InvalidArgumentError(
        absl::StrCat("'", path, "': JPEG decoding failed: ", err.message));
  }
  jpeg_create_decompress(&cinfo);
  jpeg_stdio_src(&cinfo, f);
  jpeg_read_header(&cinfo, TRUE);
  cinfo.out_color_space = cinfo.num_components == 1 ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_start_decompress(&cinfo);
  image.width = int(cinfo.output_width);
  image.height = int(cinfo.output_height);
  image.channels = int(cinfo.output_components);
  image.pixels.resize(size_t(image.width) * size_t(image.height) * size_t(image.channels));
  while (cinfo.output_scanline < cinfo.output_height) {
    JSAMPROW row = image.pixels.data() + size_t(cinfo.output_scanline) * size_t(image.width) *
                                             size_t(image.channels);
    jpeg_read_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  std::fclose(f);
  return image;
}

bool hasImageExtension(const std::string &name) {
  std::string lower = name;
  std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
  for (const char *ext : {".png", ".jpg", ".jpeg"}) {
    size_t n = std::strlen(ext);
    if (lower.size() > n && lower.compare(lower.size() - n, n, ext) == 0)
      return true;
  }
  return false;
}

std::vector<std::string> entries(const std::string &dir) {
  std::vector<std::string> names;
  if (DIR *d = ::opendir(dir.c_str())) {
    while (dirent *e = ::readdir(d))
      if (e->d_name[0] != '.')
        names.push_back(e->d_name);
    ::closedir(d);
  }
  std::sort(names.begin(), names.end());
  return names;
}

} // namespace

absl::StatusOr<Image> decodeImage(const std::string &path) {
  FILE *f = std::fopen(path.c_str(), "rb");
  if (!f)
    return absl::NotFoundError(absl::StrCat("cannot open '", path, "': ", std::strerror(errno)));
  unsigned char magic[8] = {};
  size_t got = std::fread(magic, 1, sizeof magic, f);
  std::fclose(f);
  if (got >= 8 && png_sig_cmp(magic, 0, 8) == 0)
    return decodePng(path);
  if (got >= 3 && magic[0] == 0xFF && magic[1] == 0xD8 && magic[2] == 0xFF)
    return decodeJpeg(path);
  return absl::InvalidArgumentError(
      absl::StrCat("'", path, "': neither a PNG nor a JPEG image (by its first bytes)"));
}

std::vector<uint8_t> resizeCenterCrop(const Image &image, int height, int width, int channels) {
  // Scale so the image covers the target, then take the centered window.
  double scale = std::max(double(height) / image.height, double(width) / image.width);
  double offY = (image.height * scale - height) / 2, offX = (image.width * scale - width) / 2;
  std::vector<uint8_t> out(size_t(channels) * size_t(height) * size_t(width));
  auto at = [&](int y, int x, int c) {
    return double(image.pixels[(size_t(y) * size_t(image.width) + size_t(x)) *
                                   size_t(image.channels) +
                               size_t(c)]);
  };
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x) {
      // The source point of this pixel's center, clamped to the image.
      double sy = std::clamp((y + 0.5 + offY) / scale - 0.5, 0.0, double(image.height - 1));
      double sx = std::clamp((x + 0.5 + offX) / scale - 0.5, 0.0, double(image.width - 1));
      int y0 = int(sy), x0 = int(sx);
      int y1 = std::min(y0 + 1, image.height - 1), x1 = std::min(x0 + 1, image.width - 1);
      double fy = sy - y0, fx = sx - x0;
      double rgb[3];
      for (int c = 0; c < image.channels; ++c)
        rgb[c] = (at(y0, x0, c) * (1 - fx) + at(y0, x1, c) * fx) * (1 - fy) +
                 (at(y1, x0, c) * (1 - fx) + at(y1, x1, c) * fx) * fy;
      for (int c = 0; c < channels; ++c) {
        double v = channels == image.channels ? rgb[c]
                   : channels == 1             ? 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]
                                               : rgb[0];
        out[(size_t(c) * size_t(height) + size_t(y)) * size_t(width) + size_t(x)] =
            uint8_t(std::lround(std::clamp(v, 0.0, 255.0)));
      }
    }
  return out;
}

absl::StatusOr<ImageFolder> listImageFolder(const std::string &dir) {
  ImageFolder folder;
  for (const std::string &name : entries(dir)) {
    std::string sub = dir + "/" + name;
    if (!isDirectory(sub))
      continue;
    int label = int(folder.classes.size());
    folder.classes.push_back(name);
    for (const std::string &file : entries(sub))
      if (hasImageExtension(file))
        folder.images.push_back({sub + "/" + file, label});
  }
  if (folder.classes.empty())
    return absl::InvalidArgumentError(
        absl::StrCat("'", dir, "': no class folders (an image folder is DIR/CLASS/*.png|*.jpg)"));
  if (folder.images.empty())
    return absl::InvalidArgumentError(
        absl::StrCat("'", dir, "': no .png/.jpg/.jpeg images in its ", folder.classes.size(),
                     " class folders"));
  return folder;
}

} // namespace data
} // namespace tg
