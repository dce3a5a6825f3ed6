//===- FusedOpsTest.cpp - interpreter semantics of the fused ops ----------===//
#include "TestUtil.h"

namespace tg {
namespace {

/// fused op == the unfused chain it replaces, for every activation.
TEST(FusedOps, MatchTheUnfusedChains) {
  for (std::string act : {"none", "relu", "tanh", "sigmoid"}) {
    std::string chain =
        act == "none" ? "%y = tg.add %z, %b : (tensor<3x5xf32>, tensor<5xf32>) -> tensor<3x5xf32>"
                      : "%s = tg.add %z, %b : (tensor<3x5xf32>, tensor<5xf32>) -> tensor<3x5xf32>\n"
                        "  %y = tg." +
                            act + " %s : tensor<3x5xf32>";
    std::string convChain = act == "none" ? "%v = tg.add %q, %cb : (tensor<2x4x3x3xf32>, "
                                            "tensor<4x1x1xf32>) -> tensor<2x4x3x3xf32>"
                                          : "%t = tg.add %q, %cb : (tensor<2x4x3x3xf32>, "
                                            "tensor<4x1x1xf32>) -> tensor<2x4x3x3xf32>\n"
                                            "  %v = tg." +
                                                act + " %t : tensor<2x4x3x3xf32>";
    std::string text =
        R"(
      func.func @f(%x: tensor<3x4xf32> {tg.name = "x"}, %w: tensor<4x5xf32> {tg.name = "w"}, %b: tensor<5xf32> {tg.name = "b"},
                   %i: tensor<2x3x5x5xf32> {tg.name = "i"}, %k: tensor<4x3x3x3xf32> {tg.name = "k"}, %c: tensor<4xf32> {tg.name = "c"})
          -> (tensor<3x5xf32> {tg.name = "fused"}, tensor<3x5xf32> {tg.name = "chain"},
              tensor<2x4x3x3xf32> {tg.name = "fconv"}, tensor<2x4x3x3xf32> {tg.name = "cconv"}) {
        %f = tg.fused_matmul %x, %w, %b {activation = ")" +
        act + R"("} : (tensor<3x4xf32>, tensor<4x5xf32>, tensor<5xf32>) -> tensor<3x5xf32>
        %z = tg.matmul %x, %w : (tensor<3x4xf32>, tensor<4x5xf32>) -> tensor<3x5xf32>
        )" +
        chain + R"(
        %g = tg.fused_conv2d %i, %k, %c {activation = ")" +
        act +
        R"("} : (tensor<2x3x5x5xf32>, tensor<4x3x3x3xf32>, tensor<4xf32>) -> tensor<2x4x3x3xf32>
        %q = tg.conv2d %i, %k : (tensor<2x3x5x5xf32>, tensor<4x3x3x3xf32>) -> tensor<2x4x3x3xf32>
        %cb = tg.reshape %c : (tensor<4xf32>) -> tensor<4x1x1xf32>
        )" +
        convChain + R"(
        return %f, %y, %g, %v : tensor<3x5xf32>, tensor<3x5xf32>, tensor<2x4x3x3xf32>, tensor<2x4x3x3xf32>
      })";
    auto m = Module::parse(text);
    ASSERT_TRUE(m.ok()) << act << ": " << m.status();
    NamedTensors in = {{"x", testing::randomTensor({3, 4}, 1)},
                       {"w", testing::randomTensor({4, 5}, 2)},
                       {"b", testing::randomTensor({5}, 3)},
                       {"i", testing::randomTensor({2, 3, 5, 5}, 4)},
                       {"k", testing::randomTensor({4, 3, 3, 3}, 5)},
                       {"c", testing::randomTensor({4}, 6)}};
    auto out = interpretNamed(*m, "f", in, {/*float64=*/true});
    ASSERT_TRUE(out.ok()) << out.status();
    EXPECT_EQ(out->at("fused").data, out->at("chain").data) << act;
    EXPECT_EQ(out->at("fconv").data, out->at("cconv").data) << act;
  }
}

/// conv2d_backprop_filter_bias == conv2d_backprop_filter and the sum of
/// grad_output over N, H and W.
TEST(FusedOps, FilterAndBiasGradientsMatchTheirParts) {
  auto m = Module::parse(R"(
    func.func @f(%x: tensor<2x3x6x6xf32> {tg.name = "x"}, %dy: tensor<2x4x3x3xf32> {tg.name = "dy"})
        -> (tensor<4x3x3x3xf32> {tg.name = "dw"}, tensor<4xf32> {tg.name = "db"},
            tensor<4x3x3x3xf32> {tg.name = "w2"}, tensor<4xf32> {tg.name = "b2"}) {
      %dw, %db = tg.conv2d_backprop_filter_bias %x, %dy {strides = array<i64: 2, 2>, padding = array<i64: 1, 0, 1, 0>}
          : (tensor<2x3x6x6xf32>, tensor<2x4x3x3xf32>) -> (tensor<4x3x3x3xf32>, tensor<4xf32>)
      %w2 = tg.conv2d_backprop_filter %x, %dy {strides = array<i64: 2, 2>, padding = array<i64: 1, 0, 1, 0>}
          : (tensor<2x3x6x6xf32>, tensor<2x4x3x3xf32>) -> tensor<4x3x3x3xf32>
      %b2 = tg.reduce %dy {kind = "sum", axes = array<i64: 0, 2, 3>} : (tensor<2x4x3x3xf32>) -> tensor<4xf32>
      return %dw, %db, %w2, %b2 : tensor<4x3x3x3xf32>, tensor<4xf32>, tensor<4x3x3x3xf32>, tensor<4xf32>
    })");
  ASSERT_TRUE(m.ok()) << m.status();
  NamedTensors in = {{"x", testing::randomTensor({2, 3, 6, 6}, 1)},
                     {"dy", testing::randomTensor({2, 4, 3, 3}, 2)}};
  auto out = interpretNamed(*m, "f", in, {/*float64=*/true});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->at("dw").data, out->at("w2").data);
  EXPECT_EQ(out->at("db").data, out->at("b2").data);
  EXPECT_NE(out->at("db").data, std::vector<double>(4, 0.0));
}

} // namespace
} // namespace tg
