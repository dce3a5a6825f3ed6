//===- Denormals.h - flush-to-zero around compiled steps --------*- C++ -*-===//
#ifndef TG_RUNTIME_DENORMALS_H
#define TG_RUNTIME_DENORMALS_H

namespace tg {
/// Sets flush-to-zero / denormals-are-zero in this thread; returns the old
/// MXCSR for restoreFloatMode.
unsigned enableFlushDenormals();
void restoreFloatMode(unsigned mxcsr);
/// Sets FTZ/DAZ once in every OpenMP worker thread.
void flushDenormalsInWorkers();
} // namespace tg

#endif // TG_RUNTIME_DENORMALS_H
