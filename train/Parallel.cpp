//===- Parallel.cpp - the data-parallel side of tg::train -----------------===//
//
// What ranks agree on before the first step (the same artifact, collective
// plan, data and options; rank 0's initial or resumed state), and which rows
// of an epoch each rank trains on.
//
//===----------------------------------------------------------------------===//
#include "runtime/Collectives.h"
#include "train/Internal.h"
#include "support/Trailer.h"

#include "absl/strings/str_cat.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

namespace tg {
namespace trainer {
namespace {

uint64_t bitsOf(double v) {
  uint64_t b;
  std::memcpy(&b, &v, sizeof b);
  return b;
}

} // namespace

absl::Status checkRanksAgree(const Ranks &ranks, const TrainOptions &o, const std::string &hash,
                             const Manifest &manifest, const BoundData &bound, const Schedule &s) {
  if (ranks.world == 1)
    return absl::OkStatus();
  const data::Dataset &ds = *bound.train.dataset;
  // Both change which collectives run (evaluation, the no-overlap baseline).
  uint64_t evalRows = bound.eval ? uint64_t(bound.eval->dataset->rows()) : 0;
  // The data: the first batch's rows in memory, or a packed directory's
  // shard checksums.
  uint64_t dataHash;
  const data::Column &first = ds.columns()[0];
  if (const std::shared_ptr<data::ShardSet> &shards = ds.shards()) {
    std::vector<uint32_t> crcs;
    for (const data::Shard &sh : shards->index().shards)
      for (const data::ShardFile &f : sh.files)
        crcs.push_back(f.crc32);
    dataHash = fnv1a64(crcs.data(), crcs.size() * sizeof(uint32_t));
  } else {
    dataHash = fnv1a64(first.bytes.data(),
                       std::min(first.bytes.size(), first.sourceRowBytes() * size_t(s.batch)));
  }
  // In a fixed order on every rank: each check is one collective.
  struct Check {
    std::string what;
    uint64_t value;
    bool hex = false;
  };
  const Check checks[] = {
      {"the artifact (hash of its file)", std::strtoull(hash.c_str(), nullptr, 16), true},
      {"the collective plan hash",
       std::strtoull(manifest.dataParallel.planHash.c_str(), nullptr, 16), true},
      {"the number of training examples", uint64_t(ds.rows())},
      {"the training data (hash of the first batch's rows, or of the shards' checksums)",
       dataHash, true},
      {"--shuffle-buffer", uint64_t(o.shuffleBuffer)},
      {"--seed", o.seed},
      {"the steps to train (--epochs/--steps)", uint64_t(s.totalSteps)},
      {"--lr", o.lr ? bitsOf(*o.lr) : 0},
      {"--shuffle/--no-shuffle", uint64_t(s.shuffle)},
      {"--pad", uint64_t(o.pad)},
      {"--average-every", uint64_t(o.averageEvery)},
      {"--resume", uint64_t(o.resume)},
      {"--checkpoint-every", uint64_t(o.checkpointEvery)},
      {"the evaluation examples (--eval-data, or the directory's t10k files)", evalRows},
      {"TG_COLLECTIVES_NO_OVERLAP", uint64_t(rt::noOverlap())},
      {"--reduction", uint64_t(o.mpiReduction)},
  };
  for (const Check &c : checks)
    if (absl::Status st = ranks.comm.checkSame(c.what, c.value, c.hex); !st.ok())
      return absl::FailedPreconditionError(absl::StrCat(
          st.message(),
          "; every rank must run the same artifact on the same data with the same options"));
  return absl::OkStatus();
}

absl::Status broadcastState(const Ranks &ranks, rt::Session &session,
                            const std::vector<const BufferSpec *> &saved, Position &pos) {
  if (ranks.world == 1)
    return absl::OkStatus();
  int64_t ints[4] = {pos.step, pos.epoch, pos.batch, pos.globalBatch};
  if (absl::Status s = ranks.comm.broadcast(ints, sizeof ints, 0); !s.ok())
    return s;
  if (absl::Status s = ranks.comm.broadcast(&pos.priorSeconds, sizeof pos.priorSeconds, 0); !s.ok())
    return s;
  pos.step = ints[0];
  pos.epoch = ints[1];
  pos.batch = ints[2];
  pos.globalBatch = ints[3];
  for (const BufferSpec *a : saved) {
    std::vector<uint8_t> bytes(session.size(a->name));
    if (absl::Status s = session.read(a->name, bytes.data(), bytes.size()); !s.ok())
      return s;
    if (absl::Status s = ranks.comm.broadcast(bytes.data(), bytes.size(), 0); !s.ok())
      return s;
    if (absl::Status s = session.write(a->name, bytes.data(), bytes.size()); !s.ok())
      return s;
  }
  return absl::OkStatus();
}

absl::Status checkReplicas(const Ranks &ranks, const rt::Session &session,
                           const std::vector<const BufferSpec *> &replicated,
                           const std::string &when) {
  if (ranks.world == 1)
    return absl::OkStatus();
  uint64_t h = fnv1a64(nullptr, 0);
  std::vector<uint8_t> bytes;
  for (const BufferSpec *a : replicated) {
    bytes.resize(session.size(a->name));
    if (absl::Status s = session.read(a->name, bytes.data(), bytes.size()); !s.ok())
      return s;
    h = fnv1a64(bytes.data(), bytes.size(), h);
  }
  if (absl::Status s = ranks.comm.checkSame("the hash of the params and optimizer state", h, true);
      !s.ok())
    return absl::InternalError(absl::StrCat(when, ": the replicas diverged: ", s.message()));
  return absl::OkStatus();
}

std::vector<const BufferSpec *> perRankState(const Manifest &manifest,
                                             const std::vector<const BufferSpec *> &saved) {
  std::vector<const BufferSpec *> state;
  const EntrySpec *predict = manifest.findEntry("predict");
  for (const BufferSpec *a : saved) {
    const BufferSpec *p = predict ? predict->findArg(a->name) : nullptr;
    if (p && p->role == Role::State)
      state.push_back(a);
  }
  return state;
}

absl::StatusOr<std::vector<NamedTensor>>
gatherRankState(const Ranks &ranks, const rt::Session &session,
                const std::vector<const BufferSpec *> &state) {
  std::vector<NamedTensor> out;
  if (ranks.world == 1)
    return out;
  for (const BufferSpec *a : state) {
    std::vector<uint8_t> mine(session.size(a->name));
    if (absl::Status s = session.read(a->name, mine.data(), mine.size()); !s.ok())
      return s;
    std::vector<uint8_t> all(mine.size() * size_t(ranks.world));
    if (absl::Status s = ranks.comm.allgather(mine.data(), mine.size(), all.data()); !s.ok())
      return s;
    if (!ranks.root())
      continue;
    for (int r = 1; r < ranks.world; ++r)
      out.push_back({absl::StrCat(a->name, "@rank", r), std::string(dtypeName(a->dtype)), a->shape,
                     std::vector<uint8_t>(all.begin() + int64_t(r) * int64_t(mine.size()),
                                          all.begin() + int64_t(r + 1) * int64_t(mine.size()))});
  }
  return out;
}

absl::StatusOr<std::string> scatterRankState(const Ranks &ranks, rt::Session &session,
                                             const std::vector<const BufferSpec *> &state,
                                             const Checkpointer &checkpointer, bool resumed) {
  if (ranks.world == 1 || state.empty())
    return std::string();
  int flags[2] = {checkpointer.restoredWorld(), int(resumed)}; // rank 0's know
  if (absl::Status s = ranks.comm.broadcast(flags, sizeof flags, 0); !s.ok())
    return s;
  int written = flags[0];
  if (!flags[1])
    return std::string();
  if (written != ranks.world) { // other streams: nothing to continue
    for (const BufferSpec *a : state) {
      std::vector<uint8_t> zeros(session.size(a->name));
      if (absl::Status s = session.write(a->name, zeros.data(), zeros.size()); !s.ok())
        return s;
    }
    return absl::StrCat("the checkpoint's recurrent state is of ", written,
                        " rank(s): every rank starts from zeros");
  }
  for (int r = 1; r < ranks.world; ++r)
    for (const BufferSpec *a : state) {
      std::vector<uint8_t> bytes(session.size(a->name));
      if (ranks.root()) {
        std::string name = absl::StrCat(a->name, "@rank", r);
        const NamedTensor *t = nullptr;
        for (const NamedTensor &x : checkpointer.restoredRankState())
          if (x.name == name)
            t = &x;
        if (!t || t->bytes.size() != bytes.size())
          return absl::InvalidArgumentError(absl::StrCat("the checkpoint lacks '", name, "' (",
                                                         bytes.size(), " bytes) of rank ", r));
        bytes = t->bytes;
      }
      if (absl::Status s = ranks.comm.broadcast(bytes.data(), bytes.size(), 0); !s.ok())
        return s;
      if (ranks.rank == r)
        if (absl::Status s = session.write(a->name, bytes.data(), bytes.size()); !s.ok())
          return s;
    }
  return std::string();
}

absl::StatusOr<std::vector<NamedTensor>> gatherShards(const Ranks &ranks,
                                                      const rt::Session &session,
                                                      const ShardSpec &shard,
                                                      const EntrySpec &step) {
  std::vector<NamedTensor> out;
  size_t bytes = size_t(shard.size) * sizeof(float);
  std::vector<uint8_t> mine(bytes), all(bytes * size_t(ranks.world));
  for (size_t j = 0; j < shard.slots.size(); ++j) {
    if (absl::Status s = session.read(shard.buffers[j], mine.data(), bytes); !s.ok())
      return s;
    if (absl::Status s = ranks.comm.allgather(mine.data(), bytes, all.data()); !s.ok())
      return s;
    if (!ranks.root())
      continue;
    size_t offset = 0;
    for (const auto &[param, elements] : shard.params) {
      const BufferSpec *p = step.findArg(param);
      size_t n = size_t(elements) * sizeof(float);
      out.push_back({absl::StrCat(param, ".", shard.slots[j]), "f32",
                     p ? p->shape : std::vector<int64_t>{elements}, // trainRank checked it
                     std::vector<uint8_t>(all.begin() + int64_t(offset),
                                          all.begin() + int64_t(offset + n))});
      offset += n;
    }
  }
  return out;
}

absl::Status scatterShards(const Ranks &ranks, rt::Session &session, const ShardSpec &shard,
                           const Checkpointer &checkpointer, bool resumed) {
  int flag = int(resumed); // rank 0's know
  if (absl::Status s = ranks.comm.broadcast(&flag, sizeof flag, 0); !s.ok())
    return s;
  if (!flag)
    return absl::OkStatus(); // fresh: zeros, as initialized
  size_t shardBytes = size_t(shard.size) * sizeof(float);
  std::vector<uint8_t> full(shardBytes * size_t(ranks.world), 0);
  for (size_t j = 0; j < shard.slots.size(); ++j) {
    if (ranks.root()) {
      std::fill(full.begin(), full.end(), 0);
      size_t offset = 0;
      for (const auto &[param, elements] : shard.params) {
        std::string name = absl::StrCat(param, ".", shard.slots[j]);
        const NamedTensor *t = nullptr;
        for (const NamedTensor &x : checkpointer.restoredShards())
          if (x.name == name)
            t = &x;
        size_t n = size_t(elements) * sizeof(float);
        if (!t || t->bytes.size() != n) // restore() checked them
          return absl::InternalError(absl::StrCat("the restored checkpoint lacks '", name, "'"));
        std::copy(t->bytes.begin(), t->bytes.end(), full.begin() + int64_t(offset));
        offset += n;
      }
    }
    if (absl::Status s = ranks.comm.broadcast(full.data(), full.size(), 0); !s.ok())
      return s;
    if (absl::Status s = session.write(shard.buffers[j],
                                       full.data() + size_t(ranks.rank) * shardBytes, shardBytes);
        !s.ok())
      return s;
  }
  return absl::OkStatus();
}

std::vector<int64_t> shardOrder(const std::vector<int64_t> &order, const Schedule &s, int rank,
                                bool pad) {
  int64_t global = s.globalBatch();
  std::vector<int64_t> mine;
  mine.reserve(size_t(s.perEpoch * s.batch));
  for (int64_t k = 0; k < s.perEpoch; ++k)
    for (int64_t i = 0; i < s.batch; ++i) {
      int64_t pos = k * global + int64_t(rank) * s.batch + i;
      if (!pad && pos >= int64_t(order.size()))
        break; // not reached: perEpoch counts whole global batches
      mine.push_back(order[size_t(pos % int64_t(order.size()))]);
    }
  return mine;
}

} // namespace trainer
} // namespace tg
