//===- lstm_onednn.cpp - oneDNN's LSTM primitive on the char LSTM's shapes -===//
//
// tg-bench-lstm-onednn [--window T] [--hidden H] [--steps N] [--no-peepholes]: the forward
// (training) and backward passes of oneDNN's LSTM primitive with peepholes
// for the two layers of the example char LSTM (inputs 77 then H, batch 32),
// the part of a train step a library LSTM would replace. Prints the median
// time of both layers' forward + backward; bench/run_models.sh's tgc numbers
// are whole train steps (these layers plus the output layer, the loss and
// the optimizer), so a library LSTM only pays off if this is clearly lower.
//
//===----------------------------------------------------------------------===//
#include "dnnl.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <unordered_map>
#include <vector>

namespace {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

/// One LSTM layer (oneDNN 2.x API): the forward-training and backward
/// primitives and every buffer they touch, with weights in the layouts the
/// library prefers (reordered once, outside the timing, as a compiler that
/// owned the weights would keep them).
struct Layer {
  dnnl::lstm_forward fwd;
  dnnl::lstm_backward bwd;
  std::unordered_map<int, memory> fwdArgs, bwdArgs;

  Layer(dnnl::engine &eng, dnnl::stream &s, memory::dim T, memory::dim N, memory::dim C,
        memory::dim H, bool peepholes) {
    auto md = [](memory::dims d, tag t) { return memory::desc(d, dt::f32, t); };
    memory::desc src = md({T, N, C}, tag::tnc), dst = md({T, N, H}, tag::tnc);
    memory::desc state = md({1, 1, N, H}, tag::ldnc);
    memory::desc wAny = md({1, 1, C, 4, H}, tag::any), uAny = md({1, 1, H, 4, H}, tag::any);
    memory::desc peep = peepholes ? md({1, 1, 3, H}, tag::ldgo) : memory::desc();
    memory::desc bias = md({1, 1, 4, H}, tag::ldgo);
    auto fd = dnnl::lstm_forward::desc(dnnl::prop_kind::forward_training,
                                       dnnl::rnn_direction::unidirectional_left2right, src, state,
                                       state, wAny, uAny, peep, bias, dst, state, state);
    dnnl::lstm_forward::primitive_desc fpd(fd, eng);
    auto bd = dnnl::lstm_backward::desc(dnnl::prop_kind::backward,
                                        dnnl::rnn_direction::unidirectional_left2right, src, state,
                                        state, wAny, uAny, peep, bias, dst, state, state, src,
                                        state, state, wAny, uAny, peep, bias, dst, state, state);
    dnnl::lstm_backward::primitive_desc bpd(bd, eng, fpd);
    fwd = dnnl::lstm_forward(fpd);
    bwd = dnnl::lstm_backward(bpd);
    auto filled = [&](const memory::desc &d) {
      memory m(d, eng);
      auto *p = static_cast<float *>(m.get_data_handle());
      std::fill(p, p + d.get_size() / sizeof(float), 0.01f);
      return m;
    };
    // Weights: plain ldigo filled, reordered into the primitive's layout.
    auto weights = [&](const memory::desc &want, memory::dims dims) {
      memory plain = filled(md(dims, tag::ldigo));
      memory m(want, eng);
      dnnl::reorder(plain, m).execute(s, plain, m);
      return m;
    };
    memory w = weights(fpd.weights_layer_desc(), {1, 1, C, 4, H});
    memory u = weights(fpd.weights_iter_desc(), {1, 1, H, 4, H});
    memory x = filled(src), h0 = filled(state), c0 = filled(state),
           p = peepholes ? filled(peep) : memory(), b = filled(bias), y = filled(dst),
           hT = filled(state), cT = filled(state), ws = filled(fpd.workspace_desc());
    fwdArgs = {{DNNL_ARG_SRC_LAYER, x},     {DNNL_ARG_SRC_ITER, h0},    {DNNL_ARG_SRC_ITER_C, c0},
               {DNNL_ARG_WEIGHTS_LAYER, w}, {DNNL_ARG_WEIGHTS_ITER, u}, {DNNL_ARG_BIAS, b},
               {DNNL_ARG_DST_LAYER, y},     {DNNL_ARG_DST_ITER, hT},    {DNNL_ARG_DST_ITER_C, cT},
               {DNNL_ARG_WORKSPACE, ws}};
    if (peepholes)
      fwdArgs[DNNL_ARG_WEIGHTS_PEEPHOLE] = p;
    bwdArgs = fwdArgs;
    bwdArgs[DNNL_ARG_WEIGHTS_LAYER] = weights(bpd.weights_layer_desc(), {1, 1, C, 4, H});
    bwdArgs[DNNL_ARG_WEIGHTS_ITER] = weights(bpd.weights_iter_desc(), {1, 1, H, 4, H});
    bwdArgs[DNNL_ARG_DIFF_SRC_LAYER] = filled(src);
    bwdArgs[DNNL_ARG_DIFF_SRC_ITER] = filled(state);
    bwdArgs[DNNL_ARG_DIFF_SRC_ITER_C] = filled(state);
    bwdArgs[DNNL_ARG_DIFF_WEIGHTS_LAYER] = filled(bpd.diff_weights_layer_desc());
    bwdArgs[DNNL_ARG_DIFF_WEIGHTS_ITER] = filled(bpd.diff_weights_iter_desc());
    if (peepholes)
      bwdArgs[DNNL_ARG_DIFF_WEIGHTS_PEEPHOLE] = filled(peep);
    bwdArgs[DNNL_ARG_DIFF_BIAS] = filled(bias);
    bwdArgs[DNNL_ARG_DIFF_DST_LAYER] = filled(dst);
    bwdArgs[DNNL_ARG_DIFF_DST_ITER] = filled(state);
    bwdArgs[DNNL_ARG_DIFF_DST_ITER_C] = filled(state);
    s.wait();
  }
};

} // namespace

