# `cmake --install`: tgc and tg-opt, the frontend and compiler as static
# libraries with the runtime libtgrt (and libtgrt_cuda), the public headers
# (include/tg), a CMake package (find_package(tgc) + tgc::frontend) and a
# pkg-config file. Installed binaries find their libraries through
# $ORIGIN/../lib (CMAKE_INSTALL_RPATH, set before the targets), so the tree
# can be moved.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

# What a program built on the frontend links (tg::compile included), and
# the training loop, checkpoints and data readers (tg/Train.h, tg/Checkpoint.h,
# tg/Data.h), in dependency order for pkg-config.
set(TG_INSTALLED_LIBS tgtrain TgIO TgCommunicator TgCompile TgFrontend TgDriver TgCodegenCuda
    TgCodegenCpu TgCodegenHost TgCodegenCommon TgDistribute TgInterpreter TgPasses TgIR tgrt
    TgSupport)
foreach(_lib ${TG_INSTALLED_LIBS})
  target_include_directories(${_lib} INTERFACE $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
endforeach()
target_compile_features(TgSupport INTERFACE cxx_std_17)
# A sanitizer build's static libraries need the sanitizer runtime in the
# program that links them.
set(TG_PC_SANITIZE "")
if(TG_SANITIZE)
  target_link_options(TgSupport INTERFACE $<INSTALL_INTERFACE:-fsanitize=${TG_SANITIZE}>)
  set(TG_PC_SANITIZE " -fsanitize=${TG_SANITIZE}")
endif()

install(TARGETS tgc tg-opt RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(TARGETS ${TG_INSTALLED_LIBS} EXPORT tgcTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
if(TARGET tgrt_cuda) # dlopened by libtgrt from its own directory
  install(TARGETS tgrt_cuda LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
endif()
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/tg DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})

set(_tg_cmake_dir ${CMAKE_INSTALL_LIBDIR}/cmake/tgc)
install(EXPORT tgcTargets NAMESPACE tgc:: DESTINATION ${_tg_cmake_dir})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/tgcConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/tgcConfig.cmake INSTALL_DESTINATION ${_tg_cmake_dir})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/tgcConfigVersion.cmake
                                 VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/tgcConfig.cmake ${PROJECT_BINARY_DIR}/tgcConfigVersion.cmake
        DESTINATION ${_tg_cmake_dir})

# pkg-config: the same libraries, then MLIR/LLVM (not pkg-config packages)
# and Abseil (which is).
set(TG_PC_LIBS "")
foreach(_lib ${TG_INSTALLED_LIBS})
  string(APPEND TG_PC_LIBS " -l${_lib}")
endforeach()
configure_file(${PROJECT_SOURCE_DIR}/cmake/tgc.pc.in ${PROJECT_BINARY_DIR}/tgc.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/tgc.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
