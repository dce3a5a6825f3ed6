//===- Inspect.cpp - tgc inspect: print an artifact's manifest ------------===//
//
// A table of what the typed manifest says: format, target, training spec and
// every entry point's buffers; --json prints the embedded text as it is.
//
//===----------------------------------------------------------------------===//
#include "tools/Commands.h"

#include "support/Manifest.h"
#include "tg/Runtime.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace tg {
namespace tools {
namespace {

const char *kInspectUsage = R"(usage: tgc inspect MODEL.tgx [--json]

Prints the artifact's manifest: format version, target CPU and features, the
training spec, and every entry point with its buffers (name, role, dtype,
shape, initializer, in-place aliasing). --json prints the raw manifest.
)";

/// "  init {...}" or "  default X", spelled as in the manifest's JSON.
std::string argExtra(const BufferSpec &a) {
  if (a.defaultValue)
    return "  default " + nlohmann::json(*a.defaultValue).dump();
  if (!a.init)
    return "";
  nlohmann::json init = nlohmann::json::object();
  init["kind"] = a.init->kind;
  for (const auto &[k, v] : a.init->fields)
    init[k] = v;
  return "  init " + init.dump();
}

void printEntry(const EntrySpec &e) {
  std::printf("\nentry %s (%s%s)\n", e.name.c_str(), e.kind.c_str(),
              e.stage >= 0 ? (", stage " + std::to_string(e.stage)).c_str() : "");
  if (e.arenaBytes > 0)
    std::printf("  temporaries: %.2f MiB arena (planned at compile time; %.2f MiB without reuse)\n",
                double(e.arenaBytes) / (1 << 20), double(e.tempBytes) / (1 << 20));
  for (const BufferSpec &a : e.args)
    std::printf("  in   %-28s %-6s %-7s %-16s%s\n", a.name.c_str(),
                std::string(roleName(a.role)).c_str(), std::string(dtypeName(a.dtype)).c_str(),
                shapeToString(a.shape).c_str(), argExtra(a).c_str());
  for (const BufferSpec &r : e.results) {
    std::string extra;
    if (r.alias >= 0)
      extra = "  in place of " + e.bufferOf(r);
    std::printf("  out  %-28s %-6s %-7s %-16s%s\n", r.name.c_str(), "",
                std::string(dtypeName(r.dtype)).c_str(), shapeToString(r.shape).c_str(),
                extra.c_str());
  }
}

} // namespace

