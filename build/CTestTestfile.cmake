# CMake generated Testfile for 
# Source directory: /work/main
# Build directory: /work/main/build
# 
# This file includes the relevant testing commands required for 
# testing this directory and lists subdirectories to be tested as well.
subdirs("ir")
subdirs("interpreter")
subdirs("frontend")
subdirs("runtime")
subdirs("examples")
subdirs("tools")
subdirs("tests")
