//===- Libraries.h - the CUDA driver and libraries, dlopen'ed ---*- C++ -*-===//
//
// A binary linked with -lcuda cannot start on a machine without a driver, so
// libtgrt_cuda links neither the driver nor the CUDA libraries: it dlopens
// libcuda.so.1, libcublasLt.so.13, libcudnn.so.9 and libnccl.so.2 when a
// CUDA session first needs them and
// resolves each function by its ABI name (cuda.h maps cuMemAlloc to
// cuMemAlloc_v2 and so on; the names below expand the same way).
//
//===----------------------------------------------------------------------===//
#ifndef TG_RUNTIME_CUDA_LIBRARIES_H
#define TG_RUNTIME_CUDA_LIBRARIES_H

#include <cublasLt.h>
#include <cuda.h>
#include <cudnn.h>
#include <nccl.h>

#include <string>
#include <vector>

namespace tg {
namespace cuda {

// clang-format off
#define TG_CUDA_DRIVER_FUNCTIONS(X) \
  X(cuInit) \
  X(cuGetErrorString) \
  X(cuDeviceGetCount) \
  X(cuDeviceGet) \
  X(cuDeviceGetName) \
  X(cuDeviceGetAttribute) \
  X(cuDevicePrimaryCtxRetain) \
  X(cuDevicePrimaryCtxRelease) \
  X(cuCtxSetCurrent) \
  X(cuStreamCreate) \
  X(cuStreamDestroy) \
  X(cuStreamSynchronize) \
  X(cuModuleLoadDataEx) \
  X(cuModuleUnload) \
  X(cuModuleGetFunction) \
  X(cuLaunchKernel) \
  X(cuMemAlloc) \
  X(cuMemFree) \
  X(cuMemcpyHtoDAsync) \
  X(cuMemcpyDtoHAsync) \
  X(cuMemsetD8Async) \
  X(cuMemsetD32Async) \
  X(cuMemcpyDtoDAsync) \
  X(cuStreamBeginCapture) \
  X(cuStreamEndCapture) \
  X(cuGraphInstantiate) \
  X(cuGraphLaunch) \
  X(cuGraphExecDestroy) \
  X(cuGraphDestroy) \
  X(cuEventCreate) \
  X(cuEventDestroy) \
  X(cuEventRecord) \
  X(cuEventSynchronize) \
  X(cuStreamWaitEvent) \
  X(cuMemAllocHost) \
  X(cuMemFreeHost)

#define TG_CUBLASLT_FUNCTIONS(X) \
  X(cublasLtCreate) \
  X(cublasLtDestroy) \
  X(cublasLtMatmul) \
  X(cublasLtMatmulDescCreate) \
  X(cublasLtMatmulDescDestroy) \
  X(cublasLtMatmulDescSetAttribute) \
  X(cublasLtMatrixLayoutCreate) \
  X(cublasLtMatrixLayoutDestroy) \
  X(cublasLtMatrixLayoutSetAttribute) \
  X(cublasLtMatmulPreferenceCreate) \
  X(cublasLtMatmulPreferenceDestroy) \
  X(cublasLtMatmulPreferenceSetAttribute) \
  X(cublasLtMatmulAlgoGetHeuristic)

#define TG_CUDNN_FUNCTIONS(X) \
  X(cudnnCreate) \
  X(cudnnDestroy) \
  X(cudnnSetStream) \
  X(cudnnGetErrorString) \
  X(cudnnCreateTensorDescriptor) \
  X(cudnnSetTensor4dDescriptorEx) \
  X(cudnnDestroyTensorDescriptor) \
  X(cudnnCreateFilterDescriptor) \
  X(cudnnSetFilter4dDescriptor) \
  X(cudnnDestroyFilterDescriptor) \
  X(cudnnCreateConvolutionDescriptor) \
  X(cudnnSetConvolution2dDescriptor) \
  X(cudnnSetConvolutionGroupCount) \
  X(cudnnSetConvolutionMathType) \
  X(cudnnDestroyConvolutionDescriptor) \
  X(cudnnGetConvolutionForwardWorkspaceSize) \
  X(cudnnConvolutionForward) \
  X(cudnnGetConvolutionBackwardDataWorkspaceSize) \
  X(cudnnConvolutionBackwardData) \
  X(cudnnGetConvolutionBackwardFilterWorkspaceSize) \
  X(cudnnConvolutionBackwardFilter) \
  X(cudnnAddTensor) \
  X(cudnnCreateActivationDescriptor) \
  X(cudnnSetActivationDescriptor) \
  X(cudnnDestroyActivationDescriptor) \
  X(cudnnActivationForward) \
  X(cudnnCreatePoolingDescriptor) \
  X(cudnnSetPooling2dDescriptor) \
  X(cudnnDestroyPoolingDescriptor) \
  X(cudnnPoolingForward) \
  X(cudnnPoolingBackward)

#define TG_NCCL_FUNCTIONS(X) \
  X(ncclGetVersion) \
  X(ncclGetUniqueId) \
  X(ncclCommInitRank) \
  X(ncclCommDestroy) \
  X(ncclCommAbort) \
  X(ncclCommGetAsyncError) \
  X(ncclAllReduce) \
  X(ncclGetErrorString)

// clang-format on

struct Driver {
#define TG_MEMBER(name) decltype(&::name) name = nullptr;
  TG_CUDA_DRIVER_FUNCTIONS(TG_MEMBER)
};

struct CublasLt {
  TG_CUBLASLT_FUNCTIONS(TG_MEMBER)
};

struct Cudnn {
  TG_CUDNN_FUNCTIONS(TG_MEMBER)
};

struct Nccl {
  TG_NCCL_FUNCTIONS(TG_MEMBER)
#undef TG_MEMBER
};

/// The driver ($TGRT_CUDA_DRIVER, else libcuda.so.1), loaded once; null with
/// `error` set when it cannot be loaded or lacks a function.
const Driver *driver(std::string &error);
/// cuBLASLt ($TGRT_CUBLASLT, else libcublasLt.so.13, .so).
const CublasLt *cublasLt(std::string &error);

/// cuDNN ($TGRT_CUDNN, else libcudnn.so.9), for convolutions and pooling.
const Cudnn *cudnn(std::string &error);

/// NCCL ($TGRT_NCCL, else libnccl.so.2), for data-parallel artifacts.
const Nccl *nccl(std::string &error);

/// Loads `path` and resolves every function of the table, without calling
/// any: the names missing from it (for the symbol check of the tests).
std::vector<std::string> missingDriverSymbols(const std::string &path, std::string &error);
std::vector<std::string> missingCublasLtSymbols(const std::string &path, std::string &error);
std::vector<std::string> missingCudnnSymbols(const std::string &path, std::string &error);
std::vector<std::string> missingNcclSymbols(const std::string &path, std::string &error);

/// "CUDA_ERROR_X: description" for a driver result.
std::string describe(const Driver &d, CUresult r);

} // namespace cuda
} // namespace tg

#endif // TG_RUNTIME_CUDA_LIBRARIES_H
