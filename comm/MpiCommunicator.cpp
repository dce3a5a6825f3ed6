//===- MpiCommunicator.cpp - collectives over MPI -------------------------===//
//
// Non-blocking collectives on a duplicate of MPI_COMM_WORLD, with errors
// returned (MPI_ERRORS_RETURN) rather than aborting the process. Open MPI
// 4.1 has no asynchronous progress, so progress() tests every pending
// request; a caller interleaves it with compute.
//
//===----------------------------------------------------------------------===//
#include "comm/Communicator.h"
#include "comm/Reduce.h"

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"

#include <mpi.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <climits>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <unistd.h>
#include <utility>
#include <vector>

namespace tg::dist {
namespace {

std::string mpiError(int code) {
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(code, text, &length);
  return std::string(text, size_t(length));
}

/// Ends the whole job, not just this process: under srun's direct launch a
/// rank that only exits leaves a stopped or hung peer, and srun waiting on
/// it, forever. MPI_Abort goes through the launcher (PMIx_Abort under srun,
/// the HNP under mpirun), which kills every task of the job. It is called
/// from the watchdog's thread while the main thread is blocked in MPI; if it
/// has not ended the process within 10 s, this process exits alone.
[[noreturn]] void abortJob() {
  std::thread([] {
    std::this_thread::sleep_for(std::chrono::seconds(10));
    std::_Exit(1);
  }).detach();
  int initialized = 0, finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  if (initialized && !finalized)
    MPI_Abort(MPI_COMM_WORLD, 1);
  std::_Exit(1);
}

/// This host's name, for messages.
std::string launcherHost() {
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  return host;
}

/// This process's rank and the job's size before MPI knows them (for the
/// start-up messages), from the launcher's environment; -1 if unknown.
std::pair<int, int> launcherRank() {
  for (auto [r, n] : {std::pair{"OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE"},
                      std::pair{"PMIX_RANK", "SLURM_NTASKS"},
                      std::pair{"SLURM_PROCID", "SLURM_NTASKS"}})
    if (const char *rv = std::getenv(r))
      return {std::atoi(rv), std::getenv(n) ? std::atoi(std::getenv(n)) : -1};
  return {-1, -1};
}

/// Ends the job when a blocking MPI call outlives its deadline: a blocking
/// collective cannot return an error, and a hung peer or a dead link would
/// block it forever. The message names the collective and the context (the
/// step).
class Watchdog {
public:
  Watchdog(double seconds, int rank, int size) : seconds(seconds), rank(rank), size(size) {
    thread = std::thread([this] { watch(); });
  }
  ~Watchdog() {
    {
      std::lock_guard<std::mutex> lock(mu);
      stop = true;
    }
    cv.notify_all();
    thread.join();
  }
  void arm(const std::string &what) {
    std::lock_guard<std::mutex> lock(mu);
    this->what = what;
    deadline = Clock::now() +
               std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
    armed = true;
  }
  void disarm() {
    std::lock_guard<std::mutex> lock(mu);
    armed = false;
  }
  void setContext(const std::string &c) {
    std::lock_guard<std::mutex> lock(mu);
    context = c;
  }

private:
  using Clock = std::chrono::steady_clock;
  void watch() {
    std::unique_lock<std::mutex> lock(mu);
    while (!stop) {
      cv.wait_for(lock, std::chrono::milliseconds(50));
      if (armed && Clock::now() > deadline) {
        std::fprintf(stderr,
                     "tgc: rank %d of %d: %s%s%s did not complete within %g s (a rank died or "
                     "hangs, or the network is down); aborting the job\n",
                     rank, size, context.c_str(), context.empty() ? "" : ": ", what.c_str(),
                     seconds);
        std::fflush(stderr);
        abortJob();
      }
    }
  }
  const double seconds;
  const int rank, size;
  std::mutex mu;
  std::condition_variable cv;
  bool stop = false, armed = false;
  Clock::time_point deadline;
  std::string what, context;
  std::thread thread;
};

/// Every rank says hello to rank 0, which answers each: point-to-point
/// messages polled against a deadline, so that ranks that cannot reach each
/// other are named rather than hanging the first collective.
absl::Status helloRound(double seconds) {
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  if (size == 1)
    return absl::OkStatus();
  const int tag = 0x7467; // "tg"
  // The other ranks wait longer than rank 0, so that rank 0, which can name
  // every rank that did not answer, is the one that reports and aborts.
  double mine = rank == 0 ? seconds : seconds + std::max(5.0, seconds);
  auto deadline = std::chrono::steady_clock::now() +
                  std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                      std::chrono::duration<double>(mine));
  auto poll = [&](std::vector<MPI_Request> &reqs) {
    for (;;) {
      int done = 0;
      MPI_Testall(int(reqs.size()), reqs.data(), &done, MPI_STATUSES_IGNORE);
      if (done)
        return true;
      if (std::chrono::steady_clock::now() > deadline)
        return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  };
  std::string where = launcherHost();
  if (rank == 0) {
    std::vector<int> hello(size_t(size), 0);
    std::vector<MPI_Request> reqs(size_t(size - 1));
    for (int r = 1; r < size; ++r)
      MPI_Irecv(&hello[size_t(r)], 1, MPI_INT, r, tag, MPI_COMM_WORLD, &reqs[size_t(r - 1)]);
    bool all = poll(reqs);
    std::vector<int> missing;
    for (int r = 1; r < size; ++r) {
      int done = 0;
      if (reqs[size_t(r - 1)] != MPI_REQUEST_NULL)
        MPI_Test(&reqs[size_t(r - 1)], &done, MPI_STATUS_IGNORE);
      else
        done = 1;
      if (!done) {
        missing.push_back(r);
        MPI_Cancel(&reqs[size_t(r - 1)]);
      }
    }
    if (!all && !missing.empty()) {
      std::string names;
      for (size_t i = 0; i < missing.size() && i < 16; ++i)
        names += absl::StrCat(i ? ", " : "", missing[i]);
      if (missing.size() > 16)
        names += absl::StrCat(", ... (", missing.size(), " in all)");
      return absl::DeadlineExceededError(absl::StrCat(
          "rank 0 of ", size, " (", where, "): rank(s) ", names, " did not answer within ",
          seconds, " s at start-up: they cannot reach rank 0 over the network (a wrong "
                   "interface or duplicate addresses? set OMPI_MCA_btl_tcp_if_include and "
                   "OMPI_MCA_oob_tcp_if_include to the nodes' subnet)"));
    }
    int go = 1;
    std::vector<MPI_Request> answers(size_t(size - 1));
    for (int r = 1; r < size; ++r)
      MPI_Isend(&go, 1, MPI_INT, r, tag, MPI_COMM_WORLD, &answers[size_t(r - 1)]);
    if (!poll(answers))
      return absl::DeadlineExceededError(absl::StrCat(
          "rank 0 of ", size, " (", where, "): could not answer every rank within ", seconds,
          " s at start-up (the network from rank 0 to the others?)"));
    return absl::OkStatus();
  }
  int hello = rank, go = 0;
  std::vector<MPI_Request> reqs(2);
  MPI_Isend(&hello, 1, MPI_INT, 0, tag, MPI_COMM_WORLD, &reqs[0]);
  MPI_Irecv(&go, 1, MPI_INT, 0, tag, MPI_COMM_WORLD, &reqs[1]);
  if (!poll(reqs))
    return absl::DeadlineExceededError(absl::StrCat(
        "rank ", rank, " of ", size, " (", where, "): rank 0 did not answer within ", mine,
        " s at start-up (the network between this node and rank 0's? set "
        "OMPI_MCA_btl_tcp_if_include and OMPI_MCA_oob_tcp_if_include to the nodes' subnet)"));
  return absl::OkStatus();
}

class MpiCommunicator final : public Communicator {
public:
  MpiCommunicator(MPI_Comm comm, std::vector<MPI_Comm> lanes, const CommunicatorOptions &options)
      : comm(comm), lanes(std::move(lanes)), options(options) {
    MPI_Comm_rank(comm, &rank_);
    MPI_Comm_size(comm, &size_);
    if (options.timeoutSeconds > 0)
      watchdog = std::make_unique<Watchdog>(options.timeoutSeconds, rank_, size_);
    if (options.progressThread)
      progressThread = std::thread([this] { progressLoop(); });
  }

