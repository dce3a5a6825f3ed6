//===- CommunicatorTest.cpp - the communicator at any world size ----------===//
//
// Run by ctest with 1 process (no launcher: the single-process communicator),
// and under mpirun with 2 and 3 ranks (MPI). Every assertion holds at any
// world size; each rank checks its own results and that every rank got the
// same bits.
//
//===----------------------------------------------------------------------===//
#include "comm/Communicator.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

using ::testing::HasSubstr;

namespace tg::dist {
namespace {

Communicator &world(Reduction reduction = Reduction::RankOrdered) {
  static std::unique_ptr<Communicator> ordered, library;
  std::unique_ptr<Communicator> &c = reduction == Reduction::RankOrdered ? ordered : library;
  if (!c) {
    CommunicatorOptions o;
    o.reduction = reduction;
    o.timeoutSeconds = 60;
    auto made = createCommunicator(o);
    EXPECT_TRUE(made.ok()) << made.status();
    c = std::move(*made);
  }
  return *c;
}

/// A contribution with values of very different magnitudes, so the order of
/// the additions shows in the bits.
std::vector<float> contribution(int rank, size_t n) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i)
    v[i] = float(std::sin(double(i) * 0.37 + rank) * std::pow(10.0, double((i + rank) % 7) - 3));
  return v;
}

/// The rank-ordered mean every rank must produce, computed locally.
std::vector<float> expectedMean(int ranks, size_t n) {
  std::vector<float> sum = contribution(0, n);
  for (int r = 1; r < ranks; ++r) {
    std::vector<float> c = contribution(r, n);
    for (size_t i = 0; i < n; ++i)
      sum[i] += c[i];
  }
  for (float &x : sum)
    x /= float(ranks);
  return sum;
}

/// `x` through bfloat16 (to nearest, ties to even), computed here apart from
/// Reduce.h.
float roundToBf16(float x) {
  uint32_t u;
  std::memcpy(&u, &x, 4);
  uint32_t lower = u & 0xffffu, upper = u & 0xffff0000u;
  if (lower > 0x8000u || (lower == 0x8000u && (upper & 0x10000u)))
    upper += 0x10000u;
  std::memcpy(&x, &upper, 4);
  return x;
}

/// True when every rank holds the same bytes.
bool sameOnEveryRank(Communicator &c, const std::vector<float> &v) {
  std::vector<float> all(v.size() * size_t(c.size()));
  EXPECT_TRUE(c.allgather(v.data(), v.size() * sizeof(float), all.data()).ok());
  for (int r = 1; r < c.size(); ++r)
    if (!v.empty() && // memcmp of null pointers is undefined even for 0 bytes
        std::memcmp(all.data(), all.data() + size_t(r) * v.size(), v.size() * sizeof(float)))
      return false;
  return true;
}

TEST(Communicator, RankAndSizeComeFromTheLauncher) {
  Communicator &c = world();
  EXPECT_EQ(c.kind(), launchedByMpiLauncher() ? "mpi" : "single-process");
  EXPECT_GE(c.rank(), 0);
  EXPECT_LT(c.rank(), c.size());
}

TEST(Communicator, RankOrderedMeanIsBitwiseTheSequentialOne) {
  Communicator &c = world();
  for (size_t n : {size_t(0), size_t(1), size_t(1000), size_t(3) << 20}) {
    std::vector<float> v = contribution(c.rank(), n);
    ASSERT_TRUE(c.allreduce(v.data(), n, ReduceOp::Mean, "test bucket").ok());
    std::vector<float> want = expectedMean(c.size(), n);
    EXPECT_TRUE(n == 0 || std::memcmp(v.data(), want.data(), n * sizeof(float)) == 0)
        << n << " floats";
    EXPECT_TRUE(sameOnEveryRank(c, v)) << n << " floats";
  }
}

