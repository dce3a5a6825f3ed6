//===- Collectives.h - compiled collectives meet the communicator -*- C++ -*-===//
//
// Compiled code calls tgrt_allreduce_start/wait (support/KernelAbi.h) with a
// bucket's buffer and id; they go to the communicator of the session whose
// step runs on this thread (tg_session_run installs it), or, with none, to
// one rank: the identity. Library kernels call progressCollectives() so
// that started collectives advance while compute runs (Open MPI has no
// asynchronous progress).
//
//===----------------------------------------------------------------------===//
#ifndef TG_RUNTIME_COLLECTIVES_H
#define TG_RUNTIME_COLLECTIVES_H

#include "comm/Communicator.h"

#include <string>

namespace tg::rt {

/// Installs `comm` (may be null: one rank) for the collectives of the entry
/// point `entry` run on this thread while it lives; on destruction any bucket
/// still pending is completed, so no collective outlives its step.
class CollectiveScope {
public:
  /// `stageStride`: ranks between consecutive pipeline stages (the
  /// peer of stage offset p is rank + p * stageStride); `transfers`: the
  /// communicator of the pipeline transfers, when it is not `comm` (which
  /// then reduces within a stage's data-parallel replicas).
  CollectiveScope(dist::Communicator *comm, const std::string &entry, int stageStride = 1,
                  dist::Communicator *transfers = nullptr);
  ~CollectiveScope();
  CollectiveScope(const CollectiveScope &) = delete;
  CollectiveScope &operator=(const CollectiveScope &) = delete;
};

/// Advances this thread's started collectives (cheap when there are none).
void progressCollectives();

/// TG_COLLECTIVES_NO_OVERLAP=1 (a benchmark's baseline): every allreduce is
/// a blocking one at its wait, so none overlaps compute.
bool noOverlap();

} // namespace tg::rt

#endif // TG_RUNTIME_COLLECTIVES_H