  /// CommunicatorOptions::progressThread: tests the started allreduces every
  /// 50 us, so they move while the main thread runs a long kernel (Open MPI
  /// 4.1 moves a non-blocking collective only inside MPI calls). MPI calls
  /// are serialized by `mpiMu` (MPI_THREAD_MULTIPLE).
  void progressLoop() {
    while (!stopProgress.load(std::memory_order_relaxed)) {
      {
        std::unique_lock<std::mutex> lock(mpiMu, std::try_to_lock);
        if (lock.owns_lock())
          for (auto &[id, p] : pending)
            (void)advance(p);
      }
      std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
  }

  uint64_t allreduceBytesSent() const override { return sent; }
  void setCompression(Compression c, float threshold) override {
    options.compression = c;
    options.threshold = threshold;
  }

  void setContext(const std::string &context) override {
    if (watchdog)
      watchdog->setContext(context);
  }

  ~MpiCommunicator() override {
    if (progressThread.joinable()) {
      stopProgress = true;
      progressThread.join();
    }
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (finalized)
      return;
    // Abandoned (timed-out) allreduces still own their buffers: finish them.
    for (auto &[id, p] : pending)
      while (p.phase < 2 && p.request != MPI_REQUEST_NULL) {
        Guard guard(watchdog.get(), p.what);
        MPI_Wait(&p.request, MPI_STATUS_IGNORE);
        if (!advance(p).ok())
          break;
      }
    // Transfers a failed step left: a send's peer may never receive it.
    for (auto *list : {&sends})
      for (Transfer &t : *list)
        if (t.request != MPI_REQUEST_NULL) {
          int done = 0;
          MPI_Test(&t.request, &done, MPI_STATUS_IGNORE);
          if (!done) {
            MPI_Cancel(&t.request);
            MPI_Request_free(&t.request);
          }
        }
    for (auto &[id, t] : receives)
      if (t.request != MPI_REQUEST_NULL) {
        MPI_Cancel(&t.request);
        MPI_Request_free(&t.request);
      }
    for (MPI_Comm &lane : lanes)
      MPI_Comm_free(&lane);
    MPI_Comm_free(&comm);
  }

  /// How an allreduce of `op` travels: compression applies to gradients
  /// only, and only when something travels.
  Compression modeFor(ReduceOp op) const {
    return op == ReduceOp::GradientMean && size_ > 1 ? options.compression : Compression::None;
  }

  /// Whether the two-phase rank-ordered allreduce runs. With two ranks every
  /// element is one addition, x0 + x1, which IEEE makes commutative, so MPI's
  /// own allreduce gives the same bits. Its blocking form is used there (a
  /// proper exchange), and its non-blocking form only for small buffers:
  /// Open MPI's MPI_Iallreduce (libnbc) reduces to one rank and then
  /// broadcasts, so each direction of the link idles while the other works,
  /// and from 8192 floats the two phases are faster (tg-bench-comm, 2 ranks,
  /// 200k floats started and waited: shared memory 0.32 against 0.21 ms, TCP
  /// 0.69 against 0.57, TCP at 1 Gbit/s 9.8 against 4.8; blocking, MPI's is
  /// as fast or faster: 0.20-0.30 against 0.28-0.32 over shared memory).
  /// bf16 always needs them. (Threshold encoding has its own two phases.)
  bool rankOrdered(Compression mode, size_t count, bool blocking) const {
    constexpr size_t kTwoPhaseFrom = 8192;
    return options.reduction == Reduction::RankOrdered && mode != Compression::Threshold &&
           (size_ > 2 || mode == Compression::Bf16 || (!blocking && count >= kTwoPhaseFrom));
  }

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::string kind() const override { return "mpi"; }

  absl::StatusOr<Request> allreduceStart(float *data, size_t count, ReduceOp op,
                                         const std::string &what) override {
    std::lock_guard<std::mutex> lock(mpiMu);
    absl::StatusOr<Pending> p = prepare(data, count, op, what, /*blocking=*/false);
    if (!p.ok())
      return p.status();
    // Started collectives of a communicator must start in the same order on
    // every rank, and a rank-ordered allreduce starts its second phase when
    // its first completes, which differs between ranks. So each in-flight
    // allreduce gets a lane (a communicator of its own, round robin); an
    // earlier one still in its first phase on that lane is moved on first.
    p->lane = lanes[size_t(started++ % int64_t(lanes.size()))];
    for (auto &[id, q] : pending)
      if (q.lane == p->lane && q.phase == 0 && (q.ordered || q.threshold)) {
        Guard guard(watchdog.get(), q.what);
        if (absl::Status s = check(MPI_Wait(&q.request, MPI_STATUS_IGNORE), q.what.c_str());
            !s.ok())
          return s;
        if (absl::StatusOr<bool> s = advance(q); !s.ok())
          return s.status();
      }
    int rc;
    if (p->threshold) // the message lengths first
      rc = MPI_Iallgather(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, p->words.data(), 1, MPI_INT,
                          p->lane, &p->request);
    else if (p->ordered && p->bf16)
      rc = MPI_Ialltoallv(p->send16.data(), p->counts.data(), p->displs.data(), MPI_UINT16_T,
                          p->chunks16.data(), p->mineCounts.data(), p->mineDispls.data(),
                          MPI_UINT16_T, p->lane, &p->request);
    else if (p->ordered)
      rc = MPI_Ialltoallv(data, p->counts.data(), p->displs.data(), MPI_FLOAT, p->chunks.data(),
                          p->mineCounts.data(), p->mineDispls.data(), MPI_FLOAT, p->lane,
                          &p->request);
    else
      rc = MPI_Iallreduce(MPI_IN_PLACE, data, int(count), MPI_FLOAT, MPI_SUM, p->lane, &p->request);
    if (rc != MPI_SUCCESS)
      return absl::InternalError(
          absl::StrCat("rank ", rank_, ": starting ", what, ": ", mpiError(rc)));
    int64_t id = next++;
    pending.emplace(id, std::move(*p));
    return Request{id};
  }

  /// Blocking: MPI's blocking collectives (Open MPI's non-blocking ones,
  /// libnbc, measured about 2x slower), under the watchdog when a timeout
  /// is set.
  absl::Status allreduce(float *data, size_t count, ReduceOp op, const std::string &what) override {
    std::lock_guard<std::mutex> lock(mpiMu);
    absl::StatusOr<Pending> p = prepare(data, count, op, what, /*blocking=*/true);
    if (!p.ok())
      return p.status();
    absl::Cleanup keep = [&] { exchangeScratch(*p); };
    Guard guard(watchdog.get(), what);
    if (p->threshold) {
      if (absl::Status s = check(MPI_Allgather(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL,
                                               p->words.data(), 1, MPI_INT, comm),
                                 what.c_str());
          !s.ok())
        return s;
      gatherDispls(*p);
      if (absl::Status s = check(MPI_Allgatherv(p->message.data(), p->myWords, MPI_UINT32_T,
                                                p->received.data(), p->words.data(),
                                                p->wordDispls.data(), MPI_UINT32_T, comm),
                                 what.c_str());
          !s.ok())
        return s;
      return decode(*p);
    }
    if (!p->ordered) {
      if (absl::Status s =
              check(MPI_Allreduce(MPI_IN_PLACE, data, int(count), MPI_FLOAT, MPI_SUM, comm),
                    what.c_str());
          !s.ok())
        return s;
      finishLibrary(*p);
      return absl::OkStatus();
    }
    if (p->bf16) {
      if (absl::Status s = check(MPI_Alltoallv(p->send16.data(), p->counts.data(),
                                               p->displs.data(), MPI_UINT16_T, p->chunks16.data(),
                                               p->mineCounts.data(), p->mineDispls.data(),
                                               MPI_UINT16_T, comm),
                                 what.c_str());
          !s.ok())
        return s;
      reduceMine(*p);
      if (absl::Status s = check(MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_UINT16_T, p->wire16.data(),
                                                p->counts.data(), p->displs.data(), MPI_UINT16_T,
                                                comm),
                                 what.c_str());
          !s.ok())
        return s;
      unpack(*p);
      return absl::OkStatus();
    }
    if (absl::Status s = check(MPI_Alltoallv(data, p->counts.data(), p->displs.data(), MPI_FLOAT,
                                             p->chunks.data(), p->mineCounts.data(),
                                             p->mineDispls.data(), MPI_FLOAT, comm),
                               what.c_str());
        !s.ok())
      return s;
    reduceMine(*p);
    return check(MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_FLOAT, data, p->counts.data(),
                                p->displs.data(), MPI_FLOAT, comm),
                 what.c_str());
  }

