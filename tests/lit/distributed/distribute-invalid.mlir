// RUN: tg-opt %s --tg-distribute --split-input-file --verify-diagnostics
// RUN: echo 'module {}' | not tg-opt --tg-distribute="mode=ring" 2>&1 | FileCheck %s --check-prefix=MODE
// RUN: echo 'module {}' | not tg-opt --tg-distribute="mode=average:0" 2>&1 | FileCheck %s --check-prefix=K
// RUN: echo 'module {}' | not tg-opt --tg-distribute="bucket-cap-mb=0" 2>&1 | FileCheck %s --check-prefix=CAP
// RUN: echo 'module {}' | not tg-opt --tg-distribute="compress=fp8" 2>&1 | FileCheck %s --check-prefix=COMPRESS
// RUN: echo 'module {}' | not tg-opt --tg-distribute="mode=average:2 compress=bf16" 2>&1 | FileCheck %s --check-prefix=COMPRESS-AVG

// MODE: tg-distribute: unknown mode 'ring' (expected none, allreduce or average:K)
// K: tg-distribute: mode 'average:0': K must be an integer >= 1
// CAP: tg-distribute: bucket-cap-mb must be in (0, 4096], got 0
// COMPRESS: tg-distribute: unknown compress 'fp8' (expected none or bf16)
// COMPRESS-AVG: tg-distribute: compress=bf16 needs mode allreduce

// expected-error @+1 {{tg-distribute: mode 'allreduce' needs a train_step entry point}}
module {
func.func @predict(%x: tensor<2xf32> {tg.name = "x", tg.role = "data"}) -> (tensor<2xf32> {tg.name = "y"}) attributes {tg.entry = "predict"} {
  return %x : tensor<2xf32>
}
}

// -----

module {
// expected-error @+1 {{tg-distribute: @train_step has no tg.param_grad markers}}
func.func @train_step(%w: tensor<2xf32> {tg.name = "w", tg.role = "param"}) -> (tensor<2xf32> {tg.alias = 0 : i64, tg.name = "w"}) attributes {tg.entry = "train_step"} {
  return %w : tensor<2xf32>
}
}

// -----

module {
func.func @train_step(%w: tensor<2xf64> {tg.name = "w", tg.role = "param"}) -> (tensor<2xf64> {tg.alias = 0 : i64, tg.name = "w"}) attributes {tg.entry = "train_step"} {
  // expected-error @+1 {{tg-distribute: the gradient of param 'w' is 'tensor<2xf64>'; data-parallel training reduces f32 gradients only}}
  %g = tg.param_grad %w {param = "w"} : tensor<2xf64>
  %u = tg.sub %w, %g : (tensor<2xf64>, tensor<2xf64>) -> tensor<2xf64>
  return %u : tensor<2xf64>
}
}

// -----

// The collectives' own checks.
func.func @wait_needs_its_start(%b: tensor<4xf32>, %c: tensor<4xf32>) -> tensor<4xf32> {
  %t = tg.allreduce_start %b {id = 0 : i64} : tensor<4xf32>
  // expected-error @+1 {{'tg.allreduce_wait' op bucket must be the operand of its tg.allreduce_start (id 0)}}
  %r = tg.allreduce_wait %t, %c {id = 0 : i64} : tensor<4xf32>
  return %r : tensor<4xf32>
}

// -----

func.func @ids_match(%b: tensor<4xf32>) -> tensor<4xf32> {
  %t = tg.allreduce_start %b {id = 0 : i64} : tensor<4xf32>
  // expected-error @+1 {{'tg.allreduce_wait' op id 1 differs from its tg.allreduce_start's id 0}}
  %r = tg.allreduce_wait %t, %b {id = 1 : i64} : tensor<4xf32>
  return %r : tensor<4xf32>
}

// -----

func.func @reduction(%b: tensor<4xf32>) {
  // expected-error @+1 {{'tg.allreduce_start' op reduction must be "mean" or "sum", got "max"}}
  %t = tg.allreduce_start %b {id = 0 : i64, reduction = "max"} : tensor<4xf32>
  return
}
