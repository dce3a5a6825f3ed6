// One case per diagnostic of the tg verifiers and shape inference
// (ir/Ops.cpp, ir/ShapeUtils.cpp via conv/pool, ir/Dialect.cpp), plus a few
// ODS-generated constraint errors. Shape-inference failures report the
// reason, followed by MLIR's generic "failed to infer returned types".
//
// RUN: tg-opt %s --split-input-file --verify-diagnostics

// Binary ops need one element type.
func.func @f(%a: tensor<4xf32>, %b: tensor<4xi32>) {
  // expected-error @+2 {{'tg.add' op operand element types differ: f32 vs i32}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tg.add %a, %b : (tensor<4xf32>, tensor<4xi32>) -> tensor<4xf32>
  return
}

// -----

// Shapes must broadcast.
func.func @f(%a: tensor<2x3xf32>, %b: tensor<4xf32>) {
  // expected-error @+2 {{'tg.mul' op operand shapes [2, 3] and [4] do not broadcast}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tg.mul %a, %b : (tensor<2x3xf32>, tensor<4xf32>) -> tensor<2x3xf32>
  return
}

// -----

// A zero-size dimension only broadcasts against 1 or 0.
func.func @f(%a: tensor<0x3xf32>, %b: tensor<2x1xf32>) {
  // expected-error @+2 {{'tg.sub' op operand shapes [0, 3] and [2, 1] do not broadcast}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tg.sub %a, %b : (tensor<0x3xf32>, tensor<2x1xf32>) -> tensor<0x3xf32>
  return
}

// -----

// The result type must be the broadcast type.
func.func @f(%a: tensor<4x8xf32>, %b: tensor<8xf32>) {
  // expected-error @+2 {{'tg.add' op inferred type(s) 'tensor<4x8xf32>' are incompatible with return type(s) of operation 'tensor<8xf32>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tg.add %a, %b : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<8xf32>
  return
}

// -----

// The broadcast rule is shared by every binary op.
func.func @f(%a: tensor<3xf32>, %b: tensor<5xf32>) {
  // expected-error @+2 {{'tg.pow' op operand shapes [3] and [5] do not broadcast}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tg.pow %a, %b : (tensor<3xf32>, tensor<5xf32>) -> tensor<3xf32>
  return
}

// -----

func.func @f(%a: tensor<3xf16>, %b: tensor<3xf32>) {
  // expected-error @+2 {{'tg.div' op operand element types differ: f16 vs f32}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tg.div %a, %b : (tensor<3xf16>, tensor<3xf32>) -> tensor<3xf16>
  return
}

// -----

func.func @f(%a: tensor<2xi64>, %b: tensor<3xi64>) {
  // expected-error @+2 {{'tg.maximum' op operand shapes [2] and [3] do not broadcast}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tg.maximum %a, %b : (tensor<2xi64>, tensor<3xi64>) -> tensor<2xi64>
  return
}

// -----

func.func @f(%a: tensor<2xi32>, %b: tensor<2xi64>) {
  // expected-error @+2 {{'tg.minimum' op operand element types differ: i32 vs i64}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tg.minimum %a, %b : (tensor<2xi32>, tensor<2xi64>) -> tensor<2xi32>
  return
}

// -----

// Unknown comparison predicate.
func.func @f(%a: tensor<4xf32>) {
  // expected-error @+2 {{'tg.compare' op predicate must be one of eq, ne, lt, le, gt, ge, got "gte"}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tg.compare %a, %a {predicate = "gte"} : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xi1>
  return
}

// -----

// compare shares the broadcast rule.
func.func @f(%a: tensor<4xf32>, %b: tensor<4xi32>) {
  // expected-error @+2 {{'tg.compare' op operand element types differ: f32 vs i32}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tg.compare %a, %b {predicate = "eq"} : (tensor<4xf32>, tensor<4xi32>) -> tensor<4xi1>
  return
}

// -----

func.func @f(%a: tensor<4xf32>, %b: tensor<3xf32>) {
  // expected-error @+2 {{'tg.compare' op operand shapes [4] and [3] do not broadcast}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tg.compare %a, %b {predicate = "lt"} : (tensor<4xf32>, tensor<3xf32>) -> tensor<4xi1>
  return
}

// -----

// compare yields the broadcast shape.
func.func @f(%a: tensor<4xf32>, %b: tensor<2x1xf32>) {
  // expected-error @+2 {{'tg.compare' op inferred type(s) 'tensor<2x4xi1>' are incompatible with return type(s) of operation 'tensor<4xi1>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tg.compare %a, %b {predicate = "eq"} : (tensor<4xf32>, tensor<2x1xf32>) -> tensor<4xi1>
  return
}

// -----

// compare yields i1 (checked by ODS first).
func.func @f(%a: tensor<4xf32>) {
  // expected-error @+1 {{'tg.compare' op result #0 must be statically shaped tensor of 1-bit signless integer values, but got 'tensor<4xf32>'}}
  %0 = tg.compare %a, %a {predicate = "eq"} : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return
}

// -----

// select branches share their element type.
func.func @f(%m: tensor<4xi1>, %a: tensor<4xf32>, %b: tensor<4xf16>) {
  // expected-error @+2 {{'tg.select' op on_true and on_false element types differ: f32 vs f16}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tg.select %m, %a, %b : (tensor<4xi1>, tensor<4xf32>, tensor<4xf16>) -> tensor<4xf32>
  return
}

// -----

// select broadcasts all three operands.
func.func @f(%m: tensor<3xi1>, %a: tensor<4xf32>) {
  // expected-error @+2 {{'tg.select' op shapes [3], [4] and [4] do not broadcast}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tg.select %m, %a, %a : (tensor<3xi1>, tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return
}

// -----

func.func @f(%m: tensor<i1>, %a: tensor<2xf32>, %b: tensor<3xf32>) {
  // expected-error @+2 {{'tg.select' op shapes [], [2] and [3] do not broadcast}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tg.select %m, %a, %b : (tensor<i1>, tensor<2xf32>, tensor<3xf32>) -> tensor<2xf32>
  return
}

// -----

// attention: query [..., Tq, D], key [..., Tk, D], value [..., Tk, Dv].
func.func @f(%q: tensor<2x4x8xf32>, %k: tensor<2x5x6xf32>) {
  // expected-error @+2 {{'tg.attention' op expects query [..., Tq, D], key [..., Tk, D] and value [..., Tk, Dv] with the same leading dimensions, got [2, 4, 8], [2, 5, 6] and [2, 5, 6]}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tg.attention %q, %k, %k {scale = 1.0 : f64} : (tensor<2x4x8xf32>, tensor<2x5x6xf32>, tensor<2x5x6xf32>) -> tensor<2x4x6xf32>
  return
}

// -----

func.func @f(%q: tensor<4x8xf32>, %k: tensor<2x4x8xf32>) {
  // expected-error @+2 {{'tg.attention' op query, key and value must have the same rank >= 2, got [4, 8], [2, 4, 8] and [2, 4, 8]}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tg.attention %q, %k, %k {scale = 1.0 : f64} : (tensor<4x8xf32>, tensor<2x4x8xf32>, tensor<2x4x8xf32>) -> tensor<4x8xf32>
  return
}

// -----

func.func @f(%q: tensor<4x8xf32>, %k: tensor<4x8xf64>) {
  // expected-error @+2 {{'tg.attention' op query, key and value element types differ: tensor<4x8xf32>, tensor<4x8xf64> and tensor<4x8xf64>}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tg.attention %q, %k, %k {scale = 1.0 : f64} : (tensor<4x8xf32>, tensor<4x8xf64>, tensor<4x8xf64>) -> tensor<4x8xf32>
  return
}

// -----

func.func @f(%q: tensor<4x8xf32>, %m: tensor<2x4xi1>) {
  // expected-error @+2 {{'tg.attention' op mask [2, 4] must have rank 2 and each dimension 1 or that of the scores [4, 4]}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tg.attention %q, %q, %q, %m {scale = 1.0 : f64} : (tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<2x4xi1>) -> tensor<4x8xf32>
  return
}

// -----

func.func @f(%q: tensor<4x8xf32>) {
  // expected-error @+2 {{'tg.attention' op scale must be a finite f64, got INF}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tg.attention %q, %q, %q {scale = 0x7FF0000000000000 : f64} : (tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  return
}

// -----