  void progress() override {
    std::lock_guard<std::mutex> lock(mpiMu);
    for (auto &[id, p] : pending)
      (void)advance(p);
  }

  absl::Status wait(Request request) override {
    std::lock_guard<std::mutex> lock(mpiMu);
    auto it = pending.find(request.id);
    if (it == pending.end())
      return absl::InvalidArgumentError(
          absl::StrCat("rank ", rank_, ": wait on an unknown or finished request ", request.id));
    absl::Status s = complete(it->second);
    if (s.code() != absl::StatusCode::kDeadlineExceeded) { // else MPI still owns the buffers
      exchangeScratch(it->second);
      pending.erase(it);
    }
    return s;
  }

  absl::Status send(const void *data, size_t bytes, int to, int64_t tag,
                    const std::string &what) override {
    if (absl::Status s = checkPeer(to, bytes, tag, what); !s.ok())
      return s;
    std::lock_guard<std::mutex> lock(mpiMu);
    reapSends();
    sends.emplace_back();
    Transfer &t = sends.back();
    t.copy.assign(static_cast<const uint8_t *>(data), static_cast<const uint8_t *>(data) + bytes);
    t.what = what;
    return check(MPI_Isend(t.copy.data(), int(bytes), MPI_BYTE, to, int(tag), comm, &t.request),
                 what.c_str());
  }

