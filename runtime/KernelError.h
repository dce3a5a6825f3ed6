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

namespace tg {
void setKernelError(std::string message);
/// The recorded error (empty when none), cleared by the call.
std::string takeKernelError();
} // namespace tg

#endif // TG_RUNTIME_KERNELERROR_H
