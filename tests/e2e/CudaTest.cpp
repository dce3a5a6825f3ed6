//===- CudaTest.cpp - the CUDA backend, checked without a GPU -------------===//
//
// Every kernel of the example models compiles with ptxas for each requested
// arch within the hardware's limits, the fatbin holds SASS per arch plus the
// PTX, the host code's argument words match each PTX kernel's parameters,
// and the device runtime resolves every function it dlopens. Tests that need
// a toolkit or a GPU report Skipped with the reason.
//
//===----------------------------------------------------------------------===//
#include "codegen/cuda/Target.h"
#include "driver/Compiler.h"
#include "examples/Models.h"
#include "frontend/ModuleImpl.h"
#include "support/Manifest.h"
#include "tg/Graph.h"
#include "tg/Runtime.h"
#ifdef TG_HAVE_CUDA_RUNTIME
#include "runtime/Device.h"
#include "runtime/cuda/Libraries.h"
#endif
#include "support/KernelAbi.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Regex.h"
#include "tests/e2e/OpCases.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <functional>
#include <map>
#include <string>

namespace tg {
namespace {

using ::testing::HasSubstr;

/// The toolkit, or why there is none (then the test is skipped).
std::string toolkitOrSkipReason(bool &found) {
  absl::StatusOr<CudaTarget> t = selectCudaTarget("", "");
  found = t.ok();
  return t.ok() ? t->toolkit : std::string(t.status().message());
}

struct ModelCase {
  const char *name;
  std::function<void(Graph &)> build;
};

std::vector<ModelCase> models() {
  return {{"fashion_mlp", [](Graph &g) { examples::buildFashionMlp(g); }},
          {"fashion_cnn", [](Graph &g) { examples::buildFashionCnn(g); }},
          {"char_lstm", [](Graph &g) { examples::buildCharLstm(g); }}};
}

class CudaModels : public ::testing::TestWithParam<ModelCase> {};

absl::StatusOr<std::string> compileTo(const ModelCase &c, Phase phase, const std::string &path,
                                     const std::string &dataParallel = "none") {
  Graph g(c.name);
  c.build(g);
  auto m = g.build();
  if (!m.ok())
    return m.status();
  CompilerOptions o;
  o.target = "cuda";
  o.cudaArch = "sm_80,sm_90";
  o.emit = phase;
  o.dataParallel = dataParallel;
  return compileModule(*m->impl().module, o, path);
}

/// The manifest of `c` compiled to a CUDA artifact (written to a temporary
/// file, opened as the runtime would, removed).
absl::StatusOr<Manifest> compiledManifest(const ModelCase &c,
                                          const std::string &dataParallel = "none") {
  llvm::SmallString<128> path;
  if (llvm::sys::fs::createTemporaryFile("tg-cuda-test", "tgx", path))
    return absl::InternalError("cannot create a temporary file");
  auto written = compileTo(c, Phase::Obj, std::string(path), dataParallel);
  if (!written.ok()) {
    llvm::sys::fs::remove(path);
    return written.status();
  }
  auto artifact = rt::Artifact::open(std::string(path));
  llvm::sys::fs::remove(path);
  if (!artifact.ok())
    return artifact.status();
  return parseManifest(artifact->manifest(), c.name);
}

/// Kernel name -> number of .param of its .entry in the PTX text.
std::map<std::string, int> ptxParams(const std::string &ptx) {
  std::map<std::string, int> out;
  llvm::Regex entry("\\.entry ([A-Za-z0-9_]+)\\(");
  llvm::StringRef rest(ptx);
  llvm::SmallVector<llvm::StringRef> m;
  while (entry.match(rest, &m)) {
    std::string name = m[1].str();
    size_t at = rest.find(m[0]) + m[0].size();
    llvm::StringRef params = rest.substr(at, rest.find(')', at) - at);
    out[name] = int(params.count(".param"));
    rest = rest.substr(at);
  }
  return out;
}

TEST_P(CudaModels, KernelsCompileForEachArchWithinLimits) {
  bool found = false;
  std::string toolkit = toolkitOrSkipReason(found);
  if (!found)
    GTEST_SKIP() << toolkit;
  const ModelCase &c = GetParam();

  // The fatbin: SASS for both archs and the PTX of the oldest.
  auto fatbin = compileTo(c, Phase::Fatbin, "");
  ASSERT_TRUE(fatbin.ok()) << fatbin.status();
  auto images = listFatbin(*fatbin);
  ASSERT_TRUE(images.ok()) << images.status();
  std::vector<std::string> seen;
  for (const FatbinImage &i : *images)
    seen.push_back(i.kind + " " + i.arch);
  EXPECT_THAT(seen, ::testing::UnorderedElementsAre("sass sm_80", "sass sm_90", "ptx sm_80"));

  // The artifact's manifest: every kernel, both archs, no spills, within the
  // register file and shared memory of one SM.
  auto manifest = compiledManifest(c);
  ASSERT_TRUE(manifest.ok()) << manifest.status();
  ASSERT_TRUE(manifest->cuda.has_value());
  const CudaSpec &spec = *manifest->cuda;
  EXPECT_EQ(spec.archs, (std::vector<std::string>{"sm_80", "sm_90"}));
  EXPECT_EQ(spec.fatbinBytes, int64_t(fatbin->size()));
  ASSERT_FALSE(spec.kernels.empty());
  auto ptx = compileTo(c, Phase::Ptx, "");
  ASSERT_TRUE(ptx.ok()) << ptx.status();
  std::map<std::string, int> params = ptxParams(*ptx);
  EXPECT_EQ(params.size(), spec.kernels.size());
  int64_t maxRegisters = 0;
  for (const CudaKernelSpec &k : spec.kernels) {
    SCOPED_TRACE(k.name);
    EXPECT_GE(k.blockSize, 1);
    EXPECT_LE(k.blockSize, 1024);
    // Host and kernel agree on the arguments (tg-cuda-lower-launches packs
    // this many words for every launch of the kernel).
    EXPECT_EQ(params[k.name], k.params);
    ASSERT_EQ(k.resources.size(), 2u);
    for (const auto &[arch, r] : k.resources) {
      EXPECT_EQ(r.spillBytes, 0) << arch;
      EXPECT_GT(r.registers, 0) << arch;
      EXPECT_LE(r.registers * k.blockSize, 65536) << arch; // one block fits an SM
      EXPECT_LE(r.sharedBytes, 48 * 1024) << arch;
      maxRegisters = std::max(maxRegisters, r.registers);
    }
  }
  std::printf("[ cuda      ] %s: %zu kernels, fatbin %lld bytes, at most %lld registers\n", c.name,
              spec.kernels.size(), (long long)spec.fatbinBytes, (long long)maxRegisters);
}

INSTANTIATE_TEST_SUITE_P(Examples, CudaModels, ::testing::ValuesIn(models()),
                         [](const ::testing::TestParamInfo<ModelCase> &info) {
                           return std::string(info.param.name);
                         });

// Data-parallel artifacts: the gradient buckets' packing and the averaged
// metrics become kernels like any other; the collectives become NCCL calls
// of libtgrt_cuda, listed in the manifest and served by it.
TEST(CudaDataParallel, AllreduceAndAverageArtifactsCallNccl) {
  bool found = false;
  std::string toolkit = toolkitOrSkipReason(found);
  if (!found)
    GTEST_SKIP() << toolkit;
  ModelCase mlp = models()[0];
  for (const char *mode : {"allreduce", "average:4"}) {
    SCOPED_TRACE(mode);
    auto manifest = compiledManifest(mlp, mode);
    ASSERT_TRUE(manifest.ok()) << manifest.status();
    ASSERT_TRUE(manifest->cuda.has_value());
    EXPECT_NE(manifest->dataParallel.mode, "none");
    EXPECT_FALSE(manifest->dataParallel.buckets.empty());
    const std::vector<std::string> &calls = manifest->cuda->libraryCalls;
    EXPECT_THAT(calls, ::testing::Contains("tgrt_cuda_allreduce_start"));
    EXPECT_THAT(calls, ::testing::Contains("tgrt_cuda_allreduce_wait"));
    for (const KernelCall &k : manifest->kernels)
      EXPECT_EQ(abi::cudaUnsupportedCall(k.symbol, k.params.data(), k.params.size()), "")
          << k.symbol;
  }
}

// What cuDNN's descriptors and cuBLASLt's epilogues cannot express
// (one-sided padding, tanh/sigmoid) is not fused or is generated code, so
// libtgrt_cuda serves every library call left.
TEST(CudaTarget, OneSidedWindowsAndTanhDenseNeedNoUnsupportedCall) {
  bool found = false;
  std::string toolkit = toolkitOrSkipReason(found);
  if (!found)
    GTEST_SKIP() << toolkit;
  ModelCase c{"one_sided", [](Graph &g) { buildOneSidedModel(g); }};
  auto manifest = compiledManifest(c);
  ASSERT_TRUE(manifest.ok()) << manifest.status();
  std::vector<std::string> symbols;
  for (const KernelCall &k : manifest->kernels) {
    symbols.push_back(k.symbol);
    EXPECT_EQ(abi::cudaUnsupportedCall(k.symbol, k.params.data(), k.params.size()), "")
        << k.symbol;
  }
  // The Dense layers are still cuBLASLt calls (fused_matmul with a bias
  // epilogue and the activation as generated code).
  EXPECT_THAT(symbols, ::testing::Contains("tgrt_cuda_fused_matmul_f32"));
}

TEST(CudaTarget, ArchListsAndFatbinReader) {
  auto archs = parseCudaArchs("sm_90, sm_80,sm_90");
  ASSERT_TRUE(archs.ok());
  EXPECT_EQ(*archs, (std::vector<std::string>{"sm_80", "sm_90"}));
  EXPECT_THAT(std::string(parseCudaArchs("sm_80,compute_90").status().message()),
              HasSubstr("unknown --cuda-arch 'compute_90'"));
  EXPECT_FALSE(listFatbin("").ok());
  EXPECT_FALSE(listFatbin(std::string(16, '\0')).ok());
  // A header claiming more bytes than there are is an error, not a read
  // past the end.
  std::string bad("\x50\xed\x55\xba\x01\x00\x10\x00\xff\xff\xff\x00\x00\x00\x00\x00", 16);
  EXPECT_THAT(std::string(listFatbin(bad).status().message()), HasSubstr("out of range"));
}

#ifdef TG_HAVE_CUDA_RUNTIME
// Every function libtgrt_cuda resolves exists in the libraries it dlopens:
// the driver's link stub (same exports as the driver), cuBLASLt and cuDNN.
TEST(CudaRuntime, EveryDlopenedSymbolResolves) {
  bool found = false;
  std::string toolkit = toolkitOrSkipReason(found);
  if (!found)
    GTEST_SKIP() << toolkit;
  std::string error;
  std::string stub = toolkit + "/lib64/stubs/libcuda.so";
  if (!llvm::sys::fs::exists(stub))
    GTEST_SKIP() << "no driver stub at " << stub;
  EXPECT_THAT(cuda::missingDriverSymbols(stub, error), ::testing::IsEmpty());
  EXPECT_EQ(error, "");
  std::string lt = toolkit + "/lib64/libcublasLt.so";
  if (!llvm::sys::fs::exists(lt))
    GTEST_SKIP() << "no cuBLASLt at " << lt;
  EXPECT_THAT(cuda::missingCublasLtSymbols(lt, error), ::testing::IsEmpty());
  EXPECT_EQ(error, "");
  std::string dnn = toolkit + "/lib64/libcudnn.so.9";
  if (!llvm::sys::fs::exists(dnn))
    GTEST_SKIP() << "no cuDNN 9 at " << dnn;
  EXPECT_THAT(cuda::missingCudnnSymbols(dnn, error), ::testing::IsEmpty());
  EXPECT_EQ(error, "");
  std::string nccl = toolkit + "/lib64/libnccl.so.2";
  if (!llvm::sys::fs::exists(nccl))
    GTEST_SKIP() << "no NCCL 2 at " << nccl;
  EXPECT_THAT(cuda::missingNcclSymbols(nccl, error), ::testing::IsEmpty());
  EXPECT_EQ(error, "");
  // And when a driver is installed, it too.
  std::vector<std::string> missing = cuda::missingDriverSymbols("libcuda.so.1", error);
  if (error.empty()) {
    EXPECT_THAT(missing, ::testing::IsEmpty());
  }
}

// libtgrt loads libtgrt_cuda and checks its API table: every entry is set
// (a null one would crash at its first call, on a GPU machine only).
TEST(CudaRuntime, TheDeviceApiTableIsComplete) {
  absl::StatusOr<const TgCudaApi *> api = rt::loadCudaRuntime();
  ASSERT_TRUE(api.ok()) << api.status();
  EXPECT_EQ((*api)->version, kTgCudaApiVersion);
}
#endif

} // namespace
} // namespace tg
