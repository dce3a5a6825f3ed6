//===- Kernels.h - the oneDNN kernels behind library calls ------*- C++ -*-===//
//
// The kernels themselves are the `_mlir_ciface_tgrt_*` functions of
// runtime/cpu/ (Matmul.cpp, Convolution.cpp, Pooling.cpp, Copies.cpp),
// called from compiled code (their ABI: support/KernelAbi.h). This header is
// what the rest of libtgrt needs from them: creating primitives ahead of the
// first step (Prepare.cpp).
//
//===----------------------------------------------------------------------===//
#ifndef TG_RUNTIME_CPU_KERNELS_H
#define TG_RUNTIME_CPU_KERNELS_H

#include "support/Manifest.h"

#include <string>
#include <vector>

namespace tg {

/// Creates (and caches) the oneDNN primitive that a call of kernel `symbol`
/// with these operands and integer parameters will use, without running it.
/// False, with `error` set, for an unknown symbol or a primitive oneDNN
/// cannot create.
bool prepareKernel(const std::string &symbol, const std::vector<KernelOperand> &operands,
                   const std::vector<int64_t> &params, std::string &error);

/// oneDNN primitives created so far in this process (for tests).
size_t cachedPrimitiveCount();

} // namespace tg

#endif // TG_RUNTIME_CPU_KERNELS_H
