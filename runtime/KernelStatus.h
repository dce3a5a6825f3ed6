//===- KernelStatus.h - errors raised inside compiled code ------*- C++ -*-===//
//
// Kernels called from compiled code cannot return a status through the
// generated code; they record the first error of the running step here and
// tg_session_run turns it into TG_INTERNAL after the entry point returns.
// A leaf of libtgrt: the kernels and the session both use it, neither calls
// the other through it.
//
//===----------------------------------------------------------------------===//
#ifndef TG_RUNTIME_KERNELSTATUS_H
#define TG_RUNTIME_KERNELSTATUS_H

#include <string>

namespace tg {
/// Records `message` unless an error is already recorded in this thread.
void setKernelError(std::string message);
/// True when this thread has recorded an error since the last take.
bool hasKernelError();
/// The recorded error (empty when none), cleared by the call.
std::string takeKernelError();
} // namespace tg

#endif // TG_RUNTIME_KERNELSTATUS_H
