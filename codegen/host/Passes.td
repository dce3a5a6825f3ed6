//===- Passes.td - passes both backends run on the host ----*- tablegen -*-===//
//
// The CPU backend and the CUDA backend's host side share these: tg -> linalg
// with the library ops kept, epilogue fusion, bufferization support, the
// static memory plan, loops and math down to the LLVM dialect. What differs
// between targets is their library's rules (Target.h), asked by `target`.
//
//===----------------------------------------------------------------------===//
#ifndef TG_CODEGEN_HOST_PASSES_TD
#define TG_CODEGEN_HOST_PASSES_TD

include "mlir/Pass/PassBase.td"

def LowerToLinalg : Pass<"tg-lower-to-linalg", "mlir::ModuleOp"> {
  let summary = "Lowers tg ops to linalg/tensor/arith/math on tensors";
  let description = [{
    Elementwise ops (with NumPy broadcasting as indexing maps), reductions,
    softmax, losses and data movement become `linalg.generic` and `tensor`
    ops. Library ops (matmul) stay as tg ops: they bufferize into calls to
    the runtime's oneDNN kernels (see LibraryBufferization.cpp). An op the
    CPU code generator does not handle yet is an error naming it. With
    `target=cuda`, convolutions and pooling with asymmetric padding (which
    cuDNN's 2-D descriptors cannot express) lower to generated code too.
  }];
  let options = [Option<"target", "target", "::tg::Target", "::tg::Target::Cpu",
                        "the target whose libraries serve the library ops",
                        [{::llvm::cl::values(clEnumValN(::tg::Target::Cpu, "cpu", "oneDNN"),
                                              clEnumValN(::tg::Target::Cuda, "cuda",
                                                         "cuBLASLt and cuDNN"))}]>];
  let dependentDialects = ["::mlir::linalg::LinalgDialect", "::mlir::tensor::TensorDialect",
                           "::mlir::arith::ArithDialect", "::mlir::math::MathDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::bufferization::BufferizationDialect"];
}

def FuseEpilogues : Pass<"tg-fuse-epilogues", "mlir::ModuleOp"> {
  let summary = "Folds bias adds and activations into matmul and conv2d";
  let description = [{
    On tg ops, before lowering: `add(matmul(a, b), bias[N])` becomes
    `tg.fused_matmul`, `add(conv2d(x, w), bias[O] as [O, 1, 1])` becomes
    `tg.fused_conv2d`, and a following relu, tanh or sigmoid becomes their
    `activation`, so oneDNN runs one primitive with post-ops. The producer
    must have no other use. A ReLU gradient mask `compare(x, 0, "gt")` is
    first rewritten to read relu(x) (the same mask), so that x itself is
    not needed by the backward pass and can be fused away. With
    `target=cuda` only what cuBLASLt and cuDNN run is fused: matmul
    epilogues bias and bias+ReLU, convolutions with symmetric padding.
  }];
  let options = [Option<"target", "target", "::tg::Target", "::tg::Target::Cpu",
                        "the target whose library calls the fused ops become",
                        [{::llvm::cl::values(clEnumValN(::tg::Target::Cpu, "cpu", "oneDNN"),
                                              clEnumValN(::tg::Target::Cuda, "cuda",
                                                         "cuBLASLt and cuDNN"))}]>];
}

def BatchMatmulSums : Pass<"tg-batch-matmul-sums", "mlir::ModuleOp"> {
  let summary = "Turns a sum of matmuls sharing their output into one larger matmul";
  let description = [{
    `A1^T B1 + A2^T B2 + ... = [A1; A2; ...]^T [B1; B2; ...]`: a tree of
    single-use adds whose leaves are rank-2 `matmul(Ai, Bi, transpose_lhs)`
    of one result type becomes one matmul of the operands concatenated along
    the contraction dimension. Autodiff of a recurrent layer produces exactly
    this: the weight gradient is a sum over time steps of small matmuls
    (contraction = batch), which one GEMM runs many times faster.
  }];
}

def FuseElementwise : Pass<"tg-fuse-elementwise", "mlir::ModuleOp"> {
  let summary = "Fuses chains of elementwise linalg ops into single loop nests";
  let description = [{
    After tg-lower-to-linalg: a `linalg.generic` whose only use is an
    elementwise consumer is folded into that consumer, so a chain such as
    bias + ReLU, the softmax cross-entropy gradient or a whole optimizer
    update (moments, bias correction, step) becomes one loop nest with no
    intermediate buffers. Producers with several uses are kept (fusing them
    would recompute them). `tgc compile --no-fusion` skips this pass.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect"];
}

def AccumulateInPlace : Pass<"tg-accumulate-in-place", "mlir::ModuleOp"> {
  let summary = "Loop-carried elementwise updates write into their carried value";
  let description = [{
    Before bufferization: in an scf.for, a carried value whose next value is
    an elementwise linalg.generic of it (acc + g: the gradient sums of
    --microbatches, a scan's accumulators) gets that value as the generic's
    destination instead of a new tensor, so one-shot bufferization updates
    the carried buffer in place. Without it each step allocates a new buffer
    for the sum while the old one is still alive (for GPT-2 small's
    gradients, 340 MB more per copy).
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect"];
}

def TieResults : Pass<"tg-tie-results", "mlir::ModuleOp"> {
  let summary = "Ties results with tg.alias to their argument's buffer";
  let description = [{
    Before bufferization: a result with `tg.alias = i` is routed through
    `bufferization.materialize_in_destination` into argument i, which is
    marked writable; every other argument is marked read-only. Empty-tensor
    elimination then lets the last op that produces the result write straight
    into the argument's buffer (an in-place update, no copy).
  }];
  let dependentDialects = ["::mlir::bufferization::BufferizationDialect"];
}

def EntryAbi : Pass<"tg-entry-abi", "mlir::ModuleOp"> {
  let summary = "Fixes the calling convention of bufferized entry points";
  let description = [{
    After bufferization: a result with `tg.alias = i` is written into
    argument i's buffer (dropped from the results when bufferization already
    computed it in place, otherwise copied there at the end), and entry
    points get a C interface. Run before buffer-results-to-out-params.
  }];
  let dependentDialects = ["::mlir::memref::MemRefDialect"];
}

def PlanMemory : Pass<"tg-plan-memory", "mlir::ModuleOp"> {
  let summary = "Lays out each entry point's temporaries in one arena at compile time";
  let description = [{
    On buffers, after deallocation: every statically shaped `memref.alloc`
    at the top of a function gets a live range from its allocation to its
    last use (through views and casts; a use inside a loop counts at the
    loop). Buffers are placed in one arena by greedy first-fit, largest
    first, sharing bytes where their ranges do not overlap; the allocs
    become `memref.view`s of the arena, allocated once per call. The arena
    size and the bytes without reuse are recorded on the function
    (`tg.arena_bytes`, `tg.temp_bytes`), and from there in the manifest
    (`tgc inspect`). Allocations in loops or branches, dynamic shapes, i1
    buffers and buffers that escape are left to the runtime's allocator.
  }];
  let dependentDialects = ["::mlir::memref::MemRefDialect", "::mlir::arith::ArithDialect"];
}

def LowerToLoops : Pass<"tg-lower-to-loops", "mlir::ModuleOp"> {
  let summary = "Lowers linalg ops on buffers to loops, parallel ones where they are large";
  let description = [{
    Each linalg op becomes an `scf.for` nest. An elementwise op over whole
    contiguous buffers (identity maps or scalars) is first flattened into
    one loop over all its points (`memref.collapse_shape`). When the op has
    at least `min-parallel-work` points and its outermost loop is parallel,
    that loop becomes `scf.parallel`, which convert-scf-to-openmp turns into
    an OpenMP work-shared loop; the inner loops stay sequential, so the
    vectorizer sees them whole (an OpenMP loop collapsed over every
    dimension would recompute each point's indices with divisions).
    Smaller ops stay sequential, where threading would cost more than it
    gains.
  }];
  let options = [
    Option<"minParallelWork", "min-parallel-work", "int64_t", /*default=*/"65536",
           "Iteration points from which a loop nest is run in parallel">
  ];
  let dependentDialects = ["::mlir::scf::SCFDialect", "::mlir::memref::MemRefDialect",
                           "::mlir::arith::ArithDialect"];
}

def ShareLoopNests : Pass<"tg-share-loop-nests", "mlir::ModuleOp"> {
  let summary = "Outlines each linalg op and top-level loop on buffers into a function shared by identical ones";
  let description = [{
    On buffers, before tg-lower-to-loops: every scf.for at a function's top
    level (a tg.scan's steps, a tg.attention's key blocks) becomes a call of
    a private function of the values it uses (constants cloned in) that
    returns its results; then every linalg op becomes a call of
    a private function holding it (its operands and any non-constant value
    its body reads are the arguments; constants are cloned in; a rank-0
    input is loaded before the call and passed by value, so the loop keeps
    it in a register). Ops that
    give the same function (same types, maps and body) call one function,
    so a stack of identical layers, and the forward that train_step,
    eval_step and predict all contain, is lowered, optimized and emitted
    once: compile time follows the model's distinct loop nests, not its
    depth. The functions are internal and `noinline` (an inlined copy per
    call would undo the sharing); a call costs nanoseconds against a loop
    nest over a tensor.
  }];
  let dependentDialects = ["::mlir::func::FuncDialect", "::mlir::LLVM::LLVMDialect",
                           "::mlir::memref::MemRefDialect"];
}

def MathApproximation : Pass<"tg-math-approximation", "mlir::ModuleOp"> {
  let summary = "Vectorizable polynomial approximations of math functions";
  let description = [{
    Rewrites tanh, exp, log, erf, sin, cos, ... into arithmetic (MLIR's
    polynomial approximations), so loops containing them vectorize and no
    libm call is left on the hot path.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect", "::mlir::math::MathDialect",
                           "::mlir::vector::VectorDialect"];
}

#endif // TG_CODEGEN_HOST_PASSES_TD
