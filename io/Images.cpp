//===- Images.cpp - PNG and JPEG images for packed data sets --------------===//
#include "io/Images.h"

#include "tg/Data.h"

#include "absl/strings/str_cat.h"

#include <jpeglib.h>
// After jpeglib.h: the message codes.
#include <jerror.h>
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

absl::Status tooManyPixels(const std::string &path, uint64_t width, uint64_t height,
                           int64_t maxPixels) {
  return absl::InvalidArgumentError(absl::StrCat("'", path, "': ", width, " x ", height,
                                                 " pixels, more than the ", maxPixels,
                                                 " an image may have"));
}

absl::StatusOr<Image> decodePng(const std::string &path, int64_t maxPixels) {
  png_image png;
  std::memset(&png, 0, sizeof png);
  png.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_file(&png, path.c_str()))
    return absl::InvalidArgumentError(
        absl::StrCat("'", path, "': not a readable PNG image: ", png.message));
  if (uint64_t(png.width) * uint64_t(png.height) > uint64_t(maxPixels)) {
    png_image_free(&png);
    return tooManyPixels(path, png.width, png.height, maxPixels);
  }
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
  void (*emitMessage)(j_common_ptr, int); // libjpeg's own
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
  unsigned width = 0, height = 0; // set when the image has too many pixels
};

[[noreturn]] void onJpegError(j_common_ptr cinfo) {
  auto *err = reinterpret_cast<JpegError *>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, err->message);
  std::longjmp(err->jump, 1);
}

/// libjpeg decodes corrupt data as best it can and warns (stray bytes before
/// a marker are common in photo collections, and load), but past the end of
/// the file it makes up the missing rows: a truncated JPEG is an error, as a
/// truncated PNG is.
void onJpegMessage(j_common_ptr cinfo, int level) {
  if (level < 0 && cinfo->err->msg_code == JWRN_JPEG_EOF)
    onJpegError(cinfo);
  (*reinterpret_cast<JpegError *>(cinfo->err)->emitMessage)(cinfo, level);
}

/// decodeJpeg's libjpeg calls. An error longjmps back to the setjmp here,
/// which skips destructors and leaves the locals changed since indeterminate:
/// no C++ object lives in this frame (the image is the caller's). False with
/// err->message, or err->width and height when the image is too large.
bool readJpeg(std::FILE *f, int64_t maxPixels, Image *image, JpegError *err) {
  jpeg_decompress_struct cinfo;
  cinfo.err = jpeg_std_error(&err->mgr);
  err->mgr.error_exit = onJpegError;
  err->emitMessage = err->mgr.emit_message;
  err->mgr.emit_message = onJpegMessage;
  if (setjmp(err->jump)) {
    jpeg_destroy_decompress(&cinfo);
    return false;
  }
  jpeg_create_decompress(&cinfo);
  jpeg_stdio_src(&cinfo, f);
  jpeg_read_header(&cinfo, TRUE);
  // Before jpeg_start_decompress, which allocates a progressive image's
  // coefficients (2 bytes per sample).
  if (uint64_t(cinfo.image_width) * uint64_t(cinfo.image_height) > uint64_t(maxPixels)) {
    err->width = cinfo.image_width;
    err->height = cinfo.image_height;
    jpeg_destroy_decompress(&cinfo);
    return false;
  }
  cinfo.out_color_space = cinfo.num_components == 1 ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_start_decompress(&cinfo);
  image->width = int(cinfo.output_width);
  image->height = int(cinfo.output_height);
  image->channels = int(cinfo.output_components);
  image->pixels.resize(size_t(image->width) * size_t(image->height) * size_t(image->channels));
  while (cinfo.output_scanline < cinfo.output_height) {
    size_t at = size_t(cinfo.output_scanline) * size_t(image->width) * size_t(image->channels);
    JSAMPROW row = image->pixels.data() + at;
    if (jpeg_read_scanlines(&cinfo, &row, 1) != 1) { // only a suspending source returns 0
      std::snprintf(err->message, sizeof err->message, "no data for row %u",
                    unsigned(cinfo.output_scanline));
      jpeg_destroy_decompress(&cinfo);
      return false;
    }
  }
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  return true;
}

absl::StatusOr<Image> decodeJpeg(const std::string &path, int64_t maxPixels) {
  std::FILE *f = std::fopen(path.c_str(), "rb");
  if (!f)
    return absl::NotFoundError(absl::StrCat("cannot open '", path, "': ", std::strerror(errno)));
  Image image;
  JpegError err;
  bool ok = readJpeg(f, maxPixels, &image, &err);
  std::fclose(f);
  if (ok)
    return image;
  if (err.width)
    return tooManyPixels(path, err.width, err.height, maxPixels);
  return absl::InvalidArgumentError(
      absl::StrCat("'", path, "': JPEG decoding failed: ", err.message));
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

absl::StatusOr<Image> decodeImage(const std::string &path, int64_t maxPixels) {
  FILE *f = std::fopen(path.c_str(), "rb");
  if (!f)
    return absl::NotFoundError(absl::StrCat("cannot open '", path, "': ", std::strerror(errno)));
  unsigned char magic[8] = {};
  size_t got = std::fread(magic, 1, sizeof magic, f);
  std::fclose(f);
  if (got >= 8 && png_sig_cmp(magic, 0, 8) == 0)
    return decodePng(path, maxPixels);
  if (got >= 3 && magic[0] == 0xFF && magic[1] == 0xD8 && magic[2] == 0xFF)
    return decodeJpeg(path, maxPixels);
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
