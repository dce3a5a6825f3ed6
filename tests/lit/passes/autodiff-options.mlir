// RUN: tg-opt %s --tg-autodiff="function=g loss=cost" | FileCheck %s
// RUN: not tg-opt %s --tg-autodiff="function=missing" 2>&1 | FileCheck %s --check-prefix=MISSING
// RUN: not tg-opt %s --tg-autodiff="function=g" 2>&1 | FileCheck %s --check-prefix=NOLOSS

// Only @g is differentiated, with respect to its result "cost".
// CHECK-NOT: func.func @f_grad
// CHECK-LABEL: func.func @g_grad(
// CHECK-SAME: tg.name = "p.grad"
// MISSING: error: tg-autodiff: no function named @missing
// NOLOSS: error: tg-autodiff: @g has no result named 'loss' to differentiate

func.func @f(%p: tensor<2xf32> {tg.name = "p", tg.role = "param"}) -> (tensor<f32> {tg.name = "loss"}) {
  %l = tg.reduce %p {kind = "sum"} : (tensor<2xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

func.func @g(%p: tensor<2xf32> {tg.name = "p", tg.role = "param"}) -> (tensor<f32> {tg.name = "cost"}) {
  %l = tg.reduce %p {kind = "max"} : (tensor<2xf32>) -> tensor<f32>
  return %l : tensor<f32>
}