int main(int argc, char **argv) {
  memory::dim T = 25, H = 128, N = 32, V = 77;
  int steps = 100, warmup = 10;
  bool peepholes = true;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--window" && i + 1 < argc)
      T = std::atoll(argv[++i]);
    else if (a == "--hidden" && i + 1 < argc)
      H = std::atoll(argv[++i]);
    else if (a == "--steps" && i + 1 < argc)
      steps = std::atoi(argv[++i]);
    else if (a == "--no-peepholes")
      peepholes = false;
    else {
      std::fprintf(stderr, "usage: tg-bench-lstm-onednn [--window T] [--hidden H] [--steps N] "
                           "[--no-peepholes]\n");
      return a == "--help" || a == "-h" ? 0 : 1;
    }
  }
  if (T < 1 || H < 1 || steps < 1) {
    std::fprintf(stderr, "tg-bench-lstm-onednn: --window, --hidden and --steps must be >= 1\n");
    return 1;
  }
  try {
    dnnl::engine eng(dnnl::engine::kind::cpu, 0);
    dnnl::stream s(eng);
    std::vector<Layer> layers;
    layers.emplace_back(eng, s, T, N, V, H, peepholes);
    layers.emplace_back(eng, s, T, N, H, H, peepholes);
    std::vector<double> times;
    for (int it = 0; it < warmup + steps; ++it) {
      auto t0 = std::chrono::steady_clock::now();
      for (Layer &l : layers)
        l.fwd.execute(s, l.fwdArgs);
      for (auto l = layers.rbegin(); l != layers.rend(); ++l)
        l->bwd.execute(s, l->bwdArgs);
      s.wait();
      if (it >= warmup)
        times.push_back(
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                .count());
    }
    std::sort(times.begin(), times.end());
    const char *impl = "";
    dnnl_primitive_desc_query(layers[0].fwd.get_primitive_desc(), dnnl_query_impl_info_str, 0,
                              &impl);
    std::printf("onednn lstm %lldx%lld%s: 2 layers forward + backward median %.3f ms (p10 %.3f, "
                "p90 %.3f) over %d steps (%s)\n",
                (long long)T, (long long)H, peepholes ? "" : " (no peepholes)",
                times[times.size() / 2], times[times.size() / 10], times[times.size() * 9 / 10],
                steps, impl);
  } catch (const dnnl::error &e) {
    std::fprintf(stderr, "tg-bench-lstm-onednn: oneDNN: %s\n", e.what());
    return 1;
  }
  return 0;
}
