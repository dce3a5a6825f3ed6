//===- Passes.td - CUDA code generation passes ------------*- tablegen -*-===//
#ifndef TG_CODEGEN_CUDA_PASSES_TD
#define TG_CODEGEN_CUDA_PASSES_TD

include "mlir/Pass/PassBase.td"

def MapToGpu : Pass<"tg-cuda-map-to-gpu", "mlir::ModuleOp"> {
  let summary = "Turns every loop nest of a bufferized module into a gpu.launch";
  let description = [{
    After bufferization (the CPU backend's, shared): every linalg op and
    memref.copy on buffers becomes one `gpu.launch` with a flat grid-stride
    loop over its parallel iteration points (parallel dimensions first, the
    reductions sequential inside each thread, the outputs carried in
    registers through them), with the block and grid sizes
    fixed at compile time (`block-size` threads, at most `max-blocks`
    blocks). A long reduction whose body is `out = out (+) term` with (+) a
    sum, product, max or min gets a warp (or, for few long ones, a whole
    block) per output point instead: strided partial results from the
    identity, combined in shared memory in a fixed tree between top-level
    barriers. Everything else stays host code. Constants (`memref.get_global`)
    read by kernels are uploaded to device memory with `gpu.memcpy`. The
    small index/flag arrays the deallocation pipeline keeps on the host become
    stack buffers, so that every remaining `memref.alloc` is device memory;
    a host load or store of device memory is an error naming the op.
    Integer powers (`math.ipowi`, which NVVM cannot lower) in kernels are
    expanded into square-and-multiply loops.
  }];
  let options = [
    Option<"blockSize", "block-size", "int64_t", /*default=*/"256",
           "Threads per block of a kernel with enough work">,
    Option<"maxBlocks", "max-blocks", "int64_t", /*default=*/"8192",
           "Largest grid; each thread strides over the rest">
  ];
  let dependentDialects = ["::mlir::gpu::GPUDialect", "::mlir::scf::SCFDialect",
                           "::mlir::arith::ArithDialect", "::mlir::memref::MemRefDialect",
                           "::mlir::linalg::LinalgDialect", "::mlir::math::MathDialect",
                           "::mlir::affine::AffineDialect"];
}

def EmulateLaunches : Pass<"tg-cuda-emulate-launches", "mlir::ModuleOp"> {
  let summary = "Runs gpu.launch bodies as sequential loops on the CPU";
  let description = [{
    A testing aid, for machines without a GPU: each `gpu.launch` becomes two
    nested `scf.for` loops over its blocks and threads with the body inlined
    (block and thread ids bound to the loop indices), and `gpu.memcpy`
    becomes `memref.copy`. A kernel's top-level `gpu.barrier`s split its
    body into steps, each a loop over the block's threads, and its shared
    memory (workgroup attributions) becomes a stack buffer; pure values a
    step takes from an earlier one (thread ids, index arithmetic) are
    recomputed, anything else crossing a barrier is an error. For the
    kernels tg-cuda-map-to-gpu builds, whose threads meet only at such
    barriers, running them one after another is exact: compiled through the
    CPU pipeline, the result proves the kernels' index logic against the
    interpreter (`tgc compile --target=cuda --cuda-emulate`).
  }];
  let dependentDialects = ["::mlir::scf::SCFDialect", "::mlir::memref::MemRefDialect",
                           "::mlir::arith::ArithDialect"];
}

def OutlineKernels : Pass<"tg-cuda-outline-kernels", "mlir::ModuleOp"> {
  let summary = "Outlines every gpu.launch into one gpu.module of kernels";
  let description = [{
    Constants and other cheap values are sunk into each launch body, which
    then becomes a `gpu.func` kernel `<function>_k<N>` in a single
    `gpu.module @tg_kernels` (one PTX module, one fatbin), and the launch a
    `gpu.launch_func`. The module attribute `tg.cuda_kernels` lists the
    kernels (name, block size) in the order of their runtime indices.
  }];
  let dependentDialects = ["::mlir::gpu::GPUDialect"];
}

def LowerLaunches : Pass<"tg-cuda-lower-launches", "mlir::ModuleOp"> {
  let summary = "Turns kernel launches and copies into calls of the CUDA runtime";
  let description = [{
    Host side, after the kernels went to PTX: each `gpu.launch_func` becomes
    `tgrt_cuda_launch(kernel index, grid, block, args)`, the arguments
    packed into a stack array of 64-bit words in the order of the kernel's
    NVVM signature (a memref as allocated/aligned pointer, offset, sizes,
    strides); `gpu.memcpy` (constant uploads) becomes `tgrt_cuda_upload`;
    library calls `tgrt_X` become `tgrt_cuda_X` (cuBLASLt/cuDNN in
    libtgrt_cuda); the `gpu.module`/`gpu.binary` is dropped (the driver
    packs it into the fatbin). Kernel indices are positions in the module
    attribute `tg.cuda_kernels` (tg-cuda-outline-kernels).
  }];
  let dependentDialects = ["::mlir::func::FuncDialect", "::mlir::memref::MemRefDialect",
                           "::mlir::arith::ArithDialect"];
}

def DeviceAllocations : Pass<"tg-cuda-device-allocations", "mlir::ModuleOp"> {
  let summary = "Routes the LLVM dialect's memref allocations to device memory";
  let description = [{
    After memref-to-llvm (generic allocation functions): every heap
    allocation left in host code is device memory (tg-cuda-map-to-gpu moved
    the host ones to the stack), so `_mlir_memref_to_llvm_alloc`/`_free`
    become libtgrt_cuda's `tgrt_cuda_alloc`/`tgrt_cuda_free` (its caching
    device allocator).
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
}

#endif // TG_CODEGEN_CUDA_PASSES_TD