TEST(Communicator, Bf16TransportIsTheRoundedRankOrderedMean) {
  Communicator &c = world();
  c.setCompression(Compression::Bf16, 0);
  uint64_t before = c.allreduceBytesSent();
  for (size_t n : {size_t(1), size_t(1001), size_t(1) << 20}) {
    // Started and blocking: the same bits.
    for (bool started : {false, true}) {
      std::vector<float> v = contribution(c.rank(), n);
      if (started) {
        auto r = c.allreduceStart(v.data(), n, ReduceOp::GradientMean, "bf16 bucket");
        ASSERT_TRUE(r.ok()) << r.status();
        ASSERT_TRUE(c.wait(*r).ok());
      } else {
        ASSERT_TRUE(c.allreduce(v.data(), n, ReduceOp::GradientMean, "bf16 bucket").ok());
      }
      // One rank: nothing travels, nothing is rounded.
      std::vector<float> want = contribution(0, n);
      if (c.size() > 1) {
        for (float &x : want)
          x = roundToBf16(x);
        for (int r = 1; r < c.size(); ++r) {
          std::vector<float> part = contribution(r, n);
          for (size_t i = 0; i < n; ++i)
            want[i] += roundToBf16(part[i]);
        }
        for (float &x : want)
          x = roundToBf16(x / float(c.size()));
      }
      for (size_t i = 0; i < n; ++i)
        ASSERT_EQ(v[i], want[i]) << i << " of " << n << (started ? " (started)" : "");
      EXPECT_TRUE(sameOnEveryRank(c, v)) << n << " floats";
    }
  }
  // Half the bytes of f32 on the wire.
  uint64_t sent = c.allreduceBytesSent() - before;
  // A loss or a metric (Mean, not GradientMean) is never rounded.
  std::vector<float> metric = contribution(c.rank(), 1000);
  ASSERT_TRUE(c.allreduce(metric.data(), metric.size(), ReduceOp::Mean, "metrics").ok());
  std::vector<float> exact = expectedMean(c.size(), 1000);
  EXPECT_EQ(std::memcmp(metric.data(), exact.data(), 1000 * sizeof(float)), 0);
  c.setCompression(Compression::None, 0);
  if (c.size() > 1) {
    uint64_t f32 = c.allreduceBytesSent();
    std::vector<float> v = contribution(c.rank(), size_t(1) << 20);
    ASSERT_TRUE(c.allreduce(v.data(), v.size(), ReduceOp::Mean, "f32 bucket").ok());
    f32 = c.allreduceBytesSent() - f32;
    EXPECT_GT(sent, 0u);
    // 2 x (1 + 1001 + 2^20) elements at 2 bytes against 2^20 at 4.
    EXPECT_NEAR(double(sent), double(f32) * double(1 + 1001 + (1 << 20)) / double(1 << 20),
                double(f32) * 0.01);
  }
}

