func.func @f(%x: tensor<8x1x28x28xf32> {tg.name = "x", tg.role = "data"}, %w: tensor<32x1x3x3xf32> {tg.name = "w", tg.role = "data"}) -> (tensor<8x32x28x28xf32> {tg.name = "y"}) {
  %0 = tg.conv2d %x, %w {dilations = array<i64: 4611686018427387904, 1>} : (tensor<8x1x28x28xf32>, tensor<32x1x3x3xf32>) -> tensor<8x32x28x28xf32>
  return %0 : tensor<8x32x28x28xf32>
}
