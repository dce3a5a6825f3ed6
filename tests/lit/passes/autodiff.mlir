// RUN: tg-opt %s --tg-autodiff --split-input-file --verify-diagnostics | FileCheck %s

// Dense + ReLU + softmax cross-entropy: one gradient per param, none for the
// data, the integer labels or the accuracy branch.

// CHECK-LABEL: func.func @mlp(
// CHECK-LABEL: func.func @mlp_grad(
// CHECK-SAME: -> (tensor<f32> {tg.name = "loss"}, tensor<f32> {tg.name = "accuracy"}, tensor<3x2xf32> {tg.grad_of = "w", tg.name = "w.grad"}, tensor<2xf32> {tg.grad_of = "b", tg.name = "b.grad"})
// CHECK-SAME: attributes {tg.gradient_of = "mlp"}
// CHECK: %[[Y:.*]] = tg.matmul %arg0, %arg2
// CHECK: %[[Z:.*]] = tg.add %[[Y]], %arg3
// CHECK: %[[LOSS:.*]] = tg.softmax_cross_entropy %[[Z]], %arg1
// CHECK: %[[SEED:.*]] = tg.constant dense<1.000000e+00> : tensor<f32>
// CHECK: %[[P:.*]] = tg.softmax %[[Z]] {axis = 1 : i64}
// CHECK: %[[OH:.*]] = tg.one_hot %arg1 : (tensor<4xi32>) -> tensor<4x2xf32>
// CHECK: %[[D:.*]] = tg.sub %[[P]], %[[OH]]
// CHECK: %[[DZ:.*]] = tg.mul %[[D]]
// bias: the broadcast dimension is summed back
// CHECK: %[[DB:.*]] = tg.reduce %[[DZ]] {axes = array<i64: 0>, kind = "sum"} : (tensor<4x2xf32>) -> tensor<2xf32>
// CHECK: %[[DW:.*]] = tg.matmul %arg0, %[[DZ]] {transpose_lhs = true} : (tensor<4x3xf32>, tensor<4x2xf32>) -> tensor<3x2xf32>
// no gradient for the data argument %arg0:
// CHECK-NOT: transpose_rhs = true
// CHECK: return %[[LOSS]], %{{.*}}, %[[DW]], %[[DB]]
func.func @mlp(%x: tensor<4x3xf32> {tg.name = "x", tg.role = "data"},
               %l: tensor<4xi32> {tg.name = "label", tg.role = "label"},
               %w: tensor<3x2xf32> {tg.name = "w", tg.role = "param"},
               %b: tensor<2xf32> {tg.name = "b", tg.role = "param"})
    -> (tensor<f32> {tg.name = "loss"}, tensor<f32> {tg.name = "accuracy"}) {
  %0 = tg.matmul %x, %w : (tensor<4x3xf32>, tensor<3x2xf32>) -> tensor<4x2xf32>
  %1 = tg.add %0, %b : (tensor<4x2xf32>, tensor<2xf32>) -> tensor<4x2xf32>
  %2 = tg.softmax_cross_entropy %1, %l : (tensor<4x2xf32>, tensor<4xi32>) -> tensor<f32>
  %3 = tg.argmax %1 {axis = 1 : i64} : (tensor<4x2xf32>) -> tensor<4xi32>
  %4 = tg.compare %3, %l {predicate = "eq"} : (tensor<4xi32>, tensor<4xi32>) -> tensor<4xi1>
  %5 = tg.cast %4 : (tensor<4xi1>) -> tensor<4xf32>
  %6 = tg.reduce %5 {kind = "mean"} : (tensor<4xf32>) -> tensor<f32>
  return %2, %6 : tensor<f32>, tensor<f32>
}

// -----