  absl::StatusOr<Request> recvStart(void *data, size_t bytes, int from, int64_t tag,
                                    const std::string &what) override {
    if (absl::Status s = checkPeer(from, bytes, tag, what); !s.ok())
      return s;
    std::lock_guard<std::mutex> lock(mpiMu);
    int64_t id = next++;
    Transfer &t = receives[id];
    t.what = what;
    t.bytes = bytes;
    if (absl::Status s = check(MPI_Irecv(data, int(bytes), MPI_BYTE, from, int(tag), comm,
                                         &t.request),
                               what.c_str());
        !s.ok()) {
      receives.erase(id);
      return s;
    }
    return Request{id};
  }

  absl::Status recvWait(Request request) override {
    std::lock_guard<std::mutex> lock(mpiMu);
    auto it = receives.find(request.id);
    if (it == receives.end())
      return absl::InvalidArgumentError(
          absl::StrCat("rank ", rank_, ": wait on an unknown or finished receive ", request.id));
    MPI_Status status;
    absl::Status s = finish(it->second, &status);
    if (s.code() == absl::StatusCode::kDeadlineExceeded)
      return s; // MPI still owns the buffer
    Transfer t = std::move(it->second);
    receives.erase(it);
    if (!s.ok())
      return s;
    int got = 0;
    MPI_Get_count(&status, MPI_BYTE, &got);
    if (size_t(got) != t.bytes)
      return absl::InvalidArgumentError(absl::StrCat("rank ", rank_, ": ", t.what, ": rank ",
                                                     status.MPI_SOURCE, " sent ", got,
                                                     " bytes, expected ", t.bytes));
    return absl::OkStatus();
  }

  absl::StatusOr<std::unique_ptr<Communicator>> split(int color, int key) override {
    std::lock_guard<std::mutex> lock(mpiMu);
    Guard guard(watchdog.get(), "splitting the communicator (MPI_Comm_split)");
    MPI_Comm part;
    if (absl::Status s = check(MPI_Comm_split(comm, color, key, &part), "MPI_Comm_split");
        !s.ok())
      return s;
    MPI_Comm_set_errhandler(part, MPI_ERRORS_RETURN);
    std::vector<MPI_Comm> partLanes;
    for (size_t i = 0; i < lanes.size(); ++i) {
      MPI_Comm lane;
      if (absl::Status s = check(MPI_Comm_dup(part, &lane), "MPI_Comm_dup"); !s.ok()) {
        for (MPI_Comm &l : partLanes)
          MPI_Comm_free(&l);
        MPI_Comm_free(&part);
        return s;
      }
      MPI_Comm_set_errhandler(lane, MPI_ERRORS_RETURN);
      partLanes.push_back(lane);
    }
    CommunicatorOptions o = options;
    o.progressThread = false; // the world's thread, if any, serves its own requests
    return std::unique_ptr<Communicator>(new MpiCommunicator(part, std::move(partLanes), o));
  }

