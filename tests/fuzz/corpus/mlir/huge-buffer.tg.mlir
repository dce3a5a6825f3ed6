func.func @f(%a: tensor<150000000000xf32> {tg.name = "a", tg.role = "data"}) -> (tensor<150000000000xf32> {tg.name = "y"}) {
  %y = tg.relu %a : tensor<150000000000xf32>
  return %y : tensor<150000000000xf32>
}