// Threshold encoding, computed here apart from Reduce.h: each rank sends
// +-t * 2^j where gradient + residual reaches t and keeps the rest; the mean
// of the quanta is added in rank order. Three steps, so the residual carries.
TEST(Communicator, ThresholdTransportCarriesTheResidualAndIsRankOrdered) {
  Communicator &c = world();
  const int n = c.size();
  bool sparse = false, bitmap = false; // both message forms were checked
  for (float t : {1e-3f, 900.0f}) { // dense (a bitmap), then sparse (indices)
    c.setCompression(Compression::Threshold, t);
    const size_t count = 5003;
    std::vector<std::vector<float>> residual(size_t(n), std::vector<float>(count, 0.0f));
    std::string bucket = "threshold bucket " + std::to_string(t);
    for (int step = 0; step < 3; ++step) {
      std::vector<float> want(count, 0.0f);
      size_t mySent = 0;
      for (int r = 0; r < n; ++r) {
        std::vector<float> g = contribution(r + step, count);
        size_t k = 0;
        for (size_t i = 0; i < count; ++i) {
          // The quantum: +-t * 2^j, the largest not above |a|, j <= 15.
          float a = g[i] + residual[size_t(r)][i], q = 0;
          for (int j = 15; j >= 0 && q == 0; --j)
            if (std::fabs(a) >= std::ldexp(t, j))
              q = std::copysign(std::ldexp(t, j), a);
          residual[size_t(r)][i] = a - q;
          want[i] += q;
          k += q != 0.0f;
        }
        if (r == c.rank())
          mySent = k;
      }
      if (n > 1)
        for (float &x : want)
          x /= float(n);
      std::vector<float> v = contribution(c.rank() + step, count);
      uint64_t before = c.allreduceBytesSent();
      if (step == 1) {
        auto r = c.allreduceStart(v.data(), count, ReduceOp::GradientMean, bucket);
        ASSERT_TRUE(r.ok()) << r.status();
        ASSERT_TRUE(c.wait(*r).ok());
      } else {
        ASSERT_TRUE(c.allreduce(v.data(), count, ReduceOp::GradientMean, bucket).ok());
      }
      if (n == 1) { // nothing travels: the gradient as it is
        std::vector<float> g = contribution(step, count);
        EXPECT_EQ(std::memcmp(v.data(), g.data(), count * sizeof(float)), 0);
        continue;
      }
      for (size_t i = 0; i < count; ++i)
        ASSERT_EQ(v[i], want[i]) << "element " << i << ", step " << step << ", t " << t;
      EXPECT_TRUE(sameOnEveryRank(c, v));
      // A header, then a word a quantum or a byte an element, whichever
      // is shorter; to every other rank, its length first.
      uint64_t words = 1 + std::min(mySent, (count + 3) / 4);
      (mySent <= (count + 3) / 4 ? sparse : bitmap) = true;
      EXPECT_EQ(c.allreduceBytesSent() - before, (words + 1) * 4 * uint64_t(n - 1))
          << mySent << " of " << count << " sent, t " << t;
    }
  }
  EXPECT_TRUE(n == 1 || (sparse && bitmap));
  c.setCompression(Compression::None, 0);
}

// A non-finite gradient is not kept in a residual: it travels and decodes to
// NaN on every rank, as an uncompressed NaN would show.
TEST(Communicator, ThresholdTransportPassesNonFiniteValuesOn) {
  Communicator &c = world();
  c.setCompression(Compression::Threshold, 1e-3f);
  const size_t count = 1000; // sparse otherwise: a few large elements
  std::vector<float> v(count, 0.0f);
  v[7] = 5.0f;
  if (c.rank() == c.size() - 1)
    v[500] = std::numeric_limits<float>::infinity();
  ASSERT_TRUE(c.allreduce(v.data(), count, ReduceOp::GradientMean, "non-finite bucket").ok());
  if (c.size() > 1) {
    EXPECT_TRUE(std::isnan(v[500]));
    EXPECT_GT(v[7], 0.0f);
    EXPECT_EQ(v[8], 0.0f);
  }
  EXPECT_TRUE(sameOnEveryRank(c, v)); // the NaN's bits too
  c.setCompression(Compression::None, 0);
}

TEST(Communicator, LibraryReductionAgreesAndIsTheSameOnEveryRank) {
  Communicator &c = world(Reduction::Library);
  size_t n = 100000;
  std::vector<float> v = contribution(c.rank(), n);
  ASSERT_TRUE(c.allreduce(v.data(), n, ReduceOp::Sum, "library bucket").ok());
  std::vector<float> want = expectedMean(c.size(), n);
  for (size_t i = 0; i < n; ++i)
    ASSERT_NEAR(v[i], want[i] * float(c.size()), 1e-5 * std::fabs(want[i] * c.size()) + 1e-6) << i;
  EXPECT_TRUE(sameOnEveryRank(c, v));
}