func.func @f(%q: tensor<4x8xf32>, %g: tensor<4x7xf32>) {
  // expected-error @+2 {{'tg.attention_grad' op result and grad must be tensor<4x8xf32> (the attention result), got tensor<4x7xf32>}}
  // expected-error @+1 {{failed to infer returned types}}
  %0:3 = tg.attention_grad %q, %q, %q, %q, %g {scale = 1.0 : f64} : (tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x7xf32>) -> (tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>)
  return
}

// -----

// matmul needs matrices.
func.func @f(%a: tensor<4xf32>, %b: tensor<4x5xf32>) {
  // expected-error @+2 {{'tg.matmul' op operands must have rank >= 2, got [4] and [4, 5]}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tg.matmul %a, %b : (tensor<4xf32>, tensor<4x5xf32>) -> tensor<5xf32>
  return
}

// -----

func.func @f(%a: tensor<3x4xf32>, %b: tensor<4x5xf64>) {
  // expected-error @+2 {{'tg.matmul' op operand element types differ: f32 vs f64}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tg.matmul %a, %b : (tensor<3x4xf32>, tensor<4x5xf64>) -> tensor<3x5xf32>
  return
}

// -----

func.func @f(%a: tensor<3x4xf32>, %b: tensor<5x6xf32>) {
  // expected-error @+2 {{'tg.matmul' op contracting dimensions differ: lhs [3, 4] has 4, rhs [5, 6] has 5}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tg.matmul %a, %b : (tensor<3x4xf32>, tensor<5x6xf32>) -> tensor<3x6xf32>
  return
}

// -----

// The message says which operand is transposed.
func.func @f(%a: tensor<3x4xf32>, %b: tensor<6x4xf32>) {
  // expected-error @+2 {{'tg.matmul' op contracting dimensions differ: lhs [3, 4] (transposed) has 3, rhs [6, 4] (transposed) has 4}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tg.matmul %a, %b {transpose_lhs = true, transpose_rhs = true} : (tensor<3x4xf32>, tensor<6x4xf32>) -> tensor<4x6xf32>
  return
}

// -----

func.func @f(%a: tensor<2x3x4xf32>, %b: tensor<3x4x5xf32>) {
  // expected-error @+2 {{'tg.matmul' op batch dimensions [2] and [3] do not broadcast}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tg.matmul %a, %b : (tensor<2x3x4xf32>, tensor<3x4x5xf32>) -> tensor<2x3x5xf32>
  return
}

// -----

func.func @f(%a: tensor<3x4xf32>, %b: tensor<4x5xf32>) {
  // expected-error @+2 {{'tg.matmul' op inferred type(s) 'tensor<3x5xf32>' are incompatible with return type(s) of operation 'tensor<5x3xf32>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tg.matmul %a, %b : (tensor<3x4xf32>, tensor<4x5xf32>) -> tensor<5x3xf32>
  return
}

// -----

// perm must be a permutation: wrong length,
func.func @f(%a: tensor<2x3xf32>) {
  // expected-error @+2 {{'tg.transpose' op perm [0] is not a permutation of the 2 dimensions of [2, 3]}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tg.transpose %a {perm = array<i64: 0>} : (tensor<2x3xf32>) -> tensor<2xf32>
  return
}

// -----

// out of range,
func.func @f(%a: tensor<2x3xf32>) {
  // expected-error @+2 {{'tg.transpose' op perm [0, 2] is not a permutation of the 2 dimensions of [2, 3]}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tg.transpose %a {perm = array<i64: 0, 2>} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return
}

// -----

// repeated.
func.func @f(%a: tensor<2x3xf32>) {
  // expected-error @+2 {{'tg.transpose' op perm [1, 1] is not a permutation of the 2 dimensions of [2, 3]}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tg.transpose %a {perm = array<i64: 1, 1>} : (tensor<2x3xf32>) -> tensor<3x3xf32>
  return
}

// -----

func.func @f(%a: tensor<2x3xf32>) {
  // expected-error @+2 {{'tg.transpose' op perm [-1, 0] is not a permutation}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tg.transpose %a {perm = array<i64: -1, 0>} : (tensor<2x3xf32>) -> tensor<3x2xf32>
  return
}

// -----

// reshape keeps the element type.
func.func @f(%a: tensor<2x3xf32>) {
  // expected-error @+1 {{'tg.reshape' op element type changes from 'f32' to 'i32' (use tg.cast)}}
  %0 = tg.reshape %a : (tensor<2x3xf32>) -> tensor<6xi32>
  return
}

// -----

// reshape keeps the element count.
func.func @f(%a: tensor<2x3xf32>) {
  // expected-error @+1 {{'tg.reshape' op cannot reshape [2, 3] (6 elements) to [7] (7 elements)}}
  %0 = tg.reshape %a : (tensor<2x3xf32>) -> tensor<7xf32>
  return
}

// -----

func.func @f(%a: tensor<0x3xf32>) {
  // expected-error @+1 {{'tg.reshape' op cannot reshape [0, 3] (0 elements) to [] (1 elements)}}
  %0 = tg.reshape %a : (tensor<0x3xf32>) -> tensor<f32>
  return
}

// -----

func.func @f(%a: tensor<3xf32>) {
  // expected-error @+1 {{'tg.broadcast_to' op element type changes from 'f32' to 'f64'}}
  %0 = tg.broadcast_to %a : (tensor<3xf32>) -> tensor<2x3xf64>
  return
}

// -----

func.func @f(%a: tensor<3xf32>) {
  // expected-error @+1 {{'tg.broadcast_to' op cannot broadcast [3] to [2, 4]}}
  %0 = tg.broadcast_to %a : (tensor<3xf32>) -> tensor<2x4xf32>
  return
}

// -----

// broadcast_to never drops dimensions.
func.func @f(%a: tensor<1x3xf32>) {
  // expected-error @+1 {{'tg.broadcast_to' op cannot broadcast [1, 3] to [3]}}
  %0 = tg.broadcast_to %a : (tensor<1x3xf32>) -> tensor<3xf32>
  return
}

// -----

func.func @f(%a: tensor<2x3xf32>) {
  // expected-error @+2 {{'tg.reduce' op kind must be one of sum, mean, max, min, got "prod"}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tg.reduce %a {kind = "prod"} : (tensor<2x3xf32>) -> tensor<f32>
  return
}

// -----

func.func @f(%a: tensor<2x3xf32>) {
  // expected-error @+2 {{'tg.reduce' op axis 2 is out of range for shape [2, 3]}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tg.reduce %a {kind = "sum", axes = array<i64: 2>} : (tensor<2x3xf32>) -> tensor<2xf32>
  return
}

// -----

// Negative axes are not accepted.
func.func @f(%a: tensor<2x3xf32>) {
  // expected-error @+2 {{'tg.reduce' op axis -1 is out of range for shape [2, 3]}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tg.reduce %a {kind = "sum", axes = array<i64: -1>} : (tensor<2x3xf32>) -> tensor<2xf32>
  return
}

// -----

func.func @f(%a: tensor<2x3xf32>) {
  // expected-error @+2 {{'tg.reduce' op axis 1 is listed twice in axes [1, 0, 1]}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tg.reduce %a {kind = "max", axes = array<i64: 1, 0, 1>} : (tensor<2x3xf32>) -> tensor<f32>
  return
}

// -----

// keepdims changes the inferred type.
func.func @f(%a: tensor<2x3xf32>) {
  // expected-error @+2 {{'tg.reduce' op inferred type(s) 'tensor<2x1xf32>' are incompatible with return type(s) of operation 'tensor<2xf32>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tg.reduce %a {kind = "sum", axes = array<i64: 1>, keepdims = true} : (tensor<2x3xf32>) -> tensor<2xf32>
  return
}

// -----

func.func @f(%a: tensor<2x3xf32>) {
  // expected-error @+1 {{'tg.argmax' op axis 2 is out of range for rank 2}}
  %0 = tg.argmax %a {axis = 2} : (tensor<2x3xf32>) -> tensor<2xi32>
  return
}

// -----

func.func @f(%a: tensor<2x3xf32>) {
  // expected-error @+1 {{'tg.argmax' op axis -1 is out of range for rank 2}}
  %0 = tg.argmax %a {axis = -1} : (tensor<2x3xf32>) -> tensor<2xi32>
  return
}

// -----

