# CMake generated Testfile for 
# Source directory: /work/main/tests
# Build directory: /work/main/build/tests
# 
# This file includes the relevant testing commands required for 
# testing this directory and lists subdirectories to be tested as well.
add_test([=[lit]=] "/root/.pyenv/shims/python3" "/usr/lib/llvm-19/build/utils/lit/lit.py" "-sv" "/work/main/build/tests/lit" "--param" "tgc_site_config=/work/main/build/tests/lit/lit.site.cfg.py")
set_tests_properties([=[lit]=] PROPERTIES  LABELS "lit" _BACKTRACE_TRIPLES "/work/main/tests/CMakeLists.txt;8;add_test;/work/main/tests/CMakeLists.txt;0;")
subdirs("unit")
