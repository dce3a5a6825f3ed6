// RUN: tg-opt %s --tg-lower-to-linalg --split-input-file --verify-diagnostics | FileCheck %s

// Broadcasting is an indexing map: the size-1 dim reads index 0, the missing
// leading dim is dropped; nothing is materialized.
// CHECK-DAG: #[[ID:.*]] = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
// CHECK-DAG: #[[B:.*]] = affine_map<(d0, d1, d2) -> (d1, 0)>
// CHECK-LABEL: func.func @broadcast_add
// CHECK: linalg.generic {indexing_maps = [#[[ID]], #[[B]], #[[ID]]], iterator_types = ["parallel", "parallel", "parallel"]}
// CHECK: arith.addf
// CHECK-NOT: tg.
func.func @broadcast_add(%a: tensor<2x3x4xf32>, %b: tensor<3x1xf32>) -> tensor<2x3x4xf32> {
  %0 = tg.add %a, %b : (tensor<2x3x4xf32>, tensor<3x1xf32>) -> tensor<2x3x4xf32>
  return %0 : tensor<2x3x4xf32>
}

// -----

// f32 matmul stays a library op (oneDNN at bufferization); other element
// types become a generic contraction.
// CHECK-LABEL: func.func @matmuls
// CHECK: tg.matmul %arg0, %arg1 {transpose_rhs = true}
// CHECK: linalg.generic
// CHECK-SAME: iterator_types = ["parallel", "parallel", "reduction"]
// CHECK: arith.mulf
// CHECK: arith.addf
func.func @matmuls(%a: tensor<2x3xf32>, %b: tensor<4x3xf32>, %c: tensor<2x3xf64>, %d: tensor<3x4xf64>) -> (tensor<2x4xf32>, tensor<2x4xf64>) {
  %0 = tg.matmul %a, %b {transpose_rhs = true} : (tensor<2x3xf32>, tensor<4x3xf32>) -> tensor<2x4xf32>
  %1 = tg.matmul %c, %d : (tensor<2x3xf64>, tensor<3x4xf64>) -> tensor<2x4xf64>
  return %0, %1 : tensor<2x4xf32>, tensor<2x4xf64>
}

// -----

// tg.attention: an scf.for over whole key blocks of 64 (two of 150 keys)
// carrying the row max, the row sum and the output, then the last 22 keys;
// the f32 GEMMs stay library ops on slices of key and value, and no
// 150 x 150 tensor appears. The gradient recomputes: a loop for the row
// log-sum-exp, then one writing each block's key and value gradients.
// CHECK-LABEL: func.func @attention
// CHECK-NOT: 150x150
// CHECK: scf.for %[[J:.*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args({{.*}}) -> (tensor<2x150x1xf32>, tensor<2x150x1xf32>, tensor<2x150x8xf32>)
// CHECK: tensor.extract_slice %arg1[0, %[[J]], 0] [2, 64, 16] [1, 1, 1]
// CHECK: tg.matmul %{{.*}}, %{{.*}} {transpose_rhs = true} : (tensor<2x150x16xf32>, tensor<2x64x16xf32>) -> tensor<2x150x64xf32>
// CHECK: tg.matmul %{{.*}}, %{{.*}} : (tensor<2x150x64xf32>, tensor<2x64x8xf32>) -> tensor<2x150x8xf32>
// CHECK: scf.yield
// CHECK: tensor.extract_slice %arg1[0, 128, 0] [2, 22, 16] [1, 1, 1]
// CHECK: tg.matmul %{{.*}}, %{{.*}} {transpose_rhs = true} : (tensor<2x150x16xf32>, tensor<2x22x16xf32>) -> tensor<2x150x22xf32>
// CHECK-LABEL: func.func @attention_grad
// CHECK-NOT: 150x150
// CHECK: scf.for {{.*}} -> (tensor<2x150x1xf32>, tensor<2x150x1xf32>)
// CHECK: scf.for {{.*}} -> (tensor<2x150x16xf32>, tensor<2x150x16xf32>, tensor<2x150x8xf32>)
// CHECK: tg.matmul %{{.*}}, %{{.*}} {transpose_lhs = true} : (tensor<2x150x64xf32>, tensor<2x150x8xf32>) -> tensor<2x64x8xf32>
// CHECK: tensor.insert_slice
// CHECK: scf.yield
func.func @attention(%q: tensor<2x150x16xf32>, %k: tensor<2x150x16xf32>, %v: tensor<2x150x8xf32>) -> tensor<2x150x8xf32> {
  %0 = tg.attention %q, %k, %v {causal = true, scale = 0.25 : f64} : (tensor<2x150x16xf32>, tensor<2x150x16xf32>, tensor<2x150x8xf32>) -> tensor<2x150x8xf32>
  return %0 : tensor<2x150x8xf32>
}
func.func @attention_grad(%q: tensor<2x150x16xf32>, %v: tensor<2x150x8xf32>, %o: tensor<2x150x8xf32>) -> (tensor<2x150x16xf32>, tensor<2x150x16xf32>, tensor<2x150x8xf32>) {
  %0:3 = tg.attention_grad %q, %q, %v, %o, %o {causal = true, scale = 0.25 : f64} : (tensor<2x150x16xf32>, tensor<2x150x16xf32>, tensor<2x150x8xf32>, tensor<2x150x8xf32>, tensor<2x150x8xf32>) -> (tensor<2x150x16xf32>, tensor<2x150x16xf32>, tensor<2x150x8xf32>)
  return %0#0, %0#1, %0#2 : tensor<2x150x16xf32>, tensor<2x150x16xf32>, tensor<2x150x8xf32>
}