// A value used twice: its cotangents are summed once, before it is used.
// CHECK-LABEL: func.func @shared_grad(
// CHECK: %[[S:.*]] = tg.mul %arg0, %arg0
// CHECK: %[[T:.*]] = tg.tanh %[[S]]
// CHECK: %[[A:.*]] = tg.add %[[S]], %[[T]]
// CHECK: %[[L:.*]] = tg.reduce %[[A]]
// CHECK: %[[G:.*]] = tg.broadcast_to
// CHECK: %[[DT:.*]] = tg.mul %[[G]], %{{.*}}
// CHECK: %[[DS:.*]] = tg.add %[[G]], %[[DT]]
// CHECK: %[[DA1:.*]] = tg.mul %[[DS]], %arg0
// CHECK: %[[DA2:.*]] = tg.mul %[[DS]], %arg0
// CHECK: %[[DA:.*]] = tg.add %[[DA1]], %[[DA2]]
// CHECK: return %[[L]], %[[DA]]
func.func @shared(%a: tensor<3xf32> {tg.name = "a", tg.role = "param"}) -> (tensor<f32> {tg.name = "loss"}) {
  %s = tg.mul %a, %a : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  %t = tg.tanh %s : tensor<3xf32>
  %u = tg.add %s, %t : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  %l = tg.reduce %u {kind = "sum"} : (tensor<3xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

// -----

// A branch that does not reach the loss gets no gradient code; a param that
// does not reach it gets zeros and a warning.
// CHECK-LABEL: func.func @unused_grad(
// CHECK: tg.exp %arg1
// CHECK-NOT: tg.exp
// CHECK: %[[Z:.*]] = tg.constant dense<0.000000e+00> : tensor<2xf32>
// CHECK: return %{{.*}}, %{{.*}}, %{{.*}}, %[[Z]]
// expected-warning @+1 {{tg-autodiff: param 'v' does not reach the loss 'loss'; its gradient is zero}}
func.func @unused(%a: tensor<2xf32> {tg.name = "a", tg.role = "param"},
                  %v: tensor<2xf32> {tg.name = "v", tg.role = "param"})
    -> (tensor<f32> {tg.name = "loss"}, tensor<2xf32> {tg.name = "side"}) {
  %l = tg.reduce %a {kind = "sum"} : (tensor<2xf32>) -> tensor<f32>
  %side = tg.exp %v : tensor<2xf32>
  return %l, %side : tensor<f32>, tensor<2xf32>
}

// -----

// State, data and hyper arguments get no gradient; only the param does.
// CHECK-LABEL: func.func @roles_grad(
// CHECK-SAME: -> (tensor<f32> {tg.name = "loss"}, tensor<2xf32> {tg.grad_of = "p", tg.name = "p.grad"})
func.func @roles(%p: tensor<2xf32> {tg.name = "p", tg.role = "param"},
                 %s: tensor<2xf32> {tg.name = "s", tg.role = "state"},
                 %d: tensor<2xf32> {tg.name = "d", tg.role = "data"},
                 %h: tensor<f32> {tg.name = "h", tg.role = "hyper"})
    -> (tensor<f32> {tg.name = "loss"}) {
  %0 = tg.mul %p, %s : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  %1 = tg.mul %0, %d : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  %2 = tg.mul %1, %h : (tensor<2xf32>, tensor<f32>) -> tensor<2xf32>
  %l = tg.reduce %2 {kind = "sum"} : (tensor<2xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

// -----

// expected-error @+1 {{tg-autodiff: the loss 'loss' of @vector_loss must be a scalar float tensor, got 'tensor<2xf32>'}}
func.func @vector_loss(%p: tensor<2xf32> {tg.name = "p", tg.role = "param"}) -> (tensor<2xf32> {tg.name = "loss"}) {
  return %p : tensor<2xf32>
}

// -----

// expected-error @+1 {{tg-autodiff: the loss 'loss' of @int_loss must be a scalar float tensor, got 'tensor<i32>'}}
func.func @int_loss(%p: tensor<2xf32> {tg.name = "p", tg.role = "param"}) -> (tensor<i32> {tg.name = "loss"}) {
  %0 = tg.argmax %p {axis = 0 : i64} : (tensor<2xf32>) -> tensor<i32>
  return %0 : tensor<i32>
}

// -----

// The gradient of max_pool2d_grad (a second derivative) is not defined.
func.func @no_gradient(%x: tensor<1x1x2x2xf32> {tg.name = "x", tg.role = "param"},
                       %g: tensor<1x1x1x1xf32> {tg.name = "g", tg.role = "data"})
    -> (tensor<f32> {tg.name = "loss"}) {
  // expected-error @+1 {{tg-autodiff: 'tg.max_pool2d_grad' has no gradient, but it lies between a param and the loss 'loss'}}
  %0 = tg.max_pool2d_grad %x, %g {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>} : (tensor<1x1x2x2xf32>, tensor<1x1x1x1xf32>) -> tensor<1x1x2x2xf32>
  %l = tg.reduce %0 {kind = "sum"} : (tensor<1x1x2x2xf32>) -> tensor<f32>
  return %l : tensor<f32>
}
