//===- ThreadGroup.cpp - N ranks as N threads of one process --------------===//
//
// `tgc train --emulate-world-size N` runs N ranks as threads. Every rank
// issues the same collectives in the same order (they run the same compiled
// step), so the k-th collective of each rank meets the k-th of the others in
// slot k. An allreduce publishes the rank's buffer at start; at wait, once
// all have arrived, every rank reduces all contributions in rank order into a
// private result (Reduce.h, the MPI communicator's arithmetic), and copies it
// into its buffer only after every rank has finished reading.
//
//===----------------------------------------------------------------------===//
#include "comm/Communicator.h"
#include "comm/Reduce.h"

#include "absl/strings/str_cat.h"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <deque>
#include <map>
#include <tuple>
#include <mutex>
#include <string>
#include <vector>

namespace tg::dist {
namespace {

using Clock = std::chrono::steady_clock;

/// What the ranks share.
struct Group {
  explicit Group(int size, CommunicatorOptions options) : size(size), options(options) {}

  /// One collective: a copy of every rank's contribution (taken when it
  /// arrives, so no rank ever reads another's buffer, which a failing rank
  /// may free), and how far each rank has got.
  struct Slot {
    std::vector<std::vector<uint8_t>> copies;
    std::vector<const void *> in; ///< copies[r].data()
    int arrived = 0, read = 0, left = 0;
  };

  const int size;
  const CommunicatorOptions options;
  std::mutex mu;
  std::condition_variable cv;
  std::map<int64_t, Slot> slots; ///< by collective sequence number
  /// split(): the groups made by each rank's k-th split, by (k, color).
  std::map<std::pair<int64_t, int>, std::shared_ptr<Group>> parts;
  /// Pipeline transfers in flight: by (sender, receiver, tag), in order.
  std::map<std::tuple<int, int, int64_t>, std::deque<std::vector<uint8_t>>> mail;
  std::string aborted;           ///< non-empty: the reason every collective fails
};

class ThreadRank final : public Communicator {
public:
  ThreadRank(std::shared_ptr<Group> group, int rank) : g(std::move(group)), rank_(rank) {}

  int rank() const override { return rank_; }
  int size() const override { return g->size; }
  std::string kind() const override { return "thread-group"; }
  uint64_t allreduceBytesSent() const override { return sent; }
  void setCompression(Compression c, float t) override {
    compression = c;
    threshold = t;
  }

  absl::StatusOr<Request> allreduceStart(float *data, size_t count, ReduceOp op,
                                         const std::string &what) override {
    int64_t seq = nextSeq++;
    // Compression applies to gradients only, and only when something travels.
    Compression mode =
        op == ReduceOp::GradientMean && g->size > 1 ? compression : Compression::None;
    absl::Status s;
    if (mode == Compression::Threshold) { // publish the message, as MPI sends it
      if (uint64_t(g->size) * thresholdMaxWords(count) > uint64_t(INT32_MAX)) // MPI's limit
        return absl::InvalidArgumentError(absl::StrCat(
            what, ": ", count, " floats threshold-encoded on ", g->size,
            " ranks is more than one MPI collective carries; lower --bucket-mb"));
      std::vector<float> &residual = residuals[what];
      residual.resize(count, 0.0f);
      std::vector<uint32_t> message;
      thresholdEncode(data, residual.data(), count, threshold, message);
      s = arrive(seq, message.data(), message.size() * sizeof(uint32_t), what);
    } else {
      s = arrive(seq, data, count * sizeof(float), what);
    }
    if (!s.ok())
      return s;
    int64_t id = nextId++;
    pending[id] = {seq, data, count, op, what, mode, threshold};
    return Request{id};
  }

  void progress() override {}

