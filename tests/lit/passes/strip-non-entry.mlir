// RUN: tg-opt %s --tg-strip-non-entry --split-input-file | FileCheck %s

// With entry points, the model and gradient functions go; the entries and
// external declarations stay.
// CHECK-NOT: func.func @model
// CHECK-NOT: func.func @model_grad
// CHECK-LABEL: func.func @predict
// CHECK: func.func private @tgrt_helper
module {
  func.func @model(%x: tensor<2xf32>) -> tensor<2xf32> {
    %0 = tg.relu %x : tensor<2xf32>
    return %0 : tensor<2xf32>
  }
  func.func @model_grad(%x: tensor<2xf32>) -> tensor<2xf32> {
    return %x : tensor<2xf32>
  }
  func.func @predict(%x: tensor<2xf32>) -> tensor<2xf32> attributes {tg.entry = "predict"} {
    %0 = tg.relu %x : tensor<2xf32>
    return %0 : tensor<2xf32>
  }
  func.func private @tgrt_helper(%x: tensor<2xf32>)
}

// -----

// A module without entry points is compiled as it is: nothing is removed.
// CHECK-LABEL: func.func @f
// CHECK-LABEL: func.func @g
func.func @f(%x: tensor<2xf32>) -> tensor<2xf32> {
  return %x : tensor<2xf32>
}
func.func @g(%x: tensor<2xf32>) -> tensor<2xf32> {
  return %x : tensor<2xf32>
}