  void cancelRecv(Request request) override {
    std::lock_guard<std::mutex> lock(mpiMu);
    auto it = receives.find(request.id);
    if (it == receives.end())
      return;
    if (it->second.request != MPI_REQUEST_NULL) {
      MPI_Cancel(&it->second.request);
      MPI_Wait(&it->second.request, MPI_STATUS_IGNORE); // the cancel completes locally
    }
    receives.erase(it);
  }

  absl::Status flushSends() override {
    std::lock_guard<std::mutex> lock(mpiMu);
    while (!sends.empty()) {
      if (absl::Status s = finish(sends.front(), MPI_STATUS_IGNORE); !s.ok())
        return s;
      sends.pop_front();
    }
    return absl::OkStatus();
  }

  absl::Status broadcast(void *data, size_t bytes, int root) override {
    if (bytes > size_t(INT_MAX))
      return absl::InvalidArgumentError(absl::StrCat("broadcast of ", bytes, " bytes: too large"));
    if (root < 0 || root >= size_)
      return absl::InvalidArgumentError(absl::StrCat("broadcast from rank ", root, " of ", size_));
    std::lock_guard<std::mutex> lock(mpiMu);
    Guard guard(watchdog.get(), "a broadcast");
    return check(MPI_Bcast(data, int(bytes), MPI_BYTE, root, comm), "broadcast");
  }

  void abort(const std::string &why) override {
    if (why.rfind("rank ", 0) == 0) // already names the rank
      std::fprintf(stderr, "tgc: %s; aborting the job\n", why.c_str());
    else
      std::fprintf(stderr, "tgc: rank %d of %d: %s; aborting the job\n", rank_, size_, why.c_str());
    std::fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, 1);
  }

  absl::Status allgather(const void *in, size_t bytes, void *out) override {
    if (bytes > size_t(INT_MAX) / size_t(size_))
      return absl::InvalidArgumentError(absl::StrCat("allgather of ", bytes, " bytes: too large"));
    std::lock_guard<std::mutex> lock(mpiMu);
    Guard guard(watchdog.get(), "an allgather");
    return check(MPI_Allgather(in, int(bytes), MPI_BYTE, out, int(bytes), MPI_BYTE, comm),
                 "allgather");
  }

  absl::Status reduceScatter(const float *in, size_t shard, float *out, ReduceOp op,
                             const std::string &what) override {
    if (shard > size_t(INT_MAX))
      return absl::InvalidArgumentError(
          absl::StrCat(what, ": a shard of ", shard, " floats is more than MPI carries"));
    std::vector<float> &chunks = scatterChunks; // every rank's copy of this shard
    chunks.resize(size_t(size_) * shard);
    {
      std::lock_guard<std::mutex> lock(mpiMu);
      Guard guard(watchdog.get(), what);
      if (absl::Status s = check(MPI_Alltoall(in, int(shard), MPI_FLOAT, chunks.data(), int(shard),
                                              MPI_FLOAT, comm),
                                 what.c_str());
          !s.ok())
        return s;
    }
    std::vector<const float *> parts;
    for (size_t r = 0; r < size_t(size_); ++r)
      parts.push_back(chunks.data() + r * shard);
    reduceInRankOrder(parts.data(), size_, shard, op, out);
    sent += uint64_t(size_ - 1) * shard * sizeof(float);
    return absl::OkStatus();
  }

private:
  /// Arms the watchdog (if any) for a blocking call while it lives.
  struct Guard {
    Guard(Watchdog *w, const std::string &what) : w(w) {
      if (w)
        w->arm(what);
    }
    ~Guard() {
      if (w)
        w->disarm();
    }
    Watchdog *w;
  };

  /// A started allreduce. RankOrdered runs in two phases, a deterministic
  /// reduce-scatter and an allgather: the buffer is cut into one chunk per
  /// rank; an alltoall brings every rank's copy of chunk r to rank r, which
  /// adds them in rank order (Reduce.h); an allgather returns the reduced
  /// chunks. Each element is reduced once, in rank order, so every rank gets
  /// the same bits whatever MPI's algorithms, with ring-allreduce traffic.
  struct Pending {
    MPI_Request request = MPI_REQUEST_NULL;
    MPI_Comm lane = MPI_COMM_NULL;
    int phase = 0; ///< RankOrdered: 0 alltoall, 1 allgather, 2 done
    float *data = nullptr;
    size_t count = 0;
    ReduceOp op = ReduceOp::Sum;
    std::string what;
    std::vector<int> counts, displs;         ///< every rank's chunk of the buffer
    std::vector<int> mineCounts, mineDispls; ///< this rank's chunk from every rank
    std::vector<float> chunks;               ///< those copies, in rank order
    /// Compression::Bf16: the buffer as sent, the chunks as received, and
    /// the reduced buffer as gathered, in bfloat16.
    std::vector<uint16_t> send16, chunks16, wire16;
    /// Compression::Threshold: this rank's message, every rank's length and
    /// offset, and every rank's message (phase 0 gathers the lengths, phase
    /// 1 the messages).
    std::vector<uint32_t> message, received;
    std::vector<int> words, wordDispls;
    int myWords = 0;
    bool ordered = false, bf16 = false, threshold = false; ///< the modes it started with
    float t = 0; ///< Threshold: the quantum it started with
  };

