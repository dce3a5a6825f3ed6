//===- KernelError.h - errors raised inside compiled code -------*- C++ -*-===//
//
// Kernels called from compiled code cannot return a status through the
// generated code; they record the first error of the running step here and
// tg_session_run turns it into TG_INTERNAL after the entry point returns.
//
//===----------------------------------------------------------------------===//
#ifndef TG_RUNTIME_KERNELERROR_H
#define TG_RUNTIME_KERNELERROR_H

#include <string>

#include <cstdint>
#include <vector>

namespace tg {
void setKernelError(std::string message);
/// The recorded error (empty when none), cleared by the call.
std::string takeKernelError();

/// One operand of a kernel call as the manifest records it.
struct KernelOperand {
  std::vector<int64_t> sizes, strides;
};

/// Creates (and caches) the oneDNN primitive that a call of kernel `symbol`
/// with these operands and integer parameters will use, without running it.
/// False, with `error` set, for an unknown symbol or a primitive oneDNN
/// cannot create.
bool prepareKernel(const std::string &symbol, const std::vector<KernelOperand> &operands,
                   const std::vector<int64_t> &params, std::string &error);

/// oneDNN primitives created so far in this process (for tests).
size_t cachedPrimitiveCount();

/// Sets flush-to-zero / denormals-are-zero in this thread; returns the old
/// MXCSR for restoreFloatMode.
unsigned enableFlushDenormals();
void restoreFloatMode(unsigned mxcsr);
/// Sets FTZ/DAZ once in every OpenMP worker thread.
void flushDenormalsInWorkers();
} // namespace tg

#endif // TG_RUNTIME_KERNELERROR_H