func.func @f(%a: tensor<2x0xf32>) {
  // expected-error @+1 {{'tg.argmax' op cannot take argmax along the empty axis 1 of [2, 0]}}
  %0 = tg.argmax %a {axis = 1} : (tensor<2x0xf32>) -> tensor<2xi32>
  return
}

// -----

func.func @f(%a: tensor<2x3xf32>) {
  // expected-error @+1 {{'tg.argmax' op result shape [3] should be [2]}}
  %0 = tg.argmax %a {axis = 1} : (tensor<2x3xf32>) -> tensor<3xi32>
  return
}

// -----

func.func @f(%a: tensor<2x3xf32>) {
  // expected-error @+1 {{'tg.softmax' op axis 2 is out of range for rank 2}}
  %0 = tg.softmax %a {axis = 2} : tensor<2x3xf32>
  return
}

// -----

func.func @f(%a: tensor<f32>) {
  // expected-error @+1 {{'tg.log_softmax' op axis 0 is out of range for rank 0}}
  %0 = tg.log_softmax %a {axis = 0} : tensor<f32>
  return
}

// -----

func.func @f(%a: tensor<4xf32>) {
  // expected-error @+1 {{'tg.log_softmax' op axis -1 is out of range for rank 1}}
  %0 = tg.log_softmax %a {axis = -1} : tensor<4xf32>
  return
}

// -----

func.func @f(%x: tensor<1x4x8x8xf32>, %w: tensor<6x4x3x3xf16>) {
  // expected-error @+2 {{'tg.conv2d' op input and filter element types differ: f32 vs f16}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tg.conv2d %x, %w : (tensor<1x4x8x8xf32>, tensor<6x4x3x3xf16>) -> tensor<1x6x6x6xf32>
  return
}

// -----

func.func @f(%x: tensor<4x8x8xf32>, %w: tensor<6x4x3x3xf32>) {
  // expected-error @+2 {{'tg.conv2d' op expects a rank-4 NCHW input and a rank-4 OIHW filter, got input [4, 8, 8] and filter [6, 4, 3, 3]}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tg.conv2d %x, %w : (tensor<4x8x8xf32>, tensor<6x4x3x3xf32>) -> tensor<6x6x6xf32>
  return
}

// -----

func.func @f(%x: tensor<1x4x8x8xf32>, %w: tensor<6x4x3x3xf32>) {
  // expected-error @+2 {{'tg.conv2d' op strides must have 2 entries, got 1}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tg.conv2d %x, %w {strides = array<i64: 1>} : (tensor<1x4x8x8xf32>, tensor<6x4x3x3xf32>) -> tensor<1x6x6x6xf32>
  return
}

// -----

func.func @f(%x: tensor<1x4x8x8xf32>, %w: tensor<6x4x3x3xf32>) {
  // expected-error @+2 {{'tg.conv2d' op strides entries must be >= 1, got [0, 1]}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tg.conv2d %x, %w {strides = array<i64: 0, 1>} : (tensor<1x4x8x8xf32>, tensor<6x4x3x3xf32>) -> tensor<1x6x6x6xf32>
  return
}

// -----

func.func @f(%x: tensor<1x4x8x8xf32>, %w: tensor<6x4x3x3xf32>) {
  // expected-error @+2 {{'tg.conv2d' op padding must have 4 entries, got 2}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tg.conv2d %x, %w {padding = array<i64: 1, 1>} : (tensor<1x4x8x8xf32>, tensor<6x4x3x3xf32>) -> tensor<1x6x6x6xf32>
  return
}

// -----

func.func @f(%x: tensor<1x4x8x8xf32>, %w: tensor<6x4x3x3xf32>) {
  // expected-error @+2 {{'tg.conv2d' op padding entries must be >= 0, got [0, 0, -1, 0]}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tg.conv2d %x, %w {padding = array<i64: 0, 0, -1, 0>} : (tensor<1x4x8x8xf32>, tensor<6x4x3x3xf32>) -> tensor<1x6x6x6xf32>
  return
}

// -----

func.func @f(%x: tensor<1x4x8x8xf32>, %w: tensor<6x4x3x3xf32>) {
  // expected-error @+2 {{'tg.conv2d' op dilations must have 2 entries, got 3}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tg.conv2d %x, %w {dilations = array<i64: 1, 1, 1>} : (tensor<1x4x8x8xf32>, tensor<6x4x3x3xf32>) -> tensor<1x6x6x6xf32>
  return
}

// -----

func.func @f(%x: tensor<1x4x8x8xf32>, %w: tensor<6x4x3x3xf32>) {
  // expected-error @+2 {{'tg.conv2d' op dilations entries must be >= 1, got [1, 0]}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tg.conv2d %x, %w {dilations = array<i64: 1, 0>} : (tensor<1x4x8x8xf32>, tensor<6x4x3x3xf32>) -> tensor<1x6x6x6xf32>
  return
}

// -----

func.func @f(%x: tensor<1x4x8x8xf32>, %w: tensor<6x4x3x3xf32>) {
  // expected-error @+2 {{'tg.conv2d' op groups = 0 must be >= 1 and divide input channels (4) and output channels (6)}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tg.conv2d %x, %w {groups = 0} : (tensor<1x4x8x8xf32>, tensor<6x4x3x3xf32>) -> tensor<1x6x6x6xf32>
  return
}

// -----

func.func @f(%x: tensor<1x4x8x8xf32>, %w: tensor<6x1x3x3xf32>) {
  // expected-error @+2 {{'tg.conv2d' op groups = 4 must be >= 1 and divide input channels (4) and output channels (6)}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tg.conv2d %x, %w {groups = 4} : (tensor<1x4x8x8xf32>, tensor<6x1x3x3xf32>) -> tensor<1x6x6x6xf32>
  return
}

// -----

func.func @f(%x: tensor<1x4x8x8xf32>, %w: tensor<6x3x3x3xf32>) {
  // expected-error @+2 {{'tg.conv2d' op filter [6, 3, 3, 3] expects 3 input channels (C/groups = 3, groups = 1) but input [1, 4, 8, 8] has 4}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tg.conv2d %x, %w : (tensor<1x4x8x8xf32>, tensor<6x3x3x3xf32>) -> tensor<1x6x6x6xf32>
  return
}

// -----

func.func @f(%x: tensor<1x4x8x8xf32>, %w: tensor<6x4x3x3xf32>) {
  // expected-error @+2 {{'tg.conv2d' op filter [6, 4, 3, 3] expects 8 input channels (C/groups = 4, groups = 2) but input [1, 4, 8, 8] has 4}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tg.conv2d %x, %w {groups = 2} : (tensor<1x4x8x8xf32>, tensor<6x4x3x3xf32>) -> tensor<1x6x6x6xf32>
  return
}

// -----

func.func @f(%x: tensor<1x4x8x8xf32>, %w: tensor<6x4x3x3xf32>) {
  // expected-error @+2 {{'tg.conv2d' op filter window [3, 3] (dilations [4, 1]) does not fit the padded input [1, 4, 8, 8]}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tg.conv2d %x, %w {dilations = array<i64: 4, 1>} : (tensor<1x4x8x8xf32>, tensor<6x4x3x3xf32>) -> tensor<1x6x6x6xf32>
  return
}

// -----

func.func @f(%x: tensor<1x4x8x8xf32>, %w: tensor<6x4x3x3xf32>) {
  // expected-error @+2 {{'tg.conv2d' op inferred type(s) 'tensor<1x6x3x3xf32>' are incompatible with return type(s) of operation 'tensor<1x6x6x6xf32>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tg.conv2d %x, %w {strides = array<i64: 2, 2>} : (tensor<1x4x8x8xf32>, tensor<6x4x3x3xf32>) -> tensor<1x6x6x6xf32>
  return
}

// -----

func.func @f(%dy: tensor<1x6x6x6xf32>, %w: tensor<6x4x3x3xf16>) {
  // expected-error @+1 {{'tg.conv2d_backprop_input' op operand and result element types must match}}
  %0 = tg.conv2d_backprop_input %dy, %w : (tensor<1x6x6x6xf32>, tensor<6x4x3x3xf16>) -> tensor<1x4x8x8xf32>
  return
}

// -----

