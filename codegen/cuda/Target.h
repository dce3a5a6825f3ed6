//===- Target.h - CUDA archs, ptxas and fatbinary ---------------*- C++ -*-===//
//
// MLIR lowers the kernels to PTX for the oldest requested arch (LLVM 19 knows
// chips up to sm_90); the toolkit's ptxas then compiles that PTX for every
// requested arch (PTX for sm_XY runs on any sm_MN >= XY), and fatbinary packs
// the SASS images plus the PTX (JIT on GPUs newer than every image) into one
// fatbin that the artifact embeds.
//
//===----------------------------------------------------------------------===//
#ifndef TG_CODEGEN_CUDA_TARGET_H
#define TG_CODEGEN_CUDA_TARGET_H

#include "absl/status/statusor.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace tg {

struct CudaTarget {
  std::vector<std::string> archs; ///< sm_80, sm_90, ... in increasing order
  std::string ptxChip;            ///< the chip MLIR writes PTX for
  std::string toolkit;            ///< the CUDA toolkit's root (bin/ptxas, nvvm/libdevice)
  std::string toolkitVersion;     ///< "13.0" (ptxas --version)
};

/// Parses `--cuda-arch` ("sm_80,sm_90"; the default when empty) into sorted,
/// distinct archs; an unknown arch is an error listing the known ones.
absl::StatusOr<std::vector<std::string>> parseCudaArchs(const std::string &archList);

/// Parses `--cuda-arch` ("sm_80,sm_90"; the default when empty) and finds the
/// toolkit (`toolkit`, else $CUDA_HOME, $CUDA_PATH, /usr/local/cuda). An
/// unknown arch or a toolkit without ptxas, fatbinary or libdevice is an
/// error saying which.
absl::StatusOr<CudaTarget> selectCudaTarget(const std::string &archList,
                                            const std::string &toolkit);

/// What ptxas -v reports for one kernel on one arch.
struct KernelResources {
  int64_t registers = 0, sharedBytes = 0, spillBytes = 0, stackBytes = 0;
};

struct Fatbin {
  std::string bytes;
  /// kernel -> arch -> resources
  std::map<std::string, std::map<std::string, KernelResources>> resources;
  /// ptxas warnings (e.g. spills), one per line
  std::vector<std::string> warnings;
};

/// Runs ptxas (-O3 -v --warn-on-spills) on `ptx` for every arch of `target`
/// and fatbinary on the results plus the PTX.
absl::StatusOr<Fatbin> buildFatbin(const std::string &ptx, const CudaTarget &target);

/// One image of a fatbin: "sass" or "ptx", and its arch ("sm_80").
struct FatbinImage {
  std::string kind, arch;
  uint64_t bytes = 0;
};
/// Lists the images of a fatbin; an error for anything that is not a
/// well-formed fatbin (bounds checked, never reads past `data`).
absl::StatusOr<std::vector<FatbinImage>> listFatbin(const std::string &data);

} // namespace tg

#endif // TG_CODEGEN_CUDA_TARGET_H