  absl::Status wait(Request request) override {
    auto it = pending.find(request.id);
    if (it == pending.end())
      return absl::InvalidArgumentError(
          absl::StrCat("rank ", rank_, ": wait on an unknown or finished request ", request.id));
    Pending p = it->second;
    pending.erase(it);
    std::unique_lock<std::mutex> lock(g->mu);
    if (absl::Status s =
            await(lock, p.seq, p.what, [&] { return slotOf(p.seq).arrived == g->size; });
        !s.ok())
      return s;
    std::vector<const uint32_t *> messages;
    std::vector<const float *> parts;
    std::vector<size_t> words;
    for (const void *v : slotOf(p.seq).in) {
      messages.push_back(static_cast<const uint32_t *>(v));
      parts.push_back(static_cast<const float *>(v));
    }
    for (const std::vector<uint8_t> &copy : slotOf(p.seq).copies)
      words.push_back(copy.size() / sizeof(uint32_t));
    lock.unlock();
    std::vector<float> result(p.count);
    if (p.mode == Compression::Threshold) {
      if (!thresholdReduce(messages.data(), words.data(), g->size, p.count, p.op, p.t,
                           result.data()))
        return absl::InternalError(absl::StrCat("rank ", rank_, ": ", p.what,
                                                ": a malformed threshold-encoded message"));
      // Its message to every other rank, and its length first (MPI's allgathers).
      sent += uint64_t(words[size_t(rank_)] + 1) * sizeof(uint32_t) * uint64_t(g->size - 1);
    } else {
      bool bf16 = p.mode == Compression::Bf16;
      reduceInRankOrder(parts.data(), g->size, p.count, p.op, result.data(), bf16);
      sent += wireBytes(p.count, g->size, rank_, bf16 ? 2 : 4);
    }
    lock.lock();
    ++slotOf(p.seq).read;
    g->cv.notify_all();
    // Nobody may overwrite a buffer another rank still reads.
    if (absl::Status s = await(lock, p.seq, p.what, [&] { return slotOf(p.seq).read == g->size; });
        !s.ok())
      return s;
    leave(p.seq);
    lock.unlock();
    if (p.count)
      std::memcpy(p.data, result.data(), p.count * sizeof(float));
    return absl::OkStatus();
  }

  absl::Status broadcast(void *data, size_t bytes, int root) override {
    if (root < 0 || root >= g->size)
      return absl::InvalidArgumentError(
          absl::StrCat("broadcast from rank ", root, " of ", g->size));
    return exchange("broadcast", data, rank_ == root ? bytes : 0, [&](const Group::Slot &slot) {
      if (rank_ != root && bytes)
        std::memcpy(data, slot.in[size_t(root)], bytes);
    });
  }

  absl::Status allgather(const void *in, size_t bytes, void *out) override {
    return exchange("allgather", in, bytes, [&](const Group::Slot &slot) {
      for (int r = 0; r < g->size; ++r)
        if (bytes)
          std::memcpy(static_cast<char *>(out) + size_t(r) * bytes, slot.in[size_t(r)], bytes);
    });
  }

  absl::Status reduceScatter(const float *in, size_t shard, float *out, ReduceOp op,
                             const std::string &what) override {
    return exchange(what, in, size_t(g->size) * shard * sizeof(float),
                    [&](const Group::Slot &slot) {
                      std::vector<const float *> parts;
                      for (const void *v : slot.in)
                        parts.push_back(static_cast<const float *>(v) + size_t(rank_) * shard);
                      reduceInRankOrder(parts.data(), g->size, shard, op, out);
                      // The alltoall's chunks for the other ranks.
                      sent += uint64_t(g->size - 1) * shard * sizeof(float);
                    });
  }

  absl::Status send(const void *data, size_t bytes, int to, int64_t tag,
                    const std::string &what) override {
    if (to < 0 || to >= g->size || to == rank_)
      return absl::InvalidArgumentError(
          absl::StrCat("rank ", rank_, ": ", what, " to rank ", to, " of ", g->size));
    std::vector<uint8_t> copy(static_cast<const uint8_t *>(data),
                              static_cast<const uint8_t *>(data) + bytes);
    std::lock_guard<std::mutex> lock(g->mu);
    if (!g->aborted.empty())
      return absl::AbortedError(absl::StrCat("rank ", rank_, ": ", what, ": ", g->aborted));
    g->mail[{rank_, to, tag}].push_back(std::move(copy));
    g->cv.notify_all();
    return absl::OkStatus();
  }