func.func @f(%dy: tensor<1x6x6x6xf32>, %w: tensor<6x4x3x3xf32>) {
  // expected-error @+1 {{'tg.conv2d_backprop_input' op filter [6, 4, 3, 3] expects 4 input channels (C/groups = 4, groups = 1) but input [1, 3, 8, 8] has 3}}
  %0 = tg.conv2d_backprop_input %dy, %w : (tensor<1x6x6x6xf32>, tensor<6x4x3x3xf32>) -> tensor<1x3x8x8xf32>
  return
}

// -----

func.func @f(%dy: tensor<1x6x6x6xf32>, %w: tensor<6x4x3x3xf32>) {
  // expected-error @+1 {{'tg.conv2d_backprop_input' op grad_output shape [1, 6, 6, 6] does not match the conv2d output [1, 6, 8, 8] of input [1, 4, 8, 8] and filter [6, 4, 3, 3]}}
  %0 = tg.conv2d_backprop_input %dy, %w {padding = array<i64: 1, 1, 1, 1>} : (tensor<1x6x6x6xf32>, tensor<6x4x3x3xf32>) -> tensor<1x4x8x8xf32>
  return
}

// -----

func.func @f(%x: tensor<1x4x8x8xf32>, %dy: tensor<1x6x6x6xf32>) {
  // expected-error @+1 {{'tg.conv2d_backprop_filter' op operand and result element types must match}}
  %0 = tg.conv2d_backprop_filter %x, %dy : (tensor<1x4x8x8xf32>, tensor<1x6x6x6xf32>) -> tensor<6x4x3x3xf64>
  return
}

// -----

func.func @f(%x: tensor<1x4x8x8xf32>, %dy: tensor<1x6x6x6xf32>) {
  // expected-error @+1 {{'tg.conv2d_backprop_filter' op strides entries must be >= 1, got [1, -2]}}
  %0 = tg.conv2d_backprop_filter %x, %dy {strides = array<i64: 1, -2>} : (tensor<1x4x8x8xf32>, tensor<1x6x6x6xf32>) -> tensor<6x4x3x3xf32>
  return
}

// -----

func.func @f(%x: tensor<1x4x8x8xf32>, %dy: tensor<1x6x6x6xf32>) {
  // expected-error @+1 {{'tg.conv2d_backprop_filter' op grad_output shape [1, 6, 6, 6] does not match the conv2d output [1, 6, 7, 7] of input [1, 4, 8, 8] and filter [6, 4, 2, 2]}}
  %0 = tg.conv2d_backprop_filter %x, %dy : (tensor<1x4x8x8xf32>, tensor<1x6x6x6xf32>) -> tensor<6x4x2x2xf32>
  return
}

// -----

func.func @f(%x: tensor<1x4x8x8xf32>, %dy: tensor<1x6x6x6xf32>) {
  // expected-error @+1 {{'tg.conv2d_backprop_filter_bias' op bias_grad must be 'f32' [6] (grad_output's channels), got [4]}}
  %0:2 = tg.conv2d_backprop_filter_bias %x, %dy : (tensor<1x4x8x8xf32>, tensor<1x6x6x6xf32>) -> (tensor<6x4x3x3xf32>, tensor<4xf32>)
  return
}

// -----

func.func @f(%x: tensor<1x4x8x8xf32>, %dy: tensor<1x6x6x6xf32>) {
  // expected-error @+1 {{'tg.conv2d_backprop_filter_bias' op grad_output shape [1, 6, 6, 6] does not match the conv2d output [1, 6, 7, 7]}}
  %0:2 = tg.conv2d_backprop_filter_bias %x, %dy : (tensor<1x4x8x8xf32>, tensor<1x6x6x6xf32>) -> (tensor<6x4x2x2xf32>, tensor<6xf32>)
  return
}

// -----

func.func @f(%x: tensor<2x8x8xf32>) {
  // expected-error @+2 {{'tg.max_pool2d' op expects a rank-4 NCHW input, got [2, 8, 8]}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tg.max_pool2d %x {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>} : (tensor<2x8x8xf32>) -> tensor<2x4x4xf32>
  return
}

// -----

func.func @f(%x: tensor<1x2x8x8xf32>) {
  // expected-error @+2 {{'tg.max_pool2d' op kernel must have 2 entries, got 1}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tg.max_pool2d %x {kernel = array<i64: 2>, strides = array<i64: 2, 2>} : (tensor<1x2x8x8xf32>) -> tensor<1x2x4x4xf32>
  return
}

// -----

func.func @f(%x: tensor<1x2x8x8xf32>) {
  // expected-error @+2 {{'tg.max_pool2d' op kernel entries must be >= 1, got [0, 2]}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tg.max_pool2d %x {kernel = array<i64: 0, 2>, strides = array<i64: 2, 2>} : (tensor<1x2x8x8xf32>) -> tensor<1x2x4x4xf32>
  return
}

// -----

func.func @f(%x: tensor<1x2x8x8xf32>) {
  // expected-error @+2 {{'tg.avg_pool2d' op strides must have 2 entries, got 3}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tg.avg_pool2d %x {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2, 2>} : (tensor<1x2x8x8xf32>) -> tensor<1x2x4x4xf32>
  return
}

// -----

func.func @f(%x: tensor<1x2x8x8xf32>) {
  // expected-error @+2 {{'tg.avg_pool2d' op strides entries must be >= 1, got [2, 0]}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tg.avg_pool2d %x {kernel = array<i64: 2, 2>, strides = array<i64: 2, 0>} : (tensor<1x2x8x8xf32>) -> tensor<1x2x4x4xf32>
  return
}

// -----

func.func @f(%x: tensor<1x2x8x8xf32>) {
  // expected-error @+2 {{'tg.max_pool2d' op padding must have 4 entries, got 2}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tg.max_pool2d %x {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, padding = array<i64: 0, 0>} : (tensor<1x2x8x8xf32>) -> tensor<1x2x4x4xf32>
  return
}

// -----

func.func @f(%x: tensor<1x2x8x8xf32>) {
  // expected-error @+2 {{'tg.avg_pool2d' op padding entries must be >= 0, got [0, -1, 0, 0]}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tg.avg_pool2d %x {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, padding = array<i64: 0, -1, 0, 0>} : (tensor<1x2x8x8xf32>) -> tensor<1x2x4x4xf32>
  return
}

// -----

func.func @f(%x: tensor<1x2x8x8xf32>) {
  // expected-error @+2 {{'tg.max_pool2d' op padding [0, 0, 0, 2] must be smaller than the kernel [2, 2]}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tg.max_pool2d %x {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 2>} : (tensor<1x2x8x8xf32>) -> tensor<1x2x4x4xf32>
  return
}

// -----

func.func @f(%x: tensor<1x2x8x8xf32>) {
  // expected-error @+2 {{'tg.avg_pool2d' op kernel [9, 2] does not fit the padded input [1, 2, 8, 8]}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tg.avg_pool2d %x {kernel = array<i64: 9, 2>, strides = array<i64: 1, 1>} : (tensor<1x2x8x8xf32>) -> tensor<1x2x4x4xf32>
  return
}

// -----

func.func @f(%x: tensor<1x2x8x8xf32>) {
  // expected-error @+2 {{'tg.max_pool2d' op inferred type(s) 'tensor<1x2x4x4xf32>' are incompatible with return type(s) of operation 'tensor<1x2x8x8xf32>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tg.max_pool2d %x {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>} : (tensor<1x2x8x8xf32>) -> tensor<1x2x8x8xf32>
  return
}

// -----

func.func @f(%x: tensor<1x2x8x8xf32>, %dy: tensor<1x2x4x4xf32>) {
  // expected-error @+1 {{'tg.max_pool2d_grad' op result type 'tensor<1x2x8x8xf16>' must equal the input type 'tensor<1x2x8x8xf32>'}}
  %0 = tg.max_pool2d_grad %x, %dy {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>} : (tensor<1x2x8x8xf32>, tensor<1x2x4x4xf32>) -> tensor<1x2x8x8xf16>
  return
}

// -----

func.func @f(%x: tensor<1x2x8x8xf32>, %dy: tensor<1x2x4x4xf64>) {
  // expected-error @+1 {{'tg.max_pool2d_grad' op operand and result element types must match}}
  %0 = tg.max_pool2d_grad %x, %dy {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>} : (tensor<1x2x8x8xf32>, tensor<1x2x4x4xf64>) -> tensor<1x2x8x8xf32>
  return
}

