// RUN: tg-opt %s --split-input-file --verify-diagnostics \
// RUN:   --tg-strip-non-entry="keep=model,model_grad" | FileCheck %s

// keep: the model function stays as an entry point of its own, and its
// gradient, which the module lacks, is built by tg-autodiff and kept too.
// CHECK-LABEL: func.func @model(
// CHECK-SAME: tg.entry = "model"
// CHECK-LABEL: func.func @model_grad(
// CHECK-SAME: tg.name = "w.grad"
// CHECK-SAME: tg.entry = "model_grad"
// CHECK-LABEL: func.func @predict(
module {
  func.func @model(%x: tensor<2xf32> {tg.name = "x", tg.role = "data"},
                   %w: tensor<2xf32> {tg.name = "w", tg.role = "param"})
      -> (tensor<f32> {tg.name = "loss"}) {
    %0 = tg.mul %x, %w : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
    %1 = tg.reduce %0 {kind = "sum"} : (tensor<2xf32>) -> tensor<f32>
    return %1 : tensor<f32>
  }
  func.func @predict(%x: tensor<2xf32>) -> tensor<2xf32> attributes {tg.entry = "predict"} {
    %0 = tg.relu %x : tensor<2xf32>
    return %0 : tensor<2xf32>
  }
}

// -----

// A name the module does not have is an error listing what it has.
// expected-error @+1 {{tg-strip-non-entry: cannot keep @model: the module has no such function (it has @predict)}}
module {
  func.func @predict(%x: tensor<2xf32>) -> tensor<2xf32> attributes {tg.entry = "predict"} {
    %0 = tg.relu %x : tensor<2xf32>
    return %0 : tensor<2xf32>
  }
}