// -----

// A splat of more than 256 elements is a fill (no global of that size in
// the artifact), of any element type; a small one stays a constant.
// CHECK-LABEL: func.func @splats
// CHECK-DAG: %[[Z:.*]] = arith.constant 0.000000e+00 : f32
// CHECK-DAG: %[[T:.*]] = arith.constant true
// CHECK-DAG: %[[H:.*]] = arith.constant 1.500000e+00 : bf16
// CHECK-DAG: arith.constant dense<2.000000e+00> : tensor<16xf32>
// CHECK-DAG: linalg.fill ins(%[[Z]] : f32) outs(%{{.*}} : tensor<32x32xf32>)
// CHECK-DAG: linalg.fill ins(%[[T]] : i1) outs(%{{.*}} : tensor<300xi1>)
// CHECK-DAG: linalg.fill ins(%[[H]] : bf16) outs(%{{.*}} : tensor<257xbf16>)
func.func @splats() -> (tensor<32x32xf32>, tensor<16xf32>, tensor<300xi1>, tensor<257xbf16>) {
  %0 = tg.constant dense<0.0> : tensor<32x32xf32>
  %1 = tg.constant dense<2.0> : tensor<16xf32>
  %2 = tg.constant dense<true> : tensor<300xi1>
  %3 = tg.constant dense<1.5> : tensor<257xbf16>
  return %0, %1, %2, %3 : tensor<32x32xf32>, tensor<16xf32>, tensor<300xi1>, tensor<257xbf16>
}

// -----

// reduce with keepdims: a reduction generic, then a reshape.
// CHECK-LABEL: func.func @reduce_max
// CHECK: %[[INIT:.*]] = arith.constant 0xFF800000 : f32
// CHECK: linalg.fill ins(%[[INIT]] : f32)
// CHECK: linalg.generic
// CHECK-SAME: iterator_types = ["parallel", "reduction"]
// CHECK: arith.maximumf
// CHECK: tensor.expand_shape
func.func @reduce_max(%a: tensor<5x7xf32>) -> tensor<5x1xf32> {
  %0 = tg.reduce %a {kind = "max", axes = array<i64: 1>, keepdims = true} : (tensor<5x7xf32>) -> tensor<5x1xf32>
  return %0 : tensor<5x1xf32>
}

// -----

