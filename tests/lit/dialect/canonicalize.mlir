// Folders and canonicalization patterns of ir/Folders.cpp, and cases where
// they must not fire.
//
// RUN: tg-opt %s --canonicalize --split-input-file | FileCheck %s

//===----------------------------------------------------------------------===//
// x + 0, x - 0, x * 1, x / 1
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @add_zero_rhs
// CHECK-SAME: (%[[X:[a-z0-9]+]]: tensor<2x3xf32>)
// CHECK-NOT: tg.add
// CHECK: return %[[X]] : tensor<2x3xf32>
func.func @add_zero_rhs(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %z = tg.constant dense<0.0> : tensor<2x3xf32>
  %0 = tg.add %x, %z : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

// CHECK-LABEL: func.func @add_zero_lhs
// CHECK-SAME: (%[[X:[a-z0-9]+]]: tensor<2x3xf32>)
// CHECK-NOT: tg.add
// CHECK: return %[[X]] : tensor<2x3xf32>
func.func @add_zero_lhs(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %z = tg.constant dense<0.0> : tensor<2x3xf32>
  %0 = tg.add %z, %x : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

// A smaller (broadcast) zero still folds: the result has x's type.
// CHECK-LABEL: func.func @add_zero_broadcast_into_x
// CHECK-SAME: (%[[X:[a-z0-9]+]]: tensor<2x3xf32>)
// CHECK-NOT: tg.add
// CHECK: return %[[X]], %[[X]] : tensor<2x3xf32>, tensor<2x3xf32>
func.func @add_zero_broadcast_into_x(%x: tensor<2x3xf32>) -> (tensor<2x3xf32>, tensor<2x3xf32>) {
  %z = tg.constant dense<0.0> : tensor<3xf32>
  %s = tg.constant dense<-0.0> : tensor<f32>
  %0 = tg.add %x, %z : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  %1 = tg.add %s, %x : (tensor<f32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  return %0, %1 : tensor<2x3xf32>, tensor<2x3xf32>
}

// -----

// CHECK-LABEL: func.func @add_zero_int
// CHECK-SAME: (%[[X:[a-z0-9]+]]: tensor<4xi32>)
// CHECK-NOT: tg.add
// CHECK: return %[[X]] : tensor<4xi32>
func.func @add_zero_int(%x: tensor<4xi32>) -> tensor<4xi32> {
  %z = tg.constant dense<0> : tensor<4xi32>
  %0 = tg.add %z, %x : (tensor<4xi32>, tensor<4xi32>) -> tensor<4xi32>
  return %0 : tensor<4xi32>
}

// -----

// CHECK-LABEL: func.func @sub_zero
// CHECK-SAME: (%[[X:[a-z0-9]+]]: tensor<2x3xf32>)
// CHECK-NOT: tg.sub
// CHECK: return %[[X]] : tensor<2x3xf32>
func.func @sub_zero(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %z = tg.constant dense<0.0> : tensor<f32>
  %0 = tg.sub %x, %z : (tensor<2x3xf32>, tensor<f32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

// 0 - x is not x.
// CHECK-LABEL: func.func @zero_sub_not_folded
// CHECK-SAME: (%[[X:[a-z0-9]+]]: tensor<3xf32>)
// CHECK: %[[Z:.+]] = tg.constant dense<0.000000e+00> : tensor<3xf32>
// CHECK: %[[R:.+]] = tg.sub %[[Z]], %[[X]] : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
// CHECK: return %[[R]]
func.func @zero_sub_not_folded(%x: tensor<3xf32>) -> tensor<3xf32> {
  %z = tg.constant dense<0.0> : tensor<3xf32>
  %0 = tg.sub %z, %x : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  return %0 : tensor<3xf32>
}

// -----

// CHECK-LABEL: func.func @mul_one_rhs
// CHECK-SAME: (%[[X:[a-z0-9]+]]: tensor<4xf16>)
// CHECK-NOT: tg.mul
// CHECK: return %[[X]] : tensor<4xf16>
func.func @mul_one_rhs(%x: tensor<4xf16>) -> tensor<4xf16> {
  %one = tg.constant dense<1.0> : tensor<4xf16>
  %0 = tg.mul %x, %one : (tensor<4xf16>, tensor<4xf16>) -> tensor<4xf16>
  return %0 : tensor<4xf16>
}

// -----

// CHECK-LABEL: func.func @mul_one_lhs
// CHECK-SAME: (%[[X:[a-z0-9]+]]: tensor<2x2xi64>)
// CHECK-NOT: tg.mul
// CHECK: return %[[X]] : tensor<2x2xi64>
func.func @mul_one_lhs(%x: tensor<2x2xi64>) -> tensor<2x2xi64> {
  %one = tg.constant dense<1> : tensor<i64>
  %0 = tg.mul %one, %x : (tensor<i64>, tensor<2x2xi64>) -> tensor<2x2xi64>
  return %0 : tensor<2x2xi64>
}

// -----

// CHECK-LABEL: func.func @div_one
// CHECK-SAME: (%[[X:[a-z0-9]+]]: tensor<3xf64>, %[[Y:[a-z0-9]+]]: tensor<3xi32>)
// CHECK-NOT: tg.div
// CHECK: return %[[X]], %[[Y]] : tensor<3xf64>, tensor<3xi32>
func.func @div_one(%x: tensor<3xf64>, %y: tensor<3xi32>) -> (tensor<3xf64>, tensor<3xi32>) {
  %one = tg.constant dense<1.0> : tensor<3xf64>
  %ione = tg.constant dense<1> : tensor<3xi32>
  %0 = tg.div %x, %one : (tensor<3xf64>, tensor<3xf64>) -> tensor<3xf64>
  %1 = tg.div %y, %ione : (tensor<3xi32>, tensor<3xi32>) -> tensor<3xi32>
  return %0, %1 : tensor<3xf64>, tensor<3xi32>
}

// -----

// 1 / x is not x.
// CHECK-LABEL: func.func @one_div_not_folded
// CHECK-SAME: (%[[X:[a-z0-9]+]]: tensor<3xf32>)
// CHECK: %[[ONE:.+]] = tg.constant dense<1.000000e+00> : tensor<3xf32>
// CHECK: %[[R:.+]] = tg.div %[[ONE]], %[[X]] : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
// CHECK: return %[[R]]
func.func @one_div_not_folded(%x: tensor<3xf32>) -> tensor<3xf32> {
  %one = tg.constant dense<1.0> : tensor<3xf32>
  %0 = tg.div %one, %x : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  return %0 : tensor<3xf32>
}

// -----

// When the zero broadcasts x to a bigger shape, x + 0 is not x.
// (Add is commutative, so the canonical form has the constant on the right.)
// CHECK-LABEL: func.func @add_zero_changes_type
// CHECK-SAME: (%[[X:[a-z0-9]+]]: tensor<3xf32>)
// CHECK: %[[Z:.+]] = tg.constant dense<0.000000e+00> : tensor<2x3xf32>
// CHECK: %[[R:.+]] = tg.add %[[X]], %[[Z]] : (tensor<3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK: return %[[R]] : tensor<2x3xf32>
func.func @add_zero_changes_type(%x: tensor<3xf32>) -> tensor<2x3xf32> {
  %z = tg.constant dense<0.0> : tensor<2x3xf32>
  %0 = tg.add %z, %x : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

// Both operands stretch: the result is bigger than either.
// CHECK-LABEL: func.func @add_zero_mutual_broadcast
// CHECK-SAME: (%[[X:[a-z0-9]+]]: tensor<2x1xf32>)
// CHECK-DAG: %[[Z:.+]] = tg.constant dense<0.000000e+00> : tensor<1x3xf32>
// CHECK-DAG: %[[ONE:.+]] = tg.constant dense<1.000000e+00> : tensor<2x1x1xf32>
// CHECK: %[[R:.+]] = tg.add %[[X]], %[[Z]] : (tensor<2x1xf32>, tensor<1x3xf32>) -> tensor<2x3xf32>
// CHECK: %[[M:.+]] = tg.mul %[[X]], %[[ONE]] : (tensor<2x1xf32>, tensor<2x1x1xf32>) -> tensor<2x2x1xf32>
// CHECK: return %[[R]], %[[M]]
func.func @add_zero_mutual_broadcast(%x: tensor<2x1xf32>) -> (tensor<2x3xf32>, tensor<2x2x1xf32>) {
  %z = tg.constant dense<0.0> : tensor<1x3xf32>
  %0 = tg.add %x, %z : (tensor<2x1xf32>, tensor<1x3xf32>) -> tensor<2x3xf32>
  %one = tg.constant dense<1.0> : tensor<2x1x1xf32>
  %1 = tg.mul %x, %one : (tensor<2x1xf32>, tensor<2x1x1xf32>) -> tensor<2x2x1xf32>
  return %0, %1 : tensor<2x3xf32>, tensor<2x2x1xf32>
}

// -----

// x * 2, x + 1, x - 1 and x / 2 are not identities.
// CHECK-LABEL: func.func @not_identities
// CHECK-DAG: %[[TWO:.+]] = tg.constant dense<2.000000e+00> : tensor<3xf32>
// CHECK-DAG: %[[ONE:.+]] = tg.constant dense<1.000000e+00> : tensor<3xf32>
// CHECK: tg.mul %{{.*}}, %[[TWO]]
// CHECK: tg.add %{{.*}}, %[[ONE]]
// CHECK: tg.sub %{{.*}}, %[[ONE]]
// CHECK: tg.div %{{.*}}, %[[TWO]]
func.func @not_identities(%x: tensor<3xf32>) -> tensor<3xf32> {
  %two = tg.constant dense<2.0> : tensor<3xf32>
  %one = tg.constant dense<1.0> : tensor<3xf32>
  %0 = tg.mul %x, %two : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  %1 = tg.add %0, %one : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  %2 = tg.sub %1, %one : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  %3 = tg.div %2, %two : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  return %3 : tensor<3xf32>
}

// -----

// Only splat constants count; [0, 1] and [1, 2] are not identities.
// CHECK-LABEL: func.func @non_splat_not_folded
// CHECK-DAG: %[[ZO:.+]] = tg.constant dense<[0.000000e+00, 1.000000e+00]> : tensor<2xf32>
// CHECK-DAG: %[[OT:.+]] = tg.constant dense<[1, 2]> : tensor<2xi32>
// CHECK: tg.add %{{.*}}, %[[ZO]] : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
// CHECK: tg.mul %{{.*}}, %[[OT]] : (tensor<2xi32>, tensor<2xi32>) -> tensor<2xi32>
func.func @non_splat_not_folded(%x: tensor<2xf32>, %y: tensor<2xi32>) -> (tensor<2xf32>, tensor<2xi32>) {
  %c = tg.constant dense<[0.0, 1.0]> : tensor<2xf32>
  %d = tg.constant dense<[1, 2]> : tensor<2xi32>
  %0 = tg.add %x, %c : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  %1 = tg.mul %y, %d : (tensor<2xi32>, tensor<2xi32>) -> tensor<2xi32>
  return %0, %1 : tensor<2xf32>, tensor<2xi32>
}

// -----

// A non-constant operand is not an identity.
// CHECK-LABEL: func.func @non_constant_not_folded
// CHECK: tg.add
func.func @non_constant_not_folded(%x: tensor<2xf32>, %y: tensor<2xf32>) -> tensor<2xf32> {
  %0 = tg.add %x, %y : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

//===----------------------------------------------------------------------===//
// neg(neg(x))
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @double_neg
// CHECK-SAME: (%[[X:[a-z0-9]+]]: tensor<4xf32>, %[[Y:[a-z0-9]+]]: tensor<4xi32>)
// CHECK-NOT: tg.neg
// CHECK: return %[[X]], %[[Y]] : tensor<4xf32>, tensor<4xi32>
func.func @double_neg(%x: tensor<4xf32>, %y: tensor<4xi32>) -> (tensor<4xf32>, tensor<4xi32>) {
  %0 = tg.neg %x : tensor<4xf32>
  %1 = tg.neg %0 : tensor<4xf32>
  %2 = tg.neg %y : tensor<4xi32>
  %3 = tg.neg %2 : tensor<4xi32>
  return %1, %3 : tensor<4xf32>, tensor<4xi32>
}

// -----

// Three negations leave one.
// CHECK-LABEL: func.func @triple_neg
// CHECK-SAME: (%[[X:[a-z0-9]+]]: tensor<4xf32>)
// CHECK: %[[N:.+]] = tg.neg %[[X]] : tensor<4xf32>
// CHECK-NOT: tg.neg
// CHECK: return %[[N]] : tensor<4xf32>
func.func @triple_neg(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = tg.neg %x : tensor<4xf32>
  %1 = tg.neg %0 : tensor<4xf32>
  %2 = tg.neg %1 : tensor<4xf32>
  return %2 : tensor<4xf32>
}

// -----

// A single negation, or -abs(x), stays.
// CHECK-LABEL: func.func @single_neg
// CHECK-SAME: (%[[X:[a-z0-9]+]]: tensor<4xf32>)
// CHECK: %[[N:.+]] = tg.neg %[[X]] : tensor<4xf32>
// CHECK: %[[A:.+]] = tg.abs %[[N]] : tensor<4xf32>
// CHECK: %[[M:.+]] = tg.neg %[[A]] : tensor<4xf32>
// CHECK: return %[[M]] : tensor<4xf32>
func.func @single_neg(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = tg.neg %x : tensor<4xf32>
  %1 = tg.abs %0 : tensor<4xf32>
  %2 = tg.neg %1 : tensor<4xf32>
  return %2 : tensor<4xf32>
}

// -----

//===----------------------------------------------------------------------===//
// transpose
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @identity_transpose
// CHECK-SAME: (%[[X:[a-z0-9]+]]: tensor<2x3x4xf32>, %[[S:[a-z0-9]+]]: tensor<f32>)
// CHECK-NOT: tg.transpose
// CHECK: return %[[X]], %[[S]] : tensor<2x3x4xf32>, tensor<f32>
func.func @identity_transpose(%x: tensor<2x3x4xf32>, %s: tensor<f32>) -> (tensor<2x3x4xf32>, tensor<f32>) {
  %0 = tg.transpose %x {perm = array<i64: 0, 1, 2>} : (tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
  %1 = tg.transpose %s {perm = array<i64>} : (tensor<f32>) -> tensor<f32>
  return %0, %1 : tensor<2x3x4xf32>, tensor<f32>
}

// -----

// A non-identity perm stays, even when the type does not change.
// CHECK-LABEL: func.func @non_identity_transpose
// CHECK-SAME: (%[[X:[a-z0-9]+]]: tensor<3x3xf32>)
// CHECK: %[[T:.+]] = tg.transpose %[[X]] {perm = array<i64: 1, 0>} : (tensor<3x3xf32>) -> tensor<3x3xf32>
// CHECK: return %[[T]] : tensor<3x3xf32>
func.func @non_identity_transpose(%x: tensor<3x3xf32>) -> tensor<3x3xf32> {
  %0 = tg.transpose %x {perm = array<i64: 1, 0>} : (tensor<3x3xf32>) -> tensor<3x3xf32>
  return %0 : tensor<3x3xf32>
}

// -----

// transpose(transpose(x, [1, 2, 0]), [1, 0, 2]) = transpose(x, [2, 1, 0]).
// CHECK-LABEL: func.func @merge_transposes
// CHECK-SAME: (%[[X:[a-z0-9]+]]: tensor<2x3x4xf32>)
// CHECK: %[[T:.+]] = tg.transpose %[[X]] {perm = array<i64: 2, 1, 0>} : (tensor<2x3x4xf32>) -> tensor<4x3x2xf32>
// CHECK-NOT: tg.transpose
// CHECK: return %[[T]] : tensor<4x3x2xf32>
func.func @merge_transposes(%x: tensor<2x3x4xf32>) -> tensor<4x3x2xf32> {
  %0 = tg.transpose %x {perm = array<i64: 1, 2, 0>} : (tensor<2x3x4xf32>) -> tensor<3x4x2xf32>
  %1 = tg.transpose %0 {perm = array<i64: 1, 0, 2>} : (tensor<3x4x2xf32>) -> tensor<4x3x2xf32>
  return %1 : tensor<4x3x2xf32>
}

// -----

// The composition is not commutative: [1, 0, 2] then [1, 2, 0] is [0, 2, 1].
// CHECK-LABEL: func.func @merge_transposes_other_order
// CHECK-SAME: (%[[X:[a-z0-9]+]]: tensor<2x3x4xf32>)
// CHECK: %[[T:.+]] = tg.transpose %[[X]] {perm = array<i64: 0, 2, 1>} : (tensor<2x3x4xf32>) -> tensor<2x4x3xf32>
// CHECK-NOT: tg.transpose
// CHECK: return %[[T]] : tensor<2x4x3xf32>
func.func @merge_transposes_other_order(%x: tensor<2x3x4xf32>) -> tensor<2x4x3xf32> {
  %0 = tg.transpose %x {perm = array<i64: 1, 0, 2>} : (tensor<2x3x4xf32>) -> tensor<3x2x4xf32>
  %1 = tg.transpose %0 {perm = array<i64: 1, 2, 0>} : (tensor<3x2x4xf32>) -> tensor<2x4x3xf32>
  return %1 : tensor<2x4x3xf32>
}

// -----

// A chain of three merges into one; one that cancels out disappears.
// CHECK-LABEL: func.func @transpose_chains
// CHECK-SAME: (%[[X:[a-z0-9]+]]: tensor<2x3x4x5xf32>, %[[Y:[a-z0-9]+]]: tensor<2x3xf32>)
// CHECK: %[[T:.+]] = tg.transpose %[[X]] {perm = array<i64: 3, 0, 1, 2>} : (tensor<2x3x4x5xf32>) -> tensor<5x2x3x4xf32>
// CHECK-NOT: tg.transpose
// CHECK: return %[[T]], %[[Y]] : tensor<5x2x3x4xf32>, tensor<2x3xf32>
func.func @transpose_chains(%x: tensor<2x3x4x5xf32>, %y: tensor<2x3xf32>) -> (tensor<5x2x3x4xf32>, tensor<2x3xf32>) {
  %0 = tg.transpose %x {perm = array<i64: 1, 0, 2, 3>} : (tensor<2x3x4x5xf32>) -> tensor<3x2x4x5xf32>
  %1 = tg.transpose %0 {perm = array<i64: 0, 1, 3, 2>} : (tensor<3x2x4x5xf32>) -> tensor<3x2x5x4xf32>
  %2 = tg.transpose %1 {perm = array<i64: 2, 1, 0, 3>} : (tensor<3x2x5x4xf32>) -> tensor<5x2x3x4xf32>
  %3 = tg.transpose %y {perm = array<i64: 1, 0>} : (tensor<2x3xf32>) -> tensor<3x2xf32>
  %4 = tg.transpose %3 {perm = array<i64: 1, 0>} : (tensor<3x2xf32>) -> tensor<2x3xf32>
  return %2, %4 : tensor<5x2x3x4xf32>, tensor<2x3xf32>
}

// -----

//===----------------------------------------------------------------------===//
// reshape
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @merge_reshapes
// CHECK-SAME: (%[[X:[a-z0-9]+]]: tensor<2x3x4xf32>)
// CHECK: %[[R:.+]] = tg.reshape %[[X]] : (tensor<2x3x4xf32>) -> tensor<4x6xf32>
// CHECK-NOT: tg.reshape
// CHECK: return %[[R]] : tensor<4x6xf32>
func.func @merge_reshapes(%x: tensor<2x3x4xf32>) -> tensor<4x6xf32> {
  %0 = tg.reshape %x : (tensor<2x3x4xf32>) -> tensor<24xf32>
  %1 = tg.reshape %0 : (tensor<24xf32>) -> tensor<2x12xf32>
  %2 = tg.reshape %1 : (tensor<2x12xf32>) -> tensor<4x6xf32>
  return %2 : tensor<4x6xf32>
}

// -----

// A reshape chain that returns to the original type disappears.
// CHECK-LABEL: func.func @reshape_round_trip
// CHECK-SAME: (%[[X:[a-z0-9]+]]: tensor<2x3xi32>)
// CHECK-NOT: tg.reshape
// CHECK: return %[[X]] : tensor<2x3xi32>
func.func @reshape_round_trip(%x: tensor<2x3xi32>) -> tensor<2x3xi32> {
  %0 = tg.reshape %x : (tensor<2x3xi32>) -> tensor<6xi32>
  %1 = tg.reshape %0 : (tensor<6xi32>) -> tensor<2x3xi32>
  return %1 : tensor<2x3xi32>
}

// -----

// CHECK-LABEL: func.func @reshape_same_type
// CHECK-SAME: (%[[X:[a-z0-9]+]]: tensor<2x3xf32>)
// CHECK-NOT: tg.reshape
// CHECK: return %[[X]] : tensor<2x3xf32>
func.func @reshape_same_type(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %0 = tg.reshape %x : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

// CHECK-LABEL: func.func @reshape_constant
// CHECK-NOT: tg.reshape
// CHECK-DAG: %[[A:.+]] = tg.constant dense<{{\[}}[1.000000e+00, 2.000000e+00], [3.000000e+00, 4.000000e+00]]> : tensor<2x2xf32>
// CHECK-DAG: %[[B:.+]] = tg.constant dense<5> : tensor<1x3x1xi64>
// CHECK-NOT: tg.reshape
// CHECK: return %[[A]], %[[B]] : tensor<2x2xf32>, tensor<1x3x1xi64>
func.func @reshape_constant() -> (tensor<2x2xf32>, tensor<1x3x1xi64>) {
  %c = tg.constant dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32>
  %0 = tg.reshape %c : (tensor<4xf32>) -> tensor<2x2xf32>
  %s = tg.constant dense<5> : tensor<3xi64>
  %1 = tg.reshape %s : (tensor<3xi64>) -> tensor<1x3x1xi64>
  return %0, %1 : tensor<2x2xf32>, tensor<1x3x1xi64>
}

// -----

// A real reshape of a non-constant stays.
// CHECK-LABEL: func.func @reshape_kept
// CHECK: tg.reshape %{{.*}} : (tensor<2x3xf32>) -> tensor<3x2xf32>
func.func @reshape_kept(%x: tensor<2x3xf32>) -> tensor<3x2xf32> {
  %0 = tg.reshape %x : (tensor<2x3xf32>) -> tensor<3x2xf32>
  return %0 : tensor<3x2xf32>
}

// -----

//===----------------------------------------------------------------------===//
// broadcast_to, cast, slice to the same type
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @no_op_layout
// CHECK-SAME: (%[[X:[a-z0-9]+]]: tensor<2x3xf32>, %[[M:[a-z0-9]+]]: tensor<4xi1>)
// CHECK-NOT: tg.broadcast_to
// CHECK-NOT: tg.cast
// CHECK-NOT: tg.slice
// CHECK: return %[[X]], %[[M]], %[[X]] : tensor<2x3xf32>, tensor<4xi1>, tensor<2x3xf32>
func.func @no_op_layout(%x: tensor<2x3xf32>, %m: tensor<4xi1>) -> (tensor<2x3xf32>, tensor<4xi1>, tensor<2x3xf32>) {
  %0 = tg.broadcast_to %x : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %1 = tg.cast %m : (tensor<4xi1>) -> tensor<4xi1>
  %2 = tg.slice %0 {start = array<i64: 0, 0>, limit = array<i64: 2, 3>, strides = array<i64: 1, 1>} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return %0, %1, %2 : tensor<2x3xf32>, tensor<4xi1>, tensor<2x3xf32>
}

// -----

// Changing the shape or element type is not a no-op.
// CHECK-LABEL: func.func @real_layout
// CHECK-SAME: (%[[X:[a-z0-9]+]]: tensor<2x3xf32>)
// CHECK: %[[B:.+]] = tg.broadcast_to %[[X]] : (tensor<2x3xf32>) -> tensor<4x2x3xf32>
// CHECK: %[[C:.+]] = tg.cast %[[X]] : (tensor<2x3xf32>) -> tensor<2x3xf16>
// CHECK: %[[S:.+]] = tg.slice %[[X]] {limit = array<i64: 2, 3>, start = array<i64: 0, 1>, strides = array<i64: 1, 1>} : (tensor<2x3xf32>) -> tensor<2x2xf32>
// CHECK: return %[[B]], %[[C]], %[[S]]
func.func @real_layout(%x: tensor<2x3xf32>) -> (tensor<4x2x3xf32>, tensor<2x3xf16>, tensor<2x2xf32>) {
  %0 = tg.broadcast_to %x : (tensor<2x3xf32>) -> tensor<4x2x3xf32>
  %1 = tg.cast %x : (tensor<2x3xf32>) -> tensor<2x3xf16>
  %2 = tg.slice %x {start = array<i64: 0, 1>, limit = array<i64: 2, 3>, strides = array<i64: 1, 1>} : (tensor<2x3xf32>) -> tensor<2x2xf32>
  return %0, %1, %2 : tensor<4x2x3xf32>, tensor<2x3xf16>, tensor<2x2xf32>
}

// -----

// Folds compose: (x * 1 + 0) reshaped there and back is x.
// CHECK-LABEL: func.func @folds_compose
// CHECK-SAME: (%[[X:[a-z0-9]+]]: tensor<2x3xf32>)
// CHECK-NOT: tg.
// CHECK: return %[[X]] : tensor<2x3xf32>
func.func @folds_compose(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %one = tg.constant dense<1.0> : tensor<f32>
  %zero = tg.constant dense<0.0> : tensor<3xf32>
  %0 = tg.mul %x, %one : (tensor<2x3xf32>, tensor<f32>) -> tensor<2x3xf32>
  %1 = tg.add %zero, %0 : (tensor<3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %2 = tg.reshape %1 : (tensor<2x3xf32>) -> tensor<3x2xf32>
  %3 = tg.reshape %2 : (tensor<3x2xf32>) -> tensor<2x3xf32>
  %4 = tg.transpose %3 {perm = array<i64: 1, 0>} : (tensor<2x3xf32>) -> tensor<3x2xf32>
  %5 = tg.transpose %4 {perm = array<i64: 1, 0>} : (tensor<3x2xf32>) -> tensor<2x3xf32>
  return %5 : tensor<2x3xf32>
}

//===----------------------------------------------------------------------===//
// Sums of zero-padded disjoint pieces -> one concat (the gradient of slices)
//===----------------------------------------------------------------------===//

// Three time steps of [2,1,4] read out of [2,3,4] by slices: their
// cotangents, padded back and summed, become one concat (no padding left).
// CHECK-LABEL: func.func @pads_of_time_steps
// CHECK-SAME: (%[[A:[a-z0-9]+]]: tensor<2x1x4xf32>, %[[B:[a-z0-9]+]]: tensor<2x1x4xf32>, %[[C:[a-z0-9]+]]: tensor<2x1x4xf32>)
// CHECK-NOT: tg.add
// CHECK-NOT: tg.pad
// CHECK: %[[J:.+]] = tg.concat %[[A]], %[[B]], %[[C]] {axis = 1 : i64}
// CHECK: return %[[J]] : tensor<2x3x4xf32>
func.func @pads_of_time_steps(%a: tensor<2x1x4xf32>, %b: tensor<2x1x4xf32>, %c: tensor<2x1x4xf32>) -> tensor<2x3x4xf32> {
  %pc = tg.pad %c {low = array<i64: 0, 2, 0>, high = array<i64: 0, 0, 0>} : (tensor<2x1x4xf32>) -> tensor<2x3x4xf32>
  %pb = tg.pad %b {low = array<i64: 0, 1, 0>, high = array<i64: 0, 1, 0>} : (tensor<2x1x4xf32>) -> tensor<2x3x4xf32>
  %pa = tg.pad %a {low = array<i64: 0, 0, 0>, high = array<i64: 0, 2, 0>} : (tensor<2x1x4xf32>) -> tensor<2x3x4xf32>
  %0 = tg.add %pc, %pb : (tensor<2x3x4xf32>, tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
  %1 = tg.add %0, %pa : (tensor<2x3x4xf32>, tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
  return %1 : tensor<2x3x4xf32>
}

// -----

// A gap between the pieces is filled with zeros; the outer padding stays.
// CHECK-LABEL: func.func @pads_with_gap
// CHECK-SAME: (%[[A:[a-z0-9]+]]: tensor<2x1xf32>, %[[B:[a-z0-9]+]]: tensor<2x2xf32>)
// CHECK: %[[Z:.+]] = tg.constant dense<0.000000e+00> : tensor<2x2xf32>
// CHECK: %[[J:.+]] = tg.concat %[[A]], %[[Z]], %[[B]] {axis = 1 : i64} : (tensor<2x1xf32>, tensor<2x2xf32>, tensor<2x2xf32>) -> tensor<2x5xf32>
// CHECK: %[[P:.+]] = tg.pad %[[J]] {high = array<i64: 0, 1>, low = array<i64: 0, 1>
// CHECK-NOT: tg.add
// CHECK: return %[[P]]
func.func @pads_with_gap(%a: tensor<2x1xf32>, %b: tensor<2x2xf32>) -> tensor<2x7xf32> {
  %pa = tg.pad %a {low = array<i64: 0, 1>, high = array<i64: 0, 5>} : (tensor<2x1xf32>) -> tensor<2x7xf32>
  %pb = tg.pad %b {low = array<i64: 0, 4>, high = array<i64: 0, 1>} : (tensor<2x2xf32>) -> tensor<2x7xf32>
  %0 = tg.add %pa, %pb : (tensor<2x7xf32>, tensor<2x7xf32>) -> tensor<2x7xf32>
  return %0 : tensor<2x7xf32>
}

// -----

// Overlapping ranges, pads along different axes, non-zero padding values and
// pads with other uses are left alone.
// CHECK-LABEL: func.func @pads_not_merged
// CHECK-COUNT-4: tg.add
// CHECK-NOT: tg.concat
func.func @pads_not_merged(%a: tensor<2x2xf32>, %b: tensor<2x2xf32>) -> (tensor<2x3xf32>, tensor<3x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>) {
  %p1 = tg.pad %a {low = array<i64: 0, 0>, high = array<i64: 0, 1>} : (tensor<2x2xf32>) -> tensor<2x3xf32>
  %p2 = tg.pad %b {low = array<i64: 0, 1>, high = array<i64: 0, 0>} : (tensor<2x2xf32>) -> tensor<2x3xf32>
  %overlap = tg.add %p1, %p2 : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %q1 = tg.pad %a {low = array<i64: 1, 0>, high = array<i64: 0, 1>} : (tensor<2x2xf32>) -> tensor<3x3xf32>
  %q2 = tg.pad %b {low = array<i64: 0, 1>, high = array<i64: 1, 0>} : (tensor<2x2xf32>) -> tensor<3x3xf32>
  %twoaxes = tg.add %q1, %q2 : (tensor<3x3xf32>, tensor<3x3xf32>) -> tensor<3x3xf32>
  %r1 = tg.pad %a {low = array<i64: 0, 0>, high = array<i64: 0, 1>, value = 1.0} : (tensor<2x2xf32>) -> tensor<2x3xf32>
  %c1 = tg.slice %b {start = array<i64: 0, 0>, limit = array<i64: 2, 1>, strides = array<i64: 1, 1>} : (tensor<2x2xf32>) -> tensor<2x1xf32>
  %r2 = tg.pad %c1 {low = array<i64: 0, 2>, high = array<i64: 0, 0>} : (tensor<2x1xf32>) -> tensor<2x3xf32>
  %ones = tg.add %r1, %r2 : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %s1 = tg.pad %c1 {low = array<i64: 0, 0>, high = array<i64: 0, 2>} : (tensor<2x1xf32>) -> tensor<2x3xf32>
  %shared = tg.add %s1, %r2 : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  return %overlap, %twoaxes, %ones, %shared, %r2 : tensor<2x3xf32>, tensor<3x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>
}

// -----

// CHECK-LABEL: func.func @concat_of_concat
// CHECK-SAME: (%[[A:[a-z0-9]+]]: tensor<2x1xf32>, %[[B:[a-z0-9]+]]: tensor<2x2xf32>)
// CHECK: %[[J:.+]] = tg.concat %[[A]], %[[B]], %[[A]] {axis = 1 : i64}
// CHECK-NEXT: return %[[J]]
func.func @concat_of_concat(%a: tensor<2x1xf32>, %b: tensor<2x2xf32>) -> tensor<2x4xf32> {
  %0 = tg.concat %a, %b {axis = 1} : (tensor<2x1xf32>, tensor<2x2xf32>) -> tensor<2x3xf32>
  %1 = tg.concat %0, %a {axis = 1} : (tensor<2x3xf32>, tensor<2x1xf32>) -> tensor<2x4xf32>
  return %1 : tensor<2x4xf32>
}

// -----

// CHECK-LABEL: func.func @noop_pad_and_concat
// CHECK-SAME: (%[[A:[a-z0-9]+]]: tensor<2x3xf32>)
// CHECK-NEXT: return %[[A]] : tensor<2x3xf32>
func.func @noop_pad_and_concat(%a: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %0 = tg.pad %a {low = array<i64: 0, 0>, high = array<i64: 0, 0>} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %1 = tg.concat %0 {axis = 0} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return %1 : tensor<2x3xf32>
}
