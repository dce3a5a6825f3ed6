//===- ManifestTest.cpp - the one manifest reader and its writer ----------===//
#include "support/Manifest.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

using ::testing::HasSubstr;

namespace tg {
namespace {

Manifest sample() {
  Manifest m;
  m.compiler = "test";
  m.triple = "x86_64-pc-linux-gnu";
  m.cpu = "x86-64-v2";
  m.features = {"sse4.2"};
  m.targetCpu = "x86-64-v2";
  TrainInfo t;
  t.function = "mlp";
  t.loss = "loss";
  t.optimizer = OptimizerKind::Adam;
  t.lr = 0.001;
  t.json = R"({"function":"mlp","loss":"loss","optimizer":{"kind":"adam","lr":0.001}})";
  m.train = t;
  EntrySpec e;
  e.name = "train_step";
  e.symbol = "tg_entry_train_step";
  e.kind = "train_step";
  BufferSpec w{
      "w", Role::Param, DType::f32, {3, 2}, InitSpec{"uniform", {{"low", -1}, {"high", 1}}}};
  BufferSpec lr{"lr", Role::Hyper, DType::f32, {}, std::nullopt, 0.001};
  BufferSpec loss{"loss", Role::None, DType::f32, {}};
  BufferSpec w2{"w", Role::None, DType::f32, {3, 2}};
  w2.alias = 0;
  e.args = {w, lr};
  e.results = {loss, w2};
  e.arenaBytes = 4096;
  e.tempBytes = 6144;
  m.entries = {e};
  m.kernels = {KernelCall{
      "tgrt_matmul_f32", {{{2, 3}, {3, 1}}, {{3, 2}, {2, 1}}, {{2, 2}, {2, 1}}}, {0, 0}}};
  return m;
}

TEST(Manifest, WrittenTextReadsBackTheSame) {
  Manifest m = sample();
  auto back = parseManifest(m.toJson(), "a.tgx");
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->cpu, "x86-64-v2");
  EXPECT_EQ(back->features, m.features);
  ASSERT_TRUE(back->train.has_value());
  EXPECT_EQ(back->train->optimizer, OptimizerKind::Adam);
  EXPECT_DOUBLE_EQ(back->train->lr, 0.001);
  ASSERT_EQ(back->entries.size(), 1u);
  const EntrySpec &e = back->entries[0];
  ASSERT_NE(e.findArg("w"), nullptr);
  EXPECT_EQ(e.findArg("w")->role, Role::Param);
  EXPECT_EQ(e.findArg("w")->shape, (std::vector<int64_t>{3, 2}));
  EXPECT_EQ(e.findArg("w")->init->kind, "uniform");
  EXPECT_DOUBLE_EQ(e.findArg("w")->init->fields.at("low"), -1);
  EXPECT_EQ(e.findArg("lr")->role, Role::Hyper);
  EXPECT_DOUBLE_EQ(*e.findArg("lr")->defaultValue, 0.001);
  EXPECT_EQ(e.bufferOf(*e.findResult("w")), "w");
  EXPECT_EQ(e.findResult("w")->alias, 0);
  EXPECT_EQ(e.findArg("w")->byteSize(), 24u);
  EXPECT_EQ(e.arenaBytes, 4096);
  EXPECT_EQ(e.tempBytes, 6144);
  ASSERT_EQ(back->kernels.size(), 1u);
  EXPECT_EQ(back->kernels[0].operands[1].sizes, (std::vector<int64_t>{3, 2}));
  EXPECT_EQ(back->toJson(), m.toJson());
}

/// The message of parsing `m`'s text after `edit` replaced `from` by `to`.
std::string errorAfter(const std::string &from, const std::string &to) {
  std::string text = sample().toJson();
  size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at == std::string::npos)
    return "";
  text.replace(at, from.size(), to);
  auto m = parseManifest(text, "bad.tgx");
  EXPECT_FALSE(m.ok());
  return m.ok() ? "" : std::string(m.status().message());
}

TEST(Manifest, EveryBadFieldIsNamed) {
  EXPECT_THAT(errorAfter("\"role\": \"param\"", "\"role\": \"weights\""),
              HasSubstr("bad.tgx: manifest: train_step.args: 'w' has unknown role \"weights\""));
  EXPECT_THAT(errorAfter("\"dtype\": \"f32\"", "\"dtype\": \"f8\""),
              HasSubstr("'w' has unknown dtype 'f8'"));
  EXPECT_THAT(errorAfter("\"kind\": \"adam\"", "\"kind\": \"adagrad\""),
              HasSubstr("train.optimizer: unknown optimizer"));
  EXPECT_THAT(errorAfter("\"alias\": 0", "\"alias\": 7"),
              HasSubstr("result 'w' aliases argument #7, which does not exist"));
  EXPECT_THAT(errorAfter("\"alias\": 0", "\"alias\": -1"), HasSubstr("'w' has a bad alias -1"));
  EXPECT_THAT(errorAfter("\"format\": \"tgx\"", "\"format\": \"onnx\""),
              HasSubstr("format: not a tgx manifest"));
  EXPECT_THAT(errorAfter("\"symbol\": \"tgrt_matmul_f32\"", "\"symbol\": 3"),
              HasSubstr("kernels: missing string 'symbol'"));
  EXPECT_THAT(errorAfter("\"entries\"", "\"entrees\""), HasSubstr("entries: missing"));
  EXPECT_THAT(errorAfter("\"arena_bytes\": 4096", "\"arena_bytes\": -4096"),
              HasSubstr("train_step: 'arena_bytes' must be a byte count"));
  // Buffer sizes: overflow-checked and bounded, named with the shape.
  EXPECT_THAT(errorAfter("\"shape\": [", "\"shape\": [4611686018427387904,"),
              HasSubstr("'w' of shape [4611686018427387904, 3, 2] needs more than 1 TiB"));
  EXPECT_THAT(errorAfter("\"shape\": [", "\"shape\": [1000000, 1000000,"),
              HasSubstr("'w' of shape [1000000, 1000000, 3, 2] needs more than 1 TiB"));
  auto garbage = parseManifest("{not json", "x.tgx");
  ASSERT_FALSE(garbage.ok());
  EXPECT_THAT(std::string(garbage.status().message()), HasSubstr("x.tgx: manifest: top level"));
}

TEST(Manifest, ANameThatIsNotUtf8IsAnErrorNotACrash) {
  Manifest m = sample();
  ASSERT_TRUE(m.serialize().ok());
  m.entries[0].name = "step\xff";
  auto text = m.serialize();
  ASSERT_FALSE(text.ok());
  EXPECT_THAT(std::string(text.status().message()), HasSubstr("not valid UTF-8"));
  EXPECT_THAT(m.toJson(), HasSubstr("step\xef\xbf\xbd")); // U+FFFD
}

TEST(Manifest, ANewerVersionIsAFailedPrecondition) {
  std::string text = sample().toJson();
  text.replace(text.find("\"version\": 1"), 12, "\"version\": 2");
  auto m = parseManifest(text, "new.tgx");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(m.status().message()), HasSubstr("format version 2 is not supported"));
}

TEST(Vocabulary, EveryRoleAndOptimizerRoundTripsThroughItsName) {
  for (Role r : kAllRoles)
    EXPECT_EQ(parseRole(roleName(r)), r);
  for (OptimizerKind k : kAllOptimizers)
    EXPECT_EQ(parseOptimizer(optimizerName(k)), k);
  EXPECT_FALSE(parseRole("weights").has_value());
  EXPECT_FALSE(parseOptimizer("adagrad").has_value());
}

} // namespace
} // namespace tg
