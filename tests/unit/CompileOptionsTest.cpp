//===- CompileOptionsTest.cpp - the compile options table and its check ---===//
#include "driver/Options.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include <set>

using ::testing::HasSubstr;

namespace tg {
namespace {

std::string errorOf(const CompilerOptions &o) {
  absl::Status s = validateCompilerOptions(o);
  return s.ok() ? "ok" : std::string(s.message());
}

TEST(CompileOptions, TheDefaultsAreValid) { EXPECT_EQ(errorOf(CompilerOptions()), "ok"); }

TEST(CompileOptions, EveryRowHasAUniqueNameHelpAndAHelpLine) {
  std::string help = compileOptionsHelp();
  std::set<std::string> names;
  for (const CompileOptionInfo &o : compileOptionTable()) {
    EXPECT_TRUE(names.insert(o.name.str()).second) << o.name.str();
    EXPECT_FALSE(o.help.empty()) << o.name.str();
    EXPECT_EQ(o.oneLineHelp.find('\n'), std::string::npos) << o.name.str();
    EXPECT_EQ(o.isBool, o.meta.empty()) << o.name.str();
    std::string flag = o.isBool ? "  --[no-]" + o.name.str() + " "
                                : "  --" + o.name.str() + "=" + o.meta.str() + " ";
    EXPECT_THAT(help, HasSubstr(flag));
    EXPECT_EQ(findCompileOption(o.name), &o);
  }
  EXPECT_EQ(findCompileOption("bucket-cap-mb"), nullptr);
}

TEST(CompileOptions, SetParsesEachType) {
  CompilerOptions o;
  EXPECT_TRUE(setCompileOption(o, "fusion", "false").ok());
  EXPECT_FALSE(o.fusion);
  EXPECT_TRUE(setCompileOption(o, "cuda-emulate", "1").ok());
  EXPECT_TRUE(o.cudaEmulate);
  EXPECT_TRUE(setCompileOption(o, "bucket-mb", "0.5").ok());
  EXPECT_EQ(o.bucketCapMb, 0.5);
  EXPECT_TRUE(setCompileOption(o, "opt-level", "1").ok());
  EXPECT_EQ(o.optLevel, 1);
  EXPECT_TRUE(setCompileOption(o, "target-cpu", "x86-64-v3").ok());
  EXPECT_EQ(o.targetCpu, "x86-64-v3");
  EXPECT_TRUE(setCompileOption(o, "keep", "f, f_grad,").ok());
  EXPECT_TRUE(setCompileOption(o, "keep", "g").ok());
  EXPECT_EQ(o.keepFunctions, (std::vector<std::string>{"f", "f_grad", "g"}));

  EXPECT_EQ(setCompileOption(o, "fusion", "maybe").message(),
            "--fusion needs true or false, got 'maybe'");
  EXPECT_EQ(setCompileOption(o, "bucket-mb", "lots").message(),
            "--bucket-mb needs a number, got 'lots'");
  EXPECT_EQ(setCompileOption(o, "bucket-mb", "").message(), "--bucket-mb needs a number, got ''");
  EXPECT_EQ(setCompileOption(o, "opt-level", "2.5").message(),
            "--opt-level needs an integer, got '2.5'");
  EXPECT_EQ(setCompileOption(o, "bucket-cap-mb", "3").message(),
            "unknown compile option 'bucket-cap-mb'");
}

TEST(CompileOptions, ValidationNamesTheFlagAndTheValue) {
  auto with = [](auto set) {
    CompilerOptions o;
    set(o);
    return errorOf(o);
  };
  EXPECT_EQ(with([](CompilerOptions &o) { o.precision = "fp8"; }),
            "--precision needs f32 or bf16-mixed, got 'fp8'");
  EXPECT_EQ(with([](CompilerOptions &o) { o.target = "tpu"; }),
            "--target needs cpu or cuda, got 'tpu'");
  EXPECT_EQ(with([](CompilerOptions &o) { o.layouts = "nhwc"; }),
            "--layouts needs blocked or plain, got 'nhwc'");
  for (const char *mode : {"ring", "average:", "average:0", "average:2x"})
    EXPECT_EQ(with([&](CompilerOptions &o) { o.dataParallel = mode; }),
              std::string("--data-parallel needs none, allreduce or average:K with an integer "
                          "K >= 1, got '") +
                  mode + "'");
  EXPECT_EQ(with([](CompilerOptions &o) { o.dataParallel = "average:4"; }), "ok");
  EXPECT_EQ(with([](CompilerOptions &o) { o.bucketCapMb = 0; }),
            "--bucket-mb needs a number of MiB in (0, 4096], got '0'");
  EXPECT_EQ(with([](CompilerOptions &o) { o.bucketCapMb = 5000; }),
            "--bucket-mb needs a number of MiB in (0, 4096], got '5000'");
  EXPECT_EQ(with([](CompilerOptions &o) { o.optLevel = 4; }),
            "--opt-level needs 0, 1, 2 or 3, got '4'");
}

TEST(CompileOptions, CudaOptionsNeedTheCudaTarget) {
  auto with = [](auto set) {
    CompilerOptions o;
    set(o);
    return errorOf(o);
  };
  EXPECT_EQ(with([](CompilerOptions &o) { o.cudaEmulate = true; }),
            "--cuda-emulate needs --target=cuda");
  EXPECT_EQ(with([](CompilerOptions &o) { o.cudaArch = "sm_90"; }),
            "--cuda-arch needs --target=cuda");
  EXPECT_EQ(with([](CompilerOptions &o) { o.cudaToolkit = "/opt/cuda"; }),
            "--cuda-toolkit needs --target=cuda");
  EXPECT_EQ(with([](CompilerOptions &o) { o.emit = Phase::Ptx; }),
            "--emit=ptx needs --target=cuda");
  EXPECT_EQ(with([](CompilerOptions &o) {
              o.target = "cuda";
              o.cudaEmulate = true;
              o.emit = Phase::Fatbin;
            }),
            "--cuda-emulate runs the kernels on the CPU: there is no ptx or fatbin to emit");
  EXPECT_THAT(with([](CompilerOptions &o) {
                o.target = "cuda";
                o.precision = "bf16-mixed";
              }),
              HasSubstr("--precision=bf16-mixed is for the CPU backend"));
  EXPECT_THAT(with([](CompilerOptions &o) {
                o.target = "cuda";
                o.cudaArch = "sm_35";
              }),
              HasSubstr("unknown --cuda-arch 'sm_35'"));
  EXPECT_EQ(with([](CompilerOptions &o) {
              o.target = "cuda";
              o.cudaArch = "sm_80,sm_90";
              o.emit = Phase::Gpu;
            }),
            "ok");
}

TEST(CompileOptions, TargetNamesRoundTrip) {
  for (Target t : {Target::Cpu, Target::Cuda})
    EXPECT_EQ(parseTarget(targetName(t)), t);
  EXPECT_EQ(parseTarget("tpu"), std::nullopt);
}

} // namespace
} // namespace tg