  /// The bookkeeping of one allreduce, or an error when it is too large for
  /// MPI's int counts.
  absl::StatusOr<Pending> prepare(float *data, size_t count, ReduceOp op,
                                  const std::string &what, bool blocking) {
    if (count > size_t(INT_MAX))
      return absl::InvalidArgumentError(absl::StrCat(
          what, ": ", count, " floats is more than one MPI collective carries; split it"));
    Pending p;
    p.data = data;
    p.count = count;
    p.op = op;
    p.what = what;
    exchangeScratch(p);
    Compression mode = modeFor(op);
    p.ordered = rankOrdered(mode, count, blocking);
    p.bf16 = mode == Compression::Bf16;
    p.threshold = mode == Compression::Threshold;
    if (p.threshold) {
      // Every rank's message in one allgatherv: MPI's int displacements.
      if (uint64_t(size_) * thresholdMaxWords(count) > uint64_t(INT_MAX))
        return absl::InvalidArgumentError(absl::StrCat(
            what, ": ", count, " floats threshold-encoded on ", size_,
            " ranks is more than one MPI collective carries; lower --bucket-mb"));
      p.t = options.threshold;
      std::vector<float> &residual = residuals[what];
      residual.resize(count, 0.0f);
      thresholdEncode(data, residual.data(), count, options.threshold, p.message);
      p.myWords = int(p.message.size());
      p.words.assign(size_t(size_), 0);
      p.words[size_t(rank_)] = p.myWords; // gathered in place
      // Its message to every other rank, and its length first.
      sent += uint64_t(p.myWords + 1) * sizeof(uint32_t) * uint64_t(size_ - 1);
      return p;
    }
    if (p.ordered) {
      size_t n = size_t(size_), base = count / n, extra = count % n, offset = 0;
      for (size_t r = 0; r < n; ++r) {
        size_t len = base + (r < extra ? 1 : 0);
        p.counts.push_back(int(len));
        p.displs.push_back(int(offset));
        offset += len;
      }
      int mine = p.counts[size_t(rank_)];
      for (size_t r = 0; r < n; ++r) {
        p.mineCounts.push_back(mine);
        p.mineDispls.push_back(int(r) * mine);
      }
      p.chunks.resize(n * size_t(mine));
      if (p.bf16) {
        p.send16.resize(count);
        for (size_t i = 0; i < count; ++i)
          p.send16[i] = toBf16(data[i]);
        p.chunks16.resize(n * size_t(mine));
        p.wire16.resize(count);
      }
    }
    sent += wireBytes(count, size_, rank_, p.bf16 ? 2 : 4);
    return p;
  }

  absl::Status check(int rc, const char *what) {
    if (rc == MPI_SUCCESS)
      return absl::OkStatus();
    return absl::InternalError(absl::StrCat("rank ", rank_, ": ", what, ": ", mpiError(rc)));
  }

  /// This rank's chunk: every rank's copy added in rank order.
  void reduceMine(Pending &p) {
    std::vector<const float *> parts;
    size_t mine = size_t(p.counts[size_t(rank_)]), at = size_t(p.displs[size_t(rank_)]);
    if (p.bf16)
      for (size_t i = 0; i < p.chunks16.size(); ++i)
        p.chunks[i] = fromBf16(p.chunks16[i]);
    for (int r = 0; r < size_; ++r)
      parts.push_back(p.chunks.data() + size_t(r) * mine);
    reduceInRankOrder(parts.data(), size_, mine, p.op, p.data + at, p.bf16);
    if (p.bf16) // the reduced chunk, as it travels back
      for (size_t i = 0; i < mine; ++i)
        p.wire16[at + i] = toBf16(p.data[at + i]);
  }

  /// Compression::Bf16: every rank's reduced chunk, gathered, into the buffer.
  void unpack(Pending &p) {
    for (size_t i = 0; i < p.count; ++i)
      p.data[i] = fromBf16(p.wire16[i]);
  }

  /// Threshold: where each rank's message goes in `received`.
  void gatherDispls(Pending &p) {
    p.wordDispls.assign(size_t(size_), 0);
    size_t total = 0;
    for (size_t r = 0; r < size_t(size_); ++r) {
      p.wordDispls[r] = int(total);
      total += size_t(p.words[r]);
    }
    p.received.resize(total);
  }

  /// Threshold: every rank's message decoded and added in rank order.
  absl::Status decode(Pending &p) {
    std::vector<const uint32_t *> messages;
    std::vector<size_t> sizes;
    for (size_t r = 0; r < size_t(size_); ++r) {
      messages.push_back(p.received.data() + p.wordDispls[r]);
      sizes.push_back(size_t(p.words[r]));
    }
    if (!thresholdReduce(messages.data(), sizes.data(), size_, p.count, p.op, p.t, p.data))
      return absl::InternalError(absl::StrCat("rank ", rank_, ": ", p.what,
                                              ": a malformed threshold-encoded message"));
    return absl::OkStatus();
  }