  absl::StatusOr<Request> recvStart(void *data, size_t bytes, int from, int64_t tag,
                                    const std::string &what) override {
    if (from < 0 || from >= g->size || from == rank_)
      return absl::InvalidArgumentError(
          absl::StrCat("rank ", rank_, ": ", what, " from rank ", from, " of ", g->size));
    int64_t id = nextId++;
    receives[id] = {data, bytes, from, tag, what};
    return Request{id};
  }

  void cancelRecv(Request request) override { receives.erase(request.id); }

  absl::Status recvWait(Request request) override {
    auto it = receives.find(request.id);
    if (it == receives.end())
      return absl::InvalidArgumentError(
          absl::StrCat("rank ", rank_, ": wait on an unknown or finished receive ", request.id));
    Receive r = it->second;
    receives.erase(it);
    std::unique_lock<std::mutex> lock(g->mu);
    auto &box = g->mail[{r.from, rank_, r.tag}];
    if (absl::Status s = await(lock, -1, r.what, [&] { return !box.empty(); }); !s.ok())
      return s;
    std::vector<uint8_t> message = std::move(box.front());
    box.pop_front();
    lock.unlock();
    if (message.size() != r.bytes)
      return absl::InvalidArgumentError(absl::StrCat("rank ", rank_, ": ", r.what,
                                                     ": rank ", r.from, " sent ", message.size(),
                                                     " bytes, expected ", r.bytes));
    if (r.bytes)
      std::memcpy(r.data, message.data(), r.bytes);
    return absl::OkStatus();
  }

  absl::StatusOr<std::unique_ptr<Communicator>> split(int color, int key) override {
    // Every rank's (color, key), then each joins its color's group, made
    // once under the lock, at its rank among the same color by key.
    int mine[2] = {color, key};
    std::vector<int> all(size_t(2 * g->size));
    if (absl::Status s = allgather(mine, sizeof mine, all.data()); !s.ok())
      return s;
    int members = 0, rank = 0;
    for (int r = 0; r < g->size; ++r)
      if (all[size_t(2 * r)] == color) {
        ++members;
        int k = all[size_t(2 * r + 1)];
        if (k < key || (k == key && r < rank_))
          ++rank;
      }
    int64_t seq = nextSplit++;
    std::shared_ptr<Group> part;
    {
      std::lock_guard<std::mutex> lock(g->mu);
      auto &slot = g->parts[{seq, color}];
      if (!slot)
        slot = std::make_shared<Group>(members, g->options);
      part = slot;
    }
    return std::unique_ptr<Communicator>(std::make_unique<ThreadRank>(part, rank));
  }

  void abort(const std::string &why) override {
    std::string reason = absl::StrCat("rank ", rank_, " failed: ", why);
    std::vector<std::shared_ptr<Group>> parts;
    {
      std::lock_guard<std::mutex> lock(g->mu);
      if (g->aborted.empty())
        g->aborted = reason;
      g->cv.notify_all();
      for (auto &[key, part] : g->parts)
        parts.push_back(part);
    }
    // The groups split from this one fail too: their ranks wait there.
    for (const std::shared_ptr<Group> &part : parts) {
      std::lock_guard<std::mutex> lock(part->mu);
      if (part->aborted.empty())
        part->aborted = reason;
      part->cv.notify_all();
    }
  }

private:
  struct Pending {
    int64_t seq;
    float *data;
    size_t count;
    ReduceOp op;
    std::string what;
    Compression mode; ///< how it travels (compression applies to gradients)
    float t;          ///< Threshold: the quantum it started with
  };

  Group::Slot &slotOf(int64_t seq) {
    Group::Slot &s = g->slots[seq];
    if (s.in.empty()) {
      s.in.resize(size_t(g->size), nullptr);
      s.copies.resize(size_t(g->size));
    }
    return s;
  }