TEST(Communicator, SeveralStartedCollectivesCompleteInAnyOrder) {
  Communicator &c = world();
  std::vector<std::vector<float>> buckets;
  std::vector<Request> requests;
  for (size_t k = 0; k < 4; ++k)
    buckets.push_back(contribution(c.rank(), 5000 * (k + 1)));
  for (size_t k = 0; k < 4; ++k) {
    auto r = c.allreduceStart(buckets[k].data(), buckets[k].size(), ReduceOp::Mean,
                              "bucket " + std::to_string(k));
    ASSERT_TRUE(r.ok()) << r.status();
    requests.push_back(*r);
    c.progress();
  }
  for (size_t k = 4; k-- > 0;) {
    ASSERT_TRUE(c.wait(requests[k]).ok());
    std::vector<float> want = expectedMean(c.size(), buckets[k].size());
    EXPECT_EQ(std::memcmp(buckets[k].data(), want.data(), want.size() * sizeof(float)), 0);
  }
  absl::Status again = c.wait(requests[0]);
  EXPECT_FALSE(again.ok());
  EXPECT_THAT(std::string(again.message()), HasSubstr("unknown or finished request"));
}

TEST(Communicator, BroadcastAndAllgather) {
  Communicator &c = world();
  int64_t value = c.rank() == 0 ? 4242 : -1;
  ASSERT_TRUE(c.broadcast(&value, sizeof value, 0).ok());
  EXPECT_EQ(value, 4242);
  int32_t mine = 10 * c.rank() + 1;
  std::vector<int32_t> all(size_t(c.size()));
  ASSERT_TRUE(c.allgather(&mine, sizeof mine, all.data()).ok());
  for (int r = 0; r < c.size(); ++r)
    EXPECT_EQ(all[size_t(r)], 10 * r + 1);
  EXPECT_FALSE(c.broadcast(&value, sizeof value, c.size()).ok()); // no such root
}

TEST(Communicator, CheckSameNamesEveryRanksValue) {
  Communicator &c = world();
  EXPECT_TRUE(c.checkSame("artifact hash", 77).ok());
  absl::Status s = c.checkSame("data size", 1000 + uint64_t(c.rank()));
  if (c.size() == 1) {
    EXPECT_TRUE(s.ok());
    return;
  }
  ASSERT_FALSE(s.ok()); // on every rank, not just one
  EXPECT_THAT(std::string(s.message()),
              HasSubstr("data size differs across ranks (rank 0: 1000, rank 1: 1001"));
}

TEST(Communicator, AWaitThatNeverCompletesTimesOutNamingTheCollective) {
  Communicator &c = world();
  if (c.size() == 1)
    GTEST_SKIP() << "needs 2 or more ranks";
  CommunicatorOptions o;
  o.timeoutSeconds = 0.5;
  // Before the communicator: its destructor finishes rank 0's abandoned
  // allreduce, which still owns this buffer (ASan found it freed first).
  std::vector<float> v(16, 1.0f);
  auto late = createMpiCommunicator(o);
  ASSERT_TRUE(late.ok()) << late.status();
  if (c.rank() == 0) { // the others do not join until rank 0 has given up
    auto r = (*late)->allreduceStart(v.data(), v.size(), ReduceOp::Sum, "bucket 7 of step 3");
    ASSERT_TRUE(r.ok());
    auto t0 = std::chrono::steady_clock::now();
    absl::Status s = (*late)->wait(*r);
    double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    EXPECT_EQ(s.code(), absl::StatusCode::kDeadlineExceeded);
    EXPECT_THAT(std::string(s.message()),
                HasSubstr("rank 0 of " + std::to_string(c.size()) +
                          ": bucket 7 of step 3 did not complete within 0.5 s"));
    EXPECT_LT(took, 5.0);
  }
  int go = 1;
  ASSERT_TRUE(c.broadcast(&go, sizeof go, 0).ok());
  // The others join now, so rank 0's abandoned request can finish when its
  // communicator goes away.
  if (c.rank() != 0) {
    auto r = (*late)->allreduceStart(v.data(), v.size(), ReduceOp::Sum, "late join");
    ASSERT_TRUE(r.ok());
    ASSERT_TRUE((*late)->wait(*r).ok());
  }
}

} // namespace
} // namespace tg::dist