  void finishLibrary(Pending &p) {
    if (p.op != ReduceOp::Sum) {
      float n = float(size_);
      for (size_t i = 0; i < p.count; ++i)
        p.data[i] /= n;
    }
  }

  /// Tests the request and moves to the next phase when it is done; true
  /// once the allreduce has completed.
  absl::StatusOr<bool> advance(Pending &p) {
    if (p.phase == 2)
      return true;
    int done = 0;
    if (absl::Status s = check(MPI_Test(&p.request, &done, MPI_STATUS_IGNORE), p.what.c_str());
        !s.ok())
      return s;
    if (!done)
      return false;
    if (p.threshold) {
      if (p.phase == 1) {
        p.phase = 2;
        if (absl::Status s = decode(p); !s.ok())
          return s;
        return true;
      }
      gatherDispls(p);
      p.phase = 1;
      if (absl::Status s = check(MPI_Iallgatherv(p.message.data(), p.myWords, MPI_UINT32_T,
                                                 p.received.data(), p.words.data(),
                                                 p.wordDispls.data(), MPI_UINT32_T, p.lane,
                                                 &p.request),
                                 p.what.c_str());
          !s.ok())
        return s;
      return false;
    }
    if (!p.ordered || p.phase == 1) {
      if (!p.ordered)
        finishLibrary(p);
      else if (p.bf16)
        unpack(p);
      p.phase = 2;
      return true;
    }
    reduceMine(p);
    p.phase = 1;
    int rc = p.bf16 ? MPI_Iallgatherv(MPI_IN_PLACE, 0, MPI_UINT16_T, p.wire16.data(),
                                      p.counts.data(), p.displs.data(), MPI_UINT16_T, p.lane,
                                      &p.request)
                    : MPI_Iallgatherv(MPI_IN_PLACE, 0, MPI_FLOAT, p.data, p.counts.data(),
                                      p.displs.data(), MPI_FLOAT, p.lane, &p.request);
    if (absl::Status s = check(rc, p.what.c_str()); !s.ok())
      return s;
    return false;
  }

  /// Completes the allreduce, within the timeout when one is set.
  absl::Status complete(Pending &p) {
    auto deadline =
        std::chrono::steady_clock::now() + std::chrono::duration<double>(options.timeoutSeconds);
    for (;;) {
      if (options.timeoutSeconds <= 0 && p.phase < 2) { // block in MPI: no busy loop
        if (absl::Status s = check(MPI_Wait(&p.request, MPI_STATUS_IGNORE), p.what.c_str());
            !s.ok())
          return s;
      }
      absl::StatusOr<bool> done = advance(p);
      if (!done.ok())
        return done.status();
      if (*done)
        return absl::OkStatus();
      if (options.timeoutSeconds > 0 && std::chrono::steady_clock::now() > deadline)
        return absl::DeadlineExceededError(absl::StrCat(
            "rank ", rank_, " of ", size_, ": ", p.what, " did not complete within ",
            options.timeoutSeconds, " s (a rank died or hangs, or the network is down)"));
      if (options.timeoutSeconds > 0)
        std::this_thread::yield();
    }
  }

  /// A pipeline transfer: a send owns a copy of its data.
  struct Transfer {
    MPI_Request request = MPI_REQUEST_NULL;
    std::vector<uint8_t> copy;
    size_t bytes = 0;
    std::string what;
  };
  std::deque<Transfer> sends;           ///< in the order started
  std::map<int64_t, Transfer> receives; ///< by request id

  absl::Status checkPeer(int peer, size_t bytes, int64_t tag, const std::string &what) const {
    if (peer < 0 || peer >= size_ || peer == rank_)
      return absl::InvalidArgumentError(
          absl::StrCat("rank ", rank_, ": ", what, " with rank ", peer, " of ", size_));
    if (bytes > size_t(INT_MAX) || tag < 0 || tag > 32767) // MPI_TAG_UB is at least 32767
      return absl::InvalidArgumentError(absl::StrCat("rank ", rank_, ": ", what, ": ", bytes,
                                                     " bytes under tag ", tag,
                                                     " do not fit one MPI message"));
    return absl::OkStatus();
  }

  /// Frees the copies of the sends that completed (mpiMu held).
  void reapSends() {
    while (!sends.empty()) {
      int done = 0;
      MPI_Test(&sends.front().request, &done, MPI_STATUS_IGNORE);
      if (!done)
        return;
      sends.pop_front();
    }
  }

  /// Completes a transfer, within the timeout when one is set (mpiMu held).
  absl::Status finish(Transfer &t, MPI_Status *status) {
    if (options.timeoutSeconds <= 0)
      return check(MPI_Wait(&t.request, status), t.what.c_str());
    auto deadline =
        std::chrono::steady_clock::now() + std::chrono::duration<double>(options.timeoutSeconds);
    for (;;) {
      int done = 0;
      if (absl::Status s = check(MPI_Test(&t.request, &done, status), t.what.c_str()); !s.ok())
        return s;
      if (done)
        return absl::OkStatus();
      if (std::chrono::steady_clock::now() > deadline)
        return absl::DeadlineExceededError(absl::StrCat(
            "rank ", rank_, " of ", size_, ": ", t.what, " did not complete within ",
            options.timeoutSeconds, " s (a rank died or hangs, or the network is down)"));
      std::this_thread::yield();
    }
  }

