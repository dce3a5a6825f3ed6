func.func @f(%a: tensor<2x3xf32> {tg.name = "a", tg.role = "data"}) -> (tensor<2x3xf32> {tg.name = "y"}) {
  %0 = tg.relu %a : tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}
