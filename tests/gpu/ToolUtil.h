//===- ToolUtil.h - helpers of the GPU check tools ------------------------===//
#ifndef TG_TESTS_GPU_TOOLUTIL_H
#define TG_TESTS_GPU_TOOLUTIL_H

#include "support/Manifest.h"
#include "tg/tg_runtime.h"

#include "absl/status/statusor.h"

#include <fstream>
#include <memory>
#include <sstream>
#include <string>

namespace tg::gpucheck {

/// The whole file at `path` into `out`; false when it cannot be read.
inline bool readFile(const std::string &path, std::string &out) {
  std::ifstream f(path, std::ios::binary);
  if (!f)
    return false;
  std::ostringstream os;
  os << f.rdbuf();
  out = os.str();
  return true;
}

/// An opened artifact and its parsed manifest.
struct OpenArtifact {
  std::unique_ptr<tg_artifact, void (*)(tg_artifact *)> artifact{nullptr, tg_artifact_close};
  Manifest manifest;
};

/// Opens the artifact at `path` (libtgrt) and parses its manifest.
inline absl::StatusOr<OpenArtifact> openArtifact(const std::string &path) {
  OpenArtifact out;
  tg_artifact *artifact = nullptr;
  if (tg_artifact_open(path.c_str(), &artifact) != TG_OK)
    return absl::InvalidArgumentError(tg_last_error());
  out.artifact.reset(artifact);
  absl::StatusOr<Manifest> manifest = parseManifest(tg_artifact_manifest(artifact), path);
  if (!manifest.ok())
    return manifest.status();
  out.manifest = std::move(*manifest);
  return out;
}

} // namespace tg::gpucheck

#endif // TG_TESTS_GPU_TOOLUTIL_H
