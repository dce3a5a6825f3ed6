module attributes {tg.train = {function = "char_lstm", loss = "loss", optimizer = {eps = 1.000000e-08 : f64, kind = "rmsprop", l2 = 1.000000e-03 : f64, lr = 1.000000e-01 : f64, rho = 0.94999999999999996 : f64, schedule = {kind = "constant"}}}} {
  func.func @char_lstm(%arg0: tensor<2x3xi32> {tg.name = "chars", tg.role = "data"}, %arg1: tensor<2x3xi32> {tg.name = "targets", tg.role = "label"}, %arg2: tensor<2x4xf32> {tg.name = "lstm1.h0", tg.role = "state"}, %arg3: tensor<2x4xf32> {tg.name = "lstm1.c0", tg.role = "state"}, %arg4: tensor<2x4xf32> {tg.name = "lstm2.h0", tg.role = "state"}, %arg5: tensor<2x4xf32> {tg.name = "lstm2.c0", tg.role = "state"}, %arg6: tensor<5x16xf32> {tg.init = {kind = "glorot_uniform"}, tg.name = "lstm1.W", tg.role = "param"}, %arg7: tensor<4x16xf32> {tg.init = {kind = "glorot_uniform"}, tg.name = "lstm1.U", tg.role = "param"}, %arg8: tensor<16xf32> {tg.init = {kind = "zeros"}, tg.name = "lstm1.b", tg.role = "param"}, %arg9: tensor<4xf32> {tg.init = {kind = "zeros"}, tg.name = "lstm1.p_i", tg.role = "param"}, %arg10: tensor<4xf32> {tg.init = {kind = "zeros"}, tg.name = "lstm1.p_f", tg.role = "param"}, %arg11: tensor<4xf32> {tg.init = {kind = "zeros"}, tg.name = "lstm1.p_o", tg.role = "param"}, %arg12: tensor<4x16xf32> {tg.init = {kind = "glorot_uniform"}, tg.name = "lstm2.W", tg.role = "param"}, %arg13: tensor<4x16xf32> {tg.init = {kind = "glorot_uniform"}, tg.name = "lstm2.U", tg.role = "param"}, %arg14: tensor<16xf32> {tg.init = {kind = "zeros"}, tg.name = "lstm2.b", tg.role = "param"}, %arg15: tensor<4xf32> {tg.init = {kind = "zeros"}, tg.name = "lstm2.p_i", tg.role = "param"}, %arg16: tensor<4xf32> {tg.init = {kind = "zeros"}, tg.name = "lstm2.p_f", tg.role = "param"}, %arg17: tensor<4xf32> {tg.init = {kind = "zeros"}, tg.name = "lstm2.p_o", tg.role = "param"}, %arg18: tensor<4x5xf32> {tg.init = {kind = "glorot_uniform"}, tg.name = "out.kernel", tg.role = "param"}, %arg19: tensor<5xf32> {tg.init = {kind = "zeros"}, tg.name = "out.bias", tg.role = "param"}) -> (tensor<f32> {tg.name = "loss"}, tensor<6x5xf32> {tg.name = "logits"}, tensor<2x4xf32> {tg.alias = 2 : i64, tg.name = "lstm1.h"}, tensor<2x4xf32> {tg.alias = 3 : i64, tg.name = "lstm1.c"}, tensor<2x4xf32> {tg.alias = 4 : i64, tg.name = "lstm2.h"}, tensor<2x4xf32> {tg.alias = 5 : i64, tg.name = "lstm2.c"}) {
    %0 = tg.one_hot %arg0 : (tensor<2x3xi32>) -> tensor<2x3x5xf32>
    %1 = tg.transpose %0 {perm = array<i64: 1, 0, 2>} : (tensor<2x3x5xf32>) -> tensor<3x2x5xf32>
    %2 = tg.reshape %1 : (tensor<3x2x5xf32>) -> tensor<6x5xf32>
    %3 = tg.matmul %2, %arg6 : (tensor<6x5xf32>, tensor<5x16xf32>) -> tensor<6x16xf32>
    %4 = tg.add %3, %arg8 : (tensor<6x16xf32>, tensor<16xf32>) -> tensor<6x16xf32>
    %5 = tg.reshape %4 : (tensor<6x16xf32>) -> tensor<3x2x16xf32>
    %6:3 = tg.scan(%5) carry(%arg2, %arg3) : (tensor<3x2x16xf32>, tensor<2x4xf32>, tensor<2x4xf32>) -> (tensor<2x4xf32>, tensor<2x4xf32>, tensor<3x2x4xf32>) {
    ^bb0(%arg20: tensor<2x16xf32>, %arg21: tensor<2x4xf32>, %arg22: tensor<2x4xf32>):
      %20 = tg.matmul %arg21, %arg7 : (tensor<2x4xf32>, tensor<4x16xf32>) -> tensor<2x16xf32>
      %21 = tg.add %arg20, %20 : (tensor<2x16xf32>, tensor<2x16xf32>) -> tensor<2x16xf32>
      %22 = tg.slice %21 {limit = array<i64: 2, 4>, start = array<i64: 0, 0>, strides = array<i64: 1, 1>} : (tensor<2x16xf32>) -> tensor<2x4xf32>
      %23 = tg.slice %21 {limit = array<i64: 2, 8>, start = array<i64: 0, 4>, strides = array<i64: 1, 1>} : (tensor<2x16xf32>) -> tensor<2x4xf32>
      %24 = tg.constant dense<1.000000e+00> : tensor<f32>
      %25 = tg.add %23, %24 : (tensor<2x4xf32>, tensor<f32>) -> tensor<2x4xf32>
      %26 = tg.slice %21 {limit = array<i64: 2, 12>, start = array<i64: 0, 8>, strides = array<i64: 1, 1>} : (tensor<2x16xf32>) -> tensor<2x4xf32>
      %27 = tg.slice %21 {limit = array<i64: 2, 16>, start = array<i64: 0, 12>, strides = array<i64: 1, 1>} : (tensor<2x16xf32>) -> tensor<2x4xf32>
      %28 = tg.mul %arg9, %arg22 : (tensor<4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
      %29 = tg.add %22, %28 : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
      %30 = tg.mul %arg10, %arg22 : (tensor<4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
      %31 = tg.add %25, %30 : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
      %32 = tg.sigmoid %29 : tensor<2x4xf32>
      %33 = tg.sigmoid %31 : tensor<2x4xf32>
      %34 = tg.tanh %26 : tensor<2x4xf32>
      %35 = tg.mul %32, %34 : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
      %36 = tg.mul %33, %arg22 : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
      %37 = tg.add %36, %35 : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
      %38 = tg.mul %arg11, %37 : (tensor<4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
      %39 = tg.add %27, %38 : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
      %40 = tg.tanh %37 : tensor<2x4xf32>
      %41 = tg.sigmoid %39 : tensor<2x4xf32>
      %42 = tg.mul %41, %40 : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
      tg.yield %42, %37, %42 : tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>
    }
    %7 = tg.transpose %6#2 {perm = array<i64: 1, 0, 2>} : (tensor<3x2x4xf32>) -> tensor<2x3x4xf32>
    %8 = tg.transpose %7 {perm = array<i64: 1, 0, 2>} : (tensor<2x3x4xf32>) -> tensor<3x2x4xf32>
    %9 = tg.reshape %8 : (tensor<3x2x4xf32>) -> tensor<6x4xf32>
    %10 = tg.matmul %9, %arg12 : (tensor<6x4xf32>, tensor<4x16xf32>) -> tensor<6x16xf32>
    %11 = tg.add %10, %arg14 : (tensor<6x16xf32>, tensor<16xf32>) -> tensor<6x16xf32>
    %12 = tg.reshape %11 : (tensor<6x16xf32>) -> tensor<3x2x16xf32>
    %13:3 = tg.scan(%12) carry(%arg4, %arg5) : (tensor<3x2x16xf32>, tensor<2x4xf32>, tensor<2x4xf32>) -> (tensor<2x4xf32>, tensor<2x4xf32>, tensor<3x2x4xf32>) {
    ^bb0(%arg20: tensor<2x16xf32>, %arg21: tensor<2x4xf32>, %arg22: tensor<2x4xf32>):
      %20 = tg.matmul %arg21, %arg13 : (tensor<2x4xf32>, tensor<4x16xf32>) -> tensor<2x16xf32>
      %21 = tg.add %arg20, %20 : (tensor<2x16xf32>, tensor<2x16xf32>) -> tensor<2x16xf32>
      %22 = tg.slice %21 {limit = array<i64: 2, 4>, start = array<i64: 0, 0>, strides = array<i64: 1, 1>} : (tensor<2x16xf32>) -> tensor<2x4xf32>
      %23 = tg.slice %21 {limit = array<i64: 2, 8>, start = array<i64: 0, 4>, strides = array<i64: 1, 1>} : (tensor<2x16xf32>) -> tensor<2x4xf32>
      %24 = tg.constant dense<1.000000e+00> : tensor<f32>
      %25 = tg.add %23, %24 : (tensor<2x4xf32>, tensor<f32>) -> tensor<2x4xf32>
      %26 = tg.slice %21 {limit = array<i64: 2, 12>, start = array<i64: 0, 8>, strides = array<i64: 1, 1>} : (tensor<2x16xf32>) -> tensor<2x4xf32>
      %27 = tg.slice %21 {limit = array<i64: 2, 16>, start = array<i64: 0, 12>, strides = array<i64: 1, 1>} : (tensor<2x16xf32>) -> tensor<2x4xf32>
      %28 = tg.mul %arg15, %arg22 : (tensor<4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
      %29 = tg.add %22, %28 : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
      %30 = tg.mul %arg16, %arg22 : (tensor<4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
      %31 = tg.add %25, %30 : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
      %32 = tg.sigmoid %29 : tensor<2x4xf32>
      %33 = tg.sigmoid %31 : tensor<2x4xf32>
      %34 = tg.tanh %26 : tensor<2x4xf32>
      %35 = tg.mul %32, %34 : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
      %36 = tg.mul %33, %arg22 : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
      %37 = tg.add %36, %35 : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
      %38 = tg.mul %arg17, %37 : (tensor<4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
      %39 = tg.add %27, %38 : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
      %40 = tg.tanh %37 : tensor<2x4xf32>
      %41 = tg.sigmoid %39 : tensor<2x4xf32>
      %42 = tg.mul %41, %40 : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
      tg.yield %42, %37, %42 : tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>
    }
    %14 = tg.transpose %13#2 {perm = array<i64: 1, 0, 2>} : (tensor<3x2x4xf32>) -> tensor<2x3x4xf32>
    %15 = tg.reshape %14 : (tensor<2x3x4xf32>) -> tensor<6x4xf32>
    %16 = tg.matmul %15, %arg18 : (tensor<6x4xf32>, tensor<4x5xf32>) -> tensor<6x5xf32>
    %17 = tg.add %16, %arg19 : (tensor<6x5xf32>, tensor<5xf32>) -> tensor<6x5xf32>
    %18 = tg.reshape %arg1 : (tensor<2x3xi32>) -> tensor<6xi32>
    %19 = tg.softmax_cross_entropy %17, %18 : (tensor<6x5xf32>, tensor<6xi32>) -> tensor<f32>
    return %19, %17, %6#0, %6#1, %13#0, %13#1 : tensor<f32>, tensor<6x5xf32>, tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>
  }
}
