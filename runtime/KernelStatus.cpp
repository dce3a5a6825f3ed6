//===- KernelStatus.cpp - errors raised inside compiled code -------------===//
#include "runtime/KernelStatus.h"

#include <utility>

namespace tg {

static thread_local std::string kernelError;

void setKernelError(std::string message) {
  if (kernelError.empty())
    kernelError = std::move(message);
}

bool hasKernelError() { return !kernelError.empty(); }

std::string takeKernelError() { return std::exchange(kernelError, std::string()); }

} // namespace tg
