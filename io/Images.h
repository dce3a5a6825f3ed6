//===- Images.h - PNG and JPEG images for packed data sets -----*- C++ -*-===//
//
// `tgc data pack --from DIR` of an image folder (DIR/CLASS/*.png|*.jpg, the
// layout torchvision's ImageFolder reads): each image is decoded (libpng,
// libjpeg-turbo), its shorter side resized to the target with bilinear
// filtering and its center cropped, and stored as u8 [channels, height,
// width], its label the index of its class folder in name order.
//
//===----------------------------------------------------------------------===//
#ifndef TG_IO_IMAGES_H
#define TG_IO_IMAGES_H

#include "absl/status/statusor.h"

#include <cstdint>
#include <string>
#include <vector>

namespace tg {
namespace data {

/// A decoded image: height x width x channels (1 gray or 3 RGB), row-major.
struct Image {
  int width = 0, height = 0, channels = 0;
  std::vector<uint8_t> pixels;
};

/// The most pixels (width x height) decodeImage takes by default: a header of
/// a few hundred bytes can claim 65500 x 65500 (12 GB of RGB). 2^27 is
/// 11585 x 11585 or a 100-megapixel photo, 384 MiB of RGB.
inline constexpr int64_t kMaxImagePixels = int64_t(1) << 27;

/// Decodes a PNG or JPEG file (by its magic). Errors name the file and what
/// the decoder said; an image of more than `maxPixels` pixels, or a truncated
/// one, is an error.
absl::StatusOr<Image> decodeImage(const std::string &path, int64_t maxPixels = kMaxImagePixels);

/// `image` with its shorter side scaled to fit (height, width) and its center
/// cropped to it, as `channels` (1: luma of RGB; 3: gray replicated) planes:
/// [channels, height, width] u8.
std::vector<uint8_t> resizeCenterCrop(const Image &image, int height, int width, int channels);

/// An image folder: the class folders (sorted) and every image in them
/// (sorted by class, then name) with its class index.
struct ImageFolder {
  std::vector<std::string> classes;
  std::vector<std::pair<std::string, int>> images;
};
/// Lists `dir`'s class folders and their .png/.jpg/.jpeg files (other files
/// are ignored). Errors when there is no class folder or no image.
absl::StatusOr<ImageFolder> listImageFolder(const std::string &dir);

} // namespace data
} // namespace tg

#endif // TG_IO_IMAGES_H
