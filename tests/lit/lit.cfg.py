# lit configuration for tgc: FileCheck tests of tg-opt and the tools.
import os
import lit.formats

config.name = "tgc"
config.test_format = lit.formats.ShTest(execute_external=True)
config.suffixes = [".mlir", ".test"]
config.excludes = ["Inputs", "lit.cfg.py", "lit.site.cfg.py"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.tgc_obj_root, "tests", "lit")

# Tools under test first, then FileCheck/not from LLVM 19.
config.environment["PATH"] = os.pathsep.join(
    [config.tgc_tools_dir, config.llvm_tools_dir, config.environment.get("PATH", "")])
config.substitutions.append(("%tgc_src", config.tgc_src_root))
config.substitutions.append(("%tgc_bin", os.path.join(config.tgc_obj_root, "tools")))
# Graphviz and an SVG rasterizer are optional: tests of rendering need them.
import shutil
if shutil.which("dot"):
    config.available_features.add("graphviz")
if shutil.which("rsvg-convert"):
    config.available_features.add("rsvg")
# The kernel refuses one allocation larger than memory + swap (overcommit
# heuristic or strict): the out-of-memory test needs that, not a later OOM kill.
try:
    with open("/proc/sys/vm/overcommit_memory") as f:
        if f.read().strip() in ("0", "2"):
            config.available_features.add("overcommit-checked")
except OSError:
    pass
# CUDA: the toolkit (ptxas, fatbinary) compiles --target=cuda to a fatbin; the
# device runtime is built with it; a driver means a GPU may be present.
_cuda = os.environ.get("CUDA_HOME") or "/usr/local/cuda"
if all(os.path.exists(os.path.join(_cuda, "bin", t)) for t in ("ptxas", "fatbinary")):
    config.available_features.add("cuda-toolkit")
    config.substitutions.append(("%ptxas", os.path.join(_cuda, "bin", "ptxas")))
    config.substitutions.append(("%cuda_stub", os.path.join(_cuda, "lib64", "stubs", "libcuda.so")))
if os.path.exists(os.path.join(config.tgc_obj_root, "runtime", "libtgrt_cuda.so")):
    config.available_features.add("cuda-runtime")
try:
    import ctypes
    ctypes.CDLL("libcuda.so.1")
    config.available_features.add("cuda-driver")
except OSError:
    pass
# Sanitizer builds (scripts/sanitize.sh) configure the runtime by environment.
for _var in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS", "ASAN_SYMBOLIZER_PATH"):
    if _var in os.environ:
        config.environment[_var] = os.environ[_var]