// -----

func.func @f(%x: tensor<1x2x8x8xf32>, %dy: tensor<1x2x4x4xf32>) {
  // expected-error @+1 {{'tg.max_pool2d_grad' op kernel entries must be >= 1, got [2, 0]}}
  %0 = tg.max_pool2d_grad %x, %dy {kernel = array<i64: 2, 0>, strides = array<i64: 2, 2>} : (tensor<1x2x8x8xf32>, tensor<1x2x4x4xf32>) -> tensor<1x2x8x8xf32>
  return
}

// -----

func.func @f(%x: tensor<1x2x8x8xf32>, %dy: tensor<1x2x4x4xf32>) {
  // expected-error @+1 {{'tg.max_pool2d_grad' op grad_output shape [1, 2, 4, 4] does not match the pooled shape [1, 2, 7, 7] of input [1, 2, 8, 8]}}
  %0 = tg.max_pool2d_grad %x, %dy {kernel = array<i64: 2, 2>, strides = array<i64: 1, 1>} : (tensor<1x2x8x8xf32>, tensor<1x2x4x4xf32>) -> tensor<1x2x8x8xf32>
  return
}

// -----

func.func @f(%dy: tensor<1x2x4x4xf32>) {
  // expected-error @+1 {{'tg.avg_pool2d_grad' op operand and result element types must match}}
  %0 = tg.avg_pool2d_grad %dy {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>} : (tensor<1x2x4x4xf32>) -> tensor<1x2x8x8xbf16>
  return
}

// -----

func.func @f(%dy: tensor<1x2x4x4xf32>) {
  // expected-error @+1 {{'tg.avg_pool2d_grad' op expects a rank-4 NCHW input, got [2, 8, 8]}}
  %0 = tg.avg_pool2d_grad %dy {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>} : (tensor<1x2x4x4xf32>) -> tensor<2x8x8xf32>
  return
}

// -----

func.func @f(%dy: tensor<1x2x4x4xf32>) {
  // expected-error @+1 {{'tg.avg_pool2d_grad' op grad_output shape [1, 2, 4, 4] does not match the pooled shape [1, 2, 5, 5] of input [1, 2, 10, 10]}}
  %0 = tg.avg_pool2d_grad %dy {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>} : (tensor<1x2x4x4xf32>) -> tensor<1x2x10x10xf32>
  return
}

// -----

func.func @f() {
  // expected-error @+2 {{'tg.concat' op needs at least one input}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tg.concat {axis = 0} : () -> tensor<2xf32>
  return
}

// -----

func.func @f(%a: tensor<2x3xf32>) {
  // expected-error @+2 {{'tg.concat' op axis 2 is out of range for rank 2}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tg.concat %a, %a {axis = 2} : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x6xf32>
  return
}

// -----

func.func @f(%a: tensor<f32>) {
  // expected-error @+2 {{'tg.concat' op axis 0 is out of range for rank 0}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tg.concat %a, %a {axis = 0} : (tensor<f32>, tensor<f32>) -> tensor<2xf32>
  return
}

// -----

func.func @f(%a: tensor<2x3xf32>, %b: tensor<2x3xi32>) {
  // expected-error @+2 {{'tg.concat' op input #2 has element type i32, input #0 has f32}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tg.concat %a, %a, %b {axis = 0} : (tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xi32>) -> tensor<6x3xf32>
  return
}

// -----

func.func @f(%a: tensor<2x3xf32>, %b: tensor<3x3xf32>) {
  // expected-error @+2 {{'tg.concat' op input #1 of shape [3, 3] does not match input #0 of shape [2, 3] outside axis 1}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tg.concat %a, %b {axis = 1} : (tensor<2x3xf32>, tensor<3x3xf32>) -> tensor<2x6xf32>
  return
}

// -----

func.func @f(%a: tensor<2x3xf32>, %b: tensor<2x3x1xf32>) {
  // expected-error @+2 {{'tg.concat' op input #1 of shape [2, 3, 1] does not match input #0 of shape [2, 3] outside axis 0}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tg.concat %a, %b {axis = 0} : (tensor<2x3xf32>, tensor<2x3x1xf32>) -> tensor<4x3xf32>
  return
}

// -----

func.func @f(%a: tensor<4x8xf32>) {
  // expected-error @+2 {{'tg.slice' op start, limit and strides need 2 entries for shape [4, 8]}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tg.slice %a {start = array<i64: 0>, limit = array<i64: 4, 8>, strides = array<i64: 1, 1>} : (tensor<4x8xf32>) -> tensor<4x8xf32>
  return
}

// -----

func.func @f(%a: tensor<4x8xf32>) {
  // expected-error @+2 {{'tg.slice' op dimension 1: [0:9:1] is not a valid slice of size 8}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tg.slice %a {start = array<i64: 0, 0>, limit = array<i64: 4, 9>, strides = array<i64: 1, 1>} : (tensor<4x8xf32>) -> tensor<4x9xf32>
  return
}

// -----

func.func @f(%a: tensor<4x8xf32>) {
  // expected-error @+2 {{'tg.slice' op dimension 0: [3:2:1] is not a valid slice of size 4}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tg.slice %a {start = array<i64: 3, 0>, limit = array<i64: 2, 8>, strides = array<i64: 1, 1>} : (tensor<4x8xf32>) -> tensor<0x8xf32>
  return
}

// -----

func.func @f(%a: tensor<4x8xf32>) {
  // expected-error @+2 {{'tg.slice' op dimension 1: [0:8:0] is not a valid slice of size 8}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tg.slice %a {start = array<i64: 0, 0>, limit = array<i64: 4, 8>, strides = array<i64: 1, 0>} : (tensor<4x8xf32>) -> tensor<4x8xf32>
  return
}

// -----

func.func @f(%a: tensor<4x8xf32>) {
  // expected-error @+2 {{'tg.slice' op dimension 0: [-1:2:1] is not a valid slice of size 4}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tg.slice %a {start = array<i64: -1, 0>, limit = array<i64: 2, 8>, strides = array<i64: 1, 1>} : (tensor<4x8xf32>) -> tensor<3x8xf32>
  return
}

// -----

func.func @f(%a: tensor<4x8xf32>) {
  // expected-error @+2 {{'tg.slice' op inferred type(s) 'tensor<2x8xf32>' are incompatible with return type(s) of operation 'tensor<3x8xf32>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tg.slice %a {start = array<i64: 0, 0>, limit = array<i64: 4, 8>, strides = array<i64: 2, 1>} : (tensor<4x8xf32>) -> tensor<3x8xf32>
  return
}

// -----

func.func @f(%a: tensor<2x3xf32>) {
  // expected-error @+2 {{'tg.pad' op low and high need 2 entries for shape [2, 3]}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tg.pad %a {low = array<i64: 1, 1>, high = array<i64: 1>} : (tensor<2x3xf32>) -> tensor<4x5xf32>
  return
}

// -----

func.func @f(%a: tensor<2x3xf32>) {
  // expected-error @+2 {{'tg.pad' op padding must be non-negative, got low [0, -1] high [0, 2]}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tg.pad %a {low = array<i64: 0, -1>, high = array<i64: 0, 2>} : (tensor<2x3xf32>) -> tensor<2x4xf32>
  return
}

// -----

func.func @f(%t: tensor<10x4xf32>, %i: tensor<3xi32>) {
  // expected-error @+2 {{'tg.gather' op axis 2 is out of range for rank 2}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tg.gather %t, %i {axis = 2} : (tensor<10x4xf32>, tensor<3xi32>) -> tensor<10x4x3xf32>
  return
}

// -----

func.func @f(%t: tensor<10x4xf32>, %i: tensor<3xi32>) {
  // expected-error @+2 {{'tg.gather' op inferred type(s) 'tensor<3x4xf32>' are incompatible with return type(s) of operation 'tensor<4x3xf32>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tg.gather %t, %i : (tensor<10x4xf32>, tensor<3xi32>) -> tensor<4x3xf32>
  return
}

// -----

func.func @f(%t: tensor<10x4xf32>, %i: tensor<3xi32>, %u: tensor<3x4xf32>) {
  // expected-error @+2 {{'tg.scatter_add' op axis -1 is out of range for rank 2}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tg.scatter_add %t, %i, %u {axis = -1} : (tensor<10x4xf32>, tensor<3xi32>, tensor<3x4xf32>) -> tensor<10x4xf32>
  return
}

