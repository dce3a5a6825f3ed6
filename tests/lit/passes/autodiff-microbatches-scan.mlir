// RUN: tg-opt %s --tg-autodiff=function=f --verify-diagnostics

// A micro-batch scan is a train step's loop, never differentiated.
func.func @f(%xs: tensor<2x3xf32> {tg.name = "xs", tg.role = "data"},
             %w: tensor<3xf32> {tg.name = "w", tg.role = "param"})
    -> (tensor<f32> {tg.name = "loss"}) {
  %zero = tg.constant dense<0.0> : tensor<f32>
  // expected-error @+1 {{runs a train step's micro-batches (--microbatches) and is not differentiated}}
  %sum = tg.scan (%xs) carry (%zero) {microbatches} : (tensor<2x3xf32>, tensor<f32>) -> tensor<f32> {
  ^bb0(%x: tensor<3xf32>, %acc: tensor<f32>):
    %p = tg.mul %x, %w : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
    %s = tg.reduce %p {kind = "sum"} : (tensor<3xf32>) -> tensor<f32>
    %a = tg.add %acc, %s : (tensor<f32>, tensor<f32>) -> tensor<f32>
    tg.yield %a : tensor<f32>
  }
  return %sum : tensor<f32>
}
