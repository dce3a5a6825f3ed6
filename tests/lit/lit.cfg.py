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