// softmax cross-entropy: row max, sum of exponentials, the picked logit (a
// reduction reading the label), then the mean.
// CHECK-LABEL: func.func @xent
// CHECK: arith.maximumf
// CHECK: math.exp
// CHECK: linalg.generic
// CHECK: linalg.index 1
// CHECK: arith.cmpi eq
// CHECK: math.log
// CHECK: arith.divf
// CHECK-NOT: tg.
func.func @xent(%x: tensor<4x10xf32>, %l: tensor<4xi32>) -> tensor<f32> {
  %0 = tg.softmax_cross_entropy %x, %l : (tensor<4x10xf32>, tensor<4xi32>) -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

// Data movement maps to tensor ops; a concat of arguments is built at the top.
// CHECK-LABEL: func.func @movement
// CHECK: tensor.empty() : tensor<2x6xf32>
// CHECK: tensor.insert_slice %arg1 into %{{.*}}[0, 0] [2, 3] [1, 1]
// CHECK: tensor.insert_slice %arg1 into %{{.*}}[0, 3] [2, 3] [1, 1]
// CHECK: tensor.extract_slice %arg0[1, 0] [2, 2] [2, 3]
// CHECK: tensor.pad %arg1 low[1, 0] high[0, 2]
// CHECK: linalg.transpose
func.func @movement(%a: tensor<5x6xf32>, %b: tensor<2x3xf32>) -> (tensor<2x2xf32>, tensor<3x5xf32>, tensor<2x6xf32>, tensor<3x2xf32>) {
  %0 = tg.slice %a {start = array<i64: 1, 0>, limit = array<i64: 5, 6>, strides = array<i64: 2, 3>} : (tensor<5x6xf32>) -> tensor<2x2xf32>
  %1 = tg.pad %b {low = array<i64: 1, 0>, high = array<i64: 0, 2>} : (tensor<2x3xf32>) -> tensor<3x5xf32>
  %2 = tg.concat %b, %b {axis = 1} : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x6xf32>
  %3 = tg.transpose %b {perm = array<i64: 1, 0>} : (tensor<2x3xf32>) -> tensor<3x2xf32>
  return %0, %1, %2, %3 : tensor<2x2xf32>, tensor<3x5xf32>, tensor<2x6xf32>, tensor<3x2xf32>
}

// -----

// Each concat piece is inserted right after its producer, in the order the
// producers run (here the second piece first), so that empty-tensor
// elimination can make the producers write into the result.
// CHECK-LABEL: func.func @concat_in_producer_order
// CHECK: %[[R:.+]] = tensor.empty() : tensor<2x6xf32>
// CHECK: %[[Y:.+]] = linalg.generic
// CHECK: math.exp
// CHECK: %[[R1:.+]] = tensor.insert_slice %[[Y]] into %[[R]][0, 3] [2, 3] [1, 1]
// CHECK: %[[X:.+]] = linalg.generic
// CHECK: arith.negf
// CHECK: %[[R2:.+]] = tensor.insert_slice %[[X]] into %[[R1]][0, 0] [2, 3] [1, 1]
// CHECK: return %[[R2]]
func.func @concat_in_producer_order(%b: tensor<2x3xf32>) -> tensor<2x6xf32> {
  %y = tg.exp %b : tensor<2x3xf32>
  %x = tg.neg %b : tensor<2x3xf32>
  %0 = tg.concat %x, %y {axis = 1} : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x6xf32>
  return %0 : tensor<2x6xf32>
}

// -----

// Random numbers: Philox-4x32-10 rounds in the loop body, keyed by the seed
// and the element's position.
// CHECK-LABEL: func.func @random
// CHECK: linalg.generic
// CHECK-COUNT-20: arith.mului_extended
// CHECK: arith.uitofp
func.func @random(%s: tensor<i64>) -> tensor<4xf32> {
  %0 = tg.random_uniform %s : (tensor<i64>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// iota: a generic with no inputs whose body is the loop index along the
// dimension (converted to the element type); a causal mask is two of them
// and a compare, with no T x T constant.
// CHECK-LABEL: func.func @iota_mask
// CHECK-NOT: arith.constant dense
// CHECK: linalg.generic {{.*}} outs(
// CHECK: linalg.index 0
// CHECK: arith.index_cast
// CHECK: linalg.generic {{.*}} outs(
// CHECK: linalg.index 1
// CHECK: arith.cmpi sle
// CHECK-LABEL: func.func @iota_float
// CHECK: linalg.index 1
// CHECK: arith.uitofp
func.func @iota_mask() -> tensor<8x8xi1> {
  %r = tg.iota {dimension = 0} : tensor<8x8xi64>
  %c = tg.iota {dimension = 1} : tensor<8x8xi64>
  %m = tg.compare %c, %r {predicate = "le"} : (tensor<8x8xi64>, tensor<8x8xi64>) -> tensor<8x8xi1>
  return %m : tensor<8x8xi1>
}
func.func @iota_float() -> tensor<3x5xf32> {
  %0 = tg.iota {dimension = 1} : tensor<3x5xf32>
  return %0 : tensor<3x5xf32>
}

// -----

// scatter_add: a loop over the updates carrying the result.
// CHECK-LABEL: func.func @scatter
// CHECK: scf.for {{.*}} iter_args
// CHECK: tensor.extract
// CHECK: arith.addf
// CHECK: tensor.insert
func.func @scatter(%b: tensor<4x3xf32>, %i: tensor<5xi32>, %u: tensor<5x3xf32>) -> tensor<4x3xf32> {
  %0 = tg.scatter_add %b, %i, %u : (tensor<4x3xf32>, tensor<5xi32>, tensor<5x3xf32>) -> tensor<4x3xf32>
  return %0 : tensor<4x3xf32>
}

// -----

func.func @f64_fused_conv(%x: tensor<1x1x4x4xf64>, %w: tensor<1x1x2x2xf64>, %b: tensor<1xf64>) -> tensor<1x1x3x3xf64> {
  // expected-error @+1 {{'tg.fused_conv2d' is made for f32 only (tg-fuse-epilogues) and has no other lowering}}
  %0 = tg.fused_conv2d %x, %w, %b : (tensor<1x1x4x4xf64>, tensor<1x1x2x2xf64>, tensor<1xf64>) -> tensor<1x1x3x3xf64>
  return %0 : tensor<1x1x3x3xf64>
}
