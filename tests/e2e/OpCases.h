//===- OpCases.h - one small module per op, for the compiled-code tests ---===//
//
// The op cases every backend runs against the interpreter
// (tg-e2e-tests EveryOpMatchesTheInterpreter), and which tg-op-cases exports
// with their inputs and the interpreter's results for scripts/gpu-check.sh.
//
//===----------------------------------------------------------------------===//
#ifndef TG_TESTS_E2E_OPCASES_H
#define TG_TESTS_E2E_OPCASES_H

#include "tg/Graph.h"
#include "tg/Tensor.h"

#include <cstdint>
#include <string>
#include <vector>

namespace tg {

struct Arg {
  std::string type;
  double lo = -2, hi = 2;
};

struct OpCase {
  std::string name;
  std::vector<Arg> args; ///< named %a, %b, ... %f
  std::string body;      ///< defines %y
  std::string yType;
  double rtol = 1e-4, atol = 1e-5;
};

/// Every case, in a fixed order (case i is function @f<i>).
std::vector<OpCase> opCases();

/// One module with function @f<i> per case: arguments "f<i>.a", ... (data),
/// result "f<i>.y".
std::string opCasesModule(const std::vector<OpCase> &cases);

/// Uniform in [lo, hi) from `seed`, rounded to the dtype (floor for integers).
Tensor randomTensor(const std::vector<int64_t> &shape, DType dtype, unsigned seed, double lo,
                    double hi);

/// A small train graph of what cuDNN and cuBLASLt cannot run as library
/// calls: a convolution and a max pooling padded on one side only, Dense
/// layers with tanh and sigmoid (6 classes).
void buildOneSidedModel(Graph &g);

} // namespace tg

#endif // TG_TESTS_E2E_OPCASES_H