  MPI_Comm comm;               ///< blocking collectives, pipeline transfers
  std::vector<MPI_Comm> lanes; ///< started allreduces, round robin
  int64_t started = 0;
  uint64_t sent = 0; ///< allreduced bytes this rank sent
  std::map<std::string, std::vector<float>> residuals; ///< Threshold: by bucket
  /// A gradient bucket's scratch buffers, by name, kept between steps (about
  /// one more copy of the bucket for f32 at more than 2 ranks, 1.5 for bf16):
  /// allocating a bucket's size every step got fresh, unfaulted pages from
  /// glibc whenever sizes varied (a 200k-element bf16 allreduce took 1.8 ms
  /// after other sizes, 1.15 ms alone: tg-bench-comm --elements).
  struct Scratch {
    std::vector<float> chunks;
    std::vector<uint16_t> send16, chunks16, wire16;
    std::vector<uint32_t> message, received;
  };
  std::map<std::string, Scratch> scratch;

  /// Swaps an allreduce's buffers with its bucket's kept ones: on prepare
  /// it takes them (leaving empty ones), on completion it puts them back.
  /// Only gradient buckets keep scratch: their names repeat every step,
  /// while other collectives (a step's stop flags) are small and named anew.
  void exchangeScratch(Pending &p) {
    if (p.op != ReduceOp::GradientMean)
      return;
    Scratch &s = scratch[p.what];
    std::swap(p.chunks, s.chunks);
    std::swap(p.send16, s.send16);
    std::swap(p.chunks16, s.chunks16);
    std::swap(p.wire16, s.wire16);
    std::swap(p.message, s.message);
    std::swap(p.received, s.received);
  }
  std::vector<float> scatterChunks; ///< reduceScatter's receive buffer, kept between steps
  std::mutex mpiMu;  ///< every MPI call (with the progress thread)
  std::atomic<bool> stopProgress{false};
  std::thread progressThread;
  CommunicatorOptions options;
  std::unique_ptr<Watchdog> watchdog; ///< with a timeout: for blocking calls
  int rank_ = 0, size_ = 1;
  int64_t next = 0;
  std::map<int64_t, Pending> pending;
};

} // namespace

absl::StatusOr<std::unique_ptr<Communicator>>
createMpiCommunicator(const CommunicatorOptions &options) {
  int initialized = 0, finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  if (finalized)
    return absl::FailedPreconditionError("MPI was already finalized in this process");
  // Start-up is under the watchdog too: a misrouted network hangs in MPI's
  // first collectives, before any training step.
  std::unique_ptr<Watchdog> startup;
  if (options.timeoutSeconds > 0) {
    auto [r, n] = launcherRank();
    startup = std::make_unique<Watchdog>(options.timeoutSeconds, r, n);
    startup->setContext("start-up");
  }
  auto arm = [&](const std::string &what) {
    if (startup)
      startup->arm(what);
  };
  if (!initialized) {
    // Only the calling thread makes MPI calls (the data prefetcher does not).
    // (The progress thread needs MPI_THREAD_MULTIPLE.)
    int provided = 0, required = options.progressThread ? MPI_THREAD_MULTIPLE : MPI_THREAD_FUNNELED;
    arm("MPI_Init (connecting to the launcher and the other ranks)");
    int rc = MPI_Init_thread(nullptr, nullptr, required, &provided);
    if (rc != MPI_SUCCESS)
      return absl::UnavailableError(absl::StrCat("MPI could not start: ", mpiError(rc)));
    if (provided < required)
      return absl::UnavailableError(
          "--progress-thread needs MPI_THREAD_MULTIPLE, which this MPI library does not provide");
    // Finalized once at exit, so communicators can come and go.
    std::atexit([] {
      int done = 0;
      MPI_Finalized(&done);
      if (!done)
        MPI_Finalize();
    });
  }
  if (startup) {
    startup->disarm();
    if (absl::Status s = helloRound(options.timeoutSeconds); !s.ok()) {
      std::fprintf(stderr, "tgc: %s; aborting the job\n", std::string(s.message()).c_str());
      std::fflush(stderr);
      abortJob();
    }
    arm("creating the communicator (MPI_Comm_dup)");
  }
  MPI_Comm comm;
  int rc = MPI_Comm_dup(MPI_COMM_WORLD, &comm);
  if (rc != MPI_SUCCESS)
    return absl::UnavailableError(absl::StrCat("MPI_Comm_dup: ", mpiError(rc)));
  MPI_Comm_set_errhandler(comm, MPI_ERRORS_RETURN);
  std::vector<MPI_Comm> lanes(8);
  for (MPI_Comm &lane : lanes) {
    rc = MPI_Comm_dup(comm, &lane);
    if (rc != MPI_SUCCESS)
      return absl::UnavailableError(absl::StrCat("MPI_Comm_dup: ", mpiError(rc)));
    MPI_Comm_set_errhandler(lane, MPI_ERRORS_RETURN);
  }
  startup.reset();
  return std::unique_ptr<Communicator>(new MpiCommunicator(comm, std::move(lanes), options));
}

} // namespace tg::dist