// -----

func.func @f(%t: tensor<10x4xf32>, %i: tensor<3xi32>, %u: tensor<3x4xf16>) {
  // expected-error @+2 {{'tg.scatter_add' op updates element type f16 differs from base f32}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tg.scatter_add %t, %i, %u : (tensor<10x4xf32>, tensor<3xi32>, tensor<3x4xf16>) -> tensor<10x4xf32>
  return
}

// -----

func.func @f(%t: tensor<10x4xf32>, %i: tensor<3xi32>, %u: tensor<4x3xf32>) {
  // expected-error @+2 {{'tg.scatter_add' op updates shape [4, 3] should be [3, 4] for base [10, 4] and indices [3]}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tg.scatter_add %t, %i, %u : (tensor<10x4xf32>, tensor<3xi32>, tensor<4x3xf32>) -> tensor<10x4xf32>
  return
}

// -----

func.func @f() {
  // expected-error @+1 {{'tg.iota' op dimension 2 is out of range for a result of rank 2}}
  %0 = tg.iota {dimension = 2} : tensor<4x4xi32>
  return
}

// -----

func.func @f() {
  // expected-error @+1 {{'tg.iota' op dimension -1 is out of range for a result of rank 0}}
  %0 = tg.iota {dimension = -1} : tensor<i32>
  return
}

// -----

func.func @f(%i: tensor<32xi32>) {
  // expected-error @+1 {{'tg.one_hot' op result shape [32] must be the indices shape [32] plus a depth dimension}}
  %0 = tg.one_hot %i : (tensor<32xi32>) -> tensor<32xf32>
  return
}

// -----

func.func @f(%i: tensor<32xi32>) {
  // expected-error @+1 {{'tg.one_hot' op result shape [10, 32] must be the indices shape [32] plus a depth dimension}}
  %0 = tg.one_hot %i : (tensor<32xi32>) -> tensor<10x32xf32>
  return
}

// -----

func.func @f(%a: tensor<2x3xf32>) {
  // expected-error @+1 {{'tg.cast' op changes the shape from [2, 3] to [6] (cast keeps the shape)}}
  %0 = tg.cast %a : (tensor<2x3xf32>) -> tensor<6xi32>
  return
}

// -----

func.func @f(%s: tensor<i64>) {
  // expected-error @+1 {{'tg.random_uniform' op needs low < high, got [1.000000e+00, 1.000000e+00)}}
  %0 = tg.random_uniform %s {low = 1.0 : f64, high = 1.0 : f64} : (tensor<i64>) -> tensor<4xf32>
  return
}

// -----

func.func @f(%s: tensor<i64>) {
  // expected-error @+1 {{'tg.random_uniform' op needs low < high, got [2.000000e+00, 1.000000e+00)}}
  %0 = tg.random_uniform %s {low = 2.0 : f64} : (tensor<i64>) -> tensor<4xf32>
  return
}

// -----

func.func @f(%s: tensor<i64>) {
  // expected-error @+1 {{'tg.random_normal' op needs stddev >= 0, got -5.000000e-01}}
  %0 = tg.random_normal %s {stddev = -0.5 : f64} : (tensor<i64>) -> tensor<4xf32>
  return
}

// -----

func.func @f(%l: tensor<4x10xf32>, %y: tensor<4xi32>) {
  // expected-error @+2 {{'tg.softmax_cross_entropy' op reduction must be mean, sum or none, got "avg"}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tg.softmax_cross_entropy %l, %y {reduction = "avg"} : (tensor<4x10xf32>, tensor<4xi32>) -> tensor<f32>
  return
}

// -----

func.func @f(%l: tensor<4x10xf32>, %y: tensor<5xi32>) {
  // expected-error @+2 {{'tg.softmax_cross_entropy' op labels shape [5] must be the logits shape [4, 10] without its class dimension}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tg.softmax_cross_entropy %l, %y : (tensor<4x10xf32>, tensor<5xi32>) -> tensor<f32>
  return
}

// -----

func.func @f(%l: tensor<f32>, %y: tensor<i32>) {
  // expected-error @+2 {{'tg.softmax_cross_entropy' op labels shape [] must be the logits shape [] without its class dimension}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tg.softmax_cross_entropy %l, %y : (tensor<f32>, tensor<i32>) -> tensor<f32>
  return
}

// -----

func.func @f(%l: tensor<4x0xf32>, %y: tensor<4xi32>) {
  // expected-error @+2 {{'tg.softmax_cross_entropy' op needs at least one class, got logits [4, 0]}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tg.softmax_cross_entropy %l, %y : (tensor<4x0xf32>, tensor<4xi32>) -> tensor<f32>
  return
}

// -----

func.func @f(%l: tensor<4x10xf32>, %y: tensor<4xi32>) {
  // expected-error @+2 {{'tg.softmax_cross_entropy' op inferred type(s) 'tensor<4xf32>' are incompatible with return type(s) of operation 'tensor<f32>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tg.softmax_cross_entropy %l, %y {reduction = "none"} : (tensor<4x10xf32>, tensor<4xi32>) -> tensor<f32>
  return
}

// -----

func.func @f(%p: tensor<4xf32>) {
  // expected-error @+2 {{'tg.mean_squared_error' op reduction must be mean, sum or none, got "max"}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tg.mean_squared_error %p, %p {reduction = "max"} : (tensor<4xf32>, tensor<4xf32>) -> tensor<f32>
  return
}

// -----

func.func @f(%p: tensor<4x1xf32>, %t: tensor<4xf32>) {
  // expected-error @+2 {{'tg.mean_squared_error' op predictions tensor<4x1xf32> and targets tensor<4xf32> must have the same type}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tg.mean_squared_error %p, %t : (tensor<4x1xf32>, tensor<4xf32>) -> tensor<f32>
  return
}

// -----

func.func @f(%p: tensor<4xf32>, %t: tensor<4xf64>) {
  // expected-error @+2 {{'tg.mean_squared_error' op predictions tensor<4xf32> and targets tensor<4xf64> must have the same type}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tg.mean_squared_error %p, %t : (tensor<4xf32>, tensor<4xf64>) -> tensor<f32>
  return
}

// -----

// expected-error @+1 {{argument #0: tg.name must be a non-empty string}}
func.func @f(%arg0: tensor<4xf32> {tg.name = ""}) {
  return
}

// -----

// expected-error @+1 {{argument #0: tg.name must be a non-empty string}}
func.func @f(%arg0: tensor<4xf32> {tg.name = 3 : i64}) {
  return
}

// -----

// expected-error @+1 {{argument #0: tg.role must be one of "param", "state", "data", "label", "hyper", got "weight"}}
func.func @f(%arg0: tensor<4xf32> {tg.role = "weight"}) {
  return
}

// -----

// expected-error @+1 {{argument #0: tg.role must be one of "param", "state", "data", "label", "hyper", got 1 : i64}}
func.func @f(%arg0: tensor<4xf32> {tg.role = 1 : i64}) {
  return
}

// -----

// expected-error @+1 {{argument #0: a param must be a float tensor, got 'tensor<4xi32>'}}
func.func @f(%arg0: tensor<4xi32> {tg.role = "param"}) {
  return
}

// -----

// expected-error @+1 {{argument #0: a param must be a float tensor, got 'f32'}}
func.func @f(%arg0: f32 {tg.role = "param"}) {
  return
}

// -----

// expected-error @+1 {{argument #0: tg.init must be a dictionary like {kind = "zeros"}}}
func.func @f(%arg0: tensor<4xf32> {tg.role = "param", tg.init = "zeros"}) {
  return
}

// -----

// expected-error @+1 {{argument #0: tg.init kind must be one of zeros, ones, constant, uniform, normal, glorot_uniform, glorot_normal, he_uniform, he_normal}}
func.func @f(%arg0: tensor<4xf32> {tg.role = "param", tg.init = {kind = "xavier"}}) {
  return
}

// -----

// expected-error @+1 {{argument #0: tg.init kind must be one of}}
func.func @f(%arg0: tensor<4xf32> {tg.role = "param", tg.init = {value = 1.0}}) {
  return
}

// -----

// expected-error @+1 {{argument #0: tg.init field 'value' must be a number, got "one"}}
func.func @f(%arg0: tensor<4xf32> {tg.role = "param", tg.init = {kind = "constant", value = "one"}}) {
  return
}