int inspectCommand(int argc, char **argv) {
  std::string path;
  bool raw = false;
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "-h" || a == "--help") {
      std::printf("%s", kInspectUsage);
      return 0;
    }
    if (a == "--json") {
      raw = true;
      continue;
    }
    if (!a.empty() && a[0] == '-')
      return error("inspect: unknown option '" + a + "' (see tgc inspect --help)");
    if (!path.empty())
      return error("inspect: more than one artifact ('" + path + "', '" + a + "')");
    path = a;
  }
  if (path.empty())
    return error("inspect: no artifact (see tgc inspect --help)");
  auto artifact = rt::Artifact::open(path);
  if (!artifact.ok())
    return error(std::string(artifact.status().message()));
  if (raw) {
    std::printf("%s\n", artifact->manifest().c_str());
    return 0;
  }
  auto m = parseManifest(artifact->manifest(), path);
  if (!m.ok())
    return error(std::string(m.status().message()));
  std::printf("%s: tgx format %d, %s\n", path.c_str(), m->version, m->compiler.c_str());
  std::printf("target: %s, cpu %s, needs %s\n", m->triple.c_str(), m->cpu.c_str(),
              m->features.empty() ? "no optional features"
                                  : absl::StrJoin(m->features, " ").c_str());
  if (m->train)
    std::printf("training: %s\n", m->train->json.c_str());
  const DataParallelSpec &dp = m->dataParallel;
  if (dp.mode != "none") {
    std::printf("data parallel: %s", dp.mode.c_str());
    if (dp.mode == "average")
      std::printf(" every %lld steps%s", (long long)dp.averageEvery,
                  dp.averageState ? ", optimizer state too" : ", params only");
    if (dp.compress != "none")
      std::printf(", gradients as %s on the wire", dp.compress.c_str());
    std::printf(", bucket cap %.3g MiB, plan hash %s\n", double(dp.bucketCapBytes) / (1 << 20),
                dp.planHash.c_str());
    for (const BucketSpec &b : dp.buckets)
      std::printf("  bucket %lld of %s: %lld floats (%.3g MiB): %s\n", (long long)b.id,
                  b.entry.c_str(), (long long)b.elements, double(b.elements) * 4 / (1 << 20),
                  absl::StrJoin(b.buffers, ", ").c_str());
    if (const std::optional<ShardSpec> &s = dp.shard)
      std::printf("  optimizer state sharded over %lld ranks (runs at exactly %lld): %s, %lld "
                  "floats (%.3g MiB) each a rank, for %zu params; gradients reduce-scattered, "
                  "params all-gathered\n",
                  (long long)s->world, (long long)s->world,
                  absl::StrJoin(s->buffers, ", ").c_str(), (long long)s->size,
                  double(s->size) * 4 / (1 << 20), s->params.size());
  }
  if (const std::optional<PipelineSpec> &p = m->pipeline) {
    std::printf("pipeline: %lld stages (ranks = stages x data-parallel replicas), %lld "
                "micro-batches a step, schedule %s\n",
                (long long)p->stages, (long long)p->microbatches, p->schedule.c_str());
    // Memory per stage: its params and optimizer state (every buffer of its
    // train step that is a param or state), and its step's arena.
    for (size_t k = 0; k < p->plan.size(); ++k) {
      const StageCost &c = p->plan[k];
      double state = 0, arena = 0;
      for (const EntrySpec &e : m->entries) {
        if (e.stage != int(k))
          continue;
        if (e.kind == "train_step")
          for (const BufferSpec &a : e.args)
            if (a.role == Role::Param || a.role == Role::State)
              state += double(a.byteSize());
        arena = std::max(arena, double(e.arenaBytes));
      }
      std::printf("  stage %zu: %lld ops, %.3g GFLOP and %.3g MB a micro-batch forward, est. "
                  "%.3g ms a step; params %.3g MiB, params + optimizer state %.3g MiB, "
                  "arena %.3g MiB; sends %.3g MiB a step\n",
                  k, (long long)c.ops, c.flops / 1e9, c.bytes / 1e6, c.seconds * 1e3,
                  c.paramBytes / (1 << 20), state / (1 << 20), arena / (1 << 20),
                  c.sendBytes / (1 << 20));
    }
  }
  if (m->cuda) {
    const CudaSpec &c = *m->cuda;
    std::printf("cuda: SASS for %s + PTX %s (CUDA %s), fatbin %lld bytes, %zu kernels\n",
                absl::StrJoin(c.archs, " ").c_str(), c.ptxArch.c_str(), c.toolkit.c_str(),
                (long long)c.fatbinBytes, c.kernels.size());
    if (!c.libraryCalls.empty())
      std::printf("  library calls: %s\n", absl::StrJoin(c.libraryCalls, ", ").c_str());
    for (const CudaKernelSpec &k : c.kernels) {
      std::string res;
      for (const auto &[arch, r] : k.resources)
        absl::StrAppend(&res, "  ", arch, ": ", r.registers, " regs",
                        r.sharedBytes ? absl::StrCat(", ", r.sharedBytes, " B smem") : "",
                        r.spillBytes ? absl::StrCat(", ", r.spillBytes, " B spilled") : "");
      std::printf("  kernel %-28s block %4lld%s\n", k.name.c_str(), (long long)k.blockSize,
                  res.c_str());
    }
  }
  for (const EntrySpec &e : m->entries)
    printEntry(e);
  return 0;
}

} // namespace tools
} // namespace tg
