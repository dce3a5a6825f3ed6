//===- Passes.td - backend-neutral code generation passes -*- tablegen -*-===//
#ifndef TG_CODEGEN_COMMON_PASSES_TD
#define TG_CODEGEN_COMMON_PASSES_TD

include "mlir/Pass/PassBase.td"

def ConvertToLinalg : Pass<"tg-convert-to-linalg", "mlir::ModuleOp"> {
  let summary = "Lowers every tg op to linalg/tensor with the shared patterns";
  let description = [{
    The backend-neutral lowering alone (populateTgToLinalgPatterns), with no
    op kept for a library: what a new backend starts from. Ops that only exist
    as library calls (conv2d, pooling and their gradients, the fused ops) have
    no pattern, so they are errors here; backends keep them
    (tg-lower-to-linalg for the CPU).
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect", "::mlir::tensor::TensorDialect",
                           "::mlir::arith::ArithDialect", "::mlir::math::MathDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::bufferization::BufferizationDialect"];
}

#endif // TG_CODEGEN_COMMON_PASSES_TD
