//===- Passes.td - CPU code generation passes -------------*- tablegen -*-===//
//
// What only the CPU backend runs: oneDNN's blocked layouts and bf16 compute.
// The passes it shares with the CUDA backend's host side are in
// codegen/host/Passes.td.
//
//===----------------------------------------------------------------------===//
#ifndef TG_CODEGEN_CPU_PASSES_TD
#define TG_CODEGEN_CPU_PASSES_TD

include "mlir/Pass/PassBase.td"

def AssignLayouts : Pass<"tg-assign-layouts", "mlir::ModuleOp"> {
  let summary = "Keeps activations in oneDNN's blocked layout between library calls";
  let description = [{
    On tg ops, after fusion: NCHW values are grouped into components joined
    by elementwise ops whose operands have the result's shape (layout-
    agnostic: every buffer is read and written at the same offset). A
    component with more activation ports of f32 conv/pool ops (and their
    gradients) than reorders at its boundary is stored as `nChw<block>c`:
    `tg.relayout` converts at the boundary (after a value defined outside,
    before a use outside: a reduction, a reshape, a return), and each
    library op gets a `tg.blocked` mask of its blocked ports, so the runtime
    builds its oneDNN primitive on those layouts. Arguments and results of
    entry points stay plain, so checkpoints and feeds never see a blocked
    layout.
  }];
  let options = [Option<"block", "block", "int64_t", "16",
                        "channels per block: 16 (AVX-512) or 8 (AVX2)">];
}

def MixedPrecision : Pass<"tg-mixed-precision", "mlir::ModuleOp"> {
  let summary = "Runs f32 matmuls and convolutions in bf16 with f32 accumulation";
  let description = [{
    `tgc compile --precision=bf16-mixed`: every f32 matmul and convolution
    that the CPU backend calls oneDNN for (forward, fused, both gradients)
    gets `tg.compute = "bf16"`: the runtime rounds its inputs to bf16 and
    accumulates and writes in f32. Params, optimizer state, the loss,
    pooling and all generated code stay f32.
  }];
}

#endif // TG_CODEGEN_CPU_PASSES_TD
