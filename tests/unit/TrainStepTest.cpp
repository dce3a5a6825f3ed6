//===- TrainStepTest.cpp - optimizers, schedules, training ----------------===//
//
// train_step built by tg-build-train-step and run by the interpreter, against
// updates computed by hand in this file (3 steps per optimizer / schedule);
// truncated BPTT state hand-off; and a short real training run.
//
//===----------------------------------------------------------------------===//
#include "TestUtil.h"
#include "examples/Models.h"
#include "tg/Idx.h"

#include <cmath>
#include <functional>
#include <map>

namespace tg {
namespace {

using optim::Optimizer;
using optim::Schedule;

//===----------------------------------------------------------------------===//
// Hand-written reference
//===----------------------------------------------------------------------===//

/// loss = sum(a * a * x) + sum(b * b * b): ga = 2 a x, gb = 3 b^2.
struct Quadratic {
  std::vector<double> x = {0.5, -1.0, 2.0};
  std::vector<double> a = {1.0, 0.5, -0.25}, b = {0.3, -0.7};
  double loss() const {
    double l = 0;
    for (size_t i = 0; i < a.size(); ++i)
      l += a[i] * a[i] * x[i];
    for (double v : b)
      l += v * v * v;
    return l;
  }
};

/// The reference spec: what tg.train would say, in plain numbers.
struct Ref {
  std::string kind = "sgd";
  double lr = 0.1, momentum = 0.9, rho = 0.95, beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  double l2 = 0, wd = 0, clip = 0;
  std::function<double(double)> factor = [](double) { return 1.0; };
};

/// Runs `steps` steps of `r` on `q` by hand; returns params and the slots
/// {a.<slot>..., b.<slot>...} after the last step, and the loss before each.
struct RefState {
  std::vector<double> a, b;
  std::map<std::string, std::vector<double>> slots;
  std::vector<double> losses;
};

RefState runReference(Quadratic q, const Ref &r, int steps) {
  RefState s;
  std::vector<std::vector<double> *> params = {&q.a, &q.b};
  std::vector<std::string> names = {"a", "b"};
  std::map<std::string, std::vector<double>> m, v; // first / second slots
  for (auto &n : names) {
    m[n].assign(n == "a" ? 3 : 2, 0.0);
    v[n].assign(n == "a" ? 3 : 2, 0.0);
  }
  for (int t = 0; t < steps; ++t) {
    s.losses.push_back(q.loss());
    std::vector<std::vector<double>> grads(2);
    for (size_t i = 0; i < 3; ++i)
      grads[0].push_back(2 * q.a[i] * q.x[i] + r.l2 * q.a[i]);
    for (size_t i = 0; i < 2; ++i)
      grads[1].push_back(3 * q.b[i] * q.b[i] + r.l2 * q.b[i]);
    if (r.clip > 0) {
      double n2 = 0;
      for (auto &g : grads)
        for (double x : g)
          n2 += x * x;
      double scale = r.clip / std::max(std::sqrt(n2), r.clip);
      for (auto &g : grads)
        for (double &x : g)
          x *= scale;
    }
    double lr = r.lr * r.factor(double(t));
    for (size_t k = 0; k < 2; ++k) {
      std::vector<double> &p = *params[k];
      auto &mk = m[names[k]], &vk = v[names[k]];
      for (size_t i = 0; i < p.size(); ++i) {
        double g = grads[k][i], u = 0;
        if (r.kind == "sgd") {
          u = g;
        } else if (r.kind == "momentum" || r.kind == "nesterov") {
          mk[i] = r.momentum * mk[i] + g;
          u = r.kind == "momentum" ? mk[i] : g + r.momentum * mk[i];
        } else if (r.kind == "rmsprop") {
          mk[i] = r.rho * mk[i] + (1 - r.rho) * g * g;
          u = g / (std::sqrt(mk[i]) + r.eps);
        } else { // adam, adamw
          mk[i] = r.beta1 * mk[i] + (1 - r.beta1) * g;
          vk[i] = r.beta2 * vk[i] + (1 - r.beta2) * g * g;
          double mh = mk[i] / (1 - std::pow(r.beta1, t + 1));
          double vh = vk[i] / (1 - std::pow(r.beta2, t + 1));
          u = mh / (std::sqrt(vh) + r.eps);
        }
        p[i] -= lr * (u + r.wd * p[i]);
      }
    }
  }
  s.a = q.a;
  s.b = q.b;
  if (r.kind == "momentum" || r.kind == "nesterov") {
    s.slots["a.velocity"] = m["a"];
    s.slots["b.velocity"] = m["b"];
  } else if (r.kind == "rmsprop") {
    s.slots["a.mean_square"] = m["a"];
    s.slots["b.mean_square"] = m["b"];
  } else if (r.kind == "adam" || r.kind == "adamw") {
    s.slots["a.m"] = m["a"];
    s.slots["b.m"] = m["b"];
    s.slots["a.v"] = v["a"];
    s.slots["b.v"] = v["b"];
  }
  return s;
}

//===----------------------------------------------------------------------===//
// The same through tg-build-train-step and the interpreter
//===----------------------------------------------------------------------===//

absl::StatusOr<Module> quadraticTrainModule(const Optimizer &opt) {
  Graph g("quadratic");
  Value x = g.data("x", {3});
  Value a = g.param("a", {3});
  Value b = g.param("b", {2});
  Value loss = ops::reduceSum(a * a * x) + ops::reduceSum(b * b * b);
  g.minimize(loss, opt);
  auto m = g.build();
  if (!m.ok())
    return m.status();
  return m->transform("tg-build-train-step");
}

/// The graph is f32, so its constants (0.9, lr, ...) are f32-rounded (about
/// 3e-8 relative); the interpreter then computes in float64. Formula mistakes
/// show up orders of magnitude above this.
constexpr double kTolerance = 1e-6;

void expectClose(const std::vector<double> &got, const std::vector<double> &want,
                 const std::string &what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (size_t i = 0; i < got.size(); ++i)
    EXPECT_NEAR(got[i], want[i], kTolerance * std::max(1.0, std::fabs(want[i])))
        << what << "[" << i << "]";
}

/// train_step's initial state with the quadratic's params and data.
NamedTensors quadraticState(const Module &m, const Quadratic &q) {
  auto state = initializeParams(m, "train_step", 1);
  EXPECT_TRUE(state.ok()) << state.status();
  if (!state.ok())
    return {};
  NamedTensors in = std::move(*state);
  in["a"] = testing::T(DType::f32, {3}, q.a);
  in["b"] = testing::T(DType::f32, {2}, q.b);
  in["x"] = testing::T(DType::f32, {3}, q.x);
  return in;
}

void checkAgainstReference(const Optimizer &opt, const Ref &ref, double lrOverride = 0) {
  auto m = quadraticTrainModule(opt);
  ASSERT_TRUE(m.ok()) << m.status();
  Quadratic q;
  NamedTensors in;
  ASSERT_NO_FATAL_FAILURE(in = quadraticState(*m, q));
  if (lrOverride > 0)
    in["lr"] = Tensor::scalar(lrOverride);
  Ref r = ref;
  if (lrOverride > 0)
    r.lr = lrOverride;
  RefState want = runReference(q, r, 3);
  for (int t = 0; t < 3; ++t) {
    auto out = interpretStep(*m, "train_step", in, {/*float64=*/true});
    ASSERT_TRUE(out.ok()) << out.status();
    EXPECT_NEAR(out->at("loss").data[0], want.losses[size_t(t)], kTolerance)
        << "loss at step " << t;
  }
  expectClose(in.at("a").data, want.a, "a");
  expectClose(in.at("b").data, want.b, "b");
  for (auto &[name, values] : want.slots) {
    ASSERT_TRUE(in.count(name)) << "no optimizer slot '" << name << "'";
    expectClose(in.at(name).data, values, name);
  }
  EXPECT_EQ(in.at("step").data[0], 3.0);
}

Ref ref(std::string kind, double lr) {
  Ref r;
  r.kind = std::move(kind);
  r.lr = lr;
  return r;
}

TEST(Optimizers, Sgd) { checkAgainstReference(optim::SGD(0.1), ref("sgd", 0.1)); }

TEST(Optimizers, SgdWithL2AndLearningRateHyper) {
  Ref r = ref("sgd", 0.1);
  r.l2 = 0.01;
  checkAgainstReference(optim::SGD(0.1).l2(0.01), r, /*lrOverride=*/0.05);
}

TEST(Optimizers, Momentum) {
  Ref r = ref("momentum", 0.05);
  r.momentum = 0.8;
  checkAgainstReference(optim::Momentum(0.05, 0.8), r);
}

TEST(Optimizers, Nesterov) {
  Ref r = ref("nesterov", 0.05);
  r.momentum = 0.9;
  checkAgainstReference(optim::Nesterov(0.05, 0.9), r);
}

TEST(Optimizers, RmsPropAsInTheSourceDocument) {
  Ref r = ref("rmsprop", 0.1);
  r.l2 = 1e-3;
  checkAgainstReference(optim::RMSProp(0.1).l2(1e-3), r);
}

TEST(Optimizers, Adam) {
  Ref r = ref("adam", 0.01);
  r.beta1 = 0.8;
  r.beta2 = 0.99;
  r.eps = 1e-6;
  checkAgainstReference(optim::Adam(0.01, 0.8, 0.99, 1e-6), r);
}

// PyTorch computes Adam's bias corrections 1 - beta^t in double. In f32,
// 0.999f = 0.99900001 made 1 - beta2 ~1.3e-5 (relative) small and every step
// ~6.4e-6 short: far above f32 rounding of one step, and invisible in the
// params' tolerance above. So this checks the step itself, in float64.
TEST(Optimizers, AdamBiasCorrectionsAreComputedInDouble) {
  auto m = quadraticTrainModule(optim::Adam(1e-3)); // PyTorch's defaults
  ASSERT_TRUE(m.ok()) << m.status();
  Quadratic q;
  NamedTensors in;
  ASSERT_NO_FATAL_FAILURE(in = quadraticState(*m, q));
  for (int t = 1; t <= 3; ++t) {
    std::vector<double> before = in.at("a").data;
    auto out = interpretStep(*m, "train_step", in, {/*float64=*/true});
    ASSERT_TRUE(out.ok()) << out.status();
    for (size_t i = 0; i < before.size(); ++i) {
      // m and v from their slots after the step: the step is their ratio.
      double mk = in.at("a.m").data[i], vk = in.at("a.v").data[i];
      double want = 1e-3 * (mk / (1 - std::pow(0.9, t))) /
                    (std::sqrt(vk / (1 - std::pow(0.999, t))) + 1e-8);
      double got = before[i] - in.at("a").data[i];
      EXPECT_NEAR(got, want, 1e-7 * std::fabs(want)) << "a[" << i << "] at step " << t;
    }
  }
}

TEST(Optimizers, AdamWDecoupledWeightDecay) {
  Ref r = ref("adamw", 0.01);
  r.wd = 0.1;
  checkAgainstReference(optim::AdamW(0.01, 0.1), r);
}

// Parameter groups: "b" without weight decay at half the rate; "a" keeps the
// optimizer's. The quadratic's params are independent and AdamW acts per
// element, so each follows its own reference.
TEST(Optimizers, ParamGroupsSetDecayAndRatePerParam) {
  auto m = quadraticTrainModule(optim::AdamW(0.01, 0.1).group("b", 0.0, 0.5));
  ASSERT_TRUE(m.ok()) << m.status();
  Quadratic q;
  NamedTensors in;
  ASSERT_NO_FATAL_FAILURE(in = quadraticState(*m, q));
  Ref ra = ref("adamw", 0.01), rb = ref("adamw", 0.005);
  ra.wd = 0.1;
  rb.wd = 0.0;
  RefState wantA = runReference(q, ra, 3), wantB = runReference(q, rb, 3);
  for (int t = 0; t < 3; ++t)
    ASSERT_TRUE(interpretStep(*m, "train_step", in, {/*float64=*/true}).ok());
  expectClose(in.at("a").data, wantA.a, "a");
  expectClose(in.at("b").data, wantB.b, "b");
  // Without the group, b would decay: the references differ where it matters.
  EXPECT_GT(std::fabs(wantB.b[0] - runReference(q, [&] {
                                     Ref r = ref("adamw", 0.01);
                                     r.wd = 0.1;
                                     return r;
                                   }(), 3).b[0]),
            1e-4);
  // A group that matches nothing, or a bad one, is an error naming it.
  auto bad = quadraticTrainModule(optim::AdamW(0.01).group("*.bias", 0.0));
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(std::string(bad.status().message()),
              ::testing::HasSubstr("optimizer group \"*.bias\" matches no param of @"));
  bad = quadraticTrainModule(optim::AdamW(0.01).group("a", -1.0));
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(std::string(bad.status().message()),
              ::testing::HasSubstr("tg.train optimizer group 0: 'weight_decay' must be >= 0"));
  bad = quadraticTrainModule(optim::AdamW(0.01).group("[a", 0.0));
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(std::string(bad.status().message()), ::testing::HasSubstr("bad glob \"[a\""));
}

TEST(Optimizers, SgdWithDecoupledWeightDecay) {
  Ref r = ref("sgd", 0.1);
  r.wd = 0.5;
  checkAgainstReference(optim::SGD(0.1).weightDecay(0.5), r);
}

TEST(Optimizers, GlobalNormClipping) {
  Ref r = ref("sgd", 0.1);
  r.clip = 0.5; // the gradient norm here is about 2.4: clipping is active
  checkAgainstReference(optim::SGD(0.1).clipNorm(0.5), r);
  Ref loose = ref("momentum", 0.1);
  loose.clip = 100; // inactive
  checkAgainstReference(optim::Momentum(0.1).clipNorm(100), loose);
}

TEST(Schedules, Step) {
  Ref r = ref("sgd", 0.1);
  r.factor = [](double t) { return std::pow(0.5, std::floor(t / 2)); };
  checkAgainstReference(optim::SGD(0.1).schedule(Schedule::step(2, 0.5)), r);
}

TEST(Schedules, Exponential) {
  Ref r = ref("sgd", 0.1);
  r.factor = [](double t) { return std::pow(0.5, t / 2); };
  checkAgainstReference(optim::SGD(0.1).schedule(Schedule::exponential(2, 0.5)), r);
}

TEST(Schedules, Cosine) {
  Ref r = ref("momentum", 0.1);
  r.factor = [](double t) {
    double p = std::min(t, 2.0) / 2.0; // decay over 2 steps, then flat at alpha
    return 0.1 + 0.9 * 0.5 * (1 + std::cos(M_PI * p));
  };
  checkAgainstReference(optim::Momentum(0.1).schedule(Schedule::cosine(2, 0.1)), r);
}

TEST(Schedules, LinearWarmupOnCosine) {
  Ref r = ref("adam", 0.01);
  r.factor = [](double t) {
    double cosine = 0.5 * (1 + std::cos(M_PI * std::min(t, 10.0) / 10.0));
    return cosine * std::min(1.0, (t + 1) / 3);
  };
  checkAgainstReference(optim::Adam(0.01).schedule(Schedule::cosine(10)).warmup(3), r);
}

TEST(Schedules, Constant) {
  checkAgainstReference(optim::RMSProp(0.01).schedule(Schedule::constant()), ref("rmsprop", 0.01));
}

TEST(TrainStep, BadSpecsAreErrors) {
  auto bad = quadraticTrainModule(optim::SGD(0.1).schedule(Schedule::step(-2, 0.5)));
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(std::string(bad.status().message()),
              ::testing::HasSubstr("'step_size' must be >= 1, got -2"));
  bad = quadraticTrainModule(optim::Adam(-1.0));
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(std::string(bad.status().message()), ::testing::HasSubstr("'lr' must be > 0"));
  bad = quadraticTrainModule(Optimizer("adagrad", 0.1));
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(std::string(bad.status().message()),
              ::testing::HasSubstr("unknown kind \"adagrad\""));
}

TEST(TrainStep, NonScalarLossIsAnError) {
  Graph g("f");
  Value a = g.param("a", {3});
  g.minimize(a * a, optim::SGD(0.1));
  EXPECT_THAT(std::string(g.status().message()),
              ::testing::HasSubstr("the loss must be a scalar float tensor, got tensor<3xf32>"));
}

//===----------------------------------------------------------------------===//
// The example models
//===----------------------------------------------------------------------===//

TEST(TrainStep, ExampleModelsBuildTheirEntryPoints) {
  for (int which = 0; which < 3; ++which) {
    Graph g(which == 0 ? "mlp" : which == 1 ? "cnn" : "lstm");
    if (which == 0)
      examples::buildFashionMlp(g, {/*batch=*/4});
    else if (which == 1)
      examples::buildFashionCnn(g, {/*batch=*/2});
    else
      examples::buildCharLstm(g, {/*batch=*/2, /*steps=*/4});
    auto m = g.build();
    ASSERT_TRUE(m.ok()) << m.status();
    auto t = m->transform("tg-build-train-step,canonicalize,cse");
    ASSERT_TRUE(t.ok()) << t.status();
    auto names = t->functionNames();
    for (std::string entry : {"train_step", "eval_step", "predict"})
      EXPECT_THAT(names, ::testing::Contains(entry)) << g.status();
    // One step of each entry point runs.
    auto in = initializeParams(*t, "train_step", 3);
    ASSERT_TRUE(in.ok()) << in.status();
    auto sig = t->signature("train_step");
    unsigned seed = 1;
    for (const ValueInfo &a : sig->args)
      if (a.role == Role::Data || a.role == Role::Label) {
        Tensor v = testing::randomTensor(a.shape, seed++, a.dtype);
        if (!isFloat(a.dtype))
          for (double &x : v.data)
            x = std::floor((x + 1) * 2);
        (*in)[a.name] = v;
      }
    auto out = interpretStep(*t, "train_step", *in);
    ASSERT_TRUE(out.ok()) << out.status();
    EXPECT_TRUE(std::isfinite(out->at("loss").data[0]));
    EXPECT_EQ(in->at("step").data[0], 1.0);
  }
}

// --microbatches=M on a model built at batch b equals the plain step of the
// same model built at batch M * b (f64 interpreter): the loss, and the params
// and Adam state after 3 steps, to rounding. The MLP, the CNN and the GPT.
// M is a power of two: the loss's mean is an f32 constant (1/N), and
// 1/(M b) rounds like 1/b over M only then (M = 3 leaves 3e-8 in Adam's m).
TEST(TrainStep, MicrobatchesEqualThePlainStep) {
  const int64_t M = 4;
  auto build = [](int which, int64_t batch, Graph &g) {
    if (which == 0)
      examples::buildFashionMlp(g, {batch, {6, 5}});
    else if (which == 1)
      examples::buildFashionCnn(g, {batch, /*filters1=*/3, /*filters2=*/4, /*dense=*/6});
    else {
      // SGD with momentum: the key bias has no gradient (softmax ignores a
      // constant per row), so Adam would scale its rounding noise up to
      // steps of lr (1e-13 apart here), whatever the summation order.
      examples::CharGptConfig c{batch, /*steps=*/4, /*vocab=*/7, /*dim=*/8, /*heads=*/2,
                                /*layers=*/1};
      c.optimizer = optim::Momentum(0.1, 0.9);
      examples::buildCharGpt(g, c);
    }
  };
  for (int which = 0; which < 3; ++which) {
    SCOPED_TRACE(which == 0 ? "mlp" : which == 1 ? "cnn" : "gpt");
    Graph gm("micro"), gp("plain");
    build(which, 2, gm);
    build(which, 2 * M, gp);
    auto mm = gm.build(), mp = gp.build();
    ASSERT_TRUE(mm.ok()) << mm.status();
    ASSERT_TRUE(mp.ok()) << mp.status();
    auto micro = mm->transform("tg-build-train-step{microbatches=4},canonicalize,cse");
    auto plain = mp->transform("tg-build-train-step,canonicalize,cse");
    ASSERT_TRUE(micro.ok()) << micro.status();
    ASSERT_TRUE(plain.ok()) << plain.status();
    EXPECT_THAT(micro->str(), ::testing::HasSubstr("microbatches"));
    auto a = initializeParams(*plain, "train_step", 5);
    ASSERT_TRUE(a.ok()) << a.status();
    NamedTensors b = *a;
    auto sig = plain->signature("train_step");
    ASSERT_TRUE(sig.ok());
    unsigned seed = 11;
    InterpretOptions f64{/*float64=*/true};
    for (int step = 0; step < 3; ++step) {
      for (const ValueInfo &arg : sig->args)
        if (arg.role == Role::Data || arg.role == Role::Label) {
          Tensor v = testing::randomTensor(arg.shape, seed++, arg.dtype);
          if (!isFloat(arg.dtype))
            for (double &x : v.data)
              x = std::floor((x + 1) * 3); // classes 0..5
          (*a)[arg.name] = b[arg.name] = v;
        }
      auto ra = interpretStep(*plain, "train_step", *a, f64);
      auto rb = interpretStep(*micro, "train_step", b, f64);
      ASSERT_TRUE(ra.ok()) << ra.status();
      ASSERT_TRUE(rb.ok()) << rb.status();
      double la = ra->at("loss").data[0], lb = rb->at("loss").data[0];
      EXPECT_NEAR(lb, la, 1e-12 * std::abs(la)) << "step " << step;
    }
    for (const auto &[name, t] : *a) {
      ASSERT_EQ(b.at(name).data.size(), t.data.size()) << name;
      double worst = 0, scale = 0;
      for (size_t i = 0; i < t.data.size(); ++i) {
        worst = std::max(worst, std::abs(b.at(name).data[i] - t.data[i]));
        scale = std::max(scale, std::abs(t.data[i]));
      }
      EXPECT_LE(worst, 1e-12 * std::max(scale, 1e-3)) << name;
    }
    // eval_step (loss, accuracy) and predict (logits, in batch order) give
    // what the plain ones give on the same params and batch.
    for (const char *entry : {"eval_step", "predict"}) {
      NamedTensors ia, ib;
      auto esig = plain->signature(entry);
      ASSERT_TRUE(esig.ok());
      for (const ValueInfo &arg : esig->args)
        if (a->count(arg.name)) {
          ia[arg.name] = a->at(arg.name);
          ib[arg.name] = b.at(arg.name);
        }
      auto ea = interpretStep(*plain, entry, ia, f64);
      auto eb = interpretStep(*micro, entry, ib, f64);
      ASSERT_TRUE(ea.ok()) << ea.status();
      ASSERT_TRUE(eb.ok()) << eb.status();
      ASSERT_EQ(ea->size(), eb->size()) << entry;
      for (const auto &[name, t] : *ea) {
        ASSERT_EQ(eb->at(name).shape, t.shape) << entry << " " << name;
        for (size_t i = 0; i < t.data.size(); ++i)
          ASSERT_NEAR(eb->at(name).data[i], t.data[i], 1e-12 * std::max(1.0, std::abs(t.data[i])))
              << entry << " " << name << " [" << i << "]";
      }
    }
    // eval_step and predict take the same M micro-batches.
    std::map<std::string, std::vector<int64_t>> trainShapes;
    for (const ValueInfo &arg : sig->args)
      trainShapes[arg.name] = arg.shape;
    for (const char *entry : {"eval_step", "predict"}) {
      auto esig = micro->signature(entry);
      ASSERT_TRUE(esig.ok());
      for (const ValueInfo &arg : esig->args) {
        if (arg.role == Role::Data || arg.role == Role::Label) {
          EXPECT_EQ(arg.shape, trainShapes[arg.name]) << entry << " " << arg.name;
        }
      }
    }
  }
}

TEST(TrainStep, MicrobatchesRefuseState) {
  Graph g("lstm");
  examples::buildCharLstm(g, {/*batch=*/2, /*steps=*/3, /*vocab=*/5, /*hidden=*/4});
  auto m = g.build();
  ASSERT_TRUE(m.ok()) << m.status();
  auto t = m->transform("tg-build-train-step{microbatches=2}");
  ASSERT_FALSE(t.ok());
  EXPECT_THAT(std::string(t.status().message()),
              ::testing::HasSubstr("--microbatches=2 needs a model without state"));
}

TEST(TrainStep, TruncatedBpttHandsStateToTheNextWindow) {
  Graph g("lstm");
  examples::buildCharLstm(g, {/*batch=*/2, /*steps=*/3, /*vocab=*/5, /*hidden=*/4});
  auto m = g.build();
  ASSERT_TRUE(m.ok()) << m.status();
  auto t = m->transform("tg-build-train-step");
  ASSERT_TRUE(t.ok()) << t.status();
  // The state inputs are not differentiated: train_step has no gradient of
  // them, and their next values are aliased outputs.
  auto sig = t->signature("train_step");
  int stateOuts = 0;
  for (const ValueInfo &r : sig->results)
    if (r.alias >= 0 && sig->args[size_t(r.alias)].name.find(".h0") != std::string::npos)
      ++stateOuts;
  EXPECT_EQ(stateOuts, 2);
  auto in = initializeParams(*t, "train_step", 3);
  ASSERT_TRUE(in.ok()) << in.status();
  (*in)["chars"] = testing::I({2, 3}, {0, 1, 2, 3, 4, 0});
  (*in)["targets"] = testing::I({2, 3}, {1, 2, 3, 4, 0, 1});
  auto before = (*in)["lstm1.h0"].data;
  auto out = interpretStep(*t, "train_step", *in);
  ASSERT_TRUE(out.ok()) << out.status();
  // The window's final state became the next window's initial state.
  EXPECT_NE(in->at("lstm1.h0").data, before);
  EXPECT_EQ(in->at("lstm1.h0").data, out->at("lstm1.h").data);
  EXPECT_EQ(in->at("lstm2.c0").data, out->at("lstm2.c").data);
}

TEST(Training, MlpLossFallsOnFashionMnist) {
  const std::string dir = "/usr/share/datasets/fashion-mnist";
  auto images = readIdx(dir + "/train-images-idx3-ubyte.gz");
  auto labels = readIdx(dir + "/train-labels-idx1-ubyte.gz");
  if (!images.ok() || !labels.ok())
    GTEST_SKIP() << "Fashion-MNIST not installed (package dataset-fashion-mnist)";
  const int64_t batch = 64, examples = 512, epochs = 3;
  Graph g("mlp");
  examples::buildFashionMlp(g, {batch, {64, 32}, optim::Adam(3e-3)});
  auto m = g.build();
  ASSERT_TRUE(m.ok()) << m.status();
  auto t = m->transform("tg-build-train-step,canonicalize,cse");
  ASSERT_TRUE(t.ok()) << t.status();
  auto in = initializeParams(*t, "train_step", 42);
  ASSERT_TRUE(in.ok()) << in.status();
  std::vector<double> epochLoss, epochAccuracy;
  for (int64_t e = 0; e < epochs; ++e) {
    double loss = 0, acc = 0;
    for (int64_t s = 0; s < examples / batch; ++s) {
      Tensor x = Tensor::full(DType::f32, {batch, 784}), y = Tensor::full(DType::i32, {batch});
      for (int64_t i = 0; i < batch; ++i) {
        int64_t n = s * batch + i;
        for (int64_t k = 0; k < 784; ++k)
          x.data[size_t(i * 784 + k)] = images->value(n * 784 + k) / 255.0;
        y.data[size_t(i)] = labels->value(n);
      }
      (*in)["image"] = x;
      (*in)["label"] = y;
      auto out = interpretStep(*t, "train_step", *in);
      ASSERT_TRUE(out.ok()) << out.status();
      loss += out->at("loss").data[0];
      acc += out->at("accuracy").data[0];
    }
    epochLoss.push_back(loss / double(examples / batch));
    epochAccuracy.push_back(acc / double(examples / batch));
    std::printf("[ training  ] epoch %lld: mean loss %.4f, accuracy %.3f\n", (long long)e,
                epochLoss.back(), epochAccuracy.back());
  }
  EXPECT_LT(epochLoss.back(), 0.6 * epochLoss.front());
  EXPECT_GT(epochAccuracy.back(), epochAccuracy.front() + 0.15);
}

} // namespace
} // namespace tg
