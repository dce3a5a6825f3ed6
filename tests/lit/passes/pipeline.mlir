// The one pipeline builder (driver/Pipeline.cpp), stopped after each phase.
// RUN: tg-opt %s --tg-pipeline=stop-after=trained | FileCheck %s --check-prefix=TRAINED
// RUN: tg-opt %s --tg-pipeline=stop-after=distributed | FileCheck %s --check-prefix=DIST
// RUN: tg-opt %s --tg-pipeline=stop-after=fused | FileCheck %s --check-prefix=FUSED
// RUN: tg-opt %s "--tg-pipeline=stop-after=fused fusion=false" | FileCheck %s --check-prefix=NOFUSE
// RUN: tg-opt %s --tg-pipeline=stop-after=linalg | FileCheck %s --check-prefix=LINALG
// RUN: tg-opt %s --tg-pipeline=stop-after=bufferized | FileCheck %s --check-prefix=BUF
// RUN: tg-opt %s --tg-pipeline | FileCheck %s --check-prefix=LLVM
// RUN: not tg-opt %s --tg-pipeline=stop-after=asm 2>&1 | FileCheck %s --check-prefix=BAD

// TRAINED: func.func @model
// TRAINED: func.func @train_step
// DIST-NOT: func.func @model
// DIST: func.func @train_step
// DIST: func.func @eval_step
// DIST: func.func @predict
// FUSED: tg.fused_matmul {{.*}}activation = "relu"
// NOFUSE-NOT: tg.fused_matmul
// LINALG: linalg.generic
// LINALG-NOT: memref.
// BUF: call @tgrt_fused_matmul_f32
// LLVM: llvm.func @train_step
// LLVM-NOT: tg.fused_matmul
// BAD: stop-after

module attributes {tg.train = {loss = "loss", optimizer = {kind = "adam", lr = 0.001 : f64}}} {
  func.func @model(%w: tensor<3x4xf32> {tg.name = "w", tg.role = "param", tg.init = {kind = "glorot_uniform"}},
                   %b: tensor<4xf32> {tg.name = "b", tg.role = "param", tg.init = {kind = "zeros"}},
                   %x: tensor<2x3xf32> {tg.name = "x", tg.role = "data"}) -> (tensor<f32> {tg.name = "loss"}) {
    %0 = tg.matmul %x, %w : (tensor<2x3xf32>, tensor<3x4xf32>) -> tensor<2x4xf32>
    %1 = tg.add %0, %b : (tensor<2x4xf32>, tensor<4xf32>) -> tensor<2x4xf32>
    %2 = tg.relu %1 : tensor<2x4xf32>
    %3 = tg.reduce %2 {kind = "mean"} : (tensor<2x4xf32>) -> tensor<f32>
    return %3 : tensor<f32>
  }
}
