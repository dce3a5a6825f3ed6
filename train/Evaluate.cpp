//===- Evaluate.cpp - running batches and evaluating with eval_step -------===//
//
// Evaluation covers every example exactly, the last partial batch included,
// and leaves the session as it found it: eval_step may advance recurrent
// state, which training must not see.
//
//===----------------------------------------------------------------------===//
#include "train/Internal.h"

#include <algorithm>

namespace tg {
namespace trainer {

absl::StatusOr<Values> runBatch(rt::Session &session, const data::Dataset &ds,
                                const std::vector<std::vector<uint8_t>> &buffers,
                                const EntrySpec &entry, const std::vector<std::string> &metrics) {
  for (size_t c = 0; c < ds.columns().size(); ++c) {
    // A pipeline stage reads only some of the columns (the first the data,
    // the last the labels); every rank reads the whole batch.
    if (!entry.findArg(ds.columns()[c].spec.name))
      continue;
    if (absl::Status s =
            session.write(ds.columns()[c].spec.name, buffers[c].data(), buffers[c].size());
        !s.ok())
      return s;
  }
  if (absl::Status s = session.run(entry.name); !s.ok())
    return s;
  Values v;
  for (const std::string &m : metrics) {
    float x;
    if (absl::Status s = session.read(m, &x, sizeof x); !s.ok())
      return s;
    v[m] = x;
  }
  return v;
}

namespace {

using Bytes = std::vector<uint8_t>;

/// Metric sums (metric x examples) over the examples seen so far.
struct Sums {
  Values sums;
  int64_t examples = 0;
};

/// Adds the last r < batch examples exactly: fills the batch with copies of
/// one of them, and subtracts what the copies contribute, measured on a batch
/// of nothing but that example. Valid for metrics that are means over
/// examples (loss, accuracy) of a stateless eval_step.
absl::Status addRemainder(rt::Session &session, const data::Dataset &ds, const StepEntry &evalStep,
                          int64_t batch, const std::vector<int64_t> &order, int64_t done,
                          Sums &acc) {
  int64_t r = ds.rows() - done;
  std::vector<int64_t> mixed(order.begin() + done, order.end());
  mixed.resize(size_t(batch), mixed.front());
  std::vector<int64_t> same(size_t(batch), mixed.front());
  std::vector<Bytes> bm, bs;
  for (size_t c = 0; c < ds.columns().size(); ++c) {
    bm.emplace_back(ds.columns()[c].rowBytes() * size_t(batch));
    bs.emplace_back(ds.columns()[c].rowBytes() * size_t(batch));
    if (absl::Status s = ds.gather(c, mixed.data(), mixed.size(), bm.back().data()); !s.ok())
      return s;
    if (absl::Status s = ds.gather(c, same.data(), same.size(), bs.back().data()); !s.ok())
      return s;
  }
  auto vm = runBatch(session, ds, bm, *evalStep.spec, evalStep.metrics);
  if (!vm.ok())
    return vm.status();
  auto vs = runBatch(session, ds, bs, *evalStep.spec, evalStep.metrics);
  if (!vs.ok())
    return vs.status();
  for (auto &[k, x] : *vm)
    acc.sums[k] += x * double(batch) - (*vs)[k] * double(batch - r);
  acc.examples += r;
  return absl::OkStatus();
}

} // namespace

absl::StatusOr<Values> evaluate(rt::Session &session, const data::Dataset &ds,
                                const StepEntry &evalStep, int64_t batch, const TrainOptions &o,
                                const Ranks &ranks) {
  std::map<std::string, Bytes> keep;
  for (const std::string &b : evalStep.aliased) {
    keep[b].resize(session.size(b));
    if (absl::Status s = session.read(b, keep[b].data(), keep[b].size()); !s.ok())
      return s;
  }
  // With several ranks, rank r takes full batches r, r + N, ... and rank 0
  // the remainder; the sums are combined in rank order.
  std::vector<int64_t> order = ds.order(o.seed, 0, false);
  int64_t full = ds.rows() / batch;
  std::vector<int64_t> mine;
  for (int64_t k = ranks.rank; k < full; k += ranks.world)
    mine.insert(mine.end(), order.begin() + k * batch, order.begin() + (k + 1) * batch);
  Sums acc;
  {
    data::Batcher batcher(ds, batch, mine, 0, /*pad=*/false, o.prefetch, o.dataThreads);
    while (auto b = batcher.next()) {
      if (!b->status.ok())
        return b->status;
      auto v = runBatch(session, ds, b->buffers, *evalStep.spec, evalStep.metrics);
      if (!v.ok())
        return v.status();
      for (auto &[k, x] : *v)
        acc.sums[k] += x * double(batch);
      acc.examples += batch;
    }
  }
  if (ranks.root() && ds.rows() > full * batch && evalStep.aliased.empty())
    if (absl::Status s = addRemainder(session, ds, evalStep, batch, order, full * batch, acc);
        !s.ok())
      return s;
  for (auto &[b, bytes] : keep)
    if (absl::Status s = session.write(b, bytes.data(), bytes.size()); !s.ok())
      return s;
  if (ranks.world > 1) {
    std::vector<double> local = {double(acc.examples)};
    for (const std::string &k : evalStep.metrics)
      local.push_back(acc.sums[k]);
    std::vector<double> all(local.size() * size_t(ranks.world));
    if (absl::Status s =
            ranks.comm.allgather(local.data(), local.size() * sizeof(double), all.data());
        !s.ok())
      return s;
    acc = Sums();
    for (int r = 0; r < ranks.world; ++r) {
      const double *v = all.data() + size_t(r) * local.size();
      acc.examples += int64_t(v[0]);
      for (size_t i = 0; i < evalStep.metrics.size(); ++i)
        acc.sums[evalStep.metrics[i]] += v[i + 1];
    }
  }
  Values m;
  for (auto &[k, x] : acc.sums)
    m[k] = x / double(std::max<int64_t>(acc.examples, 1));
  m["examples"] = double(acc.examples);
  return m;
}

} // namespace trainer
} // namespace tg
