//===- Denormals.cpp - flush denormals to zero in compute threads ---------===//
//
// Training drives some values into the denormal range, where x86 arithmetic
// is one to two orders of magnitude slower (measured here: an LSTM train step
// went from 10 ms to 62 ms after a few steps). Like other training runtimes,
// tgc runs its compute with FTZ/DAZ set: in the calling thread for the
// duration of a step, and once in every OpenMP worker (the pool oneDNN and the
// compiled loops share; libtgrt resolves its GOMP calls to libomp).
//
//===----------------------------------------------------------------------===//
#include "runtime/Denormals.h"

#include <xmmintrin.h>

namespace tg {

static constexpr unsigned kFtzDaz = 0x8040; // MXCSR flush-to-zero | denormals-are-zero

unsigned enableFlushDenormals() {
  unsigned old = _mm_getcsr();
  _mm_setcsr(old | kFtzDaz);
  return old;
}

void restoreFloatMode(unsigned mxcsr) { _mm_setcsr(mxcsr); }

void flushDenormalsInWorkers() {
#pragma omp parallel
  _mm_setcsr(_mm_getcsr() | kFtzDaz);
}

} // namespace tg
