module attributes {tg.train = {optimizer = {kind = "sgd"}}} {
 func.func @f(%a: tensor<2xf32> {tg.name = "a", tg.role = "data"}) -> (tensor<f32> {tg.name = "loss"}) {
  %0 = tg.reduce %a {kind = "sum"} : (tensor<2xf32>) -> tensor<f32>
  return %0 : tensor<f32>
 }
}
