//===- DataParallelTest.cpp - compiled collectives against references ----===//
//
// One process: N ranks are threads joined by the thread-group communicator
// (the one --emulate-world-size uses; tests/dist/train.sh checks that it
// gives the bits of mpirun). References are computed by hand from sessions
// without collectives.
//
//===----------------------------------------------------------------------===//
#include "comm/Communicator.h"
#include "train/Internal.h"
#include "support/Manifest.h"
#include "tg/Compile.h"
#include "tg/Graph.h"
#include "tg/Layers.h"
#include "tg/Ops.h"
#include "tg/Optim.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <random>
#include <set>
#include <thread>

using namespace tg;
using ::testing::HasSubstr;

namespace {

constexpr int64_t kFeatures = 6, kClasses = 3;

/// A small MLP with a training spec, per-rank batch `batch`.
void mlp(Graph &g, int64_t batch, const optim::Optimizer &opt) {
  Value x = g.data("x", {batch, kFeatures});
  Value y = g.label("y", {batch});
  Value h = layers::Dense(5, "fc1").activation(layers::Activation::relu)(x);
  Value logits = layers::Dense(kClasses, "fc2")(h);
  g.minimize(ops::softmaxCrossEntropy(logits, y), opt);
}

/// Example `i` of a fixed random dataset.
void example(int64_t i, std::vector<double> &x, std::vector<double> &y) {
  std::mt19937 rng(uint32_t(1000 + i));
  std::uniform_real_distribution<double> u(-1, 1);
  for (int64_t f = 0; f < kFeatures; ++f)
    x.push_back(float(u(rng)));
  y.push_back(double(i % kClasses));
}

/// Feeds examples [first, first + batch) and runs one train step.
void step(Executable &exe, int64_t first, int64_t batch) {
  std::vector<double> x, y;
  for (int64_t i = first; i < first + batch; ++i)
    example(i, x, y);
  ASSERT_TRUE(exe.set("x", *Tensor::of(DType::f32, {batch, kFeatures}, x)).ok());
  ASSERT_TRUE(exe.set("y", *Tensor::of(DType::i32, {batch}, y)).ok());
  absl::Status s = exe.run("train_step");
  ASSERT_TRUE(s.ok()) << s;
}

Manifest manifestOf(const Executable &exe) {
  auto m = parseManifest(exe.manifest(), "test");
  EXPECT_TRUE(m.ok()) << m.status();
  return m.ok() ? *m : Manifest();
}

/// Runs `body(rank, exe)` on one thread per rank, each with its own
/// executable joined to the others by a thread group.
void runRanks(std::vector<Executable> &exes, const std::function<void(int, Executable &)> &body) {
  auto group = dist::createThreadGroup(int(exes.size()));
  std::vector<std::thread> threads;
  for (size_t r = 0; r < exes.size(); ++r) {
    ASSERT_TRUE(exes[r].session().setCommunicator(group[r].get()).ok());
    threads.emplace_back([&, r] { body(int(r), exes[r]); });
  }
  for (std::thread &t : threads)
    t.join();
}

std::vector<Executable> compileRanks(const Graph &g, const CompileOptions &o, int n) {
  std::vector<Executable> exes;
  for (int r = 0; r < n; ++r) {
    auto exe = compile(g, o);
    EXPECT_TRUE(exe.ok()) << exe.status();
    if (exe.ok())
      exes.push_back(std::move(*exe));
  }
  return exes;
}

CompileOptions dataParallel(const std::string &mode) {
  CompileOptions o;
  o.dataParallel = mode;
  return o;
}

/// The buffers average_params averages (params and optimizer slots).
std::vector<std::string> averaged(const Executable &exe) {
  std::vector<std::string> names;
  Manifest m = manifestOf(exe);
  const EntrySpec *e = m.findEntry("average_params");
  EXPECT_NE(e, nullptr);
  if (e)
    for (const BufferSpec &a : e->args)
      names.push_back(a.name);
  return names;
}

TEST(DataParallel, AverageEveryKStepsMatchesTheHandComputedMean) {
  // Adam, so the optimizer state is averaged too (DL4J's saveUpdater).
  constexpr int kRanks = 2, kK = 4, kBatch = 3;
  Graph g("mlp");
  mlp(g, kBatch, optim::Adam(0.05));
  std::vector<Executable> dp = compileRanks(g, dataParallel("average:4"), kRanks);
  std::vector<Executable> ref = compileRanks(g, dataParallel("average:4"), kRanks);
  ASSERT_EQ(dp.size(), size_t(kRanks));
  ASSERT_EQ(ref.size(), size_t(kRanks));
  std::vector<std::string> names = averaged(dp[0]);
  EXPECT_THAT(names, ::testing::Contains("fc1.kernel"));
  EXPECT_THAT(names, ::testing::Contains("fc1.kernel.m"));
  EXPECT_THAT(names, ::testing::Not(::testing::Contains("step")));

  // Two rounds: K local steps on each rank's own examples, then the mean.
  for (int round = 0; round < 2; ++round) {
    auto local = [&](int r, Executable &exe) {
      for (int k = 0; k < kK; ++k)
        step(exe, ((round * kK + k) * kRanks + r) * kBatch, kBatch);
    };
    runRanks(dp, [&](int r, Executable &exe) {
      local(r, exe);
      absl::Status s = exe.run("average_params");
      EXPECT_TRUE(s.ok()) << s;
    });
    for (int r = 0; r < kRanks; ++r) // no communicator: no averaging
      local(r, ref[size_t(r)]);
    for (const std::string &name : names) {
      auto a = ref[0].get(name), b = ref[1].get(name);
      ASSERT_TRUE(a.ok() && b.ok()) << name;
      Tensor mean = *a;
      for (size_t i = 0; i < mean.data.size(); ++i) // in f32, rank order: (a + b) / 2
        mean.data[i] = double((float(a->data[i]) + float(b->data[i])) / 2.0f);
      for (Executable &exe : ref)
        ASSERT_TRUE(exe.set(name, mean).ok());
      for (int r = 0; r < kRanks; ++r) {
        auto got = dp[size_t(r)].get(name);
        ASSERT_TRUE(got.ok());
        ASSERT_EQ(got->data, mean.data) << name << " on rank " << r << " after round " << round;
      }
    }
  }
  EXPECT_EQ(dp[0].get("step")->data[0], 2.0 * kK) << "the step counter advances by K per round";
}

TEST(DataParallel, AllreduceOfTwoHalvesMatchesTheWholeBatch) {
  // 2 ranks x batch 2 against 1 x batch 4: the same update up to rounding
  // (a mean of two means rounds differently from one mean).
  Graph half("half"), whole("whole");
  mlp(half, 2, optim::SGD(0.5));
  mlp(whole, 4, optim::SGD(0.5));
  std::vector<Executable> dp = compileRanks(half, dataParallel("allreduce"), 2);
  std::vector<Executable> ref = compileRanks(whole, CompileOptions(), 1);
  ASSERT_EQ(dp.size(), 2u);
  ASSERT_EQ(ref.size(), 1u);
  for (int s = 0; s < 3; ++s) {
    runRanks(dp, [&](int r, Executable &exe) { step(exe, s * 4 + r * 2, 2); });
    step(ref[0], s * 4, 4);
    for (const std::string name : {"loss", "fc1.kernel", "fc1.bias", "fc2.kernel", "fc2.bias"}) {
      auto want = ref[0].get(name), got0 = dp[0].get(name), got1 = dp[1].get(name);
      ASSERT_TRUE(want.ok() && got0.ok() && got1.ok()) << name;
      ASSERT_EQ(got0->data, got1->data) << name << ": ranks differ";
      for (size_t i = 0; i < want->data.size(); ++i)
        ASSERT_NEAR(got0->data[i], want->data[i], 1e-6 * std::max(1.0, std::fabs(want->data[i])))
            << name << "[" << i << "] after step " << s + 1;
    }
  }
}

TEST(DataParallel, AverageEveryStepWithSgdEqualsAllreduce) {
  Graph g("mlp");
  mlp(g, 2, optim::SGD(0.5));
  std::vector<Executable> avg = compileRanks(g, dataParallel("average:1"), 2);
  std::vector<Executable> all = compileRanks(g, dataParallel("allreduce"), 2);
  ASSERT_EQ(avg.size(), 2u);
  ASSERT_EQ(all.size(), 2u);
  for (int s = 0; s < 3; ++s) {
    runRanks(avg, [&](int r, Executable &exe) {
      step(exe, s * 4 + r * 2, 2);
      EXPECT_TRUE(exe.run("average_params").ok());
    });
    runRanks(all, [&](int r, Executable &exe) { step(exe, s * 4 + r * 2, 2); });
  }
  for (const std::string name : {"fc1.kernel", "fc1.bias", "fc2.kernel", "fc2.bias"}) {
    auto a = avg[0].get(name), b = all[0].get(name);
    ASSERT_TRUE(a.ok() && b.ok());
    for (size_t i = 0; i < a->data.size(); ++i)
      ASSERT_NEAR(a->data[i], b->data[i], 1e-6 * std::max(1.0, std::fabs(b->data[i])))
          << name << "[" << i << "]";
  }
}

TEST(DataParallel, OneRankEqualsThePlainArtifact) {
  Graph g("mlp");
  mlp(g, 4, optim::Adam(0.01));
  std::vector<Executable> dp = compileRanks(g, dataParallel("allreduce"), 1);
  std::vector<Executable> plain = compileRanks(g, CompileOptions(), 1);
  ASSERT_EQ(dp.size(), 1u);
  ASSERT_EQ(plain.size(), 1u);
  for (int s = 0; s < 5; ++s) {
    step(dp[0], s * 4, 4); // no communicator: one rank
    step(plain[0], s * 4, 4);
  }
  for (const std::string name : {"loss", "fc1.kernel", "fc1.kernel.v", "fc2.bias"})
    EXPECT_EQ(dp[0].get(name)->data, plain[0].get(name)->data) << name;
}

TEST(DataParallel, ThePlanIsDeterministicAndHashed) {
  Graph g("mlp");
  mlp(g, 4, optim::Adam(0.01));
  auto a = compile(g, dataParallel("allreduce")), b = compile(g, dataParallel("allreduce"));
  CompileOptions small = dataParallel("allreduce");
  small.bucketCapMb = 0.0001; // 104 bytes: one bucket per gradient
  auto c = compile(g, small);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  Manifest ma = manifestOf(*a), mb = manifestOf(*b), mc = manifestOf(*c);
  EXPECT_EQ(ma.dataParallel.planHash.size(), 16u);
  EXPECT_EQ(ma.dataParallel.planHash, mb.dataParallel.planHash);
  EXPECT_NE(ma.dataParallel.planHash, mc.dataParallel.planHash);
  // Small cap: the gradients in the order backward finishes them (the last
  // layer first), each alone except where two fit; the metrics last.
  ASSERT_GE(mc.dataParallel.buckets.size(), 3u);
  std::vector<std::string> order;
  for (const BucketSpec &bucket : mc.dataParallel.buckets)
    order.insert(order.end(), bucket.buffers.begin(), bucket.buffers.end());
  auto at = [&](const std::string &n) {
    return std::find(order.begin(), order.end(), n) - order.begin();
  };
  EXPECT_LT(std::max(at("fc2.kernel"), at("fc2.bias")), std::min(at("fc1.kernel"), at("fc1.bias")))
      << "the last layer's gradients come first: " << ::testing::PrintToString(order);
  EXPECT_THAT(mc.dataParallel.buckets.back().buffers, ::testing::ElementsAre("loss"));
  std::set<std::string> grads;
  for (const BucketSpec &bucket : mc.dataParallel.buckets) {
    int64_t bytes = bucket.elements * 4;
    if (bucket.buffers.size() > 1 && bucket.buffers.front() != "loss") {
      EXPECT_LE(bytes, mc.dataParallel.bucketCapBytes) << "bucket " << bucket.id;
    }
    grads.insert(bucket.buffers.begin(), bucket.buffers.end());
  }
  EXPECT_EQ(grads.count("fc1.kernel") + grads.count("fc1.bias") + grads.count("fc2.kernel"), 3u);
}

TEST(DataParallel, BadModesAreErrors) {
  Graph g("mlp");
  mlp(g, 4, optim::SGD(0.1));
  for (const std::string mode : {"average:0", "average:x", "ring"}) {
    auto exe = compile(g, dataParallel(mode));
    ASSERT_FALSE(exe.ok()) << mode;
    EXPECT_THAT(std::string(exe.status().message()),
                HasSubstr("--data-parallel needs none, allreduce or average:K"))
        << mode;
  }
  Graph noTrain("f");
  Value x = noTrain.data("x", {2});
  noTrain.output("y", ops::reduceSum(x));
  auto exe = compile(noTrain, dataParallel("allreduce"));
  ASSERT_FALSE(exe.ok());
  EXPECT_THAT(std::string(exe.status().message()), HasSubstr("needs a train_step"));
}

TEST(DataParallel, ShardsAreDisjointCoverTheEpochAndReshuffle) {
  // 103 examples, 3 ranks x batch 4: 8 global batches of 12, 7 left over.
  data::Column c;
  c.spec = {"x", "f32", {4, 1}};
  c.rows = 103;
  c.bytes.resize(103 * 4);
  auto ds = data::Dataset::fromColumns({c});
  ASSERT_TRUE(ds.ok()) << ds.status();
  trainer::Schedule s;
  s.batch = 4;
  s.world = 3;
  s.perEpoch = 103 / 12;
  std::vector<int64_t> order = ds->order(/*seed=*/5, /*epoch=*/0, /*shuffle=*/true);
  for (int r = 0; r < 3; ++r) // each epoch's permutation is another, the same on every rank
    EXPECT_NE(trainer::shardOrder(order, s, r, false),
              trainer::shardOrder(ds->order(5, 1, true), s, r, false));
  EXPECT_EQ(order, ds->order(5, 0, true));
  std::vector<std::vector<int64_t>> shards;
  std::multiset<int64_t> all;
  for (int r = 0; r < 3; ++r) {
    shards.push_back(trainer::shardOrder(order, s, r, /*pad=*/false));
    EXPECT_EQ(shards.back().size(), size_t(s.perEpoch * s.batch)) << "rank " << r;
    all.insert(shards.back().begin(), shards.back().end());
  }
  EXPECT_EQ(all.size(), size_t(8 * 12));
  EXPECT_EQ(std::set<int64_t>(all.begin(), all.end()).size(), all.size()) << "disjoint";
  // Global batch k is order[12k, 12k + 12): rank r's batch k is its r-th third.
  for (int64_t k = 0; k < s.perEpoch; ++k)
    for (int r = 0; r < 3; ++r)
      for (int64_t i = 0; i < 4; ++i)
        ASSERT_EQ(shards[size_t(r)][size_t(k * 4 + i)], order[size_t(k * 12 + r * 4 + i)]);
  // With --pad, the last global batch wraps around to the epoch's start.
  s.perEpoch = 9;
  std::vector<int64_t> last = trainer::shardOrder(order, s, 2, /*pad=*/true);
  ASSERT_EQ(last.size(), 36u);
  EXPECT_EQ(last[32], order[(8 * 12 + 8) % 103]);
  EXPECT_EQ(last[35], order[(8 * 12 + 11) % 103]);
}

TEST(DataParallel, ThreadGroupAbortWakesEveryRank) {
  auto group = dist::createThreadGroup(3, {});
  std::vector<absl::Status> status(3);
  std::vector<std::thread> threads;
  for (int r = 1; r < 3; ++r)
    threads.emplace_back([&, r] {
      float v = 1;
      status[size_t(r)] = group[size_t(r)]->allreduce(&v, 1, dist::ReduceOp::Sum, "bucket 0");
    });
  group[0]->abort("rank 0 could not read its data");
  for (std::thread &t : threads)
    t.join();
  for (int r = 1; r < 3; ++r) {
    EXPECT_EQ(status[size_t(r)].code(), absl::StatusCode::kAborted);
    EXPECT_THAT(std::string(status[size_t(r)].message()), HasSubstr("could not read its data"));
  }
}

TEST(DataParallel, ThreadGroupTimesOutNamingTheCollective) {
  dist::CommunicatorOptions o;
  o.timeoutSeconds = 0.2;
  auto group = dist::createThreadGroup(2, o);
  float v = 1;
  absl::Status s = group[0]->allreduce(&v, 1, dist::ReduceOp::Sum, "bucket 3 of train_step");
  EXPECT_EQ(s.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(std::string(s.message()), HasSubstr("rank 0 of 2: bucket 3 of train_step"));
}

} // namespace
