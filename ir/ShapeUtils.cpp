//===- ShapeUtils.cpp - shape rules shared by verifiers and interpreter ---===//
#include "ir/ShapeUtils.h"

#include "llvm/ADT/Twine.h"
#include "llvm/Support/raw_ostream.h"

namespace tg {

std::optional<Shape> broadcastShapes(llvm::ArrayRef<int64_t> a, llvm::ArrayRef<int64_t> b) {
  size_t rank = std::max(a.size(), b.size());
  Shape out(rank, 1);
  for (size_t i = 0; i < rank; ++i) {
    int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (da != db && da != 1 && db != 1)
      return std::nullopt;
    out[i] = da == 1 ? db : da;
  }
  return out;
}

bool broadcastsTo(llvm::ArrayRef<int64_t> from, llvm::ArrayRef<int64_t> to) {
  if (from.size() > to.size())
    return false;
  size_t off = to.size() - from.size();
  for (size_t i = 0; i < from.size(); ++i)
    if (from[i] != 1 && from[i] != to[i + off])
      return false;
  return true;
}

int64_t numElements(llvm::ArrayRef<int64_t> shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

std::string shapeStr(llvm::ArrayRef<int64_t> shape) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << "[";
  llvm::interleaveComma(shape, os);
  os << "]";
  return s;
}

static bool checkCount(llvm::StringRef name, llvm::ArrayRef<int64_t> v, size_t n, int64_t min,
                       std::string &error) {
  if (v.size() != n) {
    error =
        (name + " must have " + llvm::Twine(n) + " entries, got " + llvm::Twine(v.size())).str();
    return false;
  }
  for (int64_t x : v)
    if (x < min) {
      error = (name + " entries must be >= " + llvm::Twine(min) + ", got " + shapeStr(v)).str();
      return false;
    }
  return true;
}

std::optional<Shape> conv2dOutputShape(llvm::ArrayRef<int64_t> input,
                                       llvm::ArrayRef<int64_t> filter, const Conv2DGeometry &g,
                                       std::string &error) {
  if (input.size() != 4 || filter.size() != 4) {
    error = "expects a rank-4 NCHW input and a rank-4 OIHW filter, got input " + shapeStr(input) +
            " and filter " + shapeStr(filter);
    return std::nullopt;
  }
  if (!checkCount("strides", g.strides, 2, 1, error) ||
      !checkCount("padding", g.padding, 4, 0, error) ||
      !checkCount("dilations", g.dilations, 2, 1, error))
    return std::nullopt;
  if (filter[2] < 1 || filter[3] < 1) {
    error = "filter window " + shapeStr(filter.drop_front(2)) + " must be at least 1x1";
    return std::nullopt;
  }
  if (g.groups < 1 || input[1] % g.groups != 0 || filter[0] % g.groups != 0) {
    error = "groups = " + std::to_string(g.groups) + " must be >= 1 and divide input channels (" +
            std::to_string(input[1]) + ") and output channels (" + std::to_string(filter[0]) + ")";
    return std::nullopt;
  }
  if (std::optional<int64_t> c = llvm::checkedMul(filter[1], g.groups); !c || *c != input[1]) {
    error = "filter " + shapeStr(filter) + " expects " +
            (c ? std::to_string(*c) : std::string("more than 2^63")) + " input channels (C/groups = " + std::to_string(filter[1]) +
            ", groups = " + std::to_string(g.groups) + ") but input " + shapeStr(input) + " has " +
            std::to_string(input[1]);
    return std::nullopt;
  }
  std::optional<int64_t> oh = windowOutputSize(input[2], g.padding[0], g.padding[1], filter[2],
                                               g.strides[0], g.dilations[0]);
  std::optional<int64_t> ow = windowOutputSize(input[3], g.padding[2], g.padding[3], filter[3],
                                               g.strides[1], g.dilations[1]);
  if (!oh || !ow) {
    error = "padding " + shapeStr(g.padding) + " or dilations " + shapeStr(g.dilations) +
            " overflow 64-bit sizes";
    return std::nullopt;
  }
  if (*oh < 1 || *ow < 1) {
    error = "filter window " + shapeStr(filter.drop_front(2)) + " (dilations " +
            shapeStr(g.dilations) + ") does not fit the padded input " + shapeStr(input);
    return std::nullopt;
  }
  return Shape{input[0], filter[0], *oh, *ow};
}

std::optional<Shape> pool2dOutputShape(llvm::ArrayRef<int64_t> input,
                                       llvm::ArrayRef<int64_t> kernel,
                                       llvm::ArrayRef<int64_t> strides,
                                       llvm::ArrayRef<int64_t> padding, std::string &error) {
  if (input.size() != 4) {
    error = "expects a rank-4 NCHW input, got " + shapeStr(input);
    return std::nullopt;
  }
  if (!checkCount("kernel", kernel, 2, 1, error) || !checkCount("strides", strides, 2, 1, error) ||
      !checkCount("padding", padding, 4, 0, error))
    return std::nullopt;
  if (padding[0] >= kernel[0] || padding[1] >= kernel[0] || padding[2] >= kernel[1] ||
      padding[3] >= kernel[1]) {
    error = "padding " + shapeStr(padding) + " must be smaller than the kernel " + shapeStr(kernel);
    return std::nullopt;
  }
  std::optional<int64_t> oh =
      windowOutputSize(input[2], padding[0], padding[1], kernel[0], strides[0]);
  std::optional<int64_t> ow =
      windowOutputSize(input[3], padding[2], padding[3], kernel[1], strides[1]);
  if (!oh || !ow) {
    error = "padding " + shapeStr(padding) + " or kernel " + shapeStr(kernel) +
            " overflow 64-bit sizes";
    return std::nullopt;
  }
  if (*oh < 1 || *ow < 1) {
    error = "kernel " + shapeStr(kernel) + " does not fit the padded input " + shapeStr(input);
    return std::nullopt;
  }
  return Shape{input[0], input[1], *oh, *ow};
}

Shape rowMajorStrides(llvm::ArrayRef<int64_t> shape) {
  Shape s(shape.size(), 1);
  for (int i = int(shape.size()) - 2; i >= 0; --i)
    s[i] = s[i + 1] * shape[i + 1];
  return s;
}

} // namespace tg
