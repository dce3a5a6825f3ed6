// A small model with a shape error (fc1.kernel has 748 rows instead of 784),
// used by frontend-examples.test to check that the error is located.
func.func @bad_mlp(%image: tensor<2x784xf32> {tg.role = "data", tg.name = "image"},
                   %w: tensor<748x10xf32> {tg.role = "param", tg.name = "fc1.kernel", tg.init = {kind = "glorot_uniform"}},
                   %b: tensor<10xf32> {tg.role = "param", tg.name = "fc1.bias", tg.init = {kind = "zeros"}})
    -> (tensor<2x10xf32> {tg.name = "logits"}) {
  %0 = tg.matmul %image, %w : (tensor<2x784xf32>, tensor<748x10xf32>) -> tensor<2x10xf32>
  %1 = tg.add %0, %b : (tensor<2x10xf32>, tensor<10xf32>) -> tensor<2x10xf32>
  return %1 : tensor<2x10xf32>
}
