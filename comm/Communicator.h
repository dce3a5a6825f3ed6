//===- Communicator.h - collectives for data-parallel training --*- C++ -*-===//
//
// The runtime side of data parallelism: the interface the compiled
// collectives (tg.allreduce_start / tg.allreduce_wait, to come) and the
// training loop call, with an Open MPI implementation and a single-process
// one, so the same artifact runs with one rank and no MPI. The interface is
// shaped for NCCL too: start returns a handle, wait completes it.
//
// Reductions are bitwise identical on every rank. With
// Reduction::RankOrdered (the default) they are also independent of the
// message size and of MPI's algorithm choice: every rank gathers all
// contributions and adds them in rank order 0, 1, ..., N-1, so a run is
// reproducible for a given world size and bucket plan, and a single process
// emulating N ranks can reproduce it exactly. Reduction::Library uses
// MPI_Iallreduce (MPI's own algorithm: less traffic for many ranks, bits
// depend on the message size).
//
//===----------------------------------------------------------------------===//
#ifndef TG_COMM_COMMUNICATOR_H
#define TG_COMM_COMMUNICATOR_H

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace tg::dist {

/// GradientMean is a Mean of gradients: the only reduction the artifact's
/// compression applies to (a loss, a metric, a flag is always exact f32).
enum class ReduceOp { Sum, Mean, GradientMean };
enum class Reduction { RankOrdered, Library };
/// How allreduced floats travel: as f32, or as bfloat16 (half the bytes; the
/// sum is taken in f32 over the rounded contributions, in rank order, and
/// rounded again for the way back: Reduce.h), or threshold-encoded (only
/// the elements of gradient + residual that reach the threshold travel, as
/// one quantum each; the rest is carried to the next step in a residual per
/// bucket, on each rank). RankOrdered only, and only for GradientMean.
enum class Compression { None, Bf16, Threshold };

struct CommunicatorOptions {
  Reduction reduction = Reduction::RankOrdered;
  Compression compression = Compression::None;
  float threshold = 0; ///< Compression::Threshold's quantum
  /// MPI: a thread advances started allreduces while the caller computes
  /// (Open MPI 4.1 has no asynchronous progress); needs MPI_THREAD_MULTIPLE.
  bool progressThread = false;
  /// Seconds a collective may take; 0 waits forever. A wait() then fails
  /// with DEADLINE_EXCEEDED naming the collective; MPI's blocking calls
  /// (allreduce, broadcast, allgather) end the process with that message.
  double timeoutSeconds = 0;
};

class Communicator;
/// One rank, no MPI: reductions are the identity, gathers copy.
std::unique_ptr<Communicator> createSingleProcessCommunicator();

/// A started collective; pass it to wait() exactly once.
struct Request {
  int64_t id = -1;
};

class Communicator {
public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  /// "single-process" or "mpi".
  virtual std::string kind() const = 0;

  /// Starts an in-place allreduce of `count` floats at `data`; `data` must
  /// stay valid and untouched until wait(). `what` names it in errors (e.g.
  /// "bucket 2").
  virtual absl::StatusOr<Request> allreduceStart(float *data, size_t count, ReduceOp op,
                                                 const std::string &what) = 0;
  /// Advances started collectives without blocking (Open MPI progresses
  /// non-blocking collectives only inside MPI calls).
  virtual void progress() = 0;
  /// Completes a started collective. DEADLINE_EXCEEDED after the timeout,
  /// naming the collective and this rank.
  virtual absl::Status wait(Request request) = 0;

  /// A blocking allreduce: the same result as allreduceStart + wait. MPI
  /// runs it with its blocking collectives (Open MPI's non-blocking ones,
  /// libnbc, are about 2x slower; bench/run_comm.sh); with a timeout, a
  /// watchdog thread ends the process when one outlives it (a blocking call
  /// cannot return), printing the collective and the context.
  // Inline, so the class has no key function: its vtable and type info are
  // emitted wherever it is used, as libtgrt uses it without linking this
  // library (UBSan's vptr checks need the type info there).
  virtual absl::Status allreduce(float *data, size_t count, ReduceOp op,
                                 const std::string &what) {
    absl::StatusOr<Request> r = allreduceStart(data, count, op, what);
    if (!r.ok())
      return r.status();
    return wait(*r);
  }
  /// Copies `bytes` at `data` from rank `root` to every rank.
  virtual absl::Status broadcast(void *data, size_t bytes, int root) = 0;
  /// Every rank's `bytes` at `in`, in rank order, into `out` (size() * bytes).
  virtual absl::Status allgather(const void *in, size_t bytes, void *out) = 0;
  /// This rank's shard of a reduction (--shard-optimizer-state): every rank
  /// passes size() * `shard` floats at `in`; rank r gets elements
  /// [r * shard, (r + 1) * shard) of their reduction into `out`, each added
  /// in rank order as a rank-ordered allreduce adds it (the same bits). No
  /// compression. `what` names it in errors.
  virtual absl::Status reduceScatter(const float *in, size_t shard, float *out, ReduceOp op,
                                     const std::string &what) = 0;

  /// Pipeline transfers (tg.send_start / tg.recv_start, tgc compile
  /// --pipeline-stages). send copies `bytes` at `data` and starts sending
  /// them to rank `to` under `tag`; it returns at once (the copy is freed
  /// once delivered, at the latest by flushSends), so a send never blocks a
  /// schedule. Messages between two ranks with the same tag arrive in order.
  virtual absl::Status send(const void *, size_t, int to, int64_t tag, const std::string &what) {
    return noPeers(to, tag, what);
  }
  /// Starts receiving `bytes` into `data` from rank `from` under `tag`;
  /// `data` belongs to the transfer until recvWait. An error for a message
  /// of another size.
  virtual absl::StatusOr<Request> recvStart(void *, size_t, int from, int64_t tag,
                                            const std::string &what) {
    return noPeers(from, tag, what);
  }
  /// Completes a started receive; DEADLINE_EXCEEDED after the timeout.
  virtual absl::Status recvWait(Request) {
    return absl::FailedPreconditionError("recvWait without a started receive");
  }
  /// Completes every send this rank started (the end of a step).
  virtual absl::Status flushSends() { return absl::OkStatus(); }
  /// Withdraws a started receive that will not be waited for (a failed
  /// step): its buffer is the caller's again when this returns.
  virtual void cancelRecv(Request) {}

  /// The ranks with the same `color`, as a communicator of their own ranked
  /// by `key` (MPI_Comm_split): a pipeline stage's data-parallel replicas.
  /// Collective: every rank calls it. The result must not outlive this one.
  virtual absl::StatusOr<std::unique_ptr<Communicator>> split(int color, int key) {
    if (size() == 1)
      return createSingleProcessCommunicator();
    (void)color;
    (void)key;
    return absl::UnimplementedError(kind() + " communicators cannot be split");
  }

  /// What the rank is doing ("step 12 (epoch 1)"), for timeout messages.
  virtual void setContext(const std::string &) {}

  /// How later GradientMean allreduces travel (the artifact's --compress;
  /// every rank sets the same; `threshold` for Compression::Threshold). One
  /// rank: nothing travels. A threshold-encoded bucket's residual is keyed
  /// by its `what`.
  virtual void setCompression(Compression, float /*threshold*/) {}

  /// Bytes of allreduced data this rank has sent (a thread group: what it
  /// would send over a network, with the same two-phase exchange).
  virtual uint64_t allreduceBytesSent() const { return 0; }

  /// Ends the whole run after an unrecoverable error (a collective timed
  /// out, a rank failed): MPI aborts every process of the job (Open MPI 4.1
  /// has no fault tolerance) and does not return; a thread group wakes and
  /// fails every rank's pending and later collectives; one rank does nothing.
  virtual void abort(const std::string &why) = 0;

  /// Checks that every rank holds the same `value` (an artifact hash, a data
  /// size, ...); otherwise an error on every rank naming `what` and each
  /// rank's value. Collective: every rank must call it.
  absl::Status checkSame(const std::string &what, uint64_t value, bool hex = false);

private:
  absl::Status noPeers(int peer, int64_t tag, const std::string &what) const {
    return absl::FailedPreconditionError(
        "rank " + std::to_string(rank()) + " of " + std::to_string(size()) + " (" + kind() +
        "): " + what + " (tag " + std::to_string(tag) + ") needs rank " + std::to_string(peer) +
        ", and this communicator has no point-to-point transfers");
  }
};


/// `size` communicators joined in one process, one per thread (tgc train
/// --emulate-world-size): rank r is element r. Reductions are rank-ordered
/// with the same arithmetic as the MPI communicator's, so N threads give
/// the bits of N MPI processes.
std::vector<std::unique_ptr<Communicator>>
createThreadGroup(int size, const CommunicatorOptions &options = {});

/// True when this process was started by an MPI launcher (mpirun, srun with
/// PMI/PMIx): it sees a launcher's rank variables.
bool launchedByMpiLauncher();

/// The MPI world (initializes MPI if needed; finalizes it on destruction if
/// it initialized it). An error if MPI cannot start.
absl::StatusOr<std::unique_ptr<Communicator>>
createMpiCommunicator(const CommunicatorOptions &options = {});

/// MPI when launched by an MPI launcher, else the single-process one.
absl::StatusOr<std::unique_ptr<Communicator>>
createCommunicator(const CommunicatorOptions &options = {});

} // namespace tg::dist

#endif // TG_COMM_COMMUNICATOR_H