// -----

// expected-error @+1 {{argument #0: tg.init field 'gain' must be a number, got [2.000000e+00]}}
func.func @f(%arg0: tensor<4xf32> {tg.role = "param", tg.init = {kind = "he_normal", gain = [2.0]}}) {
  return
}

// -----

// expected-error @+1 {{argument #0: tg.init is only allowed on a "param" or "state" argument}}
func.func @f(%arg0: tensor<4xf32> {tg.role = "data", tg.init = {kind = "zeros"}}) {
  return
}

// -----

// expected-error @+1 {{argument #0: tg.init is only allowed on a "param" or "state" argument}}
func.func @f(%arg0: tensor<4xf32> {tg.init = {kind = "zeros"}}) {
  return
}

// -----

// expected-error @+1 {{argument #0: tg.init uniform range has low > high}}
func.func @f(%arg0: tensor<4xf32> {tg.role = "param", tg.init = {kind = "uniform", low = 1.0, high = -1.0}}) {
  return
}

// -----

// high defaults to 1.
// expected-error @+1 {{argument #0: tg.init uniform range has low > high}}
func.func @f(%arg0: tensor<4xf32> {tg.role = "param", tg.init = {kind = "uniform", low = 2 : i64}}) {
  return
}

// -----

// expected-error @+1 {{argument #0: tg.init stddev must be >= 0}}
func.func @f(%arg0: tensor<4xf32> {tg.role = "param", tg.init = {kind = "normal", stddev = -0.1}}) {
  return
}

// -----

// expected-error @+1 {{argument #0: tg.init fan_in and fan_out must be > 0}}
func.func @f(%arg0: tensor<4xf32> {tg.role = "param", tg.init = {kind = "glorot_uniform", fan_in = 0 : i64}}) {
  return
}

// -----

// expected-error @+1 {{argument #0: tg.init fan_in and fan_out must be > 0}}
func.func @f(%arg0: tensor<4xf32> {tg.role = "param", tg.init = {kind = "he_uniform", fan_out = -3.0}}) {
  return
}

// -----

// expected-error @+1 {{argument #0: unknown tg argument attribute 'tg.nme' (expected tg.role, tg.init, tg.name or tg.default)}}
func.func @f(%arg0: tensor<4xf32> {tg.nme = "x"}) {
  return
}

// -----

// The argument index is reported.
// expected-error @+1 {{argument #2: tg.role must be one of}}
func.func @f(%a: tensor<f32> {tg.role = "data"}, %b: tensor<f32>, %c: tensor<f32> {tg.role = "params"}) {
  return
}

// -----

// expected-error @+1 {{result #0: tg.name must be a non-empty string}}
func.func @f(%arg0: tensor<4xf32> ) -> (tensor<4xf32> {tg.name = ""}) {
  return
}

// -----

// expected-error @+1 {{result #1: tg.name must be a non-empty string}}
func.func @f(%a: tensor<f32>) -> (tensor<f32> {tg.name = "ok"}, tensor<f32> {tg.name = 0 : i64}) {
  return %a, %a : tensor<f32>, tensor<f32>
}

// -----

// expected-error @+1 {{result #0: unknown tg result attribute 'tg.role' (expected tg.name, tg.alias, tg.train_only or tg.grad_of)}}
func.func @f(%a: tensor<f32>) -> (tensor<f32> {tg.role = "data"}) {
  return %a : tensor<f32>
}

// -----

// expected-error @+1 {{result #0: tg.train_only marks a next state, so it needs tg.alias}}
func.func @f(%a: tensor<f32>) -> (tensor<f32> {tg.train_only}) {
  return %a : tensor<f32>
}

// -----

// expected-error @+1 {{result #0: tg.train_only takes no value}}
func.func @f(%a: tensor<f32> {tg.role = "state"}) -> (tensor<f32> {tg.alias = 0 : i64, tg.train_only = 1 : i64}) {
  return %a : tensor<f32>
}

// -----

// Dynamic shapes are rejected.
func.func @f(%a: tensor<?xf32>) {
  // expected-error @+1 {{'tg.relu' op operand #0 must be statically shaped tensor of 32-bit float or 16-bit float or bfloat16 type or 64-bit float values, but got 'tensor<?xf32>'}}
  %0 = tg.relu %a : tensor<?xf32>
  return
}

// -----

func.func @f(%a: tensor<?x4xf32>) {
  // expected-error @+1 {{'tg.add' op operand #0 must be statically shaped tensor of 32-bit float or 16-bit float or bfloat16 type or 64-bit float or 32-bit signless integer or 64-bit signless integer values, but got 'tensor<?x4xf32>'}}
  %0 = tg.add %a, %a : (tensor<?x4xf32>, tensor<?x4xf32>) -> tensor<?x4xf32>
  return
}

// -----

// Unranked tensors too.
func.func @f(%a: tensor<*xf32>) {
  // expected-error @+1 {{'tg.reshape' op operand #0 must be statically shaped tensor of 32-bit float or 16-bit float or bfloat16 type or 64-bit float or 1-bit signless integer or 32-bit signless integer or 64-bit signless integer values, but got 'tensor<*xf32>'}}
  %0 = tg.reshape %a : (tensor<*xf32>) -> tensor<4xf32>
  return
}

// -----

// exp is float-only.
func.func @f(%a: tensor<4xi32>) {
  // expected-error @+1 {{'tg.exp' op operand #0 must be statically shaped tensor of 32-bit float or 16-bit float or bfloat16 type or 64-bit float values, but got 'tensor<4xi32>'}}
  %0 = tg.exp %a : tensor<4xi32>
  return
}

// -----

// Arithmetic does not take i1.
func.func @f(%a: tensor<4xi1>) {
  // expected-error @+1 {{'tg.neg' op operand #0 must be statically shaped tensor of 32-bit float or 16-bit float or bfloat16 type or 64-bit float or 32-bit signless integer or 64-bit signless integer values, but got 'tensor<4xi1>'}}
  %0 = tg.neg %a : tensor<4xi1>
  return
}

// -----

// Unsupported element types.
func.func @f(%a: tensor<4xi8>) {
  // expected-error @+1 {{'tg.abs' op operand #0 must be statically shaped tensor of 32-bit float or 16-bit float or bfloat16 type or 64-bit float or 32-bit signless integer or 64-bit signless integer values, but got 'tensor<4xi8>'}}
  %0 = tg.abs %a : tensor<4xi8>
  return
}

// -----

func.func @f(%a: tensor<2x3xf32>) {
  // expected-error @+1 {{'tg.argmax' op result #0 must be statically shaped tensor of 32-bit signless integer or 64-bit signless integer values, but got 'tensor<2xf32>'}}
  %0 = tg.argmax %a {axis = 1} : (tensor<2x3xf32>) -> tensor<2xf32>
  return
}

// -----

func.func @f(%t: tensor<10x4xf32>, %i: tensor<3xf32>) {
  // expected-error @+1 {{'tg.gather' op operand #1 must be statically shaped tensor of 32-bit signless integer or 64-bit signless integer values, but got 'tensor<3xf32>'}}
  %0 = tg.gather %t, %i : (tensor<10x4xf32>, tensor<3xf32>) -> tensor<3x4xf32>
  return
}

// -----