  absl::Status arrive(int64_t seq, const void *data, size_t bytes, const std::string &what) {
    std::vector<uint8_t> copy(static_cast<const uint8_t *>(data),
                              static_cast<const uint8_t *>(data) + bytes);
    std::lock_guard<std::mutex> lock(g->mu);
    if (!g->aborted.empty())
      return absl::AbortedError(absl::StrCat("rank ", rank_, ": ", what, ": ", g->aborted));
    Group::Slot &s = slotOf(seq);
    s.copies[size_t(rank_)] = std::move(copy);
    s.in[size_t(rank_)] = s.copies[size_t(rank_)].data();
    ++s.arrived;
    g->cv.notify_all();
    return absl::OkStatus();
  }

  void leave(int64_t seq) {
    if (++slotOf(seq).left == g->size)
      g->slots.erase(seq);
  }

  /// Waits (lock held) until `done`, the group aborts or the timeout passes.
  template <typename Pred>
  absl::Status await(std::unique_lock<std::mutex> &lock, int64_t seq, const std::string &what,
                     Pred done) {
    auto failed = [&] { return !g->aborted.empty(); };
    if (g->options.timeoutSeconds > 0) {
      auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                         std::chrono::duration<double>(g->options.timeoutSeconds));
      if (!g->cv.wait_until(lock, deadline, [&] { return done() || failed(); })) {
        std::string message =
            absl::StrCat("rank ", rank_, " of ", g->size, ": ", what,
                         seq >= 0 ? absl::StrCat(" (collective #", seq, ")") : std::string(),
                         " did not complete within ", g->options.timeoutSeconds, " s");
        if (g->aborted.empty()) // the other ranks stop waiting too
          g->aborted = message;
        g->cv.notify_all();
        return absl::DeadlineExceededError(message);
      }
    } else {
      g->cv.wait(lock, [&] { return done() || failed(); });
    }
    if (failed() && !done())
      return absl::AbortedError(absl::StrCat("rank ", rank_, ": ", what, ": ", g->aborted));
    return absl::OkStatus();
  }

  /// A blocking collective over every rank's `mine`: `use` runs once all
  /// have arrived, and nobody leaves before all have used the slot.
  template <typename Use>
  absl::Status exchange(const std::string &what, const void *mine, size_t bytes, Use use) {
    int64_t seq = nextSeq++;
    if (absl::Status s = arrive(seq, mine, bytes, what); !s.ok())
      return s;
    std::unique_lock<std::mutex> lock(g->mu);
    if (absl::Status s = await(lock, seq, what, [&] { return slotOf(seq).arrived == g->size; });
        !s.ok())
      return s;
    const Group::Slot &slot = slotOf(seq); // a std::map node: stays until every rank has left
    lock.unlock();
    use(slot);
    lock.lock();
    ++slotOf(seq).read;
    g->cv.notify_all();
    if (absl::Status s = await(lock, seq, what, [&] { return slotOf(seq).read == g->size; });
        !s.ok())
      return s;
    leave(seq);
    return absl::OkStatus();
  }

  std::shared_ptr<Group> g;
  int rank_;
  int64_t nextSeq = 0, nextId = 0, nextSplit = 0;
  uint64_t sent = 0;
  Compression compression = Compression::None;
  float threshold = 0;
  std::map<std::string, std::vector<float>> residuals; ///< Threshold: by bucket
  std::map<int64_t, Pending> pending;
  struct Receive {
    void *data;
    size_t bytes;
    int from;
    int64_t tag;
    std::string what;
  };
  std::map<int64_t, Receive> receives;
};

} // namespace

std::vector<std::unique_ptr<Communicator>> createThreadGroup(int size,
                                                             const CommunicatorOptions &options) {
  auto group = std::make_shared<Group>(size, options);
  std::vector<std::unique_ptr<Communicator>> ranks;
  for (int r = 0; r < size; ++r)
    ranks.push_back(std::make_unique<ThreadRank>(group, r));
  return ranks;
}

} // namespace tg::dist
