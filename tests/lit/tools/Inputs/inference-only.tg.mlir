module {
 func.func @f(%a: tensor<2xf32> {tg.name = "a", tg.role = "data"}) -> (tensor<f32> {tg.name = "y"}) {
  %0 = tg.reduce %a {kind = "sum"} : (tensor<2xf32>) -> tensor<f32>
  return %0 : tensor<f32>
 }
}