func.func @f(%m: tensor<4xi32>, %a: tensor<4xf32>) {
  // expected-error @+1 {{'tg.select' op operand #0 must be statically shaped tensor of 1-bit signless integer values, but got 'tensor<4xi32>'}}
  %0 = tg.select %m, %a, %a : (tensor<4xi32>, tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return
}

// -----

func.func @f(%s: tensor<1xi64>) {
  // expected-error @+1 {{'tg.random_uniform' op operand #0 must be 0D tensor of 64-bit signless integer values, but got 'tensor<1xi64>'}}
  %0 = tg.random_uniform %s : (tensor<1xi64>) -> tensor<4xf32>
  return
}

// -----

func.func @f(%s: tensor<i64>) {
  // expected-error @+1 {{'tg.random_normal' op result #0 must be statically shaped tensor of 32-bit float or 16-bit float or bfloat16 type or 64-bit float values, but got 'tensor<4xi32>'}}
  %0 = tg.random_normal %s : (tensor<i64>) -> tensor<4xi32>
  return
}

// -----

// Missing required attributes.
func.func @f(%a: tensor<2x3xf32>) {
  // expected-error @+1 {{'tg.transpose' op requires attribute 'perm'}}
  %0 = tg.transpose %a : (tensor<2x3xf32>) -> tensor<3x2xf32>
  return
}

// -----

func.func @f(%a: tensor<4xf32>) {
  // expected-error @+1 {{'tg.compare' op requires attribute 'predicate'}}
  %0 = tg.compare %a, %a : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xi1>
  return
}

// -----

func.func @f(%a: tensor<4xf32>) {
  // expected-error @+1 {{'tg.reduce' op requires attribute 'kind'}}
  %0 = tg.reduce %a : (tensor<4xf32>) -> tensor<f32>
  return
}

// -----

func.func @f(%x: tensor<1x2x8x8xf32>) {
  // expected-error @+1 {{'tg.max_pool2d' op requires attribute 'kernel'}}
  %0 = tg.max_pool2d %x {strides = array<i64: 2, 2>} : (tensor<1x2x8x8xf32>) -> tensor<1x2x4x4xf32>
  return
}

// -----

func.func @f(%a: tensor<4xf32>) {
  // expected-error @+1 {{'tg.softmax' op requires attribute 'axis'}}
  %0 = tg.softmax %a : tensor<4xf32>
  return
}

// -----

func.func @f(%a: tensor<4xf32>) {
  // expected-error @+1 {{'tg.slice' op requires attribute 'strides'}}
  %0 = tg.slice %a {start = array<i64: 0>, limit = array<i64: 4>} : (tensor<4xf32>) -> tensor<4xf32>
  return
}

// -----

// Attributes have a fixed kind.
func.func @f(%a: tensor<2x3xf32>) {
  // expected-error @+1 {{'tg.argmax' op attribute 'axis' failed to satisfy constraint: 64-bit signless integer attribute}}
  %0 = tg.argmax %a {axis = 1.0 : f32} : (tensor<2x3xf32>) -> tensor<2xi32>
  return
}

// -----

func.func @f(%a: tensor<2x3xf32>) {
  // expected-error @+1 {{'tg.transpose' op attribute 'perm' failed to satisfy constraint: i64 dense array attribute}}
  %0 = tg.transpose %a {perm = [1, 0]} : (tensor<2x3xf32>) -> tensor<3x2xf32>
  return
}

// -----

func.func @f(%a: tensor<4xf32>) {
  // expected-error @+1 {{'tg.compare' op attribute 'predicate' failed to satisfy constraint: string attribute}}
  %0 = tg.compare %a, %a {predicate = 1 : i64} : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xi1>
  return
}

// -----

// Unary ops keep the operand type.
func.func @f(%a: tensor<4xf32>) {
  // expected-error @+1 {{'tg.exp' op requires the same type for all operands and results}}
  %0 = "tg.exp"(%a) : (tensor<4xf32>) -> tensor<4xf16>
  return
}

// -----

func.func @f(%a: tensor<4xf32>) {
  // expected-error @+1 {{'tg.softmax' op requires the same type for all operands and results}}
  %0 = "tg.softmax"(%a) {axis = 0 : i64} : (tensor<4xf32>) -> tensor<5xf32>
  return
}

// -----

// Constants: the value must have a tg element type.
func.func @f() {
  // expected-error @+1 {{'tg.constant' op result #0 must be statically shaped tensor of 32-bit float or 16-bit float or bfloat16 type or 64-bit float or 1-bit signless integer or 32-bit signless integer or 64-bit signless integer values, but got 'tensor<2xi8>'}}
  %0 = tg.constant dense<1> : tensor<2xi8>
  return
}

// -----

// The constant result type is the value's type.
func.func @f() {
  // expected-error @+2 {{'tg.constant' op inferred type(s) 'tensor<2xf32>' are incompatible with return type(s) of operation 'tensor<3xf32>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = "tg.constant"() {value = dense<1.0> : tensor<2xf32>} : () -> tensor<3xf32>
  return
}

// -----

// Wrong operand count in the generic form.
func.func @f(%a: tensor<4xf32>) {
  // expected-error @+1 {{'tg.add' op expected 2 operands, but found 1}}
  %0 = "tg.add"(%a) : (tensor<4xf32>) -> tensor<4xf32>
  return
}

// -----

func.func @f(%a: tensor<2x0xf32>) {
  // expected-error @+2 {{'tg.reduce' op max over the empty axis 1 of shape [2, 0] has no identity}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tg.reduce %a {kind = "max", axes = array<i64: 1>} : (tensor<2x0xf32>) -> tensor<2xf32>
  return
}

// -----

func.func @f(%x: tensor<1x4x8x8xf32>, %w: tensor<6x4x0x3xf32>) {
  // expected-error @+2 {{'tg.conv2d' op filter window [0, 3] must be at least 1x1}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = tg.conv2d %x, %w : (tensor<1x4x8x8xf32>, tensor<6x4x0x3xf32>) -> tensor<1x6x9x6xf32>
  return
}

// -----

func.func @f(%s: tensor<i64>) {
  // expected-error @+1 {{'tg.random_normal' op needs stddev >= 0, got nan}}
  %0 = tg.random_normal %s {stddev = 0x7FF8000000000000 : f64} : (tensor<i64>) -> tensor<4xf32>
  return
}

// -----

// expected-error @+1 {{argument #0: tg.default must be a number, got "x"}}
func.func @f(%arg0: tensor<f32> {tg.role = "hyper", tg.default = "x"}) {
  return
}

// -----

// expected-error @+1 {{argument #0: tg.default is only allowed on a scalar "hyper" argument}}
func.func @f(%arg0: tensor<2xf32> {tg.role = "hyper", tg.default = 1.0}) {
  return
}

// -----

// expected-error @+1 {{result #0: tg.alias must be an integer argument index}}
func.func @f(%arg0: tensor<2xf32>) -> (tensor<2xf32> {tg.alias = "a"}) {
  return %arg0 : tensor<2xf32>
}

// -----

// expected-error @+1 {{result #0: tg.alias = 3 is not an argument index (the function has 1 arguments)}}
func.func @f(%arg0: tensor<2xf32>) -> (tensor<2xf32> {tg.alias = 3}) {
  return %arg0 : tensor<2xf32>
}

// -----

// expected-error @+1 {{result #0 of type 'tensor<3xf32>' cannot alias argument #0 of type 'tensor<2xf32>'}}
func.func @f(%arg0: tensor<2xf32>, %arg1: tensor<3xf32>) -> (tensor<3xf32> {tg.alias = 0}) {
  return %arg1 : tensor<3xf32>
}

// -----

// expected-error @+1 {{result #0: tg.grad_of must be a non-empty string}}
func.func @f(%arg0: tensor<2xf32>) -> (tensor<2xf32> {tg.grad_of = ""}) {
  return %arg0 : tensor<2xf32>
}

// -----

// expected-error @+1 {{unknown tg attribute 'tg.foo' (expected tg.train, tg.data_parallel, tg.entry, tg.gradient_of, tg.blocked, tg.block, tg.compute, tg.arena_bytes, tg.temp_bytes or tg.cuda_kernels)}}
func.func @f() attributes {tg.foo = 1} {
  return
}

// -----

// expected-error @+1 {{tg.entry must be a string on a function}}
func.func @f() attributes {tg.entry = 1} {
  return
}

// -----

// expected-error @+1 {{tg.train belongs on the module}}
func.func @f() attributes {tg.train = {optimizer = {kind = "sgd"}}} {
  return
}

// -----

func.func @relayout_block(%x: tensor<2x16x4x4xf32>) -> tensor<2x16x4x4xf32> {
  // expected-error @+1 {{block must be 8 or 16 (nChw8c, nChw16c), got 4}}
  %0 = tg.relayout %x {to_blocked = true, block = 4} : tensor<2x16x4x4xf32>
  return %0 : tensor<2x16x4x4xf32>
}

// -----

func.func @relayout_channels(%x: tensor<2x12x4x4xf32>) -> tensor<2x12x4x4xf32> {
  // expected-error @+1 {{needs an NCHW tensor whose channels are a multiple of the block 16, got [2, 12, 4, 4]}}
  %0 = tg.relayout %x {to_blocked = true, block = 16} : tensor<2x12x4x4xf32>
  return %0 : tensor<2x12x4x4xf32>
}
